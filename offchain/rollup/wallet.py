"""User side of format v2: sign L2 transfers and withdrawals with a BLS key derived from the
L1 wallet (offchain.bls.derive_secret_key_from_account: no new secret to keep)."""

from __future__ import annotations

from typing import Any

from coincurve import PrivateKey

from offchain.bls import SecretKey, derive_secret_key_from_account, sign, signing_dst

from .codec import encode_amount, encode_fee
from .hashing import keccak
from .messages import transfer_message, withdraw_message
from .types import SignedTransfer, SignedWithdraw, Transfer, Withdraw

__all__ = ["address_of", "derive_key", "sign_transfer", "sign_withdraw", "signing_dst"]


def address_of(private_key: bytes) -> str:
    """The L1 address (lower-case hex) of a secp256k1 private key."""
    pub = PrivateKey(private_key).public_key.format(compressed=False)[1:]
    return "0x" + keccak(pub)[12:].hex()


def derive_key(account: Any, chain_id: int, registry: str, key_index: int = 0) -> SecretKey:
    """The BLS secret key of an eth-account LocalAccount (key number `key_index` for the key
    registry at `registry`); register its public key in BLSKeyRegistry before signing."""
    return derive_secret_key_from_account(account, chain_id, registry, key_index)


def _postable(amount: int, fee: int) -> None:
    # refuse before signing what no commitment can carry (CodecError says how to round)
    encode_amount(amount)
    encode_fee(fee)


def sign_transfer(
    bls_secret: SecretKey,
    dst: bytes,
    sender: int,
    recipient: int,
    amount: int,
    fee: int,
    nonce: int,
) -> SignedTransfer:
    """Sign transfer_message(tx, nonce) under `dst` (offchain.bls.signing_dst(chain, rollup));
    the signature is 48 bytes compressed."""
    _postable(amount, fee)
    tx = Transfer(sender, recipient, amount, fee)
    return SignedTransfer(tx, sign(bls_secret, transfer_message(tx, nonce), dst).compressed)


def sign_withdraw(
    bls_secret: SecretKey, dst: bytes, sender: int, amount: int, fee: int, nonce: int
) -> SignedWithdraw:
    """Sign withdraw_message(tx, nonce) under `dst`."""
    if amount == 0:
        raise ValueError("a withdraw of 0 is invalid (ZERO_WITHDRAW): withdraw a positive amount")
    _postable(amount, fee)
    tx = Withdraw(sender, amount, fee)
    return SignedWithdraw(tx, sign(bls_secret, withdraw_message(tx, nonce), dst).compressed)
