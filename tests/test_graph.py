"""`iamscope graph` and `iamscope explain` on the demo state: every edge carries a kind and the reason
it exists, the three formats parse, and explain prints the paths a reviewer follows."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from typing import Any

import networkx as nx
import pytest

from tests.conftest import REPO

DEMO = REPO / "fixtures" / "demo"
ROLE = "arn:aws:iam::111122223333:role/"
SECRET = "arn:aws:secretsmanager:eu-west-1:111122223333:secret:"


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "iamscope", *args], capture_output=True, text=True, cwd=REPO, check=False
    )


@pytest.fixture(scope="module")
def graph_json() -> dict[str, Any]:
    result = run("graph", str(DEMO), "--format", "json")
    assert result.returncode == 0, result.stderr
    document: dict[str, Any] = json.loads(result.stdout)
    return document


def edge_set(document: dict[str, Any]) -> set[tuple[str, str, str]]:
    return {(e["source"], e["kind"], e["target"]) for e in document["edges"]}


def test_every_edge_has_a_kind_and_a_reason(graph_json: dict[str, Any]) -> None:
    assert graph_json["schema"] == "iamscope.graph/v1"
    assert graph_json["edges"]
    for edge in graph_json["edges"]:
        assert edge["kind"], edge
        assert edge["reason"], edge
    ids = {n["id"] for n in graph_json["nodes"]}
    assert all(e["source"] in ids and e["target"] in ids for e in graph_json["edges"])


def test_node_types(graph_json: dict[str, Any]) -> None:
    types = {n["id"]: n["type"] for n in graph_json["nodes"]}
    assert types["payments/Deployment/payments-api"] == "workload"
    assert types["payments/ServiceAccount/payments-api"] == "service-account"
    assert types["payments/SecretProviderClass/payments-api-secrets"] == "spc"
    assert types[ROLE + "eks/prod-eu-payments-api"] == "role"
    assert types[SECRET + "prod/payments/db-Xy12Ab"] == "secret"
    assert types["arn:aws:ssm:eu-west-1:111122223333:parameter/prod/payments/feature-flags"] == "parameter"
    assert types["Namespace/payments"] == "namespace"
    assert set(types.values()) >= {
        "object-ref",
        "policy",
        "key",
        "node",
        "rbac-role",
        "rbac-subject",
        "instance-profile",
    }


def test_identity_and_access_edges(graph_json: dict[str, Any]) -> None:
    edges = edge_set(graph_json)
    assert ("checkout/Deployment/checkout-web", "runs-as", "checkout/ServiceAccount/checkout-web") in edges
    assert (
        "checkout/ServiceAccount/checkout-web",
        "irsa-annotation",
        ROLE + "eks/prod-eu-checkout-web",
    ) in edges
    # a StringLike trust lets other SAs assume the backfill role without any annotation
    assert ("batch/ServiceAccount/batch-shared", "can-assume", ROLE + "eks/prod-eu-backfill") in edges
    assert ("analytics/ServiceAccount/reporting", "pod-identity", ROLE + "eks/prod-eu-reporting") in edges
    # the annotated role that refuses the SA is still shown, with the refusal as its reason
    refused = [
        e
        for e in graph_json["edges"]
        if e["source"] == "batch/ServiceAccount/nightly-export"
        and e["target"] == ROLE + "eks/prod-eu-nightly-export"
    ]
    assert [e["kind"] for e in refused] == ["irsa-annotation"]
    assert "does not admit sub system:serviceaccount:batch:nightly-export" in refused[0]["reason"]
    assert (ROLE + "eks/prod-eu-refunds", "can-read-if", SECRET + "prod/payments/refunds-api-Rf4Kq9") in edges
    assert (
        ROLE + "eks/prod-eu-checkout-web",
        "can-read",
        SECRET + "prod/payments/ledger-Lg7Rt2",
    ) not in edges
    keyed = [
        e
        for e in graph_json["edges"]
        if e["source"] == SECRET + "prod/payments/db-Xy12Ab" and e["kind"] == "encrypted-by"
    ]
    assert len(keyed) == 1
    assert keyed[0]["target"].startswith("arn:aws:kms:eu-west-1:111122223333:key/")


def test_dot_and_graphml_parse(graph_json: dict[str, Any]) -> None:
    dot = run("graph", str(DEMO), "--format", "dot")
    assert dot.returncode == 0
    assert dot.stdout.startswith("digraph iamscope {")
    assert dot.stdout.count(" -> ") == len(graph_json["edges"])
    graphml = run("graph", str(DEMO), "--format", "graphml")
    assert graphml.returncode == 0
    parsed = nx.read_graphml(io.BytesIO(graphml.stdout.encode()))
    assert parsed.number_of_edges() == len(graph_json["edges"])
    assert parsed.number_of_nodes() == len(graph_json["nodes"])


def test_explain_secret_shows_who_reaches_it() -> None:
    result = run("explain", str(DEMO), SECRET + "prod/batch/backfill-db-Bf1Db8")
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert out.startswith(f"{SECRET}prod/batch/backfill-db-Bf1Db8 (secret)\n")
    assert "is reached by: 7 path(s)" in out
    assert f"  batch/ServiceAccount/batch-shared -[can-assume]-> {ROLE}eks/prod-eu-backfill\n" in out
    assert "      because trust policy admits system:serviceaccount:batch:batch-shared (statement 0)\n" in out
    assert f"  {ROLE}eks-prod-eu-node-group -[can-read]-> {SECRET}prod/batch/backfill-db-Bf1Db8\n" in out


def test_explain_workload_paths_end_at_its_secrets() -> None:
    result = run("explain", str(DEMO), "payments/Deployment/payments-api")
    assert result.returncode == 0, result.stderr
    assert f"-[resolves-to]-> {SECRET}prod/payments/db-Xy12Ab" in result.stdout
    assert f"{ROLE}eks/prod-eu-payments-api -[can-read]-> {SECRET}prod/payments/db-Xy12Ab" in result.stdout


def test_explain_unknown_subject_is_one_line_exit_2() -> None:
    result = run("explain", str(DEMO), "nowhere/Deployment/nothing")
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1
    assert result.stderr.startswith("iamscope: error: 'nowhere/Deployment/nothing' is not in the graph")
