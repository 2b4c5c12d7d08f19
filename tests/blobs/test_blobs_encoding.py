"""The blob encoding: spec vectors both ways, round trips, and strict, total decoding."""

import json
from hashlib import sha256
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from offchain.blobs import BlobDecodeError, BlobError, decode, encode, encoding
from offchain.blobs.encoding import (
    BYTES_PER_BLOB,
    MAX_PAYLOAD_BYTES,
    USABLE_BYTES_PER_BLOB,
    blobs_needed,
    element_position,
)

VECTORS = json.loads((Path(__file__).parent / "vectors.json").read_text())


def vector_payload(v: dict) -> bytes:
    if "payload_fill" in v:
        byte, count = v["payload_fill"]
        return bytes([byte]) * count
    return bytes.fromhex(v["payload"])


def vector_blobs(v: dict) -> list[bytes]:
    """The vector's blobs, rebuilt independently of the encoder where the vector spells them."""
    if "blob_prefixes" in v:
        return [bytes.fromhex(p).ljust(BYTES_PER_BLOB, b"\0") for p in v["blob_prefixes"]]
    # A long payload of one repeated byte: 31 payload bytes per element after the 5-byte header.
    byte, count = v["payload_fill"]
    stream = bytes([0]) + count.to_bytes(4, "big") + bytes([byte]) * count
    stream += bytes(-len(stream) % USABLE_BYTES_PER_BLOB)
    chunks = [stream[i : i + 31] for i in range(0, len(stream), 31)]
    flat = b"".join(b"\0" + c for c in chunks)
    return [flat[i : i + BYTES_PER_BLOB] for i in range(0, len(flat), BYTES_PER_BLOB)]


@pytest.mark.parametrize("v", VECTORS["encoding"], ids=lambda v: v["name"])
def test_encode_matches_vector(v):
    blobs = encode(vector_payload(v))
    assert blobs == vector_blobs(v)
    assert [sha256(b).hexdigest() for b in blobs] == v["blob_sha256"]


@pytest.mark.parametrize("v", VECTORS["encoding"], ids=lambda v: v["name"])
def test_decode_matches_vector(v):
    assert decode(vector_blobs(v)) == vector_payload(v)


def test_first_element_layout_byte_by_byte():
    blob = encode(bytes(range(1, 40)))[0]
    # element 0: 0x00 | version 0x00 | length 0x00000027 | payload bytes 1..26
    assert blob[:32] == bytes([0, 0, 0, 0, 0, 39]) + bytes(range(1, 27))
    # element 1: 0x00 | payload bytes 27..39 | zeros
    assert blob[32:64] == bytes([0]) + bytes(range(27, 40)) + bytes(18)
    assert blob[64:] == bytes(BYTES_PER_BLOB - 64)


@pytest.mark.parametrize(
    ("length", "blobs"),
    [
        (0, 1),
        (USABLE_BYTES_PER_BLOB - 5, 1),
        (USABLE_BYTES_PER_BLOB - 4, 2),
        (MAX_PAYLOAD_BYTES, 6),
    ],
)
def test_blob_count_is_the_fewest_that_hold_header_and_payload(length, blobs):
    assert blobs_needed(length) == blobs
    assert len(encode(bytes([7]) * length)) == blobs


def test_encode_refuses_payload_beyond_six_blobs():
    with pytest.raises(BlobError, match="split it"):
        encode(bytes(MAX_PAYLOAD_BYTES + 1))


@settings(max_examples=40, deadline=None)
@given(st.binary(max_size=2 * USABLE_BYTES_PER_BLOB + 100))
def test_round_trip_any_payload(payload):
    blobs = encode(payload)
    assert all(len(b) == BYTES_PER_BLOB and b[0::32] == bytes(4096) for b in blobs)
    assert decode(blobs) == payload


@settings(max_examples=200, deadline=None)
@given(
    st.binary(max_size=600),
    st.integers(min_value=0, max_value=BYTES_PER_BLOB - 1),
    st.integers(min_value=1, max_value=255),
)
def test_decode_accepts_exactly_the_image_of_encode(payload, offset, xor):
    """Any one-byte change either is refused or decodes to a payload that re-encodes to it."""
    mutated = bytearray(encode(payload)[0])
    mutated[offset] ^= xor
    try:
        decoded = decode([bytes(mutated)])
    except BlobDecodeError as exc:
        assert 0 <= exc.element < 4096 and exc.blob == 0
        return
    assert encode(decoded) == [bytes(mutated)]


@settings(max_examples=50, deadline=None)
@given(st.binary(max_size=300), st.integers(min_value=0, max_value=4095), st.integers(1, 255))
def test_nonzero_top_byte_is_refused_at_its_element(payload, index, top):
    blob = bytearray(encode(payload)[0])
    blob[32 * index] = top
    with pytest.raises(BlobDecodeError, match="top byte") as err:
        decode([bytes(blob)])
    assert err.value.element == index


def test_nonzero_padding_is_refused_at_its_element():
    blob = bytearray(encode(b"abc")[0])
    blob[32 * 100 + 7] = 1
    with pytest.raises(BlobDecodeError, match="padding") as err:
        decode([bytes(blob)])
    assert (err.value.blob, err.value.element) == (0, 100)


def test_padding_in_a_later_blob_is_named_there():
    blobs = encode(bytes([1]) * USABLE_BYTES_PER_BLOB)
    last = bytearray(blobs[1])
    last[32 * 4095 + 31] = 9
    with pytest.raises(BlobDecodeError, match="padding") as err:
        decode([blobs[0], bytes(last)])
    assert (err.value.blob, err.value.element) == (1, 4095)


def test_unknown_version_is_refused():
    blob = bytearray(encode(b"abc")[0])
    blob[1] = 1
    with pytest.raises(BlobDecodeError, match="version"):
        decode([bytes(blob)])


def test_length_beyond_the_blobs_is_refused():
    blob = bytearray(encode(b"")[0])
    blob[2:6] = (USABLE_BYTES_PER_BLOB - 4).to_bytes(4, "big")
    with pytest.raises(BlobDecodeError, match="does not fit"):
        decode([bytes(blob)])


def test_extra_blob_is_refused_even_if_zero():
    with pytest.raises(BlobDecodeError, match="takes 1 blob"):
        decode([*encode(b"abc"), bytes(BYTES_PER_BLOB)])


@pytest.mark.parametrize("blobs", [[], [bytes(BYTES_PER_BLOB)] * 7, [bytes(100)]])
def test_wrong_blob_count_or_size_is_refused(blobs):
    with pytest.raises(BlobDecodeError):
        decode(blobs)


@settings(max_examples=100, deadline=None)
@given(st.integers(min_value=0, max_value=MAX_PAYLOAD_BYTES - 1), st.binary(min_size=1, max_size=1))
def test_element_position_locates_payload_bytes(offset, byte):
    blob, element, at = element_position(offset)
    # Check against a payload just long enough to hold the byte, written where the encoder puts it.
    if offset > 3 * USABLE_BYTES_PER_BLOB:
        return  # keep examples fast; the formula is linear
    payload = bytes(offset) + byte
    blobs = encode(payload)
    assert blobs[blob][32 * element + at] == byte[0]
    assert encoding.element(blobs[blob], element)[at] == byte[0]
