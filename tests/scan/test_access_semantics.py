"""What a role can read, decided as AWS decides it, seen through `scan --format json`'s `access` grants
and the findings. One small state per row: the workload prod/Deployment/api (SA prod/ServiceAccount/api)
declares the secret `prod/db`; the row sets the role's policies, the permissions boundary, the secret's
resource policy and KMS key, and says what the role gets on `prod/db` and which findings follow.

References (cited per row):
  [EVAL]   IAM User Guide, "Policy evaluation logic" (explicit Deny > Allow > implicit deny).
  [NOTRES] IAM User Guide, "IAM JSON policy elements: NotResource".
  [NOTACT] IAM User Guide, "IAM JSON policy elements: NotAction".
  [PB]     IAM User Guide, "Permissions boundaries for IAM entities" (effective = identity ∩ boundary).
  [SMRP]   Secrets Manager User Guide, "Resource-based policies" (same-account: identity OR resource
           policy allows; an explicit Deny in either wins).
  [KMSKP]  KMS Developer Guide, "Key policies": IAM policies grant only when the key policy allows the
           account (the default key policy's `arn:aws:iam::<account>:root` statement).
  [KMSAWS] KMS Developer Guide, "AWS managed keys": their key policy allows every principal of the
           account through the owning service.
  [COND]   IAM User Guide, "IAM JSON policy elements: Condition" (aws:SourceIp is a request property the
           scan cannot know; aws:ResourceTag comes from the resource, here from list-secrets).
  [PTAG]   IAM User Guide, "AWS global condition context keys: aws:PrincipalTag" (for a role session:
           the role's own tags, and session tags, which win on the same key).
  [PODID]  EKS User Guide, "Pod Identity session tags" (kubernetes-namespace, kubernetes-service-account,
           eks-cluster-name, eks-cluster-arn as aws:PrincipalTag/...).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from iamscope.report.scan_json import scan_document
from tests.scan.builder import (
    ACCOUNT,
    DESCRIBE,
    GET,
    GET_PARAMETERS,
    READ,
    REGION,
    State,
    allow,
    default_key_policy,
    deny,
    document,
    grants,
    only,
    role_arn,
    run,
    triples,
)

KEY_ID = "0f2c7a4e-9d1b-4c55-8e2a-31b7f5d0c9aa"
KEY = f"arn:aws:kms:{REGION}:{ACCOUNT}:key/{KEY_ID}"
ROLE = role_arn("api")
WORKLOAD = "prod/Deployment/api"
SA = "prod/ServiceAccount/api"
DECRYPT = "kms:Decrypt"
VIA_SM = {"StringEquals": {"kms:ViaService": f"secretsmanager.{REGION}.amazonaws.com"}}
VIA_SSM = {"StringEquals": {"kms:ViaService": f"ssm.{REGION}.amazonaws.com"}}
BOTH = sorted(READ)


@dataclass(frozen=True)
class Case:
    """`$DB`, `$OTHER`, `$KEY` and `$ROLE` in statements stand for the ARNs of the state."""

    identity: list[dict[str, Any]]
    grant: tuple[list[str], str] | None  # (actions, readable) on $DB, or None: no grant entry at all
    findings: set[tuple[str, str]] = field(default_factory=set)  # (rule, severity), every subject
    boundary: list[dict[str, Any]] | None = None
    resource_policy: list[dict[str, Any]] | None = None
    key: str | None = None  # KmsKeyId of the secret: None (AWS managed default), "customer", or a literal
    key_policy: dict[str, Any] | None = None  # None: the default key policy
    tags: dict[str, str] | None = None
    pod_identity: bool = False
    role_tags: dict[str, str] | None = None
    conditional: tuple[str, ...] = ()  # actions the grant lists under "conditions"


def _fill(value: Any, names: dict[str, str]) -> Any:
    text = json.dumps(value)
    for placeholder, arn in names.items():
        text = text.replace(placeholder, arn)
    return json.loads(text)


def build(tmp_path: Path, case: Case) -> Any:
    state = State(tmp_path)
    names = {"$DB": "", "$OTHER": "", "$KEY": KEY, "$ROLE": ROLE}
    kms_key = None
    if case.key == "customer":
        state.kms_key(KEY_ID, policy=_fill(case.key_policy, names) if case.key_policy else None)
        kms_key = KEY_ID
    elif case.key is not None:
        kms_key = case.key
    names["$DB"] = state.secret("prod/db", kms_key=kms_key, tags=case.tags)
    names["$OTHER"] = state.secret("prod/other")
    statements = _fill(case.identity, names)
    boundary = state.managed_policy("boundary", _fill(case.boundary, names)) if case.boundary else None
    if case.pod_identity:
        role = state.pod_identity_role("api", statements, boundary=boundary, tags=case.role_tags)
        state.association("prod", "api", role)
        state.service_account("prod", "api")
        state.spc(
            "prod", "api", [{"objectName": "prod/db", "objectType": "secretsmanager"}], usePodIdentity="true"
        )
    else:
        role = state.irsa_role("api", "prod", "api", statements, boundary=boundary, tags=case.role_tags)
        state.service_account("prod", "api", role)
        state.spc("prod", "api", [{"objectName": "prod/db", "objectType": "secretsmanager"}])
    state.workload("Deployment", "prod", "api", "api", "api")
    if case.resource_policy is not None:
        state.resource_policy(names["$DB"], _fill(case.resource_policy, names))
    return run(state), names["$DB"]


CASES = [
    pytest.param(Case([allow(READ, "$DB")], (BOTH, "allowed")), id="EVAL-exact-allow"),
    pytest.param(
        Case([allow(READ, "$DB"), deny(GET, "$DB")], ([DESCRIBE], "no"), {("missing-grant", "high")}),
        id="EVAL-explicit-deny-beats-allow",
    ),
    pytest.param(
        Case([allow(READ, "$DB"), deny("secretsmanager:*", "*")], None, {("missing-grant", "high")}),
        id="EVAL-deny-star-removes-everything",
    ),
    pytest.param(
        Case([allow("secretsmanager:getsecretvalue", "$DB"), allow(DESCRIBE, "$DB")], (BOTH, "allowed")),
        id="EVAL-actions-case-insensitive",
    ),
    pytest.param(
        Case(
            [allow(READ, "arn:aws:secretsmanager:eu-west-1:111122223333:secret:PROD/db-??????")],
            None,
            {("missing-grant", "high")},
        ),
        id="EVAL-resource-arns-case-sensitive",
    ),
    pytest.param(
        Case(
            [allow(READ, not_resources="$OTHER")],
            (BOTH, "allowed"),
            # what is created later is the role's wildcard-resource finding, said once, not an excess-grant
            {("wildcard-resource", "critical")},
        ),
        id="NOTRES-allow-reaches-all-but-listed",
    ),
    pytest.param(
        Case(
            [allow(READ, not_resources="$DB")],
            None,
            {("wildcard-resource", "critical"), ("excess-grant", "medium"), ("missing-grant", "high")},
        ),
        id="NOTRES-listed-resource-not-reached",
    ),
    pytest.param(
        Case(
            [allow(None, "$DB", not_actions="secretsmanager:DeleteSecret")],
            (BOTH, "allowed"),
            {("wildcard-action", "high")},
        ),
        id="NOTACT-allow-everything-but-delete",
    ),
    pytest.param(
        Case(
            [allow(READ, "$DB"), deny(None, "$DB", not_actions=DESCRIBE)],
            ([DESCRIBE], "no"),
            {("missing-grant", "high")},
        ),
        id="NOTACT-deny-all-but-describe",
    ),
    pytest.param(
        Case([allow(READ, "$DB")], (BOTH, "allowed"), boundary=[allow("secretsmanager:*", "*")]),
        id="PB-boundary-allows",
    ),
    pytest.param(
        Case(
            [allow(READ, "$DB")],
            ([DESCRIBE], "no"),
            {("missing-grant", "high")},
            boundary=[allow(DESCRIBE, "*")],
        ),
        id="PB-boundary-without-get-denies-it",
    ),
    pytest.param(
        Case(
            [allow(DESCRIBE, "$DB")],
            ([DESCRIBE], "no"),
            {("missing-grant", "high")},
            boundary=[allow(READ, "*")],
        ),
        id="PB-boundary-alone-grants-nothing",
    ),
    pytest.param(
        Case(
            [allow(READ, "$DB")],
            ([DESCRIBE], "no"),
            {("missing-grant", "high")},
            resource_policy=[deny(GET, "*", principal="*")],
        ),
        id="SMRP-resource-policy-deny",
    ),
    pytest.param(
        Case(
            [allow(READ, "$DB")],
            (BOTH, "allowed"),
            resource_policy=[
                deny(GET, "*", principal="*", condition={"StringNotEquals": {"aws:PrincipalArn": "$ROLE"}})
            ],
        ),
        id="SMRP-deny-everyone-but-this-role",
    ),
    pytest.param(
        Case(
            [allow(DESCRIBE, "$DB")],
            (BOTH, "allowed"),
            resource_policy=[allow(GET, "*", principal={"AWS": "$ROLE"})],
        ),
        id="SMRP-allow-naming-role-grants-without-identity-allow",
    ),
    pytest.param(
        Case(
            [allow(DESCRIBE, "$DB")],
            ([DESCRIBE], "no"),
            {("missing-grant", "high")},
            resource_policy=[allow(GET, "*", principal={"AWS": role_arn("someone-else")})],
        ),
        id="SMRP-allow-naming-another-role",
    ),
    pytest.param(
        Case(
            [allow(DESCRIBE, "$DB")],
            ([DESCRIBE], "no"),
            {("missing-grant", "high")},
            resource_policy=[allow(GET, "*", principal={"AWS": f"arn:aws:iam::{ACCOUNT}:root"})],
        ),
        id="SMRP-allow-naming-account-delegates-to-iam",
    ),
    pytest.param(
        Case([allow(READ, "$DB")], (BOTH, "allowed"), key="alias/aws/secretsmanager"),
        id="KMSAWS-aws-managed-alias-needs-nothing",
    ),
    pytest.param(
        Case(
            [allow(READ, "$DB")],
            (BOTH, "no"),
            {("missing-grant", "high")},
            key="customer",
        ),
        id="KMSKP-customer-key-without-decrypt-unreadable",
    ),
    pytest.param(
        Case(
            [allow(READ, "$DB"), allow(DECRYPT, "$KEY", condition=VIA_SM)],
            ([*BOTH, DECRYPT], "allowed"),
            key="customer",
        ),
        id="KMSKP-customer-key-with-decrypt-via-secretsmanager",
    ),
    pytest.param(
        Case(
            [allow(READ, "$DB"), allow(DECRYPT, "$KEY", condition=VIA_SSM)],
            (BOTH, "no"),
            {("missing-grant", "high")},
            key="customer",
        ),
        id="KMSKP-decrypt-only-via-ssm-does-not-help",
    ),
    # DESIGN.md §3: without kms-keys*.json a key other than aws/secretsmanager is customer managed with
    # the default key policy, so IAM decides.
    pytest.param(
        Case([allow(READ, "$DB")], (BOTH, "no"), {("missing-grant", "high")}, key=KEY_ID),
        id="KMSKP-key-not-in-snapshot-needs-iam-decrypt",
    ),
    pytest.param(
        Case([allow(READ, "$DB"), allow(DECRYPT, "$KEY")], ([*BOTH, DECRYPT], "allowed"), key=KEY_ID),
        id="KMSKP-key-not-in-snapshot-iam-decrypt-suffices",
    ),
    pytest.param(
        Case(
            [allow(READ, "$DB"), allow(DECRYPT, "$KEY")],
            (BOTH, "no"),
            {("missing-grant", "high")},
            key="customer",
            key_policy=document(
                [allow("kms:*", "*", principal={"AWS": role_arn("key-admin")})],
            ),
        ),
        id="KMSKP-key-policy-not-delegating-makes-iam-decrypt-useless",
    ),
    pytest.param(
        Case(
            [allow(READ, "$DB")],
            ([*BOTH, DECRYPT], "allowed"),
            key="customer",
            key_policy=document(
                [
                    allow("kms:*", "*", principal={"AWS": role_arn("key-admin")}),
                    allow(DECRYPT, "*", principal={"AWS": "$ROLE"}),
                ]
            ),
        ),
        id="KMSKP-key-policy-naming-role-grants-decrypt",
    ),
    pytest.param(
        Case(
            [allow(READ, "$DB", condition={"IpAddress": {"aws:SourceIp": "10.0.0.0/8"}})],
            (BOTH, "conditional"),
            {("missing-grant", "high")},
            conditional=(DESCRIBE, GET),
        ),
        id="COND-source-ip-is-conditional",
    ),
    pytest.param(
        Case(
            [allow(READ, "$DB", condition={"StringEquals": {"aws:ResourceTag/team": "payments"}})],
            (BOTH, "allowed"),
            tags={"team": "payments"},
        ),
        id="COND-resource-tag-matches",
    ),
    pytest.param(
        Case(
            [allow(READ, "$DB", condition={"StringEquals": {"secretsmanager:ResourceTag/team": "payments"}})],
            None,
            {("missing-grant", "high")},
            tags={"team": "checkout"},
        ),
        id="COND-resource-tag-differs",
    ),
    # [COND] list-secrets lists every tag of the secret; a tag it lacks is absent from the request, and a
    # positive operator on an absent key is false: no grant (not "allowed only when").
    pytest.param(
        Case(
            [allow(READ, "$DB", condition={"StringEquals": {"aws:ResourceTag/team": "payments"}})],
            None,
            {("missing-grant", "high")},
        ),
        id="COND-resource-tag-absent-secret-has-no-tags",
    ),
    # [COND] a negated operator on an absent key is true: the Deny applies to a secret without the tag.
    pytest.param(
        Case(
            [
                allow(READ, "$DB"),
                deny(GET, "$DB", condition={"StringNotEquals": {"aws:ResourceTag/team": "payments"}}),
            ],
            ([DESCRIBE], "no"),
            {("missing-grant", "high")},
            tags={"env": "prod"},
        ),
        id="COND-negated-operator-on-absent-tag-denies",
    ),
    pytest.param(
        Case(
            [
                allow(READ, "$DB"),
                deny(GET, "$DB", condition={"StringNotEquals": {"aws:ResourceTag/team": "payments"}}),
            ],
            (BOTH, "allowed"),
            tags={"team": "payments", "env": "prod"},
        ),
        id="COND-negated-deny-on-matching-tag-does-not-apply",
    ),
    # [PTAG] an IRSA session carries no session tags; aws:PrincipalTag/team is the role's own tag, which
    # the snapshot holds (RoleDetailList[].Tags): decided, not "allowed only when".
    pytest.param(
        Case(
            [allow(READ, "$DB", condition={"StringEquals": {"aws:PrincipalTag/team": "prod"}})],
            (BOTH, "allowed"),
            role_tags={"team": "prod"},
        ),
        id="PTAG-role-tag-decides-principal-tag",
    ),
    pytest.param(
        Case(
            [allow(READ, "$DB", condition={"StringEquals": {"aws:PrincipalTag/team": "prod"}})],
            None,
            {("missing-grant", "high")},
            role_tags={"team": "billing"},
        ),
        id="PTAG-other-role-tag-denies",
    ),
    # [PTAG] the role's tags are all in the snapshot: a tag the role lacks is absent, and a positive
    # operator on an absent key is false — no grant, not "allowed only when".
    pytest.param(
        Case(
            [allow(READ, "$DB", condition={"StringEquals": {"aws:PrincipalTag/team": "prod"}})],
            None,
            {("missing-grant", "high")},
        ),
        id="PTAG-role-without-the-tag",
    ),
    pytest.param(
        Case(
            [
                allow(READ, "$DB"),
                deny(GET, "$DB", condition={"StringNotEquals": {"aws:PrincipalTag/team": "prod"}}),
            ],
            ([DESCRIBE], "no"),
            {("missing-grant", "high")},
        ),
        id="PTAG-negated-deny-on-a-tag-the-role-lacks-applies",
    ),
    # [COND] a negated operator on a tag the secret lacks is true: the Allow applies.
    pytest.param(
        Case(
            [allow(READ, "$DB", condition={"StringNotEquals": {"aws:ResourceTag/team": "payments"}})],
            (BOTH, "allowed"),
        ),
        id="COND-negated-allow-on-absent-tag",
    ),
    pytest.param(
        Case(
            [
                allow(
                    READ, "$DB", condition={"StringEquals": {"aws:PrincipalTag/kubernetes-namespace": "prod"}}
                )
            ],
            (BOTH, "allowed"),
            pod_identity=True,
        ),
        id="PODID-namespace-session-tag-matches",
    ),
    # [PTAG]/[PODID] a session tag overrides a role tag of the same key.
    pytest.param(
        Case(
            [
                allow(
                    READ, "$DB", condition={"StringEquals": {"aws:PrincipalTag/kubernetes-namespace": "prod"}}
                )
            ],
            (BOTH, "allowed"),
            pod_identity=True,
            role_tags={"kubernetes-namespace": "billing"},
        ),
        id="PODID-session-tag-wins-over-role-tag",
    ),
    pytest.param(
        Case(
            [
                allow(
                    READ,
                    "$DB",
                    condition={"StringEquals": {"aws:PrincipalTag/kubernetes-namespace": "billing"}},
                )
            ],
            None,
            {("missing-grant", "high")},
            pod_identity=True,
            role_tags={"kubernetes-namespace": "billing"},
        ),
        id="PODID-role-tag-overridden-by-session-tag",
    ),
    pytest.param(
        Case(
            [
                allow(
                    READ,
                    "$DB",
                    condition={"StringEquals": {"aws:PrincipalTag/kubernetes-namespace": "billing"}},
                )
            ],
            None,
            {("missing-grant", "high")},
            pod_identity=True,
        ),
        id="PODID-namespace-session-tag-differs",
    ),
    pytest.param(
        Case(
            [
                allow(
                    READ,
                    f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:${{aws:PrincipalTag/kubernetes-namespace}}/db-??????",
                )
            ],
            (BOTH, "allowed"),
            pod_identity=True,
        ),
        id="PODID-namespace-session-tag-as-policy-variable",
    ),
]


@pytest.mark.parametrize("case", CASES)
def test_what_the_role_reads(tmp_path: Path, case: Case) -> None:
    result, db = build(tmp_path, case)
    got = grants(result, SA)
    entry = got.get((db, ROLE))
    if case.grant is None:
        assert entry is None, entry
    else:
        actions, readable = case.grant
        assert entry is not None, sorted(got)
        assert (entry["actions"], entry["readable"]) == (sorted(actions), readable)
        assert sorted(entry.get("conditions", {})) == sorted(case.conditional)
    assert {(rule, severity) for rule, _, severity in triples(result)} == case.findings


# --- beyond the table: what an unreadable grant means for the findings --------------------------------


def _two_workloads(tmp_path: Path, *, key: str | None, decrypt: bool) -> tuple[Any, str, str]:
    """prod/api reads billing's secret (declared by billing/Deployment/payer) and an undeclared one, both
    encrypted with `key`; `decrypt` gives it kms:Decrypt on the customer key."""
    state = State(tmp_path)
    if key == "customer":
        state.kms_key(KEY_ID)
    kms = KEY_ID if key == "customer" else key
    own = state.secret("prod/own")
    theirs = state.secret("billing/stripe", kms_key=kms)
    spare = state.secret("prod/spare", kms_key=kms)
    statements = [allow(READ, [own, theirs, spare])]
    if decrypt:
        statements.append(allow(DECRYPT, KEY, condition=VIA_SM))
    api_role = state.irsa_role("api", "prod", "api", statements)
    state.service_account("prod", "api", api_role)
    state.spc("prod", "api", [{"objectName": "prod/own", "objectType": "secretsmanager"}])
    state.workload("Deployment", "prod", "api", "api", "api")
    payer_role = state.irsa_role(
        "payer", "billing", "payer", [allow(READ, theirs), allow(DECRYPT, KEY, condition=VIA_SM)]
    )
    state.service_account("billing", "payer", payer_role)
    state.spc("billing", "payer", [{"objectName": "billing/stripe", "objectType": "secretsmanager"}])
    state.workload("Deployment", "billing", "payer", "payer", "payer")
    return run(state), theirs, spare


def test_customer_key_without_decrypt_excludes_cross_workload_and_excess(tmp_path: Path) -> None:
    result, theirs, spare = _two_workloads(tmp_path, key="customer", decrypt=False)
    assert triples(result) == set()
    got = grants(result, SA)
    # IAM lets the role call GetSecretValue, but without kms:Decrypt the value stays unreadable
    assert got[(theirs, ROLE)] == {"actions": BOTH, "readable": "no"}
    assert got[(spare, ROLE)] == {"actions": BOTH, "readable": "no"}


def test_customer_key_with_decrypt_is_cross_workload_and_excess(tmp_path: Path) -> None:
    result, theirs, spare = _two_workloads(tmp_path, key="customer", decrypt=True)
    assert triples(result) == {
        ("cross-workload-grant", WORKLOAD, "critical"),
        ("excess-grant", WORKLOAD, "medium"),
    }
    assert only(result, "cross-workload-grant").resources == (theirs,)
    assert only(result, "excess-grant").resources == (spare,)


@pytest.mark.parametrize("key", [None, "alias/aws/secretsmanager"], ids=["no-KmsKeyId", "aws-managed-alias"])
def test_aws_managed_key_needs_no_decrypt_grant(tmp_path: Path, key: str | None) -> None:
    result, _, spare = _two_workloads(tmp_path, key=key, decrypt=False)
    assert triples(result) == {
        ("cross-workload-grant", WORKLOAD, "critical"),
        ("excess-grant", WORKLOAD, "medium"),
    }
    assert grants(result, SA)[(spare, ROLE)] == {"actions": BOTH, "readable": "allowed"}


def test_aws_managed_key_from_kms_snapshot_needs_no_decrypt_grant(tmp_path: Path) -> None:
    # A KmsKeyId naming a key whose KeyManager is AWS: nothing to grant.
    state = State(tmp_path)
    aws_key = "9d4f2a6c-1b3e-4c5d-8f7a-2e6b0c9d1a35"
    state.kms_key(aws_key, manager="AWS", aliases=["alias/aws/secretsmanager"])
    db = state.secret("prod/db", kms_key=f"arn:aws:kms:{REGION}:{ACCOUNT}:key/{aws_key}")
    role = state.irsa_role("api", "prod", "api", [allow(READ, db)])
    state.service_account("prod", "api", role)
    state.spc("prod", "api", [{"objectName": "prod/db", "objectType": "secretsmanager"}])
    state.workload("Deployment", "prod", "api", "api", "api")
    result = run(state)
    assert triples(result) == set()
    assert grants(result, SA)[(db, ROLE)] == {"actions": BOTH, "readable": "allowed"}


def test_source_ip_condition_is_reported_as_only_when(tmp_path: Path) -> None:
    case = Case(
        [allow(READ, "$DB", condition={"IpAddress": {"aws:SourceIp": "10.0.0.0/8"}})],
        (BOTH, "conditional"),
    )
    result, db = build(tmp_path, case)
    finding = only(result, "missing-grant")
    assert finding.severity == "high"
    assert finding.resources == (db,)
    assert f"{db}: {GET} allowed only when" in finding.message
    assert "aws:SourceIp" in finding.message
    entry = grants(result, SA)[(db, ROLE)]
    assert set(entry["conditions"]) == {DESCRIBE, GET}
    assert all("aws:SourceIp" in when for when in entry["conditions"].values())


def test_resource_tag_decides_exactly(tmp_path: Path) -> None:
    # [COND] the secret's tags come from list-secrets: the condition is decided, not "only when".
    tagged = Case(
        [allow(READ, "$DB", condition={"StringEquals": {"aws:ResourceTag/team": "payments"}})],
        (BOTH, "allowed"),
        tags={"team": "payments"},
    )
    result, db = build(tmp_path, tagged)
    assert grants(result, SA)[(db, ROLE)] == {"actions": BOTH, "readable": "allowed"}
    assert triples(result) == set()


def test_tag_scoped_role_does_not_reach_another_workloads_untagged_secret(tmp_path: Path) -> None:
    # [COND] list-secrets returns every tag of a secret; billing/stripe has none, so
    # `StringEquals aws:ResourceTag/team = prod` is false for it (a positive operator on an absent key),
    # and prod/api cannot read it at all: no cross-workload grant, not even a conditional one.
    state = State(tmp_path)
    own = state.secret("prod/own", tags={"team": "prod"})
    theirs = state.secret("billing/stripe")
    role = state.irsa_role(
        "api",
        "prod",
        "api",
        [allow(READ, "*", condition={"StringEquals": {"aws:ResourceTag/team": "prod"}})],
    )
    state.service_account("prod", "api", role)
    state.spc("prod", "api", [{"objectName": "prod/own", "objectType": "secretsmanager"}])
    state.workload("Deployment", "prod", "api", "api", "api")
    payer = state.irsa_role("payer", "billing", "payer", [allow(READ, theirs)])
    state.service_account("billing", "payer", payer)
    state.spc("billing", "payer", [{"objectName": "billing/stripe", "objectType": "secretsmanager"}])
    state.workload("Deployment", "billing", "payer", "payer", "payer")
    result = run(state)
    got = grants(result, SA)
    assert got[(own, ROLE)] == {"actions": BOTH, "readable": "allowed"}
    assert (theirs, ROLE) not in got
    # A secret created later may carry team=prod: the `*` reaches what is created later only under
    # that condition (high, not critical), and nothing that exists beyond prod/own.
    assert triples(result) == {("wildcard-resource", ROLE, "high")}
    assert only(result, "wildcard-resource").resources == (own,)


def test_access_lists_via_and_assumable_roles(tmp_path: Path) -> None:
    result, db = build(tmp_path, Case([allow(READ, "$DB")], (BOTH, "allowed")))
    entries = scan_document(result)["access"]
    assert entries == [
        {
            "service_account": SA,
            "workloads": [WORKLOAD],
            "role_arn": ROLE,
            "assumable_roles": [ROLE],
            "assumed_through": {ROLE: "irsa"},
            "role_chains": [],
            "needs": [db],
            "unresolved_needs": [],
            "grants": [
                {
                    "resource": db,
                    "actions": BOTH,
                    "via": ROLE,
                    "readable": "allowed",
                    "statements": [f"identity policy {ROLE}#api-inline: statement 0 (Allow)"],
                }
            ],
            # where the service account is declared (the builder writes it first)
            "location": {"file": str(tmp_path / "k8s" / "objects.yaml"), "line": 1},
        }
    ]


def test_default_key_policy_helper_names_the_account() -> None:
    # guard for the builder: the default key policy is what KMS writes, delegating to the account
    assert default_key_policy()["Statement"][0]["Principal"] == {"AWS": f"arn:aws:iam::{ACCOUNT}:root"}


def test_parameter_tags_are_unknown(tmp_path: Path) -> None:
    # describe-parameters returns no tags (ListTagsForResource would), so a condition on a parameter's
    # tag cannot be decided: "allowed only when", a conditional read.
    state = State(tmp_path)
    flags = state.parameter("/prod/flags")
    condition = {"StringEquals": {"aws:ResourceTag/team": "prod"}}
    role = state.irsa_role("api", "prod", "api", [allow(GET_PARAMETERS, flags, condition=condition)])
    state.service_account("prod", "api", role)
    state.spc("prod", "api", [{"objectName": "/prod/flags", "objectType": "ssmparameter"}])
    state.workload("Deployment", "prod", "api", "api", "api")
    result = run(state)
    assert grants(result, SA)[(flags, role)] == {
        "actions": [GET_PARAMETERS],
        "readable": "conditional",
        "conditions": {GET_PARAMETERS: 'StringEquals aws:ResourceTag/team "prod"'},
    }
    assert triples(result) == {("missing-grant", WORKLOAD, "high")}
    assert only(result, "missing-grant").message == (
        f'the mount will fail: {flags}: {GET_PARAMETERS} allowed only when StringEquals aws:ResourceTag/team "prod"'
    )
