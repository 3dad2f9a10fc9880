"""Watching and steering botocore from the inside, for the AWS collector's tests:

- `Recorder` registers on a boto3 session's event system and records every API call with its
  parameters (`before-parameter-build`, once per call) and every HTTP attempt (`before-send`, once per retry too);
- `answer_with` registers a `before-send` handler that answers chosen requests itself with an
  `AWSResponse` in the service's wire format, so botocore's retry logic and parsers see a real
  HTTP answer (no request reaches the endpoint);
- `raise_in_call` registers a handler that raises as the call begins (before-parameter-build, where
  the API parameters are at hand), as a failure before sending would.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from botocore.awsrequest import AWSPreparedRequest, AWSResponse

SCOPE = re.compile(r"Credential=[^/]+/\d{8}/([^/]+)/([^/]+)/aws4_request")


@dataclass(frozen=True)
class Call:
    service: str  # the IAM prefix: secretsmanager, ssm, kms, eks, iam, sts
    operation: str
    region: str
    params: dict[str, Any]

    @property
    def name(self) -> str:
        return f"{self.service}:{self.operation}"


@dataclass
class Recorder:
    calls: list[Call] = field(default_factory=list)
    sends: list[tuple[str, str]] = field(
        default_factory=list
    )  # ("<service id>:<Operation>", region) per attempt
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def attach(self, session: Any) -> Recorder:
        # first: a fault handler registered earlier may raise, and the attempt still counts
        session.events.register_first("before-parameter-build", self._call)
        session.events.register_first("before-send", self._send)
        return self

    def _call(self, model: Any, params: Any, context: Any, **_: Any) -> None:
        call = Call(
            model.service_model.signing_name,
            model.name,
            str(context.get("client_region")),
            dict(params),
        )
        with self._lock:
            self.calls.append(call)

    def _send(self, request: AWSPreparedRequest, event_name: str, **_: Any) -> None:
        _, service_id, operation = event_name.split(".", 2)  # botocore's hyphenated service id
        with self._lock:
            self.sends.append((f"{service_id}:{operation}", request_region(request)))

    def names(self) -> set[str]:
        return {c.name for c in self.calls}

    def of(self, name: str, region: str | None = None) -> list[Call]:
        return [c for c in self.calls if c.name == name and (region is None or c.region == region)]


class _Raw:
    def __init__(self, body: bytes) -> None:
        self._body = body

    def stream(self, **_: Any) -> Iterator[bytes]:
        yield self._body


def request_region(request: AWSPreparedRequest) -> str:
    value = request.headers.get("Authorization", b"")
    text = value.decode() if isinstance(value, bytes) else str(value)
    scope = SCOPE.search(text)
    return scope.group(1) if scope else "?"


def request_params(request: AWSPreparedRequest) -> dict[str, Any]:
    body = request.body or b""
    text = body.decode() if isinstance(body, bytes) else str(body)
    if text.startswith("{"):
        return dict(json.loads(text))
    from urllib.parse import parse_qs

    return {k: v[-1] for k, v in parse_qs(text).items()}


def json_error(status: int, code: str, message: str) -> AWSResponse:
    body = json.dumps({"__type": code, "message": message}).encode()
    return AWSResponse(
        "https://stand-in/", status, {"Content-Type": "application/x-amz-json-1.1"}, _Raw(body)
    )


def query_error(
    status: int, code: str, message: str, namespace: str = "https://iam.amazonaws.com/doc/2010-05-08/"
) -> AWSResponse:
    body = (
        f'<ErrorResponse xmlns="{namespace}"><Error><Type>Sender</Type><Code>{code}</Code>'
        f"<Message>{message}</Message></Error><RequestId>stand-in</RequestId></ErrorResponse>"
    ).encode()
    return AWSResponse("https://stand-in/", status, {"Content-Type": "text/xml"}, _Raw(body))


def answer_with(session: Any, event: str, decide: Callable[[AWSPreparedRequest], AWSResponse | None]) -> None:
    """`event` like "secrets-manager.ListSecrets" (botocore's hyphenated service id)."""

    def handler(request: AWSPreparedRequest, **_: Any) -> AWSResponse | None:
        return decide(request)

    session.events.register(f"before-send.{event}", handler)


def raise_in_call(
    session: Any, event: str, decide: Callable[[dict[str, Any], str], Exception | None]
) -> None:
    """`decide(params, region)` returns the exception to raise before the request is sent, or None."""

    def handler(params: Any, context: Any, **_: Any) -> None:
        error = decide(dict(params), str(context.get("client_region")))
        if error is not None:
            raise error

    session.events.register(f"before-parameter-build.{event}", handler)


def fail_send(session: Any, event: str, decide: Callable[[AWSPreparedRequest], Exception | None]) -> None:
    """Raise from `before-send`, where botocore treats an HTTPClientError (a dropped connection, a
    read timeout) exactly as one from the wire: the retry handler sees it."""

    def handler(request: AWSPreparedRequest, event_name: str, **_: Any) -> None:
        error = decide(request) if event_name == f"before-send.{event}" else None
        if error is not None:
            raise error

    # on the general event, after the Recorder's (botocore runs the handlers of a specific event name
    # before those of its prefix, and a raising handler ends the chain)
    session.events.register("before-send", handler)
