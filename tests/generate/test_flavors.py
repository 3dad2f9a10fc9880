"""The `--flavor` outputs of `iamscope generate` against the community modules they call.

Terraform part (offline): each flavor directory is copied to a scratch directory, its module `source`
is pointed at a stub under tests/data/community-modules/ that declares the real module's variables
(names, types, defaults) and no resources, then `terraform validate` and `terraform plan` with the
generated tfvars must succeed (use_external_secrets_policy false and true). That proves every input
the generated main.tf sets exists and every value converts to the module's declared type.

Python part: the module inputs in the tfvars say exactly what policies/ and trust/ say."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import REPO
from tests.generate import tf
from tests.generate.test_generate_cli import SERVICE_ACCOUNTS

STUBS = REPO / "tests" / "data" / "community-modules"
FAKE_ACCOUNT = "000000000000"  # the account the stubs make their ARNs up in
REGION = "eu-west-1"


@dataclass(frozen=True)
class Module:
    call: str  # the module block in the generated main.tf
    source: str
    version: str
    stub: str  # directory under tests/data/community-modules
    output: str  # the module output main.tf reads
    name: str  # the input naming the role
    path: str  # the input giving the role's path


MODULES = {
    "irsa-v5": Module(
        "irsa",
        "terraform-aws-modules/iam/aws//modules/iam-role-for-service-accounts-eks",
        "~> 5.30",
        "iam-role-for-service-accounts-eks-v5",
        "iam_role_arn",
        "role_name",
        "role_path",
    ),
    "irsa-v6": Module(
        "irsa",
        "terraform-aws-modules/iam/aws//modules/iam-role-for-service-accounts",
        "~> 6.0",
        "iam-role-for-service-accounts-v6",
        "arn",
        "name",
        "path",
    ),
    "pod-identity": Module(
        "pod_identity",
        "terraform-aws-modules/eks-pod-identity/aws",
        "~> 2.0",
        "eks-pod-identity-v2",
        "iam_role_arn",
        "name",
        "path",
    ),
}
FLAVORS = tuple(MODULES)
IRSA_FLAVORS = ("irsa-v5", "irsa-v6")
EXTERNAL_SECRETS_LISTS = (
    "external_secrets_secrets_manager_arns",
    "external_secrets_ssm_parameter_arns",
    "external_secrets_kms_key_arns",
)
# the action that tells which of our statements each external-secrets list must mirror
EXTERNAL_SECRETS_ACTIONS = {
    "external_secrets_secrets_manager_arns": "secretsmanager:GetSecretValue",
    "external_secrets_ssm_parameter_arns": "ssm:GetParameters",
    "external_secrets_kms_key_arns": "kms:Decrypt",
}
# the demo's service accounts: analytics/reporting uses Pod Identity, every other one IRSA
POD_IDENTITY_KEYS = ["analytics/reporting"]
IRSA_KEYS = [k for k in SERVICE_ACCOUNTS if k not in POD_IDENTITY_KEYS]
COVERED = {"irsa-v5": IRSA_KEYS, "irsa-v6": IRSA_KEYS, "pod-identity": POD_IDENTITY_KEYS}


# ---------------------------------------------------------------------------------------------------
# shared generate output and terraform working directories


@pytest.fixture(scope="module")
def out(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One `iamscope generate` of the demo with the three flavors, shared by every test here."""
    target = tmp_path_factory.mktemp("generate") / "out"
    flavors = [arg for flavor in FLAVORS for arg in ("--flavor", flavor)]
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "iamscope",
            "generate",
            "fixtures/demo",
            "--config",
            "fixtures/demo/iamscope.yaml",
            "--out",
            str(target),
            "-q",
            *flavors,
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return target


def _roles(out: Path, flavor: str) -> dict[str, dict[str, Any]]:
    tfvars = json.loads((out / "flavors" / flavor / "iamscope.auto.tfvars.json").read_text())
    assert list(tfvars) == ["roles"]
    return tfvars["roles"]  # type: ignore[no-any-return]


def _document(out: Path, folder: str, key: str) -> dict[str, Any]:
    return json.loads((out / folder / f"{key}.json").read_text())  # type: ignore[no-any-return]


