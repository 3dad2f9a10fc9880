"""How far a service account's credentials reach beyond the role it is given: role chaining
(sts:AssumeRole from the pod's role into others), ssm:GetParametersByPath decided on the path, and
secrets in another account that the snapshot cannot list.

References:
  [CHAIN] IAM User Guide, "Methods to assume a role" / "Role chaining": a role session may call
          sts:AssumeRole on another role when its identity policy allows sts:AssumeRole on that role and
          the role's trust policy names it (or its account, which then delegates to IAM policies).
  [PATH]  Systems Manager User Guide, "Restricting access to Parameter Store parameters using IAM
          policies": GetParametersByPath is authorized on the path; a user with access to a path can read
          every level beneath it, even a parameter denied by its own ARN.
  [XACCT] Secrets Manager User Guide, "Access AWS Secrets Manager secrets from a different account":
          both the identity policy and the secret's resource policy (in the other account) must allow.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from iamscope.graph import build_graph
from tests.scan.builder import (
    ACCOUNT,
    DESCRIBE,
    GET,
    GET_PARAMETERS,
    OTHER_ACCOUNT,
    POD_IDENTITY_TRUST,
    READ,
    State,
    access,
    allow,
    deny,
    irsa_trust_statement,
    objects,
    only,
    parameter_arn,
    role_arn,
    run,
    secret_arn,
    triples,
)

SA = "prod/ServiceAccount/api"
WORKLOAD = "prod/Deployment/api"
ASSUME = "sts:AssumeRole"
BY_PATH = "ssm:GetParametersByPath"


@pytest.fixture
def state(tmp_path: Path) -> State:
    return State(tmp_path)


# --- role chaining [CHAIN] ------------------------------------------------------------------------------


def mount_db_and_stripe(state: State, api: str, stripe: str) -> None:
    """prod/Deployment/api runs as prod/api, annotated with role `api`, and mounts prod/db;
    billing/Deployment/payer runs as billing/payer (role payer, reading `stripe`) and mounts billing/stripe."""
    state.service_account("prod", "api", api)
    state.spc("prod", "api", objects("prod/db"))
    state.workload("Deployment", "prod", "api", "api", "api")
    payer = state.irsa_role("payer", "billing", "payer", [allow(READ, stripe)])
    state.service_account("billing", "payer", payer)
    state.spc("billing", "payer", objects("billing/stripe"))
    state.workload("Deployment", "billing", "payer", "payer", "payer")


def chained(
    state: State, trust_principal: Any, identity: list[dict[str, Any]] | None = None
) -> tuple[str, str, str]:
    """prod/api (role api, reading prod/db) may AssumeRole into role reader, which reads billing/stripe,
    the secret billing/Deployment/payer declares. Returns (api role, reader role, stripe ARN)."""
    db = state.secret("prod/db")
    stripe = state.secret("billing/stripe")
    reader = state.role("reader", [allow(READ, stripe)], trust=[allow(ASSUME, principal=trust_principal)])
    statements = [allow(READ, db), *(identity if identity is not None else [allow(ASSUME, reader)])]
    api = state.irsa_role("api", "prod", "api", statements)
    mount_db_and_stripe(state, api, stripe)
    return api, reader, stripe


def test_role_chain_counts_as_the_service_accounts_access(state: State) -> None:
    api, reader, stripe = chained(state, {"AWS": role_arn("api")})
    result = run(state)
    assert triples(result) == {("cross-workload-grant", WORKLOAD, "critical")}
    entry = access(result, SA)
    assert (entry["role_arn"], entry["assumable_roles"], entry["role_chains"]) == (
        api,
        [api, reader],
        [f"{api} -> {reader}"],
    )
    assert {(g["resource"], g["via"], g["readable"]) for g in entry["grants"]} == {
        (secret_arn("prod/db"), api, "allowed"),
        (stripe, reader, "allowed"),
    }
    finding = only(result, "cross-workload-grant")
    assert (finding.role_arn, finding.resources, finding.objects) == (
        reader,
        (stripe,),
        ("billing/Deployment/payer",),
    )
    assert [str(e) for e in finding.evidence] == [
        f"{WORKLOAD} -[runs-as]-> {SA}",
        f"{SA} -[irsa-annotation]-> {api}",
        f"{api} -[can-assume]-> {reader}",
        f"{reader} -[can-read]-> {stripe}",
        "billing/Deployment/payer -[mounts]-> billing/SecretProviderClass/payer",
        "billing/SecretProviderClass/payer -[declares]-> billing/SecretProviderClass/payer#0:billing/stripe",
        f"billing/SecretProviderClass/payer#0:billing/stripe -[resolves-to]-> {stripe}",
    ]
    assert finding.evidence[2].reason == (
        f"{api} may call sts:AssumeRole on it: its policies allow it and the trust policy admits it"
    )


def test_role_chain_is_an_edge_of_the_graph(state: State) -> None:
    api, reader, _ = chained(state, {"AWS": role_arn("api")})
    graph = build_graph(run(state).assessment)
    assert [(v, d["kind"]) for _, v, d in graph.out_edges(api, data=True) if d["kind"] == "can-assume"] == [
        (reader, "can-assume")
    ]


@pytest.mark.parametrize(
    "principal",
    [
        pytest.param({"AWS": f"arn:aws:iam::{ACCOUNT}:root"}, id="account-root"),
        pytest.param({"AWS": ACCOUNT}, id="account-id"),
        pytest.param({"AWS": "*"}, id="any-principal"),
    ],
)
def test_trust_naming_the_account_or_anyone_chains_when_the_identity_policy_allows(
    state: State, principal: Any
) -> None:
    api, reader, _ = chained(state, principal)
    result = run(state)
    assert access(result, SA)["role_chains"] == [f"{api} -> {reader}"]
    assert triples(result) == {("cross-workload-grant", WORKLOAD, "critical")}


@pytest.mark.parametrize(
    "principal",
    [
        pytest.param({"AWS": f"arn:aws:iam::{ACCOUNT}:root"}, id="account-root"),
        pytest.param({"AWS": ACCOUNT}, id="account-id"),
    ],
)
def test_trust_naming_the_account_needs_the_identity_policy(state: State, principal: Any) -> None:
    # The account in a trust policy delegates to IAM: without sts:AssumeRole in api's policies, no chain.
    chained(state, principal, identity=[])
    result = run(state)
    assert access(result, SA)["role_chains"] == []
    assert triples(result) == set()


def test_trust_naming_another_role_does_not_chain(state: State) -> None:
    chained(state, {"AWS": role_arn("someone-else")})
    result = run(state)
    assert access(result, SA)["role_chains"] == []
    assert triples(result) == set()


def test_deny_on_assume_role_breaks_the_chain(state: State) -> None:
    chained(
        state,
        {"AWS": f"arn:aws:iam::{ACCOUNT}:root"},
        identity=[allow(ASSUME, "*"), deny(ASSUME, role_arn("reader"))],
    )
    result = run(state)
    assert (access(result, SA)["role_chains"], triples(result)) == ([], set())


def test_two_step_chain(state: State) -> None:
    # api → hop → vault: each step allowed by the source's policy and named by the target's trust.
    db = state.secret("prod/db")
    vault = state.secret("ops/vault")
    target = state.role(
        "vault", [allow(READ, vault)], trust=[allow(ASSUME, principal={"AWS": role_arn("hop")})]
    )
    hop = state.role(
        "hop", [allow(ASSUME, target)], trust=[allow(ASSUME, principal={"AWS": role_arn("api")})]
    )
    api = state.irsa_role("api", "prod", "api", [allow(READ, db), allow(ASSUME, hop)])
    state.service_account("prod", "api", api)
    state.spc("prod", "api", objects("prod/db"))
    state.workload("Deployment", "prod", "api", "api", "api")
    result = run(state)
    entry = access(result, SA)
    assert (entry["assumable_roles"], entry["role_chains"]) == (
        [api, hop, target],
        [f"{api} -> {hop}", f"{hop} -> {target}"],
    )
    assert triples(result) == {("excess-grant", WORKLOAD, "medium")}
    finding = only(result, "excess-grant")
    assert (finding.role_arn, finding.resources) == (target, (vault,))
    assert [str(e) for e in finding.evidence] == [
        f"{WORKLOAD} -[runs-as]-> {SA}",
        f"{SA} -[irsa-annotation]-> {api}",
        f"{api} -[can-assume]-> {hop}",
        f"{hop} -[can-assume]-> {target}",
        f"{target} -[can-read]-> {vault}",
    ]


# --- GetParametersByPath [PATH] -------------------------------------------------------------------------


def parameters(state: State, statements: list[dict[str, Any]]) -> dict[str, str]:
    """prod/api declares /prod/api/flags; billing/payer declares /prod/billing/token; /staging/x is
    nobody's. Role api reads its flags with ssm:GetParameters plus `statements`."""
    arns = {n: state.parameter(n) for n in ("/prod/api/flags", "/prod/billing/token", "/staging/x")}
    api = state.irsa_role("api", "prod", "api", [allow(GET_PARAMETERS, arns["/prod/api/flags"]), *statements])
    state.service_account("prod", "api", api)
    state.spc("prod", "api", objects("/prod/api/flags", type="ssmparameter"))
    state.workload("Deployment", "prod", "api", "api", "api")
    payer = state.irsa_role("payer", "billing", "payer", [allow(GET_PARAMETERS, arns["/prod/billing/token"])])
    state.service_account("billing", "payer", payer)
    state.spc("billing", "payer", objects("/prod/billing/token", type="ssmparameter"))
    state.workload("Deployment", "billing", "payer", "payer", "payer")
    return arns


