"""The sequencer core, shared by both rollups: lifecycle, the posting loop, admission (frozen,
duplicate, idempotent resend, group commit), persistent counters and the common status.

What differs between the rollups (decoding and signatures, the pending view, building, proving
and posting batches, reconciling with L1, finality) is the backend's (offchain/sequencer/
backend.py): `offchain.sequencer.optimistic` and, GPL-3.0, `offchain.zk.sequencer_backend`.

Admission (`admit_many`) runs under one lock: each item is checked in order against a scratch view
of the pending state (a rejected one changes nothing), then every accepted one is made durable
with ONE `append_txs` (one commit, one fsync), and only then the scratch view becomes the pending
state: an acknowledged transaction is always durable, a failed write leaves no trace.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Mapping, Sequence
from typing import Any

from offchain.errors import L2KitError, SequencerError
from offchain.sequencer import failpoints
from offchain.sequencer.backend import Backend, Prepared
from offchain.sequencer.store import DuplicateTransaction, StoredTx, TxStatus

log = logging.getLogger("l2kit.sequencer")

#: /ready is false when L1 did not answer for this long (s).
L1_SILENCE_S = 30.0


#: The answer to a transaction sent while the service recovers (503; /ready says the same).
RECOVERING_MESSAGE = "the sequencer is recovering from L1 and its store: retry shortly"


class Rejected(SequencerError):
    """A submitted transaction was refused; nothing was stored. `code` is machine-readable."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


FROZEN_MESSAGE = (
    "the rollup is frozen: no transaction can be included any more; withdraw your balance from "
    "the last finalized state with the exit tool (`ape run exit --owner <address>` or "
    "`l2kit zk exit`)"
)


