"""collect_aws against a realistic account in moto (server mode): 300 roles, 250 secrets in two regions,
parameters, customer keys, and an EKS cluster with Pod Identity associations in the stand-in.

The account is collected twice: once through the re-paging proxy with pages of 7 (so that every
listing, IAM's included, really paginates), once straight from moto with the default page sizes (IAM
then answers in one page). Both must be byte-identical: pagination merges exactly and the output is
deterministic."""

from __future__ import annotations

import json
import math
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from fnmatch import fnmatch
from pathlib import Path
from typing import Any

import pytest

from iamscope.aws.snapshot import PATTERNS, build_aws_inventory, read_snapshot
from iamscope.collect.aws import OPERATIONS, collect_aws
from iamscope.collect.result import Collected
from iamscope.files import InputReader
from tests.collect.aws_calls import Recorder
from tests.collect.aws_proxy import AwsProxy
from tests.collect.aws_seed import CLUSTER, Seed, seed_realistic
from tests.collect.conftest import ACCOUNT, REGIONS, module_environment, reset, session
from tests.collect.eks_standin import EksStandIn, Seen

PAGE = 7
VALUE_READERS = {
    "secretsmanager:GetSecretValue",
    "secretsmanager:BatchGetSecretValue",
    "ssm:GetParameter",
    "ssm:GetParameters",
    "ssm:GetParametersByPath",
    "ssm:GetParameterHistory",
    "kms:Decrypt",
}


@dataclass
class ProgressLog:
    steps: list[tuple[str, int | None, int]] = field(default_factory=list)  # label, total, advanced

    def step(self, label: str, total: int | None = None) -> None:
        self.steps.append((label, total, 0))

    def advance(self, units: int = 1) -> None:
        label, total, done = self.steps[-1]
        self.steps[-1] = (label, total, done + units)

    def of(self, label: str) -> tuple[int | None, int]:
        (found,) = [(t, d) for lab, t, d in self.steps if lab == label]
        return found


@dataclass
class Run:
    seed: Seed
    paged: Collected
    direct: Collected
    recorder: Recorder
    proxy: AwsProxy
    eks_seen: list[Seen]
    progress: ProgressLog


@pytest.fixture(scope="module")
def run(moto_server: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Run]:
    reset(moto_server)
    with module_environment(moto_server, tmp_path_factory.mktemp("nowhere")) as env:
        standin = EksStandIn()
        seed = seed_realistic(session(), standin)
        with standin.running(), AwsProxy(moto_server, repage_iam=True).running() as proxy:
            env.setenv("AWS_ENDPOINT_URL_EKS", standin.url)
            env.setenv("AWS_ENDPOINT_URL", proxy.url)
            paging = session()
            recorder = Recorder().attach(paging)
            progress = ProgressLog()
            paged = collect_aws(paging, regions=REGIONS, cluster=CLUSTER, progress=progress, page_size=PAGE)
            standin_seen = list(standin.seen)  # the paged collection's EKS requests
            env.setenv("AWS_ENDPOINT_URL", moto_server)
            direct = collect_aws(session(), regions=REGIONS, cluster=CLUSTER)
            yield Run(seed, paged, direct, recorder, proxy, standin_seen, progress)


def _dump(files: Any) -> str:
    return json.dumps(files, indent=2, sort_keys=True)


def test_a_complete_collection_has_no_gaps(run: Run) -> None:
    assert run.paged.gaps == ()
    assert run.paged.notes == ()
    assert run.direct.gaps == ()


def test_it_writes_every_snapshot_file_under_a_name_the_reader_globs(run: Run) -> None:
    expected = {
        "aws/sts-get-caller-identity.json",
        "aws/iam-authorization-details.json",
        f"aws/eks-describe-cluster-{CLUSTER}.json",
        f"aws/eks-pod-identity-associations-{CLUSTER}.json",
    } | {
        f"aws/{kind}-{region}.json"
        for region in REGIONS
        for kind in (
            "secretsmanager-list-secrets",
            "secretsmanager-resource-policies",
            "ssm-describe-parameters",
            "kms-keys",
        )
    }
    assert set(run.paged.files) == expected
    for name in expected:
        assert sum(fnmatch(Path(name).name, pattern) for pattern in PATTERNS.values()) == 1, name


