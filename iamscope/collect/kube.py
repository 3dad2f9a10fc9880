"""The live Kubernetes half of `iamscope collect`: every kind the scan reads, listed from the API server
and written as `k8s/<plural>.json`, one `kind: List` per kind exactly as `kubectl get <plural> -A -o json`
prints it (items carry `apiVersion` and `kind`, `metadata.managedFields` dropped), so that the files
read back through `iamscope.k8s.read` like any kubectl output.

Fetch only. Requests go over the raw REST paths with the official client's connection settings
(TLS, client certificates, proxies, bearer tokens refreshed by exec plugins), not through its
generated model classes, which drop fields they do not know and rename the rest. Pages follow
`limit`/`continue`; an expired continue token (410 Gone) relists the kind from the start once.

Secrets are listed metadata-only (`PartialObjectMetadataList`): no request made here can return a
Secret's `data`, and whatever the server answers, only metadata is kept, without the
`last-applied-configuration` annotation (which `kubectl apply` fills with the whole Secret).

What cannot be read becomes a gap, one line each; other kinds are still listed. A 401, or an API
server that cannot be connected to at all, stops the collection with one gap line that names the
kinds not listed, since every request would fail the same way (and a silent network would cost a
timeout each). A first request that times out, drops or fails its TLS handshake before the server
ever answered means the same: the API server is unreachable.

The Kubernetes client logs an exec credential plugin's failure with `logging.error` on the root
logger (which, with no handler configured, installs one on stderr for good) and urllib3 logs every
retry: while a client is made and used here those records are kept from the terminal (nothing of the
logging configuration stays changed), and a failed exec plugin is a UsageError."""

from __future__ import annotations

import http
import importlib
import inspect
import json
import logging
import os
import re
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import urlencode

import urllib3
import yaml

from iamscope.collect.result import Collected, NoProgress, Progress
from iamscope.errors import UsageError

INSTALL_HINT = "reading a live cluster needs the Kubernetes client: pip install 'iamscope[live]'"
# the metadata-only list representation (Kubernetes API concepts, "Receiving resources as metadata
# only"); deliberately without a fallback to plain application/json, which would return full Secrets
METADATA_LIST_ACCEPT = "application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1"
JSON_ACCEPT = "application/json"
LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration"
SPC_GROUP = "secrets-store.csi.x-k8s.io"
DEFAULT_KUBECONFIG = "~/.kube/config"
CONNECT_TIMEOUT = 10.0  # seconds to connect and complete the TLS handshake
READ_TIMEOUT = 60.0  # seconds to wait for an answer
UNREACHABLE = "cannot connect to the API server"
# the timeout urllib3 names in its message ("Read timed out. (read timeout=10)"): the one that applied
_NAMED_TIMEOUT = re.compile(r"\((?:connect|read) timeout=([0-9.]+)\)")
# loggers the client and its HTTP library write to, besides the root logger
CLIENT_LOGGERS = ("urllib3", "kubernetes", "client")
RETRY_AFTER_MAX = 30  # seconds; urllib3 would otherwise wait up to 6 hours if a server asked it to
_SILENT = NoProgress()


class ApiClient(Protocol):
    """What is used of `kubernetes.client.ApiClient`: its configuration (host, auth settings) and its
    REST client's urllib3 pool manager (TLS, client certificates, proxy)."""

    configuration: Any
    rest_client: Any

    def close(self) -> None: ...


@dataclass(frozen=True, slots=True, kw_only=True)
class Resource:
    plural: str
    kind: str
    group: str = ""  # the core group
    versions: tuple[str, ...] = ("v1",)  # tried in order while the server answers 404
    metadata_only: bool = False

    def group_version(self, version: str) -> str:
        return f"{self.group}/{version}" if self.group else version

    def path(self, version: str) -> str:
        prefix = f"/apis/{self.group}/{version}" if self.group else f"/api/{version}"
        return f"{prefix}/{self.plural}"

    @property
    def file(self) -> str:
        return f"k8s/{self.plural}.json"


