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
) -> ReplayResult:
    """Replay `batches` (index order, from 0) over the deposit `queue` and the `forced` queue;
    stop at the first fraud."""
    state = L2State()
    claims: list[WithdrawalClaim] = []
    for n, b in enumerate(batches):
        if b.index != n:
            raise ValueError(f"batches must be consecutive from 0: got index {b.index} at {n}")
        try:
            commitments = decode_batch(b.data)
        except CodecError as e:  # the contract refuses such data, so this is not a fraud case
            raise ValueError(
                f"batch {b.index} does not decode ({e}); is this the posted data?"
            ) from e
        for ci, c in enumerate(commitments):
            start = state.deposit_end
            deposits = tuple(queue[start : c.deposit_end])
            if len(deposits) != c.deposit_end - start:
                raise ValueError(
                    f"batch {b.index} consumes deposits to {c.deposit_end}; {len(queue)} known"
                )
            fstart = state.forced_end
            frc = tuple(forced[fstart : c.forced_end])
            if len(frc) != c.forced_end - fstart:
                raise ValueError(
                    f"batch {b.index} consumes forced txs to {c.forced_end}; {len(forced)} known"
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
    return ReplayResult(state, None, tuple(claims), len(batches))


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
            )
        )
    return out
