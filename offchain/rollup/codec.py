"""Byte codec of rollup format v2: amounts, fees, forced-queue entries, commitments and batches.

Layout (docs/rollup-spec.md, "Commitments"), all big-endian:

    postRoot(32) nDeposits(1) nTransfers(1) nWithdraws(1) nForced(1) feeAccount(3)
    [signature(48) iff nTransfers + nWithdraws > 0]
    nDeposits x account(3) | nTransfers x from(3) to(3) amount(4) fee(2)
    | nWithdraws x from(3) amount(4) fee(2) | nForced x outcome(1)

Framing errors (a count sum above 32, a commitment cut short, bytes left over, too many
commitments, queue positions past what L1 queued) raise CodecError: the contract reverts such a
posting, so no accepted batch has them. What the contract does not read (amounts above 2^128-1,
outcome bytes other than 0/1, the signature) decodes into the Commitment and is judged by
execution (MALFORMED) or by the signature check: bad data is fraud to prove, not a decode error.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from .params import (
    AMOUNT_LEN,
    AMOUNT_MANTISSA_BITS,
    DEPOSIT_LEN,
    EXPONENT_BITS,
    FEE_LEN,
    FEE_MANTISSA_BITS,
    FORCED_APPLIED,
    FORCED_LEN,
    FORCED_SKIPPED,
    FORCED_TRANSFER_TX_LEN,
    FORCED_WITHDRAW_TX_LEN,
    FORMAT_VERSION,
    HEADER_LEN,
    INDEX_LEN,
    MAX_BALANCE,
    MAX_COMMITMENTS_PER_BATCH,
    MAX_TXS_PER_COMMITMENT,
    SIGNATURE_LEN,
    TRANSFER_LEN,
    TX_TRANSFER,
    TX_WITHDRAW,
    WITHDRAW_LEN,
)
from .types import Commitment, DepositTx, ForcedSlot, Transfer, Withdraw

__all__ = [
    "FORMAT_VERSION",
    "CodecError",
    "commitment_length",
    "decode_amount",
    "decode_batch",
    "decode_commitment_at",
    "decode_fee",
    "decode_forced_tx",
    "decode_transfer",
    "decode_withdraw",
    "encode_amount",
    "encode_batch",
    "encode_commitment",
    "encode_fee",
    "encode_forced_tx",
    "encode_rest",
    "encode_transfer",
    "encode_withdraw",
    "is_packable_amount",
    "is_packable_fee",
    "parse_rest",
]


class CodecError(ValueError):
    """Bytes that are not a valid encoding, or a value no encoding holds; the message says what."""


# ------------------------------------------------------------------ packed numbers

_EXP_MASK = (1 << EXPONENT_BITS) - 1


def _pack_float(value: int, mantissa_bits: int, what: str) -> int:
    """mantissa | exponent with the largest exponent (canonical); zero packs as 0."""
    if value < 0:
        raise CodecError(f"negative {what} {value}")
    mantissa, exp = value, 0
    while mantissa and mantissa % 10 == 0 and exp < _EXP_MASK:
        mantissa //= 10
        exp += 1
    if mantissa >= 1 << mantissa_bits:
        raise CodecError(
            f"{what} {value} needs more than {mantissa_bits} mantissa bits (at most "
            f"{(1 << mantissa_bits) - 1} x 10^e): round it to fewer significant digits"
        )
    return (mantissa << EXPONENT_BITS) | exp


def _unpack_float(packed: int) -> int:
    return (packed >> EXPONENT_BITS) * 10 ** (packed & _EXP_MASK)


def encode_amount(value: int) -> bytes:
    """4 bytes: mantissa(27) | exponent(5), value = mantissa * 10**exponent, largest exponent."""
    if value > MAX_BALANCE:
        raise CodecError(f"amount {value} is above 2^128-1, the balance range")
    return _pack_float(value, AMOUNT_MANTISSA_BITS, "amount").to_bytes(AMOUNT_LEN, "big")


def decode_amount(raw: bytes) -> int:
    """Any 4-byte encoding (canonical or not); the value may exceed 2^128-1 (MALFORMED when
    executed, not a decode error)."""
    if len(raw) != AMOUNT_LEN:
        raise CodecError(f"an amount is {AMOUNT_LEN} bytes, got {len(raw)}")
    return _unpack_float(int.from_bytes(raw, "big"))


def encode_fee(value: int) -> bytes:
    """2 bytes: mantissa(11) | exponent(5), largest exponent."""
    return _pack_float(value, FEE_MANTISSA_BITS, "fee").to_bytes(FEE_LEN, "big")


def decode_fee(raw: bytes) -> int:
    if len(raw) != FEE_LEN:
        raise CodecError(f"a fee is {FEE_LEN} bytes, got {len(raw)}")
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


# ------------------------------------------------------------------------ items


def _index(value: int) -> bytes:
    return value.to_bytes(INDEX_LEN, "big")


def _read_index(raw: bytes, at: int) -> int:
    return int.from_bytes(raw[at : at + INDEX_LEN], "big")


def encode_transfer(tx: Transfer) -> bytes:
    """from(3) | to(3) | amount(4) | fee(2) = 12 bytes."""
    return _index(tx.sender) + _index(tx.recipient) + encode_amount(tx.amount) + encode_fee(tx.fee)


def decode_transfer(raw: bytes) -> Transfer:
    if len(raw) != TRANSFER_LEN:
        raise CodecError(f"a transfer is {TRANSFER_LEN} bytes, got {len(raw)}")
    return Transfer(
        sender=_read_index(raw, 0),
        recipient=_read_index(raw, 3),
        amount=decode_amount(raw[6:10]),
        fee=decode_fee(raw[10:12]),
    )


def encode_withdraw(tx: Withdraw) -> bytes:
    """from(3) | amount(4) | fee(2) = 9 bytes."""
    return _index(tx.sender) + encode_amount(tx.amount) + encode_fee(tx.fee)


def decode_withdraw(raw: bytes) -> Withdraw:
    if len(raw) != WITHDRAW_LEN:
        raise CodecError(f"a withdraw is {WITHDRAW_LEN} bytes, got {len(raw)}")
    return Withdraw(
        sender=_read_index(raw, 0), amount=decode_amount(raw[3:7]), fee=decode_fee(raw[7:9])
    )


def encode_forced_tx(tx: Transfer | Withdraw) -> bytes:
    """The `l2tx` of `forceTransaction`: 0x02 | transfer(12) or 0x03 | withdraw(9)."""
    if isinstance(tx, Transfer):
        return bytes([TX_TRANSFER]) + encode_transfer(tx)
    if isinstance(tx, Withdraw):
        return bytes([TX_WITHDRAW]) + encode_withdraw(tx)
    raise TypeError(f"only a transfer or a withdraw can be forced, not {tx!r}")


def decode_forced_tx(data: bytes) -> Transfer | Withdraw:
    """The transfer or withdraw of a forced-queue entry (L1 accepts only these two shapes)."""
    kind = data[:1]
    if kind == bytes([TX_TRANSFER]) and len(data) == FORCED_TRANSFER_TX_LEN:
        return decode_transfer(data[1:])
    if kind == bytes([TX_WITHDRAW]) and len(data) == FORCED_WITHDRAW_TX_LEN:
        return decode_withdraw(data[1:])
    raise CodecError(
        f"a forced tx is 0x02 | transfer ({FORCED_TRANSFER_TX_LEN} bytes) or 0x03 | withdraw "
        f"({FORCED_WITHDRAW_TX_LEN} bytes), got kind {data[:1].hex() or 'none'} and "
        f"{len(data)} bytes"
    )


# ---------------------------------------------------------------- commitments


def commitment_length(n_deposits: int, n_transfers: int, n_withdraws: int, n_forced: int) -> int:
    """Posted size of a commitment with these counts."""
    signature = SIGNATURE_LEN if n_transfers + n_withdraws else 0
    return (
        HEADER_LEN
        + signature
        + n_deposits * DEPOSIT_LEN
        + n_transfers * TRANSFER_LEN
        + n_withdraws * WITHDRAW_LEN
        + n_forced * FORCED_LEN
    )


def encode_rest(c: Commitment) -> bytes:
    """The bytes after postRoot, canonical: counts, fee account, signature, sections."""
    return (
        bytes([len(c.deposits), len(c.transfers), len(c.withdraws), len(c.forced)])
        + _index(c.fee_account)
        + c.signature
        + b"".join(_index(d.account) for d in c.deposits)
        + b"".join(encode_transfer(t) for t in c.transfers)
        + b"".join(encode_withdraw(w) for w in c.withdraws)
        + bytes(f.outcome for f in c.forced)
    )


def encode_commitment(c: Commitment) -> bytes:
    """The commitment as posted: postRoot | rest (the posted bytes again for a decoded one)."""
    return c.post_root + c.rest()


def encode_batch(commitments: Sequence[Commitment]) -> bytes:
    """Batch bytes as posted: 1..64 commitments back to back, each one's queue ends following
    from the previous one's and its own counts."""
    if not 1 <= len(commitments) <= MAX_COMMITMENTS_PER_BATCH:
        raise CodecError(
            f"a batch holds 1..{MAX_COMMITMENTS_PER_BATCH} commitments, got {len(commitments)}"
        )
    for i in range(1, len(commitments)):
        prev, cur = commitments[i - 1], commitments[i]
        if cur.deposit_start != prev.deposit_end or cur.forced_start != prev.forced_end:
            raise CodecError(
                f"commitment {i} starts at deposit {cur.deposit_start} / forced "
                f"{cur.forced_start} but commitment {i - 1} ends at {prev.deposit_end} / "
                f"{prev.forced_end}: queue ends are derived from the counts, keep them in step"
            )
    return b"".join(encode_commitment(c) for c in commitments)


