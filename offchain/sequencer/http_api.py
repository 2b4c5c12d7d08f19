"""A small, strict HTTP JSON API server (stdlib only) for the operator's services.

Every request gets a JSON answer: the handler's result with 200, or
``{"error": {"code": ..., "message": ...}}`` with a 4xx/5xx status -- also what the stdlib parser
refuses (unknown methods, malformed request lines, oversized headers). Bodies are bounded, must be
UTF-8 JSON objects, and a failing handler never takes the server down.

Against slow or hostile clients: a body is read exactly (Content-Length bytes, no more, no less;
chunked bodies are refused, so no request can be smuggled behind another), every socket read and
write times out (`timeout`, also for idle keep-alive connections), a whole request (request
line, headers and body, counted from the moment the server waits for it) must arrive within
`request_deadline` however it trickles (a byte every few seconds resets a socket timeout, never
this deadline), at most `max_connections` connections are served at once (the next ones get a
503 and are closed), and a client that goes away mid-answer is logged as one line, not a
traceback.
"""

from __future__ import annotations

import contextlib
import json
import logging
import re
import socket
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from offchain.errors import HttpApiError, L2KitError

log = logging.getLogger(__name__)

DEFAULT_MAX_BODY = 64 * 1024
#: Seconds a connection may stay silent (mid-request or idle between requests) before it is closed.
DEFAULT_TIMEOUT = 10.0
#: Connections served at once; each holds a thread.
DEFAULT_MAX_CONNECTIONS = 64
#: Seconds a whole request may take to arrive (request line, headers and body).
DEFAULT_REQUEST_DEADLINE = 15.0


class _Watchdog:
    """Closes connections whose current request is past its deadline (one thread for all)."""

    def __init__(self, period: float = 0.25) -> None:
        self._lock = threading.Lock()
        self._due: dict[socket.socket, float] = {}
        self._period = period
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="http-deadline", daemon=True)
            self._thread.start()

    def arm(self, conn: socket.socket, deadline: float) -> None:
        with self._lock:
            self._due[conn] = deadline

    def disarm(self, conn: socket.socket) -> None:
        with self._lock:
            self._due.pop(conn, None)

    def _run(self) -> None:
        while True:
            time.sleep(self._period)
            now = time.monotonic()
            with self._lock:
                late = [c for c, t in self._due.items() if t <= now]
                for c in late:
                    del self._due[c]
            for conn in late:
                log.info("closing a connection whose request did not arrive in time")
                # the handler's pending read returns at once; it answers nothing more
                with contextlib.suppress(OSError):
                    conn.shutdown(socket.SHUT_RDWR)


#: Machine-readable codes for the statuses the stdlib parser answers by itself.
_PARSER_CODES = {
    HTTPStatus.BAD_REQUEST: "bad_request",
    HTTPStatus.NOT_IMPLEMENTED: "method_not_supported",
    HTTPStatus.REQUEST_URI_TOO_LONG: "uri_too_long",
    HTTPStatus.REQUEST_HEADER_FIELDS_TOO_LARGE: "headers_too_large",
    HTTPStatus.HTTP_VERSION_NOT_SUPPORTED: "bad_http_version",
    HTTPStatus.EXPECTATION_FAILED: "expectation_failed",
}

Handler = Callable[[dict[str, str], dict[str, Any]], Any]


class ApiError(HttpApiError):
    """A request the API refuses, with the HTTP status and a machine-readable code."""


def bad_request(code: str, message: str) -> ApiError:
    return ApiError(HTTPStatus.BAD_REQUEST, code, message)


def not_found(code: str, message: str) -> ApiError:
    return ApiError(HTTPStatus.NOT_FOUND, code, message)


@dataclass(frozen=True)
class Route:
    """`pattern` is a regex over the path with named groups, e.g. r"/tx/(?P<hash>0x[0-9a-f]+)"."""

    method: str
    pattern: str
    handler: Handler


