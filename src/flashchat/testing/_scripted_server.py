"""The HTTP plumbing the fake servers share: a threaded server on 127.0.0.1 with a queue of scripted replies.

A fake subclasses ``ScriptedServer`` and says only what differs: its ``RecordedRequest`` class, how a request
is routed, the answer when routing itself fails, the echo it gives when nothing is scripted, and the path
clients put after host and port. Standard library only, so benchmarks can time a client against it alone.
"""

from __future__ import annotations

import contextlib
import json
import socket
import sys
import threading
import time
import traceback
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Generic, Self, TypeVar
from urllib.parse import parse_qsl, urlsplit


def load_recording(source: str | Path | dict[str, Any]) -> dict[str, Any]:
    """A recording from tests/wire, given as a path or already loaded."""
    return source if isinstance(source, dict) else json.loads(Path(source).read_text("utf-8"))


@dataclass
class ReceivedRequest:
    """One HTTP request as the fake received it (every route, including rejected ones)."""

    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: Any
    raw: bytes
    # time.monotonic() once the whole body was read, before the fake parses it (for bench/: "the request is here").
    received_at: float = 0.0


RequestT = TypeVar("RequestT", bound=ReceivedRequest)
ReplyT = TypeVar("ReplyT")


@dataclass
class Outgoing:
    """A response ready to write: one HTTP chunk per segment when streamed."""

    status: int
    content_type: str
    segments: list[bytes]
    streamed: bool = False
    headers: dict[str, str] = field(default_factory=dict)
    delay_s: float = 0.0
    first_delay_s: float = 0.0
    drop_after: int | None = None


@dataclass
class RawReply:
    """A reply either fake sends exactly as given, whatever the wire format: an HTML error page, a body that
    is not JSON, a redirect. (testing/hostile.py builds the hostile ones.)"""

    status: int
    body: bytes = b""
    content_type: str = "text/html; charset=UTF-8"
    headers: dict[str, str] = field(default_factory=dict)

    def outgoing(self) -> Outgoing:
        return Outgoing(self.status, self.content_type, [self.body], headers=dict(self.headers))


# A path both fakes answer with a redirect to itself, forever: a misconfigured gateway.
REDIRECT_LOOP_PATH = "/__redirect_loop"