@dataclass(frozen=True)
class RestFields:
    """What a commitment's `rest` holds (everything after postRoot), decoded."""

    fee_account: int
    deposits: tuple[DepositTx, ...]
    transfers: tuple[Transfer, ...]
    withdraws: tuple[Withdraw, ...]
    forced: tuple[ForcedSlot, ...]
    signature: bytes


def parse_rest(rest: bytes) -> RestFields:
    """Decode exactly one commitment's `rest`; CodecError unless its length is the one its
    counts give (and the counts sum to at most 32)."""
    if len(rest) < HEADER_LEN - 32:
        raise CodecError(f"a commitment's rest is at least {HEADER_LEN - 32} bytes")
    n_dep, n_tr, n_wd, n_fo = rest[0:4]
    if n_dep + n_tr + n_wd + n_fo > MAX_TXS_PER_COMMITMENT:
        raise CodecError(
            f"commitment counts {n_dep + n_tr + n_wd + n_fo} txs (deposits {n_dep}, transfers "
            f"{n_tr}, withdraws {n_wd}, forced {n_fo}); at most {MAX_TXS_PER_COMMITMENT}"
        )
    if len(rest) != commitment_length(n_dep, n_tr, n_wd, n_fo) - 32:
        raise CodecError(
            f"commitment rest is {len(rest)} bytes but its counts need "
            f"{commitment_length(n_dep, n_tr, n_wd, n_fo) - 32}"
        )
    at = HEADER_LEN - 32
    signature = b""
    if n_tr + n_wd:
        signature = rest[at : at + SIGNATURE_LEN]
        at += SIGNATURE_LEN
    deposits = []
    for _ in range(n_dep):
        deposits.append(DepositTx(_read_index(rest, at)))
        at += DEPOSIT_LEN
    transfers = []
    for _ in range(n_tr):
        transfers.append(decode_transfer(rest[at : at + TRANSFER_LEN]))
        at += TRANSFER_LEN
    withdraws = []
    for _ in range(n_wd):
        withdraws.append(decode_withdraw(rest[at : at + WITHDRAW_LEN]))
        at += WITHDRAW_LEN
    forced = []
    for byte in rest[at : at + n_fo]:
        if byte == FORCED_APPLIED:
            forced.append(ForcedSlot(True))
        elif byte == FORCED_SKIPPED:
            forced.append(ForcedSlot(False))
        else:
            forced.append(ForcedSlot(False, raw_outcome=byte))
    return RestFields(
        fee_account=_read_index(rest, 4),
        deposits=tuple(deposits),
        transfers=tuple(transfers),
        withdraws=tuple(withdraws),
        forced=tuple(forced),
        signature=signature,
    )


