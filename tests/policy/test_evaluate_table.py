"""Table-driven checks of `iamscope.policy.evaluate`, written from AWS's documented evaluation logic.

Each row names the IAM User Guide page it comes from and paraphrases the rule. Rows whose expected
answer rests on a reading of the documentation that is not spelled out say "ambiguous" in their rule.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from iamscope.errors import PolicyError
from iamscope.policy import evaluate, parse_policy

ACCOUNT = "111122223333"
OTHER_ACCOUNT = "444455556666"
ROLE = f"arn:aws:iam::{ACCOUNT}:role/app"
OTHER_ROLE = f"arn:aws:iam::{ACCOUNT}:role/other"
SESSION = f"arn:aws:sts::{ACCOUNT}:assumed-role/app/session"
ROOT = f"arn:aws:iam::{ACCOUNT}:root"
X_ROLE = f"arn:aws:iam::{OTHER_ACCOUNT}:role/reader"
X_SESSION = f"arn:aws:sts::{OTHER_ACCOUNT}:assumed-role/reader/s1"

SECRETS = f"arn:aws:secretsmanager:us-east-1:{ACCOUNT}:secret:"
SECRET = SECRETS + "app/db-AbCdEf"
OTHER_SECRET = SECRETS + "app/cache-AbCdEf"
PROD_SECRET = SECRETS + "prod/db-AbCdEf"

GET = "secretsmanager:GetSecretValue"
DESCRIBE = "secretsmanager:DescribeSecret"
LIST = "secretsmanager:ListSecrets"

ALLOW, EXPLICIT, IMPLICIT = "Allow", "ExplicitDeny", "ImplicitDeny"

EVAL = "reference_policies_evaluation-logic"
BOUNDARIES = "access_policies_boundaries"
CROSS = "reference_policies_evaluation-logic-cross-account"
PRINCIPAL = "reference_policies_elements_principal"
VARS = "reference_policies_variables"


def stmt(effect: str, action: Any = None, resource: Any = None, **extra: Any) -> dict[str, Any]:
    """One statement; `extra` carries the other elements under their JSON names (Condition, Sid...)."""
    body: dict[str, Any] = {"Effect": effect}
    if action is not None:
        body["Action"] = action
    if resource is not None:
        body["Resource"] = resource
    body.update(extra)
    return body


def doc(*statements: dict[str, Any], version: str | None = "2012-10-17") -> dict[str, Any]:
    body: dict[str, Any] = {"Statement": list(statements)}
    if version is not None:
        body["Version"] = version
    return body


def grant(principal: Any, effect: str = "Allow", action: Any = GET, **extra: Any) -> dict[str, Any]:
    """A resource policy (the secret's) with one statement for `principal`."""
    return doc(stmt(effect, action, "*", Principal=principal, **extra))


@dataclass(frozen=True)
class Case:
    id: str
    rule: str
    documents: tuple[dict[str, Any], ...]
    action: str
    resource: str
    expected: str
    context: dict[str, Any] | None = None
    boundary: dict[str, Any] | None = None
    resource_policy: dict[str, Any] | None = None
    principal: str | None = None


ALLOW_GET_SECRET = doc(stmt("Allow", GET, SECRET))
ALLOW_ALL = doc(stmt("Allow", "*", "*"))

PRECEDENCE = [
    Case(
        "no-policy-implicit-deny",
        f"{EVAL}: by default all requests are implicitly denied",
        (),
        GET,
        SECRET,
        IMPLICIT,
    ),
    Case(
        "single-allow",
        f"{EVAL}: a request explicitly allowed by an identity-based policy is allowed",
        (ALLOW_GET_SECRET,),
        GET,
        SECRET,
        ALLOW,
    ),
    Case(
        "allow-other-action",
        f"{EVAL}: an allow for another action leaves the request implicitly denied",
        (doc(stmt("Allow", DESCRIBE, SECRET)),),
        GET,
        SECRET,
        IMPLICIT,
    ),
    Case(
        "allow-other-resource",
        f"{EVAL}: an allow for another resource leaves the request implicitly denied",
        (doc(stmt("Allow", GET, OTHER_SECRET)),),
        GET,
        SECRET,
        IMPLICIT,
    ),
    Case(
        "deny-beats-allow-same-document",
        f"{EVAL}: an explicit deny in any policy overrides any allow",
        (doc(stmt("Allow", GET, SECRET), stmt("Deny", GET, SECRET)),),
        GET,
        SECRET,
        EXPLICIT,
    ),
    Case(
        "deny-beats-allow-across-documents",
        f"{EVAL}: an explicit deny in one policy overrides an allow in another policy",
        (ALLOW_ALL, doc(stmt("Deny", "secretsmanager:*", SECRETS + "app/*"))),
        GET,
        SECRET,
        EXPLICIT,
    ),
    Case(
        "deny-alone-is-explicit",
        f"{EVAL}: a matching Deny gives an explicit deny even with no allow at all",
        (doc(stmt("Deny", GET, SECRET)),),
        GET,
        SECRET,
        EXPLICIT,
    ),
    Case(
        "deny-other-resource-does-not-apply",
        f"{EVAL}: a Deny only applies to the resources it names",
        (ALLOW_ALL, doc(stmt("Deny", GET, PROD_SECRET))),
        GET,
        SECRET,
        ALLOW,
    ),
    Case(
        "allow-in-second-document",
        f"{EVAL}: all identity policies are evaluated; one allow in any of them is enough",
        (doc(stmt("Allow", DESCRIBE, SECRET)), ALLOW_GET_SECRET),
        GET,
        SECRET,
        ALLOW,
    ),
    Case(
        "action-and-resource-lists",
        "reference_policies_elements_action: Action and Resource take lists; any entry may match",
        (doc(stmt("Allow", [DESCRIBE, GET], [OTHER_SECRET, SECRET])),),
        GET,
        SECRET,
        ALLOW,
    ),
    Case(
        "statement-as-single-object",
        "reference_policies_elements_statement: Statement may be a single object instead of an array",
        ({"Version": "2012-10-17", "Statement": stmt("Allow", GET, SECRET)},),
        GET,
        SECRET,
        ALLOW,
    ),
    Case(
        "action-case-insensitive",
        "reference_policies_elements_action: prefix and action name are case insensitive",
        (doc(stmt("Allow", "SecretsManager:getsecretvalue", SECRET)),),
        GET,
        SECRET,
        ALLOW,
    ),
    Case(
        "resource-case-sensitive",
        "reference_policies_elements_resource: resource names are case sensitive (App/ is not app/)",
        (doc(stmt("Allow", GET, SECRETS + "App/db-??????")),),
        GET,
        SECRET,
        IMPLICIT,
    ),
    Case(
        "secret-suffix-pattern",
        "reference_policies_elements_resource: ? is one character; name-?????? covers the secret",
        (doc(stmt("Allow", GET, SECRETS + "app/db-??????")),),
        GET,
        SECRET,
        ALLOW,
    ),
    Case(
        "secret-suffix-pattern-excludes-longer-name",
        "reference_policies_elements_resource: name-?????? does not cover name-other-xxxxxx",
        (doc(stmt("Allow", GET, SECRETS + "app/db-??????")),),
        GET,
        SECRETS + "app/db-other-AbCdEf",
        IMPLICIT,
    ),
]

NOT_ELEMENTS = [
    Case(
        "notaction-allow-covers-other-actions",
        "reference_policies_elements_notaction: Allow with NotAction allows every action except those listed",
        (doc(stmt("Allow", None, "*", NotAction="iam:*")),),
        GET,
        SECRET,
        ALLOW,
    ),
    Case(
        "notaction-allow-excludes-listed-action",
        "reference_policies_elements_notaction: Allow with NotAction does not allow the listed actions",
        (doc(stmt("Allow", None, "*", NotAction="iam:*")),),
        "iam:CreateUser",
        "*",
        IMPLICIT,
    ),
    Case(
        "notaction-allow-still-bound-by-resource",
        "reference_policies_elements_notaction: NotAction with a Resource applies only to that resource",
        (doc(stmt("Allow", None, SECRET, NotAction="secretsmanager:DeleteSecret")),),
        GET,
        OTHER_SECRET,
        IMPLICIT,
    ),
    Case(
        "notaction-deny-denies-other-actions",
        "reference_policies_elements_notaction: Deny with NotAction denies every action except those listed",
        (ALLOW_ALL, doc(stmt("Deny", None, "*", NotAction=[DESCRIBE]))),
        GET,
        SECRET,
        EXPLICIT,
    ),
    Case(
        "notaction-deny-spares-listed-action",
        "reference_policies_elements_notaction: Deny with NotAction does not deny the listed actions",
        (ALLOW_ALL, doc(stmt("Deny", None, "*", NotAction=[DESCRIBE]))),
        DESCRIBE,
        SECRET,
        ALLOW,
    ),
    Case(
        "notresource-allow-other-resource",
        "reference_policies_elements_notresource: Allow with NotResource allows every resource except "
        "those listed",
        (doc(stmt("Allow", GET, None, NotResource=SECRETS + "prod/*")),),
        GET,
        SECRET,
        ALLOW,
    ),
    Case(
        "notresource-allow-excludes-listed",
        "reference_policies_elements_notresource: Allow with NotResource does not allow the listed resources",
        (doc(stmt("Allow", GET, None, NotResource=SECRETS + "prod/*")),),
        GET,
        PROD_SECRET,
        IMPLICIT,
    ),
    Case(
        "notresource-deny-other-resource",
        "reference_policies_elements_notresource: Deny with NotResource denies every resource except "
        "those listed",
        (ALLOW_ALL, doc(stmt("Deny", GET, None, NotResource=[SECRET]))),
        GET,
        OTHER_SECRET,
        EXPLICIT,
    ),
    Case(
        "notresource-deny-spares-listed",
        "reference_policies_elements_notresource: Deny with NotResource does not deny the listed resources",
        (ALLOW_ALL, doc(stmt("Deny", GET, None, NotResource=[SECRET]))),
        GET,
        SECRET,
        ALLOW,
    ),
]

STAR_RESOURCE = [
    Case(
        "resource-star-request-star",
        "reference_policies_elements_resource: actions without resource-level permissions (ListSecrets, "
        "request resource '*') are granted with Resource '*'",
        (doc(stmt("Allow", LIST, "*")),),
        LIST,
        "*",
        ALLOW,
    ),
    Case(
        "resource-arn-pattern-request-star",
        "reference_policies_elements_resource: when a service cannot scope an action to a resource you "
        "must use '*'; a secret ARN pattern does not grant ListSecrets",
        (doc(stmt("Allow", LIST, SECRETS + "*")),),
        LIST,
        "*",
        IMPLICIT,
    ),
    Case(
        "resource-star-specific-request",
        "reference_policies_elements_resource: Resource '*' covers a specific secret ARN",
        (doc(stmt("Allow", GET, "*")),),
        GET,
        SECRET,
        ALLOW,
    ),
    Case(
        "deny-arn-pattern-request-star",
        "reference_policies_elements_resource: a Deny scoped to secret ARNs does not match the request "
        "resource '*' of ListSecrets",
        (doc(stmt("Allow", LIST, "*"), stmt("Deny", LIST, SECRETS + "prod/*")),),
        LIST,
        "*",
        ALLOW,
    ),
    Case(
        "deny-star-request-star",
        "reference_policies_elements_resource: a Deny on Resource '*' matches the request resource '*'",
        (doc(stmt("Allow", LIST, "*"), stmt("Deny", "secretsmanager:List*", "*")),),
        LIST,
        "*",
        EXPLICIT,
    ),
    Case(
        "notresource-allow-request-star",
        "reference_policies_elements_notresource: '*' is not among the excluded ARNs, so Allow+NotResource "
        "covers a ListSecrets request (ambiguous: the page does not discuss resource-less actions)",
        (doc(stmt("Allow", LIST, None, NotResource=SECRETS + "prod/*")),),
        LIST,
        "*",
        ALLOW,
    ),
]

BOUNDARY = [
    Case(
        "boundary-allows",
        f"{BOUNDARIES}: effective permissions are what both identity policy and boundary allow",
        (ALLOW_GET_SECRET,),
        GET,
        SECRET,
        ALLOW,
        boundary=doc(stmt("Allow", "secretsmanager:*", "*")),
    ),
    Case(
        "boundary-without-the-action",
        f"{BOUNDARIES}: an action the boundary does not allow is denied even if the identity policy "
        "allows it (the iam:CreateUser example)",
        (ALLOW_GET_SECRET,),
        GET,
        SECRET,
        IMPLICIT,
        boundary=doc(stmt("Allow", "ssm:*", "*")),
    ),
    Case(
        "boundary-without-the-resource",
        f"{BOUNDARIES}: the intersection is per action and resource; a boundary scoped to prod/* does "
        "not admit app/db",
        (ALLOW_ALL,),
        GET,
        SECRET,
        IMPLICIT,
        boundary=doc(stmt("Allow", "secretsmanager:*", SECRETS + "prod/*")),
    ),
    Case(
        "boundary-deny",
        f"{BOUNDARIES}: an explicit deny in the boundary overrides the identity allow",
        (ALLOW_GET_SECRET,),
        GET,
        SECRET,
        EXPLICIT,
        boundary=doc(stmt("Allow", "*", "*"), stmt("Deny", GET, SECRET)),
    ),
    Case(
        "boundary-does-not-grant",
        f"{BOUNDARIES}: a boundary limits permissions but does not provide permissions on its own",
        (),
        GET,
        SECRET,
        IMPLICIT,
        boundary=doc(stmt("Allow", "*", "*")),
    ),
    Case(
        "identity-deny-inside-boundary",
        f"{BOUNDARIES}: an explicit deny in either the identity policy or the boundary overrides allows",
        (doc(stmt("Allow", "*", "*"), stmt("Deny", GET, SECRET)),),
        GET,
        SECRET,
        EXPLICIT,
        boundary=doc(stmt("Allow", "*", "*")),
    ),
]

RESOURCE_POLICY = [
    Case(
        "same-account-grant-to-role",
        f"{EVAL}: within one account an allow in either the identity or the resource-based policy is enough",
        (),
        GET,
        SECRET,
        ALLOW,
        resource_policy=grant({"AWS": ROLE}),
        principal=ROLE,
    ),
    Case(
        "same-account-grant-to-role-called-by-session",
        f"{PRINCIPAL}: a role ARN as principal covers the sessions of that role",
        (),
        GET,
        SECRET,
        ALLOW,
        resource_policy=grant({"AWS": ROLE}),
        principal=SESSION,
    ),
    Case(
        "same-account-grant-to-role-principal-from-context",
        f"{EVAL}: same-account grant to the role ARN; the caller is read from aws:PrincipalArn when "
        "evaluate() gets no principal (iamscope API contract)",
        (),
        GET,
        SECRET,
        ALLOW,
        context={"aws:PrincipalArn": ROLE},
        resource_policy=grant({"AWS": ROLE}),
    ),
    Case(
        "same-account-grant-to-role-boundary-allows",
        f"{BOUNDARIES}: a grant to the role ARN within the boundary is allowed",
        (),
        GET,
        SECRET,
        ALLOW,
        boundary=doc(stmt("Allow", "secretsmanager:*", "*")),
        resource_policy=grant({"AWS": ROLE}),
        principal=ROLE,
    ),
    Case(
        "same-account-grant-to-role-restrictive-boundary",
        f"{BOUNDARIES}: resource-based policies that grant permissions to an IAM role ARN are limited by "
        "an implicit deny in a permissions boundary",
        (),
        GET,
        SECRET,
        IMPLICIT,
        boundary=doc(stmt("Allow", "ssm:*", "*")),
        resource_policy=grant({"AWS": ROLE}),
        principal=ROLE,
    ),
    Case(
        "same-account-grant-to-role-restrictive-boundary-session-caller",
        f"{BOUNDARIES}: a grant to the role ARN stays limited by the boundary when a session of the role "
        "calls",
        (),
        GET,
        SECRET,
        IMPLICIT,
        boundary=doc(stmt("Allow", "ssm:*", "*")),
        resource_policy=grant({"AWS": ROLE}),
        principal=SESSION,
    ),
    Case(
        "same-account-grant-to-session-restrictive-boundary",
        f"{BOUNDARIES}: a same-account grant to the role session ARN is not limited by an implicit deny "
        "in the identity policy or the permissions boundary",
        (),
        GET,
        SECRET,
        ALLOW,
        boundary=doc(stmt("Allow", "ssm:*", "*")),
        resource_policy=grant({"AWS": SESSION}),
        principal=SESSION,
    ),
    Case(
        "same-account-grant-to-session-boundary-deny",
        f"{BOUNDARIES}: an explicit deny in the boundary still overrides a grant to the session",
        (),
        GET,
        SECRET,
        EXPLICIT,
        boundary=doc(stmt("Allow", "*", "*"), stmt("Deny", "secretsmanager:*", "*")),
        resource_policy=grant({"AWS": SESSION}),
        principal=SESSION,
    ),
    Case(
        "same-account-grant-to-account-root-alone",
        f"{PRINCIPAL}: an account principal delegates to the account; an identity in it still needs an "
        "identity-based allow",
        (),
        GET,
        SECRET,
        IMPLICIT,
        resource_policy=grant({"AWS": ROOT}),
        principal=ROLE,
    ),
    Case(
        "same-account-grant-to-account-id-alone",
        f"{PRINCIPAL}: the short account-id form behaves the same as the :root ARN",
        (),
        GET,
        SECRET,
        IMPLICIT,
        resource_policy=grant({"AWS": ACCOUNT}),
        principal=ROLE,
    ),
    Case(
        "same-account-grant-to-account-with-identity-allow",
        f"{EVAL}: with the account delegated, the identity policy's allow grants the request",
        (ALLOW_GET_SECRET,),
        GET,
        SECRET,
        ALLOW,
        resource_policy=grant({"AWS": ROOT}),
        principal=ROLE,
    ),
    Case(
        "same-account-grant-to-other-role",
        f"{PRINCIPAL}: a grant to another role does not apply to this caller",
        (),
        GET,
        SECRET,
        IMPLICIT,
        resource_policy=grant({"AWS": [OTHER_ROLE]}),
        principal=ROLE,
    ),
    Case(
        "same-account-grant-other-action",
        f"{EVAL}: a resource policy grant for another action does not allow this one",
        (),
        GET,
        SECRET,
        IMPLICIT,
        resource_policy=grant({"AWS": ROLE}, action=DESCRIBE),
        principal=ROLE,
    ),
    Case(
        "resource-policy-deny-beats-identity-allow",
        f"{EVAL}: an explicit deny in the resource-based policy overrides an identity allow",
        (ALLOW_GET_SECRET,),
        GET,
        SECRET,
        EXPLICIT,
        resource_policy=grant({"AWS": ROLE}, effect="Deny"),
        principal=ROLE,
    ),
    Case(
        "resource-policy-deny-star-beats-identity-allow",
        f"{EVAL}: a resource policy may deny anyone (Principal '*')",
        (ALLOW_GET_SECRET,),
        GET,
        SECRET,
        EXPLICIT,
        resource_policy=grant("*", effect="Deny"),
        principal=ROLE,
    ),
    Case(
        "principal-star-with-principal-account-match",
        f"{PRINCIPAL}: Principal '*' with a condition on aws:PrincipalAccount admits principals of that "
        "account",
        (),
        GET,
        SECRET,
        ALLOW,
        context={"aws:PrincipalAccount": ACCOUNT},
        resource_policy=grant("*", Condition={"StringEquals": {"aws:PrincipalAccount": ACCOUNT}}),
        principal=ROLE,
    ),
    Case(
        "principal-aws-star-with-principal-account-match",
        f"{PRINCIPAL}: {{'AWS': '*'}} is the same as Principal '*' for AWS principals",
        (),
        GET,
        SECRET,
        ALLOW,
        context={"aws:PrincipalAccount": ACCOUNT},
        resource_policy=grant({"AWS": "*"}, Condition={"StringEquals": {"aws:PrincipalAccount": ACCOUNT}}),
        principal=ROLE,
    ),
    Case(
        "principal-star-principal-arn-condition-restrictive-boundary",
        f"{EVAL}: permissions boundaries and session policies do not limit permissions granted using the "
        "aws:PrincipalArn condition key with a wildcard (*) in the Principal element",
        (),
        GET,
        SECRET,
        ALLOW,
        context={"aws:PrincipalArn": ROLE},
        boundary=doc(stmt("Allow", "ssm:*", "*")),
        resource_policy=grant("*", Condition={"ArnEquals": {"aws:PrincipalArn": ROLE}}),
        principal=SESSION,
    ),
    Case(
        "principal-star-principal-account-restrictive-boundary",
        f"{EVAL}: a wildcard Principal matches the calling session itself, so a boundary's implicit deny "
        "does not limit it (ambiguous: the page states this for aws:PrincipalArn conditions only, not "
        "for aws:PrincipalAccount)",
        (),
        GET,
        SECRET,
        ALLOW,
        context={"aws:PrincipalAccount": ACCOUNT, "aws:PrincipalArn": ROLE},
        boundary=doc(stmt("Allow", "ssm:*", "*")),
        resource_policy=grant("*", Condition={"StringEquals": {"aws:PrincipalAccount": ACCOUNT}}),
        principal=SESSION,
    ),
    Case(
        "principal-star-principal-arn-condition-boundary-deny",
        f"{EVAL}: the wildcard-principal grant is still overridden by an explicit deny",
        (),
        GET,
        SECRET,
        EXPLICIT,
        context={"aws:PrincipalArn": ROLE},
        boundary=doc(stmt("Allow", "*", "*"), stmt("Deny", GET, "*")),
        resource_policy=grant("*", Condition={"ArnEquals": {"aws:PrincipalArn": ROLE}}),
        principal=SESSION,
    ),
    Case(
        "principal-star-with-principal-account-mismatch",
        f"{PRINCIPAL}: the condition on aws:PrincipalAccount keeps other accounts out",
        (doc(stmt("Allow", GET, SECRET)),),
        GET,
        SECRET,
        IMPLICIT,
        context={"aws:PrincipalAccount": OTHER_ACCOUNT},
        resource_policy=grant("*", Condition={"StringEquals": {"aws:PrincipalAccount": ACCOUNT}}),
        principal=X_ROLE,
    ),
]

CROSS_ACCOUNT = [
    Case(
        "cross-account-identity-allow-only",
        f"{CROSS}: cross-account access needs an allow in the resource-based policy too",
        (ALLOW_GET_SECRET,),
        GET,
        SECRET,
        IMPLICIT,
        principal=X_ROLE,
    ),
    Case(
        "cross-account-resource-allow-only",
        f"{CROSS}: cross-account access needs an allow in the caller's identity-based policy too",
        (),
        GET,
        SECRET,
        IMPLICIT,
        resource_policy=grant({"AWS": X_ROLE}),
        principal=X_ROLE,
    ),
    Case(
        "cross-account-both-allow",
        f"{CROSS}: allowed when both the identity policy and the resource policy allow",
        (ALLOW_GET_SECRET,),
        GET,
        SECRET,
        ALLOW,
        resource_policy=grant({"AWS": X_ROLE}),
        principal=X_ROLE,
    ),
    Case(
        "cross-account-grant-to-account",
        f"{PRINCIPAL}: granting the other account delegates to it; its identity policy then decides",
        (ALLOW_GET_SECRET,),
        GET,
        SECRET,
        ALLOW,
        resource_policy=grant({"AWS": f"arn:aws:iam::{OTHER_ACCOUNT}:root"}),
        principal=X_ROLE,
    ),
    Case(
        "cross-account-session-of-granted-role",
        f"{CROSS}: a session of the granted role is admitted when its identity policy allows",
        (ALLOW_GET_SECRET,),
        GET,
        SECRET,
        ALLOW,
        resource_policy=grant({"AWS": X_ROLE}),
        principal=X_SESSION,
    ),
    Case(
        "cross-account-resource-deny",
        f"{CROSS}: an explicit deny in the resource policy overrides both allows",
        (ALLOW_GET_SECRET,),
        GET,
        SECRET,
        EXPLICIT,
        resource_policy=doc(
            stmt("Allow", GET, "*", Principal={"AWS": X_ROLE}),
            stmt("Deny", GET, "*", Principal={"AWS": X_ROLE}),
        ),
        principal=X_ROLE,
    ),
    Case(
        "cross-account-principal-star-account-condition",
        f"{CROSS}: Principal '*' limited by aws:PrincipalAccount to the caller's account, plus the "
        "caller's identity allow",
        (ALLOW_GET_SECRET,),
        GET,
        SECRET,
        ALLOW,
        context={"aws:PrincipalAccount": OTHER_ACCOUNT},
        resource_policy=grant("*", Condition={"StringEquals": {"aws:PrincipalAccount": OTHER_ACCOUNT}}),
        principal=X_ROLE,
    ),
]

TEAM_RESOURCE = SECRETS + "${aws:PrincipalTag/team}/*"

VARIABLES = [
    Case(
        "variable-principal-tag-in-resource",
        f"{VARS}: ${{aws:PrincipalTag/team}} in the resource part is replaced by the caller's tag value",
        (doc(stmt("Allow", GET, TEAM_RESOURCE)),),
        GET,
        SECRET,
        ALLOW,
        context={"aws:PrincipalTag/team": "app"},
    ),
    Case(
        "variable-principal-tag-other-value",
        f"{VARS}: the substituted value must then match the resource like any literal",
        (doc(stmt("Allow", GET, TEAM_RESOURCE)),),
        GET,
        SECRET,
        IMPLICIT,
        context={"aws:PrincipalTag/team": "billing"},
    ),
    Case(
        "variable-missing-key-in-resource",
        f"{VARS}: a resource that includes a policy variable with no value will not match any resource",
        (doc(stmt("Allow", GET, TEAM_RESOURCE)),),
        GET,
        SECRET,
        IMPLICIT,
    ),
    Case(
        "variable-missing-key-in-deny-resource",
        f"{VARS}: a Deny whose Resource has a variable with no value matches no resource",
        (ALLOW_ALL, doc(stmt("Deny", GET, TEAM_RESOURCE))),
        GET,
        SECRET,
        ALLOW,
    ),
    Case(
        "variable-default-used-when-missing",
        f"{VARS}: ${{key, 'default'}} uses the default value when the key is missing",
        (doc(stmt("Allow", GET, SECRETS + "${aws:PrincipalTag/team, 'app'}/*")),),
        GET,
        SECRET,
        ALLOW,
    ),
    Case(
        "variable-default-ignored-when-present",
        f"{VARS}: the default applies only when the key has no value; a present value wins",
        (doc(stmt("Allow", GET, SECRETS + "${aws:PrincipalTag/team, 'app'}/*")),),
        GET,
        SECRET,
        IMPLICIT,
        context={"aws:PrincipalTag/team": "billing"},
    ),
    Case(
        "variable-key-name-case-insensitive",
        f"{VARS}: key names are case-insensitive (aws:CurrentTime is equivalent to AWS:currenttime)",
        (doc(stmt("Allow", "s3:GetObject", "arn:aws:s3:::home/${AWS:UserName}/*")),),
        "s3:GetObject",
        "arn:aws:s3:::home/alice/notes.txt",
        ALLOW,
        context={"aws:username": "alice"},
    ),
    Case(
        "variable-star-literal-matches-star",
        f"{VARS}: ${{*}} stands for a literal * (asterisk) character",
        (doc(stmt("Allow", "s3:GetObject", "arn:aws:s3:::bucket/report${*}.txt")),),
        "s3:GetObject",
        "arn:aws:s3:::bucket/report*.txt",
        ALLOW,
    ),
    Case(
        "variable-star-literal-is-not-wildcard",
        f"{VARS}: ${{*}} is a literal *, not a wildcard, so it does not match other characters",
        (doc(stmt("Allow", "s3:GetObject", "arn:aws:s3:::bucket/report${*}.txt")),),
        "s3:GetObject",
        "arn:aws:s3:::bucket/report-2024.txt",
        IMPLICIT,
    ),
    Case(
        "variable-question-literal",
        f"{VARS}: ${{?}} stands for a literal ? character",
        (doc(stmt("Allow", "s3:GetObject", "arn:aws:s3:::bucket/what${?}")),),
        "s3:GetObject",
        "arn:aws:s3:::bucket/what?",
        ALLOW,
    ),
    Case(
        "variable-question-literal-is-not-wildcard",
        f"{VARS}: ${{?}} is a literal ?, not the single-character wildcard",
        (doc(stmt("Allow", "s3:GetObject", "arn:aws:s3:::bucket/what${?}")),),
        "s3:GetObject",
        "arn:aws:s3:::bucket/whatX",
        IMPLICIT,
    ),
    Case(
        "variable-dollar-literal",
        f"{VARS}: ${{$}} stands for a literal $ character",
        (doc(stmt("Allow", "s3:GetObject", "arn:aws:s3:::bucket/cost${$}.csv")),),
        "s3:GetObject",
        "arn:aws:s3:::bucket/cost$.csv",
        ALLOW,
    ),
    Case(
        "variable-version-2008-is-literal",
        f"{VARS}: variables were introduced in Version 2012-10-17; earlier versions treat ${{...}} as a "
        "literal string, so the tag value is not substituted",
        (doc(stmt("Allow", GET, TEAM_RESOURCE), version="2008-10-17"),),
        GET,
        SECRET,
        IMPLICIT,
        context={"aws:PrincipalTag/team": "app"},
    ),
    Case(
        "variable-version-2008-matches-literal-text",
        f"{VARS}: under Version 2008-10-17 the text ${{aws:PrincipalTag/team}} is matched literally",
        (doc(stmt("Allow", GET, TEAM_RESOURCE), version="2008-10-17"),),
        GET,
        SECRETS + "${aws:PrincipalTag/team}/db-AbCdEf",
        ALLOW,
        context={"aws:PrincipalTag/team": "app"},
    ),
    Case(
        "variable-no-version-is-literal",
        f"{VARS}: without a Version element variables are treated as literal strings",
        (doc(stmt("Allow", GET, TEAM_RESOURCE), version=None),),
        GET,
        SECRET,
        IMPLICIT,
        context={"aws:PrincipalTag/team": "app"},
    ),
    Case(
        "variable-in-condition-equal",
        f"{VARS}: a variable may be used as a String condition value (tag on resource == tag on caller)",
        (
            doc(
                stmt(
                    "Allow",
                    GET,
                    "*",
                    Condition={"StringEquals": {"aws:ResourceTag/team": "${aws:PrincipalTag/team}"}},
                )
            ),
        ),
        GET,
        SECRET,
        ALLOW,
        context={"aws:ResourceTag/team": "app", "aws:PrincipalTag/team": "app"},
    ),
    Case(
        "variable-in-condition-different",
        f"{VARS}: the substituted condition value is compared like a literal",
        (
            doc(
                stmt(
                    "Allow",
                    GET,
                    "*",
                    Condition={"StringEquals": {"aws:ResourceTag/team": "${aws:PrincipalTag/team}"}},
                )
            ),
        ),
        GET,
        SECRET,
        IMPLICIT,
        context={"aws:ResourceTag/team": "app", "aws:PrincipalTag/team": "billing"},
    ),
    Case(
        "variable-in-condition-missing-positive",
        f"{VARS}: with a variable that has no value, StringEquals does not match and the statement does "
        "not take effect",
        (
            doc(
                stmt(
                    "Allow",
                    GET,
                    "*",
                    Condition={"StringEquals": {"aws:ResourceTag/team": "${aws:PrincipalTag/team}"}},
                )
            ),
        ),
        GET,
        SECRET,
        IMPLICIT,
        context={"aws:ResourceTag/team": "app"},
    ),
    Case(
        "variable-in-condition-missing-negated-deny",
        f"{VARS}: StringNotEquals matches against a variable with no value; the documented Deny example "
        "denies when aws:PrincipalTag/Team is not set",
        (
            ALLOW_ALL,
            doc(
                stmt(
                    "Deny",
                    GET,
                    "*",
                    Condition={"StringNotEquals": {"aws:ResourceTag/team": "${aws:PrincipalTag/team}"}},
                )
            ),
        ),
        GET,
        SECRET,
        EXPLICIT,
        context={"aws:ResourceTag/team": "app"},
    ),
]

ALL_CASES = PRECEDENCE + NOT_ELEMENTS + STAR_RESOURCE + BOUNDARY + RESOURCE_POLICY + CROSS_ACCOUNT + VARIABLES


@pytest.mark.parametrize("case", ALL_CASES, ids=[c.id for c in ALL_CASES])
def test_evaluate(case: Case) -> None:
    decision = evaluate(
        list(case.documents),
        case.action,
        case.resource,
        case.context,
        boundary=case.boundary,
        resource_policy=case.resource_policy,
        principal=case.principal,
    )
    assert decision.effect == case.expected, case.rule
    assert decision.allowed is (case.expected == ALLOW), case.rule


@dataclass(frozen=True)
class Malformed:
    id: str
    rule: str
    statement: dict[str, Any]
    sid: str | None


GOOD = stmt("Allow", DESCRIBE, SECRET)

MALFORMED = [
    Malformed(
        "effect-maybe",
        "reference_policies_elements_effect: Effect is either Allow or Deny",
        stmt("Maybe", GET, SECRET),
        None,
    ),
    Malformed(
        "effect-maybe-with-sid",
        "reference_policies_elements_effect: Effect is either Allow or Deny; the message names the Sid",
        stmt("Maybe", GET, SECRET, Sid="ReadDb"),
        "ReadDb",
    ),
    Malformed(
        "action-and-notaction",
        "reference_policies_elements_notaction: a statement has either Action or NotAction, not both",
        stmt("Allow", GET, SECRET, NotAction=DESCRIBE, Sid="Both"),
        "Both",
    ),
    Malformed(
        "neither-action-nor-notaction",
        "reference_policies_elements_action: statements must include either an Action or NotAction element",
        stmt("Allow", None, SECRET, Sid="NoAction"),
        "NoAction",
    ),
    Malformed(
        "resource-and-notresource",
        "reference_policies_elements_resource: statements include either a Resource or a NotResource "
        "element, not both",
        stmt("Allow", GET, SECRET, NotResource=OTHER_SECRET, Sid="BothResources"),
        "BothResources",
    ),
    Malformed(
        "unknown-condition-operator",
        "reference_policies_elements_condition_operators: StringEqualz is not a condition operator",
        stmt("Allow", GET, SECRET, Sid="BadOp", Condition={"StringEqualz": {"aws:PrincipalTag/team": "app"}}),
        "BadOp",
    ),
    Malformed(
        "numeric-value-not-a-number",
        "reference_policies_elements_condition_operators: Numeric operators compare integer or decimal "
        "values; 'ten' is neither",
        stmt("Allow", GET, SECRET, Sid="BadNumber", Condition={"NumericLessThan": {"s3:max-keys": "ten"}}),
        "BadNumber",
    ),
    Malformed(
        "ip-value-not-cidr",
        "reference_policies_elements_condition_operators: IpAddress values must be in standard CIDR format",
        stmt("Allow", GET, SECRET, Sid="BadIp", Condition={"IpAddress": {"aws:SourceIp": "not-an-ip"}}),
        "BadIp",
    ),
    Malformed(
        "ip-value-octet-out-of-range",
        "reference_policies_elements_condition_operators: 10.0.0.300/8 is not a valid CIDR block",
        stmt("Allow", GET, SECRET, Sid="BadOctet", Condition={"IpAddress": {"aws:SourceIp": "10.0.0.300/8"}}),
        "BadOctet",
    ),
]


@pytest.mark.parametrize("case", MALFORMED, ids=[m.id for m in MALFORMED])
def test_parse_policy_names_the_bad_statement(case: Malformed) -> None:
    # The malformed statement is the second one (index 1); the first is well formed.
    policy = doc(GOOD, case.statement)
    with pytest.raises(PolicyError, match=r"statement 1\b") as raised:
        parse_policy(policy, name="app-policy")
    if case.sid is not None:
        assert case.sid in str(raised.value), case.rule


def test_parse_policy_accepts_a_well_formed_document() -> None:
    parse_policy(doc(GOOD, stmt("Deny", None, "*", NotAction="secretsmanager:Get*")), name="ok")


def test_every_row_names_its_page_and_ids_are_unique() -> None:
    ids = [c.id for c in ALL_CASES] + [m.id for m in MALFORMED]
    assert len(set(ids)) == len(ids)
    for row in [*ALL_CASES, *MALFORMED]:
        assert row.rule.startswith(("reference_policies_", "access_policies_")), row.id
