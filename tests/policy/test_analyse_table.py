"""Table-driven checks of `iamscope.policy.analyse`: evaluation where only the given context keys are
known and every other key is unknown.

The outcome is "allowed" or "denied" when the answer is the same whatever the unknown keys hold, and
"conditional" (with the keys it depends on) otherwise. The underlying AWS rules are the evaluation
logic and condition operator pages; each row names its page.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from iamscope.policy import analyse

EVAL = "reference_policies_evaluation-logic"
OPS = "reference_policies_elements_condition_operators"
COND = "reference_policies_elements_condition"
BOUNDARIES = "access_policies_boundaries"
VARS = "reference_policies_variables"

GET = "secretsmanager:GetSecretValue"
SECRETS = "arn:aws:secretsmanager:us-east-1:111122223333:secret:"
SECRET = SECRETS + "app/db-AbCdEf"

IP = "aws:SourceIp"
TEAM = "aws:PrincipalTag/team"
TLS = "aws:SecureTransport"
REGION = "aws:RequestedRegion"
ISSUED = "aws:TokenIssueTime"


def doc(*statements: dict[str, Any]) -> dict[str, Any]:
    return {"Version": "2012-10-17", "Statement": list(statements)}


def stmt(effect: str, condition: dict[str, Any] | None = None, resource: str = "*") -> dict[str, Any]:
    body: dict[str, Any] = {"Effect": effect, "Action": GET, "Resource": resource}
    if condition is not None:
        body["Condition"] = condition
    return body


FROM_OFFICE = {"IpAddress": {IP: "10.0.0.0/8"}}
NOT_TEAM_APP = {"StringNotEquals": {TEAM: "app"}}


@dataclass(frozen=True)
class Case:
    id: str
    rule: str
    documents: tuple[dict[str, Any], ...]
    context: dict[str, Any]
    outcome: str
    keys: tuple[str, ...] = ()
    boundary: dict[str, Any] | None = None


CASES = [
    Case(
        "unconditional-allow",
        f"{EVAL}: an allow without conditions allows whatever the unknown keys hold",
        (doc(stmt("Allow")),),
        {},
        "allowed",
    ),
    Case(
        "no-policy",
        f"{EVAL}: with no allow the request is implicitly denied; nothing depends on context",
        (),
        {},
        "denied",
    ),
    Case(
        "unconditional-explicit-deny",
        f"{EVAL}: an unconditional explicit deny overrides any allow",
        (doc(stmt("Allow"), stmt("Deny")),),
        {},
        "denied",
    ),
    Case(
        "conditional-allow-unknown-key",
        f"{OPS}: an allow whose condition reads an unknown key (aws:SourceIp) holds only if the key matches",
        (doc(stmt("Allow", FROM_OFFICE)),),
        {},
        "conditional",
        ("aws:sourceip",),
    ),
    Case(
        "conditional-allow-known-true",
        f"{OPS}: with aws:SourceIp known and inside the range the allow applies",
        (doc(stmt("Allow", FROM_OFFICE)),),
        {IP: "10.1.2.3"},
        "allowed",
    ),
    Case(
        "conditional-allow-known-false",
        f"{OPS}: a known-false condition makes the statement not apply; no other allow -> implicit deny",
        (doc(stmt("Allow", FROM_OFFICE)),),
        {IP: "192.0.2.1"},
        "denied",
    ),
    Case(
        "conditional-allow-known-key-other-case",
        f"{COND}: condition key names are not case-sensitive, so AWS:SOURCEIP makes aws:SourceIp known",
        (doc(stmt("Allow", FROM_OFFICE)),),
        {"AWS:SOURCEIP": "10.1.2.3"},
        "allowed",
    ),
    Case(
        "conditional-deny-over-unconditional-allow",
        f"{EVAL}: a Deny whose condition reads an unknown key may or may not override the allow",
        (doc(stmt("Allow"), stmt("Deny", NOT_TEAM_APP)),),
        {},
        "conditional",
        ("aws:principaltag/team",),
    ),
    Case(
        "conditional-deny-known-true",
        f"{OPS}: the Deny's StringNotEquals is true for team=web, so the explicit deny wins",
        (doc(stmt("Allow"), stmt("Deny", NOT_TEAM_APP)),),
        {TEAM: "web"},
        "denied",
    ),
    Case(
        "conditional-deny-known-false",
        f"{OPS}: the Deny's StringNotEquals is false for team=app, so the Deny does not apply",
        (doc(stmt("Allow"), stmt("Deny", NOT_TEAM_APP)),),
        {TEAM: "app"},
        "allowed",
    ),
    Case(
        "deny-known-false-bool",
        f"{OPS}: Deny unless TLS, with aws:SecureTransport known 'true', does not apply",
        (doc(stmt("Allow"), stmt("Deny", {"Bool": {TLS: "false"}})),),
        {TLS: "true"},
        "allowed",
    ),
    Case(
        "conditional-deny-without-allow",
        f"{EVAL}: without any allow the request is denied whether or not the conditional Deny applies",
        (doc(stmt("Deny", NOT_TEAM_APP)),),
        {},
        "denied",
    ),
    Case(
        "conditional-allow-under-unconditional-deny",
        f"{EVAL}: an unconditional explicit deny decides; the allow's condition does not matter",
        (doc(stmt("Allow", FROM_OFFICE), stmt("Deny")),),
        {},
        "denied",
    ),
    Case(
        "conditional-allow-and-unconditional-allow",
        f"{EVAL}: one unconditional allow is enough; another allow's condition does not matter",
        (doc(stmt("Allow", FROM_OFFICE)), doc(stmt("Allow"))),
        {},
        "allowed",
    ),
    Case(
        "two-conditional-allows",
        f"{EVAL}: two allows on different unknown keys; the answer depends on both keys (sorted)",
        (doc(stmt("Allow", FROM_OFFICE), stmt("Allow", {"StringEquals": {TEAM: "app"}})),),
        {},
        "conditional",
        ("aws:principaltag/team", "aws:sourceip"),
    ),
    Case(
        "two-conditional-allows-one-known-true",
        f"{EVAL}: once one of the allows is known to apply, the other key no longer matters",
        (doc(stmt("Allow", FROM_OFFICE), stmt("Allow", {"StringEquals": {TEAM: "app"}})),),
        {TEAM: "app"},
        "allowed",
    ),
    Case(
        "two-conditional-allows-one-known-false",
        f"{EVAL}: with one allow known not to apply, the answer depends on the other key only",
        (doc(stmt("Allow", FROM_OFFICE), stmt("Allow", {"StringEquals": {TEAM: "app"}})),),
        {TEAM: "web"},
        "conditional",
        ("aws:sourceip",),
    ),
    Case(
        "conditional-allow-other-resource",
        f"{EVAL}: a conditional allow on another resource does not make this request conditional",
        (doc(stmt("Allow", FROM_OFFICE, resource=SECRETS + "prod/*")),),
        {},
        "denied",
    ),
    Case(
        "null-on-unknown-key",
        f"{OPS}: Null tests presence; an unknown key may be present or absent",
        (doc(stmt("Allow", {"Null": {ISSUED: "true"}})),),
        {},
        "conditional",
        ("aws:tokenissuetime",),
    ),
    Case(
        "conditional-boundary",
        f"{BOUNDARIES}: the boundary must also allow; a boundary conditional on an unknown key makes the "
        "answer conditional",
        (doc(stmt("Allow")),),
        {},
        "conditional",
        ("aws:requestedregion",),
        doc(stmt("Allow", {"StringEquals": {REGION: "us-east-1"}})),
    ),
    Case(
        "conditional-boundary-known",
        f"{BOUNDARIES}: with the boundary's key known and matching, identity allow and boundary intersect",
        (doc(stmt("Allow")),),
        {REGION: "us-east-1"},
        "allowed",
        (),
        doc(stmt("Allow", {"StringEquals": {REGION: "us-east-1"}})),
    ),
    Case(
        "variable-in-resource-unknown",
        f"{VARS}: a Resource built from ${{aws:PrincipalTag/team}} matches only for some tag values, so "
        "with the tag unknown the answer depends on it (iamscope analysis semantics)",
        (doc(stmt("Allow", resource=SECRETS + "${aws:PrincipalTag/team}/*")),),
        {},
        "conditional",
        ("aws:principaltag/team",),
    ),
]


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_analyse(case: Case) -> None:
    analysis = analyse(list(case.documents), GET, SECRET, dict(case.context), boundary=case.boundary)
    assert analysis.outcome == case.outcome, case.rule
    if case.outcome == "conditional":
        assert tuple(analysis.keys) == case.keys, case.rule
    sentence = str(analysis)
    assert sentence.strip(), "str(analysis) must be a human sentence"


def test_every_row_names_its_page_and_ids_are_unique() -> None:
    assert len({c.id for c in CASES}) == len(CASES)
    for c in CASES:
        assert c.rule.startswith(("reference_policies_", "access_policies_")), c.id