class JsonApiServer:
    """Serves `routes` on host:port in a background thread; `port=0` picks a free port."""

    def __init__(
        self,
        routes: list[Route],
        host: str = "127.0.0.1",
        port: int = 0,
        max_body: int = DEFAULT_MAX_BODY,
        timeout: float = DEFAULT_TIMEOUT,
        max_connections: int = DEFAULT_MAX_CONNECTIONS,
        request_deadline: float = DEFAULT_REQUEST_DEADLINE,
    ) -> None:
        self._routes = [(r.method, re.compile(r.pattern + r"\Z"), r.handler) for r in routes]
        self._max_body = max_body
        self._timeout = timeout
        self._request_deadline = request_deadline
        self._watchdog = _Watchdog()
        self._httpd = _BoundedServer((host, port), self._handler_class(), max_connections)
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        host, port = self._httpd.server_address[:2]
        if isinstance(host, bytes):  # typeshed allows bytes; a TCP server binds a str host
            host = host.decode()
        return f"http://{host}:{port}"

    def start(self) -> None:
        self._watchdog.start()
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)
        self._thread.start()

    def serve_forever(self) -> None:
        self._watchdog.start()
        self._httpd.serve_forever()

    def stop(self) -> None:
        if self._thread is not None:  # shutdown() would wait forever for a loop never started
            self._httpd.shutdown()
        self._httpd.server_close()
        if self._thread:
            self._thread.join(timeout=5)

    # -- request handling ------------------------------------------------------------------------

    def dispatch(self, method: str, path: str, raw_body: bytes | None) -> tuple[int, Any]:
        """Route one request; returns (status, JSON-able body). Never raises."""
        try:
            path = path.split("?", 1)[0]
            allowed = []
            for route_method, regex, handler in self._routes:
                match = regex.match(path)
                if not match:
                    continue
                if route_method != method:
                    allowed.append(route_method)
                    continue
                body = self._parse_body(raw_body) if method == "POST" else {}
                return HTTPStatus.OK, handler(match.groupdict(), body)
            if allowed:
                raise ApiError(
                    HTTPStatus.METHOD_NOT_ALLOWED,
                    "method_not_allowed",
                    f"{method} is not allowed on {path}: use {', '.join(sorted(set(allowed)))}",
                )
            raise not_found("no_such_endpoint", f"no endpoint {path}: see GET /status")
        except ApiError as exc:
            return exc.status, {"error": {"code": exc.code, "message": exc.message}}
        except L2KitError as exc:
            return HTTPStatus.BAD_REQUEST, {"error": {"code": "rejected", "message": str(exc)}}
        except Exception:
            log.exception("handler failed on %s %s", method, path)
            return HTTPStatus.INTERNAL_SERVER_ERROR, {
                "error": {"code": "internal", "message": "internal error: see the operator log"}
            }

    @staticmethod
    def _parse_body(raw: bytes | None) -> dict[str, Any]:
        if not raw:
            raise bad_request("empty_body", "the request needs a JSON object body")
        try:
            body = json.loads(raw.decode("utf-8"))
        except UnicodeDecodeError:
            raise bad_request("bad_encoding", "the body must be UTF-8 JSON") from None
        except json.JSONDecodeError as exc:
            raise bad_request(
                "bad_json", f"malformed JSON: {exc.msg} at position {exc.pos}"
            ) from None
        if not isinstance(body, dict):
            raise bad_request("bad_json", "the body must be a JSON object")
        return body

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class _Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            default_request_version = "HTTP/1.1"  # answer even garbage with status and headers
            disable_nagle_algorithm = True  # headers and body go out in separate writes
            timeout = server._timeout  # socket timeout for every read and write (setup())

            def log_message(self, fmt: str, *args: Any) -> None:
                log.debug("%s " + fmt, self.address_string(), *args)

            def handle_one_request(self) -> None:
                # One deadline for the whole request, however slowly its bytes trickle in;
                # disarmed once the body is read (answering is bounded by the socket timeout).
                server._watchdog.arm(self.connection, time.monotonic() + server._request_deadline)
                try:
                    super().handle_one_request()
                finally:
                    server._watchdog.disarm(self.connection)

            def _answer(self, status: int, body: Any, extra: dict[str, str] | None = None) -> None:
                data = json.dumps(body, separators=(",", ":")).encode()
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    for name, value in (extra or {}).items():
                        self.send_header(name, value)
                    if self.close_connection:
                        self.send_header("Connection", "close")
                    self.end_headers()
                    self.wfile.write(data)
                    self.wfile.flush()
                except OSError as exc:  # the client went away (reset, broken pipe, timeout)
                    self.close_connection = True
                    log.info("client %s left before its answer: %s", self.address_string(), exc)

            def send_error(self, code: int, message: str | None = None, explain=None) -> None:
                """The stdlib parser's refusals, as JSON (its default is an HTML page)."""
                status = HTTPStatus(code)
                self.close_connection = True
                text = message or status.phrase
                extra = {}
                if status is HTTPStatus.NOT_IMPLEMENTED:
                    text = f"method {self.command!r} is not supported: use GET or POST"
                    extra["Allow"] = "GET, POST"
                code_name = _PARSER_CODES.get(status, status.phrase.lower().replace(" ", "_"))
                self._answer(code, {"error": {"code": code_name, "message": text}}, extra)

            def _read_body(self) -> bytes | None:
                """Exactly Content-Length bytes (any method), or an ApiError saying why not."""
                if self.headers.get("Transfer-Encoding") is not None:
                    raise ApiError(
                        HTTPStatus.LENGTH_REQUIRED,
                        "length_required",
                        "send a Content-Length (chunked or encoded bodies are not accepted)",
                    )
                lengths = set(self.headers.get_all("Content-Length") or [])
                if not lengths:
                    return None
                if len(lengths) > 1:
                    raise bad_request("bad_length", "conflicting Content-Length headers")
                length = lengths.pop().strip()
                if not length.isdigit():
                    raise bad_request("bad_length", "Content-Length is not a non-negative number")
                size = int(length)
                if size > server._max_body:
                    raise ApiError(
                        HTTPStatus.REQUEST_ENTITY_TOO_LARGE,
                        "body_too_large",
                        f"the body is {size} bytes; the limit is {server._max_body}",
                    )
                try:
                    raw = self.rfile.read(size)
                except TimeoutError:
                    raise ApiError(
                        HTTPStatus.REQUEST_TIMEOUT,
                        "body_timeout",
                        f"the body stalled: send all {size} bytes within {server._timeout:g} s",
                    ) from None
                if len(raw) != size:
                    raise bad_request(
                        "short_body",
                        f"the body ended after {len(raw)} of the {size} bytes its "
                        "Content-Length announced: nothing was processed",
                    )
                return raw

            def _handle(self, method: str) -> None:
                try:
                    raw = self._read_body()
                    server._watchdog.disarm(self.connection)
                except ApiError as exc:
                    self.close_connection = True
                    self._answer(exc.status, {"error": {"code": exc.code, "message": exc.message}})
                    return
                self._answer(*server.dispatch(method, self.path, raw if method == "POST" else None))

            def do_GET(self) -> None:
                self._handle("GET")

            def do_POST(self) -> None:
                self._handle("POST")

        return _Handler


