"""`iamscope generate` as a platform engineer runs it on the demo: the files it writes, what it says,
byte-identical re-runs, onboarding one service at a time, and bad input or usage (exit 2, one line,
earlier outputs untouched)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.conftest import REPO
from tests.k8s.helpers import run_cli

DEMO = REPO / "fixtures" / "demo"
CONFIG = DEMO / "iamscope.yaml"
ACCOUNT = "111122223333"
SERVICE_ACCOUNTS = [
    "analytics/dashboards",
    "analytics/reporting",
    "batch/backfill",
    "batch/batch-shared",
    "batch/nightly-export",
    "checkout/cart-cleanup",
    "checkout/checkout-web",
    "checkout/notifier",
    "legacy/erp-connector",
    "payments/ledger",
    "payments/notifier",
    "payments/payments-api",
    "payments/refunds",
]


def generate(capsys: pytest.CaptureFixture[str], out: Path, *args: str) -> tuple[int, str, str]:
    return run_cli(["generate", str(DEMO), "--config", str(CONFIG), "--out", str(out), *args], capsys)


def files(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def test_the_demo_writes_one_role_per_mounting_service_account(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = generate(capsys, tmp_path)
    assert code == 0, err
    expected = (
        [f"policies/{sa}.json" for sa in SERVICE_ACCOUNTS]
        + [f"trust/{sa}.json" for sa in SERVICE_ACCOUNTS]
        + ["iamscope.auto.tfvars.json", "service-accounts.yaml"]
    )
    assert sorted(files(tmp_path)) == sorted(expected)
    lines = out.splitlines()
    assert lines[0] == f"13 role(s) for account {ACCOUNT}:"
    assert (
        "  payments/payments-api  prod-eu-payments-payments-api  (IRSA; 1 secret(s), 1 parameter(s), 1 KMS key(s))"
        in lines
    )
    assert (
        "  analytics/reporting    prod-eu-analytics-reporting  (Pod Identity; 2 secret(s), 0 parameter(s))"
        in lines
    )
    assert lines[-2] == "Wrote 28 file(s) to " + str(tmp_path) + "/. Apply with:"


def test_the_demo_warns_about_what_the_role_alone_cannot_fix(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _, _, err = generate(capsys, tmp_path, "-q")
    warnings = [line for line in err.splitlines() if line.startswith("iamscope: warning: ")]
    assert (
        "iamscope: warning: payments/ServiceAccount/payments-api: the generated role "
        f"arn:aws:iam::{ACCOUNT}:role/prod-eu-payments-payments-api would still be refused "
        f"secretsmanager:GetSecretValue on arn:aws:secretsmanager:eu-west-1:{ACCOUNT}:secret:prod/payments/db-Xy12Ab: "
        "the secret's resource policy does not allow it; grant the role there before rolling it out"
    ) in warnings
    assert (
        "iamscope: warning: analytics/Deployment/reporting volume secrets-store-inline: secret "
        "'prod/analytics/bi-token' is not in the snapshot: granted as "
        f"arn:aws:secretsmanager:eu-west-1:{ACCOUNT}:secret:prod/analytics/bi-token-??????; if a "
        "customer-managed KMS key encrypts it, the role also needs kms:Decrypt on that key"
    ) in warnings


def test_rerunning_writes_the_same_bytes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    generate(capsys, tmp_path / "a", "--flavor", "irsa-v6", "--flavor", "pod-identity")
    generate(capsys, tmp_path / "b", "--flavor", "pod-identity", "--flavor", "irsa-v6")
    assert files(tmp_path / "a") == files(tmp_path / "b")


def test_the_order_of_input_files_and_objects_does_not_matter(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    generate(capsys, tmp_path / "a")
    shuffled = tmp_path / "state"
    shutil.copytree(DEMO / "aws", shuffled / "aws")
    for i, path in enumerate(sorted((DEMO / "k8s").rglob("*"), reverse=True)):
        if path.is_file():
            text = path.read_text()
            if path.suffix == ".json":
                data = json.loads(text)
                if isinstance(data.get("items"), list):
                    data["items"].reverse()
                text = json.dumps(data)
            (shuffled / "k8s" / f"{i:02d}-{path.name}").parent.mkdir(parents=True, exist_ok=True)
            (shuffled / "k8s" / f"{i:02d}-{path.name}").write_text(text)
    code, _, err = run_cli(
        ["generate", str(shuffled), "--config", str(CONFIG), "--out", str(tmp_path / "b")], capsys
    )
    assert code == 0, err
    assert files(tmp_path / "a") == files(tmp_path / "b")


def test_one_service_account_alone_is_the_same_bytes_as_with_the_cluster(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    generate(capsys, tmp_path / "all")
    code, out, _ = generate(capsys, tmp_path / "one", "--service-account", "payments/payments-api")
    assert code == 0
    assert out.splitlines()[0] == f"1 role(s) for account {ACCOUNT}:"
    one, everything = files(tmp_path / "one"), files(tmp_path / "all")
    assert sorted(one) == [
        "iamscope.auto.tfvars.json",
        "policies/payments/payments-api.json",
        "service-accounts.yaml",
        "trust/payments/payments-api.json",
    ]
    for name in ("policies/payments/payments-api.json", "trust/payments/payments-api.json"):
        assert one[name] == everything[name]
    alone = json.loads(one["iamscope.auto.tfvars.json"])
    whole = json.loads(everything["iamscope.auto.tfvars.json"])
    assert alone["service_accounts"] == {
        "payments/payments-api": whole["service_accounts"]["payments/payments-api"]
    }
    assert {k: v for k, v in alone.items() if k != "service_accounts"} == {
        k: v for k, v in whole.items() if k != "service_accounts"
    }


def test_a_workload_selects_its_service_account_with_every_workload_on_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A role is per service account: onboarding batch/Deployment/worker writes the role its
    service account needs for scheduler too, or the scheduler's mount would break."""
    code, _, _ = generate(capsys, tmp_path, "--workload", "batch/deployment/WORKER")
    assert code == 0
    tfvars = json.loads((tmp_path / "iamscope.auto.tfvars.json").read_text())
    assert list(tfvars["service_accounts"]) == ["batch/batch-shared"]
    assert tfvars["service_accounts"]["batch/batch-shared"]["secret_arns"] == [
        f"arn:aws:secretsmanager:eu-west-1:{ACCOUNT}:secret:prod/batch/queue-Qu5Ev0"
    ]
    assert tfvars["service_accounts"]["batch/batch-shared"]["parameter_arns"] == [
        f"arn:aws:ssm:eu-west-1:{ACCOUNT}:parameter/prod/batch/schedule"
    ]
    manifests = (tmp_path / "service-accounts.yaml").read_text()
    assert (
        "# arn:aws:iam::111122223333:role/prod-eu-batch-batch-shared, for batch/Deployment/scheduler, batch/Deployment/worker"
        in manifests
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["--workload", "prod/Deployment/nope"],
            "iamscope: error: --workload prod/Deployment/nope: the workload is not in the input (workloads that do: ",
        ),
        (
            ["--workload", "kube-system/DaemonSet/secrets-store-csi-driver"],
            "iamscope: error: --workload kube-system/DaemonSet/secrets-store-csi-driver: the workload mounts no AWS SecretProviderClass",
        ),
        (
            ["--service-account", "payments/nope"],
            "iamscope: error: --service-account payments/nope: no workload running as it mounts AWS objects (service accounts that do: analytics/dashboards, ",
        ),
        (["--flavor", "irsa-v7"], "iamscope: error: Invalid value for '--flavor': 'irsa-v7' is not one of"),
    ],
    ids=["unknown-workload", "workload-without-mounts", "unknown-service-account", "unknown-flavor"],
)
def test_bad_usage_exits_2_with_one_line_and_writes_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], args: list[str], message: str
) -> None:
    code, _, err = generate(capsys, tmp_path / "out", *args)
    assert code == 2
    assert err.startswith(message), err
    assert err.count("\n") == 1
    assert not (tmp_path / "out").exists()


