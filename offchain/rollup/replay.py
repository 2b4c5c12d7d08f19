"""Validator core (pure): replay posted batches from genesis, find the first wrong commitment."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from .codec import CodecError, decode_batch
from .execute import Execution, Fault, commit, execute
from .proofs import FraudProof, WithdrawalClaim, fraud_proof
from .state import L2State
from .types import Commitment, QueuedDeposit, QueuedForced


@dataclass(frozen=True)
class PostedBatch:
    """A live batch as read from L1: its index and the `data` argument of its posting tx."""

    index: int
    data: bytes


@dataclass(frozen=True)
class Fraud:
    batch_index: int
    commitment_index: int
    fault: Fault
    tx_index: int
    proof: FraudProof


@dataclass(frozen=True)
class ReplayResult:
    state: L2State
    fraud: Fraud | None
    withdrawals: tuple[WithdrawalClaim, ...]
    batches_ok: int


def replay(
    batches: Sequence[PostedBatch],
    queue: Sequence[QueuedDeposit],
    separator: bytes,
    forced: Sequence[QueuedForced] = (),
    start: L2State | None = None,
    first: int = 0,
) -> ReplayResult:
    """Replay `batches` (index order, from `first`) over the deposit `queue` and the `forced`
    queue; stop at the first fraud. From genesis by default; from a verified checkpoint, `start`
    is the state after batch `first - 1` (mutated in place: pass a copy) and the queues may begin
    at any index up to the state's positions (their first entry's `index` says where).
    `batches_ok` counts from 0, the checkpoint's batches included."""
    state = L2State() if start is None else start
    if start is None and first != 0:
        raise ValueError("replay from batch `first` > 0 needs the state after batch first - 1")
    dbase = _base(queue, state.deposit_end, "deposit")
    fbase = _base(forced, state.forced_end, "forced")
    claims: list[WithdrawalClaim] = []
    for k, b in enumerate(batches):
        n = first + k
        if b.index != n:
            raise ValueError(
                f"batches must be consecutive from {first}: got index {b.index} at {n}"
            )
        try:
            commitments = decode_batch(b.data)
        except CodecError as e:  # the contract refuses such data, so this is not a fraud case
            raise ValueError(
                f"batch {b.index} does not decode ({e}); is this the posted data?"
            ) from e
        for ci, c in enumerate(commitments):
            dstart = state.deposit_end
            deposits = tuple(queue[dstart - dbase : max(c.deposit_end - dbase, 0)])
            if len(deposits) != c.deposit_end - dstart:
                raise ValueError(
                    f"batch {b.index} consumes deposits to {c.deposit_end}; "
                    f"{dbase + len(queue)} known"
                )
            fstart = state.forced_end
            frc = tuple(forced[fstart - fbase : max(c.forced_end - fbase, 0)])
            if len(frc) != c.forced_end - fstart:
                raise ValueError(
                    f"batch {b.index} consumes forced txs to {c.forced_end}; "
                    f"{fbase + len(forced)} known"
                )
            ex = execute(state, c.tx_data, c.fee_account, deposits, separator, frc)
            if not ex.ok or ex.root != c.post_root:
                fault = ex.fault if not ex.ok else Fault.WRONG_ROOT
                proof = fraud_proof(b.index, commitments, ci, deposits, ex, frc)
                return ReplayResult(
                    state, Fraud(b.index, ci, fault, ex.tx_index, proof), tuple(claims), n
                )
            commit(state, ex, c.deposit_end)
            claims.extend(_claims(b.index, commitments, ci, c, ex, state))
    return ReplayResult(state, None, tuple(claims), first + len(batches))


def _base(queue: Sequence[QueuedDeposit] | Sequence[QueuedForced], end: int, what: str) -> int:
    """The absolute index of the queue's first entry (0 for a whole queue); it must not start
    after the state's position in it, or the entries in between would be missing."""
    if not queue:
        return end
    base = queue[0].index
    if base > end:
        raise ValueError(f"the {what} queue starts at {base}, after the state's position {end}")
    return base


def _claims(
    batch_index: int,
    commitments: Sequence[Commitment],
    ci: int,
    c: Commitment,
    ex: Execution,
    state: L2State,
) -> list[WithdrawalClaim]:
    hashes = tuple(x.hash() for x in commitments)
    out = []
    for w in ex.withdrawals:
        acc = state.account(w.account)
        out.append(
            WithdrawalClaim(
                batch_index=batch_index,
                commitment_hashes=hashes,
                commitment_index=ci,
                commitment=c,
                tx_index=w.tx_index,
                account_leaf=acc.packed(),
                siblings=tuple(state.tree.proof(w.account)),
                owner=w.owner,
                token=w.token,
                amount=w.amount,
                forced_tx=w.forced_tx,
                forced_sender=w.forced_sender,
            )
        )
    return out