def _offline(workdir: Path, flavor: str) -> Path:
    """Point the flavor's module in `workdir` at the local stub (a relative path, no version), add an
    aws provider that needs no network, and init from the local provider mirror."""
    module = MODULES[flavor]
    main = workdir / "main.tf"
    text = main.read_text()
    stub = os.path.relpath(STUBS / module.stub, workdir)
    text, sources = re.subn(
        rf'^(  source\s+= )"{re.escape(module.source)}"$', rf'\g<1>"{stub}"', text, flags=re.MULTILINE
    )
    text, versions = re.subn(rf'^  version\s+= "{re.escape(module.version)}"\n', "", text, flags=re.MULTILINE)
    assert (sources, versions) == (1, 1), (
        f"{flavor}: main.tf no longer calls {module.source} {module.version}"
    )
    main.write_text(text)
    (workdir / "offline_provider.tf").write_text(
        f"""provider "aws" {{
  region                      = "{REGION}"
  access_key                  = "testing"
  secret_key                  = "testing"
  skip_credentials_validation = true
  skip_requesting_account_id  = true
  skip_metadata_api_check     = true
}}
"""
    )
    tf.run(workdir, "init", "-backend=false", f"-plugin-dir={tf.plugin_dir()}", "-no-color")
    return workdir


def _offline_copy(out: Path, flavor: str, workdir: Path) -> Path:
    shutil.copytree(out / "flavors" / flavor, workdir)
    return _offline(workdir, flavor)


class Terraform:
    """Each flavor initialised once, each (flavor, use_external_secrets_policy) planned once."""

    def __init__(self, out: Path, root: Path) -> None:
        self.out = out
        self.root = root
        self._workdirs: dict[str, Path] = {}
        self._plans: dict[tuple[str, bool], dict[str, Any]] = {}

    def workdir(self, flavor: str) -> Path:
        if flavor not in self._workdirs:
            self._workdirs[flavor] = _offline_copy(self.out, flavor, self.root / flavor)
        return self._workdirs[flavor]

    def plan(self, flavor: str, external_secrets: bool) -> dict[str, Any]:
        if (flavor, external_secrets) not in self._plans:
            self._plans[flavor, external_secrets] = tf.plan_json(
                self.workdir(flavor),
                "-var-file=iamscope.auto.tfvars.json",
                f"-var=use_external_secrets_policy={str(external_secrets).lower()}",
            )
        return self._plans[flavor, external_secrets]


@pytest.fixture(scope="module")
def terraform(out: Path, tmp_path_factory: pytest.TempPathFactory) -> Terraform:
    tf.terraform_binary()
    return Terraform(out, tmp_path_factory.mktemp("flavors"))


# ---------------------------------------------------------------------------------------------------
# terraform: every input exists, every value converts


@pytest.mark.parametrize("flavor", FLAVORS)
def test_main_tf_calls_the_stubbed_module_once_per_role(out: Path, flavor: str) -> None:
    module = MODULES[flavor]
    main = (out / "flavors" / flavor / "main.tf").read_text()
    assert re.findall(r'^module "(\w+)" \{$', main, flags=re.MULTILINE) == [module.call]
    assert re.findall(r'^  source\s+= "(.*)"$', main, flags=re.MULTILINE) == [module.source]
    assert re.findall(r'^  version\s+= "(.*)"$', main, flags=re.MULTILINE) == [module.version]
    assert re.findall(r"^  for_each\s+= (.*)$", main, flags=re.MULTILINE)[-1] == "var.roles"
    assert f"role.{module.output}" in main


@pytest.mark.parametrize("flavor", FLAVORS)
def test_terraform_validates_the_flavor(terraform: Terraform, flavor: str) -> None:
    result = tf.run(terraform.workdir(flavor), "validate", "-json", "-no-color")
    validated = json.loads(result.stdout)
    assert (validated["valid"], validated["error_count"], validated["warning_count"]) == (True, 0, 0), (
        validated
    )


@pytest.mark.parametrize(
    "external_secrets", [False, True], ids=["iamscope-policy", "external-secrets-policy"]
)
@pytest.mark.parametrize("flavor", FLAVORS)
def test_terraform_plans_one_module_instance_per_role(
    terraform: Terraform, out: Path, flavor: str, external_secrets: bool
) -> None:
    module = MODULES[flavor]
    roles = _roles(out, flavor)
    plan = terraform.plan(flavor, external_secrets)
    # the stub's output is made up from the role's name and path inputs, one value per module instance
    role_arns = plan["planned_values"]["outputs"]["role_arns"]["value"]
    assert sorted(role_arns) == sorted(roles)
    assert role_arns == {
        key: f"arn:aws:iam::{FAKE_ACCOUNT}:role{role[module.path]}{role[module.name]}"
        for key, role in roles.items()
    }
    changes = [(c["address"], c["change"]["actions"]) for c in plan.get("resource_changes", [])]
    if flavor == "irsa-v5" and not external_secrets:
        assert changes == [(f'aws_iam_policy.iamscope["{key}"]', ["create"]) for key in sorted(roles)]
    else:
        assert changes == []


