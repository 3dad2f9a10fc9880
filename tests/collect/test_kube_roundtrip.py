"""The live Kubernetes collector against a stand-in API server holding the demo cluster: what it writes
reads back to the demo's inventory, and a scan of it equals the scan of fixtures/demo itself."""

from __future__ import annotations

import dataclasses
import json
import math
from pathlib import Path
from typing import Any

import pytest

from iamscope.collect.kube import RESOURCES, collect_kube
from iamscope.collect.result import Collected
from iamscope.config import load_config
from iamscope.files import InputReader
from iamscope.k8s import transform
from iamscope.k8s.read import RawObject, read_manifests
from iamscope.k8s.transform import build_kube_inventory
from iamscope.model import Location
from iamscope.report.scan_json import render_json
from iamscope.scan import scan
from iamscope.state import load_inventory, sources
from tests.collect.kube_replay import DEMO, ReplayCluster, demo_cluster, demo_objects, demo_secrets, serving

CSIDRIVER_SKIP = "--k8s: skipped 1 object(s) of kind CSIDriver: not used by the analysis"


def dump(value: Any) -> str:
    return json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def write_state(collected: Collected, root: Path) -> Path:
    for name, value in collected.files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(dump(value), encoding="utf-8")
    return root


class Recording:
    def __init__(self) -> None:
        self.steps: list[str] = []
        self.units = 0

    def step(self, label: str, total: int | None = None) -> None:
        self.steps.append(label)

    def advance(self, units: int = 1) -> None:
        self.units += units


@pytest.fixture(scope="module")
def collected(tmp_path_factory: pytest.TempPathFactory) -> tuple[Collected, ReplayCluster, Recording, Path]:
    tmp = tmp_path_factory.mktemp("kube-roundtrip")
    cluster = demo_cluster()
    progress = Recording()
    with serving(cluster, tmp) as client:
        result = collect_kube(client, page_size=2, progress=progress)
    return result, cluster, progress, write_state(result, tmp / "state")


def test_every_kind_the_scan_reads_is_listed_and_nothing_else() -> None:
    assert {r.kind for r in RESOURCES} == set(transform._READ)
    assert {r.file for r in RESOURCES} == {f"k8s/{r.plural}.json" for r in RESOURCES}


def test_a_complete_collection_has_one_file_per_kind_and_no_gap(collected: Any) -> None:
    result, cluster, _, _ = collected
    assert result.gaps == ()
    assert result.notes == ()
    assert sorted(result.files) == sorted(r.file for r in RESOURCES)
    counts = {name: len(value["items"]) for name, value in result.files.items()}
    stored = {plural: len(objs) for (_, plural), objs in cluster.store.items()}
    assert counts == {r.file: stored.get(r.plural, 0) for r in RESOURCES}
    # the demo holds one CSIDriver, a kind the analysis does not read: never asked for
    assert stored["csidrivers"] == 1
    assert not [r for r in cluster.requests if "csidrivers" in r.path]


def test_pages_follow_the_continue_tokens(collected: Any) -> None:
    _, cluster, progress, _ = collected
    for resource in RESOURCES:
        path = resource.path(resource.versions[0])
        requests = cluster.requests_to(path)
        n = len(cluster.store.get((resource.group, resource.plural), {}))
        assert len(requests) == max(1, math.ceil(n / 2)), path
        assert all(r.query["limit"] == "2" for r in requests)
        assert "continue" not in requests[0].query
        # each later page asks with the token the page before it answered (opaque, never empty)
        assert all(r.query.get("continue") for r in requests[1:]), path
        assert len({r.query["continue"] for r in requests[1:]}) == len(requests) - 1
    assert len(cluster.requests_to("/api/v1/pods")) == 6  # 12 pods, 2 a page
    assert {r.authorization for r in cluster.requests} == {f"Bearer {cluster.token}"}
    assert progress.steps == [f"k8s {r.plural}" for r in RESOURCES]
    assert progress.units == len(cluster.requests)


