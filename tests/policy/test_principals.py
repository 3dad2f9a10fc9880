"""Who calls, and how a resource policy's principals combine with the caller's boundary (IAM User
Guide: Policy evaluation logic; IAM JSON policy elements: Principal and NotPrincipal; AWS global
condition context keys). Each row quotes the rule it checks."""

from __future__ import annotations

from typing import Any

import pytest

from iamscope.errors import PolicyError
from iamscope.policy import analyse, evaluate, parse_policy

ACCOUNT = "111122223333"
SECRET = f"arn:aws:secretsmanager:us-east-1:{ACCOUNT}:secret:app/db-AbCdEf"
GET = "secretsmanager:GetSecretValue"
ROLE = f"arn:aws:iam::{ACCOUNT}:role/app"
PATHED_ROLE = f"arn:aws:iam::{ACCOUNT}:role/team/app"
SESSION = f"arn:aws:sts::{ACCOUNT}:assumed-role/app/s1"
USER = f"arn:aws:iam::{ACCOUNT}:user/bob"
FEDERATED_USER = f"arn:aws:sts::{ACCOUNT}:federated-user/bob"
OTHER_ROLE = "arn:aws:iam::444455556666:role/reader"

ALLOW_GET = {"Version": "2012-10-17", "Statement": {"Effect": "Allow", "Action": GET, "Resource": "*"}}
BOUNDARY_SSM_ONLY = {
    "Version": "2012-10-17",
    "Statement": {"Effect": "Allow", "Action": "ssm:*", "Resource": "*"},
}
BOUNDARY_SM = {
    "Version": "2012-10-17",
    "Statement": {"Effect": "Allow", "Action": "secretsmanager:*", "Resource": "*"},
}


def resource_policy(
    effect: str, principal_element: str, principal: Any, condition: Any = None
) -> dict[str, Any]:
    statement: dict[str, Any] = {
        "Effect": effect,
        principal_element: principal,
        "Action": GET,
        "Resource": "*",
    }
    if condition:
        statement["Condition"] = condition
    return {"Version": "2012-10-17", "Statement": [statement]}


EVAL = "reference_policies_evaluation-logic"
NOTPRINCIPAL = "reference_policies_elements_notprincipal"
KEYS = "reference_policies_condition-keys"

