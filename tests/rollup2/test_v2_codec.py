"""Format v2 codec: amounts and fees, items, commitments and batches byte by byte; every
truncation and bad count refused; the shared vectors reproduced."""

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from offchain.rollup.codec import (
    FORMAT_VERSION,
    CodecError,
    commitment_length,
    decode_amount,
    decode_batch,
    decode_commitment_at,
    decode_fee,
    decode_forced_tx,
    encode_amount,
    encode_batch,
    encode_commitment,
    encode_fee,
    encode_forced_tx,
    encode_transfer,
    encode_withdraw,
)
from offchain.rollup.hashing import keccak
from offchain.rollup.params import MAX_BALANCE, MAX_COMMITMENTS_PER_BATCH
from offchain.rollup.types import Commitment, DepositTx, ForcedSlot, Transfer, Withdraw
from offchain.rollup.vectors import VECTOR_FILE, build_vectors

V = json.loads(VECTOR_FILE.read_text())
MAXM = (1 << 27) - 1


def test_python_reproduces_the_vectors():
    assert build_vectors() == V
    assert V["formatVersion"] == FORMAT_VERSION == 2


def test_amount_and_fee_vectors():
    for a in V["amounts"]:
        assert encode_amount(int(a["value"])).hex() == a["packed"]
        assert decode_amount(bytes.fromhex(a["packed"])) == int(a["value"])
    for a in V["nonCanonicalAmounts"]:
        raw = bytes.fromhex(a["packed"])
        assert decode_amount(raw) == int(a["value"])
        assert encode_amount(int(a["value"])) != raw  # the encoder picks the largest exponent
    for a in V["malformedAmounts"]:
        assert decode_amount(bytes.fromhex(a["packed"])) == int(a["value"]) > MAX_BALANCE
    for f in V["fees"]:
        assert encode_fee(int(f["value"])).hex() == f["packed"]
        assert decode_fee(bytes.fromhex(f["packed"])) == int(f["value"])
    assert encode_amount(1).hex() == "00000020"
    assert encode_amount(10**18).hex() == "00000032"
    assert encode_fee(2000).hex() == "0043"


@given(st.integers(0, MAXM), st.integers(0, 31))
def test_amount_encoding_is_canonical(m, e):
    value = m * 10**e
    if value > MAX_BALANCE:
        with pytest.raises(CodecError, match="above 2\\^128-1"):
            encode_amount(value)
        return
    raw = encode_amount(value)
    word = int.from_bytes(raw, "big")
    assert len(raw) == 4 and decode_amount(raw) == value
    # canonical: no other encoding of the value has a larger exponent
    assert (word & 31) >= e or m == 0
    if value:
        mant, exp = word >> 5, word & 31
        assert mant % 10 != 0 or exp == 31


@given(st.integers(0, 2**32 - 1))
def test_every_amount_word_decodes(word):
    raw = word.to_bytes(4, "big")
    assert decode_amount(raw) == (word >> 5) * 10 ** (word & 31)


def test_unrepresentable_values_are_refused():
    for bad in (MAXM + 1, (MAXM + 1) * 10 + 1, 123_456_789_1, -1, MAX_BALANCE):
        with pytest.raises(CodecError):
            encode_amount(bad)
    for bad in (2048, 20471, -5):
        with pytest.raises(CodecError):
            encode_fee(bad)
    for raw in (b"", b"\x00" * 3, b"\x00" * 5):
        with pytest.raises(CodecError):
            decode_amount(raw)
    with pytest.raises(CodecError):
        decode_fee(b"\x00")


def test_item_sizes_and_layout():
    t = Transfer(0x010203, 0x040506, 123_450_000, 2000)
    assert encode_transfer(t).hex() == "010203" + "040506" + "00060724" + "0043"
    w = Withdraw(0xFFFFFF, 10**18, 0)
    assert encode_withdraw(w).hex() == "ffffff" + "00000032" + "0000"
    assert len(encode_forced_tx(t)) == 13 and encode_forced_tx(t)[0] == 2
    assert len(encode_forced_tx(w)) == 10 and encode_forced_tx(w)[0] == 3
    assert decode_forced_tx(encode_forced_tx(t)) == t
    assert decode_forced_tx(encode_forced_tx(w)) == w
    assert commitment_length(0, 0, 0, 0) == 39
    assert commitment_length(0, 1, 0, 0) == 39 + 48 + 12
    assert commitment_length(1, 0, 1, 1) == 39 + 48 + 3 + 9 + 1
    assert commitment_length(0, 32, 0, 0) == 87 + 32 * 12


@pytest.mark.parametrize(
    "raw",
    [
        b"",
        b"\x02",
        b"\x02" + bytes(11),
        b"\x02" + bytes(13),
        b"\x03" + bytes(8),
        b"\x03" + bytes(12),
        b"\x04" + bytes(9),
        b"\x01" + bytes(12),
    ],
)
def test_forced_tx_shapes_are_strict(raw):
    with pytest.raises(CodecError, match="forced tx"):
        decode_forced_tx(raw)


