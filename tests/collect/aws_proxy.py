"""An HTTP proxy between botocore and moto, for what moto cannot do by itself:

- fault injection at the HTTP layer: `fault` may answer a request with an AWS error in the service's
  wire format, or drop the connection (nothing sent, or headers and a cut-off body);
- real pagination of IAM GetAccountAuthorizationDetails (`repage_iam`): moto answers in one page
  (DESIGN.md §6), so the proxy asks moto for everything once per listing and serves `MaxItems`-sized
  slices of the XML answer with `IsTruncated` and `Marker`, as IAM does.

Requests are recorded with the service, region (from the SigV4 credential scope) and operation
(X-Amz-Target for the JSON protocols, Action for the query protocol)."""

from __future__ import annotations

import http.client
import json
import re
import threading
import urllib.parse
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import ThreadingHTTPServer
from typing import Any

from tests.collect.http_base import QuietHandler

SCOPE = re.compile(r"Credential=[^/]+/\d{8}/([^/]+)/([^/]+)/aws4_request")
IAM_NS = "https://iam.amazonaws.com/doc/2010-05-08/"
AUTHORIZATION_LISTS = ("UserDetailList", "GroupDetailList", "RoleDetailList", "Policies")
HOP = {"connection", "keep-alive", "transfer-encoding", "content-length", "server", "date"}


@dataclass(frozen=True)
class Request:
    service: str
    region: str
    operation: str
    params: dict[str, Any]  # the JSON body, or the query protocol's form


@dataclass(frozen=True)
class Error:
    status: int
    code: str
    message: str


@dataclass(frozen=True)
class Drop:
    """Close the connection: with `partial`, after sending headers and the first bytes of a body."""

    partial: bool = False


Fault = Callable[[Request], "Error | Drop | None"]


def error_body(request: Request, error: Error) -> tuple[bytes, str]:
    """An AWS error in the protocol of the request's service."""
    if request.service in ("iam", "sts"):
        ns = IAM_NS if request.service == "iam" else "https://sts.amazonaws.com/doc/2011-06-15/"
        body = (
            f'<ErrorResponse xmlns="{ns}"><Error><Type>Sender</Type><Code>{error.code}</Code>'
            f"<Message>{error.message}</Message></Error><RequestId>standin</RequestId></ErrorResponse>"
        )
        return body.encode(), "text/xml"
    return json.dumps({"__type": error.code, "message": error.message}).encode(), "application/x-amz-json-1.1"


@dataclass
class AwsProxy:
    upstream: str
    fault: Fault | None = None
    repage_iam: bool = False
    seen: list[Request] = field(default_factory=list)
    url: str = ""
    _full: dict[str, list[tuple[str, ET.Element]]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def requests(self, operation: str, region: str | None = None) -> list[Request]:
        return [r for r in self.seen if r.operation == operation and (region is None or r.region == region)]

    def _forward(
        self, method: str, path: str, headers: dict[str, str], body: bytes
    ) -> tuple[int, list[tuple[str, str]], bytes]:
        target = urllib.parse.urlsplit(self.upstream)
        conn = http.client.HTTPConnection(target.hostname, target.port, timeout=30)
        try:
            conn.request(
                method,
                path,
                body=body,
                headers={k: v for k, v in headers.items() if k.lower() != "content-length"},
            )
            response = conn.getresponse()
            return response.status, response.getheaders(), response.read()
        finally:
            conn.close()

    def _authorization_page(self, path: str, headers: dict[str, str], form: dict[str, str]) -> bytes:
        """One MaxItems-sized page of moto's single-page GetAccountAuthorizationDetails answer."""
        size = int(form.get("MaxItems", "100"))
        marker = form.get("Marker")
        key = json.dumps({k: v for k, v in form.items() if k.startswith("Filter")}, sort_keys=True)
        with self._lock:
            if marker is None or key not in self._full:
                upstream = {k: v for k, v in form.items() if k not in ("MaxItems", "Marker")}
                status, _, body = self._forward(
                    "POST", path, headers, urllib.parse.urlencode(upstream).encode()
                )
                assert status == 200, body
                root = ET.fromstring(body)
                result = root.find(f"{{{IAM_NS}}}GetAccountAuthorizationDetailsResult")
                assert result is not None
                self._full[key] = [
                    (name, member)
                    for name in AUTHORIZATION_LISTS
                    for member in result.findall(f"{{{IAM_NS}}}{name}/{{{IAM_NS}}}member")
                ]
            everything = self._full[key]
        start = int(marker) if marker else 0
        page = everything[start : start + size]
        ET.register_namespace("", IAM_NS)
        response = ET.Element(f"{{{IAM_NS}}}GetAccountAuthorizationDetailsResponse")
        result = ET.SubElement(response, f"{{{IAM_NS}}}GetAccountAuthorizationDetailsResult")
        for name in AUTHORIZATION_LISTS:
            holder = ET.SubElement(result, f"{{{IAM_NS}}}{name}")
            holder.extend(member for list_name, member in page if list_name == name)
        more = start + size < len(everything)
        ET.SubElement(result, f"{{{IAM_NS}}}IsTruncated").text = "true" if more else "false"
        if more:
            ET.SubElement(result, f"{{{IAM_NS}}}Marker").text = str(start + size)
        metadata = ET.SubElement(response, f"{{{IAM_NS}}}ResponseMetadata")
        ET.SubElement(metadata, f"{{{IAM_NS}}}RequestId").text = "repaged"
        return ET.tostring(response, encoding="utf-8", xml_declaration=False)

    @contextmanager
    def running(self) -> Iterator[AwsProxy]:
        proxy = self

        class Handler(QuietHandler):
            def _send(self, status: int, headers: list[tuple[str, str]], body: bytes) -> None:
                self.send_response(status)
                for k, v in headers:
                    if k.lower() not in HOP:
                        self.send_header(k, v)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def _handle(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                headers = {k: v for k, v in self.headers.items() if k.lower() not in ("host", "connection")}
                scope = SCOPE.search(self.headers.get("Authorization", ""))
                region, service = (scope.group(1), scope.group(2)) if scope else ("?", "?")
                target = self.headers.get("X-Amz-Target")
                if target:
                    operation = target.rsplit(".", 1)[-1]
                    params: dict[str, Any] = json.loads(body or b"{}")
                else:
                    params = {k: v[-1] for k, v in urllib.parse.parse_qs(body.decode()).items()}
                    operation = str(params.get("Action", "?"))
                request = Request(service, region, operation, params)
                proxy.seen.append(request)
                outcome = proxy.fault(request) if proxy.fault else None
                if isinstance(outcome, Drop):
                    if outcome.partial:
                        self.send_response(200)
                        self.send_header("Content-Type", "application/x-amz-json-1.1")
                        self.send_header("Content-Length", "4096")
                        self.end_headers()
                        self.wfile.write(b'{"SecretList": [')
                        self.wfile.flush()
                    self.close_connection = True
                    return
                if isinstance(outcome, Error):
                    payload, content_type = error_body(request, outcome)
                    self._send(outcome.status, [("Content-Type", content_type)], payload)
                    return
                if proxy.repage_iam and service == "iam" and operation == "GetAccountAuthorizationDetails":
                    self._send(
                        200,
                        [("Content-Type", "text/xml")],
                        proxy._authorization_page(self.path, headers, params),
                    )
                    return
                status, upstream_headers, payload = proxy._forward(self.command, self.path, headers, body)
                self._send(status, upstream_headers, payload)

            do_GET = do_POST = do_PUT = do_DELETE = _handle

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
