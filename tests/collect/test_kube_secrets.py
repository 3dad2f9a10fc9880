"""Secrets are listed metadata-only: every request for them asks for a PartialObjectMetadataList, no
value ever reaches what is written (not even through kubectl's last-applied-configuration
annotation, nor from a server that ignores the request), and no code path that reads a Secret's
data exists in the collector."""

from __future__ import annotations

import base64
import json
import re
from pathlib import Path
from typing import Any

import pytest

import iamscope.collect.kube as kube
from iamscope.collect.kube import RESOURCES, collect_kube
from iamscope.collect.result import Collected
from tests.collect.kube_replay import METADATA_LIST, SECRET_VALUES, ReplayCluster, demo_cluster, serving


def keys(value: Any) -> set[str]:
    if isinstance(value, dict):
        return set(value).union(*(keys(v) for v in value.values()))
    if isinstance(value, list):
        return set().union(*(keys(v) for v in value))
    return set()


def assert_no_secret_value(result: Collected) -> None:
    text = json.dumps(result.files, sort_keys=True)
    for value in SECRET_VALUES:
        assert value not in text
        assert base64.b64encode(value.encode()).decode() not in text
    assert "last-applied-configuration" not in json.dumps(result.files["k8s/secrets.json"])
    assert not keys(result.files["k8s/secrets.json"]) & {"data", "stringData", "type", "managedFields"}


def collect(cluster: ReplayCluster, tmp_path: Path) -> Collected:
    with serving(cluster, tmp_path) as client:
        return collect_kube(client, page_size=1)


def test_secrets_are_only_ever_asked_for_as_metadata(tmp_path: Path) -> None:
    cluster = demo_cluster()
    result = collect(cluster, tmp_path)
    asked = cluster.requests_to("/api/v1/secrets")
    assert len(asked) == 2  # one Secret a page
    assert {r.accept for r in asked} == {METADATA_LIST}
    assert asked[1].query["continue"]
    # and nothing but collections is ever asked for: no single Secret, no other path
    assert {r.path for r in cluster.requests} == {r.path(r.versions[0]) for r in RESOURCES}
    assert {r.accept for r in cluster.requests if r.path != "/api/v1/secrets"} == {"application/json"}
    assert result.gaps == ()
    assert result.notes == ()
    assert_no_secret_value(result)


def test_what_is_written_of_a_secret_is_its_metadata(tmp_path: Path) -> None:
    result = collect(demo_cluster(), tmp_path)
    items = result.files["k8s/secrets.json"]["items"]
    assert [(i["apiVersion"], i["kind"], set(i)) for i in items] == [
        ("v1", "Secret", {"apiVersion", "kind", "metadata"}),
        ("v1", "Secret", {"apiVersion", "kind", "metadata"}),
    ]
    synced, applied = items
    assert synced["metadata"]["labels"]["secrets-store.csi.k8s.io/managed"] == "true"
    # the annotation kubectl apply fills with the whole Secret is dropped; the others are kept
    assert applied["metadata"]["annotations"] == {"owner": "platform"}
    assert_no_secret_value(result)


def test_a_server_that_ignores_the_metadata_request_still_gives_no_value(tmp_path: Path) -> None:
    cluster = demo_cluster()
    cluster.ignore_metadata = True
    result = collect(cluster, tmp_path)
    assert result.gaps == ()
    assert result.notes == (
        "list secrets (v1): the server ignored the metadata-only request and answered SecretList; "
        "only the metadata was kept",
    )
    assert len(result.files["k8s/secrets.json"]["items"]) == 2
    assert_no_secret_value(result)


def test_spc_secret_objects_keep_their_data_mapping(tmp_path: Path) -> None:
    """`data` in an SPC's secretObjects names keys, not values: it stays (the scan reads it)."""
    result = collect(demo_cluster(), tmp_path)
    legacy = [
        i
        for i in result.files["k8s/secretproviderclasses.json"]["items"]
        if i["metadata"]["namespace"] == "legacy"
    ]
    assert legacy[0]["spec"]["secretObjects"][0]["data"][0] == {
        "key": "ERP_USERNAME",
        "objectName": "erp-username",
    }


@pytest.mark.parametrize(
    "call",
    [
        "read_namespaced_secret",
        "list_secret_for_all_namespaces",
        "list_namespaced_secret",
        "CoreV1Api",
        "DynamicClient",
        "_preload_content=True",
    ],
)
def test_the_collector_has_no_call_that_reads_secret_data(call: str) -> None:
    source = Path(kube.__file__).read_text(encoding="utf-8")
    assert call not in source


def test_the_secrets_request_is_the_documented_metadata_list_media_type() -> None:
    # Kubernetes API concepts, "Receiving resources as metadata only"; no fallback media type that
    # would let a server answer with whole Secrets
    assert kube.METADATA_LIST_ACCEPT == "application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1"
    assert re.fullmatch(r"[^,]+", kube.METADATA_LIST_ACCEPT)
    secrets = [r for r in RESOURCES if r.kind == "Secret"]
    assert [(r.plural, r.metadata_only) for r in secrets] == [("secrets", True)]
    assert [r.plural for r in RESOURCES if r.metadata_only] == ["secrets"]
