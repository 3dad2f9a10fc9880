"""`iamscope generate` planning: the exact identity and trust policy each service account gets from
what its workloads mount (DESIGN.md §3 "generate", §4 ASCP / ARNs / IRSA / Pod Identity), the
warnings that say what the role still lacks, and the errors that stop generation. Every state is a
small snapshot written with tests/scan/builder.py."""

from __future__ import annotations

import json
import re
import tempfile
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from iamscope.config import Config
from iamscope.errors import InputError, UsageError
from iamscope.files import InputReader
from iamscope.generate import GeneratePlan, RolePlan, artefacts, plan_roles, verified_plan
from iamscope.generate.documents import identity_policy, trust_policy
from iamscope.state import load_inventory, sources
from tests.scan.builder import (
    ACCOUNT,
    CLUSTER,
    CLUSTER_ARN,
    ISSUER,
    OTHER_ACCOUNT,
    PROVIDER,
    REGION,
    State,
    allow,
    deny,
    key_arn,
    objects,
    parameter_arn,
    role_arn,
    secret_arn,
    secret_pattern,
)

CONFIG = Config(cluster_name=CLUSTER, region=REGION)
FAILOVER = "eu-central-1"
WHERE = "prod/Deployment/api volume secrets"  # the builder's workload mounts volume "secrets"
API_ROLE = role_arn("test-cluster-prod-api")
SM = f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:"  # a secret ARN without its name

Entry = dict[str, Any]


# --- helpers ---------------------------------------------------------------------------------------


def inventory_of(state: State) -> Any:
    state.write()
    return load_inventory(sources(state.root, (), None), InputReader())


def plan_for(state: State, config: Config = CONFIG) -> GeneratePlan:
    """What `iamscope generate STATE` plans, warnings about the snapshot's refusals included."""
    return verified_plan(inventory_of(state), config)


def role_of(plan: GeneratePlan, key: str) -> RolePlan:
    found = [r for r in plan.roles if r.key == key]
    assert len(found) == 1, [r.key for r in plan.roles]
    return found[0]


def mount(
    state: State, entries: Sequence[Entry], *, sa: str = "api", name: str = "api", **params: str
) -> None:
    """An SPC named `name` in prod with these objects, mounted by Deployment `name` running as `sa`."""
    state.spc("prod", name, entries, **params)
    state.workload("Deployment", "prod", name, sa, name)


def secret(name: str, **fields: Any) -> Entry:
    return {"objectName": name, "objectType": "secretsmanager", **fields}


def ssm(name: str, **fields: Any) -> Entry:
    return {"objectName": name, "objectType": "ssmparameter", **fields}


def read_secrets(*arns: str) -> dict[str, Any]:
    return {
        "Sid": "ReadSecrets",
        "Effect": "Allow",
        "Action": ["secretsmanager:DescribeSecret", "secretsmanager:GetSecretValue"],
        "Resource": list(arns),
    }


def read_parameters(*arns: str) -> dict[str, Any]:
    return {
        "Sid": "ReadParameters",
        "Effect": "Allow",
        "Action": ["ssm:GetParameters"],
        "Resource": list(arns),
    }


def decrypt(sid: str, keys: Sequence[str], via: Sequence[str]) -> dict[str, Any]:
    return {
        "Sid": sid,
        "Effect": "Allow",
        "Action": ["kms:Decrypt"],
        "Resource": list(keys),
        "Condition": {"StringEquals": {"kms:ViaService": list(via)}},
    }


def policy(*statements: Mapping[str, Any]) -> dict[str, Any]:
    return {"Version": "2012-10-17", "Statement": [dict(s) for s in statements]}


def absent_secret(name: str, arn: str) -> str:
    return (
        f"{WHERE}: secret {name!r} is not in the snapshot: granted as {arn}; if a customer-managed KMS key "
        "encrypts it, the role also needs kms:Decrypt on that key"
    )


def absent_parameter(arn: str) -> str:
    return (
        f"{WHERE}: parameter {arn} is not in the snapshot: granted as named; if it is a SecureString under "
        "a customer-managed key, the role also needs kms:Decrypt on that key"
    )


def irsa_statement(namespace: str, sa: str) -> dict[str, Any]:
    return {
        "Sid": "ServiceAccountIrsa",
        "Effect": "Allow",
        "Principal": {"Federated": PROVIDER},
        "Action": ["sts:AssumeRoleWithWebIdentity"],
        "Condition": {
            "StringEquals": {
                f"{ISSUER}:aud": "sts.amazonaws.com",
                f"{ISSUER}:sub": f"system:serviceaccount:{namespace}:{sa}",
            }
        },
    }


def pod_identity_statement(namespace: str, sa: str) -> dict[str, Any]:
    return {
        "Sid": "ServiceAccountPodIdentity",
        "Effect": "Allow",
        "Principal": {"Service": "pods.eks.amazonaws.com"},
        "Action": ["sts:AssumeRole", "sts:TagSession"],
        "Condition": {
            "StringEquals": {
                "aws:RequestTag/eks-cluster-arn": CLUSTER_ARN,
                "aws:RequestTag/kubernetes-namespace": namespace,
                "aws:RequestTag/kubernetes-service-account": sa,
            }
        },
    }


