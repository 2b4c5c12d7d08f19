"""Blob batch layout (offchain/rollup/blob_batches.py, docs/rollup-blobs.md): pure tests."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from offchain.blobs import encoding
from offchain.rollup import blob_batches as bb
from offchain.rollup.codec import commitment_length
from offchain.rollup.hashing import keccak


def _rest(counts: tuple[int, int, int, int], fill: int) -> bytes:
    n = commitment_length(*counts) - 32
    body = bytes(counts) + bytes((fill + i) % 256 for i in range(n - 4))
    return body


counts_st = st.tuples(st.integers(0, 8), st.integers(0, 8), st.integers(0, 8), st.integers(0, 8))
commitment_st = st.tuples(st.binary(min_size=32, max_size=32), counts_st, st.integers(0, 255))
batch_st = st.lists(commitment_st, min_size=1, max_size=6)


def _batches(raw: list[list[tuple[bytes, tuple[int, int, int, int], int]]]):
    return [[(root, _rest(c, fill)) for root, c, fill in batch] for batch in raw]


@settings(max_examples=60, deadline=None)
@given(st.lists(batch_st, min_size=1, max_size=4))
def test_encode_decode_read_round_trip(raw) -> None:
    batches = _batches(raw)
    posting = bb.encode_posting(batches)
    decoded = bb.decode_posting_data(posting.data)
    assert decoded == list(posting.batches)
    blobs = posting.blobs()
    assert len(blobs) == bb.blob_count(decoded)
    for batch, commitments in zip(decoded, batches, strict=True):
        read = bb.read_rests(blobs, batch)
        assert read.first_bad is None
        assert list(read.rests) == [rest for _, rest in commitments]
        assert read.calldata_form(batch) == b"".join(root + rest for root, rest in commitments)


def test_commitment_hashes_match_calldata_format() -> None:
    from offchain.rollup.hashes import commitment_hash

    batches = _batches([[(b"\x11" * 32, (1, 2, 0, 1), 7), (b"\x22" * 32, (0, 0, 3, 0), 9)]])
    batch = bb.encode_posting(batches).batches[0]
    hashes = batch.commitment_hashes(5, 2)
    assert hashes[0] == commitment_hash(b"\x11" * 32, 6, 3, batches[0][0][1])
    assert hashes[1] == commitment_hash(b"\x22" * 32, 6, 3, batches[0][1][1])
    assert batch.ends(5, 2) == (6, 3)


def test_extract_ignores_top_bytes_and_padding() -> None:
    batches = _batches([[(b"\x01" * 32, (0, 1, 0, 0), 3)]])
    posting = bb.encode_posting(batches)
    blob = bytearray(posting.blobs()[0])
    for e in range(0, 4096, 5):
        blob[32 * e] = 0x55  # top bytes: ignored (still < modulus)
    blob[32 * 100 + 7] = 0xFF  # padding far past the payload: ignored
    read = bb.read_rests([bytes(blob)], posting.batches[0])
    assert read.first_bad is None


def test_a_changed_byte_or_count_is_bad() -> None:
    batches = _batches([[(b"\x01" * 32, (0, 1, 0, 0), 3), (b"\x02" * 32, (1, 0, 0, 0), 4)]])
    posting = bb.encode_posting(batches)
    batch = posting.batches[0]
    second = batch.rest_offsets()[1]
    _blob_i, el, byte = encoding.element_position(second + 5)
    blob = bytearray(posting.blobs()[0])
    blob[32 * el + byte] ^= 1
    assert bb.read_rests([bytes(blob)], batch).first_bad == 1
    # A header whose counts differ from the rest's own counts (hash kept) is bad too.
    h = batch.headers[0]
    forged = bb.BlobHeader(h.post_root, bytes([0, 1, 0, 0]), h.rest_hash)
    assert bb.rest_is_good(forged, batches[0][0][1])
    forged = bb.BlobHeader(h.post_root, bytes([1, 1, 0, 0]), h.rest_hash)
    assert not bb.rest_is_good(forged, batches[0][0][1] + b"\x00" * 3)


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"\x00",
        b"\x41" + bytes(68 * 65),
        b"\x02" + bytes(68),
        b"\x01" + bytes(32) + bytes([9, 9, 9, 9]) + bytes(32),  # 36 txs > 32
    ],
)
def test_decode_refuses_what_the_contract_refuses(data: bytes) -> None:
    with pytest.raises(bb.BlobLayoutError):
        bb.decode_posting_data(data)


def test_element_span_and_straddling() -> None:
    # Payload byte 26 is the last of element 0 (5 header bytes + 26 = 31).
    assert bb.element_span(0, 26) == [(0, 0)]
    assert bb.element_span(0, 27) == [(0, 0), (0, 1)]
    last = encoding.USABLE_BYTES_PER_BLOB - 5 - 1  # last payload byte of blob 0
    assert bb.element_span(last, 2) == [(0, 4095), (1, 0)]


def test_blob_ref_is_abi_encoded() -> None:
    h = [b"\x01" + b"\x00" * 31]
    from eth_abi import encode

    assert bb.blob_ref(h, 7) == keccak(encode(["bytes32[]", "uint256"], [h, 7]))


def test_max_batch_payload_fits_one_blob() -> None:
    # 64 commitments of 32 transfers: 28 KB, so up to four such batches share one blob.
    full = commitment_length(0, 32, 0, 0) - 32
    assert 4 * 64 * full + 5 <= encoding.USABLE_BYTES_PER_BLOB
