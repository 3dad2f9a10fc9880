"""AccessCalculator's grouped decisions equal the policy engine asked about every resource one by one.

The rule checked is IAM's policy evaluation logic (IAM User Guide, "Policy evaluation logic"): an
explicit Deny in any policy wins over every Allow, an Allow is needed for access (otherwise the request
is implicitly denied), and a permissions boundary intersects with the identity policies (IAM User Guide,
"Permissions boundaries for IAM entities": effective permissions = identity ∩ boundary). Same-account
resource policies add to the identity policies and their Deny wins too (Secrets Manager User Guide,
"Resource-based policies").

Why: `iamscope.access._decide()` applies that rule to one request at a time. AccessCalculator does not
call it per resource: it finds what each statement reaches through the ARN index, decides the resources
no condition, resource policy or policy variable touches with set operations (Deny reach subtracted,
boundary reach intersected, resources split by which Allow statements cover them) and sends the rest to
the engine once per group of resources that agree on everything the decision reads (`_Groups`). Those
shortcuts must give exactly what the per-resource engine gives: the same actions, outcome, `when` text
and statement evidence for every secret and parameter. The reference below asks `_decide()` about every
(resource, action) pair of the catalogue and the test compares the two on generated catalogues and
policies, plus a few hand-written cases.

ssm:GetParametersByPath is authorized on the requested path, not on each parameter, and is decided per
path by the calculator itself, so its entries are left out of the comparison. kms:Decrypt is computed
by the same function per key either way, so it is not compared either.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from contextlib import nullcontext
from dataclasses import dataclass, field
from typing import Any
from unittest.mock import patch

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import iamscope.access as access_module
from iamscope.access import (
    ALL_ACTIONS,
    BY_PATH,
    AccessCalculator,
    ActionGrant,
    Catalogue,
    Grant,
    _context,
    _decide,
    _known_prefixes,
)
from iamscope.ascp import SECRETSMANAGER, SSMPARAMETER
from iamscope.model import AwsInventory, InlinePolicy, Inventory, ManagedPolicy, Parameter, Role, Secret
from iamscope.policy.document import parse_policy
from iamscope.policy.evaluate import StatementRef

ACCOUNT = "111111111111"
REGIONS = ("us-east-1", "eu-west-1")
ROLE_ARN = f"arn:aws:iam::{ACCOUNT}:role/r"
BOUNDARY_ARN = f"arn:aws:iam::{ACCOUNT}:policy/boundary"
SUFFIX = "AbCdEf"
KEY_ID = "0f2c7a4e-9d1b-4c55-8e2a-31b7f5d0c9aa"
GET = "secretsmanager:GetSecretValue"
DESCRIBE = "secretsmanager:DescribeSecret"
GET_PARAMETERS = "ssm:GetParameters"

SECRET_NAMES = ("prod/a/db", "prod/a/x", "prod/b/x", "prod/b/db", "dev/a/y", "dev/b/db", "prod/ab", "prodx/a")
PARAMETER_NAMES = ("/prod/a/p1", "/prod/b/p2", "/dev/a/p3", "/prod/a/sub/p4")
# what a workload may declare that the snapshot does not list (an ARN, or the `<name>-??????` pattern
# standing for the secret): indexed like the rest, but its tags are unknown rather than absent
DECLARED = (
    f"arn:aws:secretsmanager:us-east-1:{ACCOUNT}:secret:prod/a/new-XyZ123",
    f"arn:aws:secretsmanager:eu-west-1:{ACCOUNT}:secret:prod/b/new-??????",
    f"arn:aws:ssm:us-east-1:{ACCOUNT}:parameter/prod/b/new",
)

ACTIONS = (
    GET,
    DESCRIBE,
    "secretsmanager:*",
    "secretsmanager:Get*",
    GET_PARAMETERS,
    "ssm:GetParameter*",
    "*",
    "kms:Decrypt",
)
PATTERNS = (
    "*",
    f"arn:aws:secretsmanager:*:{ACCOUNT}:secret:prod/*",
    f"arn:aws:secretsmanager:us-east-1:{ACCOUNT}:secret:prod/a/*",
    f"arn:aws:secretsmanager:*:{ACCOUNT}:secret:*/a/*",
    "arn:aws:secretsmanager:*:*:secret:dev/*",
    f"arn:aws:ssm:*:{ACCOUNT}:parameter/prod/*",
    f"arn:aws:ssm:eu-west-1:{ACCOUNT}:parameter/*",
    # a policy variable: the statement may reach anything once substituted (not the fast path)
    f"arn:aws:secretsmanager:*:{ACCOUNT}:secret:prod/${{aws:PrincipalTag/team}}/*",
)
CONDITIONS: tuple[dict[str, dict[str, str]], ...] = (
    {"StringEquals": {"aws:ResourceTag/team": "a"}},
    {"StringEquals": {"aws:RequestedRegion": "us-east-1"}},
    {"StringEquals": {"aws:PrincipalTag/team": "a"}},
    {"Bool": {"aws:SecureTransport": "true"}},
    {"IpAddress": {"aws:SourceIp": "10.0.0.0/8"}},  # not known to iamscope: conditional
    {"StringEquals": {"aws:ResourceTag/team": "${aws:PrincipalTag/team}"}},
    {"StringNotEquals": {"secretsmanager:ResourceTag/team": "b"}},
)
RESOURCE_POLICIES: tuple[dict[str, Any], ...] = (
    {"Effect": "Deny", "Principal": "*", "Action": GET, "Resource": "*"},
    {"Effect": "Allow", "Principal": {"AWS": ROLE_ARN}, "Action": [GET, DESCRIBE], "Resource": "*"},
    {
        "Effect": "Allow",
        "Principal": {"AWS": ROLE_ARN},
        "Action": GET,
        "Resource": "*",
        "Condition": {"StringEquals": {"aws:PrincipalTag/team": "a"}},
    },
)


# --- scenarios ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SecretSpec:
    name: str
    region: str
    tags: tuple[tuple[str, str], ...] = ()
    kms_key: str | None = None
    deleted: bool = False
    resource_policy: dict[str, Any] | None = None  # one statement

    @property
    def arn(self) -> str:
        return secret_arn(self.name, self.region)


@dataclass(frozen=True)
class ParameterSpec:
    name: str
    region: str
    secure: bool = False

    @property
    def arn(self) -> str:
        return parameter_arn(self.name, self.region)


@dataclass(frozen=True)
class Scenario:
    """Raw JSON-shaped policies, so a falsifying example reads as the policies it was built from."""

    secrets: tuple[SecretSpec, ...]
    parameters: tuple[ParameterSpec, ...]
    policies: tuple[dict[str, Any], ...]  # the role's inline policy documents
    boundary: dict[str, Any] | None = None
    role_tags: tuple[tuple[str, str], ...] = ()
    session_tags: dict[str, str] | None = None
    declared: tuple[str, ...] = ()  # ARNs workloads declare, listed or not
    # hand-written cases only: (resource ARN, action, expected outcome or None) to show the case bites
    checks: tuple[tuple[str, str, str | None], ...] = field(default=(), compare=False)


def secret_arn(name: str, region: str = REGIONS[0]) -> str:
    return f"arn:aws:secretsmanager:{region}:{ACCOUNT}:secret:{name}-{SUFFIX}"


def parameter_arn(name: str, region: str = REGIONS[0]) -> str:
    return f"arn:aws:ssm:{region}:{ACCOUNT}:parameter/{name.lstrip('/')}"


def document(statements: Sequence[Mapping[str, Any]], version: str = "2012-10-17") -> dict[str, Any]:
    return {"Version": version, "Statement": [dict(s) for s in statements]}


def build(scenario: Scenario) -> tuple[AccessCalculator, Role]:
    secrets = tuple(
        Secret(
            arn=s.arn,
            name=s.name,
            region=s.region,
            account=ACCOUNT,
            kms_key=s.kms_key,
            tags=tuple(sorted(s.tags)),
            resource_policy=parse_policy(
                document([s.resource_policy]), name=f"{s.arn}#resource-policy", kind="resource"
            )
            if s.resource_policy is not None
            else None,
            source="test",
            deleted="2024-01-01T00:00:00Z" if s.deleted else None,
        )
        for s in scenario.secrets
    )
    parameters = tuple(
        Parameter(
            arn=p.arn,
            name=p.name,
            region=p.region,
            account=ACCOUNT,
            type="SecureString" if p.secure else "String",
            kms_key=KEY_ID if p.secure else None,
            tier="Standard",
            source="test",
        )
        for p in scenario.parameters
    )
    inline = tuple(
        InlinePolicy(
            id=f"{ROLE_ARN}#p{i}",
            name=f"p{i}",
            document=parse_policy(raw, name=f"{ROLE_ARN}#p{i}", kind="identity"),
        )
        for i, raw in enumerate(scenario.policies)
    )
    managed: tuple[ManagedPolicy, ...] = ()
    if scenario.boundary is not None:
        managed = (
            ManagedPolicy(
                arn=BOUNDARY_ARN,
                name="boundary",
                document=parse_policy(scenario.boundary, name=BOUNDARY_ARN, kind="identity"),
            ),
        )
    role = Role(
        arn=ROLE_ARN,
        name="r",
        path="/",
        trust=None,
        inline=inline,
        attached=(),
        boundary=BOUNDARY_ARN if scenario.boundary is not None else None,
        instance_profiles=(),
        tags=tuple(sorted(scenario.role_tags)),
    )
    inventory = Inventory(
        aws=AwsInventory(
            account=ACCOUNT,
            roles=(role,),
            managed_policies=managed,
            secrets=secrets,
            parameters=parameters,
        )
    )
    return AccessCalculator(inventory, Catalogue(inventory, scenario.declared)), role


# --- the two sides ------------------------------------------------------------------------------------

Decided = tuple[str, str, str | None, tuple[StatementRef, ...]]  # (action, outcome, when, statements)


def _row(g: ActionGrant) -> Decided:
    return (g.action, g.outcome, g.when, g.statements)


def _kind_of_action(action: str) -> str:
    return SECRETSMANAGER if action.startswith("secretsmanager:") else SSMPARAMETER


def reference(
    calculator: AccessCalculator, role: Role, session_tags: Mapping[str, str] | None
) -> dict[str, list[Decided]]:
    """Every catalogued resource and every action except GetParametersByPath, one _decide() each."""
    catalogue = calculator.catalogue
    docs, boundary, _ = calculator.documents(role)
    principal_tags = dict(role.tags) | dict(session_tags or {})
    expected: dict[str, list[Decided]] = {}
    for arn in catalogue.index.arns:
        if arn in catalogue.deleted:
            continue
        secret = catalogue.secrets.get(arn)
        policy = secret.resource_policy if secret is not None else None
        for action in ALL_ACTIONS:  # sorted, the order grants list their actions in
            if action == BY_PATH or catalogue.kinds.get(arn) != _kind_of_action(action):
                continue
            g = _decide(
                docs,
                action,
                arn,
                _context(arn, catalogue, principal_tags),
                boundary,
                policy,
                role.arn,
                _known_prefixes(arn, catalogue),
            )
            if g is not None:
                expected.setdefault(arn, []).append(_row(g))
    return expected


def fast_path(
    calculator: AccessCalculator, session_tags: Mapping[str, str] | None
) -> dict[str, list[Decided]]:
    """What AccessCalculator.access() grants, GetParametersByPath left out (a grant may exist only
    because of it: then it has nothing else to compare)."""
    access = calculator.access(ROLE_ARN, session_tags)
    actual: dict[str, list[Decided]] = {}
    for arn, grant in access.grants.items():
        # the calculator shares one Grant among resources decided alike: its kind and key must be
        # this resource's own (the key as found for this resource alone, without the cache)
        own = (calculator.catalogue.kinds[arn], calculator._find_key(arn))
        assert (grant.kind, grant.needs_key) == own, arn
        rows = [_row(a) for a in grant.actions if a.action != BY_PATH]
        if rows:
            actual[arn] = rows
    return actual


def assert_same(scenario: Scenario) -> dict[str, list[Decided]]:
    calculator, role = build(scenario)
    expected = reference(calculator, role, scenario.session_tags)
    actual = fast_path(calculator, scenario.session_tags)
    differing = {
        arn: {"reference": expected.get(arn), "fast path": actual.get(arn)}
        for arn in sorted(set(expected) | set(actual))
        if expected.get(arn) != actual.get(arn)
    }
    assert not differing, differing
    return expected


# --- generated scenarios ------------------------------------------------------------------------------


@st.composite
def scenarios(draw: st.DrawFn) -> Scenario:
    secrets = draw(
        st.lists(
            st.builds(
                SecretSpec,
                name=st.sampled_from(SECRET_NAMES),
                region=st.sampled_from(REGIONS),
                tags=st.sampled_from(((), (("team", "a"),), (("team", "b"),))),
                kms_key=st.sampled_from((None, None, KEY_ID)),
                deleted=st.sampled_from((False, False, False, False, True)),
                resource_policy=st.sampled_from((None,) * 6 + RESOURCE_POLICIES),
            ),
            min_size=3,
            max_size=15,
            unique_by=lambda s: (s.name, s.region),
        )
    )
    parameters = draw(
        st.lists(
            st.builds(
                ParameterSpec,
                name=st.sampled_from(PARAMETER_NAMES),
                region=st.sampled_from(REGIONS),
                secure=st.booleans(),
            ),
            max_size=4,
            unique_by=lambda p: (p.name, p.region),
        )
    )
    declared = draw(st.lists(st.sampled_from(DECLARED), max_size=2, unique=True))
    exact = [s.arn for s in secrets] + [p.arn for p in parameters] + declared
    suffixed = [f"arn:aws:secretsmanager:{s.region}:{ACCOUNT}:secret:{s.name}-??????" for s in secrets]
    resource = st.sampled_from(PATTERNS) | st.sampled_from(exact) | st.sampled_from(suffixed)

    def statements(effects: Sequence[str]) -> st.SearchStrategy[dict[str, Any]]:
        @st.composite
        def one(draw: st.DrawFn) -> dict[str, Any]:
            s: dict[str, Any] = {"Effect": draw(st.sampled_from(effects))}
            actions = draw(st.lists(st.sampled_from(ACTIONS), min_size=1, max_size=2, unique=True))
            s["NotAction" if draw(st.integers(0, 9)) == 0 else "Action"] = actions
            resources = draw(st.lists(resource, min_size=1, max_size=2, unique=True))
            s["NotResource" if draw(st.integers(0, 4)) == 0 else "Resource"] = resources
            if draw(st.integers(0, 2)) == 0:
                s["Condition"] = draw(st.sampled_from(CONDITIONS))
            return s

        return one()

    version = st.sampled_from(("2012-10-17",) * 5 + ("2008-10-17",))
    policies = draw(
        st.lists(
            st.builds(
                document, st.lists(statements(("Allow", "Allow", "Deny")), min_size=1, max_size=4), version
            ),
            min_size=1,
            max_size=2,
        )
    )
    boundary = draw(
        st.none()
        | st.builds(
            document, st.lists(statements(("Allow", "Allow", "Allow", "Deny")), min_size=1, max_size=3)
        )
    )
    role_tags = draw(st.sampled_from(((), (("team", "a"),), (("team", "b"),))))
    session_tags = draw(st.sampled_from((None, {"team": "a"}, {"team": "b"})))
    return Scenario(
        secrets=tuple(secrets),
        parameters=tuple(parameters),
        policies=tuple(policies),
        boundary=boundary,
        role_tags=role_tags,
        session_tags=session_tags,
        declared=tuple(declared),
    )


@settings(max_examples=250, deadline=None, derandomize=True)
@given(scenario=scenarios())
def test_fast_path_equals_per_resource_engine(scenario: Scenario) -> None:
    assert_same(scenario)


@settings(max_examples=250, deadline=None, derandomize=True)
@given(scenario=scenarios())
def test_whole_groups_equal_per_resource_engine(scenario: Scenario) -> None:
    """The same with every decided group kept whole: the path a role reading `*` takes, whose groups
    (thousands of secrets) these scenarios are too small to reach."""
    with patch.object(access_module, "_WHOLE", 1):
        assert_same(scenario)


@settings(max_examples=150, deadline=None, derandomize=True)
@given(scenario=scenarios())
def test_one_calculator_answers_every_session_of_a_role(scenario: Scenario) -> None:
    """A role several service accounts assume through Pod Identity is computed once per session's tags
    by one calculator, which splits the role's resources into groups once and reuses them: each
    session must still get what the per-resource engine gives it with its own tags."""
    calculator, role = build(scenario)
    for tags in ({"team": "b"}, None, {"team": "a"}):
        assert fast_path(calculator, tags) == reference(calculator, role, tags), tags


# --- hand-written cases -------------------------------------------------------------------------------

PROD_A = secret_arn("prod/a/db")
PROD_B = secret_arn("prod/b/x", "eu-west-1")
DEV = secret_arn("dev/a/y")
TEAM_B = secret_arn("prod/b/db")
PARAM = parameter_arn("/prod/a/p1")

# the catalogue of the first cases: two prod secrets in two regions, a dev secret and a parameter
THREE_SECRETS = (
    SecretSpec("prod/a/db", "us-east-1"),
    SecretSpec("prod/b/x", "eu-west-1"),
    SecretSpec("dev/a/y", "us-east-1"),
)
ONE_PARAMETER = (ParameterSpec("/prod/a/p1", "us-east-1"),)

TABLE = [
    pytest.param(
        Scenario(
            secrets=THREE_SECRETS,
            parameters=ONE_PARAMETER,
            policies=(
                document(
                    [
                        {"Effect": "Allow", "Action": "*", "Resource": "*"},
                        {
                            "Effect": "Deny",
                            "Action": GET,
                            "Resource": f"arn:aws:secretsmanager:*:{ACCOUNT}:secret:prod/*",
                            "Condition": {"IpAddress": {"aws:SourceIp": "10.0.0.0/8"}},
                        },
                    ]
                ),
            ),
            checks=(
                (PROD_A, GET, "conditional"),
                (PROD_B, GET, "conditional"),
                (PROD_A, DESCRIBE, "allowed"),
                (DEV, GET, "allowed"),
                (PARAM, GET_PARAMETERS, "allowed"),
            ),
        ),
        id="EVAL-star-allow-conditioned-deny-on-prefix",
    ),
    pytest.param(
        Scenario(
            secrets=THREE_SECRETS,
            parameters=ONE_PARAMETER,
            policies=(
                document([{"Effect": "Allow", "Action": ["secretsmanager:Get*", "ssm:*"], "Resource": "*"}]),
            ),
            boundary=document(
                [
                    {
                        "Effect": "Allow",
                        "Action": "secretsmanager:*",
                        "Resource": f"arn:aws:secretsmanager:*:{ACCOUNT}:secret:prod/a/*",
                    },
                    {"Effect": "Allow", "Action": "ssm:GetParameter*", "Resource": "*"},
                ]
            ),
            checks=(
                (PROD_A, GET, "allowed"),
                (PROD_A, DESCRIBE, None),  # the identity policies do not allow it
                (PROD_B, GET, None),  # outside the boundary
                (DEV, GET, None),
                (PARAM, GET_PARAMETERS, "allowed"),
            ),
        ),
        id="PB-boundary-allows-only-a-prefix",
    ),
    pytest.param(
        Scenario(
            secrets=(
                SecretSpec("prod/a/db", "us-east-1", tags=(("team", "a"),)),
                SecretSpec("prod/b/db", "us-east-1", tags=(("team", "b"),)),
                SecretSpec("dev/a/y", "us-east-1"),
            ),
            parameters=(ParameterSpec("/prod/a/p1", "us-east-1"),),
            policies=(
                document(
                    [
                        {
                            "Effect": "Allow",
                            "Action": [GET, GET_PARAMETERS],
                            "Resource": "*",
                            "Condition": {"StringEquals": {"aws:ResourceTag/team": "a"}},
                        },
                        {"Effect": "Allow", "Action": DESCRIBE, "Resource": "*"},
                    ]
                ),
            ),
            checks=(
                (PROD_A, GET, "allowed"),
                (TEAM_B, GET, None),  # tagged team=b
                (DEV, GET, None),  # untagged: list-secrets gives every tag, so the tag is absent
                (TEAM_B, DESCRIBE, "allowed"),
                (PARAM, GET_PARAMETERS, "conditional"),  # a parameter's tags are not known
            ),
        ),
        id="COND-resource-tag-splits-secrets",
    ),
]


@pytest.mark.parametrize("scenario", TABLE)
def test_table(scenario: Scenario) -> None:
    expected = assert_same(scenario)
    for arn, action, outcome in scenario.checks:
        found = next((row[1] for row in expected.get(arn, []) if row[0] == action), None)
        assert found == outcome, (arn, action, expected.get(arn))


# --- kms:Decrypt, decided once per group of keys ------------------------------------------------------
# Without a key policy in the snapshot, the role's statements decide kms:Decrypt (the default key policy
# delegates to IAM), and they see the key only through their Resource patterns and its account: the
# calculator decides once per such group. The reference decides every key on its own.

KEYS = ("1111aaaa-0000-4000-8000-000000000001", "2222bbbb-0000-4000-8000-000000000002", "alias/team-b")
KEYED = tuple(
    SecretSpec(name, region, kms_key=key)
    for name, region, key in (
        ("prod/a/db", "us-east-1", KEYS[0]),
        ("prod/a/x", "us-east-1", KEYS[1]),
        ("prod/b/x", "eu-west-1", KEYS[0]),
        ("prod/b/db", "eu-west-1", KEYS[2]),
        ("dev/a/y", "us-east-1", KEYS[2]),
    )
)
READ_ALL = {"Effect": "Allow", "Action": [GET, DESCRIBE, GET_PARAMETERS], "Resource": "*"}
US_KEYS = f"arn:aws:kms:us-east-1:{ACCOUNT}:key/*"


def key_arn(key: str, region: str) -> str:
    return f"arn:aws:kms:{region}:{ACCOUNT}:{key if key.startswith('alias/') else 'key/' + key}"


def decrypt(
    resource: str = "*",
    *,
    effect: str = "Allow",
    not_resource: str | None = None,
    condition: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """A kms:Decrypt statement on `resource` (or on everything but `not_resource`)."""
    statement: dict[str, Any] = {"Effect": effect, "Action": "kms:Decrypt"}
    if not_resource is not None:
        statement["NotResource"] = not_resource
    else:
        statement["Resource"] = resource
    if condition is not None:
        statement["Condition"] = condition
    return statement


def reference_decrypt(
    calculator: AccessCalculator, role: Role, arn: str, grant: Grant, tags: Mapping[str, str]
) -> Decided | None:
    """kms:Decrypt on the grant's key, asked of the engine for that key alone (as _decrypt asks it)."""
    docs, boundary, _ = calculator.documents(role)
    region = arn.split(":")[3]
    host = "secretsmanager" if grant.kind == SECRETSMANAGER else "ssm"
    context = {
        "kms:ViaService": f"{host}.{region}.amazonaws.com",
        "kms:CallerAccount": ACCOUNT,
        "aws:SecureTransport": "true",
        "aws:RequestedRegion": region,
        "kms:EncryptionContext:SecretARN": arn,
        **{f"aws:PrincipalTag/{k}": v for k, v in (dict(role.tags) | dict(tags)).items()},
    }
    assert grant.needs_key is not None
    found = _decide(
        docs, "kms:Decrypt", grant.needs_key, context, boundary, None, role.arn, ("aws:PrincipalTag/",)
    )
    return None if found is None else _row(found)


