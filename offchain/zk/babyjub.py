# SPDX-License-Identifier: GPL-3.0-or-later
"""BabyJubJub (circomlib parameters) and EdDSA-Poseidon signatures that circomlib's
`EdDSAPoseidonVerifier` accepts: S*B8 == R8 + 8*H(R8, A, M)*A with H = Poseidon(5)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from offchain.zk.field import SNARK_FIELD
from offchain.zk.poseidon import poseidon

P = SNARK_FIELD
A_COEFF = 168700
D_COEFF = 168696
SUBORDER = 2736030358979909402780800718157159386076813972158567259200215660948447373041
BASE8 = (
    5299619240641551281634865583518297030282874472190772894086521144482721001553,
    16950150798460657717958625567821834550301663161624707787222815936182638968203,
)
IDENTITY = (0, 1)

Point = tuple[int, int]


def on_curve(pt: Point) -> bool:
    """Whether `pt` satisfies a*x^2 + y^2 = 1 + d*x^2*y^2 with coordinates in the field."""
    x, y = pt
    if not (0 <= x < P and 0 <= y < P):
        return False
    x2, y2 = x * x % P, y * y % P
    return (A_COEFF * x2 + y2 - 1 - D_COEFF * x2 * y2) % P == 0


def has_small_order(pt: Point) -> bool:
    """Whether 8*pt is the identity (the 8 points of the torsion subgroup): the circuit's EdDSA
    verifier refuses such keys, and the bridge refuses them as deposit recipients."""
    return mul(pt, 8) == IDENTITY


def add(p1: Point, p2: Point) -> Point:
    """Twisted Edwards addition (complete on BabyJubJub)."""
    x1, y1 = p1
    x2, y2 = p2
    t = D_COEFF * x1 * x2 * y1 * y2 % P
    x3 = (x1 * y2 + y1 * x2) * pow(1 + t, -1, P) % P
    y3 = (y1 * y2 - A_COEFF * x1 * x2) * pow(1 - t, -1, P) % P
    return (x3, y3)


def mul(pt: Point, k: int) -> Point:
    """k * pt by double-and-add."""
    acc = IDENTITY
    base = pt
    while k > 0:
        if k & 1:
            acc = add(acc, base)
        base = add(base, base)
        k >>= 1
    return acc


def compress(pt: Point) -> int:
    """The 256-bit compressed key of the public data: parity of x in bit 255, y below."""
    x, y = pt
    return ((x & 1) << 255) | y


def decompress(packed: int) -> Point:
    """Inverse of `compress`; raises ValueError when no curve point has that encoding."""
    sign = packed >> 255
    y = packed & ((1 << 254) - 1)
    if (packed >> 254) & 1 or y >= P:
        raise ValueError(f"not a compressed BabyJubJub key: {packed:#x}")
    y2 = y * y % P
    x2 = (1 - y2) * pow(A_COEFF - D_COEFF * y2, -1, P) % P
    x = _sqrt(x2)
    if x is None:
        raise ValueError(f"no curve point has y = {y:#x}")
    if x & 1 != sign:
        x = P - x
    pt = (x % P, y)
    if not on_curve(pt):
        raise ValueError(f"no curve point has y = {y:#x}")
    return pt


def _sqrt(a: int) -> int | None:
    """Tonelli-Shanks square root mod P, None for a non-residue."""
    if a == 0:
        return 0
    if pow(a, (P - 1) // 2, P) != 1:
        return None
    q, s = P - 1, 0
    while q % 2 == 0:
        q //= 2
        s += 1
    z = 5
    while pow(z, (P - 1) // 2, P) != P - 1:
        z += 1
    m, c, t, r = s, pow(z, q, P), pow(a, q, P), pow(a, (q + 1) // 2, P)
    while t != 1:
        i, t2 = 0, t
        while t2 != 1:
            t2 = t2 * t2 % P
            i += 1
        b = pow(c, 1 << (m - i - 1), P)
        m, c, t, r = i, b * b % P, t * b * b % P, r * b % P
    return r


@dataclass(frozen=True)
class Signature:
    """An EdDSA-Poseidon signature: the point R8 and the scalar S < SUBORDER."""

    r8: Point
    s: int


@dataclass(frozen=True)
class PrivateKey:
    """A BabyJubJub signing key derived from 32 secret bytes."""

    seed: bytes

    def __post_init__(self) -> None:
        if len(self.seed) != 32:
            raise ValueError(f"a private key seed is 32 bytes, got {len(self.seed)}")

    @property
    def scalar(self) -> int:
        """The secret scalar a (1 <= a < SUBORDER), public key A = a*B8."""
        digest = hashlib.blake2b(b"l2kit-zk-key" + self.seed, digest_size=64).digest()
        return int.from_bytes(digest, "little") % (SUBORDER - 1) + 1

    @property
    def public_key(self) -> Point:
        return mul(BASE8, self.scalar)

    def sign(self, message: int) -> Signature:
        """Sign a field element. The nonce is derived from the key and the message, so signing
        the same message twice gives the same signature."""
        if not 0 <= message < P:
            raise ValueError("the message must be a field element")
        a = self.scalar
        pub = mul(BASE8, a)
        nonce_src = hashlib.blake2b(
            b"l2kit-zk-nonce" + self.seed + message.to_bytes(32, "little"), digest_size=64
        ).digest()
        r = int.from_bytes(nonce_src, "little") % SUBORDER
        r8 = mul(BASE8, r)
        h = poseidon([r8[0], r8[1], pub[0], pub[1], message])
        s = (r + 8 * h * a) % SUBORDER
        return Signature(r8=r8, s=s)


def verify(pub: Point, message: int, sig: Signature) -> bool:
    """The check circomlib's EdDSAPoseidonVerifier makes."""
    if not (on_curve(pub) and on_curve(sig.r8)) or not 0 <= sig.s < SUBORDER:
        return False
    if has_small_order(pub):
        return False
    h = poseidon([sig.r8[0], sig.r8[1], pub[0], pub[1], message])
    return mul(BASE8, sig.s) == add(sig.r8, mul(mul(pub, 8), h))