# --- 1. secrets by name, partial ARN, full ARN --------------------------------------------------------


@pytest.mark.parametrize(
    ("entry", "resource", "warnings"),
    [
        pytest.param(secret("prod/db"), secret_arn("prod/db"), (), id="name-listed: the snapshot's full ARN"),
        pytest.param(
            secret("prod/gone"),
            secret_pattern("prod/gone"),
            (absent_secret("prod/gone", secret_pattern("prod/gone")),),
            # Secrets Manager: the suffix is 6 random characters; <name>* would also match <name>-other-…
            id="name-absent-from-listed-region: <name>-?????? and a warning",
        ),
        pytest.param(
            {"objectName": f"{SM}prod/db"},
            secret_arn("prod/db"),
            (),
            id="Secrets Manager: a partial ARN resolves by name, to the known full ARN",
        ),
        pytest.param(
            {"objectName": f"{SM}prod/gone"},
            secret_pattern("prod/gone"),
            (absent_secret(f"{SM}prod/gone", secret_pattern("prod/gone")),),
            id="Secrets Manager: an unknown partial ARN resolves by name, so the grant is <name>-??????",
        ),
        pytest.param(
            {"objectName": secret_arn("prod/db")}, secret_arn("prod/db"), (), id="full ARN: that ARN"
        ),
        pytest.param(
            {"objectName": secret_arn("prod/db"), "objectType": "secretsmanager"},
            secret_arn("prod/db"),
            (),
            id="full ARN with its objectType: that ARN",
        ),
    ],
)
def test_secret_reference_is_granted_as_its_arn(
    tmp_path: Path, entry: Entry, resource: str, warnings: tuple[str, ...]
) -> None:
    state = State(tmp_path)
    state.secret("prod/db")
    state.secret("prod/other")  # listed, never named: must not appear
    mount(state, [entry])
    plan = plan_for(state)
    assert identity_policy(role_of(plan, "prod/api")) == policy(read_secrets(resource))
    assert plan.warnings == warnings


# --- 2. failover ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("entries", "secrets", "parameters", "warnings"),
    [
        pytest.param(
            [secret("prod/db")],
            [secret_arn("prod/db", FAILOVER), secret_arn("prod/db")],
            [],
            (),
            id="ASCP: failoverRegion reads every object from both regions",
        ),
        pytest.param(
            [secret("prod/db", objectAlias="db", failoverObject={"objectName": "prod/db-fo"})],
            [secret_arn("prod/db-fo", FAILOVER), secret_arn("prod/db")],
            [],
            (),
            id="ASCP: failoverObject is the name read in the failover region",
        ),
        pytest.param(
            [secret("prod/solo")],
            [secret_pattern("prod/solo", FAILOVER), secret_arn("prod/solo")],
            [],
            (absent_secret("prod/solo", secret_pattern("prod/solo", FAILOVER)),),
            id="ASCP: failover copy not in the snapshot is still granted, as <name>-??????",
        ),
        pytest.param(
            [ssm("/app/url")],
            [],
            [parameter_arn("/app/url", FAILOVER), parameter_arn("/app/url")],
            (absent_parameter(parameter_arn("/app/url", FAILOVER)),),
            id="ASCP: failoverRegion applies to SSM parameters too",
        ),
    ],
)
def test_failover_region_is_granted(
    tmp_path: Path,
    entries: list[Entry],
    secrets: list[str],
    parameters: list[str],
    warnings: tuple[str, ...],
) -> None:
    state = State(tmp_path)
    state.secret("prod/db")
    state.secret("prod/db", region=FAILOVER)
    state.secret("prod/db-fo", region=FAILOVER)
    state.secret("prod/solo")
    state.parameter("/app/url")
    mount(state, entries, failoverRegion=FAILOVER)
    plan = plan_for(state)
    expected = [
        s
        for s in (
            read_secrets(*secrets) if secrets else None,
            read_parameters(*parameters) if parameters else None,
        )
        if s
    ]
    assert identity_policy(role_of(plan, "prod/api")) == policy(*expected)
    assert plan.warnings == warnings


# --- 3. SSM parameters ------------------------------------------------------------------------------

K1 = key_arn("k1")


