"""Properties of IAM evaluation that hold for every well-formed policy, checked with generated documents.

The documents are built from a small vocabulary that still reaches every part of the evaluator: Allow
and Deny, Action and NotAction (with `*`, `?` and case variants), Resource and NotResource over secret
and parameter ARN patterns (segment wildcards, `-??????` suffixes, a policy variable), and Conditions of
every operator family, with and without IfExists and set qualifiers, on keys the request may or may not
carry. The properties:

- AWS's combination rules (IAM User Guide, "Policy evaluation logic"): evaluate() always answers one of
  three effects; an explicit Deny can only take access away, an Allow can only add it, and a
  permissions boundary can only limit it.
- The documented rules for condition keys missing from the request.
- analyse() agrees with evaluate() when nothing is unknown, and its definite answers ("allowed",
  "denied") hold whatever the unknown keys turn out to be.
- ArnIndex.match() finds exactly the ARNs that resource matching accepts.
"""

from __future__ import annotations

import copy
import itertools
import string
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from iamscope.policy import ArnIndex, analyse, evaluate
from iamscope.policy.wildcard import resource_matches

EFFECTS = {"Allow", "ExplicitDeny", "ImplicitDeny"}
ACCOUNTS = ("111122223333", "444455556666")
REGIONS = ("us-east-1", "eu-west-1")
HOME, OTHER = ACCOUNTS

# --- the vocabulary -----------------------------------------------------------------------------------

ACTION_PATTERNS = (
    "secretsmanager:GetSecretValue",
    "secretsmanager:DescribeSecret",
    "secretsmanager:Get*",
    "secretsmanager:*",
    "*",
    "ssm:GetParameter?",
    "ssm:GetParameters",
    "ssm:Get*",
    "secretsmanager:ListSecrets",
    "kms:Decrypt",
    "SecretsManager:getsecretvalue",
    "secretsmanager:*Secret*",
    "secretsmanager:?etSecretValue",
    "ssm:*",
)

REQUEST_ACTIONS = (
    "secretsmanager:GetSecretValue",
    "secretsmanager:DescribeSecret",
    "secretsmanager:ListSecrets",
    "secretsmanager:PutSecretValue",
    "secretsmanager:BatchGetSecretValue",
    "ssm:GetParameter",
    "ssm:GetParameters",
    "ssm:GetParametersByPath",
    "ssm:DescribeParameters",
    "kms:Decrypt",
)

SECRET_NAMES = ("prod/db", "prod/db-other", "prod/api", "dev/db", "payments/db", "app")
PARAMETER_PATHS = ("prod/db/password", "prod/api/key", "dev/db/password", "payments/token", "app")
SUFFIX_ALPHABET = string.ascii_letters + string.digits


def secret_arn(region: str, account: str, name: str, suffix: str) -> str:
    return f"arn:aws:secretsmanager:{region}:{account}:secret:{name}-{suffix}"


def parameter_arn(region: str, account: str, path: str) -> str:
    return f"arn:aws:ssm:{region}:{account}:parameter/{path}"


RESOURCE_PATTERNS = (
    "*",
    "arn:aws:secretsmanager:*:*:secret:*",
    f"arn:aws:secretsmanager:us-east-1:{HOME}:secret:prod/*",
    f"arn:aws:secretsmanager:us-east-1:{HOME}:secret:prod/db-??????",
    f"arn:aws:secretsmanager:*:{HOME}:secret:prod/db-??????",
    "arn:aws:secretsmanager:us-east-1:*:secret:*-??????",
    f"arn:aws:secretsmanager:??-????-1:{HOME}:secret:prod/db*",
    "arn:aws:secretsmanager:*",
    f"arn:aws:secretsmanager:us-east-1:{HOME}:secret:prod/db-AbCdEf",
    f"arn:aws:secretsmanager:*:{HOME}:secret:${{aws:PrincipalTag/team}}/*",
    f"arn:aws:ssm:*:{HOME}:parameter/prod/*",
    f"arn:aws:ssm:us-east-1:{HOME}:parameter/prod/db/password",
    "arn:aws:ssm:*:*:parameter/${aws:PrincipalTag/team}/*",
    "arn:aws:kms:*:*:key/*",
    f"arn:aws:*:*:{OTHER}:*",
)