@pytest.mark.parametrize("whole", [False, True], ids=["groups-walked", "groups-whole"])
def test_decrypt_that_reads_the_encryption_context_is_decided_per_secret(whole: bool) -> None:
    """Secrets Manager passes the secret's ARN as the encryption context (SecretARN), so a key policy or
    an IAM statement conditioned on it allows Decrypt for some secrets under one key and not others
    (Secrets Manager User Guide, "Encryption context"): secrets sharing a key and region cannot share
    one answer then."""
    shared_key = tuple(
        SecretSpec(name, "us-east-1", kms_key=KEYS[0]) for name in ("prod/a/db", "prod/a/other")
    )
    only_db = f"arn:aws:secretsmanager:us-east-1:{ACCOUNT}:secret:prod/a/db-*"
    statement = decrypt(condition={"StringLike": {"kms:EncryptionContext:SecretARN": only_db}})
    scenario = Scenario(secrets=shared_key, parameters=(), policies=(document([READ_ALL, statement]),))
    calculator, role = build(scenario)
    with patch.object(access_module, "_WHOLE", 1) if whole else nullcontext():
        grants = calculator.access(ROLE_ARN, None).grants
    actual = {arn: None if g.decrypt is None else _row(g.decrypt) for arn, g in grants.items()}
    expected = {arn: reference_decrypt(calculator, role, arn, g, {}) for arn, g in grants.items()}
    assert actual == expected
    assert sorted(arn.split(":secret:")[1][:-7] for arn, d in actual.items() if d is not None) == [
        "prod/a/db"
    ]