def decode_commitment_at(
    data: bytes, offset: int, deposit_start: int, forced_start: int
) -> tuple[Commitment, int]:
    """Decode the commitment starting at `offset` whose queue ranges start at the given
    positions; return it and the offset after it. CodecError on a framing error."""
    if offset + HEADER_LEN > len(data):
        raise CodecError(
            f"commitment at offset {offset}: header needs {HEADER_LEN} bytes, "
            f"{len(data) - offset} left"
        )
    n_dep, n_tr, n_wd, n_fo = data[offset + 32 : offset + 36]
    if n_dep + n_tr + n_wd + n_fo > MAX_TXS_PER_COMMITMENT:
        raise CodecError(
            f"commitment at offset {offset} counts {n_dep + n_tr + n_wd + n_fo} txs "
            f"(deposits {n_dep}, transfers {n_tr}, withdraws {n_wd}, forced {n_fo}); "
            f"at most {MAX_TXS_PER_COMMITMENT}"
        )
    end = offset + commitment_length(n_dep, n_tr, n_wd, n_fo)
    if end > len(data):
        raise CodecError(
            f"commitment at offset {offset} is cut short: its counts need {end - offset} "
            f"bytes, {len(data) - offset} left"
        )
    f = parse_rest(data[offset + 32 : end])
    commitment = Commitment(
        post_root=data[offset : offset + 32],
        deposit_end=deposit_start + n_dep,
        forced_end=forced_start + n_fo,
        fee_account=f.fee_account,
        deposits=f.deposits,
        transfers=f.transfers,
        withdraws=f.withdraws,
        forced=f.forced,
        signature=f.signature,
        posted_rest=data[offset + 32 : end],
    )
    return commitment, end


