"""`iamscope scan` on the bundled demo state: the complete finding set of fixtures/demo/EXPECTED.md
(written independently from the scenario, checked against the data), the JSON contract, and output
that does not depend on the order inputs are given in."""

from __future__ import annotations

import json
import random
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from tests.conftest import REPO

DEMO = REPO / "fixtures" / "demo"
CONFIG = DEMO / "iamscope.yaml"
SCHEMA = REPO / "iamscope" / "schemas" / "scan-v1.schema.json"
ROLE = "arn:aws:iam::111122223333:role/"
SECRET = "arn:aws:secretsmanager:eu-west-1:111122223333:secret:"

# fixtures/demo/EXPECTED.md §2: (rule, severity, subject)
EXPECTED = {
    ("wildcard-resource", "high", ROLE + "eks/prod-eu-checkout-web"),
    ("cross-workload-grant", "critical", "checkout/Deployment/checkout-web"),
    ("excess-grant", "medium", "checkout/Deployment/checkout-web"),
    ("wildcard-action", "high", ROLE + "eks/prod-eu-cart-cleanup"),
    ("missing-grant", "medium", "analytics/Deployment/reporting"),
    ("unresolved-object", "medium", "analytics/Deployment/reporting"),
    ("no-identity", "high", "analytics/Deployment/dashboards"),
    ("broken-trust", "high", "batch/CronJob/nightly-export"),
    ("broad-trust", "high", ROLE + "eks/prod-eu-backfill"),
    ("cross-workload-grant", "high", "batch/CronJob/nightly-export"),
    ("cross-workload-grant", "high", "batch/Deployment/worker"),
    ("cross-workload-grant", "high", "batch/Deployment/scheduler"),
    ("shared-service-account", "medium", "batch/ServiceAccount/batch-shared"),
    ("shared-role", "medium", ROLE + "eks/prod-eu-notifier"),
    ("node-role-secret-access", "critical", ROLE + "eks-prod-eu-node-group"),
    ("missing-grant", "high", "payments/Deployment/refunds"),
    # EXPECTED.md §7: the CSI driver hardening rules
    ("provider-on-control-plane", "medium", "kube-system/DaemonSet/secrets-store-csi-driver"),
    (
        "provider-on-control-plane",
        "medium",
        "kube-system/DaemonSet/secrets-provider-aws-secrets-store-csi-driver-provider-aws",
    ),
    (
        "provider-security-context",
        "medium",
        "kube-system/DaemonSet/secrets-provider-aws-secrets-store-csi-driver-provider-aws",
    ),
    ("spc-write-access", "high", "Group/checkout-developers"),
    ("spc-write-access", "high", "Group/analytics-developers"),
    ("synced-secret-readers", "low", "Group/platform-admins"),
}


def run(*args: str, cwd: Path = REPO) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "iamscope", *args], capture_output=True, text=True, cwd=cwd, check=False
    )


@pytest.fixture(scope="module")
def demo_json() -> dict[str, Any]:
    result = run("scan", str(DEMO), "--config", str(CONFIG), "--format", "json")
    assert result.returncode == 1, result.stderr
    document: dict[str, Any] = json.loads(result.stdout)
    return document


def by_key(document: dict[str, Any], rule: str, subject: str) -> dict[str, Any]:
    (found,) = [f for f in document["findings"] if f["rule"] == rule and f["subject"] == subject]
    return found


def test_complete_finding_set(demo_json: dict[str, Any]) -> None:
    assert {(f["rule"], f["severity"], f["subject"]) for f in demo_json["findings"]} == EXPECTED
    assert len(demo_json["findings"]) == len(EXPECTED)
    assert demo_json["complete"] is True
    assert demo_json["summary"] == {
        "workloads": 17,
        "service_accounts": 16,
        "roles": 21,
        "secrets": 25,
        "parameters": 7,
        "findings": {"critical": 2, "high": 11, "medium": 8, "low": 1, "info": 0},
    }


def test_json_validates_against_the_schema(demo_json: dict[str, Any]) -> None:
    schema = json.loads(SCHEMA.read_text())
    jsonschema.Draft202012Validator.check_schema(schema)
    jsonschema.validate(demo_json, schema, cls=jsonschema.Draft202012Validator)


