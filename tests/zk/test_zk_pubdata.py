# SPDX-License-Identifier: GPL-3.0-or-later
"""Public data format v2 (docs/zk.md "Public data"): the shared vectors decoded by Python and by
Solidity (ZkPubdata, through a harness), the data hash both compute, and round-trip and
strictness properties of the Python codec: whatever decodes re-encodes to the same bytes."""

from __future__ import annotations

import json
from pathlib import Path

import ape
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from offchain.zk import pubdata

VECTORS = json.loads((Path(__file__).parent / "vectors" / "pubdata_v2.json").read_text())


@pytest.fixture(scope="module")
def harness(project, deployer):
    return deployer.deploy(project.ZkPubdataHarness)


def _slots(vector: dict) -> list[pubdata.Slot]:
    return [
        pubdata.Slot(s["kind"], s["from"], s["to"], int(s["amount"]), s["token"])
        for s in vector["slots"]
    ]


def _encode(slots: list[pubdata.Slot], n_txs: int, depth: int) -> bytes:
    raw, records = [], []
    for s in slots:
        if s.kind in pubdata.PAYOUT_KINDS:
            raw.append(pubdata.compact_slot(s.kind, s.from_index, 0, 0, depth))
            records.append(pubdata.payout_record(s.to, s.token or 0, s.amount))
        else:
            raw.append(pubdata.compact_slot(s.kind, s.from_index, s.to, s.amount, depth))
    raw += [bytes(pubdata.slot_bytes(depth))] * (n_txs - len(raw))
    return pubdata.encode_tx_data(raw, records)


def _hash(tx_data: bytes, n_txs: int, depth: int) -> int:
    head = pubdata.header(1, 1, 0)
    return pubdata.data_hash(pubdata.full_data(head, b"", tx_data, n_txs, depth))


def test_zk_pubdata_vectors_python():
    assert VECTORS["format_version"] == pubdata.FORMAT_VERSION == 2
    for v in VECTORS["valid"]:
        data = bytes.fromhex(v["tx_data"])
        slots = _slots(v)
        assert list(pubdata.decode_tx_data(data, v["n_txs"], v["depth"])) == slots, v["name"]
        assert _encode(slots, v["n_txs"], v["depth"]) == data, v["name"]
        assert hex(_hash(data, v["n_txs"], v["depth"])) == v["data_hash"], v["name"]
    for v in VECTORS["invalid"]:
        with pytest.raises(pubdata.PubdataError):
            pubdata.decode_tx_data(bytes.fromhex(v["tx_data"]), v["n_txs"], v["depth"])


def test_zk_pubdata_vectors_solidity(harness):
    """ZkRollup's reader (type, sender, records, hash) agrees with Python on every vector."""
    for v in VECTORS["valid"]:
        data = bytes.fromhex(v["tx_data"])
        kinds, senders, tos, tokens, amounts = harness.decode(data, v["n_txs"], v["depth"])
        slots = _slots(v)
        assert list(kinds) == [s.kind for s in slots], v["name"]
        assert list(senders) == [s.from_index for s in slots], v["name"]
        payouts = [s for s in slots if s.kind in pubdata.PAYOUT_KINDS]
        assert [int(a, 16) for a in tos] == [s.to for s in payouts], v["name"]
        assert [int(a, 16) for a in tokens] == [s.token for s in payouts], v["name"]
        assert list(amounts) == [s.amount for s in payouts], v["name"]
        assert harness.hashOf(data, v["n_txs"], v["depth"]) == int(v["data_hash"], 16)
    # What the contract itself refuses (the rest only the circuit does: see rejected_by).
    for v in VECTORS["invalid"]:
        data = bytes.fromhex(v["tx_data"])
        if v["rejected_by"] == "contract":
            with ape.reverts():
                harness.decode(data, v["n_txs"], v["depth"])
            with ape.reverts():
                harness.hashOf(data, v["n_txs"], v["depth"])


