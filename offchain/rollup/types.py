"""Value types of the L2: accounts, transactions, deposits, commitments (all frozen)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from .hashing import keccak
from .params import MAX_ACCOUNTS, MAX_BALANCE, MAX_NONCE

ZERO_ADDRESS = "0x" + "00" * 20


def _addr_bytes(addr: str) -> bytes:
    raw = bytes.fromhex(addr[2:] if addr.startswith(("0x", "0X")) else addr)
    if len(raw) != 20:
        raise ValueError(
            f"address {addr!r} is not 20 bytes: pass a 0x-prefixed 40-hex-digit address"
        )
    return raw


def norm_address(addr: str) -> str:
    """Lower-case 0x form of a 20-byte address (rejects anything else)."""
    return "0x" + _addr_bytes(addr).hex()


@dataclass(frozen=True)
class Account:
    """One leaf of the account tree. The empty leaf (never created) is `Account.EMPTY`."""

    EMPTY: ClassVar[Account]  # set below the class (a class variable, not a field)

    owner: str
    token: str
    balance: int
    nonce: int

    def __post_init__(self) -> None:
        object.__setattr__(self, "owner", norm_address(self.owner))
        object.__setattr__(self, "token", norm_address(self.token))
        if not 0 <= self.balance <= MAX_BALANCE:
            raise ValueError(f"balance {self.balance} outside 0..2^128-1")
        if not 0 <= self.nonce <= MAX_NONCE:
            raise ValueError(f"nonce {self.nonce} outside 0..2^32-1")
        if self.owner == ZERO_ADDRESS and (
            self.token != ZERO_ADDRESS or self.balance or self.nonce
        ):
            raise ValueError("an account without owner must be all zero (the empty leaf)")

    @property
    def is_empty(self) -> bool:
        return self.owner == ZERO_ADDRESS

    def packed(self) -> bytes:
        """owner(20) | token(20) | balance(16) | nonce(4): the 60-byte leaf preimage."""
        return (
            _addr_bytes(self.owner)
            + _addr_bytes(self.token)
            + self.balance.to_bytes(16, "big")
            + self.nonce.to_bytes(4, "big")
        )

    def leaf_hash(self) -> bytes:
        """keccak256(packed) for a live account, 32 zero bytes for the empty leaf."""
        return b"\x00" * 32 if self.is_empty else keccak(self.packed())

    @classmethod
    def unpack(cls, raw: bytes) -> Account:
        if len(raw) != 60:
            raise ValueError(f"an account leaf is 60 bytes, got {len(raw)}")
        return cls(
            owner="0x" + raw[0:20].hex(),
            token="0x" + raw[20:40].hex(),
            balance=int.from_bytes(raw[40:56], "big"),
            nonce=int.from_bytes(raw[56:60], "big"),
        )


Account.EMPTY = Account(ZERO_ADDRESS, ZERO_ADDRESS, 0, 0)
EMPTY_ACCOUNT = Account.EMPTY


def _check_index(name: str, value: int) -> None:
    if not 0 <= value < MAX_ACCOUNTS:
        raise ValueError(f"{name} {value} outside 0..2^24-1")


@dataclass(frozen=True)
class DepositTx:
    """Consume the next queued deposit into account `account` (created if that leaf is empty)."""

    account: int

    def __post_init__(self) -> None:
        _check_index("account", self.account)


@dataclass(frozen=True)
class Transfer:
    """Move `amount` from `sender` to `recipient` (same token) paying `fee`; owner-signed."""

    sender: int
    recipient: int
    amount: int
    fee: int
    signature: bytes  # 64 bytes, EIP-2098 compact (r | yParity<<255 | s)

    def __post_init__(self) -> None:
        _check_index("sender", self.sender)
        _check_index("recipient", self.recipient)
        if len(self.signature) != 64:
            raise ValueError("signature must be 64 bytes (EIP-2098 compact)")


@dataclass(frozen=True)
class Withdraw:
    """Burn `amount` of account `sender` on L2, paid to the account's owner on L1 once final."""

    sender: int
    amount: int
    fee: int
    signature: bytes

    def __post_init__(self) -> None:
        _check_index("sender", self.sender)
        if len(self.signature) != 64:
            raise ValueError("signature must be 64 bytes (EIP-2098 compact)")


@dataclass(frozen=True)
class ForcedSlot:
    """Consume the next forced tx of the commitment's range; `applied` states whether it was
    valid (applied like a normal tx, fee not charged) or invalid (skipped, no state change)."""

    applied: bool


Tx = DepositTx | Transfer | Withdraw | ForcedSlot


@dataclass(frozen=True)
class QueuedForced:
    """One entry of the rollup's forced queue: an encoded Transfer or Withdraw queued on L1."""

    index: int
    data: bytes

    def __post_init__(self) -> None:
        if self.index < 0:
            raise ValueError(f"forced index {self.index} is negative")
        kind = self.data[:1]
        if not (
            (kind == b"\x02" and len(self.data) == 78) or (kind == b"\x03" and len(self.data) == 75)
        ):
            raise ValueError(
                "a forced tx is one encoded transfer (0x02, 78 bytes) or withdraw (0x03, 75 bytes)"
            )


@dataclass(frozen=True)
class QueuedDeposit:
    """One entry of the bridge's deposit queue as the rollup consumes it (0x01 recipients only)."""

    index: int
    token: str
    amount: int
    owner: str

    def __post_init__(self) -> None:
        object.__setattr__(self, "token", norm_address(self.token))
        object.__setattr__(self, "owner", norm_address(self.owner))


@dataclass(frozen=True)
class Commitment:
    """A bounded list of txs and the state after them, as posted (tx_data may be malformed)."""

    post_root: bytes
    deposit_end: int
    fee_account: int
    tx_data: bytes
    forced_end: int = 0

    def header_hash_input(self) -> bytes:
        return (
            self.post_root
            + self.deposit_end.to_bytes(4, "big")
            + self.forced_end.to_bytes(4, "big")
            + self.fee_account.to_bytes(3, "big")
            + keccak(self.tx_data)
        )

    def hash(self) -> bytes:
        """keccak256(postRoot | depositEnd(4) | forcedEnd(4) | feeAccount(3) | keccak(txData))."""
        return keccak(self.header_hash_input())