def test_cross_namespace_grant_names_exactly_what_checkout_web_reads(demo_json: dict[str, Any]) -> None:
    finding = by_key(demo_json, "cross-workload-grant", "checkout/Deployment/checkout-web")
    # EXPECTED.md row 2: not prod/payments/db (resource policy Deny, no kms:Decrypt) nor ledger (Deny)
    assert finding["resources"] == [
        SECRET + name
        for name in (
            "prod/analytics/grafana-admin-Gf3Ad7",
            "prod/analytics/warehouse-Wh9Zn4",
            "prod/batch/backfill-db-Bf1Db8",
            "prod/batch/export-sftp-Ex6Sf2",
            "prod/batch/queue-Qu5Ev0",
            "prod/checkout/cart-redis-Cr2Ds6",
            "prod/legacy/erp-credentials-Er7Cp5",
            "prod/payments/refunds-api-Rf4Kq9",
            "prod/shared/smtp-Sm8Tp3",
        )
    ]
    assert finding["patterns"] == [SECRET + "prod/analytics/bi-token-??????"]
    assert finding["role_arn"] == ROLE + "eks/prod-eu-checkout-web"
    assert finding["service_account"] == "checkout/ServiceAccount/checkout-web"
    edges = [e["edge"] for e in finding["evidence"]]
    assert edges[:2] == [
        "checkout/Deployment/checkout-web -[runs-as]-> checkout/ServiceAccount/checkout-web",
        f"checkout/ServiceAccount/checkout-web -[irsa-annotation]-> {ROLE}eks/prod-eu-checkout-web",
    ]
    assert edges[2].startswith(f"{ROLE}eks/prod-eu-checkout-web -[can-read]-> {SECRET}prod/")
    assert "ReadProdSecrets" in finding["evidence"][2]["reason"]
    assert finding["location"] == {
        "file": str(DEMO / "k8s" / "checkout.yaml"),
        "line": finding["location"]["line"],
    }


def test_excess_grant_excludes_the_key_protected_secret(demo_json: dict[str, Any]) -> None:
    finding = by_key(demo_json, "excess-grant", "checkout/Deployment/checkout-web")
    assert finding["resources"] == [
        SECRET + name
        for name in (
            "prod/checkout/paypal-Pp6Cl3",
            "prod/orders/postgres-Op9Gs1",
            "prod/payments/db-replica-Qw34Er",
            "prod/payments/psp-api-key-Pa3Ky7",
            "prod/platform/datadog-api-key-Dd4Ak6",
            "prod/search/opensearch-master-Os2Mt5",
        )
    ]
    assert finding["patterns"] == [SECRET + "prod/*"]


def test_conditional_grant_is_reported_as_such(demo_json: dict[str, Any]) -> None:
    finding = by_key(demo_json, "missing-grant", "payments/Deployment/refunds")
    assert finding["resources"] == [SECRET + "prod/payments/refunds-api-Rf4Kq9"]
    assert "secretsmanager:GetSecretValue allowed only when" in finding["message"]
    assert "10.0.0.0/8" in finding["message"]


def test_describe_only_missing_grant_is_medium_and_covers_the_unresolved_pattern(
    demo_json: dict[str, Any],
) -> None:
    finding = by_key(demo_json, "missing-grant", "analytics/Deployment/reporting")
    assert finding["message"].startswith("rotation checks will fail:")
    assert finding["resources"] == [SECRET + "prod/analytics/warehouse-Wh9Zn4"]
    assert finding["patterns"] == [SECRET + "prod/analytics/bi-token-??????"]


def test_access_map(demo_json: dict[str, Any]) -> None:
    access = {a["service_account"]: a for a in demo_json["access"]}
    shared = access["batch/ServiceAccount/batch-shared"]
    assert shared["role_arn"] == ROLE + "eks/prod-eu-batch-shared"
    assert shared["assumable_roles"] == [ROLE + "eks/prod-eu-backfill", ROLE + "eks/prod-eu-batch-shared"]
    assert shared["workloads"] == ["batch/Deployment/scheduler", "batch/Deployment/worker"]
    assert shared["needs"] == [
        SECRET + "prod/batch/queue-Qu5Ev0",
        "arn:aws:ssm:eu-west-1:111122223333:parameter/prod/batch/schedule",
    ]
    assert {(g["resource"], g["via"], tuple(g["actions"])) for g in shared["grants"]} == {
        (SECRET + "prod/batch/backfill-db-Bf1Db8", ROLE + "eks/prod-eu-backfill",
         ("secretsmanager:DescribeSecret", "secretsmanager:GetSecretValue")),
        (SECRET + "prod/batch/queue-Qu5Ev0", ROLE + "eks/prod-eu-batch-shared",
         ("secretsmanager:DescribeSecret", "secretsmanager:GetSecretValue")),
        ("arn:aws:ssm:eu-west-1:111122223333:parameter/prod/batch/schedule", ROLE + "eks/prod-eu-batch-shared",
         ("ssm:GetParameters",)),
    }  # fmt: skip
    reporting = access["analytics/ServiceAccount/reporting"]
    assert reporting["role_arn"] == ROLE + "eks/prod-eu-reporting"  # the Pod Identity association
    assert reporting["unresolved_needs"] == [SECRET + "prod/analytics/bi-token-??????"]
    ledger = access["payments/ServiceAccount/ledger"]
    assert ledger["needs"] == [
        "arn:aws:secretsmanager:eu-central-1:111122223333:secret:prod/payments/ledger-Lg7Rt2",
        SECRET + "prod/payments/ledger-Lg7Rt2",
    ]
    assert "tools/ServiceAccount/vault-reader" not in access


