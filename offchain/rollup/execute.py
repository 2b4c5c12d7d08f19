"""The state-transition function: execute one commitment's txs against a pre-state.

Pure: reads an L2State, writes only to an overlay it returns. The order of checks and of leaf
accesses is exactly the one of contracts/rollup/CommitmentExecutor.sol, so the witnesses recorded
here are the evidence a fraud proof needs. Any invalid tx makes the whole commitment invalid,
except a forced tx (queued on L1), which is skipped when invalid; its slot's outcome byte must say
so.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from enum import IntEnum

from .codec import CodecError, decode_tx_at
from .eip712 import recover, transfer_digest, withdraw_digest
from .merkle import SparseMerkleTree
from .params import MAX_BALANCE, MAX_NONCE, MAX_TXS_PER_COMMITMENT
from .state import L2State
from .types import Account, DepositTx, ForcedSlot, QueuedDeposit, QueuedForced, Transfer, Withdraw


class Fault(IntEnum):
    """Why a commitment is wrong (the contract's FraudProven reason codes)."""

    NONE = 0
    MALFORMED = 1
    BAD_SIGNATURE = 2
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


@dataclass(frozen=True)
class LeafAccess:
    """One witness: the leaf at `index` before the access and its siblings in the current tree."""

    index: int
    account: Account
    siblings: tuple[bytes, ...]

    def encode(self) -> bytes:
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


@dataclass(frozen=True)
class Execution:
    """Result of executing a commitment's txs. `fault` is NONE when every tx was valid."""

    fault: Fault
    tx_index: int  # index of the failing tx (-1 for commitment-level faults or success)
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


class _Run:
    def __init__(self, state: L2State) -> None:
        self.tree = state.tree.overlay()
        self.base = state
        self.accounts: dict[int, Account] = {}
        self.accesses: list[LeafAccess] = []

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


class _Invalid(Exception):
    def __init__(self, fault: Fault) -> None:
        self.fault = fault


def _debit(
    run: _Run,
    sender: int,
    amount: int,
    fee: int,
    digest_of: Callable[[int], tuple[bytes, bytes]],
    fee_state: list,
    charge_fee: bool,
) -> Account:
    acc = run.access(sender)
    if acc.is_empty:
        raise _Invalid(Fault.NO_ACCOUNT)
    digest, sig = digest_of(acc.nonce)
    if recover(digest, sig) != acc.owner:
        raise _Invalid(Fault.BAD_SIGNATURE)
    if not charge_fee:
        fee = 0  # forced txs: the signature covers the fee, but it is not charged
    if amount + fee > acc.balance:
        raise _Invalid(Fault.OVERSPEND)
    if acc.nonce == MAX_NONCE:
        raise _Invalid(Fault.NONCE_EXHAUSTED)
    if fee:
        if fee_state[0] is None:
            fee_state[0] = acc.token
        elif fee_state[0] != acc.token:
            raise _Invalid(Fault.TOKEN_MISMATCH)
        fee_state[1] += fee
    new = Account(acc.owner, acc.token, acc.balance - amount - fee, acc.nonce + 1)
    run.put(sender, new)
    return new


def _signed(
    run: _Run, tx: Transfer | Withdraw, separator: bytes, fee_state: list, charge_fee: bool
) -> Account | None:
    """Apply a transfer or withdraw; returns the debited sender for a withdraw (else None)."""
    if isinstance(tx, Transfer):
        t = tx
        sender = _debit(
            run,
            t.sender,
            t.amount,
            t.fee,
            lambda n: (
                transfer_digest(separator, t.sender, t.recipient, t.amount, t.fee, n),
                t.signature,
            ),
            fee_state,
            charge_fee,
        )
        to = run.access(t.recipient)
        if to.is_empty:
            raise _Invalid(Fault.NO_ACCOUNT)
        if to.token != sender.token:
            raise _Invalid(Fault.TOKEN_MISMATCH)
        if to.balance + t.amount > MAX_BALANCE:
            raise _Invalid(Fault.BALANCE_OVERFLOW)
        run.put(t.recipient, Account(to.owner, to.token, to.balance + t.amount, to.nonce))
        return None
    w = tx
    if w.amount == 0:
        raise _Invalid(Fault.ZERO_WITHDRAW)
    return _debit(
        run,
        w.sender,
        w.amount,
        w.fee,
        lambda n: (withdraw_digest(separator, w.sender, w.amount, w.fee, n), w.signature),
        fee_state,
        charge_fee,
    )


def decode_forced(data: bytes) -> Transfer | Withdraw:
    """The transfer or withdraw of a forced-queue entry (checked well-formed on L1)."""
    tx, end = decode_tx_at(data, 0)
    if end != len(data) or not isinstance(tx, Transfer | Withdraw):
        raise ValueError("a forced tx is exactly one encoded transfer or withdraw")
    return tx


def execute(
    state: L2State,
    tx_data: bytes,
    fee_account: int,
    deposits: Sequence[QueuedDeposit],
    separator: bytes,
    forced: Sequence[QueuedForced] = (),
) -> Execution:
    """Execute `tx_data` on `state`, consuming exactly `deposits` and `forced` (the commitment's
    declared ranges). Returns the fault of the first invalid step (with the witnesses up to it) or
    the post-state. An invalid forced tx is skipped, not a fault, if its slot says so.
    """
    run = _Run(state)
    withdrawals: list[WithdrawalRecord] = []
    fee_state: list = [None, 0]  # fee token, fee total
    consumed = 0
    forced_consumed = 0
    tx_index = -1
    try:
        offset = 0
        count = 0
        while offset < len(tx_data):
            tx_index = count
            if count == MAX_TXS_PER_COMMITMENT:
                raise _Invalid(Fault.MALFORMED)
            try:
                tx, offset = decode_tx_at(tx_data, offset)
            except CodecError:
                raise _Invalid(Fault.MALFORMED) from None
            count += 1
            if isinstance(tx, DepositTx):
                if consumed == len(deposits):
                    raise _Invalid(Fault.DEPOSIT_MISMATCH)
                d = deposits[consumed]
                consumed += 1
                acc = run.access(tx.account)
                if acc.is_empty:
                    new = Account(d.owner, d.token, d.amount, 0)
                elif acc.owner != d.owner or acc.token != d.token:
                    raise _Invalid(Fault.TOKEN_MISMATCH)
                elif acc.balance + d.amount > MAX_BALANCE:
                    raise _Invalid(Fault.BALANCE_OVERFLOW)
                else:
                    new = Account(acc.owner, acc.token, acc.balance + d.amount, acc.nonce)
                run.put(tx.account, new)
            elif isinstance(tx, ForcedSlot):
                if forced_consumed == len(forced):
                    raise _Invalid(Fault.FORCED_MISMATCH)
                entry = forced[forced_consumed]
                forced_consumed += 1
                ftx = decode_forced(entry.data)
                saved_tree, saved_accounts = run.tree, dict(run.accounts)
                run.tree = saved_tree.overlay()
                try:
                    debited = _signed(run, ftx, separator, fee_state, charge_fee=False)
                    applied = True
                except _Invalid:
                    applied = False
                if applied:
                    run.tree.merge()
                    if isinstance(ftx, Withdraw):
                        assert debited is not None
                        withdrawals.append(
                            WithdrawalRecord(
                                tx_index,
                                ftx.sender,
                                debited.owner,
                                debited.token,
                                ftx.amount,
                                entry.data,
                            )
                        )
                else:  # skipped: nothing changes (the witnesses read stay in the evidence)
                    run.accounts = saved_accounts
                run.tree = saved_tree
                if applied != tx.applied:
                    raise _Invalid(Fault.FORCED_OUTCOME)
            else:
                debited = _signed(run, tx, separator, fee_state, charge_fee=True)
                if isinstance(tx, Withdraw):
                    assert debited is not None
                    withdrawals.append(
                        WithdrawalRecord(
                            tx_index, tx.sender, debited.owner, debited.token, tx.amount
                        )
                    )
        tx_index = -1
        if consumed != len(deposits):
            raise _Invalid(Fault.DEPOSIT_MISMATCH)
        if forced_consumed != len(forced):
            raise _Invalid(Fault.FORCED_MISMATCH)
        if fee_state[1]:
            acc = run.access(fee_account)
            if acc.is_empty:
                raise _Invalid(Fault.NO_ACCOUNT)
            if acc.token != fee_state[0]:
                raise _Invalid(Fault.TOKEN_MISMATCH)
            if acc.balance + fee_state[1] > MAX_BALANCE:
                raise _Invalid(Fault.BALANCE_OVERFLOW)
            run.put(
                fee_account, Account(acc.owner, acc.token, acc.balance + fee_state[1], acc.nonce)
            )
        fault = Fault.NONE
    except _Invalid as bad:
        fault = bad.fault
    return Execution(
        fault=fault,
        tx_index=tx_index if fault != Fault.NONE else -1,
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