def test_every_object_of_the_account_is_in_the_snapshot(run: Run) -> None:
    files = run.paged.files
    auth = files["aws/iam-authorization-details.json"]
    assert sorted(r["RoleName"] for r in auth["RoleDetailList"]) == run.seed.roles
    assert [p["Arn"] for p in auth["Policies"]] == sorted(run.seed.managed_policies)
    assert set(auth) == {"UserDetailList", "GroupDetailList", "RoleDetailList", "Policies"}
    assert files["aws/sts-get-caller-identity.json"]["Account"] == ACCOUNT
    for region in REGIONS:
        secrets = files[f"aws/secretsmanager-list-secrets-{region}.json"]
        assert set(secrets) == {"SecretList"}  # complete: no continuation token
        assert sorted(s["Name"] for s in secrets["SecretList"]) == run.seed.secrets[region]
        parameters = files[f"aws/ssm-describe-parameters-{region}.json"]["Parameters"]
        assert sorted(p["Name"] for p in parameters) == run.seed.parameters[region]
        policies = files[f"aws/secretsmanager-resource-policies-{region}.json"]["ResourcePolicies"]
        with_policy = sorted(p["Name"] for p in policies if p.get("ResourcePolicy"))
        assert with_policy == sorted(run.seed.resource_policies[region])
    associations = files[f"aws/eks-pod-identity-associations-{CLUSTER}.json"]["associations"]
    assert len(associations) == run.seed.associations
    assert all(a["roleArn"].startswith(f"arn:aws:iam::{ACCOUNT}:role/eks/") for a in associations)
    assert associations[0]["createdAt"] == "2024-11-05T10:16:55.214000+00:00"  # ISO 8601, as the CLI prints


def test_timestamps_are_iso_strings_as_the_cli_prints_them(run: Run) -> None:
    secret = run.paged.files[f"aws/secretsmanager-list-secrets-{REGIONS[0]}.json"]["SecretList"][0]
    role = run.paged.files["aws/iam-authorization-details.json"]["RoleDetailList"][0]
    for value in (secret["CreatedDate"], role["CreateDate"]):
        assert isinstance(value, str)
        assert value.endswith("+00:00")
        assert "T" in value
    json.dumps(run.paged.files)  # nothing but JSON values


def test_listings_really_paginate(run: Run) -> None:
    recorder, seed = run.recorder, run.seed
    for region in REGIONS:
        secrets = len(seed.secrets[region])
        calls = recorder.of("secretsmanager:ListSecrets", region)
        assert len(calls) == math.ceil(secrets / PAGE) > 1
        assert all(c.params["MaxResults"] == PAGE and c.params["IncludePlannedDeletion"] for c in calls)
        parameters = recorder.of("ssm:DescribeParameters", region)
        assert all(c.params["MaxResults"] == PAGE for c in parameters)
        # moto 5.2.5 ignores MaxResults here and always pages by 10
        assert len(parameters) == math.ceil(len(seed.parameters[region]) / 10) > 1
    # IAM through the re-paging proxy: a Marker really occurs, and the pages merge exactly (below)
    iam = recorder.of("iam:GetAccountAuthorizationDetails")
    entries = len(seed.roles) + len(seed.managed_policies)
    assert len(iam) == math.ceil(entries / PAGE) > 1
    assert [c.params.get("Marker") for c in iam][:3] == [None, "7", "14"]
    listed = [s for s in run.eks_seen if s.operation == "ListPodIdentityAssociations"]
    assert len(listed) == math.ceil(seed.associations / PAGE) > 1
    assert [s.query.get("maxResults") for s in listed] == [str(PAGE)] * len(listed)


def test_paged_and_single_page_collections_are_byte_identical(run: Run) -> None:
    assert _dump(run.paged.files) == _dump(run.direct.files)


def test_lists_are_sorted(run: Run) -> None:
    files = run.paged.files
    roles = [r["RoleName"] for r in files["aws/iam-authorization-details.json"]["RoleDetailList"]]
    assert roles == sorted(roles)
    for region in REGIONS:
        arns = [s["ARN"] for s in files[f"aws/secretsmanager-list-secrets-{region}.json"]["SecretList"]]
        assert arns == sorted(arns)
        keys = [k["KeyMetadata"]["KeyId"] for k in files[f"aws/kms-keys-{region}.json"]["Keys"]]
        assert keys == sorted(keys)
    ids = [
        a["associationId"] for a in files[f"aws/eks-pod-identity-associations-{CLUSTER}.json"]["associations"]
    ]
    assert ids == sorted(ids)


