"""Helpers of the BLS tests: vectors, struct conversion, raw eth_call with revert decoding."""

from __future__ import annotations

import json
from pathlib import Path

from eth_utils import keccak

from offchain import bls
from offchain.bls.encoding import from_words

VECTORS = json.loads((Path(__file__).resolve().parent / "vectors.json").read_text())
CHAIN_ID = 31337
# Blocks from registration to validity in the test registries.
ACTIVATION_DELAY = 3


def g1_struct(encoding: bytes) -> tuple[int, ...]:
    return bls.g1_words(encoding)


def g2_struct(encoding: bytes) -> tuple[int, ...]:
    return bls.g2_words(encoding)


def point_bytes(result) -> bytes:
    """The byte encoding of a BLS.G1Point / G2Point returned through Ape."""
    return from_words([int(w) for w in result])


def selector(signature: str) -> bytes:
    return keccak(text=signature)[:4]


def keys(n: int, seed: int = 1) -> list[bls.SecretKey]:
    return [bls.SecretKey(seed * 1_000_003 + i) for i in range(n)]


def _fp(v: int) -> bytes:
    return bytes(16) + v.to_bytes(48, "big")


def off_subgroup_g1() -> bytes:
    """A point on the G1 curve outside the r-order subgroup (map_to_curve without cofactor
    clearing, from the py_ecc reference)."""
    from py_ecc.bls.hash_to_curve import map_to_curve_G1
    from py_ecc.fields import optimized_bls12_381_FQ as FQ
    from py_ecc.optimized_bls12_381 import normalize

    x, y = normalize(map_to_curve_G1(FQ(7)))
    return _fp(x.n) + _fp(y.n)


def off_subgroup_g2() -> bytes:
    """A point on the G2 curve outside the r-order subgroup."""
    from py_ecc.bls.hash_to_curve import map_to_curve_G2
    from py_ecc.fields import optimized_bls12_381_FQ2 as FQ2
    from py_ecc.optimized_bls12_381 import normalize

    x, y = normalize(map_to_curve_G2(FQ2([7, 11])))
    return b"".join(_fp(int(c)) for c in (*x.coeffs, *y.coeffs))


FIELD_MODULUS = int(
    "1a0111ea397fe69a4b1ba7b6434bacd764774b84f38512bf6730d2a0f6b0f6241eabfffeb153ffffb9feffffffffaaab",
    16,
)


def malformed_g1(valid: bytes) -> dict[str, bytes]:
    """Ways a 128-byte G1 encoding can be wrong, derived from a valid one."""
    x = int.from_bytes(valid[16:64], "big")
    return {
        "off_curve": _fp(1) + _fp(1),
        "padding_not_zero": b"\x01" + valid[1:],
        "x_not_reduced": _fp(x + FIELD_MODULUS) + valid[64:],
        "off_subgroup": off_subgroup_g1(),
    }


def malformed_g2(valid: bytes) -> dict[str, bytes]:
    """Ways a 256-byte G2 encoding can be wrong, derived from a valid one."""
    x0 = int.from_bytes(valid[16:64], "big")
    return {
        "off_curve": _fp(1) * 4,
        "padding_not_zero": valid[:64] + b"\x01" + valid[65:],
        "x_not_reduced": _fp(x0 + FIELD_MODULUS) + valid[64:],
        "off_subgroup": off_subgroup_g2(),
    }