@pytest.mark.parametrize(
    "extra",
    [
        pytest.param([], id="path-grant"),
        pytest.param([deny("ssm:*", parameter_arn("/prod/billing/token"))], id="deny-on-the-parameter-arn"),
    ],
)
def test_grant_on_a_path_reads_every_parameter_beneath_it(state: State, extra: list[dict[str, Any]]) -> None:
    arns = parameters(state, [allow(BY_PATH, parameter_arn("/prod")), *extra])
    result = run(state)
    assert triples(result) == {("cross-workload-grant", WORKLOAD, "critical")}
    finding = only(result, "cross-workload-grant")
    assert (finding.resources, finding.objects) == (
        (arns["/prod/billing/token"],),
        ("billing/Deployment/payer",),
    )
    grant = {g["resource"]: g for g in access(result, SA)["grants"]}[arns["/prod/billing/token"]]
    assert (grant["actions"], grant["readable"]) == ([BY_PATH], "allowed")


def test_grant_on_a_deeper_path_does_not_reach_a_sibling(state: State) -> None:
    arns = parameters(state, [allow(BY_PATH, parameter_arn("/prod/api"))])
    result = run(state)
    assert triples(result) == set()
    assert [g["resource"] for g in access(result, SA)["grants"]] == [arns["/prod/api/flags"]]