def test_the_exact_operations_of_a_full_collection(run: Run) -> None:
    used = run.recorder.names()
    assert used == {
        "sts:GetCallerIdentity",
        "iam:GetAccountAuthorizationDetails",
        "secretsmanager:ListSecrets",
        "secretsmanager:GetResourcePolicy",
        "ssm:DescribeParameters",
        "kms:DescribeKey",
        "kms:GetKeyPolicy",
        "kms:ListAliases",
        "eks:DescribeCluster",
        "eks:ListPodIdentityAssociations",
        "eks:DescribePodIdentityAssociation",
    }
    assert used <= OPERATIONS
    assert not used & VALUE_READERS
    assert not OPERATIONS & VALUE_READERS
    # and on the wire: every request the endpoints received
    wire = {f"{r.service}:{r.operation}" for r in run.proxy.seen} | {
        f"eks:{s.operation}" for s in run.eks_seen
    }
    assert wire == used


def test_one_resource_policy_call_per_live_secret(run: Run) -> None:
    asked = Counter(c.params["SecretId"] for c in run.recorder.of("secretsmanager:GetResourcePolicy"))
    assert set(asked.values()) == {1}
    live = sum(len(v) for v in run.seed.secrets.values()) - sum(len(v) for v in run.seed.deleted.values())
    assert len(asked) == live
    # the secret scheduled for deletion is listed (its value can no longer be read: the scan says so)
    # but not asked about: a deleted secret answers nothing but a restore
    ((region, (name,)),) = run.seed.deleted.items()
    (deleted,) = [
        s
        for s in run.paged.files[f"aws/secretsmanager-list-secrets-{region}.json"]["SecretList"]
        if s["Name"] == name
    ]
    assert deleted["DeletedDate"]
    assert deleted["ARN"] not in asked


def test_keys_named_by_alias_id_or_arn_resolve_to_one_entry_each(run: Run) -> None:
    for region in REGIONS:
        keys = run.paged.files[f"aws/kms-keys-{region}.json"]["Keys"]
        by_id = {k["KeyMetadata"]["KeyId"]: k for k in keys}
        assert len(by_id) == len(keys)
        for alias, key_id in run.seed.keys[region].items():
            entry = by_id[key_id]
            assert [a["AliasName"] for a in entry["Aliases"]] == [alias]
            assert json.loads(entry["Policy"])["Statement"]
        ssm_default = [k for k in keys if any(a["AliasName"] == "alias/aws/ssm" for a in k["Aliases"])]
        assert len(ssm_default) == 1
    # one DescribeKey per distinct reference, whatever the number of secrets naming it
    refs = Counter((c.region, c.params["KeyId"]) for c in run.recorder.of("kms:DescribeKey"))
    assert set(refs.values()) == {1}


def test_the_reader_takes_the_snapshot_whole(run: Run, tmp_path: Path) -> None:
    for name, value in run.paged.files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(_dump(value), encoding="utf-8")
    inventory = build_aws_inventory(read_snapshot(tmp_path / "aws", InputReader()))
    assert inventory.account == ACCOUNT
    assert len(inventory.roles) == len(run.seed.roles)
    assert len(inventory.secrets) == sum(len(v) for v in run.seed.secrets.values())
    assert sum(1 for s in inventory.secrets if s.resource_policy is not None) == sum(
        len(v) for v in run.seed.resource_policies.values()
    )
    assert sum(1 for s in inventory.secrets if s.deleted) == 1
    assert len(inventory.parameters) == sum(len(v) for v in run.seed.parameters.values())
    assert len(inventory.associations) == run.seed.associations
    assert [c.name for c in inventory.clusters] == [CLUSTER]
    assert inventory.gaps == ()
    assert inventory.warnings == ()  # every attached policy and boundary is in the snapshot
    boundaries = {r.boundary for r in inventory.roles if r.boundary}
    assert boundaries == {f"arn:aws:iam::{ACCOUNT}:policy/eks/workload-boundary"}


def test_progress_reports_every_page_and_item(run: Run) -> None:
    log, recorder = run.progress, run.recorder
    assert log.of("iam: roles and managed policies") == (
        None,
        len(recorder.of("iam:GetAccountAuthorizationDetails")),
    )
    for region in REGIONS:
        assert log.of(f"secretsmanager {region}: secrets") == (
            None,
            len(recorder.of("secretsmanager:ListSecrets", region)),
        )
        live = len(run.seed.secrets[region]) - len(run.seed.deleted.get(region, []))
        assert log.of(f"secretsmanager {region}: resource policies") == (live, live)
        assert log.of(f"ssm {region}: parameters") == (
            None,
            len(recorder.of("ssm:DescribeParameters", region)),
        )
    assert log.of(f"eks {REGIONS[0]}: describe pod identity associations") == (run.seed.associations,) * 2
    assert all(total is None or total == done for _, total, done in log.steps)
