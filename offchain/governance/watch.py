"""Watch the timelock: every scheduled change and the time users have left to exit before it.

Pure part: `changes(events, now, exit_time)` folds the timelock's events into one
`ScheduledChange` per operation. I/O part (the edge): `fetch_events` reads them with web3, and
`main` is a one-shot CLI:

    python -m offchain.governance.watch --rpc http://127.0.0.1:8545 --timelock 0x...

Time left to exit = ready_at - now - exit_time: a user who starts exiting within that many
seconds is out before the change can execute; negative means it is too late to be sure.
"""

from __future__ import annotations

import argparse
import enum
import sys
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from offchain.governance.calls import DecodedCall, decode_call
from offchain.governance.operations import Call


class Status(enum.Enum):
    """Where an operation stands (as the timelock's own OperationState, from events + now)."""

    WAITING = "waiting"  # scheduled, delay not over
    READY = "ready"  # delay over, can be executed by an executor
    DONE = "done"  # executed
    CANCELLED = "cancelled"


@dataclass(frozen=True)
class Scheduled:
    """A CallScheduled event, with the timestamp of the block it is in."""

    id: bytes
    index: int
    target: str
    value: int
    data: bytes
    predecessor: bytes
    delay: int
    block_timestamp: int


@dataclass(frozen=True)
class Executed:
    """A CallExecuted event."""

    id: bytes
    index: int


@dataclass(frozen=True)
class Cancelled:
    """A Cancelled event."""

    id: bytes


@dataclass(frozen=True)
class Salt:
    """A CallSalt event (emitted only for a non-zero salt)."""

    id: bytes
    salt: bytes


Event = Scheduled | Executed | Cancelled | Salt


@dataclass(frozen=True)
class ScheduledChange:
    """One timelock operation as a user needs to see it."""

    id: bytes
    calls: tuple[Call, ...]
    decoded: tuple[DecodedCall, ...]
    predecessor: bytes
    salt: bytes
    scheduled_at: int
    ready_at: int
    status: Status
    #: Seconds until it can execute (0 once ready).
    seconds_until_ready: int
    #: Seconds left to *start* an exit that completes before it can execute (negative: too late).
    time_left_to_exit: int
    batch: bool = field(default=False)

    def describe(self) -> str:
        """A human line per operation, as the CLI prints it."""
        what = "; ".join(
            f"{c.target}.{d.describe()}" + (f" value {c.value}" if c.value else "")
            for c, d in zip(self.calls, self.decoded, strict=True)
        )
        if self.status is Status.WAITING:
            when = f"executable in {_dur(self.seconds_until_ready)} (at {self.ready_at})"
            if self.time_left_to_exit >= 0:
                exit_note = f"users have {_dur(self.time_left_to_exit)} left to start an exit"
            else:
                exit_note = f"TOO LATE to exit safely by {_dur(-self.time_left_to_exit)}"
            return f"0x{self.id.hex()} WAITING {what}: {when}; {exit_note}"
        return f"0x{self.id.hex()} {self.status.name} {what}"


def _dur(seconds: int) -> str:
    d, r = divmod(max(seconds, 0), 86400)
    h, r = divmod(r, 3600)
    m, s = divmod(r, 60)
    return (f"{d}d " if d else "") + f"{h:02d}:{m:02d}:{s:02d}"


