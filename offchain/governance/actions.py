"""Pure decisions behind `ape run governance`: which operation an id names, and the exact
arguments `execute`/`executeBatch`/`cancel` need, checked against the timelock's id hashing."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from offchain.errors import L2KitError
from offchain.governance.operations import operation_id
from offchain.governance.watch import ScheduledChange, Status


@dataclass(frozen=True)
class ExecuteCall:
    """The timelock method and arguments that execute one operation."""

    method: str  # "execute" or "executeBatch"
    args: tuple


def parse_id(text: str) -> bytes:
    """A 32-byte operation id from 0x hex."""
    try:
        raw = bytes.fromhex(text.removeprefix("0x"))
    except ValueError:
        raw = b""
    if len(raw) != 32:
        raise L2KitError(
            f"{text!r} is not an operation id: pass the 0x + 64 hex id `inspect` shows"
        )
    return raw


def find(all_changes: Sequence[ScheduledChange], op_id: bytes) -> ScheduledChange:
    """The latest scheduling of `op_id`, or an error saying what the timelock knows."""
    found = [c for c in all_changes if c.id == op_id]
    if not found:
        raise L2KitError(
            f"no operation 0x{op_id.hex()} was ever scheduled on this timelock: run `inspect --all`"
        )
    return found[-1]


def execute_call(change: ScheduledChange, now: int) -> ExecuteCall:
    """Arguments for executing `change`; refuses one that is not ready, with the reason."""
    if change.status is Status.DONE:
        raise L2KitError(f"operation 0x{change.id.hex()} was already executed")
    if change.status is Status.CANCELLED:
        raise L2KitError(f"operation 0x{change.id.hex()} was cancelled; schedule it again")
    if now < change.ready_at:
        raise L2KitError(
            f"operation 0x{change.id.hex()} is not ready: executable at {change.ready_at} "
            f"(in {change.ready_at - now}s)"
        )
    calls = change.calls
    if not change.batch and operation_id(calls, change.predecessor, change.salt) == change.id:
        c = calls[0]
        return ExecuteCall("execute", (c.target, c.value, c.data, change.predecessor, change.salt))
    if operation_id(calls, change.predecessor, change.salt, batch=True) != change.id:
        raise L2KitError(
            f"operation 0x{change.id.hex()}: its events do not hash to its id (missing logs?); "
            "scan from an earlier --from-block"
        )
    return ExecuteCall(
        "executeBatch",
        (
            [c.target for c in calls],
            [c.value for c in calls],
            [c.data for c in calls],
            change.predecessor,
            change.salt,
        ),
    )


def check_cancellable(change: ScheduledChange) -> None:
    """Only a waiting or ready operation can be cancelled."""
    if change.status not in (Status.WAITING, Status.READY):
        raise L2KitError(
            f"operation 0x{change.id.hex()} is {change.status.value}; nothing to cancel"
        )
