"""Byte encodings of BLS12-381 points.

EIP-2537 (what the precompiles read): an Fp element is 64 bytes big-endian, the first 16 zero;
G1 = x || y (128 bytes); G2 = x.c0 || x.c1 || y.c0 || y.c1 (256 bytes) with Fp2 = c0 + c1*u;
the point at infinity is all zeros. arkworks' `to_xy_bytes_be` gives the same layout with 48-byte
elements, so encoding is padding each element. Decoding goes through arkworks' checked reader
(on the curve and in the r-order subgroup) and hands blst the compressed form, so every decoded
point is a subgroup point. The `*_words` helpers split an encoding into the 32-byte words of
the Solidity structs `BLS.G1Point` / `BLS.G2Point` (hi, lo per element).
"""

from __future__ import annotations

import py_arkworks_bls12381 as ark
from pyblst import BlstP1Element, BlstP2Element

from .errors import BLSError

FP_PAD = 16
FP_BYTES = 48
FP_EIP = FP_PAD + FP_BYTES
G1_EIP_BYTES = 2 * FP_EIP
G2_EIP_BYTES = 4 * FP_EIP
G1_COMPRESSED_BYTES = 48
G2_COMPRESSED_BYTES = 96


def _pad(raw: bytes) -> bytes:
    return b"".join(bytes(FP_PAD) + raw[i : i + FP_BYTES] for i in range(0, len(raw), FP_BYTES))


def _unpad(data: bytes, elements: int, what: str) -> bytes:
    if len(data) != elements * FP_EIP:
        raise BLSError(f"{what}: expected {elements * FP_EIP} bytes, got {len(data)}")
    out = bytearray()
    for i in range(elements):
        chunk = data[i * FP_EIP : (i + 1) * FP_EIP]
        if any(chunk[:FP_PAD]):
            raise BLSError(
                f"{what}: field element {i} has non-zero padding (its first 16 bytes must be 0)"
            )
        out += chunk[FP_PAD:]
    return bytes(out)


def g1_to_eip2537(point: BlstP1Element) -> bytes:
    """The 128-byte EIP-2537 encoding of a G1 point."""
    return _pad(ark.G1Point.from_compressed_bytes_unchecked(point.compress()).to_xy_bytes_be())


def g2_to_eip2537(point: BlstP2Element) -> bytes:
    """The 256-byte EIP-2537 encoding of a G2 point."""
    return _pad(ark.G2Point.from_compressed_bytes_unchecked(point.compress()).to_xy_bytes_be())


def g1_from_eip2537(data: bytes) -> BlstP1Element:
    """Decode a 128-byte EIP-2537 G1 point; BLSError unless canonical, on the curve, in G1."""
    raw = _unpad(data, 2, "G1 point")
    try:
        point = ark.G1Point.from_xy_bytes_be(raw)
    except Exception as e:
        raise BLSError(
            "G1 point: not a canonical point of the r-order subgroup (coordinate >= p, off the "
            f"curve, or outside the subgroup): {e}"
        ) from e
    return BlstP1Element.uncompress(point.to_compressed_bytes())


def g2_from_eip2537(data: bytes) -> BlstP2Element:
    """Decode a 256-byte EIP-2537 G2 point; BLSError unless canonical, on the curve, in G2."""
    raw = _unpad(data, 4, "G2 point")
    try:
        point = ark.G2Point.from_xy_bytes_be(raw)
    except Exception as e:
        raise BLSError(
            "G2 point: not a canonical point of the r-order subgroup (coordinate >= p, off the "
            f"curve, or outside the subgroup): {e}"
        ) from e
    return BlstP2Element.uncompress(point.to_compressed_bytes())


def g1_from_compressed(data: bytes) -> BlstP1Element:
    """Decode a 48-byte compressed (ZCash format) G1 point, subgroup-checked by blst."""
    if len(data) != G1_COMPRESSED_BYTES:
        raise BLSError(
            f"G1 point: expected {G1_COMPRESSED_BYTES} bytes compressed, got {len(data)}"
        )
    try:
        return BlstP1Element.uncompress(bytes(data))
    except Exception as e:
        raise BLSError(f"G1 point: not a compressed point of the subgroup: {e}") from e


def g2_from_compressed(data: bytes) -> BlstP2Element:
    """Decode a 96-byte compressed (ZCash format) G2 point, subgroup-checked by blst."""
    if len(data) != G2_COMPRESSED_BYTES:
        raise BLSError(
            f"G2 point: expected {G2_COMPRESSED_BYTES} bytes compressed, got {len(data)}"
        )
    try:
        return BlstP2Element.uncompress(bytes(data))
    except Exception as e:
        raise BLSError(f"G2 point: not a compressed point of the subgroup: {e}") from e


def _words(data: bytes) -> tuple[int, ...]:
    return tuple(int.from_bytes(data[i : i + 32], "big") for i in range(0, len(data), 32))


def g1_words(data: bytes) -> tuple[int, int, int, int]:
    """The four words (x.hi, x.lo, y.hi, y.lo) of `BLS.G1Point` for a 128-byte encoding."""
    if len(data) != G1_EIP_BYTES:
        raise BLSError(f"G1 point: expected {G1_EIP_BYTES} bytes, got {len(data)}")
    w = _words(data)
    return (w[0], w[1], w[2], w[3])


def g2_words(data: bytes) -> tuple[int, int, int, int, int, int, int, int]:
    """The eight words of `BLS.G2Point` for a 256-byte encoding."""
    if len(data) != G2_EIP_BYTES:
        raise BLSError(f"G2 point: expected {G2_EIP_BYTES} bytes, got {len(data)}")
    w = _words(data)
    return (w[0], w[1], w[2], w[3], w[4], w[5], w[6], w[7])


def from_words(words: tuple[int, ...] | list[int]) -> bytes:
    """Back from struct words to the byte encoding."""
    return b"".join(int(w).to_bytes(32, "big") for w in words)
