"""A local stand-in for the three EKS operations iamscope collect calls, speaking their REST-JSON wire
format (botocore's eks service model, 2017-11-01), because moto 5.2.5 has no Pod Identity API
(DESIGN.md §6):

    GET /clusters/{name}                                      DescribeCluster
    GET /clusters/{name}/pod-identity-associations            ListPodIdentityAssociations
        ?maxResults=1..100&nextToken=…                        (pages really are split)
    GET /clusters/{name}/pod-identity-associations/{id}       DescribePodIdentityAssociation

Clusters live in a region (read from the request's SigV4 credential scope), so a cluster asked for in
the wrong region answers 404 ResourceNotFoundException as EKS does. Timestamps go over the wire as
epoch seconds, the protocol's default. Every request is recorded; `fault` may answer instead
(an error, or a connection dropped in the middle of a response)."""

from __future__ import annotations

import base64
import datetime as dt
import json
import re
import threading
import urllib.parse
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import ThreadingHTTPServer
from typing import Any

from tests.collect.http_base import QuietHandler

TIMESTAMPS = {"createdAt", "modifiedAt", "activationExpiry"}
SUMMARY = ("clusterName", "namespace", "serviceAccount", "associationArn", "associationId", "ownerArn")
SCOPE = re.compile(r"Credential=[^/]+/\d{8}/([^/]+)/([^/]+)/aws4_request")


@dataclass(frozen=True)
class Seen:
    region: str
    operation: str
    path: str
    query: dict[str, str]


@dataclass(frozen=True)
class Drop:
    """Close the connection after sending part of the response (headers and a few bytes)."""


@dataclass(frozen=True)
class Error:
    status: int
    code: str
    message: str


@dataclass(frozen=True)
class Reply:
    """Answer this instead (a well-formed response with a body of one's choosing)."""

    status: int
    body: dict[str, Any]


Fault = Callable[[Seen], "Drop | Error | Reply | None"]


def _wire(value: Any, key: str = "") -> Any:
    """CLI JSON (ISO timestamps) → the wire (epoch seconds)."""
    if isinstance(value, dict):
        return {k: _wire(v, k) for k, v in value.items()}
    if isinstance(value, list):
        return [_wire(v) for v in value]
    if key in TIMESTAMPS and isinstance(value, str):
        return dt.datetime.fromisoformat(value).timestamp()
    return value


@dataclass
class EksStandIn:
    clusters: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)
    associations: dict[tuple[str, str], list[dict[str, Any]]] = field(default_factory=dict)
    seen: list[Seen] = field(default_factory=list)
    fault: Fault | None = None
    url: str = ""

    def add_cluster(self, region: str, cluster: dict[str, Any]) -> None:
        self.clusters[(region, cluster["name"])] = _wire(cluster)

    def add_association(self, region: str, association: dict[str, Any]) -> None:
        key = (region, association["clusterName"])
        self.associations.setdefault(key, []).append(_wire(association))

    def operations(self, operation: str) -> list[Seen]:
        return [s for s in self.seen if s.operation == operation]

    # --- the wire ----------------------------------------------------------------------------------

    def answer(self, seen: Seen) -> tuple[int, dict[str, Any]] | Error:
        parts = [urllib.parse.unquote(p) for p in seen.path.strip("/").split("/")]
        name = parts[1]
        cluster = self.clusters.get((seen.region, name))
        if cluster is None:
            return Error(404, "ResourceNotFoundException", f"No cluster found for name: {name}.")
        if seen.operation == "DescribeCluster":
            return 200, {"cluster": cluster}
        everything = sorted(self.associations.get((seen.region, name), []), key=lambda a: a["associationArn"])
        if seen.operation == "ListPodIdentityAssociations":
            size = int(seen.query.get("maxResults", "100"))
            if not 1 <= size <= 100:
                return Error(400, "InvalidParameterException", "maxResults must be between 1 and 100")
            token = seen.query.get("nextToken")
            start = int(base64.b64decode(token).decode()) if token else 0
            page = everything[start : start + size]
            body: dict[str, Any] = {"associations": [{k: a[k] for k in SUMMARY if k in a} for a in page]}
            if start + size < len(everything):
                body["nextToken"] = base64.b64encode(str(start + size).encode()).decode()
            return 200, body
        wanted = parts[3]
        for association in everything:
            if association["associationId"] == wanted:
                return 200, {"association": association}
        return Error(404, "ResourceNotFoundException", f"Pod identity association {wanted} not found.")

    @contextmanager
    def running(self) -> Iterator[EksStandIn]:
        standin = self

        class Handler(QuietHandler):
            def do_GET(self) -> None:
                url = urllib.parse.urlsplit(self.path)
                scope = SCOPE.search(self.headers.get("Authorization", ""))
                region = scope.group(1) if scope else "?"
                segments = url.path.strip("/").split("/")
                operation = {
                    2: "DescribeCluster",
                    3: "ListPodIdentityAssociations",
                    4: "DescribePodIdentityAssociation",
                }.get(len(segments), "Unknown")
                if segments[0] != "clusters" or (
                    len(segments) > 2 and segments[2] != "pod-identity-associations"
                ):
                    operation = "Unknown"
                query = {k: v[-1] for k, v in urllib.parse.parse_qs(url.query).items()}
                seen = Seen(region, operation, url.path, query)
                standin.seen.append(seen)
                outcome = standin.fault(seen) if standin.fault else None
                if outcome is None:
                    outcome = (
                        standin.answer(seen)
                        if operation != "Unknown"
                        else Error(404, "UnknownOperationException", f"no route for {url.path}")
                    )
                if isinstance(outcome, Drop):
                    body = json.dumps({"cluster": {"name": "x" * 200}}).encode()
                    self.send_response(200)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body[:20])
                    self.wfile.flush()
                    self.close_connection = True
                    return
                if isinstance(outcome, Reply):
                    outcome = (outcome.status, outcome.body)
                if isinstance(outcome, Error):
                    status, headers = outcome.status, {"x-amzn-ErrorType": outcome.code}
                    payload: dict[str, Any] = {"message": outcome.message}
                else:
                    status, payload = outcome
                    headers = {}
                body = json.dumps(payload).encode()
                self.send_response(status)
                for k, v in {"Content-Type": "application/json", **headers}.items():
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        server.daemon_threads = True
        thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        thread.start()
        self.url = f"http://127.0.0.1:{server.server_address[1]}"
        try:
            yield self
        finally:
            server.shutdown()
            server.server_close()
            thread.join(timeout=5)
