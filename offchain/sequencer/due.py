"""The due rule: when the sequencer builds and posts the next batch. Pure (no clock, no I/O)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class DueInputs:
    """What the rule looks at, read by the caller at one moment `now` (seconds, any clock)."""

    now: float
    #: User transactions accepted and not yet in a batch, and when the oldest arrived.
    pending_txs: int
    oldest_tx_at: float | None
    #: Deposits queued on L1 that no batch consumed yet, and when the oldest was first seen.
    waiting_deposits: int
    oldest_deposit_at: float | None
    #: Forced transactions queued on L1 and not yet included (any makes a batch due at once:
    #: the contract lets anyone freeze the rollup once one waits too long).
    waiting_forced: int
    max_batch_txs: int
    max_batch_delay: float
    #: No batch for the heartbeat interval: post even an empty one (liveness).
    heartbeat: bool = False
    force: bool = False


def is_due(d: DueInputs) -> bool:
    """True when a batch should be built now."""
    if d.force or d.heartbeat or d.waiting_forced > 0:
        return True
    if d.pending_txs >= d.max_batch_txs:
        return True
    oldest = [
        t
        for t, n in ((d.oldest_tx_at, d.pending_txs), (d.oldest_deposit_at, d.waiting_deposits))
        if n > 0 and t is not None
    ]
    return bool(oldest) and d.now - min(oldest) >= d.max_batch_delay
