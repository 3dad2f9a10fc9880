"""A stand-in Kubernetes API server for the live collector's tests: a stdlib HTTP server on 127.0.0.1
that answers list requests in the API server's wire format from a set of objects.

What it reproduces of the real server:
- `GET /api/v1/<plural>` and `GET /apis/<group>/<version>/<plural>` answer a typed list
  (`{"kind": "PodList", "apiVersion": "v1", "metadata": {"resourceVersion", "continue",
  "remainingItemCount"}, "items": [...]}`); items of built-in kinds carry neither `kind` nor
  `apiVersion`, custom resources carry both (converted to the version asked for, as a CRD serving
  several versions without a conversion webhook does); every item has `managedFields`.
- `limit`/`continue`: items in etcd key order (`<namespace>/<name>`), opaque base64 continue tokens
  holding the resource version and the key to start after, as the real server's do.
- `Accept: application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1` answers a
  `PartialObjectMetadataList` of `PartialObjectMetadata` items holding only `metadata`.
- Errors as `Status` objects (`{"kind": "Status", "apiVersion": "v1", "status": "Failure", ...}`):
  404 for what is not served, 401 without the bearer token.

Fault modes, set on the instance before the request: `forbidden` (403 for a path), `gone` (410 on
continue tokens of a path, so many times), `drop` (close the socket mid-body on the n-th request to a
path), `errors` (a status on the n-th request to a path), `throttle` (429 with Retry-After for
so many requests), `garbage` (200 with a body that is not JSON), `hang` (no answer for so long), `expire_at`
(every request from the first one to that path on is 401), `ignore_metadata` (answer full objects
when metadata is asked for). Every request is recorded: path, query, Accept header."""

from __future__ import annotations

import base64
import copy
import json
import threading
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http import HTTPStatus
from http.server import ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import yaml

from tests.collect.http_base import QuietHandler

TOKEN = "replay-token-0123456789"
METADATA_LIST = "application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1"
RESOURCE_VERSION = "48329001"

# kind → (group, plural, namespaced); the core group is ""
KINDS: dict[str, tuple[str, str, bool]] = {
    "Pod": ("", "pods", True),
    "ServiceAccount": ("", "serviceaccounts", True),
    "Namespace": ("", "namespaces", False),
    "Node": ("", "nodes", False),
    "ReplicationController": ("", "replicationcontrollers", True),
    "Secret": ("", "secrets", True),
    "ConfigMap": ("", "configmaps", True),
    "Deployment": ("apps", "deployments", True),
    "StatefulSet": ("apps", "statefulsets", True),
    "DaemonSet": ("apps", "daemonsets", True),
    "ReplicaSet": ("apps", "replicasets", True),
    "Job": ("batch", "jobs", True),
    "CronJob": ("batch", "cronjobs", True),
    "Role": ("rbac.authorization.k8s.io", "roles", True),
    "ClusterRole": ("rbac.authorization.k8s.io", "clusterroles", False),
    "RoleBinding": ("rbac.authorization.k8s.io", "rolebindings", True),
    "ClusterRoleBinding": ("rbac.authorization.k8s.io", "clusterrolebindings", False),
    "CSIDriver": ("storage.k8s.io", "csidrivers", False),
    "SecretProviderClass": ("secrets-store.csi.x-k8s.io", "secretproviderclasses", True),
}
BUILT_IN_VERSIONS = {"": ("v1",), "apps": ("v1",), "batch": ("v1",), "rbac.authorization.k8s.io": ("v1",)}
BUILT_IN_VERSIONS["storage.k8s.io"] = ("v1",)
CRD_GROUPS = {"secrets-store.csi.x-k8s.io"}


@dataclass(frozen=True)
class Request:
    path: str
    query: dict[str, str]
    accept: str
    authorization: str


def status_body(code: int, reason: str, message: str, **extra: Any) -> dict[str, Any]:
    return {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": extra.pop("metadata", {}),
        "status": "Failure",
        "message": message,
        "reason": reason,
        "code": code,
        **extra,
    }


def _managed_fields(kind: str) -> list[dict[str, Any]]:
    return [
        {
            "manager": "kubectl-client-side-apply",
            "operation": "Update",
            "apiVersion": "v1",
            "time": "2025-03-01T07:15:26Z",
            "fieldsType": "FieldsV1",
            "fieldsV1": {"f:metadata": {"f:labels": {".": {}}}}
            if kind != "Secret"
            else {"f:data": {".": {}}},
        }
    ]


