"""The twelve identity and IAM rules (DESIGN.md §3 rule catalogue), each on small states built for the
purpose: one case where the rule must fire, with its exact severity and resources, and near misses where
it must not. Every test asserts the complete set of (rule, subject, severity) of its state."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from iamscope.config import Config
from tests.scan.builder import (
    ACCOUNT,
    CLUSTER,
    DESCRIBE,
    GET,
    GET_PARAMETERS,
    ISSUER,
    OTHER_ACCOUNT,
    PROVIDER,
    READ,
    REGION,
    State,
    access,
    allow,
    deny,
    irsa_trust_statement,
    objects,
    only,
    role_arn,
    run,
    sa_subject,
    secret_arn,
    secret_pattern,
    triples,
)

SUB = f"{ISSUER}:sub"
AUD = f"{ISSUER}:aud"


@pytest.fixture
def state(tmp_path: Path) -> State:
    return State(tmp_path)


def app(
    state: State,
    namespace: str,
    name: str,
    role: str | None,
    *names: str,
    kind: str = "Deployment",
    sa: str | None = None,
    declare_sa: bool = True,
    object_type: str = "secretsmanager",
    **spc_parameters: Any,
) -> str:
    """A workload `name` running as SA `sa` (default `name`, annotated with `role`), mounting an SPC
    `name` that declares `names`. Returns the workload id."""
    sa = sa or name
    if declare_sa:
        state.service_account(namespace, sa, role)
    state.spc(namespace, name, objects(*names, type=object_type), **spc_parameters)
    return state.workload(kind, namespace, name, sa, name)


def irsa_app(
    state: State,
    namespace: str,
    name: str,
    statements: list[dict[str, Any]],
    *names: str,
    role_name: str | None = None,
) -> str:
    """The usual shape: a role `role_name` (default `name`) trusting exactly
    system:serviceaccount:<namespace>:<name>, annotated on the SA, with `statements` as its inline policy."""
    role = state.irsa_role(role_name or name, namespace, name, statements)
    return app(state, namespace, name, role, *names)


# --- a clean baseline ---------------------------------------------------------------------------------


def test_least_privilege_state_has_no_finding(state: State) -> None:
    db = state.secret("prod/db")
    flags = state.parameter("/prod/flags")
    role = state.irsa_role("api", "prod", "api", [allow(READ, db), allow(GET_PARAMETERS, flags)])
    state.service_account("prod", "api", role)
    state.spc(
        "prod",
        "api",
        [*objects("prod/db"), *objects("/prod/flags", type="ssmparameter")],
    )
    state.workload("Deployment", "prod", "api", "api", "api")
    result = run(state)
    assert triples(result) == set()
    assert result.complete is True


# --- wildcard-action ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "action", ["secretsmanager:*", "secretsmanager:Get*", "*", "secretsmanager:GetSecret?alue"]
)
def test_wildcard_action_on_exact_secret(state: State, action: str) -> None:
    db = state.secret("prod/db")
    irsa_app(state, "prod", "api", [allow([action, DESCRIBE], db)], "prod/db")
    result = run(state)
    role = role_arn("api")
    assert triples(result) == {("wildcard-action", role, "high")}
    finding = only(result, "wildcard-action")
    assert finding.role_arn == role
    assert finding.resources == (db,)
    assert finding.patterns == (action,)
    assert finding.objects == ("prod/ServiceAccount/api",)


def test_wildcard_action_on_exact_parameter(state: State) -> None:
    flags = state.parameter("/prod/flags")
    role = state.irsa_role("api", "prod", "api", [allow("ssm:GetParameter*", flags)])
    app(state, "prod", "api", role, "/prod/flags", object_type="ssmparameter")
    result = run(state)
    assert triples(result) == {("wildcard-action", role, "high")}
    assert only(result, "wildcard-action").resources == (flags,)
    assert only(result, "wildcard-action").patterns == ("ssm:GetParameter*",)


def test_wildcard_action_through_not_action(state: State) -> None:
    # IAM JSON policy elements: NotAction — an Allow with NotAction grants every action but the listed.
    db = state.secret("prod/db")
    irsa_app(state, "prod", "api", [allow(None, db, not_actions="secretsmanager:DeleteSecret")], "prod/db")
    result = run(state)
    assert triples(result) == {("wildcard-action", role_arn("api"), "high")}
    assert only(result, "wildcard-action").resources == (db,)


def test_describe_wildcard_alone_is_not_a_wildcard_read(state: State) -> None:
    # secretsmanager:Describe* reaches DescribeSecret only; GetSecretValue is named exactly.
    db = state.secret("prod/db")
    irsa_app(state, "prod", "api", [allow(["secretsmanager:Describe*", GET], db)], "prod/db")
    assert triples(run(state)) == set()


def test_describe_wildcard_without_get_is_a_missing_grant_not_a_wildcard(state: State) -> None:
    db = state.secret("prod/db")
    workload = irsa_app(state, "prod", "api", [allow("secretsmanager:Describe*", db)], "prod/db")
    result = run(state)
    assert triples(result) == {("missing-grant", workload, "high")}
    assert only(result, "missing-grant").resources == (db,)


def test_wildcard_action_in_a_deny_is_no_grant(state: State) -> None:
    db = state.secret("prod/db")
    irsa_app(state, "prod", "api", [allow(READ, db), deny("secretsmanager:Put*", "*")], "prod/db")
    assert triples(run(state)) == set()


def test_role_reachable_by_no_service_account_is_out_of_scope(state: State) -> None:
    # A role with every wildcard whose trust names no SA of this cluster (and no instance profile).
    state.secret("prod/db")
    state.role(
        "ci-deploy",
        [allow("secretsmanager:*", "*")],
        trust=[irsa_trust_statement("ci", "deployer")],  # no such SA in the cluster
    )
    state.role(
        "github",
        [allow("*", "*")],
        trust=[
            {
                "Effect": "Allow",
                "Principal": {
                    "Federated": f"arn:aws:iam::{ACCOUNT}:oidc-provider/token.actions.githubusercontent.com"
                },
                "Action": "sts:AssumeRoleWithWebIdentity",
            }
        ],
    )
    state.service_account("prod", "api")
    state.workload("Deployment", "prod", "api", "api")
    assert triples(run(state)) == set()


# --- wildcard-resource --------------------------------------------------------------------------------


def test_wildcard_resource_prefix_is_high_and_lists_what_it_reaches(state: State) -> None:
    db = state.secret("prod/db")
    other = state.secret("prod/other")
    state.secret("staging/db")  # outside prod/*
    pattern = f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:prod/*"
    workload = irsa_app(state, "prod", "api", [allow(READ, pattern)], "prod/db")
    result = run(state)
    role = role_arn("api")
    assert triples(result) == {
        ("wildcard-resource", role, "high"),
        ("excess-grant", workload, "medium"),
    }
    wild = only(result, "wildcard-resource")
    assert wild.resources == tuple(sorted([db, other]))
    assert wild.patterns == (pattern,)
    excess = only(result, "excess-grant")
    assert excess.resources == (other,)
    assert excess.patterns == (pattern,)


@pytest.mark.parametrize(
    "pattern",
    ["*", "arn:aws:secretsmanager:*:*:secret:*", f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:*"],
)
def test_wildcard_resource_covering_every_secret_is_critical(state: State, pattern: str) -> None:
    db = state.secret("prod/db")
    other = state.secret("team-b/token")
    workload = irsa_app(state, "prod", "api", [allow(READ, pattern)], "prod/db")
    result = run(state)
    assert triples(result) == {
        ("wildcard-resource", role_arn("api"), "critical"),
        ("excess-grant", workload, "medium"),
    }
    assert only(result, "wildcard-resource").resources == tuple(sorted([db, other]))
    assert only(result, "excess-grant").resources == (other,)


@pytest.mark.parametrize(
    ("pattern", "severity"),
    [
        (f"arn:aws:ssm:{REGION}:{ACCOUNT}:parameter/prod/*", "high"),
        ("arn:aws:ssm:*:*:parameter/*", "critical"),
    ],
    ids=["prefix", "every-parameter"],
)
def test_wildcard_resource_on_parameters(state: State, pattern: str, severity: str) -> None:
    flags = state.parameter("/prod/flags")
    spare = state.parameter("/prod/spare")
    role = state.irsa_role("api", "prod", "api", [allow(GET_PARAMETERS, pattern)])
    workload = app(state, "prod", "api", role, "/prod/flags", object_type="ssmparameter")
    result = run(state)
    assert triples(result) == {("wildcard-resource", role, severity), ("excess-grant", workload, "medium")}
    assert only(result, "wildcard-resource").resources == tuple(sorted([flags, spare]))
    assert only(result, "excess-grant").resources == (spare,)


def test_name_star_is_a_wildcard_that_reaches_look_alikes(state: State) -> None:
    # DESIGN.md §4: use `<name>-??????`, not `<name>*`, which also matches `<name>-other-…`.
    db = state.secret("prod/db")
    replica = state.secret("prod/db-replica")
    pattern = f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:prod/db*"
    workload = irsa_app(state, "prod", "api", [allow(READ, pattern)], "prod/db")
    result = run(state)
    assert triples(result) == {
        ("wildcard-resource", role_arn("api"), "high"),
        ("excess-grant", workload, "medium"),
    }
    assert only(result, "wildcard-resource").resources == tuple(sorted([db, replica]))
    assert only(result, "excess-grant").resources == (replica,)


def test_six_question_marks_suffix_is_exact_not_a_wildcard(state: State) -> None:
    state.secret("prod/db")
    state.secret("prod/db-replica")  # `prod/db-??????` cannot reach it: `replica` is seven characters
    irsa_app(state, "prod", "api", [allow(READ, secret_pattern("prod/db"))], "prod/db")
    result = run(state)
    assert triples(result) == set()


def test_wildcard_resource_in_a_deny_is_no_grant(state: State) -> None:
    db = state.secret("prod/db")
    state.secret("prod/ledger")
    irsa_app(
        state,
        "prod",
        "api",
        [
            allow(READ, db),
            deny("secretsmanager:*", f"arn:aws:secretsmanager:*:{ACCOUNT}:secret:prod/ledger-*"),
        ],
        "prod/db",
    )
    assert triples(run(state)) == set()


def test_describe_secret_on_star_is_not_a_wildcard_read(state: State) -> None:
    # DescribeSecret returns metadata, never the value (EXPECTED.md: "DescribeSecret on its own is not
    # a read"): a role that reads its own secret exactly and may describe every secret grants no
    # secret through a wildcard and reads nothing beyond its need.
    db = state.secret("prod/db")
    state.secret("prod/other")
    irsa_app(state, "prod", "api", [allow(GET, db), allow(DESCRIBE, "*")], "prod/db")
    result = run(state)
    assert triples(result) == set()


# A wildcard counts for what it actually grants (IAM "Policy evaluation logic": Deny statements and the
# permissions boundary cut an Allow down): beyond what the role's users declare, or on a secret created
# later (a made-up ARN the pattern matches). It is critical only when it covers every secret or parameter
# of a region and that future secret is definitely readable.


def test_deny_not_resource_cuts_a_star_grant_to_the_own_secret(state: State) -> None:
    # `secretsmanager:*` on `*`, but Deny everything except the own secret (NotResource): nothing beyond
    # the need and nothing created later is readable. The wildcard action stays a finding.
    db = state.secret("prod/db")
    state.secret("prod/other")
    irsa_app(
        state,
        "prod",
        "api",
        [allow("secretsmanager:*", "*"), deny("secretsmanager:*", not_resources=db)],
        "prod/db",
    )
    result = run(state)
    role = role_arn("api")
    assert triples(result) == {("wildcard-action", role, "high")}
    assert (only(result, "wildcard-action").resources, only(result, "wildcard-action").patterns) == (
        (db,),
        ("secretsmanager:*",),
    )
    # no pattern entry in the access map: the wildcard reads nothing beyond prod/db
    assert [g["resource"] for g in access(result, "prod/ServiceAccount/api")["grants"]] == [db]


def test_boundary_cuts_a_star_grant_to_the_own_secret(state: State) -> None:
    # IAM "Permissions boundaries": effective permissions are identity ∩ boundary.
    db = state.secret("prod/db")
    state.secret("prod/other")
    boundary = state.managed_policy("api-boundary", [allow(READ, db)])
    role = state.irsa_role("api", "prod", "api", [allow(READ, "*")], boundary=boundary)
    app(state, "prod", "api", role, "prod/db")
    result = run(state)
    assert triples(result) == set()


def test_wildcard_reaching_only_the_need_today_still_reaches_what_is_created_later(state: State) -> None:
    # `prod/db*` reaches only prod/db today, but a secret created later as prod/db-replica would match.
    db = state.secret("prod/db")
    pattern = f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:prod/db*"
    workload = irsa_app(state, "prod", "api", [allow(READ, pattern)], "prod/db")
    result = run(state)
    role = role_arn("api")
    # the future reach is said once, on the role; no excess-grant with nothing that exists today
    assert triples(result) == {("wildcard-resource", role, "high")}
    assert workload == "prod/Deployment/api"
    wild = only(result, "wildcard-resource")
    assert (wild.resources, wild.patterns) == ((db,), (pattern,))
    assert wild.message == (
        f"grants reading on {pattern} (identity policy {role}#api-inline: statement 0 (Allow)), reaching 1 "
        "known secret(s)/parameter(s); usable by prod/ServiceAccount/api"
    )
    assert access(result, "prod/ServiceAccount/api")["grants"][0] == {
        "resource": pattern,
        "actions": sorted(READ),
        "via": role,
        "pattern": True,
        "wildcard": True,
        "readable": "allowed",
        "statement": f"identity policy {role}#api-inline: statement 0 (Allow)",
        "statements": [f"identity policy {role}#api-inline: statement 0 (Allow)"],
    }


def test_star_readable_only_under_a_condition_is_high_not_critical(state: State) -> None:
    db = state.secret("prod/db")
    other = state.secret("prod/other")
    source_ip = {"IpAddress": {"aws:SourceIp": "10.0.0.0/8"}}
    workload = irsa_app(
        state, "prod", "api", [allow(READ, db), allow(READ, "*", condition=source_ip)], "prod/db"
    )
    result = run(state)
    role = role_arn("api")
    assert triples(result) == {("wildcard-resource", role, "high"), ("excess-grant", workload, "medium")}
    wild = only(result, "wildcard-resource")
    assert (wild.resources, wild.patterns) == ((db, other), ("*",))
    assert wild.message == (
        f"grants reading on * (identity policy {role}#api-inline: statement 1 (Allow)), reaching 2 known "
        "secret(s)/parameter(s); what is created later is reached only under conditions; usable by "
        "prod/ServiceAccount/api"
    )
    (pattern_entry,) = [g for g in access(result, "prod/ServiceAccount/api")["grants"] if g.get("pattern")]
    assert (pattern_entry["resource"], pattern_entry["readable"]) == ("*", "conditional")


def test_only_effective_wildcards_are_listed_as_patterns(state: State) -> None:
    # Two wildcard statements; a Deny on staging/* leaves the `staging/*` Allow reaching nothing, today or
    # later, so only `prod/*` is a pattern of the findings and of the access map.
    db = state.secret("prod/db")
    other = state.secret("prod/other")
    state.secret("staging/db")
    prod = f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:prod/*"
    staging = f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:staging/*"
    workload = irsa_app(
        state,
        "prod",
        "api",
        [allow(READ, prod), allow(READ, staging), deny("secretsmanager:*", staging)],
        "prod/db",
    )
    result = run(state)
    role = role_arn("api")
    assert triples(result) == {("wildcard-resource", role, "high"), ("excess-grant", workload, "medium")}
    assert only(result, "wildcard-resource").patterns == (prod,)
    assert only(result, "wildcard-resource").resources == (db, other)
    assert (only(result, "excess-grant").resources, only(result, "excess-grant").patterns) == (
        (other,),
        (prod,),
    )
    patterns = [
        g["resource"] for g in access(result, "prod/ServiceAccount/api")["grants"] if g.get("pattern")
    ]
    assert patterns == [prod]


def test_node_role_patterns_list_only_effective_wildcards(state: State) -> None:
    legacy = state.secret("legacy/app")
    state.secret("prod/other")
    node = state.node_role("eks-node-group", [allow(GET, "*"), deny(GET, not_resources=legacy)])
    result = run(state)
    assert triples(result) == {("node-role-secret-access", node, "critical")}
    finding = only(result, "node-role-secret-access")
    assert (finding.resources, finding.patterns, finding.message) == (
        (legacy,),
        (),
        "instance-profile role can read 1 known secret(s)/parameter(s); any pod reaching IMDS on its nodes "
        "can too",
    )


def test_describe_secret_on_star_is_no_pattern_in_the_access_map(state: State) -> None:
    # Secrets Manager: DescribeSecret returns metadata only; a `*` on it is not a read.
    db = state.secret("prod/db")
    irsa_app(state, "prod", "api", [allow(GET, db), allow(DESCRIBE, "*")], "prod/db")
    result = run(state)
    assert triples(result) == set()
    assert [g.get("pattern", False) for g in access(result, "prod/ServiceAccount/api")["grants"]] == [False]


# --- cross-workload-grant -----------------------------------------------------------------------------


def test_cross_workload_same_namespace_is_high(state: State) -> None:
    api_db = state.secret("prod/api-db")
    worker_q = state.secret("prod/worker-queue")
    api = irsa_app(state, "prod", "api", [allow(READ, [api_db, worker_q])], "prod/api-db")
    worker = irsa_app(state, "prod", "worker", [allow(READ, worker_q)], "prod/worker-queue")
    result = run(state)
    assert triples(result) == {("cross-workload-grant", api, "high")}
    finding = only(result, "cross-workload-grant")
    assert finding.service_account == "prod/ServiceAccount/api"
    assert finding.role_arn == role_arn("api")
    assert finding.resources == (worker_q,)
    assert finding.objects == (worker,)


def test_cross_workload_across_namespaces_is_critical(state: State) -> None:
    api_db = state.secret("prod/api-db")
    billing = state.secret("billing/stripe")
    api = irsa_app(state, "prod", "api", [allow(READ, [api_db, billing])], "prod/api-db")
    payer = irsa_app(state, "billing", "payer", [allow(READ, billing)], "billing/stripe")
    result = run(state)
    assert triples(result) == {("cross-workload-grant", api, "critical")}
    finding = only(result, "cross-workload-grant")
    assert finding.resources == (billing,)
    assert finding.objects == (payer,)


def test_cross_workload_mixed_namespaces_takes_the_highest(state: State) -> None:
    own = state.secret("prod/own")
    neighbour = state.secret("prod/neighbour")
    remote = state.secret("billing/remote")
    api = irsa_app(state, "prod", "api", [allow(READ, [own, neighbour, remote])], "prod/own")
    n = irsa_app(state, "prod", "neighbour", [allow(READ, neighbour)], "prod/neighbour")
    r = irsa_app(state, "billing", "remote", [allow(READ, remote)], "billing/remote")
    result = run(state)
    assert triples(result) == {("cross-workload-grant", api, "critical")}
    finding = only(result, "cross-workload-grant")
    assert finding.resources == tuple(sorted([neighbour, remote]))
    assert finding.objects == tuple(sorted([n, r]))


def test_secret_both_workloads_declare_is_not_cross_workload(state: State) -> None:
    smtp = state.secret("shared/smtp")
    irsa_app(state, "a", "notifier", [allow(READ, smtp)], "shared/smtp", role_name="a-notifier")
    irsa_app(state, "b", "notifier", [allow(READ, smtp)], "shared/smtp", role_name="b-notifier")
    assert triples(run(state)) == set()


def test_metadata_only_on_another_workloads_secret_is_not_cross_workload(state: State) -> None:
    own = state.secret("prod/own")
    theirs = state.secret("billing/theirs")
    irsa_app(state, "prod", "api", [allow(READ, own), allow(DESCRIBE, theirs)], "prod/own")
    irsa_app(state, "billing", "payer", [allow(READ, theirs)], "billing/theirs")
    assert triples(run(state)) == set()


def test_conditional_cross_workload_grant_is_one_step_lower(state: State) -> None:
    own = state.secret("prod/own")
    theirs = state.secret("billing/theirs")
    api = irsa_app(
        state,
        "prod",
        "api",
        [
            allow(READ, own),
            allow(GET, theirs, condition={"IpAddress": {"aws:SourceIp": "10.0.0.0/8"}}),
        ],
        "prod/own",
    )
    irsa_app(state, "billing", "payer", [allow(READ, theirs)], "billing/theirs")
    result = run(state)
    assert triples(result) == {("cross-workload-grant", api, "high")}
    assert only(result, "cross-workload-grant").resources == (theirs,)


def _conditional_intruder(state: State) -> tuple[str, str]:
    """prod/api's role also admits dev/intruder, but only from 10.0.0.0/8 (a condition the scan cannot
    confirm)."""
    db = state.secret("prod/db")
    role = state.role(
        "api",
        [allow(READ, db)],
        trust=[
            irsa_trust_statement("prod", "api"),
            irsa_trust_statement(
                "dev",
                "intruder",
                {
                    "StringEquals": {SUB: sa_subject("dev", "intruder"), AUD: "sts.amazonaws.com"},
                    "IpAddress": {"aws:SourceIp": "10.0.0.0/8"},
                },
            ),
        ],
    )
    api = app(state, "prod", "api", role, "prod/db")
    state.service_account("dev", "intruder")
    intruder = state.workload("Pod", "dev", "intruder", "intruder")
    return api, intruder


def test_grant_through_a_conditional_trust_is_conditional(state: State) -> None:
    # A grant is only as certain as the way to the role: AssumeRoleWithWebIdentity succeeds only under the
    # trust's condition, so the read does too. Cross-workload severity is one step lower.
    _, intruder = _conditional_intruder(state)
    result = run(state)
    assert triples(result) == {("cross-workload-grant", intruder, "high")}
    finding = only(result, "cross-workload-grant")
    assert finding.message == (
        "can read 1 secret(s)/parameter(s) that 1 other workload(s) declare (prod/Deployment/api), across "
        "namespaces (prod) (only under conditions the scan cannot confirm)"
    )
    assert [e.kind for e in finding.evidence[:3]] == ["runs-as", "can-assume", "can-read"]
    assert finding.evidence[1].reason == (
        'trust policy admits system:serviceaccount:dev:intruder only when IpAddress aws:SourceIp "10.0.0.0/8"'
    )


def test_grant_through_a_conditional_trust_reads_as_conditional_in_access(state: State) -> None:
    # The access map (scan JSON `access`, what `diff` compares) must say the same as the finding: the
    # intruder can read prod/db only under the trust's condition.
    _conditional_intruder(state)
    result = run(state)
    (entry,) = access(result, "dev/ServiceAccount/intruder")["grants"]
    assert entry["readable"] == "conditional"


# --- excess-grant -------------------------------------------------------------------------------------


def test_excess_grant_on_exact_undeclared_secret(state: State) -> None:
    db = state.secret("prod/db")
    spare = state.secret("prod/spare")
    flags = state.parameter("/prod/spare-flags")
    workload = irsa_app(
        state, "prod", "api", [allow(READ, [db, spare]), allow(GET_PARAMETERS, flags)], "prod/db"
    )
    result = run(state)
    assert triples(result) == {("excess-grant", workload, "medium")}
    finding = only(result, "excess-grant")
    assert finding.resources == tuple(sorted([spare, flags]))
    assert finding.patterns == ()
    assert finding.role_arn == role_arn("api")


def test_describe_only_on_undeclared_secret_is_not_excess(state: State) -> None:
    db = state.secret("prod/db")
    spare = state.secret("prod/spare")
    irsa_app(state, "prod", "api", [allow(READ, db), allow(DESCRIBE, spare)], "prod/db")
    assert triples(run(state)) == set()


# --- missing-grant ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("actions", "severity"),
    [
        pytest.param([GET], "medium", id="describe-missing-breaks-rotation-only"),
        pytest.param([DESCRIBE], "high", id="get-missing-breaks-the-mount"),
        pytest.param([], "high", id="nothing-granted"),
    ],
)
def test_missing_grant_on_a_secret(state: State, actions: list[str], severity: str) -> None:
    db = state.secret("prod/db")
    statements = [allow(actions, db)] if actions else []
    workload = irsa_app(state, "prod", "api", statements, "prod/db")
    result = run(state)
    assert triples(result) == {("missing-grant", workload, severity)}
    finding = only(result, "missing-grant")
    assert finding.resources == (db,)
    assert finding.role_arn == role_arn("api")
    assert finding.service_account == "prod/ServiceAccount/api"


def test_get_parameter_singular_is_not_what_ascp_calls(state: State) -> None:
    # ASCP calls ssm:GetParameters (batches of 10); ssm:GetParameter alone does not let the mount work.
    flags = state.parameter("/prod/flags")
    role = state.irsa_role("api", "prod", "api", [allow("ssm:GetParameter", flags)])
    workload = app(state, "prod", "api", role, "/prod/flags", object_type="ssmparameter")
    result = run(state)
    assert triples(result) == {("missing-grant", workload, "high")}
    assert only(result, "missing-grant").resources == (flags,)


def test_no_missing_grant_when_the_role_cannot_be_assumed(state: State) -> None:
    # The role grants nothing, but the mount fails earlier, at the trust: broken-trust only.
    state.secret("prod/db")
    role = state.irsa_role("api", "prod", "someone-else", [])
    workload = app(state, "prod", "api", role, "prod/db")
    assert triples(run(state)) == {("broken-trust", workload, "high")}


def test_failover_region_needs_its_own_grant(state: State) -> None:
    # With failoverRegion every object is read from both regions (DESIGN.md §4).
    west = state.secret("prod/db")
    central = state.secret("prod/db", region="eu-central-1")
    role = state.irsa_role("api", "prod", "api", [allow(READ, west)])
    workload = app(state, "prod", "api", role, "prod/db", failoverRegion="eu-central-1")
    result = run(state)
    assert triples(result) == {("missing-grant", workload, "high")}
    assert only(result, "missing-grant").resources == (central,)


def test_secure_string_with_customer_key_needs_decrypt_via_ssm(state: State) -> None:
    key = state.kms_key("5e5e5e5e-0000-4000-8000-000000000001")
    flags = state.parameter("/prod/flags", type="SecureString", key_id="5e5e5e5e-0000-4000-8000-000000000001")
    role = state.irsa_role("api", "prod", "api", [allow(GET_PARAMETERS, flags)])
    workload = app(state, "prod", "api", role, "/prod/flags", object_type="ssmparameter")
    result = run(state)
    assert triples(result) == {("missing-grant", workload, "high")}
    finding = only(result, "missing-grant")
    assert finding.resources == (flags,)
    assert f"missing kms:Decrypt on {key}" in finding.message


def test_secure_string_with_decrypt_via_ssm_or_aws_managed_key_is_clean(state: State) -> None:
    key = state.kms_key("5e5e5e5e-0000-4000-8000-000000000001")
    flags = state.parameter("/prod/flags", type="SecureString", key_id="5e5e5e5e-0000-4000-8000-000000000001")
    plain = state.parameter("/prod/plain", type="SecureString", key_id="alias/aws/ssm")
    via_ssm = {"StringEquals": {"kms:ViaService": f"ssm.{REGION}.amazonaws.com"}}
    role = state.irsa_role(
        "api",
        "prod",
        "api",
        [allow(GET_PARAMETERS, [flags, plain]), allow("kms:Decrypt", key, condition=via_ssm)],
    )
    app(state, "prod", "api", role, "/prod/flags", "/prod/plain", object_type="ssmparameter")
    assert triples(run(state)) == set()


# --- unresolved-object --------------------------------------------------------------------------------


def test_unresolved_secret_keeps_its_expected_pattern(state: State) -> None:
    # The role already grants the expected `<name>-??????`: only the missing secret is reported.
    workload = irsa_app(state, "prod", "api", [allow(READ, secret_pattern("prod/bi-token"))], "prod/bi-token")
    result = run(state)
    assert triples(result) == {("unresolved-object", workload, "medium")}
    finding = only(result, "unresolved-object")
    assert finding.resources == ()
    assert finding.patterns == (secret_pattern("prod/bi-token"),)
    assert finding.objects == ("prod/SecretProviderClass/api#0:prod/bi-token",)


def test_object_without_type_and_not_an_arn_is_unresolved(state: State) -> None:
    db = state.secret("prod/db")
    role = state.irsa_role("api", "prod", "api", [allow(READ, db)])
    state.service_account("prod", "api", role)
    state.spc("prod", "api", [{"objectName": "prod/db"}])
    workload = state.workload("Deployment", "prod", "api", "api", "api")
    result = run(state)
    # the object declares nothing, so the role's grant on prod/db is beyond any declared need
    assert triples(result) == {
        ("unresolved-object", workload, "medium"),
        ("excess-grant", workload, "medium"),
    }
    assert only(result, "unresolved-object").objects == ("prod/SecretProviderClass/api#0:prod/db",)


def test_missing_spc_is_unresolved(state: State) -> None:
    state.service_account("prod", "api")
    workload = state.workload("Deployment", "prod", "api", "api", "nowhere")
    result = run(state)
    assert triples(result) == {("unresolved-object", workload, "medium")}
    assert only(result, "unresolved-object").objects == ("prod/SecretProviderClass/nowhere",)


@pytest.mark.parametrize(
    "object_name",
    [
        pytest.param(f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:prod/db", id="partial-arn-no-type"),
        pytest.param(secret_arn("prod/db"), id="full-arn-no-type"),
    ],
)
def test_arn_shapes_resolve_to_the_known_secret(state: State, object_name: str) -> None:
    db = state.secret("prod/db")
    role = state.irsa_role("api", "prod", "api", [allow(READ, db)])
    state.service_account("prod", "api", role)
    state.spc("prod", "api", [{"objectName": object_name}])
    state.workload("Deployment", "prod", "api", "api", "api")
    result = run(state)
    assert triples(result) == set()
    assert result.assessment.service_accounts["prod/ServiceAccount/api"].need_arns == (db,)


def test_pod_inline_objects_override_the_spc(state: State) -> None:
    # The driver copies volumeAttributes over the SPC's parameters: the SPC's own (missing) object is
    # never read, the pod's is.
    db = state.secret("prod/db")
    role = state.irsa_role("api", "prod", "api", [allow(READ, db)])
    state.service_account("prod", "api", role)
    state.spc("prod", "api", objects("prod/does-not-exist"))
    state.workload(
        "Deployment",
        "prod",
        "api",
        "api",
        "api",
        volume_attributes={"objects": "- objectName: prod/db\n  objectType: secretsmanager\n"},
    )
    result = run(state)
    # the override itself is what the driver-hardening rule pod-inline-objects reports
    assert triples(result) == {("pod-inline-objects", "prod/Deployment/api", "high")}
    assert result.assessment.service_accounts["prod/ServiceAccount/api"].need_arns == (db,)


@pytest.mark.parametrize(
    ("region", "why"),
    [(None, "no region"), ("${REGION}", "unsubstituted placeholder ${REGION}")],
    ids=["no-region", "template-placeholder"],
)
def test_mount_whose_region_cannot_be_told_is_unresolved(state: State, region: str | None, why: str) -> None:
    db = state.secret("prod/db")
    role = state.irsa_role("api", "prod", "api", [allow(READ, db)])
    workload = app(state, "prod", "api", role, "prod/db", region=region)
    result = run(state)
    # nothing is declared, so the role's exact grant is beyond the (unknown) need
    assert triples(result) == {
        ("unresolved-object", workload, "medium"),
        ("excess-grant", workload, "medium"),
    }
    assert why in only(result, "unresolved-object").message


def test_provider_region_from_config_resolves_the_mount(state: State) -> None:
    db = state.secret("prod/db")
    role = state.irsa_role("api", "prod", "api", [allow(READ, db)])
    app(state, "prod", "api", role, "prod/db", region=None)
    assert triples(run(state, Config(region=REGION))) == set()


def test_vault_spc_is_skipped_by_aws_analysis(state: State) -> None:
    state.service_account("tools", "vault-reader")
    state.spc(
        "tools",
        "vault-foo",
        "- objectName: foo\n  secretPath: v1/secret/foo\n",
        provider="vault",
        region=None,
    )
    state.workload("Pod", "tools", "vault-debug", "vault-reader", "vault-foo")
    result = run(state)
    assert triples(result) == set()
    assert result.warnings == ("1 mount(s) use provider 'vault': AWS analysis skipped for them",)


# --- no-identity --------------------------------------------------------------------------------------


def test_no_identity_without_annotation(state: State) -> None:
    db = state.secret("prod/db")
    workload = app(state, "prod", "dashboards", None, "prod/db")
    result = run(state)
    assert triples(result) == {("no-identity", workload, "high")}
    finding = only(result, "no-identity")
    assert finding.resources == (db,)
    assert finding.service_account == "prod/ServiceAccount/dashboards"


def test_pod_identity_association_without_use_pod_identity_is_no_identity(state: State) -> None:
    # ASCP uses Pod Identity only with usePodIdentity: "true"; without it, IRSA, and there is no annotation.
    db = state.secret("prod/db")
    role = state.pod_identity_role("reporting", [allow(READ, db)])
    state.association("prod", "reporting", role)
    workload = app(state, "prod", "reporting", None, "prod/db")
    result = run(state)
    assert triples(result) == {("no-identity", workload, "high")}
    assert "Pod Identity association exists" in only(result, "no-identity").message


def test_pod_identity_association_with_use_pod_identity_is_an_identity(state: State) -> None:
    db = state.secret("prod/db")
    role = state.pod_identity_role("reporting", [allow(READ, db)])
    state.association("prod", "reporting", role)
    app(state, "prod", "reporting", None, "prod/db", usePodIdentity="true")
    result = run(state)
    assert triples(result) == set()
    assert result.assessment.service_accounts["prod/ServiceAccount/reporting"].ascp_role == role


def test_use_pod_identity_without_association_is_no_identity_even_with_annotation(state: State) -> None:
    db = state.secret("prod/db")
    role = state.irsa_role("reporting", "prod", "reporting", [allow(READ, db)])
    workload = app(state, "prod", "reporting", role, "prod/db", usePodIdentity="true")
    state.association_listing = True  # the associations were listed, and none names this SA
    result = run(state)
    assert triples(result) == {("no-identity", workload, "high")}


def test_association_of_another_cluster_is_no_identity(state: State) -> None:
    state.secret("prod/db")
    role = state.pod_identity_role("api", [allow(READ, secret_pattern("prod/db"))])
    state.association("prod", "api", role, cluster="some-other-cluster")
    workload = app(state, "prod", "api", None, "prod/db", usePodIdentity="true")
    assert triples(run(state)) == {("no-identity", workload, "high")}


def test_undeclared_service_account_is_a_gap_not_no_identity(state: State) -> None:
    # Fail closed (DESIGN.md §5): a ServiceAccount the input lacks may well carry the role annotation;
    # "no identity" would be a guess. The result is incomplete instead.
    state.secret("prod/db")
    app(state, "prod", "api", None, "prod/db", declare_sa=False)
    result = run(state)
    assert triples(result) == set()
    assert (result.complete, result.gaps) == (
        False,
        (
            "ServiceAccount prod/ServiceAccount/api (used by prod/Deployment/api) is not in the input: "
            "its role annotation is unknown",
        ),
    )


def test_undeclared_default_service_account_is_no_identity(state: State) -> None:
    # Every namespace has its `default` ServiceAccount, created without annotations: not listing it
    # leaves nothing unknown.
    db = state.secret("prod/db")
    state.spc("prod", "api", objects("prod/db"))
    workload = state.workload("Deployment", "prod", "api", "default", "api")
    result = run(state)
    assert triples(result) == {("no-identity", workload, "high")}
    assert only(result, "no-identity").message == (
        "mounts AWS objects but prod/ServiceAccount/default has no eks.amazonaws.com/role-arn annotation: "
        "the mount fails"
    )
    assert only(result, "no-identity").resources == (db,)
    assert (result.complete, result.gaps) == (True, ())


def test_workload_without_mounts_needs_no_identity(state: State) -> None:
    state.secret("prod/db")
    state.service_account("prod", "web")
    state.workload("Deployment", "prod", "web", "web")
    assert triples(run(state)) == set()


# --- broken-trust -------------------------------------------------------------------------------------


def test_annotation_naming_a_role_that_trusts_another_sa_is_broken_trust(state: State) -> None:
    db = state.secret("batch/export")
    role = state.irsa_role("nightly-export", "batch", "export", [allow(READ, db)])
    workload = app(state, "batch", "nightly-export", role, "batch/export", kind="CronJob")
    result = run(state)
    assert triples(result) == {("broken-trust", workload, "high")}
    finding = only(result, "broken-trust")
    assert finding.role_arn == role
    assert finding.service_account == "batch/ServiceAccount/nightly-export"


def test_role_in_another_account_not_in_the_snapshot_is_low(state: State) -> None:
    db = state.secret("prod/db")
    foreign = role_arn("shared-reader", OTHER_ACCOUNT)
    state.service_account("prod", "api", foreign)
    state.spc("prod", "api", [{"objectName": db}])  # a full ARN: no name resolution in the other account
    workload = state.workload("Deployment", "prod", "api", "api", "api")
    result = run(state)
    assert triples(result) == {("broken-trust", workload, "low")}
    assert only(result, "broken-trust").role_arn == foreign


def test_role_in_this_account_missing_from_the_snapshot_is_high(state: State) -> None:
    state.secret("prod/db")
    ghost = role_arn("ghost")
    workload = app(state, "prod", "api", ghost, "prod/db")
    result = run(state)
    assert triples(result) == {("broken-trust", workload, "high")}
    assert "does not exist in the snapshot" in only(result, "broken-trust").message


def test_pod_identity_role_that_does_not_trust_eks_pods_is_broken_trust(state: State) -> None:
    db = state.secret("prod/db")
    role = state.irsa_role("reporting", "prod", "reporting", [allow(READ, db)])  # IRSA trust only
    state.association("prod", "reporting", role)
    workload = app(state, "prod", "reporting", None, "prod/db", usePodIdentity="true")
    result = run(state)
    assert triples(result) == {("broken-trust", workload, "high")}
    assert only(result, "broken-trust").role_arn == role


def test_trust_of_another_clusters_issuer_is_broken_trust(state: State) -> None:
    db = state.secret("prod/db")
    other_issuer = f"oidc.eks.us-east-1.amazonaws.com/id/{'F' * 32}"
    role = state.role(
        "api",
        [allow(READ, db)],
        trust=[
            {
                "Effect": "Allow",
                "Principal": {"Federated": f"arn:aws:iam::{ACCOUNT}:oidc-provider/{other_issuer}"},
                "Action": "sts:AssumeRoleWithWebIdentity",
                "Condition": {"StringEquals": {f"{other_issuer}:sub": sa_subject("prod", "api")}},
            }
        ],
    )
    workload = app(state, "prod", "api", role, "prod/db")
    assert triples(run(state)) == {("broken-trust", workload, "high")}


def test_trust_that_admits_only_under_a_condition_is_medium(state: State) -> None:
    db = state.secret("prod/db")
    role = state.irsa_role(
        "api",
        "prod",
        "api",
        [allow(READ, db)],
        trust_conditions={
            "StringEquals": {SUB: sa_subject("prod", "api"), AUD: "sts.amazonaws.com"},
            "IpAddress": {"aws:SourceIp": "10.0.0.0/8"},
        },
    )
    workload = app(state, "prod", "api", role, "prod/db")
    result = run(state)
    assert triples(result) == {("broken-trust", workload, "medium")}
    assert "only when" in only(result, "broken-trust").message


@pytest.mark.parametrize("clusters", ["none", "two-without-cluster-name"])
def test_trust_that_cannot_be_verified_is_not_a_clean_result(tmp_path: Path, clusters: str) -> None:
    # Fail closed (DESIGN.md §5): without the cluster's OIDC issuer (no describe-cluster, or two
    # clusters and no cluster.name to choose), no trust policy can be checked; here the annotated role
    # trusts another SA. A clean, complete result would be a false "all good".
    state = State(tmp_path, cluster=clusters != "none")
    db = state.secret("prod/db")
    role = state.irsa_role("api", "prod", "someone-else", [allow(READ, db)])
    app(state, "prod", "api", role, "prod/db")
    if clusters == "two-without-cluster-name":
        state.other_cluster("staging", f"oidc.eks.{REGION}.amazonaws.com/id/{'B' * 32}")
    result = run(state)
    assert result.complete is False


# --- broad-trust --------------------------------------------------------------------------------------


def test_string_equals_with_star_in_sub_is_medium_and_admits_nobody(state: State) -> None:
    # StringEquals compares literally: `*` never matches, so the SA is refused too (broken-trust).
    db = state.secret("prod/db")
    role = state.irsa_role(
        "api",
        "prod",
        "api",
        [allow(READ, db)],
        trust_conditions={"StringEquals": {SUB: "system:serviceaccount:prod:*", AUD: "sts.amazonaws.com"}},
    )
    workload = app(state, "prod", "api", role, "prod/db")
    result = run(state)
    assert triples(result) == {("broad-trust", role, "medium"), ("broken-trust", workload, "high")}


def test_string_like_with_star_in_sub_is_high(state: State) -> None:
    db = state.secret("prod/db")
    role = state.irsa_role(
        "api",
        "prod",
        "api",
        [allow(READ, db)],
        trust_conditions={
            "StringLike": {SUB: "system:serviceaccount:prod:*"},
            "StringEquals": {AUD: "sts.amazonaws.com"},
        },
    )
    app(state, "prod", "api", role, "prod/db")
    state.service_account("dev", "api")  # another namespace: not admitted, no finding
    result = run(state)
    assert triples(result) == {("broad-trust", role, "high")}
    finding = only(result, "broad-trust")
    assert finding.message == (
        "statement 0 uses StringLike system:serviceaccount:prod:*, admitting every matching service "
        "account (1 in this cluster: prod/ServiceAccount/api)"
    )
    assert finding.objects == ("prod/ServiceAccount/api",)


@pytest.mark.parametrize("with_workload", [True, False], ids=["sa-with-pod", "sa-alone"])
def test_string_like_admitting_another_sa_lets_it_read(state: State, with_workload: bool) -> None:
    db = state.secret("prod/db")
    role = state.irsa_role(
        "api",
        "prod",
        "api",
        [allow(READ, db)],
        trust_conditions={
            "StringLike": {SUB: "system:serviceaccount:prod:*"},
            "StringEquals": {AUD: "sts.amazonaws.com"},
        },
    )
    api = app(state, "prod", "api", role, "prod/db")
    intruder = state.service_account("prod", "intruder")
    if with_workload:  # the finding is on the workloads running as the SA, else on the SA itself
        intruder = state.workload("Pod", "prod", "intruder", "intruder")
    result = run(state)
    assert triples(result) == {
        ("broad-trust", role, "high"),
        ("cross-workload-grant", intruder, "high"),
    }
    finding = only(result, "cross-workload-grant")
    assert finding.resources == (db,)
    assert finding.objects == (api,)


@pytest.mark.parametrize(
    "subs",
    [
        ["system:serviceaccount:prod:*", "system:serviceaccount:dev:*"],
        ["system:serviceaccount:prod:api", "system:serviceaccount:dev:t??l", "system:serviceaccount:qa:*"],
    ],
    ids=["two patterns", "an exact value beside patterns"],
)
def test_string_like_with_several_sub_values_admits_what_any_one_matches(
    state: State, subs: list[str]
) -> None:
    """A condition operator with several values matches when any one does (IAM User Guide, "Creating
    a condition with multiple keys or values": OR between the values of one key)."""
    db = state.secret("prod/db")
    role = state.irsa_role(
        "api",
        "prod",
        "api",
        [allow(READ, db)],
        trust_conditions={"StringLike": {SUB: subs}, "StringEquals": {AUD: "sts.amazonaws.com"}},
    )
    app(state, "prod", "api", role, "prod/db")
    state.service_account("dev", "tool")
    state.service_account("staging", "tool")  # no value matches it
    state.service_account("devx", "tool")  # `dev:` is a namespace, not a prefix of one
    result = run(state)
    can_assume = {
        sa
        for sa, view in result.assessment.service_accounts.items()
        if any(check.role_arn == role for check, _ in view.access)
    }
    assert can_assume == {"prod/ServiceAccount/api", "dev/ServiceAccount/tool"}
    # dev/tool reads prod/db, which a prod workload declares: across namespaces
    assert triples(result) == {
        ("broad-trust", role, "high"),
        ("cross-workload-grant", "dev/ServiceAccount/tool", "critical"),
    }


def test_missing_sub_is_critical(state: State) -> None:
    db = state.secret("prod/db")
    role = state.irsa_role(
        "api", "prod", "api", [allow(READ, db)], trust_conditions={"StringEquals": {AUD: "sts.amazonaws.com"}}
    )
    app(state, "prod", "api", role, "prod/db")
    assert triples(run(state)) == {("broad-trust", role, "critical")}


def test_missing_aud_alone_is_medium(state: State) -> None:
    db = state.secret("prod/db")
    role = state.irsa_role(
        "api",
        "prod",
        "api",
        [allow(READ, db)],
        trust_conditions={"StringEquals": {SUB: sa_subject("prod", "api")}},
    )
    app(state, "prod", "api", role, "prod/db")
    assert triples(run(state)) == {("broad-trust", role, "medium")}


def test_exact_sub_list_is_not_broad(state: State) -> None:
    # StringEquals on a list of exact subs admits exactly those SAs (here one exists in the cluster).
    smtp = state.secret("shared/smtp")
    role = _notifier_role(state, smtp)
    app(state, "a", "notifier", role, "shared/smtp")
    assert triples(run(state)) == set()


def test_oidc_provider_shared_by_two_clusters_is_high(state: State) -> None:
    db = state.secret("prod/db")
    role = state.irsa_role("api", "prod", "api", [allow(READ, db)])
    app(state, "prod", "api", role, "prod/db")
    state.other_cluster("twin", ISSUER)
    result = run(state, Config(cluster_name=CLUSTER))
    assert triples(result) == {("broad-trust", role, "high")}


# --- broad-trust decided by evaluating the trust for a made-up token -------------------------------------
# IRSA (EKS User Guide, "Configure a role trust policy"): the web-identity token carries
# `<issuer>:sub` = system:serviceaccount:<ns>:<sa> and `<issuer>:aud` = sts.amazonaws.com. Whether the trust
# admits "everyone" is decided as STS decides it, for the token of a service account nobody named
# (system:serviceaccount:iamscope-probe:iamscope-probe): Deny statements and negated operators count
# (IAM User Guide, "Policy evaluation logic"; "Condition operators": a negated operator on a value it
# does not list is true).

WEB_IDENTITY = "sts:AssumeRoleWithWebIdentity"
FEDERATED = {"Federated": PROVIDER}
AUD_OK = {"StringEquals": {AUD: "sts.amazonaws.com"}}
BOTH_SAS = ("dev/ServiceAccount/api", "prod/ServiceAccount/api")


def _trust_app(state: State, trust: list[dict[str, Any]]) -> tuple[str, str]:
    """prod/api mounting prod/db through role api with the given trust; dev/api exists too (no pod)."""
    db = state.secret("prod/db")
    role = state.role("api", [allow(READ, db)], trust=trust)
    workload = app(state, "prod", "api", role, "prod/db")
    state.service_account("dev", "api")
    return role, workload


EVERY_SA = "admits every service account of the cluster (in this cluster: dev/ServiceAccount/api, prod/ServiceAccount/api)"


@pytest.mark.parametrize(
    "trust",
    [
        pytest.param([allow(WEB_IDENTITY, principal=FEDERATED, condition=AUD_OK)], id="no-sub-condition"),
        pytest.param(
            [
                allow(
                    WEB_IDENTITY,
                    principal=FEDERATED,
                    condition={
                        "StringNotEquals": {SUB: sa_subject("kube-system", "x")},
                        "StringEquals": {AUD: "sts.amazonaws.com"},
                    },
                )
            ],
            id="allow-string-not-equals-sub",
        ),
        pytest.param(
            [
                allow(
                    WEB_IDENTITY,
                    principal=FEDERATED,
                    condition={
                        "StringNotLike": {SUB: "system:serviceaccount:kube-system:*"},
                        "StringEquals": {AUD: "sts.amazonaws.com"},
                    },
                )
            ],
            id="allow-string-not-like-sub",
        ),
        pytest.param(
            [
                irsa_trust_statement("prod", "api"),
                allow(
                    WEB_IDENTITY,
                    principal=FEDERATED,
                    condition={"StringLike": {SUB: "*", AUD: "sts.amazonaws.com"}},
                ),
            ],
            id="a-second-statement-admits-everyone",
        ),
    ],
)
def test_trust_admitting_the_made_up_service_account_is_critical(
    state: State, trust: list[dict[str, Any]]
) -> None:
    role, workload = _trust_app(state, trust)
    result = run(state)
    assert triples(result) == {
        ("broad-trust", role, "critical"),
        ("cross-workload-grant", "dev/ServiceAccount/api", "critical"),
    }
    finding = only(result, "broad-trust")
    assert (finding.message, finding.objects) == (EVERY_SA, BOTH_SAS)
    assert only(result, "cross-workload-grant").objects == (workload,)


def test_deny_string_not_equals_sub_keeps_the_trust_to_one_sa(state: State) -> None:
    # The Allow names no sub, but the Deny refuses every sub but prod:api: the made-up token is denied.
    _trust_app(
        state,
        [
            allow(WEB_IDENTITY, principal=FEDERATED, condition=AUD_OK),
            deny(
                WEB_IDENTITY,
                principal=FEDERATED,
                condition={"StringNotEquals": {SUB: sa_subject("prod", "api")}},
            ),
        ],
    )
    result = run(state)
    assert triples(result) == set()
    assert [
        c.role_arn for c in result.assessment.service_accounts["dev/ServiceAccount/api"].identity.assumable
    ] == []


def test_trust_admitting_everyone_only_under_a_condition_is_high(state: State) -> None:
    role, workload = _trust_app(
        state,
        [
            allow(
                WEB_IDENTITY,
                principal=FEDERATED,
                condition={**AUD_OK, "IpAddress": {"aws:SourceIp": "10.0.0.0/8"}},
            )
        ],
    )
    result = run(state)
    assert triples(result) == {
        ("broad-trust", role, "high"),
        # the way to the role holds only under the condition: one step lower (critical → high)
        ("cross-workload-grant", "dev/ServiceAccount/api", "high"),
        ("broken-trust", workload, "medium"),
    }
    finding = only(result, "broad-trust")
    assert finding.message == (
        'admits every service account of the cluster when IpAddress aws:SourceIp "10.0.0.0/8"'
    )
    assert finding.objects == BOTH_SAS


def test_string_like_prefix_lists_every_matching_service_account(state: State) -> None:
    role, _ = _trust_app(
        state,
        [
            allow(
                WEB_IDENTITY,
                principal=FEDERATED,
                condition={"StringLike": {SUB: "system:serviceaccount:prod:*"}, **AUD_OK},
                sid="PodsOfProd",
            )
        ],
    )
    state.service_account("prod", "worker")
    result = run(state)
    assert triples(result) == {
        ("broad-trust", role, "high"),
        ("cross-workload-grant", "prod/ServiceAccount/worker", "high"),
    }
    finding = only(result, "broad-trust")
    assert finding.message == (
        "statement 0 (Sid 'PodsOfProd') uses StringLike system:serviceaccount:prod:*, admitting every "
        "matching service account (2 in this cluster: prod/ServiceAccount/api, prod/ServiceAccount/worker)"
    )
    assert finding.objects == ("prod/ServiceAccount/api", "prod/ServiceAccount/worker")


def test_string_equals_with_star_message(state: State) -> None:
    role, workload = _trust_app(
        state,
        [
            allow(
                WEB_IDENTITY,
                principal=FEDERATED,
                condition={"StringEquals": {SUB: "system:serviceaccount:prod:*", AUD: "sts.amazonaws.com"}},
            )
        ],
    )
    result = run(state)
    assert triples(result) == {("broad-trust", role, "medium"), ("broken-trust", workload, "high")}
    finding = only(result, "broad-trust")
    assert (finding.message, finding.objects) == (
        "statement 0 uses StringEquals with system:serviceaccount:prod:*: `*` is literal there, so it never "
        "matches (StringLike would admit every matching SA)",
        (),
    )


def test_made_up_audience_admitted_is_medium(state: State) -> None:
    role, _ = _trust_app(
        state, [irsa_trust_statement("prod", "api", {"StringEquals": {SUB: sa_subject("prod", "api")}})]
    )
    result = run(state)
    assert triples(result) == {("broad-trust", role, "medium")}
    finding = only(result, "broad-trust")
    assert (finding.message, finding.objects) == (
        f"accepts tokens for any audience (no {ISSUER}:aud condition)",
        ("prod/ServiceAccount/api",),
    )


def test_no_condition_at_all_says_both(state: State) -> None:
    role, _ = _trust_app(state, [allow(WEB_IDENTITY, principal=FEDERATED)])
    result = run(state)
    assert triples(result) == {
        ("broad-trust", role, "critical"),
        ("cross-workload-grant", "dev/ServiceAccount/api", "critical"),
    }
    assert only(result, "broad-trust").message == (
        f"{EVERY_SA}; accepts tokens for any audience (no {ISSUER}:aud condition)"
    )


def test_shared_provider_message(state: State) -> None:
    role, _ = _trust_app(state, [irsa_trust_statement("prod", "api")])
    state.other_cluster("twin", ISSUER)
    result = run(state, Config(cluster_name=CLUSTER))
    assert triples(result) == {("broad-trust", role, "high")}
    finding = only(result, "broad-trust")
    assert (finding.message, finding.objects) == (
        f"the OIDC provider is shared by clusters {CLUSTER}, twin: the same sub admits a service account of "
        "that name in each",
        ("prod/ServiceAccount/api",),
    )


def test_condition_keys_of_another_issuer_admit_nobody(state: State) -> None:
    # A web-identity request from this cluster carries only this issuer's keys (`<issuer>:sub`); keys of
    # another issuer (`<other host>/id/X:sub`) are absent, so a positive operator on them is false
    # (IAM "Condition operators": a condition on a missing key does not match). The trust names the
    # right provider but another issuer's keys: it admits nobody — not "everyone", not "maybe".
    other = f"oidc.eks.us-east-1.amazonaws.com/id/{'F' * 32}"
    role, workload = _trust_app(
        state,
        [
            allow(
                WEB_IDENTITY,
                principal=FEDERATED,
                condition={
                    "StringEquals": {
                        f"{other}:sub": sa_subject("prod", "api"),
                        f"{other}:aud": "sts.amazonaws.com",
                    }
                },
            )
        ],
    )
    result = run(state)
    assert triples(result) == {("broken-trust", workload, "high")}
    assert only(result, "broken-trust").message == (
        f"cannot assume {role} (irsa): trust policy does not admit sub system:serviceaccount:prod:api with "
        "aud sts.amazonaws.com"
    )


# --- shared-role --------------------------------------------------------------------------------------


def _notifier_role(state: State, smtp: str) -> str:
    return state.role(
        "notifier",
        [allow(READ, smtp)],
        trust=[
            irsa_trust_statement(
                "a",
                "notifier",
                {
                    "StringEquals": {
                        SUB: [sa_subject("a", "notifier"), sa_subject("b", "notifier")],
                        AUD: "sts.amazonaws.com",
                    }
                },
            )
        ],
    )


def test_shared_role_used_by_two_service_accounts(state: State) -> None:
    smtp = state.secret("shared/smtp")
    role = _notifier_role(state, smtp)
    app(state, "a", "notifier", role, "shared/smtp")
    app(state, "b", "notifier", role, "shared/smtp")
    result = run(state)
    assert triples(result) == {("shared-role", role, "medium")}
    finding = only(result, "shared-role")
    assert finding.objects == ("a/ServiceAccount/notifier", "b/ServiceAccount/notifier")
    assert finding.resources == (smtp,)


def test_shared_role_through_pod_identity_associations(state: State) -> None:
    smtp = state.secret("shared/smtp")
    role = state.pod_identity_role("notifier", [allow(READ, smtp)])
    state.association("a", "notifier", role)
    state.association("b", "notifier", role)
    app(state, "a", "notifier", None, "shared/smtp", usePodIdentity="true")
    app(state, "b", "notifier", None, "shared/smtp", usePodIdentity="true")
    result = run(state)
    assert triples(result) == {("shared-role", role, "medium")}
    assert only(result, "shared-role").objects == ("a/ServiceAccount/notifier", "b/ServiceAccount/notifier")


def test_role_assumable_by_two_but_used_by_one_is_not_shared_role(state: State) -> None:
    # b can assume the role (cross-workload-grant), but only a mounts through it.
    smtp = state.secret("shared/smtp")
    role = state.role(
        "a",
        [allow(READ, smtp)],
        trust=[
            irsa_trust_statement(
                "prod",
                "a",
                {
                    "StringEquals": {
                        SUB: [sa_subject("prod", "a"), sa_subject("prod", "b")],
                        AUD: "sts.amazonaws.com",
                    }
                },
            )
        ],
    )
    a = app(state, "prod", "a", role, "shared/smtp")
    state.service_account("prod", "b", role)
    b = state.workload("Deployment", "prod", "b", "b")  # annotated, but mounts nothing
    result = run(state)
    assert triples(result) == {("cross-workload-grant", b, "high")}
    assert only(result, "cross-workload-grant").objects == (a,)


def test_shared_role_messages_say_why_it_matters(state: State) -> None:
    # a/notifier and b/notifier declare the same secret through one role: whatever the role is granted
    # for one reaches the other.
    smtp = state.secret("shared/smtp")
    role = _notifier_role(state, smtp)
    app(state, "a", "notifier", role, "shared/smtp")
    app(state, "b", "notifier", role, "shared/smtp")
    assert only(run(state), "shared-role").message == (
        "used by 2 service accounts for their mounts: a/ServiceAccount/notifier, b/ServiceAccount/notifier "
        "(namespaces a, b); they declare the same secrets, so whatever is granted for one reaches all"
    )


def test_shared_role_one_namespace_lists_no_namespaces(state: State) -> None:
    smtp = state.secret("shared/smtp")
    role = state.role(
        "notifier",
        [allow(READ, smtp)],
        trust=[
            irsa_trust_statement(
                "a",
                "x",
                {
                    "StringEquals": {
                        SUB: [sa_subject("a", "x"), sa_subject("a", "y")],
                        AUD: "sts.amazonaws.com",
                    }
                },
            )
        ],
    )
    app(state, "a", "x", role, "shared/smtp")
    app(state, "a", "y", role, "shared/smtp")
    result = run(state)
    assert triples(result) == {("shared-role", role, "medium")}
    assert only(result, "shared-role").message == (
        "used by 2 service accounts for their mounts: a/ServiceAccount/x, a/ServiceAccount/y; they declare "
        "the same secrets, so whatever is granted for one reaches all"
    )


def test_shared_role_where_each_reads_the_others_is_medium(state: State) -> None:
    a_token = state.secret("a/token")
    b_token = state.secret("b/token")
    role = state.pod_identity_role("shared", [allow(READ, [a_token, b_token])])
    for namespace in ("a", "b"):
        state.association(namespace, "app", role)
        app(state, namespace, "app", None, f"{namespace}/token", usePodIdentity="true")
    result = run(state)
    assert triples(result) == {
        ("shared-role", role, "medium"),
        ("cross-workload-grant", "a/Deployment/app", "critical"),
        ("cross-workload-grant", "b/Deployment/app", "critical"),
    }
    finding = only(result, "shared-role")
    assert finding.message == (
        "used by 2 service accounts for their mounts: a/ServiceAccount/app, b/ServiceAccount/app "
        "(namespaces a, b); a/ServiceAccount/app can read 1 of the others'; b/ServiceAccount/app can read 1 "
        "of the others'"
    )
    assert finding.resources == (a_token, b_token)


def test_shared_role_kept_apart_by_session_tags_is_low(state: State) -> None:
    # EKS Pod Identity session tags (aws:PrincipalTag/kubernetes-namespace) as a policy variable: each
    # namespace's session reads only `<namespace>/*` (IAM "Policy variables"; EKS "Pod Identity session
    # tags"). Sharing the role then gives no one the others' secrets.
    a_token = state.secret("a/token")
    b_token = state.secret("b/token")
    own = f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:${{aws:PrincipalTag/kubernetes-namespace}}/*"
    role = state.pod_identity_role("shared", [allow(READ, own)])
    for namespace in ("a", "b"):
        state.association(namespace, "app", role)
        app(state, namespace, "app", None, f"{namespace}/token", usePodIdentity="true")
    result = run(state)
    assert triples(result) == {("shared-role", role, "low")}
    finding = only(result, "shared-role")
    assert finding.message == (
        "used by 2 service accounts for their mounts: a/ServiceAccount/app, b/ServiceAccount/app "
        "(namespaces a, b); its conditions keep each to its own secrets"
    )
    assert (finding.resources, finding.objects) == (
        (a_token, b_token),
        ("a/ServiceAccount/app", "b/ServiceAccount/app"),
    )


def test_shared_role_counts_only_service_accounts_the_trust_admits(state: State) -> None:
    # a/y is annotated with the role, but its trust names only a/x: y cannot use it (broken-trust), so
    # the role is not shared.
    smtp = state.secret("shared/smtp")
    role = state.irsa_role("notifier", "a", "x", [allow(READ, smtp)])
    app(state, "a", "x", role, "shared/smtp")
    y = app(state, "a", "y", role, "shared/smtp")
    assert triples(run(state)) == {("broken-trust", y, "high")}


# --- shared-service-account ---------------------------------------------------------------------------


def test_two_workloads_on_one_service_account(state: State) -> None:
    queue = state.secret("batch/queue")
    schedule = state.parameter("/batch/schedule")
    role = state.irsa_role(
        "batch-shared", "batch", "shared", [allow(READ, queue), allow(GET_PARAMETERS, schedule)]
    )
    state.service_account("batch", "shared", role)
    state.spc("batch", "worker", objects("batch/queue"))
    state.spc("batch", "scheduler", objects("/batch/schedule", type="ssmparameter"))
    worker = state.workload("Deployment", "batch", "worker", "shared", "worker")
    scheduler = state.workload("CronJob", "batch", "scheduler", "shared", "scheduler")
    result = run(state)
    assert triples(result) == {("shared-service-account", "batch/ServiceAccount/shared", "medium")}
    finding = only(result, "shared-service-account")
    assert finding.objects == tuple(sorted([worker, scheduler]))
    assert finding.resources == tuple(sorted([queue, schedule]))
    assert finding.role_arn == role


def test_two_workloads_without_mounts_on_one_service_account_is_not_reported(state: State) -> None:
    state.service_account("web", "default-ish")
    state.workload("Deployment", "web", "a", "default-ish")
    state.workload("Deployment", "web", "b", "default-ish")
    assert triples(run(state)) == set()


def test_same_service_account_name_in_two_namespaces_is_not_shared(state: State) -> None:
    db = state.secret("prod/db")
    role = state.irsa_role("api", "prod", "api", [allow(READ, db)])
    state.service_account("prod", "api", role)
    state.spc("prod", "api", objects("prod/db"))
    state.workload("StatefulSet", "prod", "api", "api", "api")
    state.workload("Pod", "other", "api", "api")  # same SA name, other namespace: another SA
    assert triples(run(state)) == set()


# --- node-role-secret-access --------------------------------------------------------------------------


def test_node_role_reading_every_secret_is_critical(state: State) -> None:
    a = state.secret("prod/a")
    b = state.secret("prod/b")
    flags = state.parameter("/prod/flags")
    node = state.node_role("eks-node-group", [allow(GET, "*")])
    result = run(state)
    assert triples(result) == {("node-role-secret-access", node, "critical")}
    finding = only(result, "node-role-secret-access")
    assert finding.resources == tuple(sorted([a, b]))  # GetSecretValue does not read parameters
    assert flags not in finding.resources
    assert finding.patterns == ("*",)
    assert finding.objects == (f"arn:aws:iam::{ACCOUNT}:instance-profile/eks-node-group-profile",)


def test_node_role_with_one_exact_secret_is_still_critical(state: State) -> None:
    legacy = state.secret("legacy/app")
    state.secret("prod/other")
    node = state.node_role("eks-node-group", [allow(GET, legacy)])
    result = run(state)
    assert triples(result) == {("node-role-secret-access", node, "critical")}
    assert only(result, "node-role-secret-access").resources == (legacy,)
    assert only(result, "node-role-secret-access").patterns == ()


def test_node_role_without_secret_reads_is_not_reported(state: State) -> None:
    state.secret("prod/db")
    state.node_role(
        "eks-node-group",
        [allow(["ecr:GetAuthorizationToken", "ec2:DescribeInstances", "secretsmanager:ListSecrets"], "*")],
    )
    assert triples(run(state)) == set()


def test_node_role_describe_on_star_is_not_secret_access(state: State) -> None:
    # DescribeSecret returns no secret value.
    state.secret("prod/db")
    state.node_role("eks-node-group", [allow(DESCRIBE, "*")])
    assert triples(run(state)) == set()


def test_role_without_instance_profile_is_not_a_node_role(state: State) -> None:
    state.secret("prod/db")
    state.role(
        "lambda-reader",
        [allow(GET, "*")],
        trust=[
            {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}
        ],
    )
    assert triples(run(state)) == set()


def test_node_role_is_not_also_a_wildcard_resource_finding(state: State) -> None:
    # The node role is in scope for node-role-secret-access only (EXPECTED.md §5).
    db = state.secret("prod/db")
    node = state.node_role("eks-node-group", [allow(GET, "*")])
    irsa_app(state, "prod", "api", [allow(READ, db)], "prod/db")
    assert triples(run(state)) == {("node-role-secret-access", node, "critical")}
