"""A server that accepts TCP connections and never says a word: neither an HTTP answer nor its side of
a TLS handshake. What an endpoint behind a broken load balancer or a firewall that swallows traffic
looks like to a client, and what only timeouts end. Counts the connections it accepted."""

from __future__ import annotations

import contextlib
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager


class Silent:
    def __init__(self) -> None:
        self.connections = 0
        self._held: list[socket.socket] = []
        self._server = socket.socket()
        self._server.bind(("127.0.0.1", 0))
        self._server.listen(64)
        self.port = int(self._server.getsockname()[1])

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _accept(self) -> None:
        while True:
            try:
                connection, _ = self._server.accept()
            except OSError:
                return  # closed
            self.connections += 1
            self._held.append(connection)  # open, and silent

    @contextmanager
    def running(self) -> Iterator[Silent]:
        thread = threading.Thread(target=self._accept, daemon=True)
        thread.start()
        try:
            yield self
        finally:
            with contextlib.suppress(OSError):
                self._server.shutdown(socket.SHUT_RDWR)  # wakes the accept() under way
            self._server.close()
            for connection in self._held:
                connection.close()
            thread.join(timeout=5)