# every kind iamscope.k8s.transform reads (WORKLOAD_KINDS and the rest), in the order they are listed
RESOURCES: tuple[Resource, ...] = (
    Resource(plural="namespaces", kind="Namespace"),
    Resource(plural="nodes", kind="Node"),
    Resource(plural="serviceaccounts", kind="ServiceAccount"),
    Resource(plural="pods", kind="Pod"),
    Resource(plural="replicationcontrollers", kind="ReplicationController"),
    Resource(plural="secrets", kind="Secret", metadata_only=True),
    Resource(plural="deployments", kind="Deployment", group="apps"),
    Resource(plural="statefulsets", kind="StatefulSet", group="apps"),
    Resource(plural="daemonsets", kind="DaemonSet", group="apps"),
    Resource(plural="replicasets", kind="ReplicaSet", group="apps"),
    Resource(plural="jobs", kind="Job", group="batch"),
    Resource(plural="cronjobs", kind="CronJob", group="batch"),
    Resource(plural="roles", kind="Role", group="rbac.authorization.k8s.io"),
    Resource(plural="clusterroles", kind="ClusterRole", group="rbac.authorization.k8s.io"),
    Resource(plural="rolebindings", kind="RoleBinding", group="rbac.authorization.k8s.io"),
    Resource(plural="clusterrolebindings", kind="ClusterRoleBinding", group="rbac.authorization.k8s.io"),
    Resource(
        plural="secretproviderclasses",
        kind="SecretProviderClass",
        group=SPC_GROUP,
        versions=("v1", "v1alpha1"),
    ),
)


# --- the client --------------------------------------------------------------------------------------


def _first_line(error: BaseException) -> str:
    text = str(error).strip() or type(error).__name__
    return text.splitlines()[0]


def _context_names(files: Sequence[str]) -> list[str]:
    """The context names the kubeconfig files declare; a file that is no kubeconfig is a UsageError."""
    names: list[str] = []
    for name in files:
        try:
            data = yaml.safe_load(Path(name).expanduser().read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError) as error:
            raise UsageError(f"kubeconfig {name}: cannot be read: {_first_line(error)}") from None
        except yaml.YAMLError as error:
            raise UsageError(f"kubeconfig {name}: invalid YAML: {' '.join(str(error).split())}") from None
        if not isinstance(data, dict):
            raise UsageError(f"kubeconfig {name}: not a kubeconfig (no mapping of clusters, users, contexts)")
        contexts = data.get("contexts")
        for context in contexts if isinstance(contexts, list) else ():
            if isinstance(context, dict) and isinstance(context.get("name"), str):
                names.append(context["name"])
    return names


