"""Byte codec of transactions, commitments and batches (layout: docs/rollup-spec.md)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from .params import (
    AMOUNT_MANTISSA_BITS,
    DEPOSIT_TX_LEN,
    EXPONENT_BITS,
    FEE_MANTISSA_BITS,
    FORCED_TX_LEN,
    HEADER_LEN,
    MAX_COMMITMENTS_PER_BATCH,
    MAX_TX_BYTES,
    MAX_TXS_PER_COMMITMENT,
    TRANSFER_TX_LEN,
    TX_DEPOSIT,
    TX_FORCED,
    TX_TRANSFER,
    TX_WITHDRAW,
    WITHDRAW_TX_LEN,
)
from .types import Commitment, DepositTx, ForcedSlot, Transfer, Tx, Withdraw


class CodecError(ValueError):
    """Bytes that are not a valid encoding (in tx data: the commitment is malformed, a fraud)."""


# ------------------------------------------------------------------ packed numbers


def _pack_float(value: int, mantissa_bits: int) -> int:
    if value < 0:
        raise CodecError(f"negative amount {value}")
    exp = 0
    while value >= (1 << mantissa_bits) or (value and value % 10 == 0 and exp < 31):
        if value % 10:
            raise CodecError(
                f"{value}e{exp} needs more than {mantissa_bits} mantissa bits: round it to fewer "
                "significant digits"
            )
        value //= 10
        exp += 1
        if exp > (1 << EXPONENT_BITS) - 1:
            raise CodecError("amount exponent above 31")
    return (value << EXPONENT_BITS) | exp


def _unpack_float(packed: int) -> int:
    return (packed >> EXPONENT_BITS) * 10 ** (packed & ((1 << EXPONENT_BITS) - 1))


def encode_amount(value: int) -> bytes:
    """5 bytes: mantissa(35) | exponent(5), value = mantissa * 10**exponent."""
    return _pack_float(value, AMOUNT_MANTISSA_BITS).to_bytes(5, "big")


def decode_amount(raw: bytes) -> int:
    return _unpack_float(int.from_bytes(raw, "big"))


def encode_fee(value: int) -> bytes:
    """2 bytes: mantissa(11) | exponent(5)."""
    return _pack_float(value, FEE_MANTISSA_BITS).to_bytes(2, "big")


def decode_fee(raw: bytes) -> int:
    return _unpack_float(int.from_bytes(raw, "big"))


def is_packable_amount(value: int) -> bool:
    try:
        encode_amount(value)
    except CodecError:
        return False
    return True


def is_packable_fee(value: int) -> bool:
    try:
        encode_fee(value)
    except CodecError:
        return False
    return True


# ------------------------------------------------------------------------ txs


def encode_tx(tx: Tx) -> bytes:
    if isinstance(tx, DepositTx):
        return bytes([TX_DEPOSIT]) + tx.account.to_bytes(3, "big")
    if isinstance(tx, ForcedSlot):
        return bytes([TX_FORCED, 1 if tx.applied else 0])
    if isinstance(tx, Transfer):
        return (
            bytes([TX_TRANSFER])
            + tx.sender.to_bytes(3, "big")
            + tx.recipient.to_bytes(3, "big")
            + encode_amount(tx.amount)
            + encode_fee(tx.fee)
            + tx.signature
        )
    if isinstance(tx, Withdraw):
        return (
            bytes([TX_WITHDRAW])
            + tx.sender.to_bytes(3, "big")
            + encode_amount(tx.amount)
            + encode_fee(tx.fee)
            + tx.signature
        )
    raise TypeError(f"not a transaction: {tx!r}")


def decode_tx_at(data: bytes, offset: int) -> tuple[Tx, int]:
    """Decode the tx starting at `offset`; return it and the offset after it."""
    if offset >= len(data):
        raise CodecError(f"no tx at offset {offset}")
    kind = data[offset]
    size = {
        TX_DEPOSIT: DEPOSIT_TX_LEN,
        TX_TRANSFER: TRANSFER_TX_LEN,
        TX_WITHDRAW: WITHDRAW_TX_LEN,
        TX_FORCED: FORCED_TX_LEN,
    }
    if kind not in size:
        raise CodecError(f"unknown tx type 0x{kind:02x} at offset {offset}")
    end = offset + size[kind]
    if end > len(data):
        raise CodecError(f"tx at offset {offset} truncated: needs {size[kind]} bytes")
    b = data[offset:end]
    if kind == TX_DEPOSIT:
        return DepositTx(int.from_bytes(b[1:4], "big")), end
    if kind == TX_FORCED:
        if b[1] > 1:
            raise CodecError(f"forced slot at offset {offset} has outcome byte {b[1]} (not 0 or 1)")
        return ForcedSlot(b[1] == 1), end
    if kind == TX_TRANSFER:
        tx: Tx = Transfer(
            sender=int.from_bytes(b[1:4], "big"),
            recipient=int.from_bytes(b[4:7], "big"),
            amount=decode_amount(b[7:12]),
            fee=decode_fee(b[12:14]),
            signature=b[14:78],
        )
        return tx, end
    return (
        Withdraw(
            sender=int.from_bytes(b[1:4], "big"),
            amount=decode_amount(b[4:9]),
            fee=decode_fee(b[9:11]),
            signature=b[11:75],
        ),
        end,
    )


def encode_txs(txs: Sequence[Tx]) -> bytes:
    return b"".join(encode_tx(tx) for tx in txs)


def decode_txs(data: bytes) -> list[Tx]:
    """Decode a commitment's tx data; CodecError if malformed, truncated or over the tx bound."""
    txs: list[Tx] = []
    offset = 0
    while offset < len(data):
        if len(txs) == MAX_TXS_PER_COMMITMENT:
            raise CodecError(f"more than {MAX_TXS_PER_COMMITMENT} txs in one commitment")
        tx, offset = decode_tx_at(data, offset)
        txs.append(tx)
    return txs