def _config(tmp_path: Path, generate_section: dict[str, Any]) -> Path:
    config = yaml.safe_load(CONFIG.read_text())
    config["generate"] = generate_section
    path = tmp_path / "iamscope.yaml"
    path.write_text(yaml.safe_dump(config))
    return path


@pytest.mark.parametrize(
    ("section", "message"),
    [
        (
            {"role_name": "{team}-{service_account}"},
            "generate.role_name: '{team}-{service_account}': unknown field {team}",
        ),
        (
            {"role_name": "{namespace}-app"},
            "generate.role_name: '{namespace}-app' must contain {service_account}",
        ),
        (
            {"role_name": "{service_account}"},
            "generate.role_name: '{service_account}' gives checkout/notifier and payments/notifier the same role name 'notifier'",
        ),
        ({"role_path": "eks"}, "generate.role_path: 'eks' is not an IAM path"),
        ({"role_path": "/eks/\n"}, "generate.role_path: '/eks/\\n' is not an IAM path"),
        (
            {"permissions_boundary": "boundary"},
            "generate.permissions_boundary: 'boundary' is not an IAM policy ARN",
        ),
        (
            {"permissions_boundary": "arn:aws:iam::123456789012:policy/b\n"},
            "generate.permissions_boundary: 'arn:aws:iam::123456789012:policy/b\\n' is not an IAM policy ARN",
        ),
        ({"tags": {"team": "a\n"}}, "generate.tags.team: not a valid IAM tag"),
        ({"tags": {"aws:owner": "x"}}, "generate.tags.aws:owner: tag keys starting with aws: are reserved"),
        ({"tags": ["team"]}, "generate.tags: must be a mapping of tag keys to values"),
        ({"role_prefix": "x"}, "generate: unknown key 'role_prefix'"),
    ],
    ids=[
        "unknown-field",
        "no-service-account",
        "collision",
        "path",
        "path-trailing-newline",
        "boundary",
        "boundary-trailing-newline",
        "tag-trailing-newline",
        "reserved-tag",
        "tags-list",
        "unknown-key",
    ],
)
def test_bad_configuration_exits_2_and_leaves_earlier_outputs_untouched(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], section: dict[str, Any], message: str
) -> None:
    out = tmp_path / "out"
    generate(capsys, out)
    before = files(out)
    config = _config(tmp_path, section)
    code, _, err = run_cli(["generate", str(DEMO), "--config", str(config), "--out", str(out)], capsys)
    assert code == 2
    assert err.startswith(f"iamscope: error: {config}: {message}"), err
    assert files(out) == before


