"""Accounts to collect from, created in moto through the ordinary AWS APIs (and the EKS stand-in):

- `seed_realistic`: hundreds of roles (inline, managed and boundary policies; IRSA, broad IRSA,
  Pod Identity and non-Kubernetes trust), hundreds of secrets in two regions (some with resource
  policies, some encrypted with customer keys named by alias, key id or key ARN, one scheduled for
  deletion), SecureString and String parameters, and a cluster with Pod Identity associations;
- `seed_demo`: the demo snapshot of fixtures/demo/aws, object by object. moto picks its own secret
  suffixes and key ids, so the seed returns the replacements (fixture string → moto string) that make
  a copy of the fixture describe the same account.

Secret values are placeholders; nothing here or in the collector reads one back."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.collect.conftest import ACCOUNT, REGIONS
from tests.collect.eks_standin import EksStandIn

CLUSTER = "prod-eu"
ISSUER = "oidc.eks.eu-west-1.amazonaws.com/id/B7E3F1A9C2D4E6F8A0B1C3D5E7F9A1B3"
PLACEHOLDER = "placeholder-not-a-secret"
TEAMS = 12


def _doc(*statements: dict[str, Any]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def _side_by_side(*streams: Callable[[], None]) -> None:
    """Run each stream in its own thread, the calls within a stream one after the other. moto's
    backends are not safe for concurrent writes (IAM's create_role scans its roles while another
    request inserts one: a 500), but distinct services share nothing."""
    with ThreadPoolExecutor(max_workers=len(streams)) as pool:
        for future in [pool.submit(stream) for stream in streams]:
            future.result()


def irsa_trust(namespace: str, service_account: str, *, like: bool = False) -> str:
    operator = "StringLike" if like else "StringEquals"
    return _doc(
        {
            "Effect": "Allow",
            "Principal": {"Federated": f"arn:aws:iam::{ACCOUNT}:oidc-provider/{ISSUER}"},
            "Action": "sts:AssumeRoleWithWebIdentity",
            "Condition": {
                operator: {
                    f"{ISSUER}:sub": f"system:serviceaccount:{namespace}:{service_account}",
                    f"{ISSUER}:aud": "sts.amazonaws.com",
                }
            },
        }
    )


POD_IDENTITY_TRUST = _doc(
    {
        "Effect": "Allow",
        "Principal": {"Service": "pods.eks.amazonaws.com"},
        "Action": ["sts:AssumeRole", "sts:TagSession"],
    }
)
LAMBDA_TRUST = _doc(
    {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}
)


@dataclass
class Seed:
    roles: list[str] = field(default_factory=list)
    managed_policies: list[str] = field(default_factory=list)
    secrets: dict[str, list[str]] = field(default_factory=dict)  # region → secret names
    resource_policies: dict[str, list[str]] = field(default_factory=dict)  # region → secret names
    deleted: dict[str, list[str]] = field(default_factory=dict)  # region → names scheduled for deletion
    parameters: dict[str, list[str]] = field(default_factory=dict)  # region → parameter names
    keys: dict[str, dict[str, str]] = field(default_factory=dict)  # region → alias → key id
    associations: int = 0


def _secret_index(i: int) -> tuple[str, str]:
    region = REGIONS[0] if i % 3 else REGIONS[1]
    return region, f"team{i % TEAMS}/svc{i}/credentials"


def seed_realistic(
    session: Any, standin: EksStandIn, *, roles: int = 300, secrets: int = 250, parameters: int = 60
) -> Seed:
    seed = Seed()
    iam = session.client("iam", region_name=REGIONS[0])
    # --- keys, one pair per region
    for region in REGIONS:
        kms = session.client("kms", region_name=region)
        seed.keys[region] = {}
        for alias in ("alias/team-cmk", "alias/ops-cmk"):
            key = kms.create_key(Description=f"{alias} in {region}")["KeyMetadata"]
            kms.create_alias(AliasName=alias, TargetKeyId=key["KeyId"])
            seed.keys[region][alias] = key["KeyId"]

    # --- managed policies: one shared per team, and the workload boundary
    boundary = iam.create_policy(
        PolicyName="workload-boundary",
        Path="/eks/",
        PolicyDocument=_doc(
            {
                "Effect": "Allow",
                "Action": [
                    "secretsmanager:GetSecretValue",
                    "secretsmanager:DescribeSecret",
                    "ssm:GetParameters",
                    "kms:Decrypt",
                ],
                "Resource": "*",
            }
        ),
    )["Policy"]["Arn"]
    seed.managed_policies.append(boundary)
    shared = []
    for team in range(TEAMS):
        arn = iam.create_policy(
            PolicyName=f"team{team}-shared-read",
            Path="/eks/",
            PolicyDocument=_doc(
                {
                    "Effect": "Allow",
                    "Action": ["secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"],
                    "Resource": f"arn:aws:secretsmanager:*:{ACCOUNT}:secret:team{team}/shared/*",
                }
            ),
        )["Policy"]["Arn"]
        shared.append(arn)
        seed.managed_policies.append(arn)

    # --- roles
    def make_role(i: int) -> None:
        name = f"svc{i}" if i % 50 else f"lambda-rotation-{i}"
        namespace, account = f"team{i % TEAMS}", f"svc{i}"
        if i % 50 == 0:
            trust, path = LAMBDA_TRUST, "/service-role/"
        elif i % 3 == 1:
            trust, path = POD_IDENTITY_TRUST, "/eks/"
        else:
            trust, path = irsa_trust(namespace, account if i % 3 == 0 else "svc*", like=i % 3 == 2), "/eks/"
        extra: dict[str, Any] = {"PermissionsBoundary": boundary} if i % 5 == 0 else {}
        iam.create_role(
            RoleName=name,
            Path=path,
            AssumeRolePolicyDocument=trust,
            Tags=[{"Key": "team", "Value": namespace}, {"Key": "managed-by", "Value": "terraform"}],
            **extra,
        )
        own = [_secret_index(i)] + ([_secret_index(i + 1)] if i % 7 == 0 else [])
        iam.put_role_policy(
            RoleName=name,
            PolicyName="secrets",
            PolicyDocument=_doc(
                {
                    "Effect": "Allow",
                    "Action": ["secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"],
                    "Resource": [f"arn:aws:secretsmanager:{r}:{ACCOUNT}:secret:{n}-??????" for r, n in own],
                }
            ),
        )
        if i % 11 == 0:
            iam.put_role_policy(
                RoleName=name,
                PolicyName="deny-other-teams",
                PolicyDocument=_doc(
                    {
                        "Effect": "Deny",
                        "Action": "secretsmanager:*",
                        "NotResource": f"arn:aws:secretsmanager:*:{ACCOUNT}:secret:{namespace}/*",
                    }
                ),
            )
        if i % 4 == 0:
            iam.attach_role_policy(RoleName=name, PolicyArn=shared[i % TEAMS])
        seed.roles.append(name)

    # --- secrets
    def make_secret(i: int) -> None:
        region, name = _secret_index(i)
        sm = clients[("secretsmanager", region)]
        key: dict[str, str] = {}
        if i % 7 == 0:
            key = {"KmsKeyId": "alias/team-cmk"}
        elif i % 7 == 1:
            key = {"KmsKeyId": f"arn:aws:kms:{region}:{ACCOUNT}:key/{seed.keys[region]['alias/ops-cmk']}"}
        elif i % 7 == 2:
            key = {"KmsKeyId": seed.keys[region]["alias/team-cmk"]}
        sm.create_secret(
            Name=name,
            Description=f"credentials of svc{i}",
            SecretString=PLACEHOLDER,
            Tags=[{"Key": "team", "Value": f"team{i % TEAMS}"}],
            **key,
        )
        seed.secrets.setdefault(region, []).append(name)
        if i % 10 == 0:
            sm.put_resource_policy(
                SecretId=name,
                ResourcePolicy=_doc(
                    {
                        "Effect": "Deny",
                        "Principal": "*",
                        "Action": "secretsmanager:GetSecretValue",
                        "Resource": "*",
                        "Condition": {
                            "StringNotEquals": {"aws:PrincipalArn": f"arn:aws:iam::{ACCOUNT}:role/eks/svc{i}"}
                        },
                    }
                ),
            )
            seed.resource_policies.setdefault(region, []).append(name)

    def make_secrets() -> None:
        for i in range(secrets):
            make_secret(i)
        region, name = _secret_index(secrets - 1)
        clients[("secretsmanager", region)].delete_secret(SecretId=name, RecoveryWindowInDays=7)
        seed.deleted[region] = [name]

    # --- parameters
    def make_parameter(i: int) -> None:
        region = REGIONS[1] if i % 5 == 0 else REGIONS[0]
        name = f"/team{i % TEAMS}/svc{i}/config"
        kind: dict[str, str] = {"Type": "String"}
        if i % 2:
            kind = {"Type": "SecureString"}
            if i % 4 == 1:
                kind["KeyId"] = "alias/team-cmk"
        clients[("ssm", region)].put_parameter(
            Name=name, Value=PLACEHOLDER, Description=f"svc{i} settings", **kind
        )
        seed.parameters.setdefault(region, []).append(name)

    # clients are made here, in one thread: making them is not thread-safe, using them is
    clients = {(s, r): session.client(s, region_name=r) for s in ("secretsmanager", "ssm") for r in REGIONS}

    def make_roles() -> None:
        for i in range(roles):
            make_role(i)

    def make_parameters() -> None:
        for i in range(parameters):
            make_parameter(i)

    _side_by_side(make_roles, make_secrets, make_parameters)
    seed.roles.sort()
    for names in (*seed.secrets.values(), *seed.parameters.values()):
        names.sort()

    # --- the cluster and its Pod Identity associations (every third Pod Identity role)
    standin.add_cluster(REGIONS[0], demo_cluster())
    for i in range(1, roles, 9):
        if i % 50 == 0:
            continue
        association_id = f"a-{i:017d}"
        standin.add_association(
            REGIONS[0],
            {
                "clusterName": CLUSTER,
                "namespace": f"team{i % TEAMS}",
                "serviceAccount": f"svc{i}",
                "roleArn": f"arn:aws:iam::{ACCOUNT}:role/eks/svc{i}",
                "associationArn": f"arn:aws:eks:{REGIONS[0]}:{ACCOUNT}:podidentityassociation/{CLUSTER}/{association_id}",
                "associationId": association_id,
                "tags": {"team": f"team{i % TEAMS}"},
                "createdAt": "2024-11-05T10:16:55.214000+00:00",
                "modifiedAt": "2024-11-05T10:16:55.214000+00:00",
                "disableSessionTags": False,
            },
        )
        seed.associations += 1
    return seed


# --- the demo ---------------------------------------------------------------------------------------

DEMO = Path(__file__).resolve().parents[2] / "fixtures" / "demo"


def _load(name: str) -> Any:
    return json.loads((DEMO / "aws" / name).read_text(encoding="utf-8"))


def demo_cluster() -> dict[str, Any]:
    return dict(_load("eks-describe-cluster-prod-eu.json")["cluster"])


def replace_all(text: str, replacements: Mapping[str, str]) -> str:
    for old in sorted(replacements, key=len, reverse=True):
        text = text.replace(old, replacements[old])
    return text


def _text(value: Any, replacements: Mapping[str, str]) -> str:
    text = value if isinstance(value, str) else json.dumps(value)
    return replace_all(text, replacements)


def _region(arn: str) -> str:
    return arn.split(":")[3]


def seed_demo(session: Any, standin: EksStandIn) -> dict[str, str]:
    """Create the demo account in moto and the stand-in; return fixture string → moto string."""
    replacements: dict[str, str] = {}
    # customer managed keys first: secrets name them
    for entry in _load("kms-keys.json")["Keys"]:
        meta = entry["KeyMetadata"]
        if meta["KeyManager"] != "CUSTOMER":
            continue  # AWS managed keys come with the service in moto as in AWS
        kms = session.client("kms", region_name=_region(meta["Arn"]))
        created = kms.create_key(Description=meta["Description"], Policy=entry["Policy"])["KeyMetadata"]
        replacements[meta["KeyId"]] = created["KeyId"]
    for name in (
        "secretsmanager-list-secrets-eu-west-1.json",
        "secretsmanager-list-secrets-eu-central-1.json",
    ):
        for secret in _load(name)["SecretList"]:
            region = _region(secret["ARN"])
            extra = {"KmsKeyId": _text(secret["KmsKeyId"], replacements)} if secret.get("KmsKeyId") else {}
            if secret.get("Description"):
                extra["Description"] = secret["Description"]
            created = session.client("secretsmanager", region_name=region).create_secret(
                Name=secret["Name"], SecretString=PLACEHOLDER, Tags=secret.get("Tags", []), **extra
            )
            replacements[secret["ARN"]] = created["ARN"]
    for entry in _load("secretsmanager-resource-policies.json")["ResourcePolicies"]:
        if entry.get("ResourcePolicy"):
            session.client("secretsmanager", region_name=_region(entry["ARN"])).put_resource_policy(
                SecretId=replacements[entry["ARN"]],
                ResourcePolicy=_text(entry["ResourcePolicy"], replacements),
            )
    for parameter in _load("ssm-describe-parameters-eu-west-1.json")["Parameters"]:
        extra = {k: parameter[k] for k in ("Description", "Tier") if parameter.get(k)}
        if parameter["Type"] == "SecureString" and parameter.get("KeyId"):
            extra["KeyId"] = _text(parameter["KeyId"], replacements)
        session.client("ssm", region_name=_region(parameter["ARN"])).put_parameter(
            Name=parameter["Name"], Type=parameter["Type"], Value=PLACEHOLDER, **extra
        )
    iam = session.client("iam", region_name=REGIONS[0])
    details = _load("iam-authorization-details.json")
    for policy in details["Policies"]:
        if policy["Arn"].startswith("arn:aws:iam::aws:"):
            continue  # moto knows the AWS managed policies (MOTO_IAM_LOAD_MANAGED_POLICIES)
        default = next(v for v in policy["PolicyVersionList"] if v["IsDefaultVersion"])
        iam.create_policy(
            PolicyName=policy["PolicyName"],
            Path=policy["Path"],
            PolicyDocument=_text(default["Document"], replacements),
            Description=policy.get("Description", ""),
        )
    for role in details["RoleDetailList"]:
        extra = {}
        if role.get("PermissionsBoundary"):
            extra["PermissionsBoundary"] = role["PermissionsBoundary"]["PermissionsBoundaryArn"]
        iam.create_role(
            RoleName=role["RoleName"],
            Path=role["Path"],
            AssumeRolePolicyDocument=_text(role["AssumeRolePolicyDocument"], replacements),
            Tags=role.get("Tags", []),
            **extra,
        )
        for inline in role.get("RolePolicyList", []):
            iam.put_role_policy(
                RoleName=role["RoleName"],
                PolicyName=inline["PolicyName"],
                PolicyDocument=_text(inline["PolicyDocument"], replacements),
            )
        for attached in role.get("AttachedManagedPolicies", []):
            iam.attach_role_policy(RoleName=role["RoleName"], PolicyArn=attached["PolicyArn"])
        for profile in role.get("InstanceProfileList", []):
            iam.create_instance_profile(
                InstanceProfileName=profile["InstanceProfileName"], Path=profile["Path"]
            )
            iam.add_role_to_instance_profile(
                InstanceProfileName=profile["InstanceProfileName"], RoleName=role["RoleName"]
            )
    cluster = json.loads(_text(demo_cluster(), replacements))
    standin.add_cluster(_region(cluster["arn"]), cluster)
    for association in _load("eks-pod-identity-associations.json")["associations"]:
        association = json.loads(_text(association, replacements))
        standin.add_association(_region(association["associationArn"]), association)
    return replacements
