"""The proof that generate's output works: the Terraform module plans exactly the documents under
policies/ and trust/ (so the two cannot drift), applies against moto in server mode, and the roles
read back with boto3 let every workload read each object it declares, with exactly the actions ASCP
calls, and nothing else in the snapshot (decided by iamscope.policy: moto cannot judge per-resource
Secrets Manager access). Scanning the demo with those roles in place reports no IAM finding."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
import yaml

import iamscope.checks  # noqa: F401  (registers every rule)
from iamscope.config import Config
from iamscope.files import InputReader
from iamscope.findings import RULES
from iamscope.policy import evaluate
from iamscope.scan import ScanResult, scan
from iamscope.state import load_inventory, sources
from tests.conftest import REPO
from tests.generate import tf

DEMO = REPO / "fixtures" / "demo"
ACCOUNT = "111122223333"
ASCP_SECRET = {"secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"}
ASCP_PARAMETER = {"ssm:GetParameters"}
# everything a role could use to read or change a secret or parameter besides what ASCP calls
OTHER_ACTIONS = (
    "secretsmanager:BatchGetSecretValue",
    "secretsmanager:GetResourcePolicy",
    "secretsmanager:ListSecretVersionIds",
    "secretsmanager:PutSecretValue",
    "secretsmanager:UpdateSecret",
    "secretsmanager:DeleteSecret",
    "ssm:GetParameter",
    "ssm:GetParameterHistory",
    "ssm:GetParametersByPath",
    "ssm:PutParameter",
)


def _generate(out: Path) -> None:
    subprocess.run(
        [
            sys.executable,
            "-m",
            "iamscope",
            "generate",
            str(DEMO),
            "--config",
            str(DEMO / "iamscope.yaml"),
            "--out",
            str(out),
            "-q",
        ],
        check=True,
        capture_output=True,
    )


@pytest.fixture(scope="module")
def applied(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """Generate the demo, plan and apply the module against moto; yield what a test needs."""
    tf.terraform_binary()
    root = tmp_path_factory.mktemp("apply")
    out = root / "out"
    _generate(out)
    workdir = tf.module_copy(root / "module")
    for endpoint in tf.moto_server(ACCOUNT):
        tf.provider_override(workdir, endpoint)
        var_file = f"-var-file={out / 'iamscope.auto.tfvars.json'}"
        plan = tf.plan_json(workdir, var_file)
        # moto has no EKS Pod Identity API (DESIGN.md §6): the associations are planned, not applied
        tf.run(
            workdir,
            "apply",
            "-auto-approve",
            "-no-color",
            var_file,
            "-var=create_pod_identity_associations=false",
        )
        outputs = json.loads(tf.run(workdir, "output", "-json").stdout)
        session = boto3.session.Session(aws_access_key_id="testing", aws_secret_access_key="testing")
        iam = session.client("iam", endpoint_url=endpoint, region_name="us-east-1")
        details = iam.get_account_authorization_details(Filter=["Role"])
        yield {"out": out, "plan": plan, "outputs": outputs, "details": details, "root": root}


def _planned(plan: dict[str, Any], kind: str) -> dict[str, dict[str, Any]]:
    changes = [c for c in plan["resource_changes"] if c["type"] == kind]
    return {c["index"]: c["change"]["after"] for c in changes}


def _file(out: Path, folder: str, key: str) -> Any:
    return json.loads((out / folder / f"{key}.json").read_text())


def test_the_module_plans_exactly_the_generated_identity_policies(applied: dict[str, Any]) -> None:
    tfvars = json.loads((applied["out"] / "iamscope.auto.tfvars.json").read_text())
    planned = _planned(applied["plan"], "aws_iam_role_policy")
    assert sorted(planned) == sorted(tfvars["service_accounts"])
    for key, after in planned.items():
        assert json.loads(after["policy"]) == _file(applied["out"], "policies", key), key


def test_the_module_plans_exactly_the_generated_trust_policies(applied: dict[str, Any]) -> None:
    planned = _planned(applied["plan"], "aws_iam_role")
    assert len(planned) == 13
    for key, after in planned.items():
        assert json.loads(after["assume_role_policy"]) == _file(applied["out"], "trust", key), key
        assert (
            after["name"]
            == json.loads((applied["out"] / "iamscope.auto.tfvars.json").read_text())["service_accounts"][
                key
            ]["role_name"]
        )


def test_the_module_plans_the_pod_identity_association(applied: dict[str, Any]) -> None:
    planned = _planned(applied["plan"], "aws_eks_pod_identity_association")
    assert {k: (v["cluster_name"], v["namespace"], v["service_account"]) for k, v in planned.items()} == {
        "analytics/reporting": ("prod-eu", "analytics", "reporting")
    }


def test_role_arns_output_names_every_service_account(applied: dict[str, Any]) -> None:
    role_arns = applied["outputs"]["role_arns"]["value"]
    assert role_arns["payments/payments-api"] == f"arn:aws:iam::{ACCOUNT}:role/prod-eu-payments-payments-api"
    assert len(role_arns) == 13
    manifests = list(yaml.safe_load_all((applied["out"] / "service-accounts.yaml").read_text()))
    annotated = {
        f"{m['metadata']['namespace']}/{m['metadata']['name']}": m["metadata"]["annotations"][
            "eks.amazonaws.com/role-arn"
        ]
        for m in manifests
        if m and m["metadata"].get("annotations")
    }
    # every IRSA service account is annotated with the ARN Terraform created; the Pod Identity one is not
    assert annotated == {k: v for k, v in role_arns.items() if k != "analytics/reporting"}


def _roles(details: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {r["RoleName"]: r for r in details["RoleDetailList"]}


def _identity_documents(role: dict[str, Any]) -> list[Any]:
    assert not role["AttachedManagedPolicies"], "the module attaches no managed policy"
    return [p["PolicyDocument"] for p in role["RolePolicyList"]]


def _demo_scan() -> ScanResult:
    reader = InputReader()
    inventory = load_inventory(sources(DEMO, (), None), reader)
    config = Config(
        approved_namespaces=("legacy",),
        cluster_name="prod-eu",
        region="eu-west-1",
    )
    return scan(inventory, config)


def _other_arns(result: ScanResult) -> list[str]:
    aws = result.assessment.inventory.aws
    return sorted({s.arn for s in aws.secrets} | {p.arn for p in aws.parameters})


def test_every_workload_reads_exactly_its_declared_objects_with_ascp_actions(applied: dict[str, Any]) -> None:
    """IAM evaluation (explicit deny, allow, implicit deny) of the applied roles, per declared object:
    ASCP's actions are allowed, every other reading or writing action is not, and no other secret or
    parameter of the snapshot is readable."""
    result = _demo_scan()
    roles = _roles(applied["details"])
    tfvars = json.loads((applied["out"] / "iamscope.auto.tfvars.json").read_text())["service_accounts"]
    checked = 0
    for view in result.assessment.service_accounts.values():
        if not view.needs:
            continue
        key = f"{view.namespace}/{view.name}"
        documents = _identity_documents(roles[tfvars[key]["role_name"]])
        needs = set(view.need_arns)
        for need in sorted(needs):
            is_secret = ":secretsmanager:" in need
            resource = need.replace("-??????", "-AbCdEf")  # a pattern stands for the secret it names
            allowed = ASCP_SECRET if is_secret else ASCP_PARAMETER
            for action in sorted(allowed):
                assert evaluate(documents, action, resource).allowed, (key, action, need)
            for action in OTHER_ACTIONS:
                assert not evaluate(documents, action, resource).allowed, (key, action, need)
            checked += 1
        for other in _other_arns(result):
            if other in needs:
                continue
            for action in sorted(ASCP_SECRET | ASCP_PARAMETER) + list(OTHER_ACTIONS):
                assert not evaluate(documents, action, other).allowed, (key, action, other)
        # nothing on "*" either: no listing, no batch read
        for action in (
            "secretsmanager:ListSecrets",
            "secretsmanager:BatchGetSecretValue",
            "ssm:DescribeParameters",
        ):
            assert not evaluate(documents, action, "*").allowed, (key, action)
    assert checked == 17


def test_a_pattern_grant_reads_only_the_secret_it_names(applied: dict[str, Any]) -> None:
    """`<name>-??????`: `?` is exactly one character (IAM User Guide, Resource element wildcards), so
    the grant covers prod/analytics/bi-token-<6 chars> and not a longer name sharing the prefix."""
    documents = _identity_documents(_roles(applied["details"])["prod-eu-analytics-reporting"])
    base = f"arn:aws:secretsmanager:eu-west-1:{ACCOUNT}:secret:prod/analytics/bi-token"
    assert evaluate(documents, "secretsmanager:GetSecretValue", f"{base}-Q1w2E3").allowed
    assert not evaluate(documents, "secretsmanager:GetSecretValue", f"{base}-admin-Q1w2E3").allowed
    assert not evaluate(documents, "secretsmanager:GetSecretValue", f"{base}-Q1w2E").allowed


def test_kms_decrypt_only_through_secrets_manager_in_the_keys_region(applied: dict[str, Any]) -> None:
    """kms:ViaService (KMS condition keys): the key decrypts for Secrets Manager in eu-west-1, not for
    a direct kms:Decrypt call or another service."""
    documents = _identity_documents(_roles(applied["details"])["prod-eu-payments-payments-api"])
    key = f"arn:aws:kms:eu-west-1:{ACCOUNT}:key/0f2c7a4e-9d1b-4c55-8e2a-31b7f5d0c9aa"
    via = "kms:ViaService"
    assert evaluate(documents, "kms:Decrypt", key, {via: "secretsmanager.eu-west-1.amazonaws.com"}).allowed
    assert not evaluate(documents, "kms:Decrypt", key, {via: "ssm.eu-west-1.amazonaws.com"}).allowed
    assert not evaluate(
        documents, "kms:Decrypt", key, {via: "secretsmanager.us-east-1.amazonaws.com"}
    ).allowed
    assert not evaluate(documents, "kms:Decrypt", key).allowed


def test_trust_policies_read_back_admit_only_their_service_account(applied: dict[str, Any]) -> None:
    roles = _roles(applied["details"])
    issuer = "oidc.eks.eu-west-1.amazonaws.com/id/B7E3F1A9C2D4E6F8A0B1C3D5E7F9A1B3"
    trust = roles["prod-eu-payments-ledger"]["AssumeRolePolicyDocument"]
    action = "sts:AssumeRoleWithWebIdentity"
    role = f"arn:aws:iam::{ACCOUNT}:role/prod-eu-payments-ledger"
    principal = f"arn:aws:iam::{ACCOUNT}:oidc-provider/{issuer}"

    def admits(sub: str, aud: str = "sts.amazonaws.com") -> bool:
        context = {f"{issuer}:sub": sub, f"{issuer}:aud": aud}
        return evaluate([], action, role, context, resource_policy=trust, principal=principal).allowed

    assert admits("system:serviceaccount:payments:ledger")
    assert not admits("system:serviceaccount:payments:refunds")
    assert not admits("system:serviceaccount:payments:ledger", aud="other")


def _without_service_accounts(source: Path, target: Path) -> None:
    """The demo's manifests minus its ServiceAccounts (generate's service-accounts.yaml replaces them)."""
    for path in sorted(source.rglob("*")):
        if path.is_dir() or path.suffix not in {".yaml", ".yml", ".json"}:
            continue
        dest = target / path.relative_to(source)
        dest.parent.mkdir(parents=True, exist_ok=True)
        text = path.read_text()
        docs = [json.loads(text)] if path.suffix == ".json" else list(yaml.safe_load_all(text))
        kept = []
        for doc in docs:
            if not doc or doc.get("kind") == "ServiceAccount":
                continue
            if "items" in doc:
                doc["items"] = [i for i in doc["items"] if i.get("kind") != "ServiceAccount"]
            kept.append(doc)
        if kept:
            dest.write_text(json.dumps(kept[0]) if path.suffix == ".json" else yaml.safe_dump_all(kept))


def test_scanning_with_the_generated_roles_reports_no_iam_finding(applied: dict[str, Any]) -> None:
    state = applied["root"] / "applied-state"
    _without_service_accounts(DEMO / "k8s", state / "k8s")
    shutil.copy(applied["out"] / "service-accounts.yaml", state / "k8s" / "service-accounts.yaml")
    shutil.copytree(DEMO / "aws", state / "aws")
    details = {k: v for k, v in applied["details"].items() if k != "ResponseMetadata"}
    (state / "aws" / "iam-authorization-details.json").write_text(json.dumps(details, default=str))
    associations = json.loads((state / "aws" / "eks-pod-identity-associations.json").read_text())
    for association in associations["associations"]:
        key = f"{association['namespace']}/{association['serviceAccount']}"
        association["roleArn"] = applied["outputs"]["role_arns"]["value"][key]
    (state / "aws" / "eks-pod-identity-associations.json").write_text(json.dumps(associations))
    # generate warned that prod/payments/db's resource policy admits only the old role: do as it says
    policies_file = state / "aws" / "secretsmanager-resource-policies.json"
    old = f"arn:aws:iam::{ACCOUNT}:role/eks/prod-eu-payments-api"
    new = applied["outputs"]["role_arns"]["value"]["payments/payments-api"]
    assert old in policies_file.read_text()
    policies_file.write_text(policies_file.read_text().replace(old, new))

    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "iamscope",
            "scan",
            str(state),
            "--config",
            str(DEMO / "iamscope.yaml"),
            "--format",
            "json",
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode in (0, 1), result.stderr
    report = json.loads(result.stdout)
    assert report["complete"] is True, report.get("incomplete")
    # the identity and IAM rules (the driver-hardening ones judge the DaemonSets, not the roles)
    iam_rules = {r.id for r in RULES.values() if r.family == "iam"}
    remaining = sorted((f["rule"], f["subject"]) for f in report["findings"] if f["rule"] in iam_rules)
    # generate cannot change what the manifests declare: two deployments sharing one service account,
    # and an SPC naming a secret that does not exist; every grant and trust finding is gone
    assert remaining == [
        ("shared-service-account", "batch/ServiceAccount/batch-shared"),
        ("unresolved-object", "analytics/Deployment/reporting"),
    ]
    tfvars = json.loads((applied["out"] / "iamscope.auto.tfvars.json").read_text())["service_accounts"]
    for entry in report["access"]:
        if not entry["needs"]:
            continue
        namespace, _, name = entry["service_account"].split("/")
        declared = tfvars[f"{namespace}/{name}"]
        granted = {g["resource"] for g in entry["grants"]}
        # what the scan finds readable is exactly what the SA's workloads declare (patterns included)
        assert granted == set(declared["secret_arns"] + declared["parameter_arns"]), entry["service_account"]
        assert set(entry["needs"]) <= granted
