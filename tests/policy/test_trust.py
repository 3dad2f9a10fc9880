"""Role trust policies decided with the same engine: IRSA and EKS Pod Identity, as DESIGN.md §4
states them (IAM User Guide, "Creating a role for OIDC federation"; EKS User Guide, "Assign IAM
roles to Kubernetes service accounts" and "Pod Identity")."""

from __future__ import annotations

from typing import Any

import pytest

from iamscope.errors import UsageError
from iamscope.policy import analyse, evaluate

ACCOUNT = "111122223333"
ISSUER = "oidc.eks.eu-west-1.amazonaws.com/id/5C5D6E7F8A9B0C1D2E3F4A5B6C7D8E9F"
PROVIDER = f"arn:aws:iam::{ACCOUNT}:oidc-provider/{ISSUER}"
ROLE = f"arn:aws:iam::{ACCOUNT}:role/prod-payments-api"
WEB_IDENTITY = "sts:AssumeRoleWithWebIdentity"


def irsa(operator: str, conditions: dict[str, Any] | None) -> dict[str, Any]:
    statement: dict[str, Any] = {
        "Effect": "Allow",
        "Principal": {"Federated": PROVIDER},
        "Action": WEB_IDENTITY,
    }
    if conditions is not None:
        statement["Condition"] = {operator: conditions}
    return {"Version": "2012-10-17", "Statement": [statement]}


def token(namespace: str, service_account: str, audience: str = "sts.amazonaws.com") -> dict[str, str]:
    return {
        f"{ISSUER}:sub": f"system:serviceaccount:{namespace}:{service_account}",
        f"{ISSUER}:aud": audience,
    }


def assume(
    trust: dict[str, Any], context: dict[str, str], principal: str = PROVIDER, action: str = WEB_IDENTITY
) -> str:
    return evaluate([], action, ROLE, context, resource_policy=trust, principal=principal).effect


EXACT = irsa(
    "StringEquals",
    {f"{ISSUER}:sub": "system:serviceaccount:prod:payments-api", f"{ISSUER}:aud": "sts.amazonaws.com"},
)

CASES = [
    ("exact sub and aud admit the named service account", EXACT, token("prod", "payments-api"), "Allow"),
    ("exact sub refuses another service account", EXACT, token("prod", "orders-api"), "ImplicitDeny"),
    ("exact sub refuses the same name in another namespace", EXACT, token("staging", "payments-api"), "ImplicitDeny"),
    ("aud other than sts.amazonaws.com is refused", EXACT, token("prod", "payments-api", "vault"), "ImplicitDeny"),
    ("StringEquals with * never matches: * is literal there", irsa("StringEquals", {f"{ISSUER}:sub": "system:serviceaccount:prod:*"}), token("prod", "payments-api"), "ImplicitDeny"),
    ("StringLike with * admits every SA of the namespace", irsa("StringLike", {f"{ISSUER}:sub": "system:serviceaccount:prod:*"}), token("prod", "anything"), "Allow"),
    ("no sub condition admits every SA of the cluster", irsa("StringEquals", {f"{ISSUER}:aud": "sts.amazonaws.com"}), token("kube-system", "default"), "Allow"),
    ("no condition at all admits every token of the provider", irsa("StringEquals", None), token("any", "one"), "Allow"),
    ("condition keys are case-insensitive, values are not", irsa("StringEquals", {f"{ISSUER.upper()}:SUB": "system:serviceaccount:prod:payments-api"}), token("prod", "payments-api"), "Allow"),
]  # fmt: skip


@pytest.mark.parametrize(("trust", "context", "effect"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_irsa_trust(trust: dict[str, Any], context: dict[str, str], effect: str) -> None:
    assert assume(trust, context) == effect


def test_irsa_trust_refuses_another_provider() -> None:
    other = PROVIDER.replace("5C5D", "0000")
    assert assume(EXACT, token("prod", "payments-api"), principal=other) == "ImplicitDeny"


def test_irsa_trust_is_for_web_identity_only() -> None:
    assert assume(EXACT, token("prod", "payments-api"), action="sts:AssumeRole") == "ImplicitDeny"


def test_irsa_trust_with_unknown_token_is_conditional_on_sub_and_aud() -> None:
    result = analyse([], WEB_IDENTITY, ROLE, resource_policy=EXACT, principal=PROVIDER)
    assert result.outcome == "conditional"
    assert result.keys == (f"{ISSUER}:aud".lower(), f"{ISSUER}:sub".lower())


POD_IDENTITY = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Allow",
            "Principal": {"Service": "pods.eks.amazonaws.com"},
            "Action": ["sts:AssumeRole", "sts:TagSession"],
            "Condition": {
                "StringEquals": {
                    "aws:RequestTag/kubernetes-namespace": "prod",
                    "aws:RequestTag/kubernetes-service-account": "payments-api",
                }
            },
        }
    ],
}


