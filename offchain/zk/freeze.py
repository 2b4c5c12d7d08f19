# SPDX-License-Identifier: GPL-3.0-or-later
"""Whether the zk rollup is frozen, why, and when each freeze condition falls due: what
`l2kit zk status|exit|refund|include` tell a user, read from L1 alone.

`ZkRollup.frozen()` is true once any of three deadlines has passed: no batch for `freezePeriod`
(NO_BATCH), the oldest forced withdrawal unprocessed past its deadline
(FORCED_WITHDRAWAL_OVERDUE), or a deposit covered by a `requestDepositInclusion` unconsumed
past its deadline (DEPOSITS_CENSORED). `freezeReason()` names the one that passed first."""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum
from typing import Any

from eth_utils import to_checksum_address

from offchain.chain import abi_of


class FreezeReason(IntEnum):
    """IZkRollup.FreezeReason."""

    NONE = 0
    FORCED_WITHDRAWAL_OVERDUE = 1
    DEPOSITS_CENSORED = 2
    NO_BATCH = 3


@dataclass(frozen=True)
class Deadlines:
    """The freeze conditions as read from L1 at one block (times are L1 timestamps)."""

    now: int
    no_batch_after: int
    #: (queue index, deadline) of the oldest unprocessed forced withdrawal, if any.
    forced: tuple[int, int] | None
    #: (next deposit to consume, its deadline, last covered deposit's deadline) under an unmet
    #: deposit-inclusion request, if any.
    deposits: tuple[int, int, int] | None
    #: (deposits consumed, deposits queued).
    queue: tuple[int, int]


@dataclass(frozen=True)
class FreezeStatus:
    frozen: bool
    reason: FreezeReason
    detail: str

    def as_json(self) -> dict[str, Any]:
        return {"frozen": self.frozen, "reason": self.reason.name, "detail": self.detail}


def explain(d: Deadlines, frozen: bool, reason: FreezeReason) -> FreezeStatus:
    """Pure: a one-line account of every freeze condition and its deadline."""
    notes = [f"no batch after {d.no_batch_after} freezes it"]
    if d.forced is not None:
        notes.append(f"forced withdrawal {d.forced[0]} due at {d.forced[1]}")
    if d.deposits is not None:
        nxt, due, last = d.deposits
        notes.append(f"deposit {nxt} due at {due} (inclusion requested up to {last})")
    else:
        consumed, queued = d.queue
        if queued > consumed:
            notes.append(
                f"{queued - consumed} deposit(s) waiting with no inclusion deadline: "
                "`l2kit zk include` starts one"
            )
    head = f"frozen ({reason.name})" if frozen else "live"
    return FreezeStatus(frozen, reason, f"{head} at {d.now}: " + "; ".join(notes))


def read_deadlines(c: Any, block: int, now: int) -> Deadlines:
    """The freeze conditions of ZkRollup contract `c` at `block` (timestamp `now`)."""

    def call(fn: Any) -> Any:
        return fn.call(block_identifier=block)

    f = c.functions
    # the period in force for the running idle period (a governed raise waits for the next batch)
    no_batch_after = int(call(f.lastBatchAt())) + int(call(f.freezePeriodInForce()))
    head, count = int(call(f.forcedProcessed())), int(call(f.forcedCount()))
    forced = (head, int(call(f.forcedRequest(head))[3])) if head < count else None
    consumed = int(call(f.depositsProcessed()))
    _, covered, _ = call(f.depositCheckpoint())
    deposits = None
    if consumed < int(covered):
        deposits = (
            consumed,
            int(call(f.depositDeadline(consumed))),
            int(call(f.depositDeadline(int(covered) - 1))),
        )
    bridge = c.w3.eth.contract(
        address=to_checksum_address(call(f.bridge())), abi=abi_of("L1Bridge")
    )
    queued = int(bridge.functions.depositCount().call(block_identifier=block))
    return Deadlines(now, no_batch_after, forced, deposits, (consumed, queued))


def freeze_status(w3: Any, rollup: str) -> FreezeStatus:
    """Read the zk rollup's freeze conditions at the latest block and explain them."""
    c = w3.eth.contract(address=to_checksum_address(rollup), abi=abi_of("ZkRollup"))
    block = w3.eth.get_block("latest")
    number, now = int(block["number"]), int(block["timestamp"])
    frozen = bool(c.functions.frozen().call(block_identifier=number))
    reason = FreezeReason(int(c.functions.freezeReason().call(block_identifier=number)))
    return explain(read_deadlines(c, number, now), frozen, reason)
