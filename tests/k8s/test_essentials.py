"""Issue 8: objects are reduced to what the analysis reads as they are read (iamscope.k8s.essentials),
and that changes nothing a user sees: the inventory built from the reduced objects equals the one
built from the whole objects, on the demo, on the upstream corpus and on a synthetic cluster as a
live one lists it. A Secret's values are never kept."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

import iamscope.k8s.read as read_module
from iamscope.files import InputReader
from iamscope.k8s.essentials import LAST_APPLIED, essentials
from iamscope.k8s.read import read_manifests
from iamscope.k8s.transform import build_kube_inventory
from iamscope.model import KubeInventory
from tests.conftest import REPO
from tests.k8s.helpers import write

CORPUS = REPO / "tests" / "data" / "upstream"


def _inventory(paths: list[Path], *, reduce: bool, monkeypatch: pytest.MonkeyPatch) -> KubeInventory:
    with monkeypatch.context() as patch:
        if not reduce:
            patch.setattr(read_module, "essentials", lambda data, shared=None: data)
            patch.setattr(read_module, "_stream_item", lambda item, seen, shared: item)
        raws, warnings = read_manifests([str(p) for p in paths], InputReader())
    return build_kube_inventory(raws, warnings)


@pytest.fixture(scope="module")
def bench_cluster(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """bench/gen_scale.py --scale 1: pods with status, owner references, probes, env, as kubectl lists them."""
    out = tmp_path_factory.mktemp("scale-1")
    subprocess.run(
        [sys.executable, str(REPO / "bench" / "gen_scale.py"), "--scale", "1", "--out", str(out)],
        check=True,
        capture_output=True,
    )
    return out / "k8s"


@pytest.mark.parametrize("source", ["demo", "upstream", "bench"])
def test_the_reduced_objects_give_the_same_inventory(
    source: str, bench_cluster: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    paths = {
        "demo": [REPO / "fixtures" / "demo" / "k8s"],
        "upstream": [CORPUS],
        "bench": [bench_cluster],
    }[source]
    reduced = _inventory(paths, reduce=True, monkeypatch=monkeypatch)
    whole = _inventory(paths, reduce=False, monkeypatch=monkeypatch)
    assert reduced == whole
    assert reduced.workloads  # the comparison is about something


def test_a_pod_keeps_what_the_analysis_reads_and_nothing_else() -> None:
    pod: dict[str, Any] = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "name": "api-7d4b9-x2x",
            "namespace": "prod",
            "uid": "4f1c",
            "resourceVersion": "991",
            "labels": {"app": "api"},
            "annotations": {LAST_APPLIED: '{"spec": "..."}', "deployment.kubernetes.io/revision": "3"},
            "ownerReferences": [
                {
                    "apiVersion": "apps/v1",
                    "kind": "ReplicaSet",
                    "name": "api-7d4b9",
                    "uid": "1",
                    "controller": True,
                }
            ],
            "managedFields": [{"manager": "kube-controller-manager"}],
        },
        "spec": {
            "serviceAccountName": "api",
            "nodeName": "ip-10-0-1-5",
            "volumes": [
                {"name": "token", "projected": {"sources": []}},
                {
                    "name": "secrets",
                    "csi": {
                        "driver": "secrets-store.csi.k8s.io",
                        "volumeAttributes": {"secretProviderClass": "db"},
                    },
                },
            ],
            "containers": [
                {
                    "name": "api",
                    "image": "api:1",
                    "env": [{"name": "A", "value": "b"}],
                    "securityContext": {"privileged": False},
                }
            ],
            "affinity": {"podAntiAffinity": {}},
        },
        "status": {"phase": "Running", "podIP": "10.0.1.9"},
    }
    assert essentials(pod) == {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "name": "api-7d4b9-x2x",
            "namespace": "prod",
            "labels": {"app": "api"},
            "annotations": {"deployment.kubernetes.io/revision": "3"},
            "ownerReferences": [{"kind": "ReplicaSet", "name": "api-7d4b9", "controller": True}],
        },
        "spec": {
            "serviceAccountName": "api",
            "nodeName": "ip-10-0-1-5",
            "volumes": [
                {
                    "name": "secrets",
                    "csi": {
                        "driver": "secrets-store.csi.k8s.io",
                        "volumeAttributes": {"secretProviderClass": "db"},
                    },
                }
            ],
            "containers": [{"name": "api", "image": "api:1", "securityContext": {"privileged": False}}],
            "affinity": {},
        },
    }


def test_a_secret_keeps_no_values(tmp_path: Path) -> None:
    secret = {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {
            "name": "db",
            "namespace": "prod",
            "labels": {"secrets-store.csi.k8s.io/managed": "true"},
            "annotations": {LAST_APPLIED: '{"data": {"password": "aHVudGVyMg=="}}'},
        },
        "data": {"password": "aHVudGVyMg=="},
        "stringData": {"token": "hunter2"},
    }
    path = write(
        tmp_path, "secrets.json", json.dumps({"apiVersion": "v1", "kind": "List", "items": [secret]})
    )
    raws, _ = read_manifests([str(path)], InputReader())
    [raw] = raws
    assert "hunter2" not in repr(raw.data)
    assert "aHVudGVyMg" not in repr(raw.data)
    assert raw.data["metadata"]["labels"] == {"secrets-store.csi.k8s.io/managed": "true"}


def test_a_field_of_the_wrong_type_is_kept_for_the_transform_to_report() -> None:
    for spec in ({"containers": "api"}, {"volumes": {"csi": 1}}, {"affinity": "node"}):
        assert essentials({"kind": "Pod", "metadata": {"name": "p"}, "spec": spec})["spec"] == spec
    job = {"kind": "CronJob", "metadata": {"name": "c"}, "spec": {"jobTemplate": "x"}}
    assert essentials(job)["spec"] == {"jobTemplate": "x"}


def test_items_of_a_typed_list_get_the_list_kind_before_they_are_reduced(tmp_path: Path) -> None:
    pod = {
        "metadata": {"name": "p", "namespace": "a"},
        "spec": {"containers": [{"name": "c", "env": [1]}]},
        "status": {},
    }
    # the API server writes kind first; kubectl's sorted keys put it after the items
    for document in (
        {"kind": "PodList", "apiVersion": "v1", "items": [pod]},
        {"apiVersion": "v1", "items": [pod], "kind": "PodList"},
    ):
        path = write(tmp_path, "pods.json", json.dumps(document))
        raws, _ = read_manifests([str(path)], InputReader())
        assert [r.data for r in raws] == [
            {
                "metadata": {"name": "p", "namespace": "a"},
                "spec": {"containers": [{"name": "c"}]},
                "kind": "Pod",
            }
        ]