class Sequencer:
    """One operator service. Thread-safe: HTTP handlers and the posting loop share it."""

    def __init__(self, backend: Backend, lock: threading.RLock, poll_interval: float) -> None:
        self.backend = backend
        self.lock = lock
        self.poll_interval = poll_interval
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._recovered = False
        self._last_l1_ok = 0.0
        self._last_error = ""
        self._loop_beat = 0.0
        self._rejected = 0  # rejections not yet added to the store's counter

    @property
    def store(self) -> Any:
        return self.backend.store

    # ------------------------------------------------------------------ lifecycle

    def recovered(self) -> None:
        """Called by the backend once its restart recovery is done."""
        self._recovered = True
        self._last_l1_ok = time.monotonic()

    def start_loop(self) -> None:
        self._stop.clear()
        self._thread = threading.Thread(target=self._loop, name="sequencer", daemon=True)
        self._thread.start()

    def stop_loop(self, timeout: float = 30.0) -> None:
        self._stop.set()
        if self._thread:
            self._thread.join(timeout=timeout)
        self._flush_rejected()

    def _loop(self) -> None:
        backoff = self.poll_interval
        while not self._stop.is_set():
            self._loop_beat = time.monotonic()
            try:
                self.backend.post_if_due()
                self.backend.track_finality()
                self._flush_rejected()
                self._last_l1_ok = time.monotonic()
                self._last_error = ""
                backoff = self.poll_interval
            except Exception as exc:  # never die: log, back off, try again
                log.exception("posting loop error: %s", exc)
                self._last_error = str(exc) or type(exc).__name__
                backoff = min(backoff * 2, 30.0)
            self._stop.wait(backoff)

    def _flush_rejected(self) -> None:
        with self.lock:
            n, self._rejected = self._rejected, 0
        if n:
            try:
                self.store.add_counters({"txs_rejected": n})
            except Exception:
                with self.lock:
                    self._rejected += n
                raise

    # ------------------------------------------------------------------ admission

    def prepare(self, body: Mapping[str, Any]) -> Prepared:
        """Decode and check one POST /tx body; CPU only (see Backend.prepare)."""
        return self.backend.prepare(body)

    def admit_many(self, prepared: Sequence[Prepared]) -> list[dict[str, Any] | Rejected]:
        """Admit `prepared` in order; every accepted one is durable (one store write) before this
        returns. Each result is the POST /tx answer, or the Rejected."""
        if not prepared:
            return []
        if not self._recovered:  # the API is bound before recovery: nothing admitted until then
            return [Rejected("not_ready", RECOVERING_MESSAGE) for _ in prepared]
        backend = self.backend
        if backend.check_frozen():
            with self.lock:
                self._rejected += len(prepared)
            return [Rejected("frozen", FROZEN_MESSAGE) for _ in prepared]
        # Signatures checked for the whole group at once, off the lock, by a backend that
        # batches them (optimistic: BLS with random coefficients); None where an item passed.
        verify = getattr(backend, "verify_group", None)
        verdicts = verify(prepared) if verify is not None else [None] * len(prepared)
        results: list[dict[str, Any] | Rejected | int] = []
        with self.lock:
            scratch = backend.begin_group()
            stored = self.store.txs_by_hash([p.tx_hash for p in prepared])
            fresh: list[Prepared] = []
            in_group: dict[bytes, int] = {}  # hash -> index in `fresh`
            for item, verdict in zip(prepared, verdicts, strict=True):
                if verdict is not None:
                    results.append(verdict)
                    continue
                first = in_group.get(item.tx_hash)
                if first is not None:  # the same tx twice in one group: one record, twice
                    results.append(first)
                    continue
                known = stored.get(item.tx_hash)
                if known is not None:
                    results.append(self._resend(item, known))
                    continue
                refused = backend.admit(scratch, item)
                if refused is not None:
                    results.append(refused if isinstance(refused, Rejected) else _wrap(refused))
                    continue
                in_group[item.tx_hash] = len(fresh)
                results.append(len(fresh))
                fresh.append(item)
            if fresh:
                failpoints.hit("before_persist_tx")
                try:
                    seqs = self.store.append_txs([(p.tx_hash, p.kind, p.payload) for p in fresh])
                except DuplicateTransaction as exc:  # cannot happen under the lock
                    raise L2KitError(f"store and admission disagree: {exc}") from exc
                failpoints.hit("after_persist_tx")
                backend.commit_group(scratch)
            else:
                seqs = []
            answers = [self._answer(p, s) for p, s in zip(fresh, seqs, strict=True)]
            out: list[dict[str, Any] | Rejected] = []
            for r in results:
                out.append(answers[r] if isinstance(r, int) else r)
            self._rejected += sum(1 for r in out if isinstance(r, Rejected))
        return out

    def _resend(self, item: Prepared, known: StoredTx) -> dict[str, Any] | Rejected:
        if self.backend.is_resend(item, known):
            return self.backend.tx_json(known)
        return Rejected(
            "duplicate",
            f"transaction 0x{item.tx_hash.hex()} was accepted before, signed for another "
            "nonce: see GET /tx/<hash>",
        )

    def _answer(self, item: Prepared, seq: int) -> dict[str, Any]:
        stored = StoredTx(
            seq, item.tx_hash, item.kind, item.payload, TxStatus.PENDING, None, time.time()
        )
        return self.backend.tx_json(stored)

    def submit_prepared(self, item: Prepared) -> StoredTx:
        """One transaction through the same path (the old `submit`): the stored record, or
        raises Rejected."""
        result = self.admit_many([item])[0]
        if isinstance(result, Rejected):
            raise result
        stored = self.store.tx(item.tx_hash)
        if stored is None:  # admitted just above
            raise L2KitError(f"transaction 0x{item.tx_hash.hex()} missing right after admission")
        return stored

    # ------------------------------------------------------------------ status

    def health(self) -> dict[str, Any]:
        """Process alive; whether the posting loop ran recently."""
        alive = self._thread is not None and self._thread.is_alive()
        since = time.monotonic() - self._loop_beat if self._loop_beat else None
        return {"alive": True, "loop_running": alive, "loop_last_run_s": since}

    def ready(self) -> tuple[bool, str]:
        """(ready, why not): recovered, not frozen, L1 answered recently."""
        if not self._recovered:
            return False, "recovering from L1 and the store"
        if self.backend.frozen:
            return False, "the rollup is frozen"
        silent = time.monotonic() - self._last_l1_ok
        # Failing rounds for that long (a long proof without errors is not silence).
        if self._last_error and silent > max(L1_SILENCE_S, 4 * self.poll_interval):
            return False, f"L1 did not answer for {silent:.0f} s: {self._last_error}"
        return True, "ready"

    def status(self) -> dict[str, Any]:
        """The common status of both modes (docs/operator.md, "Status")."""
        parts = self.backend.status_parts()
        counters = self.store.counters()
        with self.lock:
            counters["txs_rejected"] += self._rejected
        last = self.store.last_batch()
        ready, _ = self.ready()
        return {
            "mode": self.backend.mode,
            "ready": ready,
            "frozen": self.backend.frozen,
            "proposer": self.backend.proposer,
            "l2": parts["l2"],
            "l1": parts["l1"],
            "counters": counters,
            "finality": parts["finality"],
            "last_batch": None
            if last is None
            else {"index": last.batch_index, "status": last.status.value, "l1_tx": last.l1_tx_hash},
            **parts.get("extra", {}),
        }


def _wrap(exc: Exception) -> Rejected:
    return Rejected("invalid", str(exc))
