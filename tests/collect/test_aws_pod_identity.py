"""The cluster half of collect_aws against the EKS stand-in (moto 5.2.5 has no Pod Identity API):
DescribeCluster from whichever region holds the cluster, ListPodIdentityAssociations page by page,
DescribePodIdentityAssociation for each, and what each can fail with. The account itself is an empty
moto one: only the EKS files matter here."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from iamscope.collect.aws import collect_aws
from iamscope.collect.result import Collected
from iamscope.errors import UsageError
from tests.collect.aws_seed import CLUSTER, demo_cluster
from tests.collect.conftest import ACCOUNT, REGIONS, clean_aws_environment, module_environment, reset, session
from tests.collect.eks_standin import Drop, EksStandIn, Error, Reply

CLUSTER_FILE = f"aws/eks-describe-cluster-{CLUSTER}.json"
ASSOCIATIONS_FILE = f"aws/eks-pod-identity-associations-{CLUSTER}.json"


def association(region: str, n: int, **extra: Any) -> dict[str, Any]:
    identifier = f"a-{n:05d}podidentity{n % 7}"
    return {
        "clusterName": CLUSTER,
        "namespace": f"team{n % 4}",
        "serviceAccount": f"svc{n}",
        "roleArn": f"arn:aws:iam::{ACCOUNT}:role/eks/svc{n}",
        "associationArn": f"arn:aws:eks:{region}:{ACCOUNT}:podidentityassociation/{CLUSTER}/{identifier}",
        "associationId": identifier,
        "tags": {"team": f"team{n % 4}"},
        "createdAt": f"2024-11-{n % 28 + 1:02d}T10:16:55.214000+00:00",
        "modifiedAt": "2025-01-05T08:00:00+00:00",
        "disableSessionTags": n % 2 == 0,
        **extra,
    }


def cluster_in(region: str) -> dict[str, Any]:
    cluster = demo_cluster()
    cluster["arn"] = f"arn:aws:eks:{region}:{ACCOUNT}:cluster/{CLUSTER}"
    return cluster


@pytest.fixture(scope="module")
def empty_account(moto_server: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    reset(moto_server)
    with module_environment(moto_server, tmp_path_factory.mktemp("nowhere")):
        yield moto_server


@pytest.fixture
def standin(empty_account: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[EksStandIn]:
    clean_aws_environment(monkeypatch, empty_account, tmp_path)
    with EksStandIn().running() as running:
        monkeypatch.setenv("AWS_ENDPOINT_URL_EKS", running.url)
        yield running


def collect(**kwargs: Any) -> Collected:
    return collect_aws(session(), **({"regions": REGIONS, "cluster": CLUSTER, "page_size": 5} | kwargs))


def test_associations_are_listed_page_by_page_and_each_described(standin: EksStandIn) -> None:
    region = REGIONS[0]
    standin.add_cluster(region, cluster_in(region))
    wanted = [association(region, n) for n in range(17)]
    wanted[3] |= {"targetRoleArn": f"arn:aws:iam::444455556666:role/cross-account-{3}", "externalId": "x-3"}
    wanted[5] |= {"ownerArn": f"arn:aws:eks:{region}:{ACCOUNT}:addon/{CLUSTER}/aws-ebs-csi-driver/abc"}
    for a in wanted:
        standin.add_association(region, a)
    collected = collect()
    assert collected.gaps == ()
    assert collected.notes == ()
    # exactly what describe-pod-identity-association prints, timestamps in ISO 8601, sorted by id
    assert collected.files[ASSOCIATIONS_FILE] == {
        "associations": sorted(wanted, key=lambda a: a["associationId"])
    }
    assert collected.files[CLUSTER_FILE] == {"cluster": cluster_in(region)}
    listed = standin.operations("ListPodIdentityAssociations")
    assert [s.query.get("maxResults") for s in listed] == ["5"] * 4
    assert [s.query.get("nextToken") is None for s in listed] == [True, False, False, False]
    assert len(standin.operations("DescribePodIdentityAssociation")) == 17
    assert {s.region for s in standin.seen if s.operation != "DescribeCluster"} == {region}


def test_the_cluster_is_found_in_whichever_region_holds_it(standin: EksStandIn) -> None:
    region = REGIONS[1]
    standin.add_cluster(region, cluster_in(region))
    standin.add_association(region, association(region, 1))
    collected = collect()
    assert collected.gaps == ()
    assert collected.notes == ()
    assert collected.files[CLUSTER_FILE]["cluster"]["arn"].split(":")[3] == region
    assert [a["associationId"] for a in collected.files[ASSOCIATIONS_FILE]["associations"]] == [
        "a-00001podidentity1"
    ]
    assert [(s.operation, s.region) for s in standin.seen] == [
        ("DescribeCluster", REGIONS[0]),
        ("DescribeCluster", REGIONS[1]),
        ("ListPodIdentityAssociations", region),
        ("DescribePodIdentityAssociation", region),
    ]


def test_a_cluster_found_nowhere_is_a_gap(standin: EksStandIn) -> None:
    collected = collect()
    assert collected.gaps == (
        f"eks DescribeCluster ({', '.join(REGIONS)}): ResourceNotFoundException: "
        f"no cluster named '{CLUSTER}' in any of these regions",
    )
    assert not [n for n in collected.files if n.startswith("aws/eks-")]


def test_clusters_of_one_name_in_two_regions(standin: EksStandIn) -> None:
    for region in REGIONS:
        standin.add_cluster(region, cluster_in(region))
    collected = collect()
    assert collected.gaps == ()
    assert collected.notes == (
        f"eks DescribeCluster: clusters named '{CLUSTER}' exist in {', '.join(REGIONS)}; collected the one in {REGIONS[0]}",
    )
    assert collected.files[CLUSTER_FILE]["cluster"]["arn"].split(":")[3] == REGIONS[0]


def test_a_region_that_cannot_be_asked_is_a_note_when_the_cluster_is_found(standin: EksStandIn) -> None:
    standin.add_cluster(REGIONS[1], cluster_in(REGIONS[1]))
    standin.fault = lambda s: (
        Error(403, "AccessDeniedException", "denied here") if s.region == REGIONS[0] else None
    )
    collected = collect()
    assert collected.gaps == ()
    assert collected.notes == (
        f"eks DescribeCluster ({REGIONS[0]}): AccessDeniedException: denied here (the cluster was found in {REGIONS[1]})",
    )


def test_a_region_that_cannot_be_asked_is_a_gap_when_the_cluster_is_found_nowhere(
    standin: EksStandIn,
) -> None:
    standin.fault = lambda s: (
        Error(403, "AccessDeniedException", "denied here") if s.region == REGIONS[0] else None
    )
    collected = collect()
    assert collected.gaps == (f"eks DescribeCluster ({REGIONS[0]}): AccessDeniedException: denied here",)


def test_associations_that_cannot_be_listed(standin: EksStandIn) -> None:
    standin.add_cluster(REGIONS[0], cluster_in(REGIONS[0]))
    standin.fault = lambda s: (
        Error(403, "AccessDeniedException", "no eks:ListPodIdentityAssociations")
        if s.operation == "ListPodIdentityAssociations"
        else None
    )
    collected = collect()
    assert collected.gaps == (
        f"eks ListPodIdentityAssociations ({REGIONS[0]}): AccessDeniedException: no eks:ListPodIdentityAssociations",
    )
    assert CLUSTER_FILE in collected.files
    assert ASSOCIATIONS_FILE not in collected.files  # none read: an empty list would say "no associations"


def test_an_association_whose_answer_is_cut_off(standin: EksStandIn) -> None:
    region = REGIONS[0]
    standin.add_cluster(region, cluster_in(region))
    wanted = [association(region, n) for n in range(8)]
    for a in wanted:
        standin.add_association(region, a)
    victim = wanted[6]
    standin.fault = lambda s: Drop() if s.path.endswith("/" + victim["associationId"]) else None
    collected = collect()
    full = len(json.dumps({"cluster": {"name": "x" * 200}}))
    assert collected.gaps == (
        f"eks DescribePodIdentityAssociation ({region}): IncompleteReadError: 20 read, but total bytes expected is {full}. "
        f"(1 of 8 associations not read: {victim['namespace']}/{victim['serviceAccount']} ({victim['associationId']}))",
    )
    read = collected.files[ASSOCIATIONS_FILE]["associations"]
    assert [a["associationId"] for a in read] == sorted(a["associationId"] for a in wanted if a is not victim)


def test_an_answer_without_the_association_is_a_gap_not_a_crash(standin: EksStandIn) -> None:
    region = REGIONS[0]
    standin.add_cluster(region, cluster_in(region))
    for n in range(3):
        standin.add_association(region, association(region, n))
    odd = association(region, 2)
    standin.fault = lambda s: (
        Reply(200, {"association": {"associationId": odd["associationId"]}})
        if s.path.endswith("/" + odd["associationId"])
        else None
    )
    collected = collect()
    assert collected.gaps == (
        f"eks DescribePodIdentityAssociation ({region}): MalformedAnswer: the DescribePodIdentityAssociation "
        f"answer holds no associationArn (1 of 3 associations not read: team2/svc2 ({odd['associationId']}))",
    )
    assert len(collected.files[ASSOCIATIONS_FILE]["associations"]) == 2


def test_an_association_deleted_between_list_and_describe_is_a_note(standin: EksStandIn) -> None:
    region = REGIONS[0]
    standin.add_cluster(region, cluster_in(region))
    for n in range(3):
        standin.add_association(region, association(region, n))
    gone = association(region, 1)["associationId"]
    standin.fault = lambda s: (
        Error(404, "ResourceNotFoundException", "gone") if s.path.endswith("/" + gone) else None
    )
    collected = collect()
    assert collected.gaps == ()
    assert collected.notes == (
        f"eks DescribePodIdentityAssociation ({region}): not found, so not collected: team1/svc1 ({gone})",
    )
    assert len(collected.files[ASSOCIATIONS_FILE]["associations"]) == 2


def test_without_a_cluster_eks_is_not_asked_and_the_collection_says_so(standin: EksStandIn) -> None:
    collected = collect(cluster=None)
    # a scan of this snapshot lacks the cluster (no eks-describe-cluster*.json): not complete either
    assert collected.gaps == (
        "eks: no cluster named (--cluster or cluster.name in the configuration): the cluster's OIDC "
        "issuer and Pod Identity associations were not collected",
    )
    assert standin.seen == []
    assert not [n for n in collected.files if n.startswith("aws/eks-")]


@pytest.mark.parametrize("name", ["../etc", "prod eu", "", "-prod", "x" * 101])
def test_a_cluster_name_eks_would_refuse_is_a_usage_error(standin: EksStandIn, name: str) -> None:
    with pytest.raises(UsageError):
        collect(cluster=name)
    assert standin.seen == []