def test_zk_pubdata_float_vectors_match_the_optimistic_rollup():
    """The same float as docs/rollup-spec.md (mantissa 35 | exponent 5, largest exponent)."""
    for value, packed in [(1, "0000000020"), (10**18, "0000000032"), (123450000, "0000060724")]:
        assert pubdata.encode_float(value).to_bytes(5, "big").hex() == packed
        assert pubdata.decode_float(int(packed, 16)) == value
    with pytest.raises(pubdata.PubdataError, match="significant"):
        pubdata.encode_float(2**35 * 10 + 1)
    with pytest.raises(pubdata.PubdataError, match="canonical"):
        pubdata.decode_float((10 << 5) | 17)  # 10e17 is 1e18's non-canonical twin
    assert pubdata.decode_float((10 << 5) | 31) == 10**32  # at exponent 31 a 0 digit stays
    assert pubdata.payout_slots(1) == 1
    assert [pubdata.payout_slots(n) for n in (2, 4, 16, 64)] == [2, 2, 4, 16]
    assert [pubdata.slot_bytes(d) for d in (4, 20, 24, 32)] == [7, 11, 12, 14]


_slot = st.one_of(
    st.tuples(
        st.just(1),
        st.integers(0, 15),
        st.integers(0, 15),
        st.builds(lambda m, e: m * 10**e, st.integers(0, 2**35 - 1), st.integers(0, 31)),
        st.just(0),
    ),
    st.tuples(
        st.sampled_from([2, 3]),
        st.integers(0, 15),
        st.integers(1, 2**160 - 1),
        st.integers(0, 2**128 - 1),
        st.integers(0, 2**160 - 1),
    ),
)


@settings(max_examples=200, deadline=None)
@given(st.lists(_slot, min_size=0, max_size=5))
def test_zk_pubdata_round_trip(raw):
    n_txs, depth = 5, 4
    slots = [
        pubdata.Slot(k, f, t, a, tok if k in pubdata.PAYOUT_KINDS else None)
        for k, f, t, a, tok in raw
    ]
    slots = [s for s in slots if not (s.kind == 2 and s.amount == 0)]
    while sum(s.kind in pubdata.PAYOUT_KINDS for s in slots) > pubdata.payout_slots(n_txs):
        slots.pop()
    data = _encode(slots, n_txs, depth)
    padded = slots + [pubdata.Slot(0, 0, 0, 0, None)] * (n_txs - len(slots))
    assert list(pubdata.decode_tx_data(data, n_txs, depth)) == padded


def _canonical_or_refused(data: bytes, n_txs: int, depth: int) -> None:
    try:
        slots = pubdata.decode_tx_data(data, n_txs, depth)
    except pubdata.PubdataError:
        return
    assert _encode(list(slots), n_txs, depth) == data


@settings(max_examples=300, deadline=None)
@given(st.binary(min_size=14, max_size=14 + 2 * 56 + 2))
def test_zk_pubdata_strict_decoder_accepts_only_canonical_bytes(data):
    """Anything the decoder accepts is the one encoding of what it decoded to."""
    _canonical_or_refused(data, 2, 4)


@settings(max_examples=300, deadline=None)
@given(st.lists(_slot, min_size=1, max_size=2), st.data())
def test_zk_pubdata_one_bit_flipped_is_refused_or_another_canonical_batch(raw, draw):
    slots = [pubdata.Slot(k, f, t, a, tok if k >= 2 else None) for k, f, t, a, tok in raw]
    slots = [s for s in slots if not (s.kind == 2 and s.amount == 0)]
    data = _encode(slots, 2, 4)
    bit = draw.draw(st.integers(0, len(data) * 8 - 1))
    flipped = (int.from_bytes(data, "big") ^ (1 << bit)).to_bytes(len(data), "big")
    _canonical_or_refused(flipped, 2, 4)


