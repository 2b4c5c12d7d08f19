"""Validator core (pure): replay posted batches from genesis, find the first wrong commitment.

Format v2: each commitment is checked twice, in this order: its state transition (execute.py;
a fault is proven by the state dispute, `FraudProof`), then its aggregate signature over the
post-state's nonces under the signers' keys valid at the batch's posting block
(signatures.py; a fault is proven by the signature dispute, `SignatureProof`). Keys come from
the registry's history (offchain.bls.registry.KeyHistory, rebuilt from L1 events)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from offchain.bls.registry import KeyHistory

from .codec import CodecError, decode_batch
from .execute import Execution, Fault, commit, execute
from .proofs import FraudProof, SignatureProof, WithdrawalClaim, fraud_proof, signature_proof
from .signatures import KeysAt, check_commitment_signature
from .state import L2State
from .types import Account, Commitment, QueuedDeposit, QueuedForced

if TYPE_CHECKING:
    from .blob_read import BlobFraudProof


@dataclass(frozen=True)
class PostedBatch:
    """A live batch as read from L1: its index, the `data` argument of its posting tx and the
    block it was posted in (`Rollup.batches(i).postedBlock`: the signers' keys are those valid
    then)."""

    index: int
    data: bytes
    posted_block: int = 0


@dataclass(frozen=True)
class Fraud:
    batch_index: int
    commitment_index: int
    fault: Fault
    tx_index: int
    #: BlobFraudProof: a blob batch whose blobs do not hold a commitment (blob_read.py).
    proof: FraudProof | SignatureProof | BlobFraudProof

    @property
    def is_signature_fraud(self) -> bool:
        """Proven by the signature dispute (proveSignatureFraud), not the state dispute."""
        return isinstance(self.proof, SignatureProof)


@dataclass(frozen=True)
class ReplayResult:
    state: L2State
    fraud: Fraud | None
    withdrawals: tuple[WithdrawalClaim, ...]
    batches_ok: int


def keys_at_block(keys: KeyHistory, block: int) -> KeysAt:
    """The key lookup of a batch posted in `block`."""
    return lambda owner: keys.key_at(owner, block)


def replay(
    batches: Sequence[PostedBatch],
    queue: Sequence[QueuedDeposit],
    dst: bytes,
    forced: Sequence[QueuedForced] = (),
    start: L2State | None = None,
    first: int = 0,
    keys: KeyHistory | None = None,
) -> ReplayResult:
    """Replay `batches` (index order, from `first`) over the deposit `queue` and the `forced`
    queue; stop at the first fraud. From genesis by default; from a verified checkpoint, `start`
    is the state after batch `first - 1` (mutated in place: pass a copy) and the queues may begin
    at any index up to the state's positions (their first entry's `index` says where).
    `batches_ok` counts from 0, the checkpoint's batches included.

    `dst` is the rollup's BLS tag (RollupL1.signing_dst). With `keys` (the registry history)
    every commitment's aggregate is checked as well (a bad one is a signature fraud); without
    it only state transitions are checked (the caller accepts the aggregates unseen)."""
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
            commitments = decode_batch(b.data, state.deposit_end, state.forced_end)
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
            ex = execute(state, c, deposits, frc)
            if not ex.ok:
                proof = fraud_proof(b.index, commitments, ci, deposits, ex, frc)
                return ReplayResult(
                    state, Fraud(b.index, ci, ex.fault, ex.tx_index, proof), tuple(claims), n
                )
            if keys is not None and c.signed:
                view = _PostView(state, dict(ex.writes))
                keys_at = keys_at_block(keys, b.posted_block)
                sig_fault = check_commitment_signature(c, view, keys_at, dst)
                if sig_fault != Fault.NONE:
                    post = L2State(ex.tree, {**state.accounts, **view.writes})
                    sproof = signature_proof(b.index, commitments, ci, post, keys_at)
                    return ReplayResult(
                        state, Fraud(b.index, ci, sig_fault, -1, sproof), tuple(claims), n
                    )
            commit(state, ex, c.deposit_end)
            claims.extend(_claims(b.index, commitments, ci, c, ex, state))
    return ReplayResult(state, None, tuple(claims), first + len(batches))


@dataclass(frozen=True)
class _PostView:
    """A commitment's post-state accounts without copying the state: its writes over the
    pre-state."""

    pre: L2State
    writes: dict[int, Account]

    def account(self, index: int) -> Account:
        acc = self.writes.get(index)
        return acc if acc is not None else self.pre.account(index)


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