@pytest.mark.parametrize(
    ("listed", "name", "expected"),
    [
        pytest.param(
            ("/app/url", "String", None),
            "/app/url",
            policy(read_parameters(parameter_arn("/app/url"))),
            id="SSM: ARN is parameter/<name without leading slash>",
        ),
        pytest.param(
            ("/app/url", "String", None),
            "app/url",
            policy(read_parameters(parameter_arn("/app/url"))),
            id="SSM: the same name without the leading slash is the same ARN",
        ),
        pytest.param(
            ("/app/pw", "SecureString", K1),
            "/app/pw",
            policy(
                read_parameters(parameter_arn("/app/pw")),
                decrypt("DecryptParameters", [K1], [f"ssm.{REGION}.amazonaws.com"]),
            ),
            id="KMS: SecureString under a customer-managed key needs kms:Decrypt via ssm.<region>",
        ),
        pytest.param(
            ("/app/pw", "SecureString", "alias/app"),
            "/app/pw",
            policy(
                read_parameters(parameter_arn("/app/pw")),
                decrypt("DecryptParameters", [K1], [f"ssm.{REGION}.amazonaws.com"]),
            ),
            id="KMS: a key named by alias is granted by the key ARN the alias points to",
        ),
        pytest.param(
            ("/app/pw", "SecureString", None),
            "/app/pw",
            policy(read_parameters(parameter_arn("/app/pw"))),
            id="KMS: SecureString without KeyId uses alias/aws/ssm, AWS managed: no kms:Decrypt",
        ),
        pytest.param(
            ("/app/pw", "SecureString", "alias/aws/ssm"),
            "/app/pw",
            policy(read_parameters(parameter_arn("/app/pw"))),
            id="KMS: the AWS managed key alias/aws/ssm needs no kms:Decrypt grant",
        ),
        pytest.param(
            ("/app/pw", "SecureString", key_arn("aws-managed")),
            "/app/pw",
            policy(read_parameters(parameter_arn("/app/pw"))),
            id="KMS: a key whose KeyManager is AWS needs no kms:Decrypt grant",
        ),
        pytest.param(
            ("/app/url", "String", None),
            "/app/url",
            policy(read_parameters(parameter_arn("/app/url"))),
            id="SSM: a String parameter is not encrypted: no kms:Decrypt",
        ),
    ],
)
def test_parameter_grant(
    tmp_path: Path, listed: tuple[str, str, str | None], name: str, expected: dict[str, Any]
) -> None:
    state = State(tmp_path)
    state.kms_key("k1", aliases=["alias/app"])
    state.kms_key("aws-managed", manager="AWS")
    parameter, type_, key = listed
    state.parameter(parameter, type=type_, key_id=key)
    mount(state, [ssm(name)])
    plan = plan_for(state)
    assert identity_policy(role_of(plan, "prod/api")) == expected
    assert plan.warnings == ()


def test_absent_parameter_is_granted_as_named_with_a_warning(tmp_path: Path) -> None:
    state = State(tmp_path)
    mount(state, [ssm("/app/gone")])
    plan = plan_for(state)
    assert identity_policy(role_of(plan, "prod/api")) == policy(read_parameters(parameter_arn("/app/gone")))
    assert plan.warnings == (absent_parameter(parameter_arn("/app/gone")),)


# --- 4. secrets under KMS keys ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kms_key", "expected_keys"),
    [
        pytest.param(
            K1, [K1], id="KMS: customer-managed key by ARN needs kms:Decrypt via secretsmanager.<region>"
        ),
        pytest.param("k1", [K1], id="KMS: customer-managed key by key id resolves to its ARN"),
        pytest.param("alias/app", [K1], id="KMS: customer-managed key by alias resolves to its ARN"),
        pytest.param(None, [], id="KMS: no KmsKeyId is the AWS managed aws/secretsmanager key: no grant"),
        pytest.param(
            "alias/aws/secretsmanager", [], id="KMS: alias/aws/secretsmanager is AWS managed: no grant"
        ),
        pytest.param(key_arn("aws-managed"), [], id="KMS: KeyManager AWS in kms-keys.json: no grant"),
    ],
)
def test_secret_kms_grant(tmp_path: Path, kms_key: str | None, expected_keys: list[str]) -> None:
    state = State(tmp_path)
    state.kms_key("k1", aliases=["alias/app"])
    state.kms_key("aws-managed", manager="AWS", aliases=["alias/aws/secretsmanager"])
    state.secret("prod/db", kms_key=kms_key)
    mount(state, [secret("prod/db")])
    plan = plan_for(state)
    statements = [read_secrets(secret_arn("prod/db"))]
    if expected_keys:
        statements.append(
            decrypt("DecryptSecrets", expected_keys, [f"secretsmanager.{REGION}.amazonaws.com"])
        )
    assert identity_policy(role_of(plan, "prod/api")) == policy(*statements)
    assert plan.warnings == ()


def test_secret_and_parameter_keys_each_get_their_own_via_service(tmp_path: Path) -> None:
    """KMS: kms:ViaService names the service that decrypts; a key used by both gets two statements,
    in the order ReadSecrets, ReadParameters, DecryptSecrets, DecryptParameters."""
    state = State(tmp_path)
    state.kms_key("k1")
    state.secret("prod/db", kms_key=K1)
    state.parameter("/app/pw", type="SecureString", key_id=K1)
    mount(state, [secret("prod/db"), ssm("/app/pw")])
    assert identity_policy(role_of(plan_for(state), "prod/api")) == policy(
        read_secrets(secret_arn("prod/db")),
        read_parameters(parameter_arn("/app/pw")),
        decrypt("DecryptSecrets", [K1], [f"secretsmanager.{REGION}.amazonaws.com"]),
        decrypt("DecryptParameters", [K1], [f"ssm.{REGION}.amazonaws.com"]),
    )


