"""A fault-injecting HTTP proxy on loopback, for S3 clients pointed at it by ``endpoint_url``.

It forwards every request to an upstream server (moto) and, for a configurable share of them,
answers like a struggling S3 instead: ``500 InternalError``, ``503 ServiceUnavailable``,
``503 SlowDown`` (with S3's XML error body), a connection dropped before the request reaches
the store, a connection dropped *after* the store did the work (the answer is lost: the case a
create-only PUT must survive), or a delay. Choices come from a seeded random generator, and
every request's fate is counted, so a test can show the faults really happened.

    with FaultProxy(moto.endpoint_url, share=0.3, seed=7) as proxy:
        settings = moto.settings(endpoint_url=proxy.endpoint_url)
"""

from __future__ import annotations

import http.client
import random
import socket
import struct
import threading
from collections import Counter
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from urllib.parse import urlsplit

# What the proxy can do to a request instead of (or besides) forwarding it.
FAULTS = ("internal_error", "unavailable", "slow_down", "drop_before", "drop_after", "delay")
_HOP_BY_HOP = {"connection", "keep-alive", "proxy-connection", "te", "trailer",
               "transfer-encoding", "upgrade"}
_ERRORS = {
    "internal_error": (500, "InternalError", "We encountered an internal error. Please try again."),
    "unavailable": (503, "ServiceUnavailable", "Service is unable to handle request."),
    "slow_down": (503, "SlowDown", "Please reduce your request rate."),
}
UPSTREAM_TIMEOUT_S = 60.0


@dataclass
class FaultProxy:
    """A threaded proxy to ``upstream`` on 127.0.0.1 that fails ``share`` of requests.

    ``faults`` picks which kinds are drawn (equally likely); ``delay_s`` is how long a
    ``delay`` fault holds a request before forwarding it. ``only_methods`` limits faults to
    those HTTP methods (all by default). ``counts`` holds how many requests met each fate
    (``forwarded`` included); ``log`` holds ``(method, path, status)`` of every answer the
    upstream gave, whether or not the client saw it.
    """

    upstream: str
    share: float = 0.3
    seed: int = 0
    faults: tuple[str, ...] = FAULTS
    delay_s: float = 1.0
    only_methods: frozenset[str] | None = None
    counts: Counter[str] = field(default_factory=Counter)
    log: list[tuple[str, str, int]] = field(default_factory=list)
    _server: ThreadingHTTPServer | None = field(default=None, repr=False)
    _thread: threading.Thread | None = field(default=None, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def __post_init__(self) -> None:
        unknown = set(self.faults) - set(FAULTS)
        if unknown:
            raise ValueError(f"unknown faults {sorted(unknown)}; choose from {FAULTS}")
        self._random = random.Random(self.seed)

    @property
    def endpoint_url(self) -> str:
        """``http://127.0.0.1:PORT`` of the proxy: give it to boto3 as ``endpoint_url``."""
        assert self._server is not None, "start the proxy first"
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def start(self) -> FaultProxy:
        """Listen on a free loopback port and serve in a thread."""
        proxy = self

        class Handler(_Handler):
            owner = proxy

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever,
                                        kwargs={"poll_interval": 0.1}, name="fault-proxy")
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and close the socket; requests in flight finish on their own."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=10)
        self._server, self._thread = None, None

    def __enter__(self) -> FaultProxy:
        return self.start()

    def __exit__(self, kind: type[BaseException] | None, value: BaseException | None,
                 traceback: TracebackType | None) -> None:
        self.stop()

    def draw(self, method: str) -> str | None:
        """The fault for the next request, or None to forward it untouched."""
        with self._lock:
            if self.only_methods is not None and method not in self.only_methods:
                return None
            if self._random.random() >= self.share:
                return None
            return self._random.choice(self.faults)

    def count(self, fate: str) -> None:
        with self._lock:
            self.counts[fate] += 1

    def record(self, method: str, path: str, status: int) -> None:
        with self._lock:
            self.log.append((method, path, status))


class _Handler(BaseHTTPRequestHandler):
    owner: FaultProxy
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: object) -> None:
        """Quiet: the counts say what happened."""

    def do_GET(self) -> None:
        self._handle()

    def do_PUT(self) -> None:
        self._handle()

    def do_POST(self) -> None:
        self._handle()

    def do_HEAD(self) -> None:
        self._handle()

    def do_DELETE(self) -> None:
        self._handle()

    def _handle(self) -> None:
        body = self._read_body()
        fault = self.owner.draw(self.command)
        self.owner.count(fault or "forwarded")
        if fault in _ERRORS:
            self._answer_error(*_ERRORS[fault])
            return
        if fault == "drop_before":
            self._drop()
            return
        if fault == "delay":
            threading.Event().wait(self.owner.delay_s)
        status, reason, headers, payload = self._forward(body)
        self.owner.record(self.command, self.path, status)
        if fault == "drop_after":
            self._drop()
            return
        self.send_response(status, reason)
        for name, value in headers:
            if name.lower() not in _HOP_BY_HOP and name.lower() != "content-length":
                self.send_header(name, value)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(payload)

    def _read_body(self) -> bytes:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            chunks: list[bytes] = []
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip(), 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass  # trailers
                    return b"".join(chunks)
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _forward(self, body: bytes) -> tuple[int, str, list[tuple[str, str]], bytes]:
        target = urlsplit(self.owner.upstream)
        connection = http.client.HTTPConnection(target.hostname or "127.0.0.1", target.port,
                                                timeout=UPSTREAM_TIMEOUT_S)
        try:
            headers = {name: value for name, value in self.headers.items()
                       if name.lower() not in _HOP_BY_HOP}
            if body or self.command in ("PUT", "POST"):
                headers["Content-Length"] = str(len(body))
            connection.request(self.command, self.path, body=body, headers=headers)
            response = connection.getresponse()
            payload = response.read()
            return response.status, response.reason, response.getheaders(), payload
        finally:
            connection.close()

    def _answer_error(self, status: int, code: str, message: str) -> None:
        payload = (f'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>{code}</Code>'
                   f"<Message>{message}</Message><RequestId>FAULTPROXY</RequestId></Error>"
                   ).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/xml")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(payload)

    def _drop(self) -> None:
        """Close the connection with no answer at all (RST, so the client fails at once)."""
        self.close_connection = True
        self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
