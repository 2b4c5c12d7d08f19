"""The restart decision: what to do with each batch the store holds, given what L1 says. Pure.

The store records a batch as an INTENT before sending it, then POSTED once mined, FINAL once
past the challenge window; a fraud proof (or someone else's batch) can remove or supersede it.
After a crash or a restart `reconcile` compares each stored batch with L1 and returns a plan:

- on L1 with the same post-root: an INTENT was mined before the restart -> `mark_posted` (its L1
  transaction is looked up from the send journal); POSTED/FINAL -> nothing;
- an INTENT at exactly L1's next index, building on L1's head root -> `resend` (same nonce, the
  journal continues the send); so is every INTENT after it that builds on the one before it (the
  batches of one blob posting, offchain/rollup/blob_post.py, are one transaction: all of them are
  on L1 or none is);
- anything else not on L1 (rolled back by a fraud proof, superseded by another batch at its index,
  store ahead of L1, an intent built on a root L1 no longer has) -> `roll_back`: its transactions
  return to pending, its send journal goes;
- already ROLLED_BACK in the store (a crash between marking and deleting) -> `delete`.

L1 ahead of the store (batches the store never recorded: posted by another proposer, or a store
restored from a backup) needs no store change: the confirmed state comes from L1; `foreign`
lists those indexes for the log.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum


class Action(StrEnum):
    KEEP = "keep"
    MARK_POSTED = "mark_posted"
    RESEND = "resend"
    ROLL_BACK = "roll_back"
    DELETE = "delete"


@dataclass(frozen=True)
class BatchRecord:
    """What reconcile needs of a stored batch."""

    index: int
    status: str  # a BatchStatus value: intent | posted | final | rolled_back
    pre_root: bytes
    post_root: bytes


@dataclass(frozen=True)
class L1View:
    """What L1 says: how many live batches it holds, their post-roots (at least for the indexes
    the store holds below `live_count`) and the root a new batch must build on."""

    live_count: int
    post_roots: Mapping[int, bytes]
    head_root: bytes


@dataclass(frozen=True)
class Step:
    index: int
    action: Action
    reason: str


@dataclass(frozen=True)
class Plan:
    steps: tuple[Step, ...]
    foreign: tuple[int, ...] = field(default=())

    def of(self, action: Action) -> list[int]:
        return [s.index for s in self.steps if s.action is action]


def reconcile(stored: Sequence[BatchRecord], l1: L1View) -> Plan:
    """The plan for every stored batch, newest first (the order the store applies it in: a
    roll-back of a later batch never reorders the transactions of an earlier one)."""
    steps: list[Step] = []
    resend = _resend_chain(stored, l1)
    for b in sorted(stored, key=lambda r: r.index, reverse=True):
        if b.status == "rolled_back":
            steps.append(Step(b.index, Action.DELETE, "rolled back before the restart"))
            continue
        on_l1 = b.index < l1.live_count and l1.post_roots.get(b.index) == b.post_root
        if on_l1:
            if b.status == "intent":
                steps.append(Step(b.index, Action.MARK_POSTED, "mined before the restart"))
            else:
                steps.append(Step(b.index, Action.KEEP, "on L1"))
            continue
        if b.index in resend:
            steps.append(Step(b.index, Action.RESEND, "recorded, not mined: resend it"))
            continue
        if b.index >= l1.live_count:
            why = "not on L1 (rolled back, or the store is ahead of L1)"
        elif b.status == "intent" or l1.post_roots.get(b.index) is not None:
            why = "superseded: L1 holds another batch at its index"
        else:
            why = "not on L1"
        steps.append(Step(b.index, Action.ROLL_BACK, why))
    known = {b.index for b in stored}
    foreign = tuple(i for i in sorted(l1.post_roots) if i < l1.live_count and i not in known)
    return Plan(tuple(steps), foreign)


def _resend_chain(stored: Sequence[BatchRecord], l1: L1View) -> set[int]:
    """The intents to resend: the one at L1's next index building on L1's head root, and each
    following intent that builds on the post-root of the one before it (no gap)."""
    intents = {b.index: b for b in stored if b.status == "intent"}
    out: set[int] = set()
    index, root = l1.live_count, l1.head_root
    while index in intents and intents[index].pre_root == root:
        out.add(index)
        root = intents[index].post_root
        index += 1
    return out