CASES = [
    ("grant to a user ARN is not limited by the user's boundary", f"{EVAL}: resource-based policies that grant permissions to an IAM user ARN are not limited by an implicit deny in a permissions boundary",
     [], BOUNDARY_SSM_ONLY, resource_policy("Allow", "Principal", {"AWS": USER}), USER, "Allow"),
    ("grant to a federated-user session is not limited", f"{EVAL}: permissions granted directly to a session are not limited by an implicit deny in a permissions boundary",
     [], BOUNDARY_SSM_ONLY, resource_policy("Allow", "Principal", {"AWS": FEDERATED_USER}), FEDERATED_USER, "Allow"),
    ("grant to the role ARN is limited by the role's boundary", f"{EVAL}: an implicit deny in a permissions boundary limits a grant to the IAM role ARN",
     [], BOUNDARY_SSM_ONLY, resource_policy("Allow", "Principal", {"AWS": ROLE}), SESSION, "ImplicitDeny"),
    ("grant to a pathed role ARN covers its sessions", f"{EVAL}: a role ARN principal covers the role's sessions; the session ARN omits the role path",
     [], None, resource_policy("Allow", "Principal", {"AWS": PATHED_ROLE}), SESSION, "Allow"),
    ("NotPrincipal Deny always denies a principal with a boundary", f"{NOTPRINCIPAL}: NotPrincipal with Deny always denies any IAM principal that has a permissions boundary attached, regardless of the values listed",
     [ALLOW_GET], BOUNDARY_SM, resource_policy("Deny", "NotPrincipal", {"AWS": [SESSION, ROLE, f"arn:aws:iam::{ACCOUNT}:root"]}), SESSION, "ExplicitDeny"),
    ("NotPrincipal Deny exempts the listed session without a boundary", f"{NOTPRINCIPAL}: the Deny applies to every principal except those listed",
     [ALLOW_GET], None, resource_policy("Deny", "NotPrincipal", {"AWS": [SESSION, ROLE, f"arn:aws:iam::{ACCOUNT}:root"]}), SESSION, "Allow"),
    ("aws:PrincipalAccount comes from the caller", f"{KEYS}: aws:PrincipalAccount is always included in the request context",
     [ALLOW_GET], None, resource_policy("Deny", "Principal", "*", {"StringNotEquals": {"aws:PrincipalAccount": ACCOUNT}}), SESSION, "Allow"),
    ("aws:PrincipalArn of a session is its role's ARN", f"{KEYS}: for IAM roles aws:PrincipalArn is the ARN of the role, not of the session",
     [ALLOW_GET], None, resource_policy("Deny", "Principal", "*", {"ArnNotEquals": {"aws:PrincipalArn": ROLE}}), SESSION, "Allow"),
    ("Principal * with aws:PrincipalArn grants past the boundary", f"{EVAL}: permissions boundaries do not limit permissions granted using aws:PrincipalArn with a wildcard Principal",
     [], BOUNDARY_SSM_ONLY, resource_policy("Allow", "Principal", "*", {"ArnEquals": {"aws:PrincipalArn": ROLE}}), SESSION, "Allow"),
    ("Principal * with aws:PrincipalArn does not reach another role", f"{KEYS}: aws:PrincipalArn is the caller's role ARN",
     [], None, resource_policy("Allow", "Principal", "*", {"ArnEquals": {"aws:PrincipalArn": ROLE}}), f"arn:aws:sts::{ACCOUNT}:assumed-role/other/s1", "ImplicitDeny"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("documents", "boundary", "policy", "principal", "effect"),
    [c[2:] for c in CASES],
    ids=[c[0] for c in CASES],
)
def test_principals(
    documents: list[dict[str, Any]], boundary: Any, policy: dict[str, Any], principal: str, effect: str
) -> None:
    assert (
        evaluate(
            documents, GET, SECRET, boundary=boundary, resource_policy=policy, principal=principal
        ).effect
        == effect
    )


def test_explicit_context_wins_over_the_derived_principal_keys() -> None:
    # A role with a path: the caller can state the exact aws:PrincipalArn the session ARN cannot show.
    policy = resource_policy("Deny", "Principal", "*", {"ArnNotEquals": {"aws:PrincipalArn": PATHED_ROLE}})
    context = {"aws:PrincipalArn": PATHED_ROLE}
    assert (
        evaluate([ALLOW_GET], GET, SECRET, context, resource_policy=policy, principal=SESSION).effect
        == "Allow"
    )
    assert (
        evaluate([ALLOW_GET], GET, SECRET, resource_policy=policy, principal=SESSION).effect == "ExplicitDeny"
    )


@pytest.mark.parametrize(
    ("statement", "kind", "message"),
    [
        (
            {"Effect": "Allow", "NotPrincipal": {"AWS": ROLE}, "Action": GET},
            "resource",
            "NotPrincipal is supported only with Effect Deny",
        ),
        (
            {"Effect": "Deny", "NotPrincipal": {"AWS": ROLE}, "Action": "sts:AssumeRole"},
            "trust",
            "a role trust policy cannot use NotPrincipal",
        ),
    ],
    ids=["NotPrincipal with Allow", "NotPrincipal in a trust policy"],
)
def test_notprincipal_where_aws_refuses_it(statement: dict[str, Any], kind: str, message: str) -> None:
    # NOTPRINCIPAL: "NotPrincipal must be used with Effect Deny"; not in a role trust policy.
    with pytest.raises(PolicyError, match=message):
        parse_policy({"Statement": [statement]}, kind=kind)


def test_unknown_caller_session_grant_is_not_limited_by_the_boundary() -> None:
    # EVAL: a grant to the session ARN is not limited by the boundary, so an unknown caller who may be
    # that session is allowed under that condition, not denied.
    policy = resource_policy("Allow", "Principal", {"AWS": SESSION})
    result = analyse([], GET, SECRET, boundary=BOUNDARY_SSM_ONLY, resource_policy=policy)
    assert result.outcome == "conditional"
    assert result.keys == ("aws:principalarn",)
    assert evaluate(
        [], GET, SECRET, boundary=BOUNDARY_SSM_ONLY, resource_policy=policy, principal=SESSION
    ).allowed


def test_unknown_caller_role_grant_stays_limited_by_the_boundary() -> None:
    policy = resource_policy("Allow", "Principal", {"AWS": ROLE})
    assert analyse([], GET, SECRET, boundary=BOUNDARY_SSM_ONLY, resource_policy=policy).outcome == "denied"


def test_unknown_caller_assumption_is_stated() -> None:
    result = analyse([ALLOW_GET], GET, SECRET)
    assert result.outcome == "allowed"
    assert result.assumptions == (f"the caller is in account {ACCOUNT}, the resource's",)
    assert str(result) == f"allowed (assuming the caller is in account {ACCOUNT}, the resource's)"
    cross = analyse([ALLOW_GET], GET, SECRET, principal=OTHER_ROLE)
    assert cross.outcome == "denied"
    assert cross.assumptions == ()


def test_evidence_order_does_not_depend_on_document_order() -> None:
    a = {
        "Version": "2012-10-17",
        "Statement": {"Sid": "A", "Effect": "Allow", "Action": GET, "Resource": "*"},
    }
    b = {
        "Version": "2012-10-17",
        "Statement": {"Sid": "B", "Effect": "Allow", "Action": "secretsmanager:*", "Resource": "*"},
    }
    docs_ab = [parse_policy(a, name="a"), parse_policy(b, name="b")]
    assert evaluate(docs_ab, GET, SECRET).statements == evaluate(docs_ab[::-1], GET, SECRET).statements