# Request resources: concrete ARNs in two regions and two accounts, and "*" for ListSecrets and the like.
REQUEST_RESOURCES = (
    "*",
    *(
        secret_arn(r, a, n, s)
        for r in REGIONS
        for a in ACCOUNTS
        for n in ("prod/db", "prod/db-other", "payments/db", "dev/db")
        for s in ("AbCdEf",)
    ),
    secret_arn("us-east-1", HOME, "prod/db", "Zz99Yy"),
    *(
        parameter_arn(r, a, p)
        for r in REGIONS
        for a in ACCOUNTS
        for p in ("prod/db/password", "payments/token")
    ),
    f"arn:aws:kms:us-east-1:{HOME}:key/1234abcd-12ab-34cd-56ef-1234567890ab",
)

# Condition keys and the values a request may carry for them. aws:TagKeys is multivalued.
KEY_VALUES: dict[str, tuple[str, ...]] = {
    "aws:PrincipalTag/team": ("payments", "search", "Payments"),
    "aws:ResourceTag/team": ("payments", "search"),
    "secretsmanager:ResourceTag/team": ("payments", "search"),
    "kms:ViaService": (
        "secretsmanager.us-east-1.amazonaws.com",
        "ssm.eu-west-1.amazonaws.com",
        "SecretsManager.us-east-1.amazonaws.com",
    ),
    "aws:PrincipalArn": (
        f"arn:aws:iam::{HOME}:role/app-payments",
        f"arn:aws:iam::{HOME}:role/ops",
        f"arn:aws:iam::{OTHER}:role/app-payments",
    ),
    "aws:SecureTransport": ("true", "false"),
    "aws:MultiFactorAuthPresent": ("true", "false"),
    "aws:SourceIp": ("10.1.2.3", "192.0.2.10", "203.0.113.5"),
    "aws:MultiFactorAuthAge": ("60", "7200"),
    "aws:CurrentTime": ("2026-11-27T12:00:00Z", "2019-06-01T00:00:00Z"),
    "aws:TagKeys": ("team", "env", "owner", "envName"),
}
MULTIVALUED = {"aws:TagKeys"}

# (operator, key, policy values) — one row per operator family and then some; each row is well-typed.
CONDITIONS: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("StringEquals", "aws:PrincipalTag/team", ("payments", "search")),
    ("StringNotEquals", "aws:PrincipalTag/team", ("payments",)),
    ("StringEqualsIgnoreCase", "aws:PrincipalTag/team", ("PAYMENTS",)),
    ("StringNotEqualsIgnoreCase", "secretsmanager:ResourceTag/team", ("Search",)),
    ("StringLike", "kms:ViaService", ("secretsmanager.*.amazonaws.com", "ssm.*.amazonaws.com")),
    ("StringNotLike", "kms:ViaService", ("ssm.*",)),
    ("StringEqualsIfExists", "secretsmanager:ResourceTag/team", ("payments",)),
    ("StringEquals", "aws:ResourceTag/team", ("${aws:PrincipalTag/team}",)),
    ("StringLike", "secretsmanager:ResourceTag/team", ("${aws:PrincipalTag/team, 'pay*'}",)),
    ("ArnLike", "aws:PrincipalArn", (f"arn:aws:iam::{HOME}:role/app-*",)),
    ("ArnNotLike", "aws:PrincipalArn", ("arn:aws:iam::*:role/ops",)),
    ("ArnEquals", "aws:PrincipalArn", (f"arn:aws:iam::{HOME}:role/app-payments",)),
    ("ArnLikeIfExists", "aws:PrincipalArn", (f"arn:aws:iam::{OTHER}:role/*",)),
    ("Bool", "aws:SecureTransport", ("true",)),
    ("Bool", "aws:SecureTransport", ("false",)),
    ("BoolIfExists", "aws:MultiFactorAuthPresent", ("true",)),
    ("Null", "aws:PrincipalTag/team", ("true",)),
    ("Null", "aws:ResourceTag/team", ("false",)),
    ("IpAddress", "aws:SourceIp", ("10.0.0.0/8", "192.0.2.0/24")),
    ("NotIpAddress", "aws:SourceIp", ("192.0.2.0/24",)),
    ("NumericLessThan", "aws:MultiFactorAuthAge", ("3600",)),
    ("NumericGreaterThanEqualsIfExists", "aws:MultiFactorAuthAge", ("600",)),
    ("DateGreaterThan", "aws:CurrentTime", ("2020-01-01T00:00:00Z",)),
    ("DateLessThan", "aws:CurrentTime", ("2026-01-01T00:00:00Z",)),
    ("ForAnyValue:StringEquals", "aws:TagKeys", ("team", "env")),
    ("ForAllValues:StringLike", "aws:TagKeys", ("team", "env*")),
    ("ForAllValues:StringNotEquals", "aws:TagKeys", ("owner",)),
    ("ForAnyValue:StringNotLikeIfExists", "aws:TagKeys", ("t*",)),
)


