"""The operator's async HTTP front (aiohttp): transactions through the group-commit intake,
queries through blocking route handlers in a thread pool, health, readiness and metrics.

Endpoints added to the service's own routes (`Route(method, pattern, handler(params, body))`,
the style of offchain/sequencer/http_api.py, run in a thread pool):

POST /tx       one transaction body; its answer once durable (`Intake.submit`)
POST /txs      {"txs": [body, ...]} (at most `max_batch_txs`): {"results": [answer |
               {"error": {...}}, ...]} in order, status 200 even if some were refused
GET  /health   the process and its loop are alive (200)
GET  /ready    200 {"ready": true} or 503 with the reason (recovered, not frozen, L1 answers)
GET  /metrics  Prometheus text format

The hardening guarantees of the stdlib server are kept (tests/operator/test_http_front.py):
every answer, including the parser's refusals, is JSON `{"error": {"code", "message"}}`; a body
is read exactly (Content-Length bytes; chunked bodies refused with 411, so nothing can be
smuggled behind a request); a body over `max_body` is refused before it is read; a stalled body
gets 408; a whole request must arrive within `request_deadline` however slowly it trickles; an
idle connection is closed after `timeout`; at most `max_connections` connections are served at
once (the next get 503 `busy` and are closed); a client leaving mid-answer is a debug line.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import re
import threading
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any, Protocol

import orjson
from aiohttp import web
from aiohttp.http_exceptions import (
    BadHttpMethod,
    BadStatusLine,
    ContentLengthError,
    HttpProcessingError,
    LineTooLong,
)
from aiohttp.web_protocol import RequestHandler
from aiohttp.web_request import BaseRequest
from aiohttp.web_server import Server
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest

from offchain.errors import L2KitError
from offchain.sequencer.config import SequencerConfig
from offchain.sequencer.http_api import ApiError, Route, bad_request
from offchain.sequencer.intake import Busy, Intake, IntakeLimits, error_of
from offchain.sequencer.metrics import HttpMetrics, IntakeMetrics, sequencer_registry

log = logging.getLogger("l2kit.http")


@dataclass(frozen=True)
class HttpLimits:
    #: Largest request body (bytes); POST /txs bodies are bounded by it too.
    max_body: int = 1024 * 1024
    #: Seconds a connection may stay silent (idle between requests, or a stalled body).
    timeout: float = 10.0
    #: Seconds a whole request (request line, headers, body) may take to arrive.
    request_deadline: float = 15.0
    #: Connections served at once.
    max_connections: int = 512
    #: Transactions in one POST /txs.
    max_batch_txs: int = 1024


class Probes(Protocol):
    """What the front asks the service (shared interface 3 of issue #10)."""

    def health(self) -> dict[str, Any]: ...

    def ready(self) -> tuple[bool, str]: ...


# -- the guarded protocol: connection bound, request deadline, JSON parser errors --------------


class _Guard:
    def __init__(self, limits: HttpLimits) -> None:
        self.limits = limits
        self.open = 0


def _busy_bytes() -> bytes:
    body = orjson.dumps(
        {"error": {"code": "busy", "message": "too many open connections: retry shortly"}}
    )
    head = (
        "HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\nRetry-After: 1\r\nConnection: close\r\n\r\n"
    )
    return head.encode() + body


_BUSY = _busy_bytes()


def _parser_error(exc: BaseException | None, status: int) -> tuple[int, str, str, dict[str, str]]:
    """(status, code, message, extra headers) for what aiohttp's parser or loop refused."""
    text = str(getattr(exc, "message", "") or exc or HTTPStatus(status).phrase)
    low = text.lower()
    if isinstance(exc, BadHttpMethod):
        return (
            501,
            "method_not_supported",
            "the method is not supported: use GET or POST",
            {"Allow": "GET, POST"},
        )
    if isinstance(exc, LineTooLong):  # the line it quotes starts with a method: the request line
        if re.search(r"reading:? (bytearray\()?b'([A-Z]+ )?/", text) or "status line" in low:
            return 414, "uri_too_long", "request line too long", {}
        return 431, "headers_too_large", "request headers too large", {}
    if "transfer-encoding" in low or "chunked" in low:
        return 411, "length_required", "send a Content-Length (no chunked bodies)", {}
    if "content-length" in low:
        return 400, "bad_length", f"bad Content-Length: {text}", {}
    if isinstance(exc, BadStatusLine) and "version" in low:
        return 505, "bad_http_version", "use HTTP/1.0 or HTTP/1.1", {}
    if status == 504:
        return 504, "timeout", "the request took too long", {}
    if status >= 500:
        return status, "internal", "internal error: see the operator log", {}
    return 400, "bad_request", f"malformed request: {text}", {}


class _GuardedHandler(RequestHandler):
    """aiohttp's connection protocol with the server's connection bound and request deadline."""

    def __init__(self, manager: Server, guard: _Guard, **kwargs: Any) -> None:
        super().__init__(manager, **kwargs)
        self._guard = guard
        self._refused = False
        self._peer_eof = False
        self._last_payload: Any = None
        self._deadline: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        if self._guard.open >= self._guard.limits.max_connections:
            self._refused = True
            assert isinstance(transport, asyncio.Transport)
            transport.write(_BUSY)
            transport.close()
            return
        self._guard.open += 1
        super().connection_made(transport)
        self.arm_deadline()

    def connection_lost(self, exc: BaseException | None) -> None:
        if self._refused:
            return
        self._guard.open -= 1
        self.disarm_deadline()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        if self._refused:
            return
        super().data_received(data)
        if self._messages:  # the body of the newest request, to fail if the client half-closes
            self._last_payload = self._messages[-1][1]

    def eof_received(self) -> bool | None:  # type: ignore[override]
        """The client half-closed: an incomplete body fails (answered `short_body`), a complete
        request is still answered, then the connection closes; an idle one closes at once."""
        if self._refused:
            return None
        self._peer_eof = True
        payload = self._last_payload
        if payload is not None and not payload.is_eof():
            payload.set_exception(
                ContentLengthError("the client closed before the whole body arrived")
            )
        waiting = self._waiter is not None and not self._waiter.done()
        idle = (waiting or self._last_payload is None) and not self._messages
        return None if idle and not self._request_in_progress else True

    def arm_deadline(self) -> None:
        self.disarm_deadline()
        self._deadline = self._loop.call_later(
            self._guard.limits.request_deadline, self._deadline_passed
        )

    def disarm_deadline(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None

    def _deadline_passed(self) -> None:
        self._deadline = None
        log.info("closing a connection whose request did not arrive in time")
        self.force_close()

    async def finish_response(
        self, request: BaseRequest, resp: web.StreamResponse, start_time: float | None
    ) -> tuple[web.StreamResponse, bool]:
        if self._peer_eof and not self._messages:  # answered the last request of a closed peer
            resp.force_close()
        out = await super().finish_response(request, resp, start_time)
        if not self._force_close and not self._close:
            self.arm_deadline()  # the next request's deadline counts from now
        return out

    def handle_error(
        self,
        request: BaseRequest,
        status: int = 500,
        exc: BaseException | None = None,
        message: str | None = None,
    ) -> web.StreamResponse:
        if request.writer.output_size > 0:
            raise ConnectionError("an answer was already started: cannot send another")
        status, code, text, extra = _parser_error(exc, status)
        if status >= 500 and exc is not None and not isinstance(exc, HttpProcessingError):
            log.error("request failed", exc_info=exc)
        else:
            log.info("refused a malformed request: %s (%s)", code, exc)
        resp = _json_response(status, {"error": {"code": code, "message": text}}, extra)
        resp.force_close()
        return resp


class _GuardedServer(Server):
    def __init__(self, *args: Any, guard: _Guard, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._guard = guard

    def __call__(self) -> RequestHandler:
        return _GuardedHandler(self, self._guard, loop=self._loop, **self._kwargs)


class _Runner(web.AppRunner):
    def __init__(self, app: web.Application, limits: HttpLimits) -> None:
        super().__init__(
            app,
            handle_signals=False,
            access_log=None,
            keepalive_timeout=limits.timeout,
            lingering_time=0,  # an unread body is not drained: the connection is closed
        )
        self._guard = _Guard(limits)

    async def _make_server(self) -> Server:
        loop = asyncio.get_running_loop()
        self._app._set_loop(loop)
        self._app.on_startup.freeze()
        await self._app.startup()
        self._app.freeze()
        return _GuardedServer(
            self._app._handle,
            request_factory=self._app._make_request,
            loop=loop,
            guard=self._guard,
            **self._kwargs,
        )


# -- JSON -------------------------------------------------------------------------------------


def _dumps(body: Any) -> bytes:
    try:
        return orjson.dumps(body)
    except TypeError:  # an int beyond 64 bits: the stdlib encoder handles it
        return json.dumps(body, separators=(",", ":")).encode()


def _json_response(
    status: int, body: Any, headers: Mapping[str, str] | None = None
) -> web.Response:
    return web.Response(
        status=status, body=_dumps(body), content_type="application/json", headers=headers
    )


def _error_response(exc: ApiError) -> web.Response:
    headers = {"Retry-After": str(exc.retry_after)} if isinstance(exc, Busy) else None
    return _json_response(exc.status, _error_json(exc), headers)


def _error_json(exc: ApiError) -> dict[str, Any]:
    return {"error": {"code": exc.code, "message": exc.message}}


_ROUTE = web.RequestKey("route", str)
#: Bodies up to this size are parsed on the event loop (microseconds); larger ones in a thread.
_PARSE_INLINE_MAX = 64 * 1024
_LONG_NUMBER = re.compile(rb"[0-9]{19}")


def parse_body(raw: bytes) -> dict[str, Any]:
    """A JSON object body, or the ApiError saying what is wrong with it."""
    if not raw:
        raise bad_request("empty_body", "the request needs a JSON object body")
    try:
        if _LONG_NUMBER.search(raw):  # orjson reads integers beyond 64 bits as floats
            raise orjson.JSONDecodeError("long number", "", 0)
        body = orjson.loads(raw)
    except orjson.JSONDecodeError:
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            raise bad_request("bad_encoding", "the body must be UTF-8 JSON") from None
        try:  # the stdlib parser: exact big integers, and its error messages
            body = json.loads(text)
        except json.JSONDecodeError as exc:
            raise bad_request(
                "bad_json", f"malformed JSON: {exc.msg} at position {exc.pos}"
            ) from None
    if not isinstance(body, dict):
        raise bad_request("bad_json", "the body must be a JSON object")
    return body


# -- the application --------------------------------------------------------------------------

AsyncHandler = Callable[[web.Request, dict[str, str], bytes | None], Awaitable[web.StreamResponse]]


class HttpFront:
    """The routes, the intake and the probes as one aiohttp application."""

    def __init__(
        self,
        routes: Sequence[Route] = (),
        intake: Intake | None = None,
        probes: Probes | None = None,
        registry: CollectorRegistry | None = None,
        limits: HttpLimits | None = None,
        query_workers: int = 4,
    ) -> None:
        self.limits = limits or HttpLimits()
        self.intake = intake
        self.probes = probes
        self.registry = registry
        self._http_metrics = HttpMetrics(registry) if registry is not None else None
        self._intake_metrics = IntakeMetrics(registry) if registry is not None else None
        self.queries = ThreadPoolExecutor(max_workers=query_workers, thread_name_prefix="query")
        if intake is not None and self._intake_metrics is not None and intake.on_group is None:
            intake.on_group = self.on_group
        builtin: list[tuple[str, str, AsyncHandler]] = [
            ("GET", "/health", self._health),
            ("GET", "/ready", self._ready),
        ]
        if registry is not None:
            builtin.append(("GET", "/metrics", self._metrics))
        if intake is not None:
            builtin += [("POST", "/tx", self._tx), ("POST", "/txs", self._txs)]
        self._table: list[tuple[str, str, re.Pattern[str], AsyncHandler]] = [
            (m, p, re.compile(re.escape(p) + r"\Z"), h) for m, p, h in builtin
        ]
        for route in routes:  # after the built-ins: the intake's POST /tx wins
            self._table.append(
                (route.method, route.pattern, re.compile(route.pattern + r"\Z"), self._sync(route))
            )

    def app(self) -> web.Application:
        app = web.Application(client_max_size=self.limits.max_body)
        app.router.add_route("*", "/{tail:.*}", self._handle)
        return app

    # -- dispatch ---------------------------------------------------------------------------------

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        started = time.perf_counter()
        try:
            raw = await self._read_exactly(request)
            resp = await self._dispatch(request, raw)
        except ApiError as exc:
            resp = _error_response(exc)
            if exc.status in (400, 408, 411, 413, 501):
                resp.force_close()  # the body may be unread or partial: never parse past it
        except Exception:
            log.exception("handler failed on %s %s", request.method, request.path)
            resp = _json_response(
                500, {"error": {"code": "internal", "message": "internal error: see the log"}}
            )
        if self._http_metrics is not None:
            label = request.get(_ROUTE, "unmatched")
            self._http_metrics.observe(label, resp.status, time.perf_counter() - started)
        return resp

    async def _read_exactly(self, request: web.Request) -> bytes | None:
        """Exactly Content-Length bytes of body (any method), or an ApiError saying why not."""
        protocol = request.protocol
        if request.method not in ("GET", "POST"):
            if isinstance(protocol, _GuardedHandler):
                protocol.disarm_deadline()
            raise _NotSupported(request.method)
        if "Transfer-Encoding" in request.headers:
            raise ApiError(
                HTTPStatus.LENGTH_REQUIRED,
                "length_required",
                "send a Content-Length (chunked or encoded bodies are not accepted)",
            )
        size = request.content_length
        raw: bytes | None = None
        if size is not None:
            if size > self.limits.max_body:
                raise ApiError(
                    HTTPStatus.REQUEST_ENTITY_TOO_LARGE,
                    "body_too_large",
                    f"the body is {size} bytes; the limit is {self.limits.max_body}",
                )
            try:
                if request.content.is_eof():  # the whole body is buffered: no timer needed
                    raw = await request.read()
                else:
                    raw = await asyncio.wait_for(request.read(), self.limits.timeout)
            except TimeoutError:
                raise ApiError(
                    HTTPStatus.REQUEST_TIMEOUT,
                    "body_timeout",
                    f"the body stalled: send all {size} bytes within {self.limits.timeout:g} s",
                ) from None
            except (ContentLengthError, web.HTTPException, ConnectionError, HttpProcessingError):
                raise bad_request(
                    "short_body",
                    f"the body ended before the {size} bytes its Content-Length announced: "
                    "nothing was processed",
                ) from None
            except Exception as exc:  # aiohttp wraps payload errors in its own types
                if "ContentLength" in type(exc).__name__ or "Payload" in type(exc).__name__:
                    raise bad_request(
                        "short_body",
                        f"the body ended before the {size} bytes its Content-Length "
                        "announced: nothing was processed",
                    ) from None
                raise
        if isinstance(protocol, _GuardedHandler):
            protocol.disarm_deadline()
        return raw

    async def _dispatch(self, request: web.Request, raw: bytes | None) -> web.StreamResponse:
        path = request.path
        allowed: list[str] = []
        for method, label, regex, handler in self._table:
            match = regex.match(path)
            if not match:
                continue
            if method != request.method:
                allowed.append(method)
                continue
            request[_ROUTE] = label  # the metrics' label: the pattern, never the raw path
            return await handler(request, match.groupdict(), raw)
        if allowed:
            raise ApiError(
                HTTPStatus.METHOD_NOT_ALLOWED,
                "method_not_allowed",
                f"{request.method} is not allowed on {path}: use {', '.join(sorted(set(allowed)))}",
            )
        raise ApiError(HTTPStatus.NOT_FOUND, "no_such_endpoint", f"no endpoint {path}")

    async def _parse(self, raw: bytes | None) -> dict[str, Any]:
        """The JSON body; a large one is parsed in the thread pool, never stalling the loop."""
        if raw is not None and len(raw) > _PARSE_INLINE_MAX:
            return await asyncio.get_running_loop().run_in_executor(self.queries, parse_body, raw)
        return parse_body(raw or b"")

    def _sync(self, route: Route) -> AsyncHandler:
        async def run(
            request: web.Request, params: dict[str, str], raw: bytes | None
        ) -> web.StreamResponse:
            body = await self._parse(raw) if route.method == "POST" else {}
            loop = asyncio.get_running_loop()
            try:
                result = await loop.run_in_executor(self.queries, route.handler, params, body)
            except ApiError:
                raise
            except L2KitError as exc:
                raise error_of(exc) from None
            return _json_response(200, result)

        return run

    # -- built-in endpoints -----------------------------------------------------------------------

    async def _tx(
        self, _request: web.Request, _params: dict[str, str], raw: bytes | None
    ) -> web.StreamResponse:
        assert self.intake is not None
        body = await self._parse(raw)
        try:
            answer = await self.intake.submit(body)
        except ApiError as exc:
            self._count(exc.code)
            raise
        self._count(None)
        return _json_response(200, answer)

    async def _txs(
        self, _request: web.Request, _params: dict[str, str], raw: bytes | None
    ) -> web.StreamResponse:
        assert self.intake is not None
        body = await self._parse(raw)
        txs = body.get("txs")
        if not isinstance(txs, list) or not txs:
            raise bad_request("bad_type", "'txs' must be a non-empty list of transaction objects")
        if len(txs) > self.limits.max_batch_txs:
            raise bad_request(
                "too_many_txs",
                f"{len(txs)} transactions in one request; the limit is {self.limits.max_batch_txs}",
            )
        objects = [t for t in txs if isinstance(t, dict)]
        outcomes = iter(await self.intake.submit_many(objects) if objects else [])
        results: list[dict[str, Any]] = []
        for t in txs:
            if not isinstance(t, dict):
                results.append(
                    {"error": {"code": "bad_json", "message": "each tx must be a JSON object"}}
                )
                self._count("bad_json")
                continue
            out = next(outcomes)
            if isinstance(out, ApiError):
                results.append(_error_json(out))
                self._count(out.code)
            else:
                results.append(out)
                self._count(None)
        return _json_response(200, {"results": results})

    def _count(self, code: str | None) -> None:
        if self._intake_metrics is not None:
            self._intake_metrics.outcome(code)

    async def _health(
        self, _request: web.Request, _params: dict[str, str], _raw: bytes | None
    ) -> web.StreamResponse:
        if self.probes is None:
            return _json_response(200, {"alive": True})
        loop = asyncio.get_running_loop()
        return _json_response(200, await loop.run_in_executor(self.queries, self.probes.health))

    async def _ready(
        self, _request: web.Request, _params: dict[str, str], _raw: bytes | None
    ) -> web.StreamResponse:
        if self.probes is None:
            return _json_response(200, {"ready": True, "reason": "no readiness probe"})
        loop = asyncio.get_running_loop()
        ok, reason = await loop.run_in_executor(self.queries, self.probes.ready)
        if ok:
            return _json_response(200, {"ready": True, "reason": reason})
        return _json_response(
            503,
            {"ready": False, "reason": reason, "error": {"code": "not_ready", "message": reason}},
        )

    async def _metrics(
        self, _request: web.Request, _params: dict[str, str], _raw: bytes | None
    ) -> web.StreamResponse:
        assert self.registry is not None
        if self._intake_metrics is not None and self.intake is not None:
            self._intake_metrics.queued.set(self.intake.queued)
        loop = asyncio.get_running_loop()
        text = await loop.run_in_executor(self.queries, generate_latest, self.registry)
        resp = web.Response(body=text)
        resp.headers["Content-Type"] = CONTENT_TYPE_LATEST
        return resp

    def on_group(self, size: int, seconds: float) -> None:
        """Pass as the Intake's `on_group` to record group sizes (metrics)."""
        if self._intake_metrics is not None:
            self._intake_metrics.on_group(size, seconds)


class _NotSupported(ApiError):
    def __init__(self, method: str) -> None:
        super().__init__(
            HTTPStatus.NOT_IMPLEMENTED,
            "method_not_supported",
            f"method {method!r} is not supported: use GET or POST",
        )


# -- running it -------------------------------------------------------------------------------


class HttpServer:
    """Serves an `HttpFront` on host:port from its own event loop thread (`port=0`: any free
    port); `start()` / `stop()` / `url` like offchain/sequencer/http_api.JsonApiServer."""

    def __init__(self, front: HttpFront, host: str = "127.0.0.1", port: int = 0) -> None:
        self.front = front
        self._host = host
        self._port = port
        self._loop = asyncio.new_event_loop()
        self._runner: _Runner | None = None
        self._thread: threading.Thread | None = None
        self._bound: tuple[str, int] | None = None

    @property
    def url(self) -> str:
        if self._bound is None:
            raise RuntimeError("the server is not started")
        return f"http://{self._bound[0]}:{self._bound[1]}"

    async def _start(self) -> None:
        self._runner = _Runner(self.front.app(), self.front.limits)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self._host, self._port, backlog=1024, reuse_address=True)
        await site.start()
        server = site._server
        assert isinstance(server, asyncio.base_events.Server) and server.sockets
        self._bound = server.sockets[0].getsockname()[:2]

    def start(self) -> None:
        """Bind (raising OSError if the address is taken) and serve in a background thread."""
        self._loop.run_until_complete(self._start())
        self._thread = threading.Thread(target=self._loop.run_forever, name="http", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        if self._thread is None:
            self._loop.close()
            return
        runner = self._runner

        async def _stop() -> None:
            if runner is not None:
                await runner.cleanup()

        with contextlib.suppress(Exception):
            asyncio.run_coroutine_threadsafe(_stop(), self._loop).result(timeout=10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)
        self._thread = None
        self._loop.close()
        self.front.queries.shutdown(wait=False, cancel_futures=True)

    def close(self) -> None:
        """Stop serving, then stop the intake (what every accepted transaction waited for)."""
        self.stop()
        if self.front.intake is not None:
            self.front.intake.stop()


class Service(Probes, Protocol):
    """What `serve` mounts: the core's `Sequencer` (admission, probes and status)."""

    def prepare(self, body: Mapping[str, Any]) -> Any: ...

    def admit_many(self, prepared: Sequence[Any]) -> list[Any]: ...

    def status(self) -> dict[str, Any]: ...


def serve(config: SequencerConfig, service: Service, routes: Sequence[Route]) -> HttpServer:
    """The front of `service` as `config` says (limits, intake, metrics), bound and serving;
    `server.close()` to end (stops serving, then the intake). Raises OSError if the address is
    taken."""
    intake = Intake(
        service,
        IntakeLimits(
            max_queue=config.intake_max_queue,
            max_group=config.intake_max_group,
            linger=config.intake_linger_ms / 1000,
            prepare_workers=config.prepare_workers,
        ),
    )
    registry = sequencer_registry(service.status) if config.metrics else None
    limits = HttpLimits(
        max_body=config.http_max_body,
        timeout=config.http_timeout,
        request_deadline=config.http_request_deadline,
        max_connections=config.http_max_connections,
        max_batch_txs=config.http_max_batch_txs,
    )
    front = HttpFront(routes, intake, service, registry, limits)
    intake.start()
    server = HttpServer(front, config.host, config.port)
    try:
        server.start()
    except BaseException:
        intake.stop()
        raise
    return server
