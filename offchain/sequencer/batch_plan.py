"""The batcher's format v2 batch: queued deposits and forced txs, then the accepted signed txs,
cut into commitments whose single aggregate signature verifies (docs/rollup-spec.md §4, §6).

Rules that make every posted commitment honest:
- Queue entries come first, in commitments of their own (deposits, then forced slots, each slot
  applied or skipped as its validity dictates), so every forced tx runs before every submitted
  one, as the pending ledger assumed when it admitted them.
- Inside a commitment transfers run before withdraws. A transfer whose sender already has a
  withdraw in the open commitment would run before it and be signed for the wrong nonce, so it
  closes that commitment and opens the next one.
- A tx that execute() refuses is dropped, and so is every later tx of its sender in this batch
  (their signed nonces no longer follow): execute() never checks signatures, so keeping them
  would post an aggregate the signature dispute knocks out.
- Before a commitment is kept, each tx's stored nonce must equal the nonce the signature dispute
  derives from the post-state (offchain.rollup.signatures.signed_nonces); the aggregate is the
  sum of the stored signatures, each verified at admission under the key valid then.

Pure: no I/O; `state` is never modified (the post-state is returned).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from offchain.rollup.codec import encode_batch
from offchain.rollup.execute import Execution, Fault, commit, execute
from offchain.rollup.params import MAX_COMMITMENTS_PER_BATCH, MAX_TXS_PER_COMMITMENT
from offchain.rollup.signatures import SignerFault, aggregate_commitment, signed_nonces
from offchain.rollup.state import L2State
from offchain.rollup.types import (
    Account,
    Commitment,
    DepositTx,
    ForcedSlot,
    QueuedDeposit,
    QueuedForced,
    SignedTransfer,
    SignedWithdraw,
    Transfer,
    Withdraw,
)
from offchain.sequencer.payload import StoredPayload


@dataclass(frozen=True)
class PlannedCommitment:
    """A commitment with what produced it (its queue entries and its execution)."""

    commitment: Commitment
    deposits: tuple[QueuedDeposit, ...]
    forced: tuple[QueuedForced, ...]
    execution: Execution
    #: Positions (in the `txs` argument) of the user txs it carries, in posted order.
    tx_positions: tuple[int, ...] = ()


@dataclass(frozen=True)
class BatchPlan:
    pre_root: bytes
    commitments: tuple[PlannedCommitment, ...]
    #: (position in `txs`, reason) of every tx left out.
    dropped: tuple[tuple[int, str], ...]
    post_state: L2State

    @property
    def data(self) -> bytes:
        return encode_batch([c.commitment for c in self.commitments])

    @property
    def post_root(self) -> bytes:
        return self.commitments[-1].commitment.post_root if self.commitments else self.pre_root

    @property
    def included(self) -> list[int]:
        return [p for c in self.commitments for p in c.tx_positions]


def deposit_txs(state: L2State, deposits: Sequence[QueuedDeposit]) -> list[DepositTx]:
    """Each deposit into the owner's existing account of that token (unless that would overflow
    2^128-1), else a new account at the lowest never-used index, in queue order."""
    from offchain.rollup.params import MAX_BALANCE

    known = {(a.owner, a.token): (i, a.balance) for i, a in state.accounts.items()}
    next_free = state.next_free_index()
    out = []
    for d in deposits:
        index, balance = known.get((d.owner, d.token), (-1, 0))
        if index < 0 or balance + d.amount > MAX_BALANCE:
            index, balance = next_free, 0
            next_free += 1
        known[(d.owner, d.token)] = (index, balance + d.amount)
        out.append(DepositTx(index))
    return out


def _queue_commitments(
    work: L2State,
    deposits: Sequence[QueuedDeposit],
    forced: Sequence[QueuedForced],
    fee_account: int,
) -> list[PlannedCommitment]:
    out: list[PlannedCommitment] = []
    routed = deposit_txs(work, deposits)
    d, f = 0, 0
    while d < len(deposits) or f < len(forced):
        n_dep = min(MAX_TXS_PER_COMMITMENT, len(deposits) - d)
        n_forced = min(MAX_TXS_PER_COMMITMENT - n_dep, len(forced) - f)
        deps = tuple(deposits[d : d + n_dep])
        frc = tuple(forced[f : f + n_forced])
        slots = [ForcedSlot(applied=True) for _ in frc]
        while True:
            c = Commitment(
                work.root,
                work.deposit_end + n_dep,
                work.forced_end + n_forced,
                fee_account,
                deposits=tuple(routed[d : d + n_dep]),
                forced=tuple(slots),
            )
            ex = execute(work, c, deps, frc, check_root=False)
            if ex.ok:
                break
            if ex.fault != Fault.FORCED_OUTCOME:
                raise ValueError(f"operator bug: queue commitment invalid ({ex.fault.name})")
            slot = ex.tx_index - n_dep  # slots count across sections, deposits first
            slots[slot] = ForcedSlot(applied=False)
        c = Commitment(
            ex.root, c.deposit_end, c.forced_end, fee_account, c.deposits, forced=c.forced
        )
        commit(work, ex, c.deposit_end)
        out.append(PlannedCommitment(c, deps, frc, ex))
        d += n_dep
        f += n_forced
    return out


class _PostState:
    """The accounts after `ex` on `base`, without applying it (what the nonce rule reads)."""

    def __init__(self, base: L2State, ex: Execution) -> None:
        self.base = base
        self.writes = dict(ex.writes)

    def account(self, index: int) -> Account:
        acc = self.writes.get(index)
        return acc if acc is not None else self.base.account(index)


def _user_commitment(
    work: L2State, txs: Sequence[StoredPayload], positions: list[int], fee_account: int
) -> tuple[PlannedCommitment | None, int | None, str]:
    """Execute the txs at `positions` as one commitment: (planned, None, "") or (None, the
    position to drop, why)."""
    transfers = [p for p in positions if isinstance(txs[p].tx, Transfer)]
    withdraws = [p for p in positions if isinstance(txs[p].tx, Withdraw)]
    order = transfers + withdraws
    signed = [txs[p].signed for p in order]
    c = Commitment(
        work.root,
        work.deposit_end,
        work.forced_end,
        fee_account,
        transfers=tuple(s.tx for s in signed if isinstance(s, SignedTransfer)),
        withdraws=tuple(s.tx for s in signed if isinstance(s, SignedWithdraw)),
        signature=aggregate_commitment(signed),
    )
    ex = execute(work, c, (), (), check_root=False)
    if not ex.ok:
        if ex.tx_index < 0:  # the fee credit failed: drop the last fee payer
            payers = [p for p in order if txs[p].tx.fee]
            return None, (payers[-1] if payers else order[-1]), ex.fault.name
        return None, order[ex.tx_index], ex.fault.name
    c = Commitment(
        ex.root,
        c.deposit_end,
        c.forced_end,
        fee_account,
        transfers=c.transfers,
        withdraws=c.withdraws,
        signature=c.signature,
    )
    try:
        nonces = signed_nonces(c, _PostState(work, ex))
    except SignerFault as bad:
        first = next(p for p in order if txs[p].tx.sender == bad.sender)
        return None, first, f"nonce rule: {bad}"
    for p, nonce in zip(order, nonces, strict=True):
        if txs[p].nonce != nonce:
            return None, p, f"signed for nonce {txs[p].nonce}, executes with {nonce}"
    return PlannedCommitment(c, (), (), ex, tuple(order)), None, ""


def plan_batch(
    state: L2State,
    deposits: Sequence[QueuedDeposit],
    forced: Sequence[QueuedForced],
    txs: Sequence[StoredPayload],
    fee_account: int,
) -> BatchPlan:
    """The batch posting `deposits`, `forced` (the next unconsumed queue entries) and as many of
    `txs` (acceptance order) as fit. With nothing valid to post, `commitments` is empty (and
    `dropped` says why each tx went)."""
    if deposits and deposits[0].index != state.deposit_end:
        raise ValueError(f"deposits must start at {state.deposit_end}, got {deposits[0].index}")
    if forced and forced[0].index != state.forced_end:
        raise ValueError(f"forced txs must start at {state.forced_end}, got {forced[0].index}")
    work = state.copy()
    pre_root = work.root
    planned = _queue_commitments(work, deposits, forced, fee_account)
    if len(planned) > MAX_COMMITMENTS_PER_BATCH:
        raise ValueError(f"more queue entries than {MAX_COMMITMENTS_PER_BATCH} commitments hold")
    dropped: list[tuple[int, str]] = []
    dead: set[int] = set()  # senders with a dropped tx: their later txs go too
    remaining = list(range(len(txs)))
    while remaining and len(planned) < MAX_COMMITMENTS_PER_BATCH:
        chunk: list[int] = []
        withdrawing: set[int] = set()
        rest: list[int] = []
        for i, p in enumerate(remaining):
            tx = txs[p].tx
            if tx.sender in dead:
                dropped.append((p, "an earlier tx of its sender was dropped (nonce gap)"))
                continue
            closes = isinstance(tx, Transfer) and tx.sender in withdrawing
            if len(chunk) == MAX_TXS_PER_COMMITMENT or closes:
                rest = remaining[i:]
                break
            chunk.append(p)
            if isinstance(tx, Withdraw):
                withdrawing.add(tx.sender)
        while chunk:
            one, bad, why = _user_commitment(work, txs, chunk, fee_account)
            if one is not None:
                commit(work, one.execution, one.commitment.deposit_end)
                planned.append(one)
                break
            assert bad is not None
            sender = txs[bad].tx.sender
            dead.add(sender)
            dropped.append((bad, why))
            later = [p for p in chunk if p != bad and txs[p].tx.sender == sender and p > bad]
            dropped.extend(
                (p, "an earlier tx of its sender was dropped (nonce gap)") for p in later
            )
            chunk = [p for p in chunk if p != bad and p not in later]
        remaining = rest
    return BatchPlan(pre_root, tuple(planned), tuple(sorted(dropped)), work)