# --- strategies -----------------------------------------------------------------------------------------


def shapes(values: tuple[str, ...], most: int) -> list[str | tuple[str, ...]]:
    """Every choice of 1..`most` of `values`, as IAM accepts them: a lone string or a list (a tuple
    here, made a list when used). Drawing one of these precomputed shapes costs one draw."""
    out: list[str | tuple[str, ...]] = []
    for size in range(1, most + 1):
        for combo in itertools.combinations(values, size):
            if size == 1:
                out.append(combo[0])
            out.append(combo)
    return out


def as_json(shape: str | tuple[str, ...]) -> str | list[str]:
    return shape if isinstance(shape, str) else list(shape)


# Strategies are built once: sampled_from over a long list costs time on every construction.
effects = st.sampled_from(
    ["Allow", "Allow", "Deny"]
)  # Allow twice as often, so that enough requests are allowed
action_elements = st.sampled_from(["Action", "NotAction"])
resource_elements = st.sampled_from(["Resource", "Resource", "NotResource"])
action_shapes = st.sampled_from(
    [*shapes(ACTION_PATTERNS, 2), ("ssm:GetParameter?", "secretsmanager:Get*", "kms:Decrypt")]
)
resource_shapes = st.sampled_from(
    [*shapes(RESOURCE_PATTERNS, 2), ("arn:aws:secretsmanager:*", "arn:aws:ssm:*", "arn:aws:kms:*")]
)
condition_rows = st.lists(
    st.sampled_from(
        [(op, key, shape) for op, key, values in CONDITIONS for shape in shapes(values, len(values))]
    ),
    max_size=3,
)


@st.composite
def statements(draw: st.DrawFn, effect: str | None = None) -> dict[str, Any]:
    statement: dict[str, Any] = {"Effect": effect or draw(effects)}
    statement[draw(action_elements)] = as_json(draw(action_shapes))
    statement[draw(resource_elements)] = as_json(draw(resource_shapes))
    block: dict[str, dict[str, Any]] = {}
    for operator, key, values in draw(condition_rows):
        block.setdefault(operator, {}).setdefault(key, as_json(values))
    if block:
        statement["Condition"] = block
    return statement


@st.composite
def documents(draw: st.DrawFn) -> dict[str, Any]:
    body = draw(st.lists(statements(), min_size=1, max_size=4))
    for i in draw(st.sets(st.integers(min_value=0, max_value=len(body) - 1))):
        body[i]["Sid"] = f"Stmt{i}"
    shape: Any = body[0] if len(body) == 1 and draw(st.booleans()) else body
    return {"Version": "2012-10-17", "Statement": shape}


document_lists = st.lists(documents(), max_size=3)


def context_value(key: str) -> st.SearchStrategy[str | list[str]]:
    if key in MULTIVALUED:
        return st.lists(st.sampled_from(KEY_VALUES[key]), min_size=1, max_size=3, unique=True)
    return st.sampled_from(KEY_VALUES[key])


contexts = st.fixed_dictionaries({}, optional={key: context_value(key) for key in KEY_VALUES})

# A full context says something of every key: a value, or [] ("the request does not carry it").
full_contexts = st.fixed_dictionaries({key: st.one_of(st.just([]), context_value(key)) for key in KEY_VALUES})


request_actions = st.sampled_from(REQUEST_ACTIONS)
request_resources = st.sampled_from(REQUEST_RESOURCES)


@st.composite
def requests(draw: st.DrawFn) -> tuple[str, str, dict[str, Any]]:
    return draw(request_actions), draw(request_resources), draw(contexts)


def statement_list(document: dict[str, Any]) -> list[dict[str, Any]]:
    body = document["Statement"]
    return [body] if isinstance(body, dict) else list(body)


