"""The stored form of an accepted optimistic-rollup transaction (store schema 4, format v2).

One accepted transfer or withdraw is stored as
    body ‖ nonce(4) ‖ signature(48)
where `body` is the forced-transaction encoding of docs/rollup-spec.md (0x02 ‖ transfer(12) or
0x03 ‖ withdraw(9), offchain.rollup.codec.encode_forced_tx), `nonce` the big-endian nonce the
sender signed and `signature` the compressed G1 BLS signature of
offchain.rollup.messages.tx_message(tx, nonce): everything the builder needs to place the tx in
a commitment and aggregate its signature. The transaction id is keccak256 of the signed message
(sender, nonce and body), so a resend of the same tx for the same nonce has the same id.

Pure: no I/O.
"""

from __future__ import annotations

from dataclasses import dataclass

from offchain.errors import SequencerError
from offchain.rollup.codec import CodecError, decode_forced_tx, encode_forced_tx
from offchain.rollup.hashing import keccak
from offchain.rollup.messages import tx_message
from offchain.rollup.types import SignedTransfer, SignedWithdraw, Transfer, Withdraw

#: Bytes of the compressed G1 signature carried by every stored tx.
SIGNATURE_LEN = 48
#: Bytes of the nonce.
NONCE_LEN = 4
#: The two lengths a payload can have (transfer, withdraw).
PAYLOAD_LENGTHS = (13 + NONCE_LEN + SIGNATURE_LEN, 10 + NONCE_LEN + SIGNATURE_LEN)


class PayloadError(SequencerError, ValueError):
    """A stored payload that does not decode: the store is corrupt or of another version."""


@dataclass(frozen=True)
class StoredPayload:
    """A decoded payload: the tx, the nonce it was signed for, its 48-byte signature."""

    tx: Transfer | Withdraw
    nonce: int
    signature: bytes

    @property
    def signed(self) -> SignedTransfer | SignedWithdraw:
        if isinstance(self.tx, Transfer):
            return SignedTransfer(self.tx, self.signature)
        return SignedWithdraw(self.tx, self.signature)


def tx_id(tx: Transfer | Withdraw, nonce: int) -> bytes:
    """The transaction id: keccak256 of the signed message (unique per sender and nonce)."""
    return keccak(tx_message(tx, nonce))


def encode_payload(tx: Transfer | Withdraw, nonce: int, signature: bytes) -> bytes:
    """body ‖ nonce(4) ‖ signature(48); ValueError for a signature of another length."""
    if len(signature) != SIGNATURE_LEN:
        raise ValueError(f"a stored signature is {SIGNATURE_LEN} bytes, got {len(signature)}")
    if not 0 <= nonce < 1 << 32:
        raise ValueError(f"nonce {nonce} outside 0..2^32-1")
    return encode_forced_tx(tx) + nonce.to_bytes(NONCE_LEN, "big") + bytes(signature)


def decode_payload(data: bytes) -> StoredPayload:
    """The inverse of encode_payload; PayloadError for anything else."""
    data = bytes(data)
    if len(data) not in PAYLOAD_LENGTHS:
        raise PayloadError(
            f"stored transaction of {len(data)} bytes (expected one of {PAYLOAD_LENGTHS}): "
            "the store is corrupt or was written by another l2kit version"
        )
    body_len = len(data) - NONCE_LEN - SIGNATURE_LEN
    try:
        tx = decode_forced_tx(data[:body_len])
    except (CodecError, ValueError) as exc:
        raise PayloadError(f"stored transaction does not decode: {exc}") from exc
    nonce = int.from_bytes(data[body_len : body_len + NONCE_LEN], "big")
    return StoredPayload(tx, nonce, data[body_len + NONCE_LEN :])