def test_the_configured_names_path_boundary_and_tags_reach_every_output(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    boundary = f"arn:aws:iam::{ACCOUNT}:policy/eks-workload-boundary"
    config = _config(
        tmp_path,
        {
            "role_name": "{cluster}.{namespace}.{service_account}",
            "role_path": "/eks/workloads/",
            "permissions_boundary": boundary,
            "tags": {"owner": "platform", "cost-center": "42"},
        },
    )
    out = tmp_path / "out"
    code, _, err = run_cli(
        [
            "generate",
            str(DEMO),
            "--config",
            str(config),
            "--out",
            str(out),
            "--service-account",
            "payments/refunds",
        ],
        capsys,
    )
    assert code == 0, err
    tfvars = json.loads((out / "iamscope.auto.tfvars.json").read_text())
    assert tfvars["role_path"] == "/eks/workloads/"
    assert tfvars["permissions_boundary_arn"] == boundary
    assert tfvars["tags"] == {"cost-center": "42", "owner": "platform"}
    assert tfvars["service_accounts"]["payments/refunds"]["role_name"] == "prod-eu.payments.refunds"
    (manifest,) = [d for d in yaml.safe_load_all((out / "service-accounts.yaml").read_text()) if d]
    assert manifest == {
        "apiVersion": "v1",
        "kind": "ServiceAccount",
        "metadata": {
            "name": "refunds",
            "namespace": "payments",
            "annotations": {
                "eks.amazonaws.com/role-arn": f"arn:aws:iam::{ACCOUNT}:role/eks/workloads/prod-eu.payments.refunds"
            },
        },
    }


def test_no_generated_policy_has_a_wildcard_action_or_resource(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    generate(capsys, tmp_path)
    for path in sorted((tmp_path / "policies").rglob("*.json")):
        for statement in json.loads(path.read_text())["Statement"]:
            assert statement["Effect"] == "Allow"
            assert not any("*" in a for a in statement["Action"]), path
            assert not any("*" in r for r in statement["Resource"]), path
            assert statement["Action"] == sorted(statement["Action"])
            assert statement["Resource"] == sorted(set(statement["Resource"]))


def test_out_must_be_a_directory(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    target = tmp_path / "file"
    target.write_text("keep")
    code, _, err = generate(capsys, target)
    assert code == 2
    assert err == (
        f"iamscope: error: Invalid value for '--out': Directory '{target}' is a file. (see 'iamscope generate --help')\n"
    )
    assert target.read_text() == "keep"


def test_a_snapshot_without_an_account_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    state = tmp_path / "state"
    shutil.copytree(DEMO / "k8s", state / "k8s")
    (state / "aws").mkdir()
    for path in (DEMO / "aws").glob("secretsmanager-list-secrets-*.json"):
        shutil.copy(path, state / "aws" / path.name)
    code, _, err = run_cli(["generate", str(state), "--out", str(tmp_path / "out")], capsys)
    assert code == 2
    assert err == (
        "iamscope: error: generate: the AWS account is unknown: add sts-get-caller-identity.json (or the "
        "cluster's eks-describe-cluster*.json) to the snapshot\n"
    )


def test_irsa_without_the_cluster_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    state = tmp_path / "state"
    shutil.copytree(DEMO, state)
    for path in (state / "aws").glob("eks-describe-cluster*.json"):
        path.unlink()
    out = str(tmp_path / "out")
    code, _, err = run_cli(["generate", str(state), "--config", str(CONFIG), "--out", out], capsys)
    assert code == 2
    assert err == (
        "iamscope: error: generate: cannot write IRSA trust policies: cluster.name 'prod-eu' is not in the "
        "snapshot (no eks-describe-cluster*.json)\n"
    )
    code, _, err = run_cli(["generate", str(state), "--out", out], capsys)
    assert code == 2
    assert err == (
        "iamscope: error: generate: the role name template '{cluster}-{namespace}-{service_account}' uses "
        "{cluster}: no EKS cluster in the snapshot: add eks-describe-cluster-<name>.json (aws eks describe-cluster)\n"
    )