@st.composite
def with_extra_statement(
    draw: st.DrawFn, docs: list[dict[str, Any]], statement: dict[str, Any]
) -> list[dict[str, Any]]:
    """`docs` with `statement` added: to one of the documents at any position, or as a new document."""
    out = copy.deepcopy(docs)
    target = draw(st.integers(min_value=0, max_value=len(out)))
    if target == len(out):
        out.append({"Version": "2012-10-17", "Statement": [statement]})
        return out
    body = statement_list(out[target])
    body.insert(draw(st.integers(min_value=0, max_value=len(body))), statement)
    out[target] = {**out[target], "Statement": body}
    return out


def alone(statement: dict[str, Any]) -> dict[str, Any]:
    return {"Version": "2012-10-17", "Statement": [statement]}


def decide(docs: list[dict[str, Any]], request: tuple[str, str, dict[str, Any]], **kwargs: Any) -> str:
    action, resource, context = request
    decision = evaluate(docs, action, resource, context, **kwargs)
    assert decision.effect in EFFECTS
    assert decision.allowed is (decision.effect == "Allow")
    return str(decision.effect)


# --- properties of evaluate() -----------------------------------------------------------------------------


@settings(max_examples=300, deadline=None)
@given(docs=document_lists, request=requests())
def test_evaluate_never_raises_and_returns_one_of_three_effects(
    docs: list[dict[str, Any]], request: tuple[str, str, dict[str, Any]]
) -> None:
    decide(docs, request)


@settings(max_examples=300, deadline=None)
@given(docs=document_lists, request=requests(), deny=statements(effect="Deny"), data=st.data())
def test_adding_a_deny_never_grants(
    docs: list[dict[str, Any]],
    request: tuple[str, str, dict[str, Any]],
    deny: dict[str, Any],
    data: st.DataObject,
) -> None:
    with_deny = data.draw(with_extra_statement(docs, deny))
    before, after = decide(docs, request), decide(with_deny, request)
    if before != "Allow":
        assert after != "Allow"
    if before == "ExplicitDeny":
        assert after == "ExplicitDeny"  # a Deny cannot undo another Deny either
    # Whether a statement applies depends on the request alone, not on the statements around it: a Deny
    # that denies the request on its own denies it wherever it is added.
    if decide([alone(deny)], request) == "ExplicitDeny":
        assert after == "ExplicitDeny"


@settings(max_examples=300, deadline=None)
@given(docs=document_lists, request=requests(), allow=statements(effect="Allow"), data=st.data())
def test_removing_an_allow_never_grants(
    docs: list[dict[str, Any]],
    request: tuple[str, str, dict[str, Any]],
    allow: dict[str, Any],
    data: st.DataObject,
) -> None:
    # `with_allow` is a document set with one more Allow statement than `docs`: going from it to `docs`
    # removes that Allow, which must not turn a request that was not allowed into an allowed one.
    with_allow = data.draw(with_extra_statement(docs, allow))
    if decide(with_allow, request) != "Allow":
        assert decide(docs, request) != "Allow"
    if decide(with_allow, request) == "ExplicitDeny":
        assert decide(docs, request) == "ExplicitDeny"  # an Allow cannot undo a Deny
    # An Allow that allows the request on its own allows it beside any statements but a matching Deny.
    if decide([alone(allow)], request) == "Allow":
        assert decide(with_allow, request) != "ImplicitDeny"


@settings(max_examples=300, deadline=None)
@given(docs=document_lists, request=requests(), boundary=documents())
def test_a_boundary_never_widens_access(
    docs: list[dict[str, Any]], request: tuple[str, str, dict[str, Any]], boundary: dict[str, Any]
) -> None:
    bounded = decide(docs, request, boundary=boundary)
    if decide(docs, request) != "Allow":
        assert bounded != "Allow"
    # Nor can it grant on its own: with no identity policy nothing is allowed.
    assert decide([], request, boundary=boundary) != "Allow"


# --- keys missing from the request ------------------------------------------------------------------------

NEGATED = {
    "StringNotEquals",
    "StringNotEqualsIgnoreCase",
    "StringNotLike",
    "NumericNotEquals",
    "DateNotEquals",
    "NotIpAddress",
    "ArnNotEquals",
    "ArnNotLike",
}


