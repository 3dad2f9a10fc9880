"""The request handler every local stand-in of the collector tests builds on: HTTP/1.1 keep-alive as
the real APIs speak it, no per-request log lines, and Nagle's algorithm off (headers and body leave in
two writes; with it on, the client's delayed ACK costs 40 ms a response)."""

from __future__ import annotations

from http.server import BaseHTTPRequestHandler
from typing import Any


class QuietHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True

    def log_message(self, format: str, *args: Any) -> None:
        return None
