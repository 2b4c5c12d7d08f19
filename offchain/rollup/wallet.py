"""User side: sign L2 transfers and withdrawals."""

from __future__ import annotations

from .eip712 import sign_digest, transfer_digest, withdraw_digest
from .types import Transfer, Withdraw


def sign_transfer(
    key: bytes, separator: bytes, sender: int, recipient: int, amount: int, fee: int, nonce: int
) -> Transfer:
    digest = transfer_digest(separator, sender, recipient, amount, fee, nonce)
    return Transfer(sender, recipient, amount, fee, sign_digest(key, digest))


def sign_withdraw(
    key: bytes, separator: bytes, sender: int, amount: int, fee: int, nonce: int
) -> Withdraw:
    digest = withdraw_digest(separator, sender, amount, fee, nonce)
    return Withdraw(sender, amount, fee, sign_digest(key, digest))
