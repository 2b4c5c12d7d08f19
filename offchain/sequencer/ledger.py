"""The pending view of the optimistic rollup: balances and nonces in a dict, no Merkle tree.

Admission checks a transaction against this ledger instead of executing it on the account tree
(the tree and its roots are computed once per batch, by the builder). The rules are exactly those
`offchain.rollup.execute.execute` applies to a commitment holding that one transaction (same
checks, same order, same fault), which tests/operator/test_ledger.py checks on random sequences.

Pure: no I/O, no locks (the sequencer core serializes admission).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field

from offchain.rollup.params import MAX_BALANCE, MAX_NONCE
from offchain.rollup.types import Account, Transfer, Withdraw

#: owner, token (lowercase 0x-hex), balance, nonce.
Entry = tuple[str, str, int, int]


@dataclass
class Ledger:
    """Accounts of the pending state (index -> entry) and the queue positions it includes."""

    entries: dict[int, Entry] = field(default_factory=dict)
    deposit_end: int = 0
    forced_end: int = 0

    @classmethod
    def of(cls, accounts: Mapping[int, Account], deposit_end: int, forced_end: int) -> Ledger:
        entries = {i: (a.owner, a.token, a.balance, a.nonce) for i, a in accounts.items()}
        return cls(entries, deposit_end, forced_end)

    def account(self, index: int) -> Account:
        """The account at `index` (the empty account if none), as the rest of l2kit sees it."""
        e = self.entries.get(index)
        return Account.EMPTY if e is None else Account(*e)

    def owners(self) -> Iterator[tuple[int, str]]:
        for i, e in self.entries.items():
            yield i, e[0]


class Overlay:
    """Writes on top of a ledger, merged only when the caller says so (a group of admissions
    whose store write failed leaves the ledger untouched)."""

    def __init__(self, base: Ledger) -> None:
        self.base = base
        self.writes: dict[int, Entry] = {}

    def get(self, index: int) -> Entry | None:
        e = self.writes.get(index)
        return e if e is not None else self.base.entries.get(index)

    def merge(self) -> None:
        self.base.entries.update(self.writes)
        self.writes = {}


def check_signed(
    view: Overlay, tx: Transfer | Withdraw, fee_account: int
) -> tuple[str, dict[int, Entry]]:
    """The fault name of `tx` on `view` ("" if valid) and, when valid, the entries it writes.

    Mirrors execute() (format v2) for a one-transaction commitment. The signature is not
    checked here: format v2 verifies it apart (batched, before admission; the signature
    dispute on chain), so the state rules carry no signature check."""
    writes: dict[int, Entry] = {}

    def get(i: int) -> Entry | None:
        e = writes.get(i)
        return e if e is not None else view.get(i)

    is_transfer = isinstance(tx, Transfer)
    if not is_transfer and tx.amount == 0:
        return "ZERO_WITHDRAW", {}
    acc = get(tx.sender)
    if acc is None:
        return "NO_ACCOUNT", {}
    owner, token, balance, nonce = acc
    if tx.amount + tx.fee > balance:
        return "OVERSPEND", {}
    if nonce == MAX_NONCE:
        return "NONCE_EXHAUSTED", {}
    writes[tx.sender] = (owner, token, balance - tx.amount - tx.fee, nonce + 1)
    if isinstance(tx, Transfer):
        to = get(tx.recipient)
        if to is None:
            return "NO_ACCOUNT", {}
        if to[1] != token:
            return "TOKEN_MISMATCH", {}
        if to[2] + tx.amount > MAX_BALANCE:
            return "BALANCE_OVERFLOW", {}
        writes[tx.recipient] = (to[0], to[1], to[2] + tx.amount, to[3])
    if tx.fee:
        fa = get(fee_account)
        if fa is None:
            return "NO_ACCOUNT", {}
        if fa[1] != token:
            return "TOKEN_MISMATCH", {}
        if fa[2] + tx.fee > MAX_BALANCE:
            return "BALANCE_OVERFLOW", {}
        writes[fee_account] = (fa[0], fa[1], fa[2] + tx.fee, fa[3])
    return "", writes


def admit_on(
    view: Overlay, tx: Transfer | Withdraw, nonce: int, fee_account: int
) -> tuple[str, str] | None:
    """Admission of one tx (its signature checked already) on `view`: None (and its writes
    applied to `view`) or the (code, message) of the refusal (`view` unchanged). The checks the
    operator answers with dedicated codes come first (unknown account, wrong nonce), then
    execute()'s faults."""
    entry = view.get(tx.sender)
    if entry is None:
        return "unknown_account", f"account {tx.sender} does not exist: deposit first"
    if nonce != entry[3]:
        return (
            "bad_nonce",
            f"nonce {nonce} is not the next nonce of account {tx.sender} "
            f"(expected {entry[3]}): a replay or a gap",
        )
    if isinstance(tx, Transfer) and view.get(tx.recipient) is None:
        return "unknown_account", f"recipient account {tx.recipient} does not exist"
    fault, writes = check_signed(view, tx, fee_account)
    if fault:
        return fault.lower(), explain(fault, tx, entry[2])
    view.writes.update(writes)
    return None


def explain(fault: str, tx: Transfer | Withdraw, balance: int) -> str:
    """What a user reads for an execute() fault of their transaction."""
    amount = getattr(tx, "amount", 0) + getattr(tx, "fee", 0)
    return {
        "BAD_SIGNATURE": "the BLS signature does not verify under the owner's registered key for "
        "this message (sender, nonce, tx) and chain/rollup tag: sign with the key derived from "
        "the owner's L1 wallet (`l2kit rollup key show`) and the current nonce",
        "OVERSPEND": f"amount + fee = {amount} exceeds the balance {balance}",
        "NO_ACCOUNT": "an account in the transaction does not exist",
        "TOKEN_MISMATCH": "sender and recipient (or the fee account) hold different tokens",
        "BALANCE_OVERFLOW": "the recipient balance would overflow 2^128-1",
        "ZERO_WITHDRAW": "a withdrawal must move a positive amount",
        "NONCE_EXHAUSTED": "the account's nonce is exhausted",
        "MALFORMED": "the transaction does not encode",
    }.get(fault, f"invalid transaction ({fault})")
