"""What the live Kubernetes collector makes of an API server that refuses, expires, drops, fails or
stalls: exactly one gap line for what could not be read, the other kinds still collected, partial
lists kept, and never a traceback."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from iamscope.collect.kube import RESOURCES, collect_kube, kube_client
from iamscope.collect.result import Collected
from tests.collect.kube_replay import ReplayCluster, demo_cluster, serving, write_kubeconfig
from tests.collect.silent import Silent

ALL_FILES = sorted(r.file for r in RESOURCES)
GONE = (
    "410 Gone: The provided continue parameter is too old to display a consistent list result. "
    "You can start a new list without the continue parameter."
)


def collect(cluster: ReplayCluster, tmp_path: Path, **options: float) -> Collected:
    with serving(cluster, tmp_path) as client:
        return collect_kube(client, page_size=int(options.pop("page_size", 2)), **options)


def counts(result: Collected) -> dict[str, int]:
    return {name: len(value["items"]) for name, value in result.files.items()}


def full(cluster: ReplayCluster) -> dict[str, int]:
    return {r.file: len(cluster.store.get((r.group, r.plural), {})) for r in RESOURCES}


def test_a_kind_rbac_denies_is_one_gap_and_the_rest_is_collected(tmp_path: Path) -> None:
    cluster = demo_cluster()
    cluster.forbidden["/api/v1/secrets"] = "system:serviceaccount:ops:iamscope"
    cluster.forbidden["/apis/rbac.authorization.k8s.io/v1/clusterrolebindings"] = "alice"
    result = collect(cluster, tmp_path)
    assert result.gaps == (
        'list secrets (v1): 403 Forbidden: secrets is forbidden: User "system:serviceaccount:ops:iamscope" '
        'cannot list resource "secrets" in API group "" at the cluster scope',
        "list clusterrolebindings (rbac.authorization.k8s.io/v1): 403 Forbidden: clusterrolebindings is "
        'forbidden: User "alice" cannot list resource "clusterrolebindings" in API group '
        '"rbac.authorization.k8s.io" at the cluster scope',
    )
    # nothing read, nothing written: an empty list would say there are none
    denied = {"k8s/secrets.json", "k8s/clusterrolebindings.json"}
    assert counts(result) == {k: v for k, v in full(cluster).items() if k not in denied}


def test_an_expired_continue_token_relists_the_kind_once(tmp_path: Path) -> None:
    cluster = demo_cluster()
    cluster.gone["/api/v1/pods"] = 1
    result = collect(cluster, tmp_path)
    assert result.gaps == ()
    assert counts(result) == full(cluster)
    requests = cluster.requests_to("/api/v1/pods")
    # page 1, page 2 answered 410, then the whole list again from the start: 1 + 6 pages
    assert ["continue" in r.query for r in requests] == [False, True, False, True, True, True, True, True]
    names = [i["metadata"]["name"] for i in result.files["k8s/pods.json"]["items"]]
    assert len(names) == len(set(names)) == 12  # the pages of the abandoned list are not kept twice


def test_a_list_that_expires_again_is_a_gap_with_what_was_read(tmp_path: Path) -> None:
    cluster = demo_cluster()
    cluster.gone["/api/v1/pods"] = 2
    result = collect(cluster, tmp_path)
    assert result.gaps == (
        f"list pods (v1): {GONE} (the list expired again after relisting from the start) "
        "(after 1 page; the 2 items read are kept)",
    )
    assert counts(result) == {**full(cluster), "k8s/pods.json": 2}


def test_a_connection_dropped_mid_body_is_a_gap_after_the_pages_read(tmp_path: Path) -> None:
    cluster = demo_cluster()
    cluster.drop["/api/v1/serviceaccounts"] = 3  # 16 service accounts: pages 1 and 2 arrive
    result = collect(cluster, tmp_path)
    assert len(result.gaps) == 1
    assert re.fullmatch(
        r"list serviceaccounts \(v1\): connection dropped: Connection broken: IncompleteRead\(\d+ bytes read, "
        r"\d+ more expected\) \(after 2 pages; the 4 items read are kept\)",
        result.gaps[0],
    ), result.gaps[0]
    assert counts(result) == {**full(cluster), "k8s/serviceaccounts.json": 4}


def test_a_dropped_first_page_writes_nothing_for_the_kind(tmp_path: Path) -> None:
    cluster = demo_cluster()
    cluster.drop["/apis/apps/v1/deployments"] = 1
    result = collect(cluster, tmp_path)
    assert len(result.gaps) == 1
    assert result.gaps[0].startswith("list deployments (apps/v1): connection dropped: Connection broken: ")
    assert "after" not in result.gaps[0]
    assert "k8s/deployments.json" not in result.files
    assert len(result.files) == len(ALL_FILES) - 1


@pytest.mark.parametrize(
    ("request_no", "code", "gap"),
    [
        (1, 503, "list pods (v1): 503 Service Unavailable: etcdserver: service unavailable"),
        (
            3,
            500,
            "list pods (v1): 500 Internal Server Error: etcdserver: internal server error "
            "(after 2 pages; the 4 items read are kept)",
        ),
    ],
)
def test_a_server_error_is_a_gap(tmp_path: Path, request_no: int, code: int, gap: str) -> None:
    cluster = demo_cluster()
    cluster.errors["/api/v1/pods"] = (request_no, code)
    result = collect(cluster, tmp_path)
    assert result.gaps == (gap,)
    expected = full(cluster)
    if request_no == 1:
        del expected["k8s/pods.json"]
    else:
        expected["k8s/pods.json"] = 4
    assert counts(result) == expected


def test_a_throttled_request_is_asked_again_after_retry_after(tmp_path: Path) -> None:
    cluster = demo_cluster()
    cluster.throttle["/api/v1/pods"] = 2
    result = collect(cluster, tmp_path)
    assert result.gaps == ()
    assert counts(result) == full(cluster)
    assert len(cluster.requests_to("/api/v1/pods")) == 2 + 6


def test_throttling_that_does_not_end_is_a_gap(tmp_path: Path) -> None:
    cluster = demo_cluster()
    cluster.throttle["/api/v1/pods"] = 100
    result = collect(cluster, tmp_path)
    assert result.gaps == (
        "list pods (v1): 429 Too Many Requests: Too many requests, please try again later.",
    )
    assert len(cluster.requests_to("/api/v1/pods")) == 4  # the request and 3 more
    assert "k8s/pods.json" not in result.files


def test_an_answer_that_is_not_json_is_a_gap(tmp_path: Path) -> None:
    cluster = demo_cluster()
    cluster.garbage.add("/apis/batch/v1/cronjobs")
    result = collect(cluster, tmp_path)
    assert result.gaps == ("list cronjobs (batch/v1): the response is not JSON",)
    assert len(result.files) == len(ALL_FILES) - 1


@pytest.mark.parametrize(
    ("status", "body", "reason"),
    [
        (404, b"404 page not found\n", "404 Not Found: 404 page not found"),
        (404, b'{"kind": "Status", "reason": "NotFound", "code": 404}', "404 Not Found: NotFound"),
        (502, b"", "502 Bad Gateway"),
        (403, b'{"kind": "Status", "message": "a\\nb  c"}', "403 Forbidden: a b c"),
    ],
)
def test_error_bodies_become_one_line(status: int, body: bytes, reason: str) -> None:
    from iamscope.collect.kube import _status_reason

    assert _status_reason(status, body) == reason


def test_an_api_server_that_does_not_answer_in_time_is_a_gap(tmp_path: Path) -> None:
    cluster = demo_cluster()
    cluster.hang["/api/v1/nodes"] = 1.0
    result = collect(cluster, tmp_path, timeout=0.3)
    assert result.gaps == ("list nodes (v1): timed out (no answer within 0.3s)",)
    assert "k8s/nodes.json" not in result.files
    assert len(result.files) == len(ALL_FILES) - 1


def test_a_401_stops_the_collection_with_one_gap_naming_the_kinds_not_listed(tmp_path: Path) -> None:
    cluster = demo_cluster()
    cluster.expire_at = "/apis/apps/v1/deployments"
    result = collect(cluster, tmp_path)
    order = [r.plural for r in RESOURCES]
    at = order.index("deployments")
    assert result.gaps == (
        "list deployments (apps/v1): 401 Unauthorized: Unauthorized; the API server rejected the "
        "credentials (an expired token?), so no later kind was listed "
        f"({', '.join(order[at + 1 :])})",
    )
    assert sorted(result.files) == sorted(r.file for r in RESOURCES[:at])
    # nothing is asked after the 401
    assert cluster.requests[-1].path == "/apis/apps/v1/deployments"


def test_a_wrong_token_is_a_401_on_the_first_kind(tmp_path: Path) -> None:
    cluster = demo_cluster(token="another-token")
    result = collect(cluster, tmp_path)
    assert result.files == {}
    assert result.gaps == (
        f"list {RESOURCES[0].plural} (v1): 401 Unauthorized: Unauthorized; the API server rejected the "
        "credentials (an expired token?), so no kind was listed",
    )
    assert len(cluster.requests) == 1


def test_secretproviderclasses_fall_back_to_v1alpha1(tmp_path: Path) -> None:
    cluster = demo_cluster(crd_versions=("v1alpha1",))
    result = collect(cluster, tmp_path)
    assert result.gaps == ()
    assert result.notes == (
        "secretproviderclasses read through secrets-store.csi.x-k8s.io/v1alpha1: "
        "the cluster does not serve secrets-store.csi.x-k8s.io/v1",
    )
    spcs = result.files["k8s/secretproviderclasses.json"]["items"]
    assert len(spcs) == 15
    assert {s["apiVersion"] for s in spcs} == {"secrets-store.csi.x-k8s.io/v1alpha1"}
    assert [r.path for r in cluster.requests if "secrets-store" in r.path][:2] == [
        "/apis/secrets-store.csi.x-k8s.io/v1/secretproviderclasses",
        "/apis/secrets-store.csi.x-k8s.io/v1alpha1/secretproviderclasses",
    ]


def test_no_spc_crd_is_a_note_not_a_gap(tmp_path: Path) -> None:
    cluster = demo_cluster(crd_versions=())
    result = collect(cluster, tmp_path)
    assert result.gaps == ()
    assert result.notes == (
        "no SecretProviderClass CRD: the cluster serves neither secrets-store.csi.x-k8s.io/v1 nor "
        "secrets-store.csi.x-k8s.io/v1alpha1 (the Secrets Store CSI Driver is not installed), "
        "so there are no secretproviderclasses",
    )
    assert result.files["k8s/secretproviderclasses.json"]["items"] == []
    assert counts(result) == {**full(cluster), "k8s/secretproviderclasses.json": 0}


def test_a_forbidden_spc_list_is_a_gap_without_fallback(tmp_path: Path) -> None:
    cluster = demo_cluster()
    cluster.forbidden["/apis/secrets-store.csi.x-k8s.io/v1/secretproviderclasses"] = "alice"
    result = collect(cluster, tmp_path)
    assert result.gaps == (
        "list secretproviderclasses (secrets-store.csi.x-k8s.io/v1): 403 Forbidden: secretproviderclasses "
        'is forbidden: User "alice" cannot list resource "secretproviderclasses" in API group '
        '"secrets-store.csi.x-k8s.io" at the cluster scope',
    )
    assert result.notes == ()
    assert not cluster.requests_to("/apis/secrets-store.csi.x-k8s.io/v1alpha1/secretproviderclasses")


def test_an_unreachable_api_server_stops_the_collection_with_one_gap(tmp_path: Path) -> None:
    cluster = demo_cluster()
    with cluster.running():
        url = cluster.url
    # the server is gone: nothing listens on its port any more
    client = kube_client("replay", str(write_kubeconfig(tmp_path / "kubeconfig", url)))
    result = collect_kube(client, timeout=2)
    assert result.files == {}
    assert len(result.gaps) == 1
    first = RESOURCES[0]
    assert re.fullmatch(
        rf"list {first.plural} \(v1\): cannot connect to the API server: HTTPConnection\(host='127.0.0.1', "
        r"port=\d+\): Failed to establish a new connection: \[Errno 111\] Connection refused; "
        r"so no kind was listed",
        result.gaps[0],
    ), result.gaps[0]


def test_a_server_that_never_completes_tls_is_unreachable_after_the_connect_timeout(tmp_path: Path) -> None:
    """It accepts the connection and never answers the TLS handshake: the wait is the connect timeout
    (urllib3 reports it as a read timeout), and the gap says so, once."""
    with Silent().running() as silent:
        url = f"https://127.0.0.1:{silent.port}"
        client = kube_client("replay", str(write_kubeconfig(tmp_path / "kubeconfig", url)))
        result = collect_kube(client, timeout=5, connect_timeout=0.3)
    assert result.files == {}
    assert result.gaps == (
        f"list {RESOURCES[0].plural} (v1): cannot connect to the API server: no answer within 0.3s; "
        "so no kind was listed",
    )
    assert silent.connections == 1


def test_a_first_request_without_an_answer_means_the_server_is_unreachable(tmp_path: Path) -> None:
    cluster = demo_cluster()
    cluster.hang[RESOURCES[0].path("v1")] = 1.0
    result = collect(cluster, tmp_path, timeout=0.3)
    assert result.gaps == (
        f"list {RESOURCES[0].plural} (v1): cannot connect to the API server: no answer within 0.3s; "
        "so no kind was listed",
    )
    assert len(cluster.requests) == 1


def test_a_page_size_below_one_is_refused(tmp_path: Path) -> None:
    from iamscope.errors import UsageError

    with serving(demo_cluster(), tmp_path) as client, pytest.raises(UsageError, match="page size 0"):
        collect_kube(client, page_size=0)