def changes(
    events: Iterable[Event],
    now: int,
    exit_time: int,
    known: Mapping[bytes, str] | None = None,
) -> list[ScheduledChange]:
    """Fold timelock events (in log order) into one change per operation, in scheduling order.

    Pure: the same events, `now` and `exit_time` give the same list. `exit_time` is the longest
    exitTime() of the governed systems (the timelock's delayFloor() - margin).
    """
    known = known or {}
    scheduled: dict[bytes, list[Scheduled]] = {}
    order: list[bytes] = []
    salts: dict[bytes, bytes] = {}
    done: set[bytes] = set()
    cancelled: set[bytes] = set()
    for ev in events:
        if isinstance(ev, Scheduled):
            if ev.id not in scheduled:
                order.append(ev.id)
                scheduled[ev.id] = []
            elif ev.id in cancelled:  # rescheduled after a cancel: a fresh operation
                cancelled.discard(ev.id)
                scheduled[ev.id] = []
            scheduled[ev.id].append(ev)
        elif isinstance(ev, Executed):
            done.add(ev.id)
        elif isinstance(ev, Cancelled):
            cancelled.add(ev.id)
        elif isinstance(ev, Salt):
            salts[ev.id] = ev.salt
    out = []
    for op_id in order:
        parts = sorted(scheduled[op_id], key=lambda e: e.index)
        first = parts[0]
        ready_at = first.block_timestamp + first.delay
        if op_id in done:
            status = Status.DONE
        elif op_id in cancelled:
            status = Status.CANCELLED
        elif now >= ready_at:
            status = Status.READY
        else:
            status = Status.WAITING
        calls = tuple(Call(e.target, e.value, e.data) for e in parts)
        out.append(
            ScheduledChange(
                id=op_id,
                calls=calls,
                decoded=tuple(decode_call(c.data, known) for c in calls),
                predecessor=first.predecessor,
                salt=salts.get(op_id, b"\x00" * 32),
                scheduled_at=first.block_timestamp,
                ready_at=ready_at,
                status=status,
                seconds_until_ready=max(ready_at - now, 0),
                time_left_to_exit=ready_at - now - exit_time,
                batch=len(parts) > 1,
            )
        )
    return out


def pending(all_changes: Sequence[ScheduledChange]) -> list[ScheduledChange]:
    """The changes that can still execute (waiting or ready)."""
    return [c for c in all_changes if c.status in (Status.WAITING, Status.READY)]


def status_json(
    all_changes: Sequence[ScheduledChange], timelock: str, exit_time: int, margin: int
) -> dict[str, object]:
    """The governance part of the validator's /status: every change that can still execute,
    with what it does, its target, when it can execute (`eta`) and the seconds a user has left
    to start an exit that completes before it (`time_left_to_exit_s`; negative: too late).
    Pure (docs/governance.md §4.2)."""
    ops = []
    for c in pending(all_changes):
        ops.append(
            {
                "id": "0x" + c.id.hex(),
                "status": c.status.name.lower(),
                "calls": [
                    {"target": call.target, "what": d.describe(), "value": call.value}
                    for call, d in zip(c.calls, c.decoded, strict=True)
                ],
                "scheduled_at": c.scheduled_at,
                "eta": c.ready_at,
                "seconds_until_ready": c.seconds_until_ready,
                "time_left_to_exit_s": c.time_left_to_exit,
                "too_late_to_exit": c.time_left_to_exit < 0,
            }
        )
    return {
        "timelock": timelock,
        "exit_time_s": exit_time,
        "exit_window_s": margin,
        "scheduled": ops,
    }


def main(argv: Sequence[str] | None = None) -> int:
    """One-shot report of the timelock's pending changes; exit status 2 if any is too late."""
    from web3 import Web3

    from offchain.governance.chain import TimelockReader

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rpc", required=True, help="L1 JSON-RPC URL")
    ap.add_argument("--timelock", required=True, help="ExitWindowTimelock address")
    ap.add_argument("--from-block", type=int, default=0, help="first block to scan")
    ap.add_argument("--all", action="store_true", help="also list done and cancelled operations")
    args = ap.parse_args(argv)
    reader = TimelockReader(Web3(Web3.HTTPProvider(args.rpc)), args.timelock)
    report = reader.report(from_block=args.from_block)
    shown = report.changes if args.all else pending(report.changes)
    print(
        f"timelock {args.timelock}: delay {report.min_delay}s, longest exit {report.exit_time}s, "
        f"margin {report.margin}s; {len(pending(report.changes))} pending"
    )
    for c in shown:
        print(c.describe())
    late = [c for c in pending(report.changes) if c.time_left_to_exit < 0]
    return 2 if late else 0


if __name__ == "__main__":
    sys.exit(main())