# --- 5. what does not change the grant ---------------------------------------------------------------


@pytest.mark.parametrize(
    "fields",
    [
        pytest.param(
            {"objectVersion": "EXAMPLE1-90ab-cdef-fedc-ba987EXAMPLE"},
            id="objectVersion: same secret, same ARN",
        ),
        pytest.param({"objectVersionLabel": "AWSPREVIOUS"}, id="objectVersionLabel: same secret, same ARN"),
        pytest.param(
            {"jmesPath": [{"path": "username", "objectAlias": "user"}]},
            id="jmesPath: ASCP still reads the whole secret",
        ),
        pytest.param(
            {"JmesPath": [{"Path": "username", "ObjectAlias": "user"}], "objectAlias": "db"},
            id="ASCP: keys are case-insensitive (JmesPath/Path/ObjectAlias)",
        ),
        pytest.param(
            {"filePermission": "0400", "objectAlias": "db"}, id="filePermission/objectAlias: no effect on IAM"
        ),
    ],
)
def test_version_alias_and_jmespath_do_not_change_the_grant(tmp_path: Path, fields: Entry) -> None:
    plain, varied = State(tmp_path / "plain"), State(tmp_path / "varied")
    for state, entry in ((plain, secret("prod/db")), (varied, secret("prod/db", **fields))):
        state.secret("prod/db")
        mount(state, [entry])
    plain_plan, varied_plan = plan_for(plain), plan_for(varied)
    expected = policy(read_secrets(secret_arn("prod/db")))
    assert identity_policy(role_of(plain_plan, "prod/api")) == expected
    assert identity_policy(role_of(varied_plan, "prod/api")) == expected
    assert varied_plan.warnings == ()


# --- 6. objects ASCP rejects ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("bad", "warning"),
    [
        pytest.param(
            {"objectName": "prod/other", "objectType": "SecretsManager"},
            f"{WHERE}: 'prod/other' not granted: Invalid objectType 'SecretsManager' (ASCP accepts "
            "secretsmanager or ssmparameter)",
            id="ASCP: objectType is case-sensitive, SecretsManager is rejected",
        ),
        pytest.param(
            {"objectName": "prod/other", "objectType": "ssm"},
            f"{WHERE}: 'prod/other' not granted: Invalid objectType 'ssm' (ASCP accepts secretsmanager or "
            "ssmparameter)",
            id="ASCP: objectType ssm is not accepted (only an ARN's service may say ssm)",
        ),
        pytest.param(
            {"objectName": f"arn:aws:secretsmanager:${{REGION}}:{ACCOUNT}:secret:prod/other"},
            f"{WHERE}: 'arn:aws:secretsmanager:${{REGION}}:{ACCOUNT}:secret:prod/other' not granted: "
            "unsubstituted placeholder ${REGION}: the manifest is a template",
            id="upstream e2e template: ${REGION} placeholder is reported, not guessed",
        ),
        pytest.param(
            {"objectName": secret_arn("prod/other", "us-east-1")},
            f"{WHERE}: {secret_arn('prod/other', 'us-east-1')!r} not granted: ASCP rejects it (ARN region "
            f"must match the region {REGION}: {secret_arn('prod/other', 'us-east-1')})",
            id="ASCP: an ARN must be in the region it is read from",
        ),
        pytest.param(
            secret("prod/other", objectAlias="o", failoverObject={"objectName": "prod/other-fo"}),
            f"{WHERE}: 'prod/other' not granted: ASCP rejects it (a failoverObject needs the SPC's failoverRegion)",
            id="ASCP: failoverObject without failoverRegion is rejected",
        ),
        pytest.param(
            {"objectName": secret_arn("prod/other"), "objectType": "ssmparameter"},
            f"{WHERE}: {secret_arn('prod/other')!r} not granted: objectType ssmparameter does not match "
            "the ARN's service (secretsmanager)",
            id="ASCP: objectType must agree with the ARN's service",
        ),
    ],
)
def test_rejected_object_is_not_granted(tmp_path: Path, bad: Entry, warning: str) -> None:
    state = State(tmp_path)
    state.secret("prod/db")
    state.secret("prod/other")
    state.secret("prod/other", region="us-east-1")
    mount(state, [secret("prod/db"), bad])
    plan = plan_for(state)
    assert identity_policy(role_of(plan, "prod/api")) == policy(read_secrets(secret_arn("prod/db")))
    assert plan.warnings == (warning,)


def test_service_account_with_nothing_grantable_gets_no_role(tmp_path: Path) -> None:
    """ASCP: a `${REGION}` region is a template placeholder: nothing resolves, so no role at all."""
    state = State(tmp_path)
    state.secret("prod/db")
    mount(state, [secret("prod/db")], region="${REGION}")
    mount(state, [secret("prod/db")], sa="ok", name="ok")
    plan = plan_for(state)
    assert [r.key for r in plan.roles] == ["prod/ok"]
    assert plan.warnings == (
        f"{WHERE}: nothing granted: the mount fails (region/failoverRegion hold unsubstituted placeholder "
        "${REGION}: the manifest is a template)",
        "prod/ServiceAccount/api: none of its objects could be resolved: no role written for it",
    )
    assert "policies/prod/api.json" not in artefacts(plan)