indexes = st.integers(0, 2**24 - 1)
amounts = st.builds(lambda m, e: min(m * 10**e, 10**30), st.integers(0, MAXM), st.integers(0, 20))
fees = st.builds(lambda m, e: m * 10**e, st.integers(0, 2047), st.integers(0, 31))


@st.composite
def commitments(draw, deposit_start=0, forced_start=0):
    counts: list[int] = []
    for _ in range(4):
        counts.append(draw(st.integers(0, 32 - sum(counts))))
    counts = draw(st.permutations(counts))
    transfers = draw(
        st.lists(
            st.builds(Transfer, indexes, indexes, amounts, fees),
            min_size=counts[1],
            max_size=counts[1],
        )
    )
    withdraws = draw(
        st.lists(
            st.builds(Withdraw, indexes, amounts, fees), min_size=counts[2], max_size=counts[2]
        )
    )
    signed = bool(transfers or withdraws)
    return Commitment(
        post_root=draw(st.binary(min_size=32, max_size=32)),
        deposit_end=deposit_start + counts[0],
        forced_end=forced_start + counts[3],
        fee_account=draw(indexes),
        deposits=tuple(DepositTx(draw(indexes)) for _ in range(counts[0])),
        transfers=tuple(transfers),
        withdraws=tuple(withdraws),
        forced=tuple(ForcedSlot(draw(st.booleans())) for _ in range(counts[3])),
        signature=draw(st.binary(min_size=48, max_size=48)) if signed else b"",
    )


@st.composite
def batches(draw):
    dep, frc = draw(st.integers(0, 1000)), draw(st.integers(0, 1000))
    start = (dep, frc)
    out = []
    for _ in range(draw(st.integers(1, 4))):
        c = draw(commitments(dep, frc))
        out.append(c)
        dep, frc = c.deposit_end, c.forced_end
    return start, out


@settings(max_examples=60, deadline=None)
@given(batches())
def test_batch_round_trip_and_hashes(b):
    (dep, frc), cs = b
    data = encode_batch(cs)
    back = decode_batch(data, dep, frc)
    assert back == cs
    for c, d in zip(cs, back, strict=True):
        assert d.hash() == c.hash()
        assert d.hash() == keccak(
            c.post_root
            + c.deposit_end.to_bytes(4, "big")
            + c.forced_end.to_bytes(4, "big")
            + keccak(encode_commitment(c)[32:])
        )
        assert len(encode_commitment(c)) == commitment_length(
            len(c.deposits), len(c.transfers), len(c.withdraws), len(c.forced)
        )
        assert encode_commitment(d) == encode_commitment(c)


@settings(max_examples=25, deadline=None)
@given(batches())
def test_every_truncation_is_refused_except_at_commitment_boundaries(b):
    (dep, frc), cs = b
    data = encode_batch(cs)
    boundaries = {0}
    at = 0
    for c in cs:
        at += len(encode_commitment(c))
        boundaries.add(at)
    for cut in range(len(data)):
        if cut in boundaries:
            if cut:
                assert len(decode_batch(data[:cut], dep, frc)) < len(cs)
            else:
                with pytest.raises(CodecError, match="empty batch"):
                    decode_batch(b"", dep, frc)
            continue
        with pytest.raises(CodecError):
            decode_batch(data[:cut], dep, frc)
    for extra in range(1, 39):  # fewer than a header left over
        with pytest.raises(CodecError):
            decode_batch(data + bytes([0xFF]) * extra, dep, frc)


@settings(max_examples=25, deadline=None)
@given(commitments())
def test_every_raised_count_is_refused(c):
    data = encode_commitment(c)
    for k in range(4):
        for bump in (1, 7, 32, 255):
            raw = bytearray(data)
            if raw[32 + k] + bump > 255:
                continue
            raw[32 + k] += bump
            with pytest.raises(CodecError):
                decode_batch(bytes(raw))


def test_count_sum_above_32_is_refused():
    for counts in ((33, 0, 0, 0), (0, 0, 0, 33), (8, 8, 8, 9), (255, 255, 255, 255)):
        raw = bytes(32) + bytes(counts) + bytes(3) + bytes(48 + 32 * 12 + 33 * 3)
        with pytest.raises(CodecError, match="at most 32"):
            decode_commitment_at(raw, 0, 0, 0)