def _token(start_after: str) -> str:
    payload = {"v": "meta.k8s.io/v1", "rv": int(RESOURCE_VERSION), "start": start_after + "\x00"}
    return base64.urlsafe_b64encode(json.dumps(payload).encode()).decode().rstrip("=")


def _untoken(token: str) -> str:
    padded = token + "=" * (-len(token) % 4)
    return str(json.loads(base64.urlsafe_b64decode(padded))["start"]).rstrip("\x00")


class ReplayCluster:
    """The objects of one cluster, served over HTTP; see the module docstring for the fault modes."""

    def __init__(
        self,
        objects: Iterable[dict[str, Any]],
        *,
        crd_versions: tuple[str, ...] = ("v1", "v1alpha1"),
        token: str = TOKEN,
    ) -> None:
        self.crd_versions = crd_versions
        self.token = token
        # (group, plural) → {etcd key: object as stored (kind and apiVersion set)}
        self.store: dict[tuple[str, str], dict[str, dict[str, Any]]] = {}
        for obj in objects:
            self.add(obj)
        self.requests: list[Request] = []
        self.forbidden: dict[str, str] = {}  # path → the user named in the 403 message
        self.gone: dict[str, int] = {}  # path → how many continue requests answer 410
        self.drop: dict[str, int] = {}  # path → the request number (1-based) whose body is cut
        self.errors: dict[str, tuple[int, int]] = {}  # path → (request number, HTTP status)
        self.throttle: dict[str, int] = {}  # path → how many requests answer 429 (Retry-After: 0)
        self.garbage: set[str] = set()  # paths answered 200 with a body that is not JSON (a proxy page)
        self.hang: dict[str, float] = {}  # path → seconds to wait before answering
        self.expire_at: str | None = None  # path from whose first request on every request is 401
        self.ignore_metadata = False
        self._expired = False
        self._counts: dict[str, int] = {}
        self._lock = threading.Lock()
        self.server: ThreadingHTTPServer | None = None

    def add(self, obj: dict[str, Any]) -> None:
        kind = obj["kind"]
        group, plural, namespaced = KINDS[kind]
        meta = obj.setdefault("metadata", {})
        if namespaced:
            meta.setdefault("namespace", "default")
        key = f"{meta['namespace']}/{meta['name']}" if namespaced else meta["name"]
        self.store.setdefault((group, plural), {})[key] = obj

    # --- serving ---------------------------------------------------------------------------------

    @property
    def url(self) -> str:
        assert self.server is not None
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}"

    def requests_to(self, path: str) -> list[Request]:
        return [r for r in self.requests if r.path == path]

    def _route(self, path: str) -> tuple[str, str, str] | None:
        """(group, version, plural) of a collection path that is served."""
        parts = path.strip("/").split("/")
        if len(parts) == 3 and parts[0] == "api" and parts[1] == "v1":
            group, version, plural = "", "v1", parts[2]
        elif len(parts) == 4 and parts[0] == "apis":
            group, version, plural = parts[1], parts[2], parts[3]
        else:
            return None
        versions = self.crd_versions if group in CRD_GROUPS else BUILT_IN_VERSIONS.get(group, ())
        known = {(g, p) for g, p, _ in KINDS.values()}
        if version not in versions or (group, plural) not in known:
            return None
        return group, version, plural

    def answer(self, path: str, query: dict[str, str], accept: str, auth: str) -> tuple[int, Any, str]:
        """(status, body, fault) for one request; fault is "drop" or "hang:<seconds>" or ""."""
        with self._lock:
            self.requests.append(Request(path=path, query=query, accept=accept, authorization=auth))
            n = self._counts[path] = self._counts.get(path, 0) + 1
            if self.expire_at == path:
                self._expired = True
            if self._expired or auth != f"Bearer {self.token}":
                return 401, status_body(401, "Unauthorized", "Unauthorized"), ""
            fault = ""
            if path in self.hang:
                fault = f"hang:{self.hang[path]}"
            if path in self.forbidden:
                route = self._route(path)
                group, plural = (route[0], route[2]) if route else ("", path.rsplit("/", 1)[-1])
                message = (
                    f'{plural} is forbidden: User "{self.forbidden[path]}" cannot list resource '
                    f'"{plural}" in API group "{group}" at the cluster scope'
                )
                return 403, status_body(403, "Forbidden", message, details={"kind": plural}), fault
            if path in self.errors and self.errors[path][0] == n:
                code = self.errors[path][1]
                phrase = HTTPStatus(code).phrase
                return code, status_body(code, phrase.replace(" ", ""), f"etcdserver: {phrase.lower()}"), ""
            if self.throttle.get(path, 0) > 0:
                self.throttle[path] -= 1
                message = "Too many requests, please try again later."
                return 429, status_body(429, "TooManyRequests", message), ""
            if "continue" in query and self.gone.get(path, 0) > 0:
                self.gone[path] -= 1
                message = (
                    "The provided continue parameter is too old to display a consistent list result. "
                    "You can start a new list without the continue parameter."
                )
                return 410, status_body(410, "Expired", message), fault
            if path in self.garbage:
                return 200, None, "garbage"
            route = self._route(path)
            if route is None:
                return (
                    404,
                    status_body(404, "NotFound", "the server could not find the requested resource"),
                    "",
                )
            body = self._list(*route, query, accept)
            if path in self.drop and self.drop[path] == n:
                fault = "drop"
            return 200, body, fault

    def _list(self, group: str, version: str, plural: str, query: dict[str, str], accept: str) -> Any:
        objects = self.store.get((group, plural), {})
        keys = sorted(objects)
        if "continue" in query:
            after = _untoken(query["continue"])
            keys = [k for k in keys if k > after]
        limit = int(query.get("limit", "0") or 0)
        page, rest = (keys[:limit], keys[limit:]) if limit > 0 else (keys, [])
        kind = next(k for k, (g, p, _) in KINDS.items() if (g, p) == (group, plural))
        api_version = f"{group}/{version}" if group else version
        metadata_only = accept.split(",")[0].strip() == METADATA_LIST and not self.ignore_metadata
        items = []
        for key in page:
            obj = copy.deepcopy(objects[key])
            obj["metadata"]["managedFields"] = _managed_fields(kind)
            obj["metadata"].setdefault("resourceVersion", RESOURCE_VERSION)
            if metadata_only:
                items.append(
                    {
                        "kind": "PartialObjectMetadata",
                        "apiVersion": "meta.k8s.io/v1",
                        "metadata": obj["metadata"],
                    }
                )
            elif group in CRD_GROUPS:
                obj["apiVersion"] = api_version  # served at the version asked for
                items.append(obj)
            else:
                obj.pop("kind", None)
                obj.pop("apiVersion", None)
                items.append(obj)
        list_meta: dict[str, Any] = {"resourceVersion": RESOURCE_VERSION}
        if rest:
            list_meta["continue"] = _token(page[-1])
            list_meta["remainingItemCount"] = len(rest)
        if metadata_only:
            return {
                "kind": "PartialObjectMetadataList",
                "apiVersion": "meta.k8s.io/v1",
                "metadata": list_meta,
                "items": items,
            }
        return {"kind": f"{kind}List", "apiVersion": api_version, "metadata": list_meta, "items": items}

    @contextmanager
    def running(self) -> Iterator[ReplayCluster]:
        cluster = self

        class Handler(QuietHandler):
            def do_GET(self) -> None:
                split = urlsplit(self.path)
                query = {k: v[-1] for k, v in parse_qs(split.query, keep_blank_values=True).items()}
                status, body, fault = cluster.answer(
                    split.path, query, self.headers.get("Accept", ""), self.headers.get("Authorization", "")
                )
                if fault.startswith("hang:"):
                    time.sleep(float(fault.split(":", 1)[1]))
                data = b"<html>gateway login</html>" if fault == "garbage" else json.dumps(body).encode()
                try:
                    self._write(status, data, fault)
                except (BrokenPipeError, ConnectionResetError):
                    self.close_connection = True  # the client gave up waiting (the "hang" fault)

            def _write(self, status: int, data: bytes, fault: str) -> None:
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                if status == HTTPStatus.TOO_MANY_REQUESTS:
                    self.send_header("Retry-After", "0")
                if fault == "drop":
                    self.send_header("Connection", "close")
                self.end_headers()
                if fault == "drop":
                    self.wfile.write(data[: len(data) // 2])
                    self.wfile.flush()
                    self.close_connection = True
                    return
                self.wfile.write(data)

        server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        server.daemon_threads = True
        self.server = server
        thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
        thread.start()
        try:
            yield self
        finally:
            server.shutdown()
            server.server_close()
            thread.join(timeout=5)


def write_kubeconfig(path: Path, url: str, *, context: str = "replay", token: str = TOKEN) -> Path:
    """A kubeconfig whose context `context` reaches `url` with a bearer token; its current context is
    another one (pointing nowhere), so a test passes only when the context asked for is used."""
    config = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [
            {"name": "replay-cluster", "cluster": {"server": url}},
            {"name": "elsewhere", "cluster": {"server": "http://127.0.0.1:9"}},
        ],
        "users": [
            {"name": "replay-user", "user": {"token": token}},
            {"name": "nobody", "user": {"token": "wrong"}},
        ],
        "contexts": [
            {"name": context, "context": {"cluster": "replay-cluster", "user": "replay-user"}},
            {"name": "elsewhere", "context": {"cluster": "elsewhere", "user": "nobody"}},
        ],
        "current-context": "elsewhere",
    }
    path.write_text(yaml.safe_dump(config), encoding="utf-8")
    return path


# --- the demo cluster ------------------------------------------------------------------------------

REPO = Path(__file__).resolve().parents[2]
DEMO = REPO / "fixtures" / "demo"

# what a Secret holds and the collector must never receive or write
SECRET_VALUES = ("hunter2-erp-password", "erp-service-user", "bootstrap-db-password-9f1c")


def _b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def demo_secrets() -> list[dict[str, Any]]:
    """Secrets as the demo cluster would hold them, values included: the copy the driver syncs for the
    legacy SPC (labelled managed=true), and one created by `kubectl apply`, whose
    last-applied-configuration annotation repeats the whole Secret. Neither changes what the scan finds
    (the synced one is the one the SPC names already; the other is named by no SPC)."""
    applied = {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": "db-bootstrap", "namespace": "payments"},
        "stringData": {"password": SECRET_VALUES[2]},
        "type": "Opaque",
    }
    return [
        {
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": {
                "name": "erp-connector-env",
                "namespace": "legacy",
                "labels": {
                    "secrets-store.csi.k8s.io/managed": "true",
                    "app.kubernetes.io/name": "erp-connector",
                },
                "uid": "0b9e7c1e-2f0d-4d55-9b0e-3c1f4c7d5a11",
            },
            "data": {"ERP_USERNAME": _b64(SECRET_VALUES[1]), "ERP_PASSWORD": _b64(SECRET_VALUES[0])},
            "type": "Opaque",
        },
        {
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": {
                "name": "db-bootstrap",
                "namespace": "payments",
                "annotations": {
                    "kubectl.kubernetes.io/last-applied-configuration": json.dumps(applied) + "\n",
                    "owner": "platform",
                },
                "uid": "6c2d1f0a-8e4b-4a8e-a1d4-1f2e3d4c5b6a",
            },
            "data": {"password": _b64(SECRET_VALUES[2])},
            "type": "Opaque",
        },
    ]


def demo_objects() -> list[dict[str, Any]]:
    """Every object of fixtures/demo/k8s, read as the scan reads them."""
    from iamscope.files import InputReader
    from iamscope.k8s.read import read_manifests

    raws, warnings = read_manifests([DEMO / "k8s"], InputReader())
    assert not warnings
    return [copy.deepcopy(r.data) for r in raws]


def demo_cluster(**options: Any) -> ReplayCluster:
    """The demo cluster with its Secrets."""
    return ReplayCluster([*demo_objects(), *demo_secrets()], **options)


@contextmanager
def serving(cluster: ReplayCluster, tmp_path: Path, context: str = "replay") -> Iterator[Any]:
    """The cluster served, and a client for it made by kube_client through a kubeconfig."""
    from iamscope.collect.kube import kube_client

    with cluster.running():
        kubeconfig = write_kubeconfig(tmp_path / "kubeconfig", cluster.url, context=context)
        client = kube_client(context, str(kubeconfig))
        try:
            yield client
        finally:
            client.close()
