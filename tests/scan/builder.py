"""A small state-directory builder for scan tests: describe a cluster and an AWS account in Python, write
them as STATE/k8s/*.yaml + STATE/aws/*.json (the AWS CLI shapes of DESIGN.md §3), and scan them.

    state = State(tmp_path)
    role = state.irsa_role("api", "prod", "api", [allow(READ, db)])
    state.service_account("prod", "api", role)
    state.spc("prod", "api", objects("prod/db"))
    state.workload("Deployment", "prod", "api", "api", "api")
    result = run(state)
    assert triples(result) == {...}

Every name is deterministic (a secret's six-character suffix comes from its name), so the same
description always gives the same files.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import yaml

from iamscope.config import Config
from iamscope.report.scan_json import scan_document
from iamscope.scan import ScanResult, scan
from iamscope.state import load_inventory, sources

ACCOUNT = "111122223333"
OTHER_ACCOUNT = "444455556666"
REGION = "eu-west-1"
CLUSTER = "test-cluster"
ISSUER_ID = "0123456789ABCDEF0123456789ABCDEF"
ISSUER = f"oidc.eks.{REGION}.amazonaws.com/id/{ISSUER_ID}"
PROVIDER = f"arn:aws:iam::{ACCOUNT}:oidc-provider/{ISSUER}"
CLUSTER_ARN = f"arn:aws:eks:{REGION}:{ACCOUNT}:cluster/{CLUSTER}"

GET = "secretsmanager:GetSecretValue"
DESCRIBE = "secretsmanager:DescribeSecret"
GET_PARAMETERS = "ssm:GetParameters"
READ = [GET, DESCRIBE]  # what ASCP calls on a secret
CSI_DRIVER = "secrets-store.csi.k8s.io"

_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"


def role_arn(name: str, account: str = ACCOUNT) -> str:
    return f"arn:aws:iam::{account}:role/{name}"


def policy_arn(name: str) -> str:
    return f"arn:aws:iam::{ACCOUNT}:policy/{name}"


def suffix(name: str) -> str:
    """The six random characters Secrets Manager appends, made up deterministically from the name."""
    digest = hashlib.sha256(name.encode()).digest()
    return "".join(_ALPHABET[b % len(_ALPHABET)] for b in digest[:6])


def secret_arn(name: str, region: str = REGION, account: str = ACCOUNT) -> str:
    return f"arn:aws:secretsmanager:{region}:{account}:secret:{name}-{suffix(name)}"


def secret_pattern(name: str, region: str = REGION, account: str = ACCOUNT) -> str:
    """`<name>-??????`: exactly one secret, whatever its suffix."""
    return f"arn:aws:secretsmanager:{region}:{account}:secret:{name}-??????"


def parameter_arn(name: str, region: str = REGION, account: str = ACCOUNT) -> str:
    return f"arn:aws:ssm:{region}:{account}:parameter/{name.lstrip('/')}"


def key_arn(key_id: str, region: str = REGION, account: str = ACCOUNT) -> str:
    return f"arn:aws:kms:{region}:{account}:key/{key_id}"


def sa_subject(namespace: str, name: str) -> str:
    return f"system:serviceaccount:{namespace}:{name}"


def _listify(value: str | Sequence[str]) -> str | list[str]:
    return value if isinstance(value, str) else list(value)


def statement(
    effect: str,
    actions: str | Sequence[str] | None = None,
    resources: str | Sequence[str] | None = None,
    *,
    not_actions: str | Sequence[str] | None = None,
    not_resources: str | Sequence[str] | None = None,
    condition: Mapping[str, Any] | None = None,
    principal: Any = None,
    sid: str | None = None,
) -> dict[str, Any]:
    s: dict[str, Any] = {"Effect": effect}
    if sid:
        s["Sid"] = sid
    if principal is not None:
        s["Principal"] = principal
    if actions is not None:
        s["Action"] = _listify(actions)
    if not_actions is not None:
        s["NotAction"] = _listify(not_actions)
    if resources is not None:
        s["Resource"] = _listify(resources)
    if not_resources is not None:
        s["NotResource"] = _listify(not_resources)
    if condition:
        s["Condition"] = dict(condition)
    return s


def allow(actions: str | Sequence[str] | None = None, resources: Any = None, **kw: Any) -> dict[str, Any]:
    return statement("Allow", actions, resources, **kw)


def deny(actions: str | Sequence[str] | None = None, resources: Any = None, **kw: Any) -> dict[str, Any]:
    return statement("Deny", actions, resources, **kw)


def document(statements: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    return {"Version": "2012-10-17", "Statement": [dict(s) for s in statements]}


def irsa_trust_statement(namespace: str, sa: str, conditions: Mapping[str, Any] | None = None) -> dict:
    """The trust statement `iamscope generate` would write, or one with the given Condition block."""
    if conditions is None:
        conditions = {
            "StringEquals": {f"{ISSUER}:sub": sa_subject(namespace, sa), f"{ISSUER}:aud": "sts.amazonaws.com"}
        }
    return {
        "Effect": "Allow",
        "Principal": {"Federated": PROVIDER},
        "Action": "sts:AssumeRoleWithWebIdentity",
        **({"Condition": dict(conditions)} if conditions else {}),
    }


POD_IDENTITY_TRUST = {
    "Effect": "Allow",
    "Principal": {"Service": "pods.eks.amazonaws.com"},
    "Action": ["sts:AssumeRole", "sts:TagSession"],
}

EC2_TRUST = {"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}


def default_key_policy(account: str = ACCOUNT) -> dict[str, Any]:
    """The key policy KMS creates by default: the account (hence IAM) decides."""
    return document(
        [
            {
                "Sid": "Enable IAM User Permissions",
                "Effect": "Allow",
                "Principal": {"AWS": f"arn:aws:iam::{account}:root"},
                "Action": "kms:*",
                "Resource": "*",
            }
        ]
    )


def objects(*names: str, type: str = "secretsmanager") -> list[dict[str, str]]:
    """An SPC `objects` list naming each object by name."""
    return [{"objectName": n, "objectType": type} for n in names]


class State:
    """A state directory under construction. Nothing is written until write() (or run())."""

    def __init__(
        self,
        root: Path,
        *,
        cluster: bool = True,
        caller_identity: bool = True,
        iam: bool = True,
        secret_listing: bool = True,
        parameter_listing: bool = True,
        association_listing: bool | None = None,
    ) -> None:
        """Every snapshot file is written unless switched off: `iam` (iam-authorization-details.json),
        `secret_listing` / `parameter_listing` (list-secrets / describe-parameters), `cluster`
        (describe-cluster), `caller_identity`; the Pod Identity associations file is written when
        there are associations, or as `association_listing` says when it is not None."""
        self.root = root
        self.cluster = cluster
        self.caller_identity = caller_identity
        self.iam = iam
        self.secret_listing = secret_listing
        self.parameter_listing = parameter_listing
        self.association_listing = association_listing
        self.roles: list[dict[str, Any]] = []
        self.policies: list[dict[str, Any]] = []
        self.secrets: list[dict[str, Any]] = []
        self.parameters: list[dict[str, Any]] = []
        self.associations: list[dict[str, Any]] = []
        self.resource_policies: list[dict[str, Any]] = []
        self.keys: list[dict[str, Any]] = []
        self.k8s: list[dict[str, Any]] = []
        self.extra_clusters: list[dict[str, Any]] = []

    # --- AWS -----------------------------------------------------------------------------------------

    def role(
        self,
        name: str,
        statements: Sequence[Mapping[str, Any]] = (),
        *,
        trust: Sequence[Mapping[str, Any]] | None = None,
        managed: Sequence[str] = (),
        boundary: str | None = None,
        instance_profile: bool = False,
        tags: Mapping[str, str] | None = None,
    ) -> str:
        arn = role_arn(name)
        assert all(r["Arn"] != arn for r in self.roles), f"role {name} defined twice"
        entry: dict[str, Any] = {
            "Path": "/",
            "RoleName": name,
            "RoleId": "AROA" + suffix(name).upper() * 2,
            "Arn": arn,
            "AssumeRolePolicyDocument": document(trust or []),
            "RolePolicyList": (
                [{"PolicyName": f"{name}-inline", "PolicyDocument": document(statements)}]
                if statements
                else []
            ),
            "AttachedManagedPolicies": [
                {"PolicyName": p.rsplit("/", 1)[-1], "PolicyArn": p} for p in managed
            ],
            "InstanceProfileList": [],
            "Tags": [{"Key": k, "Value": v} for k, v in (tags or {}).items()],
        }
        if boundary is not None:
            entry["PermissionsBoundary"] = {
                "PermissionsBoundaryType": "Policy",
                "PermissionsBoundaryArn": boundary,
            }
        if instance_profile:
            entry["InstanceProfileList"] = [
                {
                    "Path": "/",
                    "InstanceProfileName": f"{name}-profile",
                    "InstanceProfileId": "AIPA" + suffix(name).upper() * 2,
                    "Arn": f"arn:aws:iam::{ACCOUNT}:instance-profile/{name}-profile",
                    "Roles": [],
                }
            ]
        self.roles.append(entry)
        return arn

    def irsa_role(
        self,
        name: str,
        namespace: str,
        sa: str,
        statements: Sequence[Mapping[str, Any]] = (),
        *,
        trust_conditions: Mapping[str, Any] | None = None,
        boundary: str | None = None,
        instance_profile: bool = False,
        managed: Sequence[str] = (),
        tags: Mapping[str, str] | None = None,
    ) -> str:
        """A role whose trust admits system:serviceaccount:<namespace>:<sa> from this cluster's issuer
        (StringEquals sub + aud), or whatever `trust_conditions` says ({} for no condition at all)."""
        return self.role(
            name,
            statements,
            trust=[irsa_trust_statement(namespace, sa, trust_conditions)],
            boundary=boundary,
            instance_profile=instance_profile,
            managed=managed,
            tags=tags,
        )

    def pod_identity_role(
        self,
        name: str,
        statements: Sequence[Mapping[str, Any]] = (),
        *,
        boundary: str | None = None,
        managed: Sequence[str] = (),
        tags: Mapping[str, str] | None = None,
    ) -> str:
        return self.role(
            name, statements, trust=[POD_IDENTITY_TRUST], boundary=boundary, managed=managed, tags=tags
        )

    def node_role(self, name: str, statements: Sequence[Mapping[str, Any]] = ()) -> str:
        return self.role(name, statements, trust=[EC2_TRUST], instance_profile=True)

    def managed_policy(self, name: str, statements: Sequence[Mapping[str, Any]]) -> str:
        arn = policy_arn(name)
        self.policies.append(
            {
                "PolicyName": name,
                "PolicyId": "ANPA" + suffix(name).upper() * 2,
                "Arn": arn,
                "Path": "/",
                "DefaultVersionId": "v2",
                "AttachmentCount": 1,
                "IsAttachable": True,
                "PolicyVersionList": [
                    # a non-default version that must never be used
                    {"Document": document([allow("*", "*")]), "VersionId": "v1", "IsDefaultVersion": False},
                    {"Document": document(statements), "VersionId": "v2", "IsDefaultVersion": True},
                ],
            }
        )
        return arn

    def secret(
        self,
        name: str,
        *,
        region: str = REGION,
        kms_key: str | None = None,
        tags: Mapping[str, str] | None = None,
    ) -> str:
        arn = secret_arn(name, region)
        assert all(s["ARN"] != arn for s in self.secrets), f"secret {name} defined twice"
        entry: dict[str, Any] = {"ARN": arn, "Name": name, "LastChangedDate": "2025-01-01T00:00:00+00:00"}
        if kms_key is not None:
            entry["KmsKeyId"] = kms_key
        if tags:
            entry["Tags"] = [{"Key": k, "Value": v} for k, v in tags.items()]
        self.secrets.append(entry)
        return arn

    def parameter(self, name: str, *, type: str = "String", key_id: str | None = None) -> str:
        arn = parameter_arn(name)
        entry: dict[str, Any] = {"Name": name, "ARN": arn, "Type": type, "Tier": "Standard", "Version": 1}
        if key_id is not None:
            entry["KeyId"] = key_id
        self.parameters.append(entry)
        return arn

    def association(self, namespace: str, sa: str, role: str, *, cluster: str = CLUSTER) -> str:
        arn = f"arn:aws:eks:{REGION}:{ACCOUNT}:podidentityassociation/{cluster}/a-{suffix(namespace + sa).lower()}"
        self.associations.append(
            {
                "clusterName": cluster,
                "namespace": namespace,
                "serviceAccount": sa,
                "roleArn": role,
                "associationArn": arn,
                "associationId": arn.rsplit("/", 1)[-1],
            }
        )
        return arn

    def resource_policy(self, secret: str, statements: Sequence[Mapping[str, Any]]) -> None:
        name = secret.split(":secret:", 1)[1][:-7]
        self.resource_policies.append(
            {"ARN": secret, "Name": name, "ResourcePolicy": json.dumps(document(statements))}
        )

    def kms_key(
        self,
        key_id: str,
        *,
        policy: Mapping[str, Any] | None = None,
        manager: str = "CUSTOMER",
        aliases: Sequence[str] = (),
    ) -> str:
        arn = key_arn(key_id)
        self.keys.append(
            {
                "KeyMetadata": {"AWSAccountId": ACCOUNT, "KeyId": key_id, "Arn": arn, "KeyManager": manager},
                "Policy": json.dumps(policy if policy is not None else default_key_policy()),
                "Aliases": [{"AliasName": a} for a in aliases],
            }
        )
        return arn

    def other_cluster(self, name: str, issuer: str) -> None:
        """Another EKS cluster in the snapshot (describe-cluster of it)."""
        self.extra_clusters.append(
            {
                "name": name,
                "arn": f"arn:aws:eks:{REGION}:{ACCOUNT}:cluster/{name}",
                "identity": {"oidc": {"issuer": f"https://{issuer}"}},
            }
        )

    # --- Kubernetes ----------------------------------------------------------------------------------

    def service_account(self, namespace: str, name: str, role_arn: str | None = None) -> str:
        meta: dict[str, Any] = {"name": name, "namespace": namespace}
        if role_arn is not None:
            meta["annotations"] = {"eks.amazonaws.com/role-arn": role_arn}
        self.k8s.append({"apiVersion": "v1", "kind": "ServiceAccount", "metadata": meta})
        return f"{namespace}/ServiceAccount/{name}"

    def spc(
        self,
        namespace: str,
        name: str,
        objects_yaml: str | Sequence[Mapping[str, Any]],
        *,
        provider: str = "aws",
        **parameters: str | None,
    ) -> str:
        """A SecretProviderClass; `region` defaults to REGION (pass region=None to leave it out)."""
        text = objects_yaml if isinstance(objects_yaml, str) else yaml.safe_dump(list(objects_yaml))
        params: dict[str, str] = {"objects": text}
        parameters.setdefault("region", REGION)
        params.update({k: v for k, v in parameters.items() if v is not None})
        self.k8s.append(
            {
                "apiVersion": "secrets-store.csi.x-k8s.io/v1",
                "kind": "SecretProviderClass",
                "metadata": {"name": name, "namespace": namespace},
                "spec": {"provider": provider, "parameters": params},
            }
        )
        return f"{namespace}/SecretProviderClass/{name}"

    def workload(
        self,
        kind: str,
        namespace: str,
        name: str,
        sa: str,
        spc: str | None = None,
        *,
        volume_attributes: Mapping[str, str] | None = None,
    ) -> str:
        """A workload running as `sa`, mounting SPC `spc` (a name in its namespace) when given."""
        pod_spec: dict[str, Any] = {
            "serviceAccountName": sa,
            "containers": [{"name": "app", "image": "registry.example/app:1"}],
        }
        if spc is not None or volume_attributes:
            attributes = {"secretProviderClass": spc} if spc is not None else {}
            attributes.update(volume_attributes or {})
            pod_spec["containers"][0]["volumeMounts"] = [
                {"name": "secrets", "mountPath": "/mnt/secrets", "readOnly": True}
            ]
            pod_spec["volumes"] = [
                {
                    "name": "secrets",
                    "csi": {"driver": CSI_DRIVER, "readOnly": True, "volumeAttributes": attributes},
                }
            ]
        meta = {"name": name, "namespace": namespace}
        template = {"metadata": {"labels": {"app": name}}, "spec": pod_spec}
        if kind == "Pod":
            obj = {"apiVersion": "v1", "kind": "Pod", "metadata": meta, "spec": pod_spec}
        elif kind == "CronJob":
            obj = {
                "apiVersion": "batch/v1",
                "kind": "CronJob",
                "metadata": meta,
                "spec": {"schedule": "0 3 * * *", "jobTemplate": {"spec": {"template": template}}},
            }
        elif kind == "Job":
            obj = {"apiVersion": "batch/v1", "kind": "Job", "metadata": meta, "spec": {"template": template}}
        else:
            obj = {
                "apiVersion": "apps/v1",
                "kind": kind,
                "metadata": meta,
                "spec": {"selector": {"matchLabels": {"app": name}}, "template": template},
            }
        self.k8s.append(obj)
        return f"{namespace}/{kind}/{name}"

    # --- output --------------------------------------------------------------------------------------

    def write(self) -> Path:
        k8s, aws = self.root / "k8s", self.root / "aws"
        k8s.mkdir(parents=True, exist_ok=True)
        aws.mkdir(parents=True, exist_ok=True)
        (k8s / "objects.yaml").write_text(yaml.safe_dump_all(self.k8s, sort_keys=False))

        def dump(name: str, data: Any) -> None:
            (aws / name).write_text(json.dumps(data, indent=2))

        if self.iam:
            dump(
                "iam-authorization-details.json",
                {
                    "UserDetailList": [],
                    "GroupDetailList": [],
                    "RoleDetailList": self.roles,
                    "Policies": self.policies,
                },
            )
        if self.secret_listing:
            dump(f"secretsmanager-list-secrets-{REGION}.json", {"SecretList": self.secrets})
        if self.parameter_listing:
            dump(f"ssm-describe-parameters-{REGION}.json", {"Parameters": self.parameters})
        if self.cluster:
            dump(
                f"eks-describe-cluster-{CLUSTER}.json",
                {
                    "cluster": {
                        "name": CLUSTER,
                        "arn": CLUSTER_ARN,
                        "version": "1.31",
                        "identity": {"oidc": {"issuer": f"https://{ISSUER}"}},
                        "status": "ACTIVE",
                    }
                },
            )
        for c in self.extra_clusters:
            dump(f"eks-describe-cluster-{c['name']}.json", {"cluster": c})
        listing = bool(self.associations) if self.association_listing is None else self.association_listing
        if listing:
            dump("eks-pod-identity-associations.json", {"associations": self.associations})
        if self.caller_identity:
            dump(
                "sts-get-caller-identity.json",
                {
                    "UserId": "AROAEXAMPLE:iamscope",
                    "Account": ACCOUNT,
                    "Arn": f"arn:aws:sts::{ACCOUNT}:assumed-role/iamscope/iamscope",
                },
            )
        if self.resource_policies:
            dump("secretsmanager-resource-policies.json", {"ResourcePolicies": self.resource_policies})
        if self.keys:
            dump("kms-keys.json", {"Keys": self.keys})
        return self.root


def run(state: State | Path, config: Config | None = None) -> ScanResult:
    """Write the state (when given a State) and scan it as `iamscope scan STATE` would."""
    root = state.write() if isinstance(state, State) else state
    inventory = load_inventory(sources(root, (), None))
    return scan(inventory, config or Config())


def pairs(result: ScanResult) -> set[tuple[str, str]]:
    return {(f.rule, f.subject) for f in result.findings}


def triples(result: ScanResult) -> set[tuple[str, str, str]]:
    return {(f.rule, f.subject, f.severity) for f in result.findings}


def only(result: ScanResult, rule: str, subject: str | None = None) -> Any:
    """The one finding of `rule` (on `subject`); fails when there is not exactly one."""
    found = [f for f in result.findings if f.rule == rule and (subject is None or f.subject == subject)]
    assert len(found) == 1, [(f.rule, f.subject) for f in result.findings]
    return found[0]


def access(result: ScanResult, service_account: str) -> dict[str, Any]:
    """The `access` entry of scan --format json for one service account."""
    entries = [a for a in scan_document(result)["access"] if a["service_account"] == service_account]
    assert len(entries) == 1, [a["service_account"] for a in scan_document(result)["access"]]
    return entries[0]


def grants(result: ScanResult, service_account: str) -> dict[tuple[str, str], dict[str, Any]]:
    """The SA's grants keyed by (resource, via), each without those two keys and the evidence
    (`statements`, `wildcard`: see grant_evidence)."""
    out = {}
    for g in access(result, service_account)["grants"]:
        key = (g["resource"], g["via"])
        assert key not in out or "statement" in g, f"duplicate grant {key}"
        out.setdefault(
            key, {k: v for k, v in g.items() if k not in ("resource", "via", "statements", "wildcard")}
        )
    return out


def grant_evidence(result: ScanResult, service_account: str) -> dict[tuple[str, str], tuple[bool, list[str]]]:
    """(resource, via) → (granted through a wildcard statement, the statements that grant it)."""
    return {
        (g["resource"], g["via"]): (g.get("wildcard", False), g["statements"])
        for g in access(result, service_account)["grants"]
        if "statement" not in g
    }