def holds_when_absent(operator: str, values: str | list[str]) -> bool | None:
    """What AWS documents for a condition whose key the request does not carry (IAM User Guide,
    "Condition operators": "If the key ... is not present in the request context, the values do not
    match and the condition is false. If the policy condition requires that the key is not matched,
    such as StringNotLike or ArnNotLike, and the right key is not present, the condition is true. This
    logic applies to all condition operators except ...IfExists and Null check"; "Single-valued vs.
    multivalued context keys": ForAllValues "also returns true if there are no context keys in the
    request", ForAnyValue returns false). None where the documentation leaves it open
    (ForAnyValue together with IfExists)."""
    qualifier, _, base = operator.rpartition(":")
    if_exists = base.endswith("IfExists")
    base = base.removesuffix("IfExists")
    if qualifier == "ForAnyValue" and if_exists:
        return None
    if base == "Null":
        return "true" in ([values] if isinstance(values, str) else values)
    if if_exists or qualifier == "ForAllValues":
        return True
    if qualifier == "ForAnyValue":
        return False
    return base in NEGATED


def resolve_absent(docs: list[dict[str, Any]], context: dict[str, Any]) -> list[dict[str, Any]] | None:
    """`docs` with every condition on a key absent from `context` decided by hand: a condition that
    holds is removed, a statement with one that fails is removed. None if one cannot be decided."""
    present = {k.lower() for k in context}
    out: list[dict[str, Any]] = []
    for document in docs:
        kept: list[dict[str, Any]] = []
        for statement in statement_list(document):
            block: dict[str, dict[str, Any]] = {}
            applies = True
            for operator, entries in statement.get("Condition", {}).items():
                for key, values in entries.items():
                    if key.lower() in present:
                        block.setdefault(operator, {})[key] = values
                        continue
                    holds = holds_when_absent(operator, values)
                    if holds is None:
                        return None
                    applies = applies and holds
            if applies:
                rest = {k: v for k, v in statement.items() if k != "Condition"}
                kept.append({**rest, "Condition": block} if block else rest)
        if kept:
            out.append({**document, "Statement": kept})
    return out


@settings(max_examples=300, deadline=None)
@given(docs=document_lists, request=requests())
def test_conditions_on_missing_keys_follow_the_documented_rules(
    docs: list[dict[str, Any]], request: tuple[str, str, dict[str, Any]]
) -> None:
    resolved = resolve_absent(docs, request[2])
    if resolved is not None:
        assert decide(docs, request) == decide(resolved, request)


# --- evaluate() and analyse() agree when nothing is unknown -----------------------------------------------


@settings(max_examples=300, deadline=None)
@given(
    docs=document_lists,
    action=request_actions,
    resource=request_resources,
    context=full_contexts,
    boundary=st.none() | documents(),
)
def test_analyse_with_full_context_agrees_with_evaluate(
    docs: list[dict[str, Any]],
    action: str,
    resource: str,
    context: dict[str, Any],
    boundary: dict[str, Any] | None,
) -> None:
    decision = evaluate(docs, action, resource, context, boundary=boundary)
    analysis = analyse(docs, action, resource, context, boundary=boundary)
    assert analysis.outcome == ("allowed" if decision.effect == "Allow" else "denied"), (
        decision,
        str(analysis),
    )


@settings(max_examples=300, deadline=None)
@given(
    docs=document_lists,
    action=request_actions,
    resource=request_resources,
    context=full_contexts,
    known=st.sets(st.sampled_from(sorted(KEY_VALUES))),
)
def test_a_definite_analysis_holds_for_every_completion(
    docs: list[dict[str, Any]], action: str, resource: str, context: dict[str, Any], known: set[str]
) -> None:
    """With some keys unknown, "allowed" and "denied" must be true whatever the unknown keys turn out to
    be; the full context is one such completion. aws:PrincipalArn stays known: it names the caller, and
    so decides whether the request is cross-account, not only whether a condition holds."""
    partial = {k: v for k, v in context.items() if k in known or k == "aws:PrincipalArn"}
    analysis = analyse(docs, action, resource, partial)
    assert analysis.outcome in {"allowed", "denied", "conditional"}
    if analysis.outcome != "conditional":
        decision = evaluate(docs, action, resource, context)
        assert analysis.outcome == ("allowed" if decision.allowed else "denied"), (decision, str(analysis))


# --- ArnIndex agrees with resource matching -----------------------------------------------------------------

