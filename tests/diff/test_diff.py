"""`iamscope diff BEFORE AFTER` and `iamscope diff STATE --least-privilege` (DESIGN.md §3): pairs of
states built with tests/scan/builder.py, run through the CLI in-process, compared on exact change lists
(change, service account, resource, actions, escalation), exact reasons, summary lines and exit codes
(0 no new access, 1 new access, 2 error).

Each test runs in its own working directory (no .iamscope.yaml picked up) and names its sides `before`
and `after`, so the labels in the output are those relative paths."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.k8s.helpers import run_cli
from tests.scan.builder import (
    ACCOUNT,
    DESCRIBE,
    GET,
    ISSUER,
    READ,
    REGION,
    State,
    allow,
    deny,
    objects,
    role_arn,
    secret_arn,
)

SECRETS = f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:"
PROD_ALL = SECRETS + "prod/*"
PAYMENTS_ALL = SECRETS + "prod/payments/*"
SUB, AUD = f"{ISSUER}:sub", f"{ISSUER}:aud"
BOTH = (DESCRIBE, GET)  # ASCP's two calls on a secret, as the diff sorts them

API, WORKER, TOOL = "prod/ServiceAccount/api", "prod/ServiceAccount/worker", "dev/ServiceAccount/tool"
DB, CACHE, PAYMENTS = secret_arn("prod/db"), secret_arn("prod/cache"), secret_arn("prod/payments")
CARD, BANK = secret_arn("prod/payments/card"), secret_arn("prod/payments/bank")

PATTERN_REASON = "a wildcard pattern: it also reaches every matching secret created later"
WILDCARD_REASON = "granted through a statement with a wildcard Action or Resource"
LP_LABEL = "least privilege (iamscope generate)"

Row = tuple[str, str, str, tuple[str, ...], bool]
Fill = Callable[[State], None]


@pytest.fixture(autouse=True)
def _workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)  # never pick up a .iamscope.yaml from wherever the tests run


# --- helpers ------------------------------------------------------------------------------------------


def granted_by(role: str, index: int) -> str:
    """The reason naming statement `index` of the inline policy the builder gives role `role`."""
    return f"granted by identity policy {role_arn(role)}#{role}-inline: statement {index} (Allow)"


def app(
    state: State,
    namespace: str,
    name: str,
    statements: Sequence[Mapping[str, Any]],
    *names: str,
    role: str | None = None,
    trust_conditions: Mapping[str, Any] | None = None,
) -> str:
    """Deployment `name` in `namespace` running as ServiceAccount `name`, annotated with IRSA role `role`
    (default `name`; its trust admits exactly that SA unless `trust_conditions`) holding `statements`;
    it mounts SecretProviderClass `name` declaring the secrets `names` (no mount when there are none)."""
    arn = state.irsa_role(role or name, namespace, name, statements, trust_conditions=trust_conditions)
    state.service_account(namespace, name, arn)
    if names:
        state.spc(namespace, name, objects(*names))
    return state.workload("Deployment", namespace, name, name, name if names else None)


def build(label: str, fill: Fill) -> Path:
    """Write the state `fill` describes to ./<label> (STATE/k8s + STATE/aws) and return that path."""
    state = State(Path(label))
    fill(state)
    return state.write()


def pair(before: Fill, after: Fill) -> tuple[Path, Path]:
    return build("before", before), build("after", after)


def diff(capsys: pytest.CaptureFixture[str], *args: str | Path) -> tuple[int, str, str]:
    return run_cli(["diff", *map(str, args)], capsys)


def diff_json(capsys: pytest.CaptureFixture[str], *args: str | Path) -> tuple[int, dict[str, Any]]:
    code, out, err = diff(capsys, *args, "--format", "json")
    assert err == ""
    return code, json.loads(out)


def rows(document: Mapping[str, Any]) -> tuple[Row, ...]:
    return tuple(
        (c["change"], c["service_account"], c["resource"], tuple(c["actions"]), c["escalation"])
        for c in document["changes"]
    )


def reasons(document: Mapping[str, Any]) -> dict[tuple[str, str, str], list[str]]:
    return {(c["change"], c["service_account"], c["resource"]): c["reasons"] for c in document["changes"]}


def counts(document: Mapping[str, Any]) -> tuple[int, int, int]:
    """(new_access, removed_access, escalations)."""
    return document["new_access"], document["removed_access"], document["escalations"]


def summary_line(capsys: pytest.CaptureFixture[str], *args: str | Path) -> tuple[int, list[str]]:
    """The exit code and the first two lines of the text output (header, summary)."""
    code, out, err = diff(capsys, *args)
    assert err == ""
    return code, out.splitlines()[:2]


# --- (1) a new wildcard statement ---------------------------------------------------------------------


def test_a_new_wildcard_statement_adds_the_pattern_and_every_existing_secret_it_reaches(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """IAM: `*` in a Resource ARN matches any sequence of characters, `/` included, so `secret:prod/*`
    reaches every secret whose name starts with `prod/` — today's and any created later. prod/db was
    already granted (no change), dev/x is not matched (no change)."""

    def secrets(s: State) -> None:
        for name in ("prod/db", "prod/cache", "dev/x"):
            s.secret(name)

    def before(s: State) -> None:
        secrets(s)
        app(s, "prod", "api", [allow(READ, DB)], "prod/db")

    def after(s: State) -> None:
        secrets(s)
        app(s, "prod", "api", [allow(READ, DB), allow(GET, PROD_ALL)], "prod/db")

    code, doc = diff_json(capsys, *pair(before, after))
    assert code == 1
    assert rows(doc) == (
        ("added", API, PROD_ALL, (GET,), True),
        ("added", API, CACHE, (GET,), True),
    )
    assert reasons(doc) == {
        ("added", API, PROD_ALL): [PATTERN_REASON, granted_by("api", 1)],
        ("added", API, CACHE): [WILDCARD_REASON, granted_by("api", 1)],
    }
    assert [c.get("pattern", False) for c in doc["changes"]] == [True, False]
    assert counts(doc) == (2, 0, 2)


# --- (2) a new SecretProviderClass object -------------------------------------------------------------


@pytest.mark.parametrize(
    ("worker_declares_cache", "expected_row", "expected_reasons", "summary"),
    [
        pytest.param(
            False,
            ("added", API, CACHE, BOTH, False),
            [granted_by("api", 0)],
            "1 new access(es) (0 escalation(s)), 0 removed",
            id="only-api-declares-it",
        ),
        pytest.param(
            True,
            ("added", API, CACHE, BOTH, True),
            ["reaches what prod/Deployment/worker declares", granted_by("api", 0)],
            "1 new access(es) (1 escalation(s)), 0 removed",
            id="worker-declares-it-too",
        ),
    ],
)
def test_a_new_spc_object_granted_to_its_workload(
    capsys: pytest.CaptureFixture[str],
    worker_declares_cache: bool,
    expected_row: Row,
    expected_reasons: list[str],
    summary: str,
) -> None:
    """ASCP: a pod reads exactly the objects its SecretProviderClass lists, with its service account's
    role. api now lists prod/cache and its role grants it: new access either way (exit 1), but an
    escalation only when another workload (worker) declares prod/cache, i.e. api now reads what
    another workload owns."""

    def fill(s: State, api_names: Sequence[str], api_grants: Sequence[str]) -> None:
        for name in ("prod/db", "prod/cache"):
            s.secret(name)
        app(s, "prod", "api", [allow(READ, list(api_grants))], *api_names)
        if worker_declares_cache:
            app(s, "prod", "worker", [allow(READ, CACHE)], "prod/cache")

    before, after = pair(
        lambda s: fill(s, ["prod/db"], [DB]), lambda s: fill(s, ["prod/db", "prod/cache"], [DB, CACHE])
    )
    code, doc = diff_json(capsys, before, after)
    assert code == 1
    assert rows(doc) == (expected_row,)
    assert reasons(doc) == {("added", API, CACHE): expected_reasons}
    assert summary_line(capsys, before, after) == (1, ["iamscope diff: before -> after", summary])


# --- (3) a trust widened ------------------------------------------------------------------------------


def test_a_trust_widened_to_stringlike_admits_every_service_account_of_the_namespace(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """IRSA: StringLike with `*` admits every matching service account: `system:serviceaccount:prod:*`
    lets any pod of prod request a projected token for sts.amazonaws.com and call
    AssumeRoleWithWebIdentity with it, annotation or not (DESIGN.md §3 `assumable_roles`). worker now
    reads prod/db, which api declares: an escalation. dev/tool does not match the pattern."""
    like = {"StringLike": {SUB: "system:serviceaccount:prod:*"}, "StringEquals": {AUD: "sts.amazonaws.com"}}

    def fill(s: State, trust: Mapping[str, Any] | None) -> None:
        s.secret("prod/db")
        app(s, "prod", "api", [allow(READ, DB)], "prod/db", trust_conditions=trust)
        s.service_account("prod", "worker")
        s.workload("Deployment", "prod", "worker", "worker")
        s.service_account("dev", "tool")
        s.workload("Deployment", "dev", "tool", "tool")

    code, doc = diff_json(capsys, *pair(lambda s: fill(s, None), lambda s: fill(s, like)))
    assert code == 1
    assert rows(doc) == (("added", WORKER, DB, BOTH, True),)
    assert reasons(doc) == {
        ("added", WORKER, DB): [
            "reaches what prod/Deployment/api declares",
            f"{WORKER} can newly assume {role_arn('api')} (a trust policy admits its token now)",
            granted_by("api", 0),
        ]
    }
    assert doc["changes"][0]["role_arn"] == role_arn("api")
    assert counts(doc) == (1, 0, 1)


# --- (4) a Deny removed -------------------------------------------------------------------------------


def deny_fill(with_deny: bool) -> Fill:
    """api's role allows prod/*, and (with_deny) denies prod/payments/*."""

    def fill(s: State) -> None:
        for name in ("prod/db", "prod/payments/card", "prod/payments/bank"):
            s.secret(name)
        statements = [allow(READ, PROD_ALL)] + ([deny(READ, PAYMENTS_ALL)] if with_deny else [])
        app(s, "prod", "api", statements, "prod/db")

    return fill


