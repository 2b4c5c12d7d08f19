"""Durable intake with group commit: many concurrent submissions, one `admit_many` per group.

The HTTP front hands every submitted transaction body to an `Intake`:

1. `Admission.prepare(body)` runs in a thread pool, off the event loop (CPU only: field checks,
   decoding, the signature check; coincurve releases the GIL, so the pool uses every core);
2. the prepared item waits in a bounded queue (full: `Busy`, answered 503 with Retry-After, so
   memory never grows without bound);
3. ONE worker thread drains the queue: everything waiting (up to `max_group` items) goes to one
   `Admission.admit_many` call, which makes all accepted items durable with one store commit
   (one fsync) before returning;
4. only then is each submitter's future resolved: nothing is acknowledged before it is durable.

There is no artificial wait when idle: a lone submission is admitted at once, and groups grow
by themselves under load (while one group commits, the next one queues up). `linger` (seconds,
default 0) optionally waits a little for a group to fill; bench/operator.py measures whether it
helps.
"""

from __future__ import annotations

import asyncio
import logging
import os
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any, Protocol

from offchain.errors import L2KitError
from offchain.sequencer.http_api import ApiError

log = logging.getLogger("l2kit.intake")


class Admission(Protocol):
    """What the sequencer core implements for the intake (shared interface of issue #10)."""

    def prepare(self, body: Mapping[str, Any]) -> Any:
        """CPU only, thread-safe, no store access, no lock: validate, decode, check the
        signature. Raises `ApiError` (bad request) or `Rejected(code, message)`."""
        ...

    def admit_many(self, prepared: Sequence[Any]) -> list[Any]:
        """Admit in order against the pending state, make every accepted item durable with ONE
        `append_txs` call, then apply them. Each result is the POST /tx answer (a dict) of that
        item or the `Rejected` exception refusing it (which leaves no trace)."""
        ...


class Busy(ApiError):
    """The intake queue is full: nothing of the request was queued; retry after a moment."""

    def __init__(self, message: str, retry_after: int = 1) -> None:
        super().__init__(HTTPStatus.SERVICE_UNAVAILABLE, "busy", message)
        self.retry_after = retry_after


def error_of(exc: BaseException) -> ApiError:
    """The HTTP error an exception from `prepare` / `admit_many` is answered with."""
    if isinstance(exc, ApiError):
        return exc
    code = getattr(exc, "code", None)
    if isinstance(exc, L2KitError) and isinstance(code, str):  # the core's Rejected(code, msg)
        unavailable = code in ("frozen", "not_ready")
        status = HTTPStatus.SERVICE_UNAVAILABLE if unavailable else HTTPStatus.BAD_REQUEST
        return ApiError(status, code, str(exc))
    if isinstance(exc, L2KitError):
        return ApiError(HTTPStatus.BAD_REQUEST, "rejected", str(exc))
    return ApiError(
        HTTPStatus.INTERNAL_SERVER_ERROR, "internal", "internal error: see the operator log"
    )


#: What one item of a submission resolves to: the accepted answer or the refusal.
Outcome = dict[str, Any] | ApiError


@dataclass
class _Entry:
    """One submission (a single tx or the prepared part of a batch) waiting for its group."""

    items: list[Any]
    loop: asyncio.AbstractEventLoop
    future: asyncio.Future[list[Outcome]]
    queued_at: float = field(default_factory=time.monotonic)


@dataclass(frozen=True)
class IntakeLimits:
    #: Items (transactions) waiting at most; beyond: `Busy`.
    max_queue: int = 20_000
    #: Items per `admit_many` call at most.
    max_group: int = 2_048
    #: Seconds the worker waits for a group to fill once it has its first item (0 = none).
    linger: float = 0.0
    #: Threads running `prepare` (default: one per core).
    prepare_workers: int = 0


GroupObserver = Callable[[int, float], None]