def test_grant_on_a_path_nobody_declares_is_excess(state: State) -> None:
    arns = parameters(state, [allow(BY_PATH, parameter_arn("/staging"))])
    result = run(state)
    assert triples(result) == {("excess-grant", WORKLOAD, "medium")}
    assert only(result, "excess-grant").resources == (arns["/staging/x"],)


def test_deny_on_the_path_stops_it(state: State) -> None:
    parameters(state, [allow(BY_PATH, parameter_arn("/prod")), deny(BY_PATH, parameter_arn("/prod"))])
    assert triples(run(state)) == set()


# --- secrets in another account [XACCT] ----------------------------------------------------------------

FOREIGN = secret_arn("shared/db", account=OTHER_ACCOUNT)
UNVERIFIED = f"the resource policy in account {OTHER_ACCOUNT} allows it (outside the snapshot)"


def foreign(state: State, statements: list[dict[str, Any]]) -> str:
    """prod/api mounts a secret of account 444455556666 by full ARN; the snapshot lists only this
    account's secrets."""
    role = state.irsa_role("api", "prod", "api", statements)
    state.service_account("prod", "api", role)
    state.spc("prod", "api", [{"objectName": FOREIGN}])
    state.workload("Deployment", "prod", "api", "api", "api")
    return role


def test_other_accounts_secret_granted_by_identity_is_unverified(state: State) -> None:
    role = foreign(state, [allow(READ, FOREIGN)])
    result = run(state)
    finding = only(result, "missing-grant")
    assert finding.severity == "low"
    assert finding.message == (
        f"cannot be verified from the snapshot: {FOREIGN}: {DESCRIBE} allowed only when {UNVERIFIED}; "
        f"{FOREIGN}: {GET} allowed only when {UNVERIFIED}"
    )
    assert (finding.resources, finding.role_arn) == ((FOREIGN,), role)
    assert access(result, SA)["grants"] == [
        {
            "resource": FOREIGN,
            "actions": sorted(READ),
            "via": role,
            "readable": "conditional",
            "conditions": {DESCRIBE: UNVERIFIED, GET: UNVERIFIED},
            "statements": [f"identity policy {role}#api-inline: statement 0 (Allow)"],
        }
    ]


