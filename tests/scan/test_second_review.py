"""What the second review changed (commit "Second review: ..."): Pod Identity target roles and disabled
session tags, cross-account IRSA providers, role chains of any length, truncated listings and unlisted
regions, graph edge kinds, node roles, secrets scheduled for deletion, objects declared twice,
fingerprints and messages cut short. Each behaviour has a case where it shows and a near miss where it
must not."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml

from iamscope.config import load_config
from iamscope.files import InputReader
from iamscope.scan import ScanResult, scan
from iamscope.state import load_inventory, sources
from tests.conftest import REPO
from tests.k8s.helpers import read_paths, run_cli, service_account, write
from tests.scan.builder import (
    ACCOUNT,
    DESCRIBE,
    EC2_TRUST,
    GET,
    ISSUER,
    OTHER_ACCOUNT,
    POD_IDENTITY_TRUST,
    READ,
    REGION,
    State,
    access,
    allow,
    document,
    grants,
    irsa_trust_statement,
    key_arn,
    objects,
    only,
    role_arn,
    run,
    sa_subject,
    secret_arn,
    triples,
)

SA = "prod/ServiceAccount/api"
WORKLOAD = "prod/Deployment/api"
ASSUME = "sts:AssumeRole"
TAG = "sts:TagSession"
DECRYPT = "kms:Decrypt"
VIA_SM = {"StringEquals": {"kms:ViaService": f"secretsmanager.{REGION}.amazonaws.com"}}
NODE_POLICY = "arn:aws:iam::aws:policy/AmazonEKSWorkerNodePolicy"
TRUNCATED = ": a page that says more follows (IsTruncated/NextToken), and no last page"
DEMO = REPO / "fixtures" / "demo"


def trusts(principal: str, actions: str | list[str] = ASSUME) -> list[dict[str, Any]]:
    """A trust policy naming one AWS principal (a role ARN)."""
    return [{"Effect": "Allow", "Principal": {"AWS": principal}, "Action": actions}]


def mounting_app(state: State, *names: str, role: str | None = None, **spc: str) -> str:
    """prod/Deployment/api running as SA api (annotated with `role` when given), mounting SPC api."""
    state.service_account("prod", "api", role)
    state.spc("prod", "api", objects(*names), **spc)
    return state.workload("Deployment", "prod", "api", "api", "api")


def other_account_roles(root: Path, roles: list[dict[str, Any]]) -> None:
    """A second `aws iam get-account-authorization-details` output, for account 444455556666."""
    (root / "aws" / f"iam-authorization-details-{OTHER_ACCOUNT}.json").write_text(
        json.dumps({"UserDetailList": [], "GroupDetailList": [], "RoleDetailList": roles, "Policies": []})
    )


def role_entry(
    name: str, trust: list[dict[str, Any]], statements: list[dict[str, Any]], account: str = OTHER_ACCOUNT
) -> dict[str, Any]:
    """One RoleDetailList entry as the AWS CLI prints it."""
    return {
        "Path": "/",
        "RoleName": name,
        "RoleId": f"AROA{name.upper().replace('-', '')}",
        "Arn": role_arn(name, account),
        "AssumeRolePolicyDocument": document(trust),
        "RolePolicyList": [{"PolicyName": f"{name}-inline", "PolicyDocument": document(statements)}],
        "AttachedManagedPolicies": [],
        "InstanceProfileList": [],
        "Tags": [],
    }


def edit_json(path: Path, **fields: Any) -> None:
    data = json.loads(path.read_text())
    data.update(fields)
    path.write_text(json.dumps(data, indent=2))


# --- 1. Pod Identity association with targetRoleArn ----------------------------------------------------
# EKS API CreatePodIdentityAssociation, targetRoleArn: EKS first assumes roleArn (trust: the service
# principal pods.eks.amazonaws.com), then with those credentials calls sts:AssumeRole + sts:TagSession on
# the target role; the pod receives the target role's credentials only ("Access AWS Resources using EKS
# Pod Identity Target IAM Roles", EKS user guide).


def target_app(
    state: State, *, target_trust: list[dict[str, Any]] | None, target: str | None = None
) -> tuple[str, str, str, str]:
    """Association prod/api → hop role (reads prod/other) → target role (reads prod/db, declared)."""
    db = state.secret("prod/db")
    other = state.secret("prod/other")
    target = target or role_arn("target")
    hop = state.pod_identity_role("hop", [allow([ASSUME, TAG], target), allow(READ, other)])
    if target_trust is not None:
        state.role("target", [allow(READ, db)], trust=target_trust)
    association = state.association("prod", "api", hop)
    state.associations[-1]["targetRoleArn"] = target
    mounting_app(state, "prod/db", usePodIdentity="true")
    return hop, target, db, association


def test_target_role_is_the_pods_role_and_its_grants_are_the_sas(tmp_path: Path) -> None:
    state = State(tmp_path)
    _, target, db, _ = target_app(state, target_trust=trusts(role_arn("hop"), [ASSUME, TAG]))
    result = run(state)
    assert (triples(result), result.complete) == (set(), True)
    entry = access(result, SA)
    assert entry["role_arn"] == target
    # the hop role's own grant on prod/other never reaches the pod: it only holds the target's credentials
    assert entry["assumable_roles"] == [target]
    assert grants(result, SA) == {
        (db, target): {"actions": [DESCRIBE, GET], "readable": "allowed"},
    }


def test_target_role_whose_trust_does_not_allow_tag_session_is_broken_trust(tmp_path: Path) -> None:
    # near miss: the trust names the hop role for sts:AssumeRole only; EKS also tags the session
    state = State(tmp_path)
    hop, target, _, association = target_app(state, target_trust=trusts(role_arn("hop"), ASSUME))
    result = run(state)
    assert triples(result) == {("broken-trust", WORKLOAD, "high")}
    finding = only(result, "broken-trust")
    assert finding.role_arn == target
    assert finding.message == (
        f"cannot assume {target} (pod-identity): Pod Identity association {association} (target role, "
        f"through {hop}): its trust policy does not let {hop} assume and tag it"
    )
    entry = access(result, SA)
    assert (entry["role_arn"], entry["assumable_roles"], entry["grants"]) == (target, [], [])


def test_target_role_absent_from_the_snapshot_in_the_same_account_is_broken_trust(tmp_path: Path) -> None:
    # iam-authorization-details.json lists every role of the account: a same-account target not in it
    # does not exist, and EKS cannot hand it to the pod.
    state = State(tmp_path)
    _, target, _, _ = target_app(state, target_trust=None)
    result = run(state)
    assert triples(result) == {("broken-trust", WORKLOAD, "high")}
    finding = only(result, "broken-trust")
    assert (
        finding.message == f"cannot assume {target} (pod-identity): the role does not exist in the snapshot"
    )
    assert access(result, SA)["grants"] == []


def cross_account_target(tmp_path: Path, hop_statements: list[dict[str, Any]]) -> tuple[ScanResult, str, str]:
    state = State(tmp_path)
    target = role_arn("target", OTHER_ACCOUNT)
    db = secret_arn("prod/db", account=OTHER_ACCOUNT)
    state.secrets.append({"ARN": db, "Name": "prod/db"})
    hop = state.pod_identity_role("hop", hop_statements)
    state.association("prod", "api", hop)
    state.associations[-1]["targetRoleArn"] = target
    state.service_account("prod", "api")
    state.spc("prod", "api", [{"objectName": db}], usePodIdentity="true")
    state.workload("Deployment", "prod", "api", "api", "api")
    root = state.write()
    other_account_roles(root, [role_entry("target", trusts(hop, [ASSUME, TAG]), [allow(READ, db)])])
    return run(root), target, db


def test_cross_account_target_needs_the_hop_roles_own_permission(tmp_path: Path) -> None:
    # IAM cross-account access: a principal of account A assumes a role of account B only when A's
    # identity policies allow it AND B's trust names it. The hop role here has no policy at all.
    result, _, _ = cross_account_target(tmp_path, [])
    assert triples(result) == {("broken-trust", WORKLOAD, "high")}
    assert access(result, SA)["grants"] == []


def test_cross_account_target_with_the_hop_roles_permission_is_assumable(tmp_path: Path) -> None:
    # The EKS guide's cross-account setup: the target's trust names the Pod Identity role, and the Pod
    # Identity role's permission policy allows sts:AssumeRole + sts:TagSession on the target. Both hold.
    result, target, db = cross_account_target(
        tmp_path, [allow([ASSUME, TAG], role_arn("target", OTHER_ACCOUNT))]
    )
    assert triples(result) == set()
    entry = access(result, SA)
    assert (entry["role_arn"], entry["assumable_roles"]) == (target, [target])
    assert grants(result, SA) == {(db, target): {"actions": [DESCRIBE, GET], "readable": "allowed"}}


# --- 2. disableSessionTags ------------------------------------------------------------------------------
# EKS Pod Identity session tags (kubernetes-namespace, kubernetes-service-account, ...) are
# aws:PrincipalTag/<key> in the role session; with disableSessionTags EKS attaches none, and a positive
# condition operator on an absent key is false (IAM condition evaluation). The role's own tags still
# count as principal tags (IAM: aws:PrincipalTag holds the role's tags, session tags override them).

ABAC = {"StringEquals": {"aws:PrincipalTag/kubernetes-namespace": "prod"}}


def abac_app(
    tmp_path: Path, *, disable: bool | None, tags: dict[str, str] | None = None
) -> tuple[ScanResult, str]:
    state = State(tmp_path)
    db = state.secret("prod/db")
    role = state.pod_identity_role("api", [allow(READ, db, condition=ABAC)], tags=tags)
    state.association("prod", "api", role)
    if disable is not None:
        state.associations[-1]["disableSessionTags"] = disable
    mounting_app(state, "prod/db", usePodIdentity="true")
    return run(state), db


@pytest.mark.parametrize("disable", [None, False], ids=["no-flag", "false"])
def test_session_tags_satisfy_the_abac_condition(tmp_path: Path, disable: bool | None) -> None:
    result, db = abac_app(tmp_path, disable=disable)
    assert triples(result) == set()
    assert grants(result, SA) == {(db, role_arn("api")): {"actions": [DESCRIBE, GET], "readable": "allowed"}}


def test_disabled_session_tags_break_the_abac_condition(tmp_path: Path) -> None:
    result, db = abac_app(tmp_path, disable=True)
    assert triples(result) == {("missing-grant", WORKLOAD, "high")}
    finding = only(result, "missing-grant")
    assert finding.resources == (db,)
    assert finding.message == (f"the mount will fail: {db}: missing {DESCRIBE}; {db}: missing {GET}")
    assert grants(result, SA) == {}


def test_disabled_session_tags_fall_back_to_the_roles_own_tag(tmp_path: Path) -> None:
    result, db = abac_app(tmp_path, disable=True, tags={"kubernetes-namespace": "prod"})
    assert triples(result) == set()
    assert grants(result, SA) == {(db, role_arn("api")): {"actions": [DESCRIBE, GET], "readable": "allowed"}}


# --- 3. cross-account IRSA ------------------------------------------------------------------------------
# An IAM role trusts only an OIDC provider of its own account: cross-account IRSA creates, in the other
# account, an IAM OIDC provider for the same cluster issuer (arn:aws:iam::<other>:oidc-provider/<issuer>)
# and the role's trust names that one (EKS "Authenticate to another account with IRSA").

OTHER_PROVIDER = f"arn:aws:iam::{OTHER_ACCOUNT}:oidc-provider/{ISSUER}"


def web_identity_trust(provider: str, sa: str) -> list[dict[str, Any]]:
    return [
        {
            "Effect": "Allow",
            "Principal": {"Federated": provider},
            "Action": "sts:AssumeRoleWithWebIdentity",
            "Condition": {
                "StringEquals": {
                    f"{ISSUER}:sub": sa_subject("prod", sa),
                    f"{ISSUER}:aud": "sts.amazonaws.com",
                }
            },
        }
    ]


def cross_account_irsa(tmp_path: Path, roles: list[dict[str, Any]]) -> tuple[ScanResult, str, str]:
    state = State(tmp_path)
    db = state.secret("prod/db")
    far = secret_arn("shared/reports", account=OTHER_ACCOUNT)
    state.secrets.append({"ARN": far, "Name": "shared/reports"})
    own = state.irsa_role("api", "prod", "api", [allow(READ, db)])
    mounting_app(state, "prod/db", role=own)
    root = state.write()
    other_account_roles(root, roles)
    return run(root), own, far


def test_role_in_another_account_trusting_its_provider_for_the_issuer_is_assumable(tmp_path: Path) -> None:
    far = secret_arn("shared/reports", account=OTHER_ACCOUNT)
    reader = role_entry("reports-reader", web_identity_trust(OTHER_PROVIDER, "api"), [allow(READ, far)])
    result, own, _ = cross_account_irsa(tmp_path, [reader])
    entry = access(result, SA)
    assert entry["role_arn"] == own
    assert entry["assumable_roles"] == [own, role_arn("reports-reader", OTHER_ACCOUNT)]
    assert grants(result, SA)[(far, role_arn("reports-reader", OTHER_ACCOUNT))] == {
        "actions": [DESCRIBE, GET],
        "readable": "allowed",
    }
    # the pod can read a secret no workload declares through it
    assert triples(result) == {("excess-grant", WORKLOAD, "medium")}
    finding = only(result, "excess-grant")
    assert (finding.role_arn, finding.resources) == (role_arn("reports-reader", OTHER_ACCOUNT), (far,))


@pytest.mark.parametrize(
    "trust",
    [
        web_identity_trust(OTHER_PROVIDER, "batch"),  # the provider, but another SA's sub
        # the cluster account's provider: a trust can name only a provider of the role's own account
        web_identity_trust(f"arn:aws:iam::{ACCOUNT}:oidc-provider/{ISSUER}", "api"),
    ],
    ids=["other-sa", "provider-of-another-account"],
)
def test_role_in_another_account_not_admitting_the_sa_is_not_assumable(
    tmp_path: Path, trust: list[dict[str, Any]]
) -> None:
    far = secret_arn("shared/reports", account=OTHER_ACCOUNT)
    result, own, _ = cross_account_irsa(tmp_path, [role_entry("reports-reader", trust, [allow(READ, far)])])
    assert access(result, SA)["assumable_roles"] == [own]
    assert (far, role_arn("reports-reader", OTHER_ACCOUNT)) not in grants(result, SA)
    assert triples(result) == set()


# --- 4. role chains -------------------------------------------------------------------------------------
# IAM role chaining: a role session may call sts:AssumeRole on a role whose trust names it (same account:
# the trust alone suffices; here the policies allow it too). AWS sets no limit on the number of hops
# (only the chained session lasts at most one hour).


def test_seven_hop_chain_reaches_another_workloads_secret(tmp_path: Path) -> None:
    state = State(tmp_path)
    db = state.secret("prod/db")
    stripe = state.secret("billing/stripe")
    hops = [role_arn(f"hop{i}") for i in range(8)]
    state.irsa_role("hop0", "prod", "api", [allow(READ, db), allow(ASSUME, hops[1])])
    for i in range(1, 8):
        statements = [allow(ASSUME, hops[i + 1])] if i < 7 else [allow(READ, stripe)]
        state.role(f"hop{i}", statements, trust=trusts(hops[i - 1]))
    mounting_app(state, "prod/db", role=hops[0])
    payer = state.irsa_role("payer", "billing", "payer", [allow(READ, stripe)])
    state.service_account("billing", "payer", payer)
    state.spc("billing", "payer", objects("billing/stripe"))
    state.workload("Deployment", "billing", "payer", "payer", "payer")
    result = run(state)
    assert triples(result) == {("cross-workload-grant", WORKLOAD, "critical")}
    finding = only(result, "cross-workload-grant")
    assert (finding.role_arn, finding.resources, finding.objects) == (
        hops[7],
        (stripe,),
        ("billing/Deployment/payer",),
    )
    entry = access(result, SA)
    assert entry["role_chains"] == [f"{hops[i]} -> {hops[i + 1]}" for i in range(7)]
    assert entry["assumable_roles"] == hops
    # the evidence walks every hop
    assumed = [(e.source, e.target) for e in finding.evidence if e.kind == "can-assume"]
    assert assumed == [(hops[i], hops[i + 1]) for i in range(7)]


def test_chain_that_loops_back_ends(tmp_path: Path) -> None:
    state = State(tmp_path)
    db = state.secret("prod/db")
    spare = state.secret("prod/spare")
    a, b = role_arn("a"), role_arn("b")
    state.role(
        "a", [allow(READ, db), allow(ASSUME, b)], trust=[irsa_trust_statement("prod", "api"), *trusts(b)]
    )
    state.role("b", [allow(ASSUME, a), allow(READ, spare)], trust=trusts(a))
    mounting_app(state, "prod/db", role=a)
    result = run(state)
    entry = access(result, SA)
    assert entry["role_chains"] == [f"{a} -> {b}"]  # b -> a reaches nothing new
    assert entry["assumable_roles"] == [a, b]
    assert triples(result) == {("excess-grant", WORKLOAD, "medium")}
    assert (only(result, "excess-grant").role_arn, only(result, "excess-grant").resources) == (b, (spare,))


# --- 5. truncated listings ------------------------------------------------------------------------------
# The AWS CLI follows IsTruncated/Marker (IAM) and NextToken (Secrets Manager) itself and prints no token;
# a saved page that carries one was cut short (--max-items or --no-paginate), and what follows it unseen.


def plain_app(state: State) -> str:
    db = state.secret("prod/db")
    role = state.irsa_role("api", "prod", "api", [allow(READ, db)])
    mounting_app(state, "prod/db", role=role)
    return role


def test_only_iam_page_is_truncated_makes_the_result_incomplete(tmp_path: Path) -> None:
    state = State(tmp_path)
    plain_app(state)
    root = state.write()
    page = root / "aws" / "iam-authorization-details.json"
    edit_json(page, IsTruncated=True, Marker="x")
    result = run(root)
    assert (result.complete, result.gaps) == (False, (f"{page}{TRUNCATED}",))
    assert triples(result) == set()


def test_iam_pages_ending_with_a_last_page_are_complete(tmp_path: Path) -> None:
    state = State(tmp_path)
    role = plain_app(state)
    root = state.write()
    first = root / "aws" / "iam-authorization-details.json"
    roles = json.loads(first.read_text())["RoleDetailList"]
    edit_json(first, IsTruncated=True, Marker="x", RoleDetailList=[])
    last = root / "aws" / "iam-authorization-details-2.json"
    last.write_text(json.dumps({"RoleDetailList": roles, "Policies": [], "IsTruncated": False}))
    result = run(root)
    assert (result.complete, result.gaps) == (True, ())
    assert triples(result) == set()  # the role read from the second page is found and admits the SA
    assert access(result, SA)["assumable_roles"] == [role]


def test_list_secrets_page_with_next_token_only_is_incomplete(tmp_path: Path) -> None:
    state = State(tmp_path)
    plain_app(state)
    root = state.write()
    page = root / "aws" / f"secretsmanager-list-secrets-{REGION}.json"
    edit_json(page, NextToken="AAAAtoken")
    result = run(root)
    assert (result.complete, result.gaps) == (False, (f"{page}{TRUNCATED}",))


def test_a_complete_listing_of_another_region_does_not_end_a_truncated_one(tmp_path: Path) -> None:
    # ListSecrets is regional: each region is paginated on its own, so eu-central-1's complete listing
    # is no last page for eu-west-1's truncated one (DESIGN.md §3: one list-secrets file per region).
    state = State(tmp_path)
    plain_app(state)
    root = state.write()
    page = root / "aws" / f"secretsmanager-list-secrets-{REGION}.json"
    edit_json(page, NextToken="AAAAtoken")
    (root / "aws" / "secretsmanager-list-secrets-eu-central-1.json").write_text(
        json.dumps({"SecretList": []})
    )
    result = run(root)
    assert (result.complete, result.gaps) == (False, (f"{page}{TRUNCATED}",))


# --- 6. unlisted failover region ------------------------------------------------------------------------
# ASCP with failoverRegion reads every object from both regions (DESIGN.md §4); a secret missing from a
# region can only be told from that region's listing.


def failover_app(tmp_path: Path, *, central_listing: bool) -> tuple[ScanResult, str, str]:
    state = State(tmp_path)
    db = state.secret("prod/db")
    central = secret_arn("prod/db", "eu-central-1")
    role = state.irsa_role("api", "prod", "api", [allow(READ, [db, central])])
    mounting_app(state, "prod/db", role=role, failoverRegion="eu-central-1")
    root = state.write()
    if central_listing:
        (root / "aws" / "secretsmanager-list-secrets-eu-central-1.json").write_text(
            json.dumps({"SecretList": [{"ARN": central, "Name": "prod/db"}]})
        )
    return run(root), db, central


def test_failover_region_without_its_listing_is_a_gap(tmp_path: Path) -> None:
    result, _, _ = failover_app(tmp_path, central_listing=False)
    assert (result.complete, result.gaps) == (
        False,
        (
            "no secretsmanager-list-secrets-eu-central-1.json: declared objects in eu-central-1 cannot be confirmed",
        ),
    )
    assert triples(result) == set()


def test_failover_region_with_its_listing_is_complete(tmp_path: Path) -> None:
    result, db, central = failover_app(tmp_path, central_listing=True)
    assert (result.complete, result.gaps) == (True, ())
    assert triples(result) == set()
    assert access(result, SA)["needs"] == [central, db]


# --- 7. graph edge kinds --------------------------------------------------------------------------------
# Secrets Manager: DescribeSecret returns metadata, never the value; GetSecretValue on a secret encrypted
# with a customer managed key also needs kms:Decrypt on that key (through secretsmanager.<region>), else
# it fails (Secrets Manager "Secret encryption and decryption").

LOCKED_KEY = key_arn("1111aaaa-0000-4000-8000-000000000001")
OPEN_KEY = key_arn("2222bbbb-0000-4000-8000-000000000002")


def graph_edges(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> tuple[dict[str, str], list[dict[str, str]]]:
    state = State(tmp_path / "state")
    state.kms_key(LOCKED_KEY.rsplit("/", 1)[1])
    state.kms_key(OPEN_KEY.rsplit("/", 1)[1])
    arns = {
        "meta": state.secret("prod/meta"),
        "locked": state.secret("prod/locked", kms_key=LOCKED_KEY),
        "plain": state.secret("prod/plain"),
        "keyed": state.secret("prod/keyed", kms_key=OPEN_KEY),
    }
    role = state.irsa_role(
        "api",
        "prod",
        "api",
        [
            allow(DESCRIBE, arns["meta"]),
            allow(READ, [arns["locked"], arns["plain"], arns["keyed"]]),
            allow(DECRYPT, OPEN_KEY, condition=VIA_SM),
        ],
    )
    mounting_app(state, "prod/meta", "prod/locked", "prod/plain", "prod/keyed", role=role)
    root = state.write()
    monkeypatch.chdir(tmp_path)
    code, out, err = run_cli(["graph", str(root), "--format", "json"], capsys)
    assert (code, err) == (0, "")
    edges = [e for e in json.loads(out)["edges"] if e["source"] == role and e["kind"] != "has-policy"]
    return arns, edges


def test_graph_edge_kinds_say_what_a_grant_returns(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    arns, edges = graph_edges(tmp_path, capsys, monkeypatch)
    statement = "(identity policy arn:aws:iam::111122223333:role/api#api-inline: statement {} (Allow))"
    assert sorted((e["kind"], e["target"], e["reason"]) for e in edges) == sorted(
        [
            ("can-call", arns["meta"], f"{DESCRIBE} {statement.format(0)}"),
            (
                "can-call",
                arns["locked"],
                f"{DESCRIBE}, {GET} {statement.format(1)}; but not kms:Decrypt on {LOCKED_KEY}",
            ),
            ("can-read", arns["plain"], f"{DESCRIBE}, {GET} {statement.format(1)}"),
            (
                "can-read",
                arns["keyed"],
                f"{DESCRIBE}, {GET} {statement.format(1)}; kms:Decrypt on {OPEN_KEY}",
            ),
            ("can-decrypt", OPEN_KEY, f"kms:Decrypt for {arns['keyed']} {statement.format(2)}"),
        ]
    )


def test_graph_has_no_decrypt_edge_to_a_key_the_role_may_not_use(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    arns, edges = graph_edges(tmp_path, capsys, monkeypatch)
    assert [e for e in edges if e["target"] == LOCKED_KEY] == []
    assert [e["kind"] for e in edges if e["target"] == arns["locked"]] == ["can-call"]
    assert [e["kind"] for e in edges if e["target"] == arns["meta"]] == ["can-call"]


# --- 8. node-role-secret-access -------------------------------------------------------------------------
# EKS node IAM role: every node needs AmazonEKSWorkerNodePolicy; managed node groups tag with
# eks:nodegroup-name and name their instance profiles eks-<uuid>. Any pod reaching IMDS gets the node
# role's credentials. Other EC2 instance-profile roles of the account are not the cluster's nodes.

WORKER_NODE_POLICY = {
    "PolicyName": "AmazonEKSWorkerNodePolicy",
    "PolicyId": "ANPAEKSWORKERNODE",
    "Arn": NODE_POLICY,
    "Path": "/",
    "DefaultVersionId": "v1",
    "AttachmentCount": 1,
    "IsAttachable": True,
    "PolicyVersionList": [
        {
            "Document": document([allow(["ec2:DescribeInstances", "eks:DescribeCluster"], "*")]),
            "VersionId": "v1",
            "IsDefaultVersion": True,
        }
    ],
}


NO_K8S = ("no Kubernetes input (--k8s, or k8s/ in the state directory): no workload was read",)


@pytest.mark.parametrize(
    ("name", "managed", "tags"),
    [
        ("ci-workers", [NODE_POLICY], None),
        ("ci-workers", [], {"eks:nodegroup-name": "general"}),
        ("eks-4ec8f1a2-3b1d-4c7e", [], None),
    ],
    ids=["worker-node-policy", "node-group-tag", "eks-profile-name"],
)
def test_eks_node_role_reading_secrets_is_critical(
    tmp_path: Path, name: str, managed: list[str], tags: dict[str, str] | None
) -> None:
    state = State(tmp_path)
    db = state.secret("prod/db")
    if managed:
        state.policies.append(WORKER_NODE_POLICY)
    node = state.role(
        name, [allow(GET, "*")], trust=[EC2_TRUST], instance_profile=True, managed=managed, tags=tags
    )
    result = run(state)
    # an AWS-only state: the node role is judged; that no workload was read is said as a gap
    assert (triples(result), result.gaps) == ({("node-role-secret-access", node, "critical")}, NO_K8S)
    finding = only(result, "node-role-secret-access")
    assert (finding.resources, finding.patterns, finding.objects) == (
        (db,),
        ("*",),
        (f"arn:aws:iam::{ACCOUNT}:instance-profile/{name}-profile",),
    )


def test_other_ec2_role_reading_secrets_is_not_a_node_role(tmp_path: Path) -> None:
    # a Jenkins EC2 role: instance profile, no worker-node policy, no node-group tag, no eks- profile
    state = State(tmp_path)
    state.secret("prod/db")
    state.role(
        "jenkins-ec2", [allow(GET, "*")], trust=[EC2_TRUST], instance_profile=True, tags={"team": "ci"}
    )
    result = run(state)
    assert (triples(result), result.gaps) == (set(), NO_K8S)


# --- 9. secrets scheduled for deletion ------------------------------------------------------------------
# Secrets Manager DeleteSecret with a recovery window: the secret stays listed with DeletedDate, and
# GetSecretValue fails with InvalidRequestException until it is restored; no one can read its value.

DELETED_AT = "2026-11-20T10:00:00+00:00"


def deletion_state(tmp_path: Path, *, deleted: bool) -> tuple[ScanResult, dict[str, str]]:
    """api declares prod/db and prod/old and may read prod/retired too (no one declares it); worker
    declares prod/work and may read prod/old. prod/old and prod/retired are deleted when `deleted`."""
    state = State(tmp_path)
    arns = {n: state.secret(f"prod/{n}") for n in ("db", "old", "retired", "work")}
    if deleted:
        for entry in state.secrets:
            if entry["Name"] in ("prod/old", "prod/retired"):
                entry["DeletedDate"] = DELETED_AT
    api = state.irsa_role("api", "prod", "api", [allow(READ, [arns["db"], arns["old"], arns["retired"]])])
    mounting_app(state, "prod/db", "prod/old", role=api)
    worker = state.irsa_role("worker", "prod", "worker", [allow(READ, [arns["work"], arns["old"]])])
    state.service_account("prod", "worker", worker)
    state.spc("prod", "worker", objects("prod/work"))
    state.workload("Deployment", "prod", "worker", "worker", "worker")
    return run(state), arns


def test_secret_scheduled_for_deletion_is_unresolved_and_read_by_no_one(tmp_path: Path) -> None:
    result, arns = deletion_state(tmp_path, deleted=True)
    finding = only(result, "unresolved-object")
    assert (finding.subject, finding.severity) == (WORKLOAD, "medium")
    assert finding.message == (
        f"objects[1] 'prod/old': secret 'prod/old' is scheduled for deletion ({DELETED_AT}): GetSecretValue fails"
    )
    assert finding.objects == ("prod/SecretProviderClass/api#1:prod/old",)
    assert [f for f in result.findings if f.rule in ("cross-workload-grant", "excess-grant")] == []
    assert set(grants(result, SA)) == {(arns["db"], role_arn("api"))}
    assert set(grants(result, "prod/ServiceAccount/worker")) == {(arns["work"], role_arn("worker"))}


def test_secret_scheduled_for_deletion_is_not_a_missing_grant(tmp_path: Path) -> None:
    # The role allows GetSecretValue and DescribeSecret on prod/old: the mount fails because the secret
    # is being deleted (the unresolved-object finding says so), not for a missing permission. A
    # missing-grant "missing secretsmanager:GetSecretValue" would send the reader to add a grant that
    # is already there.
    result, _ = deletion_state(tmp_path, deleted=True)
    assert triples(result) == {("unresolved-object", WORKLOAD, "medium")}


def test_the_same_secret_not_deleted_is_read_across_workloads_and_in_excess(tmp_path: Path) -> None:
    result, arns = deletion_state(tmp_path, deleted=False)
    assert triples(result) == {
        ("cross-workload-grant", "prod/Deployment/worker", "high"),
        ("excess-grant", WORKLOAD, "medium"),
    }
    assert only(result, "cross-workload-grant").resources == (arns["old"],)
    assert only(result, "excess-grant").resources == (arns["retired"],)
    assert set(grants(result, SA)) == {(arns[n], role_arn("api")) for n in ("db", "old", "retired")}


# --- 10. an object declared twice -----------------------------------------------------------------------


def twice(tmp_path: Path, second: dict[str, Any]) -> tuple[ScanResult, Path, str]:
    """prod/api declared first in k8s/objects.yaml (line 1), and again as `second` in k8s/zz-late.yaml."""
    state = State(tmp_path)
    db = state.secret("prod/db")
    role = state.irsa_role("api", "prod", "api", [allow(READ, db)])
    mounting_app(state, "prod/db", role=role)
    root = state.write()
    (root / "k8s" / "zz-late.yaml").write_text(yaml.safe_dump(second))
    return run(root), root, role


def test_service_account_declared_twice_with_different_annotations_warns(tmp_path: Path) -> None:
    other = role_arn("elsewhere")
    result, root, role = twice(tmp_path, service_account("api", role=other))
    assert result.warnings == (
        f"{root}/k8s/zz-late.yaml:1: ServiceAccount/api in prod is also declared at {root}/k8s/objects.yaml:1 "
        "with different content; that one is used",
    )
    assert access(result, SA)["role_arn"] == role  # objects.yaml comes first by path
    assert triples(result) == set()


@pytest.mark.parametrize(
    "extra_meta",
    [{}, {"resourceVersion": "4711", "uid": "0b8e-11", "creationTimestamp": "2025-01-01T00:00:00Z"}],
    ids=["identical", "server-fields-only"],
)
def test_service_account_declared_twice_alike_does_not_warn(
    tmp_path: Path, extra_meta: dict[str, str]
) -> None:
    second = service_account("api", role=role_arn("api"))
    second["metadata"].update(extra_meta)
    result, _, role = twice(tmp_path, second)
    assert result.warnings == ()
    assert access(result, SA)["role_arn"] == role


def test_first_by_path_wins_whatever_the_order_given(tmp_path: Path) -> None:
    a = write(tmp_path, "a.yaml", yaml.safe_dump(service_account("api", role=role_arn("a"))))
    b = write(tmp_path, "sub/b.yaml", yaml.safe_dump(service_account("api", role=role_arn("b"))))
    for order in ((a, b), (b, a)):
        inventory = read_paths(*order)
        assert [(s.id, s.role_annotation) for s in inventory.service_accounts] == [(SA, role_arn("a"))]
        assert [(w.source, w.message) for w in inventory.warnings] == [
            (
                f"{b}:1",
                f"ServiceAccount/api in prod is also declared at {a}:1 with different content; that one is used",
            )
        ]


# --- 11. fingerprints -----------------------------------------------------------------------------------


def demo_scan(root: Path) -> ScanResult:
    return scan(load_inventory(sources(root, (), None)), load_config(DEMO / "iamscope.yaml", InputReader()))


NEWCOMER = "arn:aws:secretsmanager:eu-west-1:111122223333:secret:prod/checkout/newcomer-Nw3Cm1"


def test_a_new_secret_reached_by_a_wildcard_keeps_every_fingerprint(tmp_path: Path) -> None:
    before = demo_scan(DEMO)
    copy = tmp_path / "demo"
    shutil.copytree(DEMO, copy)
    listing = copy / "aws" / "secretsmanager-list-secrets-eu-west-1.json"
    data = json.loads(listing.read_text())
    data["SecretList"].append(
        {"ARN": NEWCOMER, "Name": "prod/checkout/newcomer", "LastChangedDate": "2025-03-01T00:00:00+00:00"}
    )
    listing.write_text(json.dumps(data, indent=4))
    after = demo_scan(copy)

    def keyed(result: ScanResult) -> dict[tuple[str, str, str | None], str]:
        return {(f.rule, f.subject, f.role_arn): f.fingerprint for f in result.findings}

    assert len(before.findings) == len(after.findings) == len(keyed(before))
    assert keyed(after) == keyed(before)
    # the new secret is reached, so the findings' resources did change
    grown = sorted((f.rule, f.subject) for f in after.findings if NEWCOMER in f.resources)
    assert grown == [
        ("excess-grant", "checkout/Deployment/checkout-web"),
        ("node-role-secret-access", "arn:aws:iam::111122223333:role/eks-prod-eu-node-group"),
        # checkout developers run pods as checkout-web, whose role reads it
        ("spc-write-access", "Group/checkout-developers"),
        ("wildcard-resource", "arn:aws:iam::111122223333:role/eks/prod-eu-checkout-web"),
    ]


def test_no_two_demo_findings_share_a_fingerprint() -> None:
    findings = demo_scan(DEMO).findings
    assert len(findings) == 22
    assert len({f.fingerprint for f in findings}) == len(findings)


# --- 12. message lists cut short ------------------------------------------------------------------------


def shared_readers(tmp_path: Path, count: int) -> ScanResult:
    """`count` workloads prod/app<i>, each declaring prod/app<i>, all on one role that reads every one."""
    state = State(tmp_path)
    names = [f"app{i}" for i in range(count)]
    arns = [state.secret(f"prod/{n}") for n in names]
    subs = [sa_subject("prod", n) for n in names]
    role = state.role(
        "shared",
        [allow(READ, arns)],
        trust=[
            irsa_trust_statement(
                "prod", "", {"StringEquals": {f"{ISSUER}:sub": subs, f"{ISSUER}:aud": "sts.amazonaws.com"}}
            )
        ],
    )
    for n in names:
        state.service_account("prod", n, role)
        state.spc("prod", n, objects(f"prod/{n}"))
        state.workload("Deployment", "prod", n, n, n)
    return run(state)


def test_cross_workload_message_names_six_and_counts_the_rest(tmp_path: Path) -> None:
    result = shared_readers(tmp_path, 10)
    finding = only(result, "cross-workload-grant", "prod/Deployment/app0")
    others = [f"prod/Deployment/app{i}" for i in range(1, 10)]
    assert finding.message.startswith(
        f"can read 9 secret(s)/parameter(s) that 9 other workload(s) declare ({', '.join(others[:6])} and 3 more)"
    )
    assert finding.objects == tuple(others)
    assert len(finding.resources) == 9


def test_cross_workload_message_with_six_others_names_them_all(tmp_path: Path) -> None:
    result = shared_readers(tmp_path, 7)
    finding = only(result, "cross-workload-grant", "prod/Deployment/app0")
    others = [f"prod/Deployment/app{i}" for i in range(1, 7)]
    assert finding.message.startswith(
        f"can read 6 secret(s)/parameter(s) that 6 other workload(s) declare ({', '.join(others)})"
    )
    assert "more" not in finding.message
    assert finding.objects == tuple(others)


# EKS Pod Identity: with disableSessionTags the AssumeRole request carries no session tags, so a trust
# policy conditioned on aws:RequestTag/kubernetes-namespace (as generate writes it) refuses the
# association: a positive operator on an absent key is false (IAM condition evaluation).

TAGGED_TRUST = {
    **POD_IDENTITY_TRUST,
    "Condition": {"StringEquals": {"aws:RequestTag/kubernetes-namespace": "prod"}},
}


@pytest.mark.parametrize(
    ("disable", "expected"), [(False, set()), (True, {("broken-trust", WORKLOAD, "high")})]
)
def test_trust_on_session_tags_needs_the_tags(tmp_path: Path, disable: bool, expected: set[Any]) -> None:
    state = State(tmp_path)
    db = state.secret("prod/db")
    role = state.role("api", [allow(READ, db)], trust=[TAGGED_TRUST])
    state.association("prod", "api", role)
    state.associations[-1]["disableSessionTags"] = disable
    mounting_app(state, "prod/db", usePodIdentity="true")
    assert triples(run(state)) == expected