# --- 7. several workloads, filters --------------------------------------------------------------------


def shared_state(root: Path) -> State:
    """SA prod/shared used by two Deployments mounting different SPCs; SA prod/other by a third; an
    idle Deployment that mounts nothing and one that mounts a Vault SPC."""
    state = State(root)
    for name in ("prod/a", "prod/b", "prod/c", "prod/v"):
        state.secret(name)
    state.parameter("/prod/b")
    mount(state, [secret("prod/a")], sa="shared", name="a")
    mount(state, [secret("prod/b"), ssm("/prod/b")], sa="shared", name="b")
    mount(state, [secret("prod/c")], sa="other", name="c")
    state.workload("Deployment", "prod", "idle", "idle")
    state.spc("prod", "v", objects("prod/v"), provider="vault")
    state.workload("Deployment", "prod", "v", "vaulted", "v")
    return state


def test_two_workloads_on_one_service_account_get_the_union(tmp_path: Path) -> None:
    plan = plan_for(shared_state(tmp_path))
    shared = role_of(plan, "prod/shared")
    assert shared.workloads == ("prod/Deployment/a", "prod/Deployment/b")
    assert identity_policy(shared) == policy(
        read_secrets(secret_arn("prod/a"), secret_arn("prod/b")), read_parameters(parameter_arn("/prod/b"))
    )
    # provider: vault is not ASCP: no role for its service account, and no warning about it
    assert [r.key for r in plan.roles] == ["prod/other", "prod/shared"]
    assert plan.warnings == ()


@pytest.mark.parametrize(
    "filters",
    [
        pytest.param(
            {"workloads": ["prod/Deployment/a"]}, id="one workload: its SA's role covers every workload"
        ),
        pytest.param({"workloads": ["prod/Deployment/b"]}, id="the other workload: same role"),
        pytest.param({"service_accounts": ["prod/shared"]}, id="--service-account ns/name"),
        pytest.param({"service_accounts": ["prod/ServiceAccount/shared"]}, id="--service-account id"),
    ],
)
def test_filtered_role_is_identical_to_the_unfiltered_one(
    tmp_path: Path, filters: dict[str, list[str]]
) -> None:
    state = shared_state(tmp_path)
    inventory = inventory_of(state)
    whole = verified_plan(inventory, CONFIG)
    alone = verified_plan(
        inventory,
        CONFIG,
        workloads=filters.get("workloads", ()),
        service_accounts=filters.get("service_accounts", ()),
    )
    assert alone.roles == (role_of(whole, "prod/shared"),)
    whole_files, alone_files = artefacts(whole), artefacts(alone)
    for path in ("policies/prod/shared.json", "trust/prod/shared.json"):
        assert alone_files[path] == whole_files[path]
    assert "policies/prod/other.json" not in alone_files
    tfvars = "iamscope.auto.tfvars.json"
    assert json.loads(alone_files[tfvars])["service_accounts"] == {
        "prod/shared": json.loads(whole_files[tfvars])["service_accounts"]["prod/shared"]
    }


@pytest.mark.parametrize(
    ("filters", "message"),
    [
        pytest.param(
            {"workloads": ["prod/Deployment/nope"]},
            "--workload prod/Deployment/nope: the workload is not in the input (workloads that do: "
            "prod/Deployment/a, prod/Deployment/b, prod/Deployment/c)",
            id="unknown workload lists the workloads that mount AWS objects",
        ),
        pytest.param(
            {"workloads": ["prod/Deployment/idle"]},
            "--workload prod/Deployment/idle: the workload mounts no AWS SecretProviderClass (workloads that "
            "do: prod/Deployment/a, prod/Deployment/b, prod/Deployment/c)",
            id="workload that mounts nothing",
        ),
        pytest.param(
            {"workloads": ["prod/Deployment/v"]},
            "--workload prod/Deployment/v: the workload mounts no AWS SecretProviderClass (workloads that "
            "do: prod/Deployment/a, prod/Deployment/b, prod/Deployment/c)",
            id="ASCP: a vault SPC is not an AWS mount",
        ),
        pytest.param(
            {"service_accounts": ["prod/nope"]},
            "--service-account prod/nope: no workload running as it mounts AWS objects (service accounts "
            "that do: prod/other, prod/shared)",
            id="unknown service account lists the choices",
        ),
        pytest.param(
            {"service_accounts": ["prod/idle"]},
            "--service-account prod/idle: no workload running as it mounts AWS objects (service accounts "
            "that do: prod/other, prod/shared)",
            id="service account whose workload mounts nothing",
        ),
    ],
)
def test_bad_filter_is_a_usage_error(tmp_path: Path, filters: dict[str, list[str]], message: str) -> None:
    inventory = inventory_of(shared_state(tmp_path))
    with pytest.raises(UsageError) as raised:
        plan_roles(
            inventory,
            CONFIG,
            workloads=filters.get("workloads", ()),
            service_accounts=filters.get("service_accounts", ()),
        )
    assert str(raised.value) == message