class ScriptedServer(Generic[RequestT, ReplyT]):
    """Lifecycle, request log and reply queue of a fake. Use as a context manager or start()/stop().

    ``requests`` logs every request; ``server_errors`` collects the fake's own tracebacks (it never prints);
    ``stream_timings`` holds one list per streamed response: time.monotonic() after each segment was flushed
    (for bench/).
    """

    request_class: type[RequestT]
    url_suffix = ""
    thread_name: str

    def __init__(
        self, *, host: str, port: int, api_keys: Iterable[str], default_api_key: str, default_delay_s: float
    ) -> None:
        self.host, self.port = host, port
        self.api_keys: set[str] = set(api_keys)
        self.api_key = default_api_key if default_api_key in self.api_keys else next(iter(self.api_keys), "")
        self.default_delay_s = default_delay_s
        self.responder: Callable[[RequestT], ReplyT | None] | None = None
        self.requests: list[RequestT] = []
        self.server_errors: list[str] = []
        self.stream_timings: list[list[float]] = []
        self._queue: deque[ReplyT] = deque()
        self._lock = threading.Condition()
        self._stopping = threading.Event()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    # -- what a fake defines

    def _route(self, request: RequestT) -> Outgoing:
        raise NotImplementedError

    def _handler_failed(self) -> Outgoing:
        """The answer when ``_route`` raised (the traceback is already in ``server_errors``)."""
        raise NotImplementedError

    def _echo(self, request: RequestT) -> ReplyT:
        """The reply when nothing is queued and no responder answers."""
        raise NotImplementedError

    # -- lifecycle

    def start(self) -> Self:
        if self._server is None:
            self._stopping.clear()
            self._server = _Server((self.host, self.port), self)
            self.port = self._server.server_address[1]
            # A short poll interval keeps stop() fast: shutdown() waits for the loop to notice.
            serve = lambda server=self._server: server.serve_forever(poll_interval=0.02)  # noqa: E731
            self._thread = threading.Thread(target=serve, name=self.thread_name, daemon=True)
            self._thread.start()
        return self

    def stop(self) -> None:
        server, self._server = self._server, None
        if server is None:
            return
        self._stopping.set()
        server.shutdown()
        server.server_close()
        for connection in list(server.connections):
            with contextlib.suppress(OSError):  # wakes handlers blocked on idle keep-alive reads
                connection.shutdown(socket.SHUT_RDWR)
        if self._thread is not None:
            self._thread.join(timeout=2)

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def serve_until_interrupted(self) -> None:
        """Start, print the URL for a demo to use, and serve until Ctrl-C."""
        self.start()
        print(self.url, flush=True)
        try:
            threading.Event().wait()
        except KeyboardInterrupt:
            pass
        finally:
            self.stop()

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}{self.url_suffix}"

    # -- scripting and inspection

    def enqueue(self, *replies: ReplyT) -> None:
        with self._lock:
            self._queue.extend(replies)

    @property
    def queued(self) -> int:
        with self._lock:
            return len(self._queue)

    def wait_for_requests(self, count: int, timeout: float = 5.0) -> list[RequestT]:
        """Block until at least ``count`` requests (any route) arrived; TimeoutError otherwise."""
        with self._lock:
            if not self._lock.wait_for(lambda: len(self.requests) >= count, timeout):
                raise TimeoutError(f"expected {count} requests, got {len(self.requests)}")
            return list(self.requests)

    def _requests_where(self, keep: Callable[[RequestT], bool]) -> list[RequestT]:
        with self._lock:
            return [request for request in self.requests if keep(request)]

    def _record(self, request: RequestT) -> None:
        with self._lock:
            self.requests.append(request)
            self._lock.notify_all()

    def _next_reply(self, request: RequestT) -> ReplyT:
        with self._lock:
            if self._queue:
                return self._queue.popleft()
        if self.responder is not None and (reply := self.responder(request)) is not None:
            return reply
        return self._echo(request)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server  # pyright: ignore[reportIncompatibleVariableOverride] (the socketserver sets it to ours)

    # Google's front end answers with this Server header and the Vary below; OpenAI clients ignore both.
    def version_string(self) -> str:
        return "scaffolding on HTTPServer2"

    def log_message(self, format: str, *args: Any) -> None:
        pass  # a fake that prints would corrupt the TUI screenshots and test output

    def setup(self) -> None:
        super().setup()
        self.server.connections.add(self.connection)

    def finish(self) -> None:
        self.server.connections.discard(self.connection)
        with contextlib.suppress(ConnectionError):
            super().finish()

    def handle(self) -> None:
        # A client that goes away mid-stream is a test scenario, not a bug in the fake.
        with contextlib.suppress(ConnectionError):
            super().handle()

    def _serve(self) -> None:
        fake = self.server.fake
        split = urlsplit(self.path)
        raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))  # the clients never send chunked
        received_at = time.monotonic()
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            body = None
        request = fake.request_class(
            method=self.command,
            path=split.path,
            query=dict(parse_qsl(split.query, keep_blank_values=True)),
            headers={name.lower(): value for name, value in self.headers.items()},
            body=body,
            raw=raw,
            received_at=received_at,
        )
        fake._record(request)
        try:
            if split.path == REDIRECT_LOOP_PATH:
                outgoing = RawReply(302, headers={"Location": REDIRECT_LOOP_PATH}).outgoing()
            else:
                outgoing = fake._route(request)
        except Exception:
            fake.server_errors.append(traceback.format_exc())
            outgoing = fake._handler_failed()
        self._write(outgoing)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _serve

    def _pause(self, seconds: float) -> bool:
        """Sleep, but wake up when the fake stops. False means: stop writing."""
        return seconds <= 0 or not self.server.fake._stopping.wait(seconds)

    def _write(self, out: Outgoing) -> None:
        if not out.streamed and not self._pause(out.first_delay_s):
            self.close_connection = True
            return
        self.send_response(out.status)
        self.send_header("Content-Type", out.content_type)
        self.send_header("Vary", "Origin, X-Origin, Referer")
        for name, value in out.headers.items():
            self.send_header(name, value)
        if not out.streamed:
            body = b"".join(out.segments)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if out.drop_after is not None:
                self.wfile.write(body[: len(body) // 2])
                self.close_connection = True
            else:
                self.wfile.write(body)
            return
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        self.wfile.flush()
        sent_at: list[float] = []
        self.server.fake.stream_timings.append(sent_at)
        for index, segment in enumerate(out.segments):
            pause = out.first_delay_s if index == 0 else out.delay_s
            if (out.drop_after is not None and index >= out.drop_after) or not self._pause(pause):
                # No terminating zero-length chunk: the client sees an incomplete chunked body.
                self.close_connection = True
                return
            if segment:  # an empty HTTP chunk would end the body early
                self.wfile.write(b"%x\r\n%s\r\n" % (len(segment), segment))
                self.wfile.flush()
                sent_at.append(time.monotonic())
        if out.drop_after is not None:
            self.close_connection = True
            return
        self.wfile.write(b"0\r\n\r\n")
        self.wfile.flush()


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False

    def __init__(self, address: tuple[str, int], fake: ScriptedServer[Any, Any]) -> None:
        self.fake = fake
        self.connections: set[socket.socket] = set()
        super().__init__(address, _Handler)

    def handle_error(self, request: Any, client_address: Any) -> None:
        if not isinstance(sys.exc_info()[1], ConnectionError):
            self.fake.server_errors.append(traceback.format_exc())