def test_v5_plan_creates_exactly_the_generated_policies(terraform: Terraform, out: Path) -> None:
    roles = _roles(out, "irsa-v5")
    plan = terraform.plan("irsa-v5", external_secrets=False)
    planned = {
        c["index"]: c["change"]["after"] for c in plan["resource_changes"] if c["type"] == "aws_iam_policy"
    }
    assert sorted(planned) == sorted(roles) == IRSA_KEYS
    for key, after in planned.items():
        assert json.loads(after["policy"]) == _document(out, "policies", key), key
        assert (after["name"], after["path"]) == (f"{roles[key]['role_name']}-secrets-store-csi", "/"), key


def test_a_value_of_the_wrong_type_fails_the_plan(out: Path, tmp_path: Path) -> None:
    """The check above can fail: v6 given the Pod Identity module's statement list is refused."""
    tf.terraform_binary()
    workdir = _offline_copy(out, "irsa-v6", tmp_path / "irsa-v6")
    tfvars = workdir / "iamscope.auto.tfvars.json"
    document = json.loads(tfvars.read_text())
    role = document["roles"]["payments/payments-api"]
    role["inline_policy_permissions"] = list(role["inline_policy_permissions"].values())
    tfvars.write_text(json.dumps(document))
    result = tf.run(workdir, "plan", "-no-color", "-var-file=iamscope.auto.tfvars.json", check=False)
    assert result.returncode == 1
    assert "Error: Invalid value for input variable" in result.stderr
    assert 'module.irsa["payments/payments-api"].var.inline_policy_permissions' in result.stderr
    assert "map of object required" in result.stderr


def test_an_input_the_module_does_not_declare_fails_validate(out: Path, tmp_path: Path) -> None:
    """The check above can fail: v6 given v5's / Pod Identity's name for the boundary is refused."""
    tf.terraform_binary()
    workdir = tmp_path / "irsa-v6"
    shutil.copytree(out / "flavors" / "irsa-v6", workdir)
    main = workdir / "main.tf"
    text = main.read_text()
    assert text.count("  permissions_boundary = ") == 1
    main.write_text(text.replace("  permissions_boundary = ", "  permissions_boundary_arn = "))
    _offline(workdir, "irsa-v6")
    result = tf.run(workdir, "validate", "-json", "-no-color", check=False)
    validated = json.loads(result.stdout)
    assert (validated["valid"], validated["error_count"]) == (False, 1)
    assert [(d["summary"], d["detail"]) for d in validated["diagnostics"]] == [
        ("Unsupported argument", 'An argument named "permissions_boundary_arn" is not expected here.')
    ]


# ---------------------------------------------------------------------------------------------------
# python: the module inputs say what policies/ and trust/ say


def _listed(document: dict[str, Any]) -> dict[str, Any]:
    """A statement with each condition value as a list (IAM reads "x" and ["x"] alike)."""
    conditions = document.get("Condition")
    if conditions is None:
        return document
    return document | {
        "Condition": {
            test: {key: value if isinstance(value, list) else [value] for key, value in block.items()}
            for test, block in conditions.items()
        }
    }


def _conditions(conditions: list[dict[str, Any]]) -> dict[str, dict[str, list[str]]]:
    """The modules' condition list ({test, variable, values}) as an IAM Condition block."""
    out: dict[str, dict[str, list[str]]] = {}
    for condition in conditions:
        assert sorted(condition) == ["test", "values", "variable"], condition
        block = out.setdefault(condition["test"], {})
        assert condition["variable"] not in block, condition
        block[condition["variable"]] = condition["values"]
    return out


def _iam_statement(statement: dict[str, Any]) -> dict[str, Any]:
    """A module statement object as the IAM statement the module renders (effect defaults to Allow)."""
    assert sorted(statement) == ["actions", "condition", "resources", "sid"], statement
    out: dict[str, Any] = {
        "Sid": statement["sid"],
        "Effect": "Allow",
        "Action": statement["actions"],
        "Resource": statement["resources"],
    }
    if statement["condition"]:
        out["Condition"] = _conditions(statement["condition"])
    return out