def test_other_accounts_secret_is_not_reported_missing(state: State) -> None:
    # This account's list-secrets cannot list another account's secrets: its absence there says nothing
    # (only a listing that could hold it can say it does not exist), so no unresolved-object.
    foreign(state, [allow(READ, FOREIGN)])
    result = run(state)
    assert triples(result) == {("missing-grant", WORKLOAD, "low")}


def test_other_accounts_secret_not_granted_by_identity_fails_the_mount(state: State) -> None:
    # Cross-account access needs the identity policy too: without it the mount fails whatever the
    # resource policy says.
    foreign(state, [allow(GET, FOREIGN)])
    result = run(state)
    finding = only(result, "missing-grant")
    assert (finding.severity, finding.message) == (
        "medium",
        f"rotation checks will fail: {FOREIGN}: missing {DESCRIBE}; {FOREIGN}: {GET} allowed only when {UNVERIFIED}",
    )


def test_other_accounts_secret_denied_by_identity_is_no_grant(state: State) -> None:
    foreign(
        state, [allow(READ, "*"), deny("secretsmanager:*", f"arn:aws:secretsmanager:*:{OTHER_ACCOUNT}:*")]
    )
    result = run(state)
    assert [g["resource"] for g in access(result, SA)["grants"] if not g.get("pattern")] == []
    finding = only(result, "missing-grant")
    assert (finding.severity, finding.message) == (
        "high",
        f"the mount will fail: {FOREIGN}: missing {DESCRIBE}; {FOREIGN}: missing {GET}",
    )


# --- one role, reached two ways --------------------------------------------------------------------------


def test_role_reached_through_irsa_and_pod_identity_counts_each_secret_once(state: State) -> None:
    """The role's trust admits the service account's token (IRSA) and EKS Pod Identity, and an
    association names the service account: the same role twice in its access, each secret once in a
    finding."""
    db, stripe, other = state.secret("prod/db"), state.secret("billing/stripe"), state.secret("misc/other")
    both = state.role(
        "both",
        [allow(READ, [db, stripe, other])],
        trust=[irsa_trust_statement("prod", "api"), POD_IDENTITY_TRUST],
    )
    state.association("prod", "api", both)
    mount_db_and_stripe(state, both, stripe)
    result = run(state)
    assert [(c.role_arn, c.via) for c, _ in result.assessment.service_accounts[SA].access] == [
        (both, "irsa"),
        (both, "pod-identity"),
    ]
    cross = only(result, "cross-workload-grant")
    assert (cross.resources, cross.message) == (
        (stripe,),
        "can read 1 secret(s)/parameter(s) that 1 other workload(s) declare (billing/Deployment/payer), "
        "across namespaces (billing)",
    )
    excess = only(result, "excess-grant")
    assert (excess.resources, excess.message) == (
        (other,),
        "can read 1 secret(s)/parameter(s) no workload declares",
    )