class Intake:
    """Group commit in front of an `Admission`. Start it, submit from an event loop, stop it."""

    def __init__(
        self,
        admission: Admission,
        limits: IntakeLimits | None = None,
        on_group: GroupObserver | None = None,
    ) -> None:
        self.admission = admission
        self.limits = limits or IntakeLimits()
        if self.limits.max_queue < 1 or self.limits.max_group < 1 or self.limits.linger < 0:
            raise ValueError("intake limits must be positive (linger: zero or more)")
        workers = self.limits.prepare_workers or os.cpu_count() or 1
        self.pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="prepare")
        self._workers = workers
        #: Called with (group size, seconds) after every group commit (metrics).
        self.on_group = on_group
        self._cond = threading.Condition()
        self._queue: deque[_Entry] = deque()
        self._queued_items = 0
        self._reserved = 0  # items being prepared: their room in the queue is taken
        self._to_prepare: list[tuple[Mapping[str, Any], asyncio.Future[list[Outcome]]]] = []
        self._stopping = False
        self._thread: threading.Thread | None = None

    # -- lifecycle --------------------------------------------------------------------------------

    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="group-commit", daemon=True)
            self._thread.start()

    def stop(self) -> None:
        """Admit what is queued, then stop the worker and the prepare pool."""
        with self._cond:
            self._stopping = True
            self._cond.notify_all()
        if self._thread is not None:
            self._thread.join(timeout=30)
            self._thread = None
        self.pool.shutdown(wait=True, cancel_futures=True)

    @property
    def queued(self) -> int:
        """Items waiting for a group or being prepared right now."""
        return self._queued_items + self._reserved

    # -- submissions (called on the event loop) ---------------------------------------------------

    async def submit(self, body: Mapping[str, Any]) -> dict[str, Any]:
        """Admit one transaction body; returns its answer once durable, or raises `ApiError`.

        Single submissions arriving in the same event-loop turn are prepared together (one
        thread-pool job per worker, not one per request), then queued for their group."""
        self._reserve(1)
        loop = asyncio.get_running_loop()
        future: asyncio.Future[list[Outcome]] = loop.create_future()
        self._to_prepare.append((body, future))
        if len(self._to_prepare) == 1:
            loop.call_soon(self._flush_prepare, loop)
        [outcome] = await future
        if isinstance(outcome, ApiError):
            raise outcome
        return outcome

    def _flush_prepare(self, loop: asyncio.AbstractEventLoop) -> None:
        waiting, self._to_prepare = self._to_prepare, []
        chunk = max(1, -(-len(waiting) // self._workers))
        for i in range(0, len(waiting), chunk):
            part = waiting[i : i + chunk]
            try:
                self.pool.submit(self._prepare_and_queue, part, loop)
            except RuntimeError:  # the pool is shut down: the intake is stopping
                stopping = ApiError(
                    HTTPStatus.SERVICE_UNAVAILABLE, "stopping", "the sequencer is shutting down"
                )
                self._release(len(part))
                _set_results([(future, [stopping]) for _, future in part])

    def _prepare_and_queue(
        self,
        waiting: list[tuple[Mapping[str, Any], asyncio.Future[list[Outcome]]]],
        loop: asyncio.AbstractEventLoop,
    ) -> None:
        """In a pool thread: prepare each body; queue the good ones, answer the bad ones."""
        refused: list[tuple[asyncio.Future[list[Outcome]], list[Outcome]]] = []
        entries: list[_Entry] = []
        for body, future in waiting:
            try:
                entries.append(_Entry([self.admission.prepare(body)], loop, future))
            except Exception as exc:
                refused.append((future, [error_of(exc)]))
        with self._cond:  # the room was reserved before prepare: queue without a second check
            self._reserved -= len(waiting)
            self._queue.extend(entries)
            self._queued_items += len(entries)
            self._cond.notify_all()
        if refused:
            _call_soon(loop, refused)

    async def submit_many(self, bodies: Sequence[Mapping[str, Any]]) -> list[Outcome]:
        """Admit several transaction bodies in order; one outcome per body, in order."""
        if not bodies:
            return []
        self._reserve(len(bodies))
        loop = asyncio.get_running_loop()
        chunk = max(1, -(-len(bodies) // self._workers))
        parts = [bodies[i : i + chunk] for i in range(0, len(bodies), chunk)]
        try:
            prepared_parts = await asyncio.gather(
                *(loop.run_in_executor(self.pool, self._prepare_all, p) for p in parts)
            )
        except BaseException:
            self._release(len(bodies))
            raise
        prepared = [item for part in prepared_parts for item in part]
        good = [p for p in prepared if not isinstance(p, ApiError)]
        admitted = iter(await self._enqueue(loop, good, len(bodies)))
        return [p if isinstance(p, ApiError) else next(admitted) for p in prepared]

    def _prepare_all(self, bodies: Sequence[Mapping[str, Any]]) -> list[Any]:
        out: list[Any] = []
        for body in bodies:
            try:
                out.append(self.admission.prepare(body))
            except Exception as exc:
                out.append(error_of(exc))
        return out

    def _reserve(self, n: int) -> None:
        """Room for `n` items, counted from before their prepare (so transactions being checked
        count against the bound too), or `Busy` / stopping."""
        with self._cond:
            if self._stopping:
                raise ApiError(
                    HTTPStatus.SERVICE_UNAVAILABLE, "stopping", "the sequencer is shutting down"
                )
            waiting = self._queued_items + self._reserved
            if waiting + n > self.limits.max_queue:
                raise Busy(
                    f"the intake queue is full ({waiting} transactions waiting, "
                    f"limit {self.limits.max_queue}): nothing was accepted, retry shortly"
                )
            self._reserved += n

    def _release(self, n: int) -> None:
        with self._cond:
            self._reserved -= n
            self._cond.notify_all()

    async def _enqueue(
        self, loop: asyncio.AbstractEventLoop, items: list[Any], reserved: int
    ) -> list[Outcome]:
        """Queue `items` (their room, `reserved` items, was taken before prepare)."""
        future: asyncio.Future[list[Outcome]] = loop.create_future()
        with self._cond:
            self._reserved -= reserved
            if not items:
                self._cond.notify_all()
                return []
            self._queue.append(_Entry(items, loop, future))
            self._queued_items += len(items)
            self._cond.notify()
        return await future

    # -- the group-commit worker (one thread) -----------------------------------------------------

    def _take_group(self) -> list[_Entry] | None:
        with self._cond:
            while not self._queue:
                if self._stopping and not self._reserved:  # nothing queued nor being prepared
                    return None
                self._cond.wait()
            if self.limits.linger and self._queued_items < self.limits.max_group:
                deadline = time.monotonic() + self.limits.linger
                while self._queued_items < self.limits.max_group and not self._stopping:
                    left = deadline - time.monotonic()
                    if left <= 0:
                        break
                    self._cond.wait(left)
            group: list[_Entry] = []
            size = 0
            while self._queue:
                entry = self._queue[0]
                # one entry is never split (a batch stays in one group); a group takes at least
                # one entry whatever its size
                if group and size + len(entry.items) > self.limits.max_group:
                    break
                self._queue.popleft()
                group.append(entry)
                size += len(entry.items)
            self._queued_items -= size
            return group

    def _run(self) -> None:
        while True:
            group = self._take_group()
            if group is None:
                return
            items = [item for entry in group for item in entry.items]
            started = time.monotonic()
            try:
                results = self.admission.admit_many(items)
                if len(results) != len(items):
                    raise RuntimeError(
                        f"admit_many returned {len(results)} results for {len(items)} items"
                    )
                outcomes: list[Outcome] = [
                    r if isinstance(r, dict) else error_of(r) for r in results
                ]
            except Exception:
                log.exception("admitting a group of %d transactions failed", len(items))
                failure = ApiError(
                    HTTPStatus.SERVICE_UNAVAILABLE,
                    "store_unavailable",
                    "the sequencer could not record this transaction: it may or may not have "
                    "been accepted; resend it (a resend is idempotent) or see GET /tx/<hash>",
                )
                outcomes = [failure] * len(items)
            if self.on_group is not None:
                self.on_group(len(items), time.monotonic() - started)
            self._resolve(group, outcomes)

    @staticmethod
    def _resolve(group: list[_Entry], outcomes: list[Outcome]) -> None:
        by_loop: dict[asyncio.AbstractEventLoop, list[tuple[asyncio.Future[Any], list[Outcome]]]]
        by_loop = {}
        at = 0
        for entry in group:
            n = len(entry.items)
            by_loop.setdefault(entry.loop, []).append((entry.future, outcomes[at : at + n]))
            at += n
        for loop, done in by_loop.items():  # one wake-up per event loop, not per item
            _call_soon(loop, done)


def _call_soon(
    loop: asyncio.AbstractEventLoop, done: list[tuple[asyncio.Future[Any], list[Outcome]]]
) -> None:
    try:
        loop.call_soon_threadsafe(_set_results, done)
    except RuntimeError:  # that loop is closed: its clients are gone
        log.info("dropping %d answers for a closed event loop", len(done))


def _set_results(done: list[tuple[asyncio.Future[Any], list[Outcome]]]) -> None:
    for future, outcomes in done:
        if not future.done():  # a client that went away cancelled its future
            future.set_result(outcomes)