@pytest.mark.parametrize("flavor", FLAVORS)
def test_each_flavor_covers_its_service_accounts(out: Path, flavor: str) -> None:
    roles = _roles(out, flavor)
    assert list(roles) == COVERED[flavor]
    module = MODULES[flavor]
    assert {key: role[module.name] for key, role in roles.items()} == {
        key: "prod-eu-" + key.replace("/", "-") for key in COVERED[flavor]
    }
    # between them the flavors cover every generated role, each exactly once per kind
    generated = sorted(f"{p.parent.name}/{p.stem}" for p in (out / "policies").glob("*/*.json"))
    assert sorted(IRSA_KEYS + POD_IDENTITY_KEYS) == generated


def test_v5_iamscope_policy_is_the_generated_policy(out: Path) -> None:
    for key, role in _roles(out, "irsa-v5").items():
        assert json.loads(role["iamscope_policy"]) == _document(out, "policies", key), key


def test_v6_inline_policy_permissions_are_the_generated_policy(out: Path) -> None:
    for key, role in _roles(out, "irsa-v6").items():
        permissions = role["inline_policy_permissions"]
        # the map key would become the Sid were sid unset: they agree
        assert [name for name, statement in permissions.items() if name != statement["sid"]] == [], key
        expected = [_listed(s) for s in _document(out, "policies", key)["Statement"]]
        assert len({s["Sid"] for s in expected}) == len(expected), key
        # Terraform renders the map in key order: compare by Sid
        assert {s["sid"]: _iam_statement(s) for s in permissions.values()} == {
            s["Sid"]: s for s in expected
        }, key


def test_pod_identity_policy_statements_are_the_generated_policy(out: Path) -> None:
    for key, role in _roles(out, "pod-identity").items():
        expected = [_listed(s) for s in _document(out, "policies", key)["Statement"]]
        assert [_iam_statement(s) for s in role["policy_statements"]] == expected, key


def test_pod_identity_trust_is_the_generated_trust(out: Path) -> None:
    """The module's one trust statement (pods.eks.amazonaws.com, sts:AssumeRole and sts:TagSession)
    with our conditions is the generated trust policy."""
    for key, role in _roles(out, "pod-identity").items():
        (statement,) = _document(out, "trust", key)["Statement"]
        statement = _listed(statement)
        assert statement["Principal"] == {"Service": "pods.eks.amazonaws.com"}, key
        assert statement["Action"] == ["sts:AssumeRole", "sts:TagSession"], key
        assert statement["Effect"] == "Allow", key
        assert _conditions(role["trust_policy_conditions"]) == statement["Condition"], key
        namespace, service_account = key.split("/")
        assert role["associations"] == {
            "this": {"cluster_name": "prod-eu", "namespace": namespace, "service_account": service_account}
        }, key


@pytest.mark.parametrize("flavor", FLAVORS)
def test_external_secrets_lists_are_explicit_and_exact(out: Path, flavor: str) -> None:
    """Never the module's defaults (v5's are wildcards): present, without `*`, and the very ARNs our
    own policy grants the matching action on."""
    for key, role in _roles(out, flavor).items():
        statements = _document(out, "policies", key)["Statement"]
        for name in EXTERNAL_SECRETS_LISTS:
            assert name in role, (key, name)
            arns = role[name]
            assert isinstance(arns, list), (key, name)
            assert [arn for arn in arns if not isinstance(arn, str) or "*" in arn] == [], (key, name)
            granted = [
                arn
                for s in statements
                if EXTERNAL_SECRETS_ACTIONS[name] in s["Action"]
                for arn in s["Resource"]
            ]
            assert sorted(arns) == sorted(granted), (key, name)
    if flavor != "pod-identity":
        # the one role reading a parameter and a customer-managed key fills all three lists
        payments_api = _roles(out, flavor)["payments/payments-api"]
        assert [len(payments_api[name]) for name in EXTERNAL_SECRETS_LISTS] == [1, 1, 1]


@pytest.mark.parametrize("flavor", IRSA_FLAVORS)
def test_oidc_providers_name_the_service_account(out: Path, flavor: str) -> None:
    """The module's trust statement (sub = system:serviceaccount:<ns>:<sa>) is the generated one."""
    for key, role in _roles(out, flavor).items():
        (statement,) = _document(out, "trust", key)["Statement"]
        provider_arn = statement["Principal"]["Federated"]
        namespace, service_account = key.split("/")
        assert role["oidc_providers"] == {
            "this": {
                "provider_arn": provider_arn,
                "namespace_service_accounts": [f"{namespace}:{service_account}"],
            }
        }, key
        issuer = provider_arn.split(":oidc-provider/", 1)[1]
        assert statement["Condition"] == {
            "StringEquals": {
                f"{issuer}:sub": f"system:serviceaccount:{namespace}:{service_account}",
                f"{issuer}:aud": "sts.amazonaws.com",
            }
        }, key