def decode_batch(
    data: bytes,
    deposit_start: int = 0,
    forced_start: int = 0,
    *,
    deposits_queued: int | None = None,
    forced_queued: int | None = None,
) -> list[Commitment]:
    """Split posted batch bytes into commitments, with the framing checks of Rollup.postBatch.
    `deposit_start` / `forced_start`: the queue positions after the previous batch;
    `deposits_queued` / `forced_queued` (when known): how many entries L1 had queued."""
    out: list[Commitment] = []
    offset = 0
    dep, frc = deposit_start, forced_start
    while offset < len(data):
        if len(out) == MAX_COMMITMENTS_PER_BATCH:
            raise CodecError(f"more than {MAX_COMMITMENTS_PER_BATCH} commitments in one batch")
        c, offset = decode_commitment_at(data, offset, dep, frc)
        dep, frc = c.deposit_end, c.forced_end
        out.append(c)
    if not out:
        raise CodecError("empty batch: a batch holds at least one commitment")
    if deposits_queued is not None and dep > deposits_queued:
        raise CodecError(f"batch consumes deposits up to {dep} but only {deposits_queued} queued")
    if forced_queued is not None and frc > forced_queued:
        raise CodecError(f"batch consumes forced txs up to {frc} but only {forced_queued} queued")
    return out
