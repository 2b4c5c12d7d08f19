"""The state-transition function: execute one commitment's txs against a pre-state.

Pure: reads an L2State, writes only to an overlay it returns. The order of checks and of leaf
accesses is exactly the one of contracts/rollup/FraudVerifier.sol, so the witnesses recorded here
are the evidence a fraud proof needs. Any invalid tx makes the whole commitment invalid.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import IntEnum

from .codec import CodecError, decode_tx_at
from .eip712 import recover, transfer_digest, withdraw_digest
from .merkle import SparseMerkleTree
from .params import MAX_BALANCE, MAX_NONCE, MAX_TXS_PER_COMMITMENT
from .state import L2State
from .types import Account, DepositTx, QueuedDeposit, Transfer, Withdraw


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


def _debit(run: _Run, sender: int, amount: int, fee: int, digest_of, fee_state: list) -> Account:
    acc = run.access(sender)
    if acc.is_empty:
        raise _Invalid(Fault.NO_ACCOUNT)
    digest, sig = digest_of(acc.nonce)
    if recover(digest, sig) != acc.owner:
        raise _Invalid(Fault.BAD_SIGNATURE)
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


def execute(
    state: L2State,
    tx_data: bytes,
    fee_account: int,
    deposits: Sequence[QueuedDeposit],
    separator: bytes,
) -> Execution:
    """Execute `tx_data` on `state`, consuming exactly `deposits` (the commitment's declared range).

    Returns the fault of the first invalid step (with the witnesses up to it) or the post-state.
    """
    run = _Run(state)
    withdrawals: list[WithdrawalRecord] = []
    fee_state: list = [None, 0]  # fee token, fee total
    consumed = 0
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
            elif isinstance(tx, Transfer):
                t = tx
                sender = _debit(
                    run,
                    t.sender,
                    t.amount,
                    t.fee,
                    lambda n, t=t: (
                        transfer_digest(separator, t.sender, t.recipient, t.amount, t.fee, n),
                        t.signature,
                    ),
                    fee_state,
                )
                to = run.access(t.recipient)
                if to.is_empty:
                    raise _Invalid(Fault.NO_ACCOUNT)
                if to.token != sender.token:
                    raise _Invalid(Fault.TOKEN_MISMATCH)
                if to.balance + t.amount > MAX_BALANCE:
                    raise _Invalid(Fault.BALANCE_OVERFLOW)
                run.put(t.recipient, Account(to.owner, to.token, to.balance + t.amount, to.nonce))
            else:
                w: Withdraw = tx  # type: ignore[assignment]
                if w.amount == 0:
                    raise _Invalid(Fault.ZERO_WITHDRAW)
                sender = _debit(
                    run,
                    w.sender,
                    w.amount,
                    w.fee,
                    lambda n, w=w: (
                        withdraw_digest(separator, w.sender, w.amount, w.fee, n),
                        w.signature,
                    ),
                    fee_state,
                )
                withdrawals.append(
                    WithdrawalRecord(tx_index, w.sender, sender.owner, sender.token, w.amount)
                )
        tx_index = -1
        if consumed != len(deposits):
            raise _Invalid(Fault.DEPOSIT_MISMATCH)
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