def _shuffled_copy(source: Path, target: Path, seed: int) -> None:
    """The same state with every AWS list and kubectl List in another order."""
    shutil.copytree(source, target)
    rng = random.Random(seed)
    for path in sorted((target / "aws").glob("*.json")) + sorted((target / "k8s").rglob("*.json")):
        data = json.loads(path.read_text())
        for key in (
            "items",
            "RoleDetailList",
            "Policies",
            "SecretList",
            "Parameters",
            "ResourcePolicies",
            "Keys",
            "associations",
        ):
            if isinstance(data, dict) and isinstance(data.get(key), list):
                rng.shuffle(data[key])
        path.write_text(json.dumps(data, indent=1))


def test_output_does_not_depend_on_input_order(tmp_path: Path) -> None:
    outputs = []
    for seed in (1, 2):
        state = tmp_path / "state"
        if state.exists():
            shutil.rmtree(state)
        _shuffled_copy(DEMO, state, seed)
        files = sorted(str(p.relative_to(tmp_path)) for p in (state / "k8s").rglob("*") if p.is_file())
        if seed == 2:
            files.reverse()
        args = [a for f in files for a in ("--k8s", f)]
        result = run(
            "scan", *args, "--aws", "state/aws", "--config", str(CONFIG), "--format", "json", cwd=tmp_path
        )
        assert result.returncode == 1, result.stderr
        outputs.append(result.stdout)
    assert outputs[0] == outputs[1]
    assert {(f["rule"], f["severity"], f["subject"]) for f in json.loads(outputs[0])["findings"]} == EXPECTED


def test_text_groups_findings_by_subject_worst_first() -> None:
    result = run("scan", str(DEMO), "--config", str(CONFIG))
    assert result.returncode == 1
    lines = result.stdout.splitlines()
    assert lines[0] == (
        "iamscope scan: cluster prod-eu, account 111122223333: 17 workloads, 16 service accounts, "
        "21 roles, 25 secrets, 7 parameters"
    )
    headers = [
        line.split("  (")[0] for line in lines if line and not line.startswith(" ") and line != lines[0]
    ]
    assert headers[:2] == [ROLE + "eks-prod-eu-node-group", "checkout/Deployment/checkout-web"]
    assert lines[-1] == "Summary: 2 critical, 11 high, 8 medium, 1 low; 13 at or above --fail-on high"
    # clean means no finding on the workload and none naming it: backfill, cart-cleanup, both notifiers
    # and erp-connector have secrets checkout-web (or the batch SAs) can read, so they are not listed
    clean = result.stdout.split("No findings on or about: ")[1].split("\n\n")[0].replace("\n  ", " ")
    assert clean.split(", ") == ["payments/Deployment/payments-api", "payments/StatefulSet/ledger"]
    assert (
        "iamscope: warning: 1 mount(s) use provider 'vault': AWS analysis skipped for them" in result.stderr
    )


def test_markdown_summary_line_first() -> None:
    result = run("scan", str(DEMO), "--format", "markdown", "--fail-on", "critical")
    assert result.returncode == 1
    assert (
        result.stdout.splitlines()[0]
        == "**iamscope scan**: 2 critical, 14 high, 9 medium; 2 at or above `critical`"
    )
    assert "| critical | `node-role-secret-access` |" in result.stdout


def test_fail_on_none_and_output_file(tmp_path: Path) -> None:
    out = tmp_path / "scan.json"
    result = run("scan", str(DEMO), "--format", "json", "--fail-on", "none", "--output", str(out))
    assert result.returncode == 0
    assert result.stdout == ""
    assert json.loads(out.read_text())["summary"]["findings"]["critical"] == 2
    assert [p.name for p in tmp_path.iterdir()] == ["scan.json"]  # no temporary file left behind
