"""What the validator has checked, and what it must alarm about (pure).

A validator is only useful if it never goes quiet: every live batch is either verified, or named in
an alarm. `observe` folds one check of the rollup into the watch record and returns the status:

- `unreadable`: the first live batch whose data cannot be read from L1, and `blocked`, every live
  batch after it (they build on a state nobody can check);
- `finalized_unchecked`: batches that became final before this validator (with this watch record)
  had checked them, e.g. while it was down, or behind an unreadable batch; sticky, so an operator
  sees it even after the cause is gone;
- `final_fraud`: a wrong batch found only once it was final (too late to prove);
- `lag`: live batches not verified yet.

The watch record is what a restart needs to tell "checked before final" from "final while down"; the
service persists it with the status (offchain/validator/service.py).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

#: Sticky lists are capped (the count is kept exact) so the status stays small.
MAX_LISTED = 100


@dataclass(frozen=True)
class Observation:
    """One check of the rollup: its live batches and how far the replay got."""

    #: Stored batch hash of every live batch, in index order.
    batch_hashes: tuple[bytes, ...]
    #: Number of leading live batches that are final.
    finalized: int
    #: Leading batches replayed and found correct.
    verified: int
    #: Index of the first wrong batch, if the replay found one.
    fraud: int | None = None
    #: Index and reason of the first unreadable batch, if any.
    unreadable: tuple[int, str] | None = None
    #: Index of `batch_hashes[0]`: a validator resuming from a checkpoint gives only the hashes
    #: the fold needs, from min(watch.settled, finalized) on (below, every batch is settled).
    first: int = 0

    @property
    def count(self) -> int:
        return self.first + len(self.batch_hashes)

    def hash_of(self, index: int) -> bytes:
        return self.batch_hashes[index - self.first]


@dataclass(frozen=True)
class Watch:
    """Persisted between checks: what was checked while it could still be disputed."""

    #: Batches checked while not final: index -> batch hash (a reposted index has another hash).
    checked: Mapping[int, bytes] = field(default_factory=dict)
    #: Every batch below this index is final and was either checked in time or reported.
    settled: int = 0
    #: Batches that became final unchecked (sticky; at most MAX_LISTED listed).
    finalized_unchecked: tuple[int, ...] = ()
    finalized_unchecked_count: int = 0

    def to_json(self) -> dict[str, Any]:
        return {
            "checked": {str(i): "0x" + h.hex() for i, h in sorted(self.checked.items())},
            "settled": self.settled,
            "finalized_unchecked": list(self.finalized_unchecked),
            "finalized_unchecked_count": self.finalized_unchecked_count,
        }

    @classmethod
    def from_json(cls, raw: Mapping[str, Any]) -> Watch:
        return cls(
            checked={int(i): bytes.fromhex(h[2:]) for i, h in raw.get("checked", {}).items()},
            settled=int(raw.get("settled", 0)),
            finalized_unchecked=tuple(int(i) for i in raw.get("finalized_unchecked", ())),
            finalized_unchecked_count=int(raw.get("finalized_unchecked_count", 0)),
        )


@dataclass(frozen=True)
class Status:
    """What the validator reports after a check; `alarms` empty means all is well."""

    batch_count: int
    finalized: int
    verified: int
    lag: int
    unreadable: dict[str, Any] | None
    blocked: tuple[int, int] | None
    final_fraud: int | None
    finalized_unchecked: tuple[int, ...]
    finalized_unchecked_count: int
    #: Alarms raised by this check (new since the previous one).
    new_alarms: tuple[str, ...]
    #: Alarms that hold now (a sticky finalized_unchecked report included).
    alarms: tuple[str, ...]

    def to_json(self) -> dict[str, Any]:
        return {
            "batch_count": self.batch_count,
            "finalized": self.finalized,
            "verified": self.verified,
            "lag": self.lag,
            "unreadable": self.unreadable,
            "blocked": list(self.blocked) if self.blocked else None,
            "final_fraud": self.final_fraud,
            "finalized_unchecked": list(self.finalized_unchecked),
            "finalized_unchecked_count": self.finalized_unchecked_count,
            "alarm": bool(self.alarms),
            "alarms": list(self.alarms),
        }


def _ranges(indexes: Sequence[int]) -> str:
    out: list[str] = []
    for i in indexes:
        if out and out[-1].split("-")[-1] == str(i - 1):
            out[-1] = out[-1].split("-")[0] + f"-{i}"
        else:
            out.append(str(i))
    return ",".join(out)


def observe(watch: Watch, obs: Observation) -> tuple[Watch, Status]:
    """Fold one check into the watch record; the status names every batch not verified in time."""
    count = obs.count
    if not 0 <= obs.verified <= count or not 0 <= obs.finalized <= count:
        raise ValueError(f"inconsistent observation: {obs.verified}/{obs.finalized} of {count}")
    if obs.first > min(watch.settled, obs.finalized):
        raise ValueError(
            f"the observation starts at batch {obs.first}, but the watch needs the hashes from "
            f"{min(watch.settled, obs.finalized)}"
        )
    # Batches this check judged: the verified prefix, plus a wrong one (judged, alarmed below).
    judged = obs.verified + (1 if obs.fraud is not None else 0)
    # Below `settled` every batch is final and was accounted for; a rollback never reaches below
    # the final prefix, so those indexes keep their batches.
    settled = min(watch.settled, obs.finalized)
    late = [i for i in range(settled, obs.finalized) if watch.checked.get(i) != obs.hash_of(i)]
    new_alarms: list[str] = []
    if late:
        new_alarms.append(
            f"batches {_ranges(late)} became final before this validator checked them"
        )
    final_fraud = obs.fraud if obs.fraud is not None and obs.fraud < obs.finalized else None
    if final_fraud is not None:
        new_alarms.append(f"batch {final_fraud} is wrong and already final: too late to prove")
    unreadable = None
    blocked = None
    if obs.unreadable is not None:
        index, reason = obs.unreadable
        unreadable = {"index": index, "reason": reason}
        new_alarms.append(f"batch {index} cannot be read from L1: {reason}")
        if index + 1 < count:
            blocked = (index + 1, count - 1)
            new_alarms.append(
                f"batches {index + 1}-{count - 1} build on unreadable batch {index}: unchecked"
            )
    checked = {
        i: obs.hash_of(i)
        for i in range(obs.finalized, count)
        if i < judged or watch.checked.get(i) == obs.hash_of(i)
    }
    total_late = watch.finalized_unchecked_count + len(late)
    listed = tuple(sorted(set(watch.finalized_unchecked) | set(late)))[:MAX_LISTED]
    new_watch = Watch(checked, obs.finalized, listed, total_late)
    alarms = list(new_alarms)
    if total_late and not late:
        alarms.append(f"{total_late} batch(es) became final unchecked earlier: {_ranges(listed)}")
    status = Status(
        batch_count=count,
        finalized=obs.finalized,
        verified=obs.verified,
        lag=count - obs.verified,
        unreadable=unreadable,
        blocked=blocked,
        final_fraud=final_fraud,
        finalized_unchecked=listed,
        finalized_unchecked_count=total_late,
        new_alarms=tuple(new_alarms),
        alarms=tuple(alarms),
    )
    return new_watch, status