@st.composite
def _batches(draw):
    """A txData of canonical slots at a random depth and N, sometimes with more payouts than
    records or with bytes cut or added at the end (what only the length checks refuse)."""
    depth = draw(st.sampled_from([1, 4, 20, 32]))
    n_txs = draw(st.integers(1, 12))
    leaf = st.integers(0, 2**depth - 1)
    amount = st.builds(lambda m, e: m * 10**e, st.integers(0, 2**35 - 1), st.integers(0, 31))
    slot = st.one_of(
        st.builds(lambda f: pubdata.Slot(0, 0, 0, 0, None), st.just(0)),
        st.builds(lambda f, t, a: pubdata.Slot(1, f, t, a, None), leaf, leaf, amount),
        st.builds(
            lambda k, f, to, a, tok: pubdata.Slot(k, f, to, a, tok),
            st.sampled_from([2, 3]),
            leaf,
            st.integers(1, 2**160 - 1),
            st.integers(1, 2**128 - 1),
            st.integers(0, 2**160 - 1),
        ),
    )
    slots = draw(st.lists(slot, min_size=n_txs, max_size=n_txs))
    data = _encode(slots, n_txs, depth)
    tail = draw(st.sampled_from(["exact", "cut", "extra"]))
    if tail == "cut":
        data = data[: draw(st.integers(0, len(data) - 1))]
    elif tail == "extra":
        data += draw(st.binary(min_size=1, max_size=60))
    return depth, n_txs, data


@settings(max_examples=120, deadline=None)
@given(_batches())
def test_zk_pubdata_solidity_finds_the_payouts_python_finds(harness, batch):
    """ZkRollup's one-pass reader (payoutHeads, records) agrees with Python's decoder at every
    depth up to 32 and every N, and refuses exactly the txData of the wrong shape."""
    depth, n_txs, data = batch
    try:
        slots = pubdata.decode_tx_data(data, n_txs, depth)
    except pubdata.PubdataError:
        with ape.reverts():
            harness.decode(data, n_txs, depth)
        return
    kinds, senders, tos, tokens, amounts = harness.decode(data, n_txs, depth)
    assert list(kinds) == [s.kind for s in slots]
    assert list(senders) == [s.from_index for s in slots]
    payouts = [s for s in slots if s.kind in pubdata.PAYOUT_KINDS]
    assert [int(a, 16) for a in tos] == [s.to for s in payouts]
    assert [int(a, 16) for a in tokens] == [s.token for s in payouts]
    assert list(amounts) == [s.amount for s in payouts]


@st.composite
def _public_data(draw):
    d = draw(st.integers(1, 5))
    positions = draw(st.lists(st.integers(0, d - 1), unique=True, max_size=d))
    deposits = [
        (
            j,
            draw(st.integers(0, 2**32 - 1)),
            draw(st.integers(0, 2**256 - 1)),
            draw(st.integers(0, 2**160 - 1)),
            draw(st.integers(0, 2**128 - 1)),
        )
        for j in positions  # any order: each write touches its own 72 bytes only
    ]
    header = (
        draw(st.integers(0, 2**64 - 1)),
        draw(st.integers(0, 2**160 - 1)),
        draw(st.integers(0, 2**32 - 1)),
    )
    return d, deposits, header


@settings(max_examples=60, deadline=None)
@given(_public_data(), st.sampled_from(VECTORS["valid"]))
def test_zk_pubdata_contract_builds_the_bytes_python_hashes(harness, built, vector):
    """The public data ZkRollup hashes (header, deposit slots written in place, txData, zero
    records) is byte for byte what the circuit's witness builder hashes."""
    d, deposits, (chain_id, rollup, index) = built
    tx_data = bytes.fromhex(vector["tx_data"])
    n_txs, depth = vector["n_txs"], vector["depth"]
    slots = [pubdata.empty_deposit_slot()] * d
    for j, leaf, key, token, amount in deposits:
        slots[j] = pubdata.deposit_slot(leaf, key, token, amount)
    head = pubdata.header(chain_id, rollup, index)
    expected = pubdata.full_data(head, b"".join(slots), tx_data, n_txs, depth)
    data, got = harness.publicData(
        [chain_id, rollup, index],
        d,
        [(j, leaf, key, f"0x{token:040x}", amount) for j, leaf, key, token, amount in deposits],
        tx_data,
        n_txs,
        depth,
    )
    assert bytes(data) == expected
    assert got == pubdata.data_hash(expected)
