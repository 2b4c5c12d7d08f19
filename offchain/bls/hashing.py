"""Hashing for l2kit BLS: RFC 9380 expand_message_xmd and hash_to_field, the signing tag, H(m).

hash_to_g1 is blst's `hash_to_group`, RFC 9380 suite BLS12381G1_XMD:SHA-256_SSWU_RO_.
expand_message_xmd (SHA-256, no field arithmetic) is here for key derivation, which reduces its
output into the scalar field with arkworks (keys.py), and for the test vectors of the Solidity
side's own expand_message_xmd.
"""

from __future__ import annotations

import hashlib

from pyblst import BlstP1Element

from .errors import BLSError

SIG_DST_PREFIX = b"L2KIT-V2-BLS_SIG_BLS12381G1_XMD:SHA-256_SSWU_RO_NUL_"
_B_IN_BYTES = 32
_S_IN_BYTES = 64


def _check_dst(dst: bytes) -> None:
    if not 1 <= len(dst) <= 255:
        raise BLSError(f"domain separation tag must be 1 to 255 bytes, got {len(dst)}")


def expand_message_xmd(message: bytes, dst: bytes, length: int) -> bytes:
    """RFC 9380 §5.3.1 expand_message_xmd with SHA-256."""
    _check_dst(dst)
    ell = -(-length // _B_IN_BYTES)
    if ell > 255 or length > 65535:
        raise BLSError(f"expand_message_xmd: length {length} too large")
    dst_prime = dst + bytes([len(dst)])
    msg_prime = bytes(_S_IN_BYTES) + message + length.to_bytes(2, "big") + b"\x00" + dst_prime
    b0 = hashlib.sha256(msg_prime).digest()
    b = [hashlib.sha256(b0 + b"\x01" + dst_prime).digest()]
    for i in range(2, ell + 1):
        mixed = bytes(x ^ y for x, y in zip(b0, b[-1], strict=True))
        b.append(hashlib.sha256(mixed + bytes([i]) + dst_prime).digest())
    return b"".join(b)[:length]


def signing_dst(chain_id: int, rollup: str) -> bytes:
    """The tag every l2kit BLS signature is made under: prefix || chain id (32 bytes) || rollup
    address (20 bytes), 103 bytes. A signature for another chain or rollup is for another tag."""
    if not 0 <= chain_id < 2**256:
        raise BLSError(f"chain id {chain_id} is not a uint256")
    addr = rollup[2:] if rollup.startswith(("0x", "0X")) else rollup
    try:
        raw = bytes.fromhex(addr)
    except ValueError as e:
        raise BLSError(f"rollup address {rollup!r} is not hex") from e
    if len(raw) != 20:
        raise BLSError(f"rollup address {rollup!r} is not 20 bytes")
    return SIG_DST_PREFIX + chain_id.to_bytes(32, "big") + raw


def hash_to_g1(message: bytes, dst: bytes) -> BlstP1Element:
    """H(m): RFC 9380 hash_to_curve, suite BLS12381G1_XMD:SHA-256_SSWU_RO_, tag `dst` (blst)."""
    _check_dst(dst)
    return BlstP1Element.hash_to_group(bytes(message), bytes(dst))
