"""The demo's pull request: fixtures/demo-pr is the demo cluster and snapshot with the Terraform plan
of a change overlaid (a role created in a child module whose StringLike trust admits every analytics
service account, a wildcard inline policy on an existing role, and a policy whose Resource is the ARN
of a secret created in the same plan). The diff reads the plan as Terraform will apply it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import REPO
from tests.k8s.helpers import run_cli

DEMO = REPO / "fixtures" / "demo"
PR = REPO / "fixtures" / "demo-pr"
CONFIG = DEMO / "iamscope.yaml"
READER = "arn:aws:iam::111122223333:role/eks/prod-eu-analytics-reader"
REFUNDS = "arn:aws:iam::111122223333:role/eks/prod-eu-refunds"
SECRET = "arn:aws:secretsmanager:eu-west-1:111122223333:secret:"
BOTH = ("secretsmanager:DescribeSecret", "secretsmanager:GetSecretValue")
GET = ("secretsmanager:GetSecretValue",)


def diff(
    capsys: pytest.CaptureFixture[str], before: Path | str, after: Path | str, fmt: str = "json"
) -> tuple[int, str]:
    code, out, _ = run_cli(
        ["diff", str(before), str(after), "--config", str(CONFIG), "--format", fmt], capsys
    )
    return code, out


def rows(document: dict[str, Any]) -> list[tuple[str, str, str, tuple[str, ...], str | None, bool]]:
    return [
        (
            c["change"],
            c["service_account"],
            c["resource"],
            tuple(c["actions"]),
            c["role_arn"],
            c["escalation"],
        )
        for c in document["changes"]
    ]


def test_the_plan_adds_a_child_module_role_a_wildcard_and_an_unknown(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """IRSA: StringLike `system:serviceaccount:analytics:*` admits every analytics service account, so
    each of them newly assumes the reader role; IAM: `ledger-*` matches the ledger's secret (and any
    created later); Terraform: a Resource set from an ARN created in the same plan is unknown."""
    code, out = diff(capsys, DEMO, PR)
    assert code == 1
    document = json.loads(out)
    assert (document["new_access"], document["removed_access"], document["escalations"]) == (10, 0, 10)
    assert rows(document) == [
        ("added", "analytics/ServiceAccount/dashboards", f"{SECRET}prod/analytics/*", BOTH, READER, True),
        (
            "added",
            "analytics/ServiceAccount/dashboards",
            f"{SECRET}prod/analytics/bi-token-??????",
            BOTH,
            READER,
            True,
        ),
        (
            "added",
            "analytics/ServiceAccount/dashboards",
            f"{SECRET}prod/analytics/grafana-admin-Gf3Ad7",
            BOTH,
            READER,
            True,
        ),
        (
            "added",
            "analytics/ServiceAccount/dashboards",
            f"{SECRET}prod/analytics/warehouse-Wh9Zn4",
            BOTH,
            READER,
            True,
        ),
        ("added", "analytics/ServiceAccount/reporting", f"{SECRET}prod/analytics/*", BOTH, READER, True),
        (
            "added",
            "analytics/ServiceAccount/reporting",
            f"{SECRET}prod/analytics/bi-token-??????",
            BOTH[:1],
            READER,
            True,
        ),
        (
            "added",
            "analytics/ServiceAccount/reporting",
            f"{SECRET}prod/analytics/grafana-admin-Gf3Ad7",
            BOTH,
            READER,
            True,
        ),
        (
            "added",
            "analytics/ServiceAccount/reporting",
            f"{SECRET}prod/analytics/warehouse-Wh9Zn4",
            BOTH[:1],
            READER,
            True,
        ),
        ("added", "payments/ServiceAccount/refunds", f"{SECRET}prod/payments/ledger-*", GET, REFUNDS, True),
        (
            "added",
            "payments/ServiceAccount/refunds",
            f"{SECRET}prod/payments/ledger-Lg7Rt2",
            GET,
            REFUNDS,
            True,
        ),
    ]
    ledger = document["changes"][-1]
    assert ledger["reasons"][0] == "reaches what payments/StatefulSet/ledger declares"
    assert (
        f"granted by identity policy {REFUNDS}#debug-ledger: statement 0 (Sid 'DebugLedger') (Allow)"
        in ledger["reasons"]
    )
    grafana = document["changes"][6]
    assert (
        f"analytics/ServiceAccount/reporting can newly assume {READER} (a trust policy admits its token now)"
        in grafana["reasons"]
    )
    assert document["unknown"] == ["aws_iam_role_policy.ledger_archive: policy is known only after apply"]
    assert document["incomplete"] == []


def test_without_the_plan_the_state_is_the_demo(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    state = tmp_path / "state"
    state.mkdir()
    (state / "k8s").symlink_to(DEMO / "k8s")
    (state / "aws").symlink_to(DEMO / "aws")
    code, out = diff(capsys, DEMO, state, "text")
    assert (code, out.splitlines()[1]) == (0, "no change in access")


def test_saved_scans_of_the_two_states_give_the_same_diff(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    for name, state in (("before.json", DEMO), ("after.json", PR)):
        code, out, _ = run_cli(["scan", str(state), "--config", str(CONFIG), "--format", "json"], capsys)
        (tmp_path / name).write_text(out)
    scanned = json.loads((tmp_path / "after.json").read_text())
    assert scanned["complete"] is False
    assert scanned["unknown"] == ["aws_iam_role_policy.ledger_archive: policy is known only after apply"]
    _, from_states = diff(capsys, DEMO, PR)
    code, from_files = diff(capsys, tmp_path / "before.json", tmp_path / "after.json")
    assert code == 1
    assert rows(json.loads(from_files)) == rows(json.loads(from_states))
    assert json.loads(from_files)["unknown"] == json.loads(from_states)["unknown"]


def test_the_markdown_starts_with_the_summary_and_tables_the_escalations(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, out = diff(capsys, DEMO, PR, "markdown")
    assert code == 1
    lines = out.splitlines()
    assert lines[0] == (
        "**iamscope diff** :x: 10 new access(es) (10 escalation(s)), 0 removed; 6 new high/critical finding(s); "
        "1 value(s) unknown until apply"
    )
    assert lines[2] == "| service account | resource | actions | why |"
    assert sum(1 for line in lines if line.startswith(("| analytics/", "| payments/"))) == 10
    assert (
        "- **high** `broad-trust` `arn:aws:iam::111122223333:role/eks/prod-eu-analytics-reader`: statement 0 uses "
        in out
    )
    assert "- aws\\_iam\\_role\\_policy.ledger\\_archive: policy is known only after apply" in lines
    assert len(out) < 65_536


def test_access_decided_outside_roles_is_overlaid_or_reported_unknown(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Secrets Manager: a resource policy naming a role grants it within the account (and replacing the
    demo's Deny-all-but-payments-api policy lifts that Deny for checkout-web's wildcard grant too). EKS:
    a Pod Identity association hands the service account's pods the role. KMS: a key policy decides
    kms:Decrypt, which the overlay does not model: unknown, so the gate fails rather than pass it."""
    state = tmp_path / "state"
    state.mkdir()
    (state / "k8s").symlink_to(DEMO / "k8s")
    (state / "aws").symlink_to(DEMO / "aws")
    plan = REPO / "tests" / "data" / "tfplans" / "access-beyond-iam" / "plan.json"
    (state / "terraform-plan.json").write_text(plan.read_text())
    code, out = diff(capsys, DEMO, state)
    assert code == 1
    document = json.loads(out)
    reporting = "arn:aws:iam::111122223333:role/eks/prod-eu-reporting"
    webrole = "arn:aws:iam::111122223333:role/eks/prod-eu-checkout-web"
    assert rows(document) == [
        (
            "added",
            "analytics/ServiceAccount/dashboards",
            f"{SECRET}prod/analytics/bi-token-??????",
            GET,
            reporting,
            True,
        ),
        (
            "added",
            "analytics/ServiceAccount/dashboards",
            f"{SECRET}prod/analytics/warehouse-Wh9Zn4",
            GET,
            reporting,
            True,
        ),
        (
            "added",
            "checkout/ServiceAccount/checkout-web",
            f"{SECRET}prod/payments/db-Xy12Ab",
            GET,
            webrole,
            True,
        ),
        ("added", "payments/ServiceAccount/refunds", f"{SECRET}prod/payments/db-Xy12Ab", GET, REFUNDS, True),
    ]
    reasons = {(c["service_account"], c["resource"]): c["reasons"] for c in document["changes"]}
    assert (
        f"analytics/ServiceAccount/dashboards can newly assume {reporting} (a Pod Identity association names it now)"
        in reasons[("analytics/ServiceAccount/dashboards", f"{SECRET}prod/analytics/warehouse-Wh9Zn4")]
    )
    assert not any(
        "wildcard" in r
        for r in reasons[("analytics/ServiceAccount/dashboards", f"{SECRET}prod/analytics/bi-token-??????")]
    )
    assert (
        f"granted by resource policy {SECRET}prod/payments/db-Xy12Ab#resource-policy: statement 0 (Sid 'RefundsToo') (Allow)"
        in reasons[("payments/ServiceAccount/refunds", f"{SECRET}prod/payments/db-Xy12Ab")]
    )
    assert document["unknown"] == [
        "aws_kms_key_policy.payments: changes a KMS key policy (it decides kms:Decrypt), which iamscope does not "
        "overlay: review it"
    ]
