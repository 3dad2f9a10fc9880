"""The two IAM documents of each generated role, exactly as `terraform/main.tf` builds them from the
same ARN lists (a test plans the module and compares): the identity policy granting what ASCP
calls on exactly the declared objects, and the trust policy admitting exactly one service account.
Statement order, Sids and sorted lists are part of the contract: the files are byte-stable."""

from __future__ import annotations

from typing import Any

from iamscope.generate.plan import GeneratePlan, RolePlan
from iamscope.policy.arn import try_parse_arn

VERSION = "2012-10-17"
# what ASCP calls (DESIGN.md §4): GetSecretValue to mount, DescribeSecret on every rotation check
SECRET_ACTIONS = ("secretsmanager:DescribeSecret", "secretsmanager:GetSecretValue")
PARAMETER_ACTIONS = ("ssm:GetParameters",)
POD_IDENTITY_SERVICE = "pods.eks.amazonaws.com"
IRSA_AUDIENCE = "sts.amazonaws.com"


def _via_services(service: str, key_arns: tuple[str, ...]) -> list[str]:
    """A key decrypts for a service in the key's own region (keys are regional; a secret's key is in
    the secret's region)."""
    regions = {p.region for arn in key_arns if (p := try_parse_arn(arn)) is not None}
    return sorted(f"{service}.{region}.amazonaws.com" for region in regions)


def _decrypt(sid: str, service: str, key_arns: tuple[str, ...]) -> dict[str, Any]:
    return {
        "Sid": sid,
        "Effect": "Allow",
        "Action": ["kms:Decrypt"],
        "Resource": list(key_arns),
        "Condition": {"StringEquals": {"kms:ViaService": _via_services(service, key_arns)}},
    }


def identity_policy(role: RolePlan) -> dict[str, Any]:
    statements: list[dict[str, Any]] = []
    if role.secret_arns:
        statements.append(
            {
                "Sid": "ReadSecrets",
                "Effect": "Allow",
                "Action": list(SECRET_ACTIONS),
                "Resource": list(role.secret_arns),
            }
        )
    if role.parameter_arns:
        statements.append(
            {
                "Sid": "ReadParameters",
                "Effect": "Allow",
                "Action": list(PARAMETER_ACTIONS),
                "Resource": list(role.parameter_arns),
            }
        )
    if role.secret_key_arns:
        statements.append(_decrypt("DecryptSecrets", "secretsmanager", role.secret_key_arns))
    if role.parameter_key_arns:
        statements.append(_decrypt("DecryptParameters", "ssm", role.parameter_key_arns))
    return {"Version": VERSION, "Statement": statements}


def irsa_statement(role: RolePlan, plan: GeneratePlan) -> dict[str, Any]:
    issuer = plan.oidc_issuer
    return {
        "Sid": "ServiceAccountIrsa",
        "Effect": "Allow",
        "Principal": {"Federated": plan.oidc_provider_arn},
        "Action": ["sts:AssumeRoleWithWebIdentity"],
        "Condition": {
            "StringEquals": {
                f"{issuer}:aud": IRSA_AUDIENCE,
                f"{issuer}:sub": f"system:serviceaccount:{role.namespace}:{role.service_account}",
            }
        },
    }


def pod_identity_statement(role: RolePlan, plan: GeneratePlan) -> dict[str, Any]:
    """EKS Pod Identity assumes the role with session tags naming the cluster, namespace and
    service account; conditions on them keep every other association from using the role."""
    return {
        "Sid": "ServiceAccountPodIdentity",
        "Effect": "Allow",
        "Principal": {"Service": POD_IDENTITY_SERVICE},
        "Action": ["sts:AssumeRole", "sts:TagSession"],
        "Condition": {
            "StringEquals": {
                "aws:RequestTag/eks-cluster-arn": plan.cluster_arn,
                "aws:RequestTag/kubernetes-namespace": role.namespace,
                "aws:RequestTag/kubernetes-service-account": role.service_account,
            }
        },
    }


def trust_policy(role: RolePlan, plan: GeneratePlan) -> dict[str, Any]:
    statements = []
    if role.irsa:
        statements.append(irsa_statement(role, plan))
    if role.pod_identity:
        statements.append(pod_identity_statement(role, plan))
    return {"Version": VERSION, "Statement": statements}