# --- 8. trust policies ----------------------------------------------------------------------------------


def test_default_trust_is_irsa_for_exactly_one_service_account(tmp_path: Path) -> None:
    """IRSA: Federated = the cluster's OIDC provider, StringEquals sub and aud=sts.amazonaws.com."""
    state = State(tmp_path)
    state.secret("prod/db")
    mount(state, [secret("prod/db")])
    plan = plan_for(state)
    role = role_of(plan, "prod/api")
    assert (role.irsa, role.pod_identity) == (True, False)
    assert role.role_arn == API_ROLE
    assert trust_policy(role, plan) == policy(irsa_statement("prod", "api"))


def test_use_pod_identity_trusts_the_pod_identity_service_with_session_tags(tmp_path: Path) -> None:
    """EKS Pod Identity: pods.eks.amazonaws.com, sts:AssumeRole + sts:TagSession; the session tags pin
    the cluster, namespace and service account."""
    state = State(tmp_path)
    state.secret("prod/db")
    mount(state, [secret("prod/db")], usePodIdentity="true")
    plan = plan_for(state)
    role = role_of(plan, "prod/api")
    assert (role.irsa, role.pod_identity) == (False, True)
    assert trust_policy(role, plan) == policy(pod_identity_statement("prod", "api"))
    assert plan.warnings == ()


def test_service_account_with_both_kinds_of_mount_trusts_both(tmp_path: Path) -> None:
    state = State(tmp_path)
    state.secret("prod/db")
    mount(state, [secret("prod/db")], name="irsa")
    mount(state, [secret("prod/db")], name="pod-identity", usePodIdentity="true")
    plan = plan_for(state)
    role = role_of(plan, "prod/api")
    assert (role.irsa, role.pod_identity) == (True, True)
    assert trust_policy(role, plan) == policy(
        irsa_statement("prod", "api"), pod_identity_statement("prod", "api")
    )
    assert plan.warnings == (
        "prod/ServiceAccount/api: some of its mounts use IRSA and some usePodIdentity: the role trusts both, "
        "and both the annotation and a Pod Identity association are written",
    )


# --- 9/10. what policies outside the role would still refuse -------------------------------------------


def test_secret_in_another_account_is_granted_with_a_resource_policy_warning(tmp_path: Path) -> None:
    """IAM: across accounts the secret's resource policy must also allow the caller."""
    state = State(tmp_path)
    foreign = secret_arn("shared/db", account=OTHER_ACCOUNT)
    mount(state, [{"objectName": foreign}])
    plan = plan_for(state)
    assert identity_policy(role_of(plan, "prod/api")) == policy(read_secrets(foreign))
    assert (
        f"prod/Deployment/api: {foreign} is in account {OTHER_ACCOUNT}: its resource policy (and its key's "
        "policy) must also grant the new role"
    ) in plan.warnings


REFUSED = (
    f"prod/ServiceAccount/api: the generated role {API_ROLE} would still be refused {{actions}} on "
    f"{secret_arn('prod/db')}: the secret's resource policy does not allow it; grant the role there before "
    "rolling it out"
)


@pytest.mark.parametrize(
    ("statements", "warnings"),
    [
        pytest.param(None, (), id="no resource policy: the identity policy alone allows (same account)"),
        pytest.param(
            [
                deny(
                    "secretsmanager:*",
                    "*",
                    principal={"AWS": "*"},
                    condition={"StringNotEquals": {"aws:PrincipalArn": role_arn("legacy")}},
                )
            ],
            (REFUSED.format(actions="secretsmanager:GetSecretValue, secretsmanager:DescribeSecret"),),
            id="IAM: an explicit Deny in the resource policy beats the identity policy's Allow",
        ),
        pytest.param(
            [deny("secretsmanager:DescribeSecret", "*", principal={"AWS": "*"})],
            (REFUSED.format(actions="secretsmanager:DescribeSecret"),),
            id="ASCP: a denied DescribeSecret breaks rotation, and is said",
        ),
        pytest.param(
            [
                deny(
                    "secretsmanager:*",
                    "*",
                    principal={"AWS": "*"},
                    condition={"StringNotEquals": {"aws:PrincipalArn": [role_arn("legacy"), API_ROLE]}},
                )
            ],
            (),
            id="IAM: a Deny that exempts the new role refuses nothing",
        ),
        pytest.param(
            [allow("secretsmanager:GetSecretValue", "*", principal={"AWS": role_arn("legacy")})],
            (),
            id="IAM: a resource policy allowing another role does not restrict same-account callers",
        ),
    ],
)
def test_resource_policy_refusals_are_warned(
    tmp_path: Path, statements: list[dict[str, Any]] | None, warnings: tuple[str, ...]
) -> None:
    state = State(tmp_path)
    arn = state.secret("prod/db")
    state.role("legacy")
    if statements is not None:
        state.resource_policy(arn, statements)
    mount(state, [secret("prod/db")])
    plan = plan_for(state)
    assert identity_policy(role_of(plan, "prod/api")) == policy(read_secrets(arn))
    assert plan.warnings == warnings
    # plan_roles alone does not look at resource policies
    assert plan_roles(inventory_of(state), CONFIG).warnings == ()


