"""The bytes a sender signs for each transfer and withdraw (format v2; docs/rollup-spec.md,
"Signed messages"). Layout of offchain.bls.signing_message, all big-endian:

    transfer: sender(4) | nonce(4) | 0x02 | to(4) | amount(16) | fee(16)     = 45 bytes
    withdraw: sender(4) | nonce(4) | 0x03 | amount(16) | fee(16)             = 41 bytes

Amount and fee are the decoded values (two encodings of one value are one message); the nonce is
the sender's nonce when the tx executes. Sender index and nonce first make every message of the
system distinct, and the signing tag (offchain.bls.signing_dst) binds chain id and rollup.
"""

from __future__ import annotations

from offchain.bls import signing_message

from .params import MAX_BALANCE, TX_TRANSFER, TX_WITHDRAW
from .types import Transfer, Withdraw

TRANSFER_MESSAGE_LEN = 45
WITHDRAW_MESSAGE_LEN = 41


def _u128(name: str, value: int) -> bytes:
    if not 0 <= value <= MAX_BALANCE:
        raise ValueError(f"{name} {value} is not a uint128: no valid tx carries it")
    return value.to_bytes(16, "big")


def transfer_message(tx: Transfer, nonce: int) -> bytes:
    """sender(4) | nonce(4) | 0x02 | to(4) | amount(16) | fee(16)."""
    body = (
        bytes([TX_TRANSFER])
        + tx.recipient.to_bytes(4, "big")
        + _u128("amount", tx.amount)
        + _u128("fee", tx.fee)
    )
    return signing_message(tx.sender, nonce, body)


def withdraw_message(tx: Withdraw, nonce: int) -> bytes:
    """sender(4) | nonce(4) | 0x03 | amount(16) | fee(16)."""
    body = bytes([TX_WITHDRAW]) + _u128("amount", tx.amount) + _u128("fee", tx.fee)
    return signing_message(tx.sender, nonce, body)


def tx_message(tx: Transfer | Withdraw, nonce: int) -> bytes:
    """The message of either kind."""
    if isinstance(tx, Transfer):
        return transfer_message(tx, nonce)
    return withdraw_message(tx, nonce)