def test_batch_bounds_and_queue_positions():
    empty = Commitment(bytes(32), 0, 0, 0)
    one = encode_commitment(empty)
    assert len(one) == 39
    assert len(decode_batch(one * MAX_COMMITMENTS_PER_BATCH)) == MAX_COMMITMENTS_PER_BATCH
    with pytest.raises(CodecError, match="more than 64"):
        decode_batch(one * (MAX_COMMITMENTS_PER_BATCH + 1))
    with pytest.raises(CodecError):
        encode_batch([])
    with pytest.raises(CodecError):
        encode_batch([empty] * 65)
    dep = Commitment(bytes(32), 5, 2, 0, deposits=(DepositTx(1),), forced=(ForcedSlot(True),))
    raw = encode_commitment(dep)
    (d,) = decode_batch(raw, 4, 1)
    assert (d.deposit_start, d.deposit_end, d.forced_start, d.forced_end) == (4, 5, 1, 2)
    assert decode_batch(raw, 4, 1, deposits_queued=5, forced_queued=2) == [dep]
    with pytest.raises(CodecError, match="only 4 queued"):
        decode_batch(raw, 4, 1, deposits_queued=4)
    with pytest.raises(CodecError, match="only 1 queued"):
        decode_batch(raw, 4, 1, forced_queued=1)
    with pytest.raises(CodecError, match="in step"):  # queue ends must follow the counts
        encode_batch([dep, Commitment(bytes(32), 7, 2, 0, deposits=(DepositTx(1),))])


def test_content_the_contract_does_not_read_decodes_and_keeps_its_bytes():
    # an amount above 2^128-1, a non-canonical amount and an outcome byte 0x07 frame fine:
    # they are fraud to prove (MALFORMED), so the decoder keeps them and the posted bytes
    transfer = bytes(3) + b"\x00\x00\x01" + bytes.fromhex("ffffffff") + b"\x00\x00"
    withdraw = b"\x00\x00\x02" + bytes.fromhex("00000140") + b"\x00\x00"
    rest = bytes([0, 1, 1, 2]) + bytes(3) + bytes(48) + transfer + withdraw + b"\x07\x01"
    raw = bytes(32) + rest
    (c,) = decode_batch(raw, 0, 0)
    assert c.transfers[0].amount > MAX_BALANCE
    assert c.withdraws[0].amount == 10
    assert c.forced[0].malformed and c.forced[0].outcome == 7 and c.forced[1].applied
    assert encode_commitment(c) == raw
    assert c.hash() == keccak(bytes(32) + bytes(4) + (2).to_bytes(4, "big") + keccak(rest))
    canonical = Commitment(
        c.post_root,
        c.deposit_end,
        c.forced_end,
        c.fee_account,
        transfers=(),
        withdraws=c.withdraws,
        forced=(ForcedSlot(False), ForcedSlot(True)),
        signature=bytes(48),
    )
    assert canonical.hash() != c.hash()


def test_posted_bytes_must_hold_the_fields():
    import dataclasses

    v = V["commitment"]
    (c,) = decode_batch(bytes.fromhex(v["encoded"]), 4, 1)
    assert dataclasses.replace(c, post_root=bytes(32)).rest() == c.rest()  # root is outside
    with pytest.raises(ValueError, match="posted_rest does not hold"):
        dataclasses.replace(c, fee_account=7)
    with pytest.raises(ValueError, match="posted_rest does not hold"):
        dataclasses.replace(c, forced=(ForcedSlot(True), ForcedSlot(True)))
    with pytest.raises(CodecError):
        dataclasses.replace(c, posted_rest=c.rest()[:-1])


def test_commitment_fields_are_checked():
    with pytest.raises(ValueError, match="signature must be 48"):
        Commitment(bytes(32), 0, 0, 0, transfers=(Transfer(0, 1, 1, 0),))
    with pytest.raises(ValueError, match="signature must be 0"):
        Commitment(bytes(32), 0, 0, 0, signature=bytes(48))
    with pytest.raises(ValueError, match="at most 32"):
        Commitment(bytes(32), 33, 0, 0, deposits=(DepositTx(0),) * 33)
    with pytest.raises(ValueError, match="below"):
        Commitment(bytes(32), 0, 0, 0, deposits=(DepositTx(0),))
    with pytest.raises(ValueError, match="32 bytes"):
        Commitment(bytes(31), 0, 0, 0)
    with pytest.raises(ValueError):
        ForcedSlot(True, raw_outcome=9)
    with pytest.raises(ValueError):
        ForcedSlot(False, raw_outcome=1)


def test_vector_commitment_and_batch():
    c = V["commitment"]
    b = V["batch"]
    cs = decode_batch(bytes.fromhex(b["data"]), b["depositStart"], b["forcedStart"])
    assert len(cs) == 2
    assert cs[0].hash().hex() == c["hash"]
    assert cs[0].rest().hex() == c["rest"]
    assert (cs[0].deposit_end, cs[0].forced_end) == (c["depositEnd"], c["forcedEnd"])
    assert cs[1].hash().hex() == V["emptyCommitment"]["hash"]
    assert keccak(cs[0].hash() + cs[1].hash()).hex() == b["hash"]
    first = cs[0]
    assert (len(first.deposits), len(first.transfers), len(first.withdraws), len(first.forced)) == (
        1,
        3,
        1,
        2,
    )