# --- 11. what stops generation ---------------------------------------------------------------------------


def _no_account(state: State) -> None:
    state.cluster = state.caller_identity = False


def _no_cluster(state: State) -> None:
    state.cluster = False


def _no_cluster_pod_identity(state: State) -> None:
    state.cluster = False
    state.k8s.clear()
    mount(state, [secret("prod/db")], usePodIdentity="true")


NO_CLUSTER_NAME = Config(region=REGION, role_name="{namespace}-{service_account}")
NO_CLUSTER = "no EKS cluster in the snapshot: add eks-describe-cluster-<name>.json (aws eks describe-cluster)"


@pytest.mark.parametrize(
    ("change", "config", "message"),
    [
        pytest.param(
            _no_account,
            CONFIG,
            "generate: the AWS account is unknown: add sts-get-caller-identity.json (or the cluster's "
            "eks-describe-cluster*.json) to the snapshot",
            id="no caller identity, no cluster, no roles: the account is unknown",
        ),
        pytest.param(
            _no_cluster,
            CONFIG,
            "generate: cannot write IRSA trust policies: cluster.name 'test-cluster' is not in the snapshot "
            "(no eks-describe-cluster*.json)",
            id="IRSA: the trust names the cluster's OIDC provider, which needs the cluster",
        ),
        pytest.param(
            _no_cluster,
            NO_CLUSTER_NAME,
            f"generate: cannot write IRSA trust policies: {NO_CLUSTER}",
            id="IRSA: no cluster file and no cluster.name",
        ),
        pytest.param(
            _no_cluster,
            Config(region=REGION),
            "generate: the role name template '{cluster}-{namespace}-{service_account}' uses {cluster}: "
            f"{NO_CLUSTER}",
            id="the default role name needs the cluster's name",
        ),
        pytest.param(
            _no_cluster_pod_identity,
            CONFIG,
            "generate: cannot write Pod Identity trust policies (they name the cluster's ARN): cluster.name "
            "'test-cluster' is not in the snapshot (no eks-describe-cluster*.json)",
            id="Pod Identity: the trust pins aws:RequestTag/eks-cluster-arn, which needs the cluster",
        ),
    ],
)
def test_missing_snapshot_data_is_an_input_error(
    tmp_path: Path, change: Callable[[State], None], config: Config, message: str
) -> None:
    state = State(tmp_path)
    state.secret("prod/db")
    mount(state, [secret("prod/db")])
    change(state)
    with pytest.raises(InputError) as raised:
        plan_roles(inventory_of(state), config)
    assert str(raised.value) == message


def test_account_from_the_cluster_when_there_is_no_caller_identity(tmp_path: Path) -> None:
    state = State(tmp_path, caller_identity=False)
    state.secret("prod/db")
    mount(state, [secret("prod/db")])
    plan = plan_for(state)
    assert (plan.account, role_of(plan, "prod/api").role_arn) == (ACCOUNT, API_ROLE)


def test_non_aws_provider_is_ignored(tmp_path: Path) -> None:
    state = State(tmp_path)
    state.secret("prod/db")
    state.spc("prod", "api", objects("prod/db"), provider="vault")
    state.workload("Deployment", "prod", "api", "api", "api")
    plan = plan_for(state)
    assert (plan.roles, plan.warnings) == ((), ())


# --- wildcards in object names ----------------------------------------------------------------------------


def _literal(resource: str) -> str:
    """The resource without the one wildcard the plan may write: the unknown six-character suffix."""
    return re.sub(r"-\?{6}$", "", resource)


@pytest.mark.parametrize(
    "entry",
    [
        pytest.param(secret("*"), id="Secrets Manager: names are [A-Za-z0-9/_+=.@-], * is no name"),
        pytest.param(secret("prod/*"), id="Secrets Manager: prod/* is no name"),
        pytest.param(secret("prod/d?"), id="Secrets Manager: ? is no name"),
        pytest.param({"objectName": f"{SM}*"}, id="Secrets Manager: a partial ARN of * is no secret"),
        pytest.param(ssm("/prod/*"), id="SSM: parameter names are [a-zA-Z0-9_.-/], * is no name"),
        pytest.param(
            {"objectName": f"arn:aws:ssm:{REGION}:{ACCOUNT}:parameter/*"}, id="SSM: parameter/* ARN"
        ),
    ],
)
def test_wildcard_object_name_is_never_granted(tmp_path: Path, entry: Entry) -> None:
    state = State(tmp_path)
    state.secret("prod/db")
    mount(state, [secret("prod/db"), entry])
    plan = plan_for(state)
    for statement in identity_policy(role_of(plan, "prod/api"))["Statement"]:
        for resource in statement["Resource"]:
            assert not re.search(r"[*?]", _literal(resource)), resource