def test_removing_a_deny_adds_what_it_denied(capsys: pytest.CaptureFixture[str]) -> None:
    """IAM: an explicit Deny overrides any Allow. With the Deny on prod/payments/* gone, the Allow on
    prod/* reaches both payments secrets; granted through a wildcard statement, so escalations. The
    pattern prod/* itself was held before (it reaches future non-payments secrets) and is unchanged."""
    code, doc = diff_json(capsys, *pair(deny_fill(True), deny_fill(False)))
    assert code == 1
    assert rows(doc) == (
        ("added", API, BANK, BOTH, True),
        ("added", API, CARD, BOTH, True),
    )
    assert reasons(doc) == {
        ("added", API, BANK): [WILDCARD_REASON, granted_by("api", 0)],
        ("added", API, CARD): [WILDCARD_REASON, granted_by("api", 0)],
    }
    assert counts(doc) == (2, 0, 2)


# --- (5) across namespaces ----------------------------------------------------------------------------

A_APP, B_APP = "team-a/ServiceAccount/app", "team-b/ServiceAccount/app"
LEDGER, A_DB, SHARED = secret_arn("team-b/ledger"), secret_arn("team-a/db"), secret_arn("shared/db")


def test_a_grant_of_another_namespaces_secret_says_it_crosses_namespaces(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """ASCP: nothing ties a secret to a namespace; whoever's role grants it can mount it. team-a's SPC
    copies team-b's ledger and team-a's role grants it: team-a now reads what team-b declares."""

    def fill(s: State, copied: bool) -> None:
        for name in ("team-a/db", "team-b/ledger"):
            s.secret(name)
        names = ["team-a/db", "team-b/ledger"] if copied else ["team-a/db"]
        app(s, "team-a", "app", [allow(READ, [A_DB, LEDGER] if copied else A_DB)], *names, role="team-a")
        app(s, "team-b", "app", [allow(READ, LEDGER)], "team-b/ledger", role="team-b")

    code, doc = diff_json(capsys, *pair(lambda s: fill(s, False), lambda s: fill(s, True)))
    assert code == 1
    assert rows(doc) == (("added", A_APP, LEDGER, BOTH, True),)
    assert reasons(doc) == {
        ("added", A_APP, LEDGER): [
            "reaches what team-b/Deployment/app declares (crosses namespaces: team-a → team-b)",
            granted_by("team-a", 0),
        ]
    }


def test_a_workload_moved_to_another_namespace_keeping_its_old_role_crosses_namespaces(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """IRSA: a role's trust decides who assumes it. The SPC declaring shared/db moves from team-a to
    team-b, and team-a's role (which still grants shared/db and team-a/db) is made to trust team-b's
    service account: team-b gains shared/db (now its own declaration: no escalation) and team-a/db,
    which team-a still declares — across namespaces."""
    subs = {SUB: ["system:serviceaccount:team-a:app", "system:serviceaccount:team-b:app"]}

    def fill(s: State, moved: bool) -> None:
        for name in ("team-a/db", "shared/db"):
            s.secret(name)
        grants = [allow(READ, [A_DB, SHARED])]
        if moved:
            app(
                s,
                "team-a",
                "app",
                grants,
                "team-a/db",
                role="team-a",
                trust_conditions={"StringEquals": subs},
            )
            s.service_account("team-b", "app", role_arn("team-a"))
            s.spc("team-b", "app", objects("shared/db"))
            s.workload("Deployment", "team-b", "app", "app", "app")
        else:
            app(s, "team-a", "app", grants, "team-a/db", "shared/db", role="team-a")
            s.service_account("team-b", "app")
            s.workload("Deployment", "team-b", "app", "app")

    code, doc = diff_json(capsys, *pair(lambda s: fill(s, False), lambda s: fill(s, True)))
    assert code == 1
    assert rows(doc) == (
        ("added", B_APP, SHARED, BOTH, False),
        ("added", B_APP, A_DB, BOTH, True),
    )
    newly = f"{B_APP} can newly assume {role_arn('team-a')} (a trust policy admits its token now)"
    assert reasons(doc) == {
        ("added", B_APP, SHARED): [newly, granted_by("team-a", 0)],
        ("added", B_APP, A_DB): [
            "reaches what team-a/Deployment/app declares (crosses namespaces: team-b → team-a)",
            newly,
            granted_by("team-a", 0),
        ],
    }


def test_an_spc_moved_to_another_namespace_with_a_role_of_its_own(capsys: pytest.CaptureFixture[str]) -> None:
    """The plain move: team-b's new role grants shared/db, team-a's role still grants it. The diff is
    about access (DESIGN.md §3: what AFTER lets each service account do that BEFORE did not): only
    team-b's access is new, and it is its own declaration. team-a's unchanged grant, now of a secret
    only team-b declares, is the scan's cross-workload-grant, not a diff change."""

    def fill(s: State, moved: bool) -> None:
        s.secret("shared/db")
        app(s, "team-a", "app", [allow(READ, SHARED)], *([] if moved else ["shared/db"]), role="team-a")
        app(
            s,
            "team-b",
            "app",
            [allow(READ, SHARED)] if moved else [],
            *(["shared/db"] if moved else []),
            role="team-b",
        )

    code, doc = diff_json(capsys, *pair(lambda s: fill(s, False), lambda s: fill(s, True)))
    assert code == 1
    assert rows(doc) == (("added", B_APP, SHARED, BOTH, False),)
    assert reasons(doc) == {("added", B_APP, SHARED): [granted_by("team-b", 0)]}


# --- more ways to gain access --------------------------------------------------------------------------


def pod_identity_fill(worker_associated: bool) -> Fill:
    """api uses role api through an EKS Pod Identity association; worker, with (worker_associated) an
    association to the same role."""

    def fill(s: State) -> None:
        s.association_listing = True
        s.secret("prod/db")
        role = s.pod_identity_role("api", [allow(READ, DB)])
        s.service_account("prod", "api")
        s.association("prod", "api", role)
        s.spc("prod", "api", objects("prod/db"), usePodIdentity="true")
        s.workload("Deployment", "prod", "api", "api", "api")
        s.service_account("prod", "worker")
        s.workload("Deployment", "prod", "worker", "worker")
        if worker_associated:
            s.association("prod", "worker", role)

    return fill


def test_a_new_pod_identity_association_gives_the_role_to_another_service_account(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """EKS Pod Identity: the association (cluster, namespace, service account) → role decides who gets
    the role's credentials; the role's trust only admits pods.eks.amazonaws.com. A new association for
    worker gives it api's prod/db: an escalation."""
    code, doc = diff_json(capsys, *pair(pod_identity_fill(False), pod_identity_fill(True)))
    assert code == 1
    assert rows(doc) == (("added", WORKER, DB, BOTH, True),)
    assert reasons(doc)[("added", WORKER, DB)][0] == "reaches what prod/Deployment/api declares"
    assert reasons(doc)[("added", WORKER, DB)][-1] == granted_by("api", 0)


def test_a_new_pod_identity_association_is_named_as_the_reason(capsys: pytest.CaptureFixture[str]) -> None:
    """EKS Pod Identity: the trust policy (pods.eks.amazonaws.com) is the same before and after; the
    reason must point the reviewer at what changed, the association."""
    _, doc = diff_json(capsys, *pair(pod_identity_fill(False), pod_identity_fill(True)))
    newly = [r for r in reasons(doc)[("added", WORKER, DB)] if "can newly assume" in r]
    assert len(newly) == 1
    assert newly[0].startswith(f"{WORKER} can newly assume {role_arn('api')}")
    assert "association" in newly[0]
    assert "trust policy" not in newly[0]


def test_kms_decrypt_on_a_customer_managed_key_is_new_access(capsys: pytest.CaptureFixture[str]) -> None:
    """KMS: GetSecretValue on a secret encrypted with a customer managed key also needs kms:Decrypt on
    the key (its default key policy lets IAM decide): granting Decrypt is new access to the secret."""

    def fill(decrypt: bool) -> Fill:
        def go(s: State) -> None:
            key = s.kms_key("k1")
            s.secret("prod/db", kms_key=key)
            statements = [allow(READ, DB)] + ([allow("kms:Decrypt", key)] if decrypt else [])
            app(s, "prod", "api", statements, "prod/db")

        return go

    code, doc = diff_json(capsys, *pair(fill(False), fill(True)))
    assert code == 1
    assert rows(doc) == (("added", API, DB, ("kms:Decrypt",), False),)
    assert reasons(doc) == {("added", API, DB): [granted_by("api", 0), granted_by("api", 1)]}


@pytest.mark.parametrize(
    "broad",
    [
        pytest.param("zz-broad", id="broad-role-sorts-after"),
        pytest.param(
            "aa-broad",
            id="broad-role-sorts-before",
        ),
    ],
)
def test_access_through_a_wildcard_of_a_second_role_is_an_escalation_whatever_the_role_names(
    capsys: pytest.CaptureFixture[str], broad: str
) -> None:
    """IAM: a principal's access is the union of what every role it can assume allows. api's own role
    now grants prod/cache explicitly, and a second role trusting api grants prod/* (a wildcard): the
    new access to prod/cache is reached through a wildcard statement, an escalation, whichever role's
    name sorts first."""

    def fill(after: bool) -> Fill:
        def go(s: State) -> None:
            for name in ("prod/db", "prod/cache"):
                s.secret(name)
            app(s, "prod", "api", [allow(READ, [DB, CACHE] if after else DB)], "prod/db")
            s.irsa_role(broad, "prod", "api", [allow(READ, PROD_ALL)] if after else [])

        return go

    code, doc = diff_json(capsys, *pair(fill(False), fill(True)))
    assert code == 1
    assert rows(doc) == (
        ("added", API, PROD_ALL, BOTH, True),
        ("added", API, CACHE, BOTH, True),
    )
    assert reasons(doc) == {
        ("added", API, PROD_ALL): [PATTERN_REASON, granted_by(broad, 0)],
        ("added", API, CACHE): [WILDCARD_REASON, *sorted([granted_by("api", 0), granted_by(broad, 0)])],
    }


def test_an_after_side_that_cannot_be_read_does_not_pass_the_gate(capsys: pytest.CaptureFixture[str]) -> None:
    """errors.IncompleteInputError: a result built from part of the data must not pass as clean. Without
    the IAM snapshot nothing is known of what AFTER's roles grant, so "no new access" (exit 0) cannot be
    claimed; DESIGN.md §3 lists 2 for a diff error (scan uses 3 for incomplete input): either, not 0."""

    def fill(s: State) -> None:
        s.secret("prod/db")
        app(s, "prod", "api", [allow(READ, DB)], "prod/db")

    before = build("before", fill)
    state = State(Path("after"), iam=False)
    fill(state)
    after = state.write()
    code, doc = diff_json(capsys, before, after)
    assert doc["incomplete"] == [
        "after: no iam-authorization-details.json: which roles exist and what they grant is unknown"
    ]
    assert code == 3  # input incomplete, as scan says it


# --- (6) an equivalent policy -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "after_statements",
    [
        pytest.param(
            [
                deny(["secretsmanager:deletesecret"], ["*"], sid="NoDeletes"),
                allow("SecretsManager:getSecretValue", [DB, CACHE], sid="Renamed"),
                allow(["secretsmanager:describesecret", "SECRETSMANAGER:GetSecretValue"], DB),
            ],
            id="reordered-case-string-vs-list-sid",
        ),
        pytest.param(
            [
                allow([GET], [CACHE]),
                allow([GET, DESCRIBE], [DB]),
                allow(GET, DB, sid="Duplicate"),
                deny("secretsmanager:DeleteSecret", "*"),
            ],
            id="split-and-duplicated",
        ),
    ],
)
def test_an_equivalent_policy_is_no_change_in_access(
    capsys: pytest.CaptureFixture[str], after_statements: list[dict[str, Any]]
) -> None:
    """IAM: statement order, Sids and the string-or-list form of Action/Resource carry no meaning, and
    action names are case-insensitive; the diff compares access maps, not text."""

    def fill(statements: Sequence[Mapping[str, Any]]) -> Fill:
        def go(s: State) -> None:
            for name in ("prod/db", "prod/cache"):
                s.secret(name)
            app(s, "prod", "api", statements, "prod/db")

        return go

    before_statements = [
        allow(READ, [DB], sid="ReadDb"),
        allow([GET], [CACHE, DB], sid="Cache"),
        deny("secretsmanager:DeleteSecret", "*"),
    ]
    before, after = pair(fill(before_statements), fill(after_statements))
    code, doc = diff_json(capsys, before, after)
    assert (code, rows(doc), counts(doc)) == (0, (), (0, 0, 0))
    assert diff(capsys, before, after) == (0, "iamscope diff: before -> after\nno change in access\n", "")


def test_the_same_state_on_both_sides_is_no_change(capsys: pytest.CaptureFixture[str]) -> None:
    state = build("before", deny_fill(True))
    assert diff(capsys, state, state) == (0, "iamscope diff: before -> before\nno change in access\n", "")


# --- (7) removed access -------------------------------------------------------------------------------


def test_removed_access_exits_0_and_is_counted(capsys: pytest.CaptureFixture[str]) -> None:
    """Removing a grant only takes access away: nothing new, exit 0 (DESIGN.md §3)."""

    def fill(grants: Sequence[str]) -> Fill:
        def go(s: State) -> None:
            for name in ("prod/db", "prod/cache"):
                s.secret(name)
            app(s, "prod", "api", [allow(READ, list(grants))], "prod/db")

        return go

    before, after = pair(fill([DB, CACHE]), fill([DB]))
    code, doc = diff_json(capsys, before, after)
    assert code == 0
    assert rows(doc) == (("removed", API, CACHE, BOTH, False),)
    assert reasons(doc) == {("removed", API, CACHE): ["no longer granted"]}
    assert counts(doc) == (0, 1, 0)
    assert summary_line(capsys, before, after) == (
        0,
        ["iamscope diff: before -> after", "0 new access(es) (0 escalation(s)), 1 removed"],
    )


def test_adding_a_deny_removes_access(capsys: pytest.CaptureFixture[str]) -> None:
    """IAM: an explicit Deny overrides any Allow — the reverse of test_removing_a_deny_adds_what_it_denied."""
    code, doc = diff_json(capsys, *pair(deny_fill(False), deny_fill(True)))
    assert code == 0
    assert rows(doc) == (
        ("removed", API, BANK, BOTH, False),
        ("removed", API, CARD, BOTH, False),
    )
    assert counts(doc) == (0, 2, 0)


def test_a_grant_made_unconditional_is_new_access_and_the_reverse_is_removed(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """IAM: a statement whose Condition cannot be known from the snapshot (aws:SourceIp) allows only
    under that condition; dropping the Condition allows always — more access (diff.py: a grant that was
    only conditional and is now plain is new access)."""

    def fill(condition: Mapping[str, Any] | None) -> Fill:
        def go(s: State) -> None:
            s.secret("prod/db")
            app(s, "prod", "api", [allow(READ, DB, condition=condition)], "prod/db")

        return go

    before, after = pair(fill({"IpAddress": {"aws:SourceIp": "10.0.0.0/8"}}), fill(None))
    code, doc = diff_json(capsys, before, after)
    assert code == 1
    assert rows(doc) == (("added", API, DB, BOTH, False),)
    assert reasons(doc) == {
        ("added", API, DB): ["was allowed only under conditions before", granted_by("api", 0)]
    }
    code, doc = diff_json(capsys, after, before)
    assert code == 0
    assert rows(doc) == (("removed", API, DB, BOTH, False),)
    assert reasons(doc) == {("removed", API, DB): ["now allowed only under conditions"]}


# --- (8) saved scan files -----------------------------------------------------------------------------


def save_scan(capsys: pytest.CaptureFixture[str], state: Path, out: str) -> Path:
    code, _, err = run_cli(
        ["scan", str(state), "--format", "json", "--output", out, "--fail-on", "none"], capsys
    )
    assert (code, err) == (0, "")
    return Path(out)


def without_labels(document: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in document.items() if k not in ("before", "after")}


def test_saved_scan_files_give_the_same_diff_as_directories(capsys: pytest.CaptureFixture[str]) -> None:
    """DESIGN.md §3: BEFORE/AFTER are each a STATE dir or a scan JSON file; the scan document is what is
    compared, so a saved `scan --format json` of a state diffs exactly like the state. Uses the
    trust-widening pair (IRSA: StringLike with * admits every matching service account)."""
    like = {"StringLike": {SUB: "system:serviceaccount:prod:*"}, "StringEquals": {AUD: "sts.amazonaws.com"}}

    def fill(s: State, trust: Mapping[str, Any] | None) -> None:
        for name in ("prod/db", "prod/cache"):
            s.secret(name)
        app(s, "prod", "api", [allow(READ, DB), allow(GET, PROD_ALL)], "prod/db", trust_conditions=trust)
        app(s, "prod", "worker", [allow(READ, CACHE)], "prod/cache")

    before, after = pair(lambda s: fill(s, None), lambda s: fill(s, like))
    before_json, after_json = save_scan(capsys, before, "before.json"), save_scan(capsys, after, "after.json")

    code, directories = diff_json(capsys, before, after)
    assert code == 1
    assert rows(directories) == (("added", WORKER, PROD_ALL, (GET,), True), ("added", WORKER, DB, BOTH, True))
    for sides in ((before_json, after_json), (before, after_json), (before_json, after)):
        other_code, other = diff_json(capsys, *sides)
        assert other_code == 1
        assert (other["before"], other["after"]) == tuple(map(str, sides))
        assert without_labels(other) == without_labels(directories)
    assert (
        diff(capsys, before_json, after_json)[1].splitlines()[1:]
        == diff(capsys, before, after)[1].splitlines()[1:]
    )


@pytest.mark.parametrize(
    ("content", "message"),
    [
        pytest.param(
            {"apiVersion": "v1", "kind": "List", "items": []},
            "not a state directory nor a saved `iamscope scan --format json` (schema None, expected 'iamscope.scan/v1')",
            id="kubectl-list",
        ),
        pytest.param(
            {"schema": "iamscope.diff/v1", "new_access": 0, "removed_access": 0, "changes": []},
            "not a state directory nor a saved `iamscope scan --format json` (schema 'iamscope.diff/v1', expected 'iamscope.scan/v1')",
            id="a-diff-not-a-scan",
        ),
        pytest.param(
            [],
            "not a state directory nor a saved `iamscope scan --format json` (schema 'list', expected 'iamscope.scan/v1')",
            id="json-array",
        ),
        pytest.param(
            {"schema": "iamscope.scan/v1", "findings": []},
            "the scan document has no `access` list",
            id="scan-without-access",
        ),
    ],
)
@pytest.mark.parametrize("side", ["before", "after"])
def test_a_json_file_that_is_not_an_iamscope_scan_is_exit_2_naming_the_file(
    capsys: pytest.CaptureFixture[str], content: Any, message: str, side: str
) -> None:
    state = build("state", deny_fill(False))
    bad = Path("bad.json")
    bad.write_text(json.dumps(content))
    args = (bad, state) if side == "before" else (state, bad)
    code, out, err = diff(capsys, *args)
    assert (code, out) == (2, "")
    assert err == f"iamscope: error: bad.json: {message}\n"


def test_a_file_that_is_not_json_is_exit_2_naming_the_file(capsys: pytest.CaptureFixture[str]) -> None:
    state = build("state", deny_fill(False))
    Path("plan.yaml").write_text("kind: List\nitems: []\n")
    code, out, err = diff(capsys, state, "plan.yaml")
    assert (code, out) == (2, "")
    assert err == "iamscope: error: plan.yaml: line 1 column 1: invalid JSON: Expecting value\n"


# --- (9) --least-privilege ----------------------------------------------------------------------------


def lp_fill(api_grant: str | Sequence[str], worker_grant: str | Sequence[str] | None = CACHE) -> Fill:
    """Secrets prod/db, prod/cache, prod/payments; api declares prod/db, worker declares prod/cache."""

    def fill(s: State) -> None:
        for name in ("prod/db", "prod/cache", "prod/payments"):
            s.secret(name)
        app(s, "prod", "api", [allow(READ, api_grant)], "prod/db")
        app(s, "prod", "worker", [allow(READ, worker_grant)] if worker_grant else [], "prod/cache")

    return fill


def test_least_privilege_reports_every_grant_beyond_what_the_workloads_declare(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """ASCP reads only the objects an SPC lists, so least privilege is GetSecretValue+DescribeSecret on
    exactly those. api's role grants prod/* while api declares only prod/db: the pattern and the two
    other prod secrets are beyond it; all escalations (wildcard), prod/cache also because worker
    declares it."""
    state = build("state", lp_fill(PROD_ALL))
    code, doc = diff_json(capsys, state, "--least-privilege")
    assert code == 1
    assert (doc["baseline"], doc["before"], doc["after"]) == ("least-privilege", LP_LABEL, "state")
    assert rows(doc) == (
        ("added", API, PROD_ALL, BOTH, True),
        ("added", API, CACHE, BOTH, True),
        ("added", API, PAYMENTS, BOTH, True),
    )
    assert reasons(doc) == {
        ("added", API, PROD_ALL): [PATTERN_REASON, granted_by("api", 0)],
        ("added", API, CACHE): [
            "reaches what prod/Deployment/worker declares",
            WILDCARD_REASON,
            granted_by("api", 0),
        ],
        ("added", API, PAYMENTS): [WILDCARD_REASON, granted_by("api", 0)],
    }
    assert summary_line(capsys, state, "--least-privilege") == (
        1,
        [
            f"iamscope diff: {LP_LABEL} -> state",
            "3 grant(s) beyond least privilege (3 escalation(s)), 0 missing",
        ],
    )


def test_least_privilege_escalation_only_where_another_workload_declares_it(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Without a wildcard, a grant beyond least privilege is an escalation when it reaches what another
    workload declares (prod/cache, worker's), not otherwise (prod/payments, nobody's)."""
    state = build("state", lp_fill([DB, CACHE, PAYMENTS]))
    code, doc = diff_json(capsys, state, "--least-privilege")
    assert code == 1
    assert rows(doc) == (
        ("added", API, CACHE, BOTH, True),
        ("added", API, PAYMENTS, BOTH, False),
    )
    assert summary_line(capsys, state, "--least-privilege") == (
        1,
        [
            f"iamscope diff: {LP_LABEL} -> state",
            "2 grant(s) beyond least privilege (1 escalation(s)), 0 missing",
        ],
    )


def test_least_privilege_roles_exit_0(capsys: pytest.CaptureFixture[str]) -> None:
    state = build("state", lp_fill(DB))
    code, doc = diff_json(capsys, state, "--least-privilege")
    assert (code, rows(doc), counts(doc)) == (0, (), (0, 0, 0))
    assert diff(capsys, state, "--least-privilege") == (
        0,
        f"iamscope diff: {LP_LABEL} -> state\n0 grant(s) beyond least privilege (0 escalation(s)), 0 missing\n",
        "",
    )


def test_least_privilege_reports_a_missing_grant_without_failing(capsys: pytest.CaptureFixture[str]) -> None:
    """ASCP: a mount of an object the role does not grant fails (AccessDenied); that is missing access,
    not new access, so exit 0 with the gap listed."""
    state = build("state", lp_fill(DB, worker_grant=None))
    code, doc = diff_json(capsys, state, "--least-privilege")
    assert code == 0
    assert rows(doc) == (("removed", WORKER, CACHE, BOTH, False),)
    assert reasons(doc) == {
        ("removed", WORKER, CACHE): ["a workload declares it, and no role of the service account grants it"]
    }
    assert summary_line(capsys, state, "--least-privilege")[1][1] == (
        "0 grant(s) beyond least privilege (0 escalation(s)), 1 missing"
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        pytest.param(["state"], "diff takes BEFORE AFTER (or STATE --least-privilege)", id="one-side"),
        pytest.param(
            ["state", "state", "--least-privilege"], "--least-privilege takes one STATE directory", id="two"
        ),
    ],
)
def test_usage_errors_exit_2(capsys: pytest.CaptureFixture[str], args: list[str], message: str) -> None:
    build("state", lp_fill(DB))
    code, out, err = diff(capsys, *args)
    assert (code, out) == (2, "")
    assert err.startswith(f"iamscope: error: {message}")
    assert err.count("\n") == 1


# --- (10) output formats ------------------------------------------------------------------------------


def mixed_fill(after: bool) -> Fill:
    """BEFORE: api declares prod/db and is granted prod/db and prod/cache; worker declares and is granted
    prod/cache. AFTER: api loses prod/cache and gains GetSecretValue on prod/payments (nobody's);
    worker gains prod/db (api's)."""

    def fill(s: State) -> None:
        for name in ("prod/db", "prod/cache", "prod/payments"):
            s.secret(name)
        api = [allow(READ, DB), allow(GET, PAYMENTS)] if after else [allow(READ, [DB, CACHE])]
        app(s, "prod", "api", api, "prod/db")
        app(s, "prod", "worker", [allow(READ, [CACHE, DB] if after else CACHE)], "prod/cache")

    return fill


def declared_at(state: str, name: str) -> int:
    """The line of <state>/k8s/objects.yaml where the document of ServiceAccount prod/<name> starts."""
    line = 1
    for text in Path(state, "k8s", "objects.yaml").read_text().split("\n---\n"):
        obj = yaml.safe_load(text)
        if obj["kind"] == "ServiceAccount" and obj["metadata"]["name"] == name:
            return line
        line += text.count("\n") + 2
    raise AssertionError(f"no ServiceAccount {name} in {state}")


def test_json_has_the_fields_of_the_schema(capsys: pytest.CaptureFixture[str]) -> None:
    """DESIGN.md §3 iamscope.diff/v1: schema, new_access, removed_access, changes[{change,
    service_account, role_arn, resource, actions, escalation, reasons}] (fields may be added)."""
    code, doc = diff_json(capsys, *pair(mixed_fill(False), mixed_fill(True)))
    assert code == 1
    assert doc["schema"] == "iamscope.diff/v1"
    assert (doc["new_access"], doc["removed_access"]) == (2, 1)
    required = {"change", "service_account", "role_arn", "resource", "actions", "escalation", "reasons"}
    assert all(required <= set(c) for c in doc["changes"])
    # where each service account is declared: a removal on BEFORE's side, an addition on AFTER's
    assert [c.pop("location") for c in doc["changes"]] == [
        {"file": "before/k8s/objects.yaml", "line": declared_at("before", "api")},
        {"file": "after/k8s/objects.yaml", "line": declared_at("after", "api")},
        {"file": "after/k8s/objects.yaml", "line": declared_at("after", "worker")},
    ]
    assert doc == {
        "schema": "iamscope.diff/v1",
        "before": "before",
        "after": "after",
        "baseline": "state",
        "new_access": 2,
        "removed_access": 1,
        "escalations": 1,
        "unknown": [],
        "incomplete": [],
        # the access maps' view, said as the scan says it: a finding of more access AFTER has
        "new_findings": [
            {
                "rule": "cross-workload-grant",
                "severity": "high",
                "subject": "prod/Deployment/worker",
                "message": "can read 1 secret(s)/parameter(s) that 1 other workload(s) declare (prod/Deployment/api)",
                "fingerprint": doc["new_findings"][0]["fingerprint"],
            }
        ],
        "changes": [
            {
                "change": "removed",
                "service_account": API,
                "role_arn": role_arn("api"),
                "roles": [role_arn("api")],
                "resource": CACHE,
                "actions": list(BOTH),
                "escalation": False,
                "reasons": ["no longer granted"],
            },
            {
                "change": "added",
                "service_account": API,
                "role_arn": role_arn("api"),
                "roles": [role_arn("api")],
                "resource": PAYMENTS,
                "actions": [GET],
                "escalation": False,
                "reasons": [granted_by("api", 1)],
            },
            {
                "change": "added",
                "service_account": WORKER,
                "role_arn": role_arn("worker"),
                "roles": [role_arn("worker")],
                "resource": DB,
                "actions": list(BOTH),
                "escalation": True,
                "reasons": ["reaches what prod/Deployment/api declares", granted_by("worker", 0)],
            },
        ],
    }


def test_text_groups_by_service_account_with_plus_and_minus_lines(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = diff(capsys, *pair(mixed_fill(False), mixed_fill(True)))
    assert (code, err) == (1, "")
    api_role, worker_role = role_arn("api"), role_arn("worker")
    assert out == "\n".join(
        [
            "iamscope diff: before -> after",
            "2 new access(es) (1 escalation(s)), 1 removed; 1 new high/critical finding(s)",
            "",
            API,
            f"  + {PAYMENTS}",
            f"      {GET}  via {api_role}",
            f"      {granted_by('api', 1)}",
            f"  - {CACHE}",
            f"      {DESCRIBE}, {GET}  via {api_role}",
            "      no longer granted",
            "",
            WORKER,
            f"  + {DB}  ESCALATION",
            f"      {DESCRIBE}, {GET}  via {worker_role}",
            "      reaches what prod/Deployment/api declares",
            f"      {granted_by('worker', 0)}",
            "",
            "New findings at high or above:",
            "  ! high cross-workload-grant prod/Deployment/worker: can read 1 secret(s)/parameter(s) that 1 other "
            "workload(s) declare (prod/Deployment/api)",
            "",
        ]
    )


def escaped(text: str) -> str:
    """Markdown: `#` escaped as the diff's cells escape it."""
    return text.replace("#", "\\#")


def test_markdown_starts_with_the_summary_and_tables_the_escalations(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, out, err = diff(capsys, *pair(mixed_fill(False), mixed_fill(True)), "--format", "markdown")
    assert (code, err) == (1, "")
    api_role, worker_role = role_arn("api"), role_arn("worker")
    assert out == "\n".join(
        [
            "**iamscope diff** :x: 2 new access(es) (1 escalation(s)), 1 removed; 1 new high/critical finding(s)",
            "",
            "| service account | resource | actions | why |",
            "|---|---|---|---|",
            f"| {WORKER} | {DB} | {DESCRIBE}, {GET} | reaches what prod/Deployment/api declares |",
            "",
            "New findings at high or above:",
            "",
            "- **high** `cross-workload-grant` `prod/Deployment/worker`: can read 1 secret(s)/parameter(s) that 1 "
            "other workload(s) declare (prod/Deployment/api)",
            "",
            f"<details><summary>`{API}`: 2 change(s)</summary>",
            "",
            f"- - `{CACHE}`: {DESCRIBE}, {GET}",
            f"  via {api_role}",
            "  - no longer granted",
            f"- + `{PAYMENTS}`: {GET}",
            f"  via {api_role}",
            f"  - {escaped(granted_by('api', 1))}",
            "",
            "</details>",
            "",
            f"<details><summary>`{WORKER}`: 1 change(s)</summary>",
            "",
            f"- + `{DB}` **escalation**: {DESCRIBE}, {GET}",
            f"  via {worker_role}",
            "  - reaches what prod/Deployment/api declares",
            f"  - {escaped(granted_by('worker', 0))}",
            "",
            "</details>",
            "",
        ]
    )


def test_markdown_without_new_access(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = diff(capsys, *pair(mixed_fill(True), mixed_fill(True)), "--format", "markdown")
    assert (code, out) == (0, "**iamscope diff** :white_check_mark: no change in access\n")


def scattered(label: str, fill: Fill, *, reverse: bool) -> Path:
    """The state `fill` describes with every Kubernetes object in a file of its own, the files created
    in order or in reverse, and the roles and secrets of the AWS snapshot listed in order or reversed."""
    shutil.rmtree(label, ignore_errors=True)
    state = State(Path(label))
    fill(state)
    if reverse:
        state.roles.reverse()
        state.secrets.reverse()
    root = state.write()
    (root / "k8s" / "objects.yaml").unlink()
    docs = list(state.k8s)
    for obj in reversed(docs) if reverse else docs:
        meta = obj["metadata"]
        (root / "k8s" / f"{obj['kind']}-{meta['namespace']}-{meta['name']}.yaml").write_text(
            yaml.safe_dump(obj)
        )
    return root


@pytest.mark.parametrize("fmt", ["json", "text", "markdown"])
def test_output_is_deterministic_and_independent_of_input_order(
    capsys: pytest.CaptureFixture[str], fmt: str
) -> None:
    """DESIGN.md §3: no timestamps; byte-identical for the same input, whatever the order of input files
    and objects."""
    outputs = []
    for reverse in (False, True, False):
        before = scattered("before", mixed_fill(False), reverse=reverse)
        after = scattered("after", mixed_fill(True), reverse=not reverse)
        for _ in range(2):
            code, out, err = diff(capsys, before, after, "--format", fmt)
            assert (code, err) == (1, "")
            outputs.append(out)
    assert len(set(outputs)) == 1
    if fmt == "json":
        assert rows(json.loads(outputs[0])) == (
            ("removed", API, CACHE, BOTH, False),
            ("added", API, PAYMENTS, (GET,), False),
            ("added", WORKER, DB, BOTH, True),
        )


def test_output_file(capsys: pytest.CaptureFixture[str]) -> None:
    before, after = pair(mixed_fill(False), mixed_fill(True))
    code, out, _ = diff(capsys, before, after, "--format", "json", "--output", "diff.json")
    assert (code, out) == (1, "")
    assert Path("diff.json").read_text() == diff(capsys, before, after, "--format", "json")[1]