suffixes = st.text(alphabet=SUFFIX_ALPHABET, min_size=6, max_size=6)
secret_arns = st.builds(
    secret_arn, st.sampled_from(REGIONS), st.sampled_from(ACCOUNTS), st.sampled_from(SECRET_NAMES), suffixes
)
parameter_arns = st.builds(
    parameter_arn, st.sampled_from(REGIONS), st.sampled_from(ACCOUNTS), st.sampled_from(PARAMETER_PATHS)
)
arn_lists = st.lists(st.one_of(secret_arns, parameter_arns), max_size=25)

FIXED_PATTERNS = (
    "*",
    "arn:aws:secretsmanager:*:*:secret:*",
    "arn:aws:secretsmanager:*:*:secret:*-??????",
    "arn:aws:secretsmanager:us-east-1:*",  # `*` ends the region..resource run: spans colons
    "arn:aws:secretsmanager:*",
    "arn:aws:ssm:*",
    "arn:aws:*",
    "arn:*:secretsmanager:*:*:secret:prod/*",
    f"arn:aws:*:*:{HOME}:*",
    f"arn:aws:secretsmanager:*:{HOME}:*",
    f"arn:aws:secretsmanager:us-*:{HOME}:secret:*",
    "arn:aws:secretsmanager:*:*:secret:prod*",
    f"arn:aws:secretsmanager:us-east-1:{HOME}:secret:prod/db-??????",
    f"arn:aws:secretsmanager:us-east-1:{HOME}:secret:prod/db*",
    "arn:aws:secretsmanager:??-????-1:*:secret:*",
    "arn:aws:ssm:*:*:parameter/prod/*",
    f"arn:aws:ssm:eu-west-1:{OTHER}:parameter/*",
    "arn:aws:ssm:*:*:parameter/*/db/password",
    "arn:aws:s*:*",
    "arn:aws:secretsmanager:*:secret:*",  # `*` ending a segment may swallow the account segment
    "arn:aws:secretsmanager:*:*:*:prod/db-??????",
    "arn:aws:secretsmanager:us-east-1:111122223333:secret:prod/db-AbCdE?",
    "arn:aws:ssm:us-east-1:111122223333:parameter/prod/db/password",
    "arn:aws:kms:*:*:key/*",
    "*:*",
)


pattern_kinds = st.sampled_from(
    ["fixed", "exact", "prefix", "suffix6", "region", "account", "mutate", "exact*"]
)
fixed_patterns = st.sampled_from(FIXED_PATTERNS)
region_wildcards = st.sampled_from(["*", "us-*", "??-????-1", "*-1", "eu-west-?"])
account_wildcards = st.sampled_from(["*", "1111*", "????????????", "*3"])
one_wildcard = st.sampled_from("*?")


@st.composite
def index_patterns(draw: st.DrawFn, arns: list[str]) -> str:
    """A Resource pattern: fixed shapes, or one derived from an ARN in (or near) the index."""
    if arns and draw(st.booleans()):
        base = arns[draw(st.integers(min_value=0, max_value=len(arns) - 1))]
    else:
        base = draw(st.one_of(secret_arns, parameter_arns))
    parts = base.split(":", 5)
    kind = draw(pattern_kinds)
    if kind == "fixed":
        return draw(fixed_patterns)
    if kind == "exact":
        return base
    if kind == "exact*":
        return base + "*"
    if kind == "prefix":
        return base[: draw(st.integers(min_value=0, max_value=len(base)))] + "*"
    if kind == "suffix6":
        return base[:-6] + "??????" if parts[2] == "secretsmanager" else base.rsplit("/", 1)[0] + "/*"
    if kind == "region":
        parts[3] = draw(region_wildcards)
        return ":".join(parts)
    if kind == "account":
        parts[4] = draw(account_wildcards)
        return ":".join(parts)
    # mutate: one character of the ARN becomes a wildcard
    at = draw(st.integers(min_value=0, max_value=len(base) - 1))
    return base[:at] + draw(one_wildcard) + base[at + 1 :]


@settings(max_examples=300, deadline=None)
@given(arns=arn_lists, data=st.data())
def test_arn_index_matches_like_resource_matching(arns: list[str], data: st.DataObject) -> None:
    index = ArnIndex(arns + arns[: len(arns) // 3])  # duplicates must not be listed twice
    known = sorted(set(arns))
    for _ in range(8):
        pattern = data.draw(index_patterns(arns), label="pattern")
        expected = tuple(a for a in known if resource_matches(pattern, a))
        assert tuple(index.match(pattern)) == expected, pattern