class _Kept(logging.Handler):
    """Keeps the records it is given (instead of printing them)."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)

    def client_errors(self) -> list[str]:
        """The errors the Kubernetes client itself logged (an exec plugin that failed), one line each."""
        return [
            " ".join(record.getMessage().split())
            for record in self.records
            if record.levelno >= logging.ERROR and "kubernetes" in Path(record.pathname).parts
        ]


@contextmanager
def _quiet_client_logs() -> Iterator[_Kept]:
    """While it runs, what the Kubernetes client and urllib3 log is kept, not printed: a handler of
    ours on the root logger (so that `logging.error` finds one and installs none on stderr), a root
    filter for the client's own root records, and the client's loggers not propagating. All of it is
    undone on the way out."""
    kept = _Kept()
    root = logging.getLogger()

    def not_from_client(record: logging.LogRecord) -> bool:
        if "kubernetes" in Path(record.pathname).parts:
            kept.emit(record)  # kept, and not handed to any other handler of the root logger
            return False
        return True

    loggers = [logging.getLogger(name) for name in CLIENT_LOGGERS]
    propagate = [logger.propagate for logger in loggers]
    root.addHandler(kept)
    root.addFilter(not_from_client)
    for logger in loggers:
        logger.addHandler(kept)
        logger.propagate = False
    try:
        yield kept
    finally:
        for logger, before in zip(loggers, propagate, strict=True):
            logger.removeHandler(kept)
            logger.propagate = before
        root.removeFilter(not_from_client)
        root.removeHandler(kept)


def kube_client(context: str | None, kubeconfig: str | None = None) -> ApiClient:
    """A client for the cluster of `context` (the current context when None) in `kubeconfig`, else in
    the files of `KUBECONFIG`, else in ~/.kube/config; the pod's own service account (in-cluster
    config) when none of those exists. Every way this can fail is a one-line UsageError."""
    try:
        importlib.import_module("kubernetes")
        config = importlib.import_module("kubernetes.config")
        client = importlib.import_module("kubernetes.client")
    except ImportError:
        raise UsageError(INSTALL_HINT) from None
    env = os.environ.get("KUBECONFIG", "")
    if kubeconfig:
        where, candidates = f"--kubeconfig {kubeconfig}", [kubeconfig]
        if not Path(kubeconfig).expanduser().is_file():
            raise UsageError(f"{where}: no such file")
    elif env:
        where, candidates = f"KUBECONFIG={env}", env.split(os.pathsep)
    else:
        where, candidates = DEFAULT_KUBECONFIG, [DEFAULT_KUBECONFIG]
    files = [c for c in candidates if c and Path(c).expanduser().is_file()]
    errors = (
        config.ConfigException,
        yaml.YAMLError,
        OSError,
        ValueError,
        TypeError,
        KeyError,
        AttributeError,
    )
    if not files:
        in_cluster = os.environ.get("KUBERNETES_SERVICE_HOST") and os.environ.get("KUBERNETES_SERVICE_PORT")
        if not in_cluster:
            raise UsageError(
                f"no kubeconfig: {where} does not exist and this is not a pod in a cluster "
                "(point KUBECONFIG at one, e.g. from `aws eks update-kubeconfig`)"
            )
        if context:
            raise UsageError(f"--context {context}: no kubeconfig to find it in ({where} does not exist)")
        configuration = client.Configuration()
        try:
            config.load_incluster_config(client_configuration=configuration)
        except errors as error:
            raise UsageError(f"in-cluster Kubernetes configuration: {_first_line(error)}") from None
        api: ApiClient = client.ApiClient(configuration)
        return api
    names = _context_names(files)
    if context and context not in names:
        known = ", ".join(sorted(set(names))) or "none"
        raise UsageError(f"kubeconfig {where}: no context {context!r} (its contexts: {known})")
    what = f" context {context!r}" if context else ""
    with _quiet_client_logs() as kept:
        try:
            api = config.new_client_from_config(
                config_file=os.pathsep.join(files), context=context, persist_config=False
            )
        except errors as error:
            raise UsageError(f"kubeconfig {where}{what}: {_first_line(error)}") from None
    failed = kept.client_errors()
    if failed:
        # the client logs the failure and goes on without credentials: every request would be a 401
        api.close()
        raise UsageError(f"kubeconfig {where}{what}: the exec credential plugin failed: {failed[0]}")
    return api


# --- requests ----------------------------------------------------------------------------------------


class _Failure(Exception):
    """One request that did not give a page. `status` is the HTTP status when there was one."""

    def __init__(self, reason: str, status: int | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.status = status
        # no connection at all (after the retries): every later request would fail the same way
        self.unreachable = reason.startswith(UNREACHABLE)


def _status_reason(status: int, raw: bytes) -> str:
    """`403 Forbidden: <the Status message>` (the body of an API error is a Status object; a proxy or
    an unknown path may answer with plain text instead)."""
    try:
        phrase = http.HTTPStatus(status).phrase
    except ValueError:
        phrase = "error"
    text = raw.decode("utf-8", "replace")
    message = ""
    try:
        body = json.loads(text)
    except ValueError:
        body = None
    if isinstance(body, dict):
        found = body.get("message") or body.get("reason")
        message = found if isinstance(found, str) else ""
    else:
        message = text.strip()
    message = " ".join(message.split())
    if len(message) > 300:
        message = message[:297] + "..."
    return f"{status} {phrase}: {message}" if message else f"{status} {phrase}"


def _named_timeout(error: BaseException, default: float) -> float:
    found = _NAMED_TIMEOUT.search(str(error))
    return float(found.group(1)) if found else default


def _transport_reason(error: BaseException, connect: float, read: float, *, answered: bool) -> str:
    """The one-line reason of a request that got no answer. Before the server ever answered, any
    such failure (a timeout, a dropped connection, a failed TLS handshake) means it is unreachable."""
    if isinstance(error, urllib3.exceptions.MaxRetryError) and error.reason is not None:
        error = error.reason
    # before the timeouts: urllib3's NewConnectionError is a ConnectTimeoutError, for compatibility
    if isinstance(error, urllib3.exceptions.NewConnectionError):
        return f"{UNREACHABLE}: {_first_line(error)}"
    if isinstance(error, urllib3.exceptions.ConnectTimeoutError):
        return f"{UNREACHABLE}: no connection within {_named_timeout(error, connect):g}s"
    if isinstance(error, (urllib3.exceptions.TimeoutError, TimeoutError)):
        # urllib3 names the timeout that applied: the connect timeout while the TLS handshake runs
        reason = f"no answer within {_named_timeout(error, read):g}s"
        return f"{UNREACHABLE}: {reason}" if not answered else f"timed out ({reason})"
    if isinstance(error, urllib3.exceptions.ProtocolError):
        detail = error.args[0] if error.args and isinstance(error.args[0], str) else _first_line(error)
        reason = f"connection dropped: {detail}"
    elif isinstance(error, urllib3.exceptions.SSLError):
        reason = f"TLS error: {_first_line(error)}"
    else:
        reason = f"request failed: {type(error).__name__}: {_first_line(error)}"
    return f"{UNREACHABLE}: {reason}" if not answered else reason


class _Api:
    def __init__(self, client: ApiClient, timeout: float, connect_timeout: float) -> None:
        self.configuration = client.configuration
        self.pool = client.rest_client.pool_manager
        self.host = str(self.configuration.host).rstrip("/")
        self.timeout = timeout
        self.connect_timeout = min(timeout, connect_timeout)
        self.urllib3_timeout = urllib3.Timeout(connect=self.connect_timeout, read=timeout)
        self.answered = False  # whether the server has answered any request yet
        # a refused or failed connection is tried again, and a 429 (API Priority and Fairness asks the
        # client to come back after Retry-After); any other request that was answered is not repeated
        retry: dict[str, Any] = {
            "total": None,
            "connect": 2,
            "read": 0,
            "redirect": 0,
            "other": 0,
            "status": 3,
            "status_forcelist": (http.HTTPStatus.TOO_MANY_REQUESTS,),
            "respect_retry_after_header": True,
            "raise_on_status": False,
            "backoff_factor": 0.25,  # 0, 0.5 s, 1 s when the server names no Retry-After
        }
        if "retry_after_max" in inspect.signature(urllib3.Retry).parameters:  # urllib3 >= 2.6
            retry["retry_after_max"] = RETRY_AFTER_MAX
        self.retries = urllib3.Retry(**retry)

    def _headers(self, accept: str) -> dict[str, str]:
        headers = {"Accept": accept, "User-Agent": "iamscope"}
        # read per request: an exec plugin's token is refreshed through the configuration's hook
        for setting in (self.configuration.auth_settings() or {}).values():
            if setting.get("in") == "header" and setting.get("value"):
                headers[str(setting["key"])] = str(setting["value"])
        return headers

    def get(self, path: str, query: dict[str, str], accept: str) -> dict[str, Any]:
        url = f"{self.host}{path}?{urlencode(query)}"
        try:
            response = self.pool.request(
                "GET",
                url,
                headers=self._headers(accept),
                preload_content=False,
                timeout=self.urllib3_timeout,
                retries=self.retries,
                redirect=False,
            )
            self.answered = True
            try:
                status, raw = int(response.status), response.read()
            finally:
                response.release_conn()
        except (urllib3.exceptions.HTTPError, OSError) as error:
            reason = _transport_reason(error, self.connect_timeout, self.timeout, answered=self.answered)
            raise _Failure(reason) from None
        if status != 200:
            raise _Failure(_status_reason(status, raw), status)
        try:
            body = json.loads(raw)
        except (ValueError, RecursionError):
            raise _Failure("the response is not JSON", status) from None
        if not isinstance(body, dict) or not isinstance(body.get("items", []), list):
            raise _Failure("the response is not a list", status)
        return body


# --- listing -----------------------------------------------------------------------------------------


@dataclass(slots=True)
class _Listed:
    items: list[dict[str, Any]]
    pages: int
    response_kinds: set[str]
    failure: _Failure | None = None


def _list(api: _Api, resource: Resource, version: str, page_size: int, progress: Progress) -> _Listed:
    listed = _Listed(items=[], pages=0, response_kinds=set())
    accept = METADATA_LIST_ACCEPT if resource.metadata_only else JSON_ACCEPT
    token: str | None = None
    seen: set[str] = set()
    while True:
        query = {"limit": str(page_size)}
        if token:
            query["continue"] = token
        try:
            body = api.get(resource.path(version), query, accept)
        except _Failure as failure:
            listed.failure = failure
            return listed
        items = body.get("items") or []
        if not all(isinstance(item, dict) for item in items):
            listed.failure = _Failure("the response lists something that is not an object")
            return listed
        listed.items.extend(items)
        listed.pages += 1
        listed.response_kinds.add(str(body.get("kind")))
        progress.advance()
        meta = body.get("metadata")
        token = meta.get("continue") if isinstance(meta, dict) else None
        if not isinstance(token, str) or not token:
            return listed
        if token in seen:
            listed.failure = _Failure("the server repeated a continue token")
            return listed
        seen.add(token)


def _list_relisting(
    api: _Api, resource: Resource, version: str, page_size: int, progress: Progress
) -> tuple[_Listed, bool]:
    """A list; after a 410 Gone (the continue token expired) once more from the start."""
    listed = _list(api, resource, version, page_size, progress)
    if listed.failure is not None and listed.failure.status == http.HTTPStatus.GONE:
        return _list(api, resource, version, page_size, progress), True
    return listed, False


def _clean_metadata(value: Any, *, secret: bool) -> dict[str, Any]:
    meta = {k: v for k, v in value.items() if k != "managedFields"} if isinstance(value, dict) else {}
    annotations = meta.get("annotations")
    if secret and isinstance(annotations, dict) and LAST_APPLIED in annotations:
        # `kubectl apply` stores the whole applied Secret, data included, in this annotation
        meta["annotations"] = {k: v for k, v in annotations.items() if k != LAST_APPLIED}
    return meta


def _as_kubectl(item: dict[str, Any], resource: Resource, version: str) -> dict[str, Any]:
    """An item as kubectl prints it: apiVersion and kind set (list items of built-in kinds carry
    neither), managedFields dropped; a Secret as its metadata alone."""
    group_version = resource.group_version(version)
    if resource.metadata_only:
        return {
            "apiVersion": group_version,
            "kind": resource.kind,
            "metadata": _clean_metadata(item.get("metadata"), secret=True),
        }
    api_version, kind = item.get("apiVersion"), item.get("kind")
    out: dict[str, Any] = {
        "apiVersion": api_version if isinstance(api_version, str) and api_version else group_version,
        "kind": kind if isinstance(kind, str) and kind else resource.kind,
    }
    out.update((k, v) for k, v in item.items() if k not in ("apiVersion", "kind"))
    if "metadata" in item:
        out["metadata"] = _clean_metadata(item["metadata"], secret=False)
    return out


def _sort_key(item: dict[str, Any]) -> tuple[str, str]:
    meta = item.get("metadata")
    meta = meta if isinstance(meta, dict) else {}
    return (str(meta.get("namespace") or ""), str(meta.get("name") or meta.get("generateName") or ""))


def kube_list(items: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """The `kind: List` kubectl prints for `get -A -o json`, items sorted by namespace and name."""
    return {
        "apiVersion": "v1",
        "kind": "List",
        "metadata": {"resourceVersion": ""},
        "items": sorted(items, key=_sort_key),
    }


def _pages(n: int) -> str:
    return f"{n} page" if n == 1 else f"{n} pages"


def collect_kube(
    client: ApiClient,
    *,
    page_size: int = 500,
    progress: Progress = _SILENT,
    timeout: float = READ_TIMEOUT,
    connect_timeout: float = CONNECT_TIMEOUT,
) -> Collected:
    """List every kind the scan reads; `k8s/<plural>.json` per kind, one gap per kind not (fully)
    read, or a single gap when the API server cannot be reached or rejects the credentials.
    `timeout` bounds the wait for each answer, `connect_timeout` each connection and TLS handshake
    (seconds)."""
    if page_size < 1:
        raise UsageError(f"page size {page_size}: must be at least 1")
    if timeout <= 0 or connect_timeout <= 0:
        raise UsageError("the Kubernetes connect and read timeouts must be positive")
    api = _Api(client, timeout, connect_timeout)
    with _quiet_client_logs() as kept:
        return _collect(api, page_size, progress, kept)


def _stop_reason(resource: Resource, failure: _Failure, later: Sequence[Resource], kept: _Kept) -> str:
    """What a 401 or an unreachable server adds to its gap line: why nothing more was asked, and what."""
    rest = ", ".join(r.plural for r in later)
    if failure.status == http.HTTPStatus.UNAUTHORIZED:
        why = "the API server rejected the credentials (an expired token?)"
        failed = kept.client_errors()
        if failed:
            why += f"; the exec credential plugin failed: {failed[-1]}"
    else:
        why = ""  # the reason says so already: "cannot connect to the API server: ..."
    lead = f"; {why}, so" if why else "; so"
    if resource is RESOURCES[0]:
        return f"{lead} no kind was listed"
    return f"{lead} no later kind was listed ({rest})" if rest else (f"; {why}" if why else "")


def _collect(api: _Api, page_size: int, progress: Progress, kept: _Kept) -> Collected:
    files: dict[str, Any] = {}
    gaps: list[str] = []
    notes: list[str] = []
    for at, resource in enumerate(RESOURCES):
        first = resource.group_version(resource.versions[0])
        progress.step(f"k8s {resource.plural}")
        tried: list[str] = []
        for version in resource.versions:
            listed, relisted = _list_relisting(api, resource, version, page_size, progress)
            tried.append(resource.group_version(version))
            failure = listed.failure
            if failure is not None and failure.status == http.HTTPStatus.NOT_FOUND and not listed.pages:
                continue  # not served at this version; the next one, if any
            break
        else:
            if len(resource.versions) > 1:  # a CRD: not installed is an answer, not a gap
                notes.append(
                    f"no {resource.kind} CRD: the cluster serves neither {' nor '.join(tried)} "
                    f"(the Secrets Store CSI Driver is not installed), so there are no {resource.plural}"
                )
                files[resource.file] = kube_list([])
                continue
        gv = resource.group_version(version)
        if version != resource.versions[0]:
            notes.append(f"{resource.plural} read through {gv}: the cluster does not serve {first}")
        if listed.pages:
            files[resource.file] = kube_list([_as_kubectl(i, resource, version) for i in listed.items])
        if resource.metadata_only and listed.response_kinds - {"PartialObjectMetadataList"}:
            shown = ", ".join(sorted(listed.response_kinds - {"PartialObjectMetadataList"}))
            notes.append(
                f"list {resource.plural} ({gv}): the server ignored the metadata-only request and "
                f"answered {shown}; only the metadata was kept"
            )
        if failure is None:
            continue
        gap = f"list {resource.plural} ({gv}): {failure.reason}"
        if failure.status == http.HTTPStatus.GONE and relisted:
            gap += " (the list expired again after relisting from the start)"
        if listed.pages:
            gap += f" (after {_pages(listed.pages)}; the {len(listed.items)} items read are kept)"
        if failure.status == http.HTTPStatus.UNAUTHORIZED or failure.unreachable:
            # every later request would fail alike (and an unreachable server costs a timeout each)
            gaps.append(gap + _stop_reason(resource, failure, RESOURCES[at + 1 :], kept))
            break
        gaps.append(gap)
    return Collected(files=files, gaps=tuple(gaps), notes=tuple(notes))