@pytest.mark.parametrize(
    ("statements", "boundary", "tags"),
    [
        pytest.param([decrypt()], None, {}, id="any-key"),
        pytest.param(
            [decrypt(US_KEYS)],
            None,
            {},
            id="one-region's-keys",
        ),
        pytest.param(
            [decrypt(key_arn(KEYS[0], "us-east-1"))],
            None,
            {},
            id="one-key",
        ),
        pytest.param(
            [
                {"Effect": "Allow", "Action": "kms:*", "Resource": "*"},
                decrypt(key_arn(KEYS[1], "us-east-1"), effect="Deny"),
            ],
            None,
            {},
            id="deny-one-key",
        ),
        pytest.param(
            [decrypt(not_resource=US_KEYS)],
            None,
            {},
            id="not-resource",
        ),
        pytest.param(
            [
                decrypt(
                    condition={"StringEquals": {"kms:ViaService": "secretsmanager.us-east-1.amazonaws.com"}}
                )
            ],
            None,
            {},
            id="via-service",
        ),
        pytest.param(
            [decrypt(condition={"StringEquals": {"aws:PrincipalTag/team": "a"}})],
            None,
            {"team": "a"},
            id="principal-tag",
        ),
        pytest.param(
            [decrypt()],
            document(
                [
                    {
                        "Effect": "Allow",
                        "Action": ["secretsmanager:*", "kms:Decrypt"],
                        "Resource": [US_KEYS, "*"],
                    }
                ]
            ),
            {},
            id="boundary",
        ),
        pytest.param(
            [decrypt(condition={"IpAddress": {"aws:SourceIp": "10.0.0.0/8"}})],
            None,
            {},
            id="unknown-condition",
        ),
    ],
)
@pytest.mark.parametrize("whole", [False, True], ids=["groups-walked", "groups-whole"])
def test_decrypt_grouped_by_key_coverage_equals_each_key_alone(
    statements: list[dict[str, Any]], boundary: dict[str, Any] | None, tags: dict[str, str], whole: bool
) -> None:
    scenario = Scenario(
        secrets=KEYED,
        parameters=(),
        policies=(document([READ_ALL, *statements]),),
        boundary=boundary,
        session_tags=tags or None,
    )
    calculator, role = build(scenario)
    with patch.object(access_module, "_WHOLE", 1) if whole else nullcontext():
        grants = calculator.access(ROLE_ARN, scenario.session_tags).grants
    keyed = {arn: g for arn, g in grants.items() if g.needs_key}
    assert len(keyed) == len(KEYED)  # every secret is read, each through a customer-managed key
    actual = {arn: None if g.decrypt is None else _row(g.decrypt) for arn, g in keyed.items()}
    expected = {arn: reference_decrypt(calculator, role, arn, g, tags) for arn, g in keyed.items()}
    assert actual == expected
    # the cases differ: not every one of them allows every key
    assert any(v is not None for v in actual.values())
