"""Operator side: turn queued deposits, forced txs and signed txs into a batch of commitments."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from .codec import encode_batch, encode_txs
from .execute import Execution, Fault, commit, execute
from .params import MAX_BALANCE, MAX_COMMITMENTS_PER_BATCH, MAX_TXS_PER_COMMITMENT
from .state import L2State
from .types import Commitment, DepositTx, ForcedSlot, QueuedDeposit, QueuedForced, Tx


@dataclass(frozen=True)
class BuiltCommitment:
    """A commitment with what produced it (the pre-state deposit position and its execution)."""

    commitment: Commitment
    deposit_start: int
    deposits: tuple[QueuedDeposit, ...]
    execution: Execution
    forced: tuple[QueuedForced, ...] = ()


@dataclass(frozen=True)
class BuiltBatch:
    pre_root: bytes
    commitments: tuple[BuiltCommitment, ...]
    rejected: tuple[tuple[Tx, str], ...]

    @property
    def data(self) -> bytes:
        return encode_batch([c.commitment for c in self.commitments])

    @property
    def post_root(self) -> bytes:
        return self.commitments[-1].commitment.post_root


def deposit_txs(state: L2State, deposits: Sequence[QueuedDeposit]) -> list[DepositTx]:
    """Route each deposit to the owner's existing account of that token (unless crediting it
    would overflow 2^128-1), else to a new account at the lowest never-used index (queue order)."""
    known: dict[tuple[str, str], tuple[int, int]] = {
        (a.owner, a.token): (i, a.balance) for i, a in state.accounts.items()
    }
    next_free = state.next_free_index()
    out = []
    for d in deposits:
        key = (d.owner, d.token)
        index, balance = known.get(key, (-1, 0))
        if index < 0 or balance + d.amount > MAX_BALANCE:
            index, balance = next_free, 0
            next_free += 1
        known[key] = (index, balance + d.amount)
        out.append(DepositTx(index))
    return out


def build_batch(
    state: L2State,
    deposits: Sequence[QueuedDeposit],
    txs: Sequence[Tx],
    separator: bytes,
    fee_account: int = 0,
    forced: Sequence[QueuedForced] = (),
) -> tuple[BuiltBatch, L2State]:
    """Build a batch: every queued deposit first (in order), then every forced tx (in queue order,
    each applied or skipped as its validity dictates), then the user txs. Invalid user txs are
    dropped (reported in `rejected`). Returns the batch and the post-state (a new L2State; `state`
    is left untouched)."""
    if deposits and deposits[0].index != state.deposit_end:
        raise ValueError(
            f"deposits must start at queue position {state.deposit_end}, got {deposits[0].index}"
        )
    if forced and forced[0].index != state.forced_end:
        raise ValueError(
            f"forced txs must start at queue position {state.forced_end}, got {forced[0].index}"
        )
    work = state.copy()
    pre_root = work.root
    queue: list[Tx] = [
        *deposit_txs(work, deposits),
        *(ForcedSlot(applied=True) for _ in forced),
        *txs,
    ]
    dep_iter = list(deposits)
    forced_iter = list(forced)
    built: list[BuiltCommitment] = []
    rejected: list[tuple[Tx, str]] = []
    pos = 0
    while pos < len(queue):
        if len(built) == MAX_COMMITMENTS_PER_BATCH:
            raise ValueError(f"more txs than {MAX_COMMITMENTS_PER_BATCH} commitments hold")
        chunk = queue[pos : pos + MAX_TXS_PER_COMMITMENT]
        pos += len(chunk)
        while chunk:
            n_dep = sum(isinstance(t, DepositTx) for t in chunk)
            n_forced = sum(isinstance(t, ForcedSlot) for t in chunk)
            start = work.deposit_end
            deps = tuple(dep_iter[start - state.deposit_end : start - state.deposit_end + n_dep])
            fstart = work.forced_end - state.forced_end
            frc = tuple(forced_iter[fstart : fstart + n_forced])
            ex = execute(work, encode_txs(chunk), fee_account, deps, separator, frc)
            if ex.ok:
                c = Commitment(
                    ex.root,
                    start + n_dep,
                    fee_account,
                    encode_txs(chunk),
                    work.forced_end + n_forced,
                )
                commit(work, ex, start + n_dep)
                built.append(BuiltCommitment(c, start, deps, ex, frc))
                break
            bad = ex.tx_index
            if ex.fault == Fault.FORCED_OUTCOME:
                # the forced tx is invalid here: mark its slot skipped (it is never dropped)
                chunk[bad] = ForcedSlot(applied=False)
                continue
            if bad < 0 and ex.fault not in (Fault.DEPOSIT_MISMATCH, Fault.FORCED_MISMATCH):
                # crediting the fees failed (fee account missing, other token, overflow):
                # drop the last fee-paying tx and retry
                payers = [i for i, t in enumerate(chunk) if getattr(t, "fee", 0)]
                bad = payers[-1] if payers else -1
            if bad < 0 or isinstance(chunk[bad], DepositTx | ForcedSlot):
                raise ValueError(f"operator bug: commitment invalid ({ex.fault.name})")
            rejected.append((chunk[bad], ex.fault.name))
            del chunk[bad]
    if not built:
        raise ValueError("nothing to post: no deposits, no forced txs and no valid txs")
    return BuiltBatch(pre_root, tuple(built), tuple(rejected)), work
