"""The state-transition function of format v2: execute one commitment against a pre-state.

Pure: reads an L2State, writes only to an overlay it returns. No signature is checked here (the
aggregate is judged by signatures.py and by the separate signature dispute). Sections run in the
posted order — deposits, transfers, withdraws, forced slots — then the fee credit, and the leaf
accesses are those of the on-chain executor, so the witnesses recorded here are the state
dispute's evidence. Any invalid deposit, transfer or withdraw makes the whole commitment invalid;
a forced tx (queued on L1, authenticated by its L1 sender) is skipped when invalid, and its
slot's outcome byte must say which happened.

Slot indexes (`Execution.tx_index`, `WithdrawalRecord.tx_index`) count in posted order across the
sections: deposits 0..d-1, transfers d.., withdraws, forced slots.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import IntEnum

from .codec import CodecError, decode_forced_tx
from .merkle import SparseMerkleTree
from .params import MAX_BALANCE, MAX_NONCE
from .state import L2State
from .types import Account, Commitment, QueuedDeposit, QueuedForced, Transfer, Withdraw


class Fault(IntEnum):
    """Why a commitment is wrong (the contract's FraudProven reason codes)."""

    NONE = 0
    MALFORMED = 1
    BAD_SIGNATURE = 2  # v2: the aggregate does not verify (signature dispute only)
    OVERSPEND = 3
    NO_ACCOUNT = 4
    TOKEN_MISMATCH = 5
    BALANCE_OVERFLOW = 6
    DEPOSIT_MISMATCH = 7
    WRONG_ROOT = 8
    ZERO_WITHDRAW = 9
    NONCE_EXHAUSTED = 10
    FORCED_MISMATCH = 11
    FORCED_OUTCOME = 12
    NO_KEY = 13  # a signer has no registered key at the batch's postedBlock (signature dispute)
    BLOB_MISMATCH = 14  # a blob batch's blobs do not hold a commitment's rest (blob dispute)


@dataclass(frozen=True)
class LeafAccess:
    """One witness: the leaf at `index` before the access and its siblings in the current tree."""

    index: int
    account: Account
    siblings: tuple[bytes, ...]

    def encode(self) -> bytes:
        """account(60) | siblings(24 x 32) = 828 bytes."""
        return self.account.packed() + b"".join(self.siblings)


@dataclass(frozen=True)
class WithdrawalRecord:
    """A withdraw executed in a commitment: what L1 pays once the batch is final."""

    tx_index: int
    account: int
    owner: str
    token: str
    amount: int
    forced_tx: bytes = b""  # the forced-queue entry, when the withdraw came through a forced slot
    forced_sender: str = ""  # that entry's L1 sender (the claim proves the entry with it)


@dataclass(frozen=True)
class Execution:
    """Result of executing a commitment. `fault` is NONE when every step was valid."""

    fault: Fault
    tx_index: int  # slot of the failing step (-1 for commitment-level faults or success)
    root: bytes  # root reached (the full post-root when fault is NONE)
    accesses: tuple[LeafAccess, ...]
    writes: tuple[tuple[int, Account], ...]
    withdrawals: tuple[WithdrawalRecord, ...]
    tree: SparseMerkleTree  # overlay holding the new nodes (merge with `commit`)
    deposits_consumed: int
    forced_consumed: int = 0

    @property
    def ok(self) -> bool:
        return self.fault == Fault.NONE

    def witness_bytes(self) -> bytes:
        return b"".join(a.encode() for a in self.accesses)


class _Invalid(Exception):
    def __init__(self, fault: Fault) -> None:
        self.fault = fault


class _Run:
    """The mutable scratch of one execution (never escapes `execute`)."""

    def __init__(self, state: L2State) -> None:
        self.tree = state.tree.overlay()
        self.base = state
        self.accounts: dict[int, Account] = {}
        self.accesses: list[LeafAccess] = []
        self.fee_token: str | None = None
        self.fee_total = 0

    def get(self, index: int) -> Account:
        acc = self.accounts.get(index)
        return acc if acc is not None else self.base.account(index)

    def access(self, index: int) -> Account:
        acc = self.get(index)
        self.accesses.append(LeafAccess(index, acc, tuple(self.tree.proof(index))))
        return acc

    def put(self, index: int, acc: Account) -> None:
        self.accounts[index] = acc
        self.tree.set_leaf(index, acc.leaf_hash())


def _debit_signed(run: _Run, sender: int, amount: int, fee: int) -> Account:
    """A transfer's or withdraw's sender: balance -= amount + fee, nonce += 1, fee collected."""
    acc = run.access(sender)
    if acc.is_empty:
        raise _Invalid(Fault.NO_ACCOUNT)
    if amount + fee > acc.balance:
        raise _Invalid(Fault.OVERSPEND)
    if acc.nonce == MAX_NONCE:
        raise _Invalid(Fault.NONCE_EXHAUSTED)
    if fee:
        if run.fee_token is None:
            run.fee_token = acc.token
        elif run.fee_token != acc.token:
            raise _Invalid(Fault.TOKEN_MISMATCH)
        run.fee_total += fee
    new = Account(acc.owner, acc.token, acc.balance - amount - fee, acc.nonce + 1)
    run.put(sender, new)
    return new


def _debit_forced(run: _Run, sender: int, amount: int, l1_sender: str) -> Account:
    """A forced tx's sender: must be owned by the L1 sender; no fee, nonce unchanged."""
    acc = run.access(sender)
    if acc.is_empty or acc.owner != l1_sender:
        raise _Invalid(Fault.NO_ACCOUNT)
    if amount > acc.balance:
        raise _Invalid(Fault.OVERSPEND)
    new = Account(acc.owner, acc.token, acc.balance - amount, acc.nonce)
    run.put(sender, new)
    return new


def _credit_recipient(run: _Run, recipient: int, token: str, amount: int) -> None:
    to = run.access(recipient)
    if to.is_empty:
        raise _Invalid(Fault.NO_ACCOUNT)
    if to.token != token:
        raise _Invalid(Fault.TOKEN_MISMATCH)
    if to.balance + amount > MAX_BALANCE:
        raise _Invalid(Fault.BALANCE_OVERFLOW)
    run.put(recipient, Account(to.owner, to.token, to.balance + amount, to.nonce))


def _deposit(run: _Run, account: int, d: QueuedDeposit) -> None:
    acc = run.access(account)
    if acc.is_empty:
        new = Account(d.owner, d.token, d.amount, 0)
    elif acc.owner != d.owner or acc.token != d.token:
        raise _Invalid(Fault.TOKEN_MISMATCH)
    elif acc.balance + d.amount > MAX_BALANCE:
        raise _Invalid(Fault.BALANCE_OVERFLOW)
    else:
        new = Account(acc.owner, acc.token, acc.balance + d.amount, acc.nonce)
    run.put(account, new)


def _apply_forced(run: _Run, tx: Transfer | Withdraw, l1_sender: str) -> Account:
    """Validity and effect of a forced tx (raises _Invalid when it must be skipped)."""
    if isinstance(tx, Withdraw) and tx.amount == 0:
        raise _Invalid(Fault.ZERO_WITHDRAW)
    sender = _debit_forced(run, tx.sender, tx.amount, l1_sender)
    if isinstance(tx, Transfer):
        _credit_recipient(run, tx.recipient, sender.token, tx.amount)
    return sender


def first_malformed(c: Commitment) -> int | None:
    """The first slot holding an undecodable value (an amount above 2^128-1, an outcome byte
    other than 0/1), as L2Codec.firstMalformed: such a commitment is MALFORMED before any leaf
    is read (the proof carries no witness). None when every value decodes."""
    slot = len(c.deposits)
    for i, tx in enumerate(c.signed):
        if tx.amount > MAX_BALANCE:
            return slot + i
    slot += len(c.transfers) + len(c.withdraws)
    for i, f in enumerate(c.forced):
        if f.malformed:
            return slot + i
    return None


def execute(
    state: L2State,
    commitment: Commitment,
    deposits: Sequence[QueuedDeposit],
    forced: Sequence[QueuedForced] = (),
    *,
    check_root: bool = True,
) -> Execution:
    """Execute `commitment` on `state`, consuming exactly `deposits` and `forced` (the queue
    entries of its declared ranges). Returns the fault of the first invalid step (with the
    witnesses up to it) or the post-state; with `check_root` a root other than the posted
    postRoot is WRONG_ROOT (a builder computing the root passes False)."""
    c = commitment
    run = _Run(state)
    withdrawals: list[WithdrawalRecord] = []
    consumed = 0
    forced_consumed = 0
    slot = -1
    try:
        bad = first_malformed(c)
        if bad is not None:  # decoding comes first: no leaf is read (the contract's order)
            slot = bad
            raise _Invalid(Fault.MALFORMED)
        for dep_tx in c.deposits:
            slot += 1
            if consumed == len(deposits):
                raise _Invalid(Fault.DEPOSIT_MISMATCH)
            _deposit(run, dep_tx.account, deposits[consumed])
            consumed += 1
        for t in c.transfers:
            slot += 1
            sender = _debit_signed(run, t.sender, t.amount, t.fee)
            _credit_recipient(run, t.recipient, sender.token, t.amount)
        for w in c.withdraws:
            slot += 1
            if w.amount == 0:
                raise _Invalid(Fault.ZERO_WITHDRAW)
            sender = _debit_signed(run, w.sender, w.amount, w.fee)
            withdrawals.append(
                WithdrawalRecord(slot, w.sender, sender.owner, sender.token, w.amount)
            )
        for fslot in c.forced:
            slot += 1
            if forced_consumed == len(forced):
                raise _Invalid(Fault.FORCED_MISMATCH)
            entry = forced[forced_consumed]
            forced_consumed += 1
            try:
                ftx = decode_forced_tx(entry.data)
            except CodecError:
                raise _Invalid(Fault.MALFORMED) from None  # QueuedForced never holds one
            saved_tree, saved_accounts = run.tree, dict(run.accounts)
            run.tree = saved_tree.overlay()
            try:
                debited = _apply_forced(run, ftx, entry.sender)
                applied = True
            except _Invalid:
                applied = False
            if applied:
                run.tree.merge()
                if isinstance(ftx, Withdraw):
                    withdrawals.append(
                        WithdrawalRecord(
                            slot,
                            ftx.sender,
                            debited.owner,
                            debited.token,
                            ftx.amount,
                            entry.data,
                            entry.sender,
                        )
                    )
            else:  # skipped: nothing changes (the witnesses read stay in the evidence)
                run.accounts = saved_accounts
            run.tree = saved_tree
            if applied != fslot.applied:
                raise _Invalid(Fault.FORCED_OUTCOME)
        slot = -1
        if consumed != len(deposits):
            raise _Invalid(Fault.DEPOSIT_MISMATCH)
        if forced_consumed != len(forced):
            raise _Invalid(Fault.FORCED_MISMATCH)
        if run.fee_total:
            acc = run.access(c.fee_account)
            if acc.is_empty:
                raise _Invalid(Fault.NO_ACCOUNT)
            if acc.token != run.fee_token:
                raise _Invalid(Fault.TOKEN_MISMATCH)
            if acc.balance + run.fee_total > MAX_BALANCE:
                raise _Invalid(Fault.BALANCE_OVERFLOW)
            run.put(
                c.fee_account, Account(acc.owner, acc.token, acc.balance + run.fee_total, acc.nonce)
            )
        if check_root and run.tree.root != c.post_root:
            raise _Invalid(Fault.WRONG_ROOT)
        fault = Fault.NONE
    except _Invalid as bad:
        fault = bad.fault
    return Execution(
        fault=fault,
        tx_index=slot if fault != Fault.NONE else -1,
        root=run.tree.root,
        accesses=tuple(run.accesses),
        writes=tuple(run.accounts.items()),
        withdrawals=tuple(withdrawals),
        tree=run.tree,
        deposits_consumed=consumed,
        forced_consumed=forced_consumed,
    )


def commit(state: L2State, execution: Execution, deposit_end: int) -> None:
    """Apply a valid execution to `state` (the only mutation of an L2State)."""
    if not execution.ok:
        raise ValueError(f"refusing to apply an invalid execution ({execution.fault.name})")
    if execution.tree._base is not state.tree:
        raise ValueError("this execution was computed on another state")
    execution.tree.merge()
    state.accounts.update(execution.writes)
    state.deposit_end = deposit_end
    state.forced_end += execution.forced_consumed