def test_files_are_lists_as_kubectl_prints_them(collected: Any) -> None:
    result, _, _, _ = collected
    by_file = {r.file: r for r in RESOURCES}
    for name, value in result.files.items():
        resource = by_file[name]
        assert set(value) == {"apiVersion", "kind", "metadata", "items"}
        assert (value["apiVersion"], value["kind"]) == ("v1", "List")
        for item in value["items"]:
            assert item["kind"] == resource.kind
            assert item["apiVersion"] == resource.group_version("v1")
            assert "managedFields" not in item["metadata"]
        keys = [(i["metadata"].get("namespace", ""), i["metadata"]["name"]) for i in value["items"]]
        assert keys == sorted(keys), name
    # the legacy SPC was applied as v1alpha1; listed through v1, the API server serves it as v1
    spcs = result.files["k8s/secretproviderclasses.json"]["items"]
    assert {i["apiVersion"] for i in spcs} == {"secrets-store.csi.x-k8s.io/v1"}


def test_the_same_cluster_gives_the_same_bytes(collected: Any, tmp_path: Path) -> None:
    first, _, _, _ = collected
    with serving(demo_cluster(), tmp_path) as client:
        again = collect_kube(client, page_size=3)  # other page boundaries, same files
    assert {k: dump(v) for k, v in again.files.items()} == {k: dump(v) for k, v in first.files.items()}


def _unlocated(value: Any) -> Any:
    """An inventory as plain data without where each object was read (the files differ)."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {
            f.name: _unlocated(getattr(value, f.name))
            for f in dataclasses.fields(value)
            if not isinstance(getattr(value, f.name), Location)
        }
    if isinstance(value, tuple):
        return [_unlocated(v) for v in value]
    return value


def test_the_files_read_back_to_the_inventory_of_the_objects(collected: Any) -> None:
    _, _, _, state = collected
    raws, warnings = read_manifests([state / "k8s"], InputReader())
    assert warnings == []
    read_back = build_kube_inventory(raws, warnings)
    originals = [RawObject(o, Location(file="cluster")) for o in (*demo_objects(), *demo_secrets())]
    expected = build_kube_inventory(originals)
    # the API server serves every SPC at the version listed: the legacy v1alpha1 one comes back as v1
    legacy = [s for s in expected.spcs if s.api_version.endswith("/v1alpha1")]
    assert [s.id for s in legacy] == ["legacy/SecretProviderClass/erp-connector-secrets"]
    expected = dataclasses.replace(
        expected,
        spcs=tuple(
            dataclasses.replace(s, api_version="secrets-store.csi.x-k8s.io/v1") if s in legacy else s
            for s in expected.spcs
        ),
        # the CSIDriver is not collected, so it is not skipped either
        warnings=tuple(w for w in expected.warnings if f"{w.source}: {w.message}" != CSIDRIVER_SKIP),
    )
    assert _unlocated(read_back) == _unlocated(expected)
    assert len(read_back.secrets) == 2
    assert len(read_back.workloads) > 10


def _scan_document(k8s: Path) -> dict[str, Any]:
    reader = InputReader()
    config = load_config(DEMO / "iamscope.yaml", reader)
    inventory = load_inventory(sources(None, [str(k8s)], DEMO / "aws"), reader)
    document: dict[str, Any] = json.loads(render_json(scan(inventory, config)))
    return document


def _without_locations(document: dict[str, Any]) -> dict[str, Any]:
    out = json.loads(json.dumps(document))
    for entry in (*out["findings"], *out["access"]):
        entry.pop("location", None)
    return out


def test_a_scan_of_the_collection_equals_the_scan_of_the_demo(collected: Any) -> None:
    _, _, _, state = collected
    demo = _scan_document(DEMO / "k8s")
    live = _scan_document(state / "k8s")
    assert live["complete"] is True
    assert live["findings"]
    # where each finding is declared differs by construction: fixtures/demo/k8s/checkout.yaml line 12
    # there, k8s/serviceaccounts.json (no line: JSON) here; every location names a collected file
    for entry in (*live["findings"], *live["access"]):
        if "location" in entry:
            assert Path(entry["location"]["file"]).parent == state / "k8s"
            assert entry["location"]["line"] is None
    # and the demo's one CSIDriver, which the analysis skips, is not collected
    assert CSIDRIVER_SKIP in demo["warnings"]
    demo["warnings"].remove(CSIDRIVER_SKIP)
    assert _without_locations(live) == _without_locations(demo)
    assert live["summary"] == demo["summary"]
    assert [f["fingerprint"] for f in live["findings"]] == [f["fingerprint"] for f in demo["findings"]]
