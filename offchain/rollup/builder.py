"""Operator side: turn queued deposits, forced txs and signed txs into a batch of format v2
commitments, each carrying the aggregate of its transfers' and withdraws' BLS signatures.

Signatures are not checked here (the batcher checks each one at admission,
signatures.find_bad_signatures); the builder only keeps every signed tx at the nonce it was
signed for: a commitment runs its transfers before its withdraws, so a sender's withdraw
followed by its transfer goes into two commitments, and once one of a sender's txs is dropped
every later one of that sender is dropped too (it was signed for a nonce that will not come).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from .codec import encode_batch
from .execute import Execution, Fault, commit, execute
from .params import MAX_BALANCE, MAX_COMMITMENTS_PER_BATCH, MAX_TXS_PER_COMMITMENT
from .signatures import aggregate_commitment
from .state import L2State
from .types import (
    Commitment,
    DepositTx,
    ForcedSlot,
    QueuedDeposit,
    QueuedForced,
    SignedTransfer,
    SignedTx,
    SignedWithdraw,
)

#: Reason of a tx dropped because an earlier tx of its sender was.
AFTER_DROPPED = "EARLIER_TX_OF_SENDER_DROPPED"
_PLACEHOLDER_SIGNATURE = b"\xc0" + bytes(47)  # compressed G1 identity; replaced by the aggregate


@dataclass(frozen=True)
class BuiltCommitment:
    """A commitment with what produced it (the pre-state deposit position and its execution)."""

    commitment: Commitment
    deposit_start: int
    deposits: tuple[QueuedDeposit, ...]
    execution: Execution
    forced: tuple[QueuedForced, ...] = ()
    signed: tuple[SignedTx, ...] = ()


@dataclass(frozen=True)
class BuiltBatch:
    pre_root: bytes
    commitments: tuple[BuiltCommitment, ...]
    rejected: tuple[tuple[SignedTx, str], ...]

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


@dataclass
class _Chunk:
    """The sections of one commitment being built."""

    deposits: list[DepositTx] = field(default_factory=list)
    transfers: list[SignedTransfer] = field(default_factory=list)
    withdraws: list[SignedWithdraw] = field(default_factory=list)
    outcomes: list[bool] = field(default_factory=list)

    @property
    def size(self) -> int:
        return len(self.deposits) + len(self.transfers) + len(self.withdraws) + len(self.outcomes)

    @property
    def signed(self) -> list[SignedTx]:
        return [*self.transfers, *self.withdraws]

    def commitment(
        self, post_root: bytes, deposit_end: int, forced_end: int, fee: int
    ) -> Commitment:
        signed = self.signed
        return Commitment(
            post_root,
            deposit_end,
            forced_end,
            fee,
            deposits=tuple(self.deposits),
            transfers=tuple(t.tx for t in self.transfers),
            withdraws=tuple(w.tx for w in self.withdraws),
            forced=tuple(ForcedSlot(applied=a) for a in self.outcomes),
            signature=aggregate_commitment(signed) if signed else b"",
        )

    def slot_tx(self, slot: int) -> SignedTx | None:
        """The signed tx at execution slot `slot` (None for a deposit or forced slot)."""
        i = slot - len(self.deposits)
        if 0 <= i < len(self.transfers):
            return self.transfers[i]
        i -= len(self.transfers)
        if 0 <= i < len(self.withdraws):
            return self.withdraws[i]
        return None

    def drop(self, tx: SignedTx) -> None:
        if isinstance(tx, SignedTransfer):
            self.transfers.remove(tx)
        else:
            self.withdraws.remove(tx)


def build_batch(
    state: L2State,
    deposits: Sequence[QueuedDeposit],
    txs: Sequence[SignedTx],
    *,
    fee_account: int = 0,
    forced: Sequence[QueuedForced] = (),
) -> tuple[BuiltBatch, L2State]:
    """Build a batch: every queued deposit first (in order), then every forced tx (in queue order,
    each applied or skipped as its validity dictates), then the signed user txs in the order
    given (each sender's in nonce order). Invalid user txs are dropped (reported in `rejected`,
    with every later tx of the same sender). Returns the batch and the post-state (a new
    L2State; `state` is left untouched)."""
    if deposits and deposits[0].index != state.deposit_end:
        raise ValueError(
            f"deposits must start at queue position {state.deposit_end}, got {deposits[0].index}"
        )
    if forced and forced[0].index != state.forced_end:
        raise ValueError(
            f"forced txs must start at queue position {state.forced_end}, got {forced[0].index}"
        )
    for t in txs:
        if not isinstance(t, SignedTransfer | SignedWithdraw):
            raise TypeError(f"build_batch takes signed transfers and withdraws, got {type(t)}")
    work = state.copy()
    pre_root = work.root
    dep_queue = list(zip(deposit_txs(work, deposits), deposits, strict=True))
    forced_left = len(forced)
    user = list(txs)
    built: list[BuiltCommitment] = []
    rejected: list[tuple[SignedTx, str]] = []
    dropped_senders: set[int] = set()
    while dep_queue or forced_left or user:
        if len(built) == MAX_COMMITMENTS_PER_BATCH:
            raise ValueError(f"more txs than {MAX_COMMITMENTS_PER_BATCH} commitments hold")
        chunk = _Chunk()
        deps: list[QueuedDeposit] = []
        while dep_queue and chunk.size < MAX_TXS_PER_COMMITMENT:
            tx, d = dep_queue.pop(0)
            chunk.deposits.append(tx)
            deps.append(d)
        fstart = work.forced_end - state.forced_end
        n_forced = min(forced_left, MAX_TXS_PER_COMMITMENT - chunk.size)
        chunk.outcomes = [True] * n_forced
        forced_left -= n_forced
        frc = tuple(forced[fstart : fstart + n_forced])
        withdrew: set[int] = set()
        while user and chunk.size < MAX_TXS_PER_COMMITMENT:
            t = user[0]
            if t.tx.sender in dropped_senders:
                rejected.append((user.pop(0), AFTER_DROPPED))
                continue
            if isinstance(t, SignedTransfer):
                if t.tx.sender in withdrew:
                    break  # it would run before that withdraw: next commitment
                chunk.transfers.append(t)
            else:
                chunk.withdraws.append(t)
                withdrew.add(t.tx.sender)
            user.pop(0)
        start = work.deposit_end
        dep_end = start + len(chunk.deposits)
        forced_end = work.forced_end + n_forced
        while True:
            trial = Commitment(
                bytes(32),
                dep_end,
                forced_end,
                fee_account,
                deposits=tuple(chunk.deposits),
                transfers=tuple(t.tx for t in chunk.transfers),
                withdraws=tuple(w.tx for w in chunk.withdraws),
                forced=tuple(ForcedSlot(applied=a) for a in chunk.outcomes),
                signature=_PLACEHOLDER_SIGNATURE if chunk.signed else b"",
            )
            ex = execute(work, trial, deps, frc, check_root=False)
            if ex.ok:
                break
            if ex.fault == Fault.FORCED_OUTCOME:
                # the forced tx is invalid here: mark its slot skipped (it is never dropped)
                k = ex.tx_index - len(chunk.deposits) - len(chunk.signed)
                chunk.outcomes[k] = False
                continue
            bad = chunk.slot_tx(ex.tx_index) if ex.tx_index >= 0 else None
            if ex.tx_index < 0 and ex.fault not in (Fault.DEPOSIT_MISMATCH, Fault.FORCED_MISMATCH):
                # crediting the fees failed (fee account missing, other token, overflow):
                # drop the last fee-paying tx and retry
                payers = [t for t in chunk.signed if t.tx.fee]
                bad = payers[-1] if payers else None
            if bad is None:
                raise ValueError(f"operator bug: commitment invalid ({ex.fault.name})")
            _drop_sender_from(chunk, bad, rejected, ex.fault.name)
            dropped_senders.add(bad.tx.sender)
        if chunk.size == 0:
            continue
        c = chunk.commitment(ex.root, dep_end, forced_end, fee_account)
        commit(work, ex, dep_end)
        built.append(BuiltCommitment(c, start, tuple(deps), ex, frc, tuple(chunk.signed)))
    if not built:
        raise ValueError("nothing to post: no deposits, no forced txs and no valid txs")
    return BuiltBatch(pre_root, tuple(built), tuple(rejected)), work


def _drop_sender_from(
    chunk: _Chunk, bad: SignedTx, rejected: list[tuple[SignedTx, str]], reason: str
) -> None:
    """Drop `bad` and every later tx of its sender in the chunk (posted order)."""
    sender = bad.tx.sender
    signed = chunk.signed
    at = signed.index(bad)
    chunk.drop(bad)
    rejected.append((bad, reason))
    for t in signed[at + 1 :]:
        if t.tx.sender == sender:
            chunk.drop(t)
            rejected.append((t, AFTER_DROPPED))
