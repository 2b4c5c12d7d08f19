# SPDX-License-Identifier: GPL-3.0-or-later
"""Packed public data of a batch (what L1 sees and hashes), format version 2; the layout is fixed
by circuits/rollup.circom and specified byte by byte in docs/zk.md ("Public data"):

    header (32) | D deposit slots (72 each) | N compact slots (slot_bytes(depth) each)
    | W payout records (56 each; the first P used, the rest zero)

Only the compact slots and the P used payout records are posted (`submitBatch`'s txData); the
contract writes the header, the deposit slots and the zero records itself. Pure: no I/O."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from offchain.errors import ZkError
from offchain.zk.field import HASH_MASK

FORMAT_VERSION = 2
"""Version 1: fixed 61-byte transaction slots (type, from, to, amount, token). Version 2: compact
slots with float amounts and payout records."""

HEADER_BYTES = 32
DEPOSIT_SLOT_BYTES = 72
RECORD_BYTES = 56
"""Payout record: L1 recipient (20) | token (20) | exact amount (16)."""

TYPE_BITS = 2
MANTISSA_BITS = 35
EXPONENT_BITS = 5
FLOAT_BITS = MANTISSA_BITS + EXPONENT_BITS
MAX_EXPONENT = (1 << EXPONENT_BITS) - 1

KIND_NOOP, KIND_TRANSFER, KIND_WITHDRAW, KIND_FORCED = 0, 1, 2, 3
PAYOUT_KINDS = (KIND_WITHDRAW, KIND_FORCED)


class PubdataError(ZkError, ValueError):
    """Bytes that are not the one canonical encoding the circuit and the contract accept."""


def payout_slots(n_txs: int) -> int:
    """W, the payout records of a batch of N slots: min(N, max(2, N // 4)). The contract
    (`ZkRollup.payoutSlots`) derives it from `txSlots` by the same rule."""
    return min(n_txs, max(2, n_txs // 4))


def slot_bits(depth: int) -> int:
    """type (2) | from (depth) | to (depth) | amount float (40), before byte padding."""
    return TYPE_BITS + 2 * depth + FLOAT_BITS


def slot_bytes(depth: int) -> int:
    return (slot_bits(depth) + 7) // 8


# ------------------------------------------------------------------ float amounts


def encode_float(value: int) -> int:
    """The canonical 40-bit float of `value`: mantissa (35) << 5 | exponent (5), value =
    mantissa * 10^exponent, with the largest exponent (≤ 31) that keeps it exact; 0 is 0.
    Raises PubdataError if `value` has more than 35 bits of significant digits."""
    if value < 0:
        raise PubdataError(f"negative amount {value}")
    mant, exp = value, 0
    while mant and mant % 10 == 0 and exp < MAX_EXPONENT:
        mant //= 10
        exp += 1
    if mant >= 1 << MANTISSA_BITS:
        raise PubdataError(
            f"transfer amount {value} is not a 35-bit mantissa times a power of ten: round it "
            "to fewer significant digits (at most 10)"
        )
    return (mant << EXPONENT_BITS) | exp


def decode_float(packed: int) -> int:
    """The value of a canonical float; raises PubdataError on any other encoding."""
    if not 0 <= packed < 1 << FLOAT_BITS:
        raise PubdataError(f"float {packed:#x} wider than {FLOAT_BITS} bits")
    mant, exp = packed >> EXPONENT_BITS, packed & MAX_EXPONENT
    value = mant * 10**exp
    if encode_float(value) != packed:
        raise PubdataError(f"float {packed:#012x} is not canonical (mantissa {mant}, exp {exp})")
    return value


def is_float_amount(value: int) -> bool:
    """Whether a transfer of `value` can be posted (exactly) in a compact slot."""
    try:
        encode_float(value)
    except PubdataError:
        return False
    return True


# ------------------------------------------------------------------ slots and records


@dataclass(frozen=True)
class Slot:
    """One transaction slot as the public data shows it. For a transfer `to` is the receiving
    leaf and `token` is None (the leaves hold it); for a payout (withdrawal or forced withdrawal)
    `to`, `token` and `amount` come from its payout record."""

    kind: int
    from_index: int
    to: int
    amount: int
    token: int | None


def header(chain_id: int, rollup: int, batch_index: int) -> bytes:
    """chainId (8) | rollup address (20) | batch index (4)."""
    return chain_id.to_bytes(8, "big") + rollup.to_bytes(20, "big") + batch_index.to_bytes(4, "big")


def deposit_slot(index: int, packed_key: int, token: int, amount: int) -> bytes:
    """leaf index (4) | compressed key (32) | token (20) | amount (16)."""
    return (
        index.to_bytes(4, "big")
        + packed_key.to_bytes(32, "big")
        + token.to_bytes(20, "big")
        + amount.to_bytes(16, "big")
    )


def empty_deposit_slot() -> bytes:
    return bytes(DEPOSIT_SLOT_BYTES)


def compact_slot(kind: int, from_index: int, to_leaf: int, amount: int, depth: int) -> bytes:
    """The compact slot: type | from | to | float, zero-padded to whole bytes. A payout slot has
    `to_leaf` and `amount` 0 (its record carries them); a no-op slot is all zero."""
    if kind not in (KIND_NOOP, KIND_TRANSFER, KIND_WITHDRAW, KIND_FORCED):
        raise PubdataError(f"unknown slot type {kind}")
    cap = 1 << depth
    if not 0 <= from_index < cap or not 0 <= to_leaf < cap:
        raise PubdataError(f"leaf index {from_index} or {to_leaf} outside the depth-{depth} tree")
    if kind != KIND_TRANSFER and (to_leaf or amount):
        raise PubdataError(f"a type-{kind} slot carries no receiving leaf or float amount")
    if kind == KIND_NOOP and from_index:
        raise PubdataError("a no-op slot is all zero")
    value = (kind << (2 * depth)) | (from_index << depth) | to_leaf
    value = (value << FLOAT_BITS) | encode_float(amount)
    pad = slot_bytes(depth) * 8 - slot_bits(depth)
    return (value << pad).to_bytes(slot_bytes(depth), "big")


def payout_record(to: int, token: int, amount: int) -> bytes:
    """recipient (20) | token (20) | amount (16)."""
    return to.to_bytes(20, "big") + token.to_bytes(20, "big") + amount.to_bytes(16, "big")


def encode_tx_data(slots: list[bytes], records: list[bytes]) -> bytes:
    """`submitBatch`'s txData: the N compact slots, then the P used payout records."""
    return b"".join(slots) + b"".join(records)


def decode_tx_data(tx_data: bytes, n_txs: int, depth: int) -> tuple[Slot, ...]:
    """The slots of a posted txData, strictly: exactly N canonical compact slots followed by one
    record per payout slot, in slot order (what the contract and the circuit accept, no more).
    Raises PubdataError on anything else."""
    size = slot_bytes(depth)
    if len(tx_data) < n_txs * size:
        raise PubdataError(f"txData of {len(tx_data)} bytes is shorter than {n_txs} slots")
    raw_slots = [tx_data[t * size : (t + 1) * size] for t in range(n_txs)]
    heads = [_decode_compact(raw, depth, t) for t, raw in enumerate(raw_slots)]
    payouts = sum(1 for h in heads if h[0] in PAYOUT_KINDS)
    if payouts > payout_slots(n_txs):
        raise PubdataError(f"{payouts} payout slots > {payout_slots(n_txs)} payout records")
    expected = n_txs * size + payouts * RECORD_BYTES
    if len(tx_data) != expected:
        raise PubdataError(
            f"txData is {len(tx_data)} bytes; {n_txs} slots with {payouts} payouts take {expected}"
        )
    out: list[Slot] = []
    rec = n_txs * size
    for t, (kind, from_index, to_leaf, amount) in enumerate(heads):
        if kind not in PAYOUT_KINDS:
            out.append(Slot(kind, from_index, to_leaf, amount, None))
            continue
        raw = tx_data[rec : rec + RECORD_BYTES]
        rec += RECORD_BYTES
        to = int.from_bytes(raw[:20], "big")
        token = int.from_bytes(raw[20:40], "big")
        value = int.from_bytes(raw[40:], "big")
        if to == 0:
            raise PubdataError(f"slot {t}: a payout to the zero address")
        if kind == KIND_WITHDRAW and value == 0:
            raise PubdataError(f"slot {t}: a withdrawal of 0")
        out.append(Slot(kind, from_index, to, value, token))
    return tuple(out)


def _decode_compact(raw: bytes, depth: int, t: int) -> tuple[int, int, int, int]:
    pad = slot_bytes(depth) * 8 - slot_bits(depth)
    value = int.from_bytes(raw, "big")
    if value & ((1 << pad) - 1):
        raise PubdataError(f"slot {t}: padding bits are not zero")
    value >>= pad
    packed = value & ((1 << FLOAT_BITS) - 1)
    value >>= FLOAT_BITS
    mask = (1 << depth) - 1
    to_leaf, from_index, kind = value & mask, (value >> depth) & mask, value >> (2 * depth)
    try:
        amount = decode_float(packed)
    except PubdataError as exc:
        raise PubdataError(f"slot {t}: {exc}") from exc
    if kind != KIND_TRANSFER and (to_leaf or packed):
        raise PubdataError(f"slot {t}: a type-{kind} slot carries no receiving leaf or amount")
    if kind == KIND_NOOP and from_index:
        raise PubdataError(f"slot {t}: a no-op slot is all zero")
    return kind, from_index, to_leaf, amount


def full_data(head: bytes, deposit_slots: bytes, tx_data: bytes, n_txs: int, depth: int) -> bytes:
    """What the circuit hashes: the posted txData completed with zero records up to W."""
    used = len(tx_data) - n_txs * slot_bytes(depth)
    return head + deposit_slots + tx_data + bytes(payout_slots(n_txs) * RECORD_BYTES - used)


def data_hash(data: bytes) -> int:
    """The public input binding the data: SHA-256 with the top three bits cleared."""
    return int.from_bytes(hashlib.sha256(data).digest(), "big") & HASH_MASK


def total_bytes(n_txs: int, n_deposits: int, depth: int) -> int:
    """Bytes the circuit hashes."""
    return (
        HEADER_BYTES
        + n_deposits * DEPOSIT_SLOT_BYTES
        + n_txs * slot_bytes(depth)
        + payout_slots(n_txs) * RECORD_BYTES
    )