@pytest.mark.parametrize(
    ("principal", "action", "tags", "effect"),
    [
        ("pods.eks.amazonaws.com", "sts:AssumeRole", ("prod", "payments-api"), "Allow"),
        ("pods.eks.amazonaws.com", "sts:TagSession", ("prod", "payments-api"), "Allow"),
        ("pods.eks.amazonaws.com", "sts:AssumeRole", ("prod", "orders-api"), "ImplicitDeny"),
        ("eks.amazonaws.com", "sts:AssumeRole", ("prod", "payments-api"), "ImplicitDeny"),
    ],
    ids=[
        "pod identity assumes",
        "pod identity tags the session",
        "session tags of another SA",
        "another service",
    ],
)
def test_pod_identity_trust(principal: str, action: str, tags: tuple[str, str], effect: str) -> None:
    context = {
        "aws:RequestTag/kubernetes-namespace": tags[0],
        "aws:RequestTag/kubernetes-service-account": tags[1],
    }
    assert (
        evaluate([], action, ROLE, context, resource_policy=POD_IDENTITY, principal=principal).effect
        == effect
    )


def test_evaluate_refuses_to_guess_the_caller_of_a_resource_policy() -> None:
    # A Deny aimed at a named principal must not be dropped because nobody said who calls.
    with pytest.raises(UsageError, match="names principals: give the caller's ARN"):
        evaluate([], WEB_IDENTITY, ROLE, token("prod", "payments-api"), resource_policy=EXACT)


def test_principal_can_come_from_the_context() -> None:
    context = {**token("prod", "payments-api"), "aws:PrincipalArn": PROVIDER}
    assert evaluate([], WEB_IDENTITY, ROLE, context, resource_policy=EXACT).effect == "Allow"


# IAM User Guide, "How IAM roles differ from resource-based policies": to assume a role, its trust
# policy must allow the caller even within one account; a trust naming the account delegates to the
# caller's own policies, which must then allow it too. (analyse(..., role_trust=True))
CALLER = f"arn:aws:iam::{ACCOUNT}:role/hop"
ALLOW_ASSUME = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": ROLE}],
}


def trust_naming(principal: str) -> dict[str, Any]:
    return {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": {"AWS": principal}, "Action": "sts:AssumeRole"}],
    }


ROLE_TRUST_CASES = [
    ("identity allows, trust names someone else: denied", [ALLOW_ASSUME], trust_naming(f"arn:aws:iam::{ACCOUNT}:role/other"), "denied"),
    ("trust names the caller's role: allowed without an identity policy", [], trust_naming(CALLER), "allowed"),
    ("trust names the account, identity allows: allowed", [ALLOW_ASSUME], trust_naming(f"arn:aws:iam::{ACCOUNT}:root"), "allowed"),
    ("trust names the account, no identity allow: denied", [], trust_naming(f"arn:aws:iam::{ACCOUNT}:root"), "denied"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("documents", "trust", "expected"),
    [c[1:] for c in ROLE_TRUST_CASES],
    ids=[c[0] for c in ROLE_TRUST_CASES],
)
def test_role_trust_must_allow_itself(
    documents: list[dict[str, Any]], trust: dict[str, Any], expected: str
) -> None:
    result = analyse(
        documents, "sts:AssumeRole", ROLE, resource_policy=trust, principal=CALLER, role_trust=True
    )
    assert result.outcome == expected


def test_without_role_trust_an_identity_allow_suffices_in_the_account() -> None:
    # the ordinary resource-policy rule, for contrast
    trust = trust_naming(f"arn:aws:iam::{ACCOUNT}:role/other")
    assert (
        analyse([ALLOW_ASSUME], "sts:AssumeRole", ROLE, resource_policy=trust, principal=CALLER).outcome
        == "allowed"
    )