class _BoundedServer(ThreadingHTTPServer):
    """A thread per connection, at most `max_connections` at once; quiet about vanished clients."""

    daemon_threads = True
    block_on_close = False  # stop() must not wait for a stalled client's thread
    request_queue_size = 128  # accept a burst at once, so the excess is refused, not left queued

    def __init__(self, address, handler, max_connections: int) -> None:
        self._slots = threading.BoundedSemaphore(max_connections)
        super().__init__(address, handler)

    def process_request(self, request, client_address) -> None:
        if not self._slots.acquire(blocking=False):
            _refuse_busy(request)
            self.shutdown_request(request)
            return
        try:
            super().process_request(request, client_address)
        except BaseException:
            self._slots.release()
            raise

    def process_request_thread(self, request, client_address) -> None:
        try:
            super().process_request_thread(request, client_address)
        finally:
            self._slots.release()

    def handle_error(self, request, client_address) -> None:
        exc = sys.exc_info()[1]
        if isinstance(exc, OSError):  # reset, broken pipe, timeout: the client's doing
            log.info("connection from %s ended: %s", client_address[0], exc)
        else:
            log.exception("unexpected error serving %s", client_address[0])


def _refuse_busy(request: socket.socket) -> None:
    body = json.dumps(
        {"error": {"code": "busy", "message": "too many open connections: retry shortly"}}
    ).encode()
    head = (
        "HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\nRetry-After: 1\r\nConnection: close\r\n\r\n"
    ).encode()
    try:
        request.settimeout(0.5)
        request.sendall(head + body)
    except OSError:
        pass


# -- field validation shared by handlers --------------------------------------------------------


def field(body: dict[str, Any], name: str) -> Any:
    if name not in body:
        raise bad_request("missing_field", f"field {name!r} is required")
    return body[name]


def int_field(body: dict[str, Any], name: str, low: int, high: int) -> int:
    """An integer (JSON number or decimal/0x string) within [low, high]."""
    value = field(body, name)
    if isinstance(value, bool):
        raise bad_request("bad_type", f"{name!r} must be an integer, not a boolean")
    if isinstance(value, str):
        try:
            value = int(value, 0)
        except ValueError:
            raise bad_request("bad_type", f"{name!r} must be an integer, got {value!r}") from None
    if not isinstance(value, int):
        raise bad_request("bad_type", f"{name!r} must be an integer, got {type(value).__name__}")
    if not low <= value <= high:
        raise bad_request("out_of_range", f"{name!r} must be between {low} and {high}")
    return value


def hex_field(body: dict[str, Any], name: str, length: int | None = None) -> bytes:
    """A 0x-prefixed hex string, optionally of exactly `length` bytes."""
    value = field(body, name)
    if not isinstance(value, str) or not value.startswith("0x"):
        raise bad_request("bad_type", f"{name!r} must be a 0x-prefixed hex string")
    try:
        raw = bytes.fromhex(value[2:])
    except ValueError:
        raise bad_request("bad_hex", f"{name!r} is not valid hex") from None
    if length is not None and len(raw) != length:
        raise bad_request("bad_length", f"{name!r} must be {length} bytes, got {len(raw)}")
    return raw


def str_field(body: dict[str, Any], name: str, choices: tuple[str, ...]) -> str:
    value = field(body, name)
    if value not in choices:
        raise bad_request("bad_value", f"{name!r} must be one of {', '.join(choices)}")
    return str(value)
