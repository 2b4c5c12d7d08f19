"""Bytes to EIP-4844 blobs and back (docs/blobs.md, "Encoding", is the normative spec).

A payload is written as one stream

    stream = VERSION (1 byte, 0x00) || len(payload) (4 bytes, big-endian) || payload || zeros

cut into 31-byte chunks; chunk ``k`` is field element ``k % 4096`` of blob ``k // 4096``, stored
as the 32-byte big-endian word ``0x00 || chunk``. The top byte of every element is zero, so every
element is below the BLS12-381 scalar modulus whatever the payload. The payload uses the fewest
blobs that hold ``5 + len(payload)`` bytes, and at least one.

Decoding is total and strict: any list of blobs either decodes to exactly one payload, or is
refused with a :class:`BlobDecodeError` that names the first offending element. It accepts
exactly what :func:`encode` produces (``encode(decode(blobs)) == blobs`` whenever decode returns),
so a poster cannot shape a blob the validator reads differently from the contract's view of it.
"""

from __future__ import annotations

from collections.abc import Sequence

from .errors import BlobDecodeError, BlobError

FIELD_ELEMENTS_PER_BLOB = 4096
BYTES_PER_FIELD_ELEMENT = 32
BYTES_PER_BLOB = FIELD_ELEMENTS_PER_BLOB * BYTES_PER_FIELD_ELEMENT  # 131,072
# Usable bytes per element: the top byte stays zero so the element is < BLS_MODULUS.
USABLE_BYTES_PER_ELEMENT = 31
USABLE_BYTES_PER_BLOB = FIELD_ELEMENTS_PER_BLOB * USABLE_BYTES_PER_ELEMENT  # 126,976
ENCODING_VERSION = 0
HEADER_BYTES = 5  # version (1) + payload length (4)
# EIP-7594 (Osaka) caps a transaction at 6 blobs; a payload never spans transactions.
MAX_BLOBS_PER_PAYLOAD = 6
MAX_PAYLOAD_BYTES = MAX_BLOBS_PER_PAYLOAD * USABLE_BYTES_PER_BLOB - HEADER_BYTES  # 761,851
# BLS12-381 scalar field order r.
BLS_MODULUS = 0x73EDA753299D7D483339D80809A1D80553BDA402FFFE5BFEFFFFFFFF00000001


def blobs_needed(payload_len: int) -> int:
    """How many blobs :func:`encode` uses for a payload of ``payload_len`` bytes (at least 1)."""
    if payload_len < 0:
        raise BlobError(f"payload length {payload_len} is negative")
    return max(1, -(-(HEADER_BYTES + payload_len) // USABLE_BYTES_PER_BLOB))


def encode(payload: bytes) -> list[bytes]:
    """Encode ``payload`` into the fewest blobs (each exactly 131,072 bytes)."""
    if len(payload) > MAX_PAYLOAD_BYTES:
        raise BlobError(
            f"payload of {len(payload):,} bytes exceeds {MAX_PAYLOAD_BYTES:,} bytes "
            f"({MAX_BLOBS_PER_PAYLOAD} blobs): split it into smaller batches"
        )
    count = blobs_needed(len(payload))
    stream = bytes([ENCODING_VERSION]) + len(payload).to_bytes(4, "big") + payload
    stream += bytes(count * USABLE_BYTES_PER_BLOB - len(stream))
    blobs = []
    for b in range(count):
        chunk = stream[b * USABLE_BYTES_PER_BLOB : (b + 1) * USABLE_BYTES_PER_BLOB]
        out = bytearray(BYTES_PER_BLOB)
        for e in range(FIELD_ELEMENTS_PER_BLOB):
            start = e * BYTES_PER_FIELD_ELEMENT + 1
            out[start : start + USABLE_BYTES_PER_ELEMENT] = chunk[e * 31 : e * 31 + 31]
        blobs.append(bytes(out))
    return blobs


def decode(blobs: Sequence[bytes]) -> bytes:
    """Decode blobs written by :func:`encode`; refuse anything :func:`encode` cannot produce.

    The checks, in order (each names the first element that breaks it, docs/blobs.md):
    D1 1 to 6 blobs of exactly 131,072 bytes each; D2 every element's top byte is zero;
    D3 the version byte is 0; D4 the length fits the blobs given; D5 the blob count is the
    fewest that hold the payload; D6 every byte after the payload is zero.
    """
    if not 1 <= len(blobs) <= MAX_BLOBS_PER_PAYLOAD:
        raise BlobDecodeError(
            f"{len(blobs)} blobs given: a payload is 1 to {MAX_BLOBS_PER_PAYLOAD} blobs", 0, 0
        )
    for b, blob in enumerate(blobs):
        if len(blob) != BYTES_PER_BLOB:
            raise BlobDecodeError(f"blob {b} is {len(blob):,} bytes, not {BYTES_PER_BLOB:,}", b, 0)
    stream = bytearray()
    for b, blob in enumerate(blobs):
        for e in range(FIELD_ELEMENTS_PER_BLOB):
            at = e * BYTES_PER_FIELD_ELEMENT
            if blob[at] != 0:
                raise BlobDecodeError(
                    f"blob {b} element {e} has top byte {blob[at]:#04x}, not 0x00", b, e
                )
            stream += blob[at + 1 : at + BYTES_PER_FIELD_ELEMENT]
    if stream[0] != ENCODING_VERSION:
        raise BlobDecodeError(f"encoding version {stream[0]} is not {ENCODING_VERSION}", 0, 0)
    length = int.from_bytes(stream[1:HEADER_BYTES], "big")
    if HEADER_BYTES + length > len(stream):
        raise BlobDecodeError(
            f"payload length {length:,} does not fit in {len(blobs)} blob(s)", 0, 0
        )
    if blobs_needed(length) != len(blobs):
        last = blobs_needed(length)
        raise BlobDecodeError(
            f"payload of {length:,} bytes takes {last} blob(s), {len(blobs)} given", 0, 0
        )
    end = HEADER_BYTES + length
    tail = stream[end:]
    if any(tail):
        k = end + next(i for i, x in enumerate(tail) if x)
        chunk = k // USABLE_BYTES_PER_ELEMENT
        raise BlobDecodeError(
            f"non-zero padding byte at stream offset {k:,} (after the payload)",
            chunk // FIELD_ELEMENTS_PER_BLOB,
            chunk % FIELD_ELEMENTS_PER_BLOB,
        )
    return bytes(stream[HEADER_BYTES:end])


def element_position(offset: int) -> tuple[int, int, int]:
    """Where payload byte ``offset`` lives: (blob, element, byte index in the 32-byte element).

    A dispute about payload bytes [a, b) opens the elements covering those positions.
    """
    if offset < 0 or offset > MAX_PAYLOAD_BYTES:
        raise BlobError(f"payload offset {offset} is outside 0..{MAX_PAYLOAD_BYTES}")
    k = HEADER_BYTES + offset
    chunk, within = divmod(k, USABLE_BYTES_PER_ELEMENT)
    blob, element = divmod(chunk, FIELD_ELEMENTS_PER_BLOB)
    return blob, element, 1 + within


def element(blob: bytes, index: int) -> bytes:
    """Field element ``index`` (0..4095) of ``blob`` as its 32-byte big-endian word."""
    if not 0 <= index < FIELD_ELEMENTS_PER_BLOB:
        raise BlobError(f"element index {index} is outside 0..{FIELD_ELEMENTS_PER_BLOB - 1}")
    return blob[index * BYTES_PER_FIELD_ELEMENT : (index + 1) * BYTES_PER_FIELD_ELEMENT]