# ---------------------------------------------------------------- commitments


def encode_commitment(c: Commitment) -> bytes:
    if len(c.tx_data) > MAX_TX_BYTES:
        raise CodecError(f"tx data of {len(c.tx_data)} bytes exceeds {MAX_TX_BYTES}")
    return (
        c.post_root
        + c.deposit_end.to_bytes(4, "big")
        + c.forced_end.to_bytes(4, "big")
        + c.fee_account.to_bytes(3, "big")
        + len(c.tx_data).to_bytes(2, "big")
        + c.tx_data
    )


def encode_batch(commitments: list[Commitment]) -> bytes:
    """Batch bytes as posted: the commitments back to back."""
    if not 1 <= len(commitments) <= MAX_COMMITMENTS_PER_BATCH:
        raise CodecError(f"a batch holds 1..{MAX_COMMITMENTS_PER_BATCH} commitments")
    return b"".join(encode_commitment(c) for c in commitments)


def decode_batch(data: bytes) -> list[Commitment]:
    """Split posted batch bytes into commitments (the same checks as Rollup.postBatch)."""
    out: list[Commitment] = []
    offset = 0
    while offset < len(data):
        if len(out) == MAX_COMMITMENTS_PER_BATCH:
            raise CodecError(f"more than {MAX_COMMITMENTS_PER_BATCH} commitments")
        if offset + HEADER_LEN > len(data):
            raise CodecError("truncated commitment header")
        h = data[offset : offset + HEADER_LEN]
        tx_len = int.from_bytes(h[43:45], "big")
        if tx_len > MAX_TX_BYTES:
            raise CodecError(f"commitment tx data {tx_len} > {MAX_TX_BYTES} bytes")
        end = offset + HEADER_LEN + tx_len
        if end > len(data):
            raise CodecError("truncated commitment tx data")
        out.append(
            Commitment(
                post_root=h[0:32],
                deposit_end=int.from_bytes(h[32:36], "big"),
                fee_account=int.from_bytes(h[40:43], "big"),
                tx_data=data[offset + HEADER_LEN : end],
                forced_end=int.from_bytes(h[36:40], "big"),
            )
        )
        offset = end
    if not out:
        raise CodecError("empty batch")
    return out


@dataclass(frozen=True)
class TxLocation:
    """Where a tx sits: its index in the commitment and byte offset in the tx data."""

    index: int
    offset: int
