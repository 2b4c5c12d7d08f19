# SPDX-License-Identifier: GPL-3.0-or-later
"""L2 transactions and L1 deposits of the zk rollup, and the message an L2 key signs."""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum

from offchain.recipient import babyjubjub_key_problem
from offchain.zk.babyjub import Point, PrivateKey, Signature, on_curve
from offchain.zk.field import SNARK_FIELD
from offchain.zk.poseidon import poseidon
from offchain.zk.pubdata import is_float_amount

MAX_AMOUNT = (1 << 128) - 1
MAX_ADDRESS = (1 << 160) - 1


class TxKind(IntEnum):
    NOOP = 0
    TRANSFER = 1
    WITHDRAW = 2
    FORCED = 3
    """Forced withdrawal: queued on L1 (`requestForcedWithdrawal`), never signed on L2."""


def domain_of(chain_id: int, rollup: str | int) -> int:
    """The signing domain: chain id (64-bit) and rollup address, so a signature is only good on
    one rollup deployment of one chain."""
    addr = int(rollup, 16) if isinstance(rollup, str) else rollup
    if not 0 <= chain_id < 1 << 64:
        raise ValueError(f"chain id {chain_id} does not fit 64 bits")
    if not 0 <= addr <= MAX_ADDRESS:
        raise ValueError(f"rollup address {addr:#x} is not a 20-byte address")
    return (chain_id << 160) | addr


@dataclass(frozen=True)
class Tx:
    """A signed L2 transaction. `to` is the receiver's leaf index for a transfer and the L1
    address (as an int) paid by a withdrawal."""

    kind: TxKind
    from_index: int
    to: int
    amount: int
    nonce: int
    signature: Signature

    def __post_init__(self) -> None:
        if self.kind == TxKind.NOOP:
            raise ValueError("no-op slots are padding; do not sign them")
        if self.kind == TxKind.FORCED:
            raise ValueError(
                "forced withdrawals are queued on L1 (ForcedWithdrawal), not signed L2 transactions"
            )
        if not 0 <= self.amount <= MAX_AMOUNT:
            raise ValueError(f"amount {self.amount} outside 0..2^128-1")
        if not 0 <= self.to <= MAX_ADDRESS:
            raise ValueError(f"`to` {self.to:#x} does not fit 20 bytes")
        if self.from_index < 0 or self.nonce < 0:
            raise ValueError("leaf index and nonce are non-negative")
        if self.kind == TxKind.WITHDRAW and (self.to == 0 or self.amount == 0):
            raise ValueError("a withdrawal pays a non-zero amount to a non-zero L1 address")
        if self.kind == TxKind.TRANSFER and not is_float_amount(self.amount):
            raise ValueError(
                f"transfer amount {self.amount} has more than 35 bits of mantissa (the public "
                "data posts transfer amounts as mantissa * 10^exponent): round it to at most "
                "10 significant digits"
            )

    def message(self, domain: int) -> int:
        return tx_message(domain, self.kind, self.from_index, self.to, self.amount, self.nonce)


def tx_message(domain: int, kind: int, from_index: int, to: int, amount: int, nonce: int) -> int:
    """Poseidon(domain, type, from, to, amount, nonce): what the sender's key signs."""
    return poseidon([domain, int(kind), from_index, to, amount, nonce])


def sign_tx(
    key: PrivateKey,
    domain: int,
    kind: TxKind,
    from_index: int,
    to: int,
    amount: int,
    nonce: int,
) -> Tx:
    """Build and sign a transaction with `key` (the owner of leaf `from_index`)."""
    sig = key.sign(tx_message(domain, kind, from_index, to, amount, nonce))
    return Tx(kind, from_index, to, amount, nonce, sig)


@dataclass(frozen=True)
class ForcedWithdrawal:
    """A forced withdrawal from the rollup's L1 queue (its `ForcedWithdrawalRequested` event):
    the batch that processes it pays leaf `leaf_index`'s whole balance to L1 `recipient`."""

    queue_index: int
    leaf_index: int
    token: int
    recipient: int
    deadline: int = 0

    def __post_init__(self) -> None:
        if self.queue_index < 0 or not 0 <= self.leaf_index < 1 << 32:
            raise ValueError("queue position and leaf index are non-negative (leaf < 2^32)")
        if not 0 < self.recipient <= MAX_ADDRESS or not 0 <= self.token <= MAX_ADDRESS:
            raise ValueError("a forced withdrawal pays a non-zero 20-byte L1 address")


@dataclass(frozen=True)
class Deposit:
    """A deposit from the bridge queue (its `DepositQueued` event)."""

    queue_index: int
    token: int
    amount: int
    pubkey: Point

    @property
    def key_is_valid(self) -> bool:
        """Whether the L1 contract credits it: a BabyJubJub point with coordinates below r.
        Anything else is voided on L1 (consumed from the queue, credited to nobody)."""
        ax, ay = self.pubkey
        return ax < SNARK_FIELD and ay < SNARK_FIELD and on_curve(self.pubkey)

    @staticmethod
    def from_recipient(queue_index: int, token: int, amount: int, recipient: bytes) -> Deposit:
        """Decode the bridge's `0x02 ‖ Ax ‖ Ay` recipient encoding."""
        if len(recipient) != 65 or recipient[0] != 0x02:
            raise ValueError(f"not a BabyJubJub recipient: {recipient.hex()}")
        ax = int.from_bytes(recipient[1:33], "big")
        ay = int.from_bytes(recipient[33:65], "big")
        return Deposit(queue_index, token, amount, (ax, ay))


def recipient_bytes(pubkey: Point) -> bytes:
    """The bridge recipient encoding of an L2 key: 0x02 ‖ Ax ‖ Ay. Raises ValueError for a key
    the bridge refuses (off the curve, or of small order), before any L1 transaction."""
    problem = babyjubjub_key_problem(*pubkey)
    if problem is not None:
        raise ValueError(f"the bridge refuses this L2 key: {problem}")
    return b"\x02" + pubkey[0].to_bytes(32, "big") + pubkey[1].to_bytes(32, "big")