# --- 12. the shape of every identity policy ---------------------------------------------------------------

SIDS = ("ReadSecrets", "ReadParameters", "DecryptSecrets", "DecryptParameters")
SERVICE_OF = {
    "ReadSecrets": "arn:aws:secretsmanager:",
    "ReadParameters": "arn:aws:ssm:",
    "DecryptSecrets": "arn:aws:kms:",
    "DecryptParameters": "arn:aws:kms:",
}
# objects a SPC may name: listed, absent, by partial/full ARN, SSM with/without slash, keys of every kind,
# versions and jmesPath, and entries ASCP rejects
POOL: tuple[Entry, ...] = (
    secret("app/db"),
    secret("app/cmk"),
    secret("app/aws-key"),
    secret("app/gone"),
    {"objectName": f"{SM}app/db"},
    {"objectName": f"{SM}app/gone2"},
    {"objectName": secret_arn("app/cmk")},
    {"objectName": secret_arn("x/foreign", account=OTHER_ACCOUNT)},
    secret("app/db2", objectVersionLabel="AWSCURRENT", jmesPath=[{"path": "u", "objectAlias": "u"}]),
    secret("app/fo", objectAlias="fo", failoverObject={"objectName": "app/fo-replica"}),
    ssm("/app/url"),
    ssm("app/url2"),
    ssm("/app/pw"),
    ssm("/app/pw-default"),
    ssm("/app/gone"),
    {"objectName": "app/bad", "objectType": "SecretsManager"},
    {"objectName": "${SECRET_NAME}", "objectType": "secretsmanager"},
)


def _policy_state(root: Path, mounts: list[tuple[list[int], bool, bool]]) -> State:
    state = State(root)
    k1 = state.kms_key("k1", aliases=["alias/app"])
    state.kms_key("aws", manager="AWS", aliases=["alias/aws/secretsmanager"])
    state.secret("app/db")
    state.secret("app/db2", kms_key="alias/app")
    state.secret("app/cmk", kms_key=k1)
    state.secret("app/cmk", region=FAILOVER, kms_key=key_arn("k1", FAILOVER))
    state.secret("app/aws-key", kms_key="alias/aws/secretsmanager")
    state.secret("app/fo")
    state.parameter("/app/url")
    state.parameter("/app/url2")
    state.parameter("/app/pw", type="SecureString", key_id="alias/app")
    state.parameter("/app/pw-default", type="SecureString")
    for i, (indexes, failover, pod_identity) in enumerate(mounts):
        params = {"failoverRegion": FAILOVER} if failover else {}
        if pod_identity:
            params["usePodIdentity"] = "true"
        mount(state, [POOL[j] for j in indexes], sa=f"sa{i % 2}", name=f"w{i}", **params)
    return state


MOUNTS = st.lists(
    st.tuples(
        st.lists(st.integers(0, len(POOL) - 1), min_size=1, max_size=6, unique=True),
        st.booleans(),
        st.booleans(),
    ),
    min_size=1,
    max_size=3,
)


@settings(
    max_examples=40,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(mounts=MOUNTS)
def test_every_identity_policy_is_exact_sorted_and_wildcard_free(
    mounts: list[tuple[list[int], bool, bool]],
) -> None:
    """IAM least privilege: no `*` in any Action or Resource (the only wildcard is the unknown suffix
    `-??????`), actions and resources sorted and unique, statements ReadSecrets, ReadParameters,
    DecryptSecrets, DecryptParameters in that order, each on its own service's ARNs."""
    with tempfile.TemporaryDirectory() as root:
        plan = plan_for(_policy_state(Path(root), mounts))
    for role in plan.roles:
        document = identity_policy(role)
        assert document["Version"] == "2012-10-17"
        sids = [s["Sid"] for s in document["Statement"]]
        assert sids == [sid for sid in SIDS if sid in sids], sids
        assert sids, role.key  # a role is planned only when it grants something
        for statement in document["Statement"]:
            assert statement["Effect"] == "Allow"
            actions, resources = statement["Action"], statement["Resource"]
            assert actions == sorted(set(actions)), statement
            assert resources == sorted(set(resources)), statement
            assert resources, statement
            for value in (*actions, *map(_literal, resources)):
                assert not re.search(r"[*?]", value), value
            assert all(r.startswith(SERVICE_OF[statement["Sid"]]) for r in resources), statement
            if statement["Sid"].startswith("Decrypt"):
                assert actions == ["kms:Decrypt"]
                service = "secretsmanager" if statement["Sid"] == "DecryptSecrets" else "ssm"
                via = statement["Condition"]["StringEquals"]["kms:ViaService"]
                assert via == sorted({f"{service}.{r.split(':')[3]}.amazonaws.com" for r in resources})
            else:
                assert "Condition" not in statement
