"""The issue's "done when": the demo account, created object by object in moto (and its cluster in the
EKS stand-in), collected live with collect_aws, scans exactly like the demo's own snapshot.

moto picks its own secret suffixes and key ids, so the expectation is the scan of a copy of the demo
state in which every fixture secret ARN and key id is replaced by the one moto assigned (mapped by
name); the Kubernetes manifests and the configuration get the same replacements. Findings (rule,
subject, severity, resources) and the access map must then be equal."""

from __future__ import annotations

import json
import shutil
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from iamscope.collect.aws import collect_aws
from iamscope.collect.result import Collected
from iamscope.config import load_config
from iamscope.files import InputReader
from iamscope.report.scan_json import scan_document
from iamscope.scan import scan
from iamscope.state import load_inventory, sources
from tests.collect.aws_seed import CLUSTER, DEMO, replace_all, seed_demo
from tests.collect.conftest import REGIONS, module_environment, reset, session
from tests.collect.eks_standin import EksStandIn


def _copy(source: Path, target: Path, replacements: Mapping[str, str]) -> None:
    for path in sorted(source.rglob("*")):
        if path.is_file():
            out = target / path.relative_to(source)
            out.parent.mkdir(parents=True, exist_ok=True)
            out.write_text(replace_all(path.read_text(encoding="utf-8"), replacements), encoding="utf-8")


def _scan(state: Path) -> dict[str, Any]:
    """The scan's JSON document, with the state directory's path written STATE."""
    reader = InputReader()
    settings = load_config(state / "iamscope.yaml", reader)
    document = scan_document(scan(load_inventory(sources(state, [], None), reader), settings))
    return dict(json.loads(json.dumps(document).replace(str(state), "STATE")))


def _findings(document: Mapping[str, Any]) -> list[tuple[str, str, str, tuple[str, ...]]]:
    return sorted(
        (f["rule"], f["subject"], f["severity"], tuple(f["resources"])) for f in document["findings"]
    )


@dataclass(frozen=True)
class RoundTrip:
    live: dict[str, Any]  # the scan of the collected snapshot
    expected: dict[str, Any]  # the scan of the demo snapshot, with moto's ARNs and key ids
    collected: Collected
    replacements: dict[str, str]  # fixture string → moto string


@pytest.fixture(scope="module")
def scans(moto_managed_server: str, tmp_path_factory: pytest.TempPathFactory) -> RoundTrip:
    reset(moto_managed_server)
    root = tmp_path_factory.mktemp("roundtrip")
    with module_environment(moto_managed_server, root) as env:
        standin = EksStandIn()
        replacements = seed_demo(session(), standin)
        with standin.running():
            env.setenv("AWS_ENDPOINT_URL_EKS", standin.url)
            collected = collect_aws(session(), regions=REGIONS, cluster=CLUSTER, page_size=5)
    live = root / "live"
    for name, value in collected.files.items():
        (live / name).parent.mkdir(parents=True, exist_ok=True)
        (live / name).write_text(json.dumps(value, indent=2, sort_keys=True), encoding="utf-8")
    expected = root / "expected"
    _copy(DEMO / "aws", expected / "aws", replacements)
    for state in (live, expected):
        _copy(DEMO / "k8s", state / "k8s", replacements)
        shutil.copyfile(DEMO / "iamscope.yaml", state / "iamscope.yaml")
    return RoundTrip(_scan(live), _scan(expected), collected, replacements)


def test_the_collection_is_complete(scans: RoundTrip) -> None:
    assert scans.collected.gaps == ()
    assert scans.collected.notes == ()


@pytest.mark.parametrize(
    ("collected", "demo"),
    [
        (f"eks-describe-cluster-{CLUSTER}.json", f"eks-describe-cluster-{CLUSTER}.json"),
        (f"eks-pod-identity-associations-{CLUSTER}.json", "eks-pod-identity-associations.json"),
    ],
)
def test_the_eks_files_are_those_of_the_demo(scans: RoundTrip, collected: str, demo: str) -> None:
    """Through the stand-in's wire format (epoch timestamps) and back: the demo's files, value for
    value (the cluster's envelope key id is moto's)."""
    text = replace_all((DEMO / "aws" / demo).read_text(encoding="utf-8"), scans.replacements)
    assert scans.collected.files[f"aws/{collected}"] == json.loads(text)


def test_the_live_snapshot_scans_like_the_demo_snapshot(scans: RoundTrip) -> None:
    live, expected = scans.live, scans.expected
    assert live["complete"] is True
    assert expected["complete"] is True
    assert _findings(live) == _findings(expected)
    assert live["access"] == expected["access"]
    assert live["findings"]  # the demo is not clean: the comparison compares something


def test_the_whole_scan_document_agrees(scans: RoundTrip) -> None:
    """More than the issue asks: summary, warnings, evidence, fingerprints, everything. What moto does
    differently (no PolicyName/PolicyId in authorization details, "PermissionsBoundaryType":
    "PermissionsBoundaryPolicy", no ARN in DescribeParameters, KeyManager CUSTOMER for the aws/ssm
    key, its own AWS managed policy documents, no users or groups collected) changes nothing a scan
    reads."""
    assert scans.live == scans.expected
