"""Batched verification of many (public key, message, signature) triples.

Checking the plain sum of the signatures against the product of pairings would let two bad
signatures hide behind each other (sig1 + d and sig2 - d sum to a valid aggregate). Each triple
therefore gets a fresh secret random coefficient c_i of COEFF_BITS bits, and the check is

    e(sum c_i * sig_i, g2) == prod over distinct keys pk of e(sum_{i: pk_i = pk} c_i * H(m_i), pk)

which a set containing any invalid signature passes with probability at most 2**-COEFF_BITS
(all points are subgroup points, so no small-order component can cancel: signatures and keys
are decoded with subgroup checks). Grouping by key costs one Miller loop per distinct key, not
per triple. When the batch fails, `find_invalid` names every bad triple by bisection (fresh
coefficients for each half), one by one below BISECT_MIN.

The coefficient multiplications use blst's point addition: sum c_i * sig_i is a bucket
(Pippenger) multi-scalar multiplication, about 12 additions per signature for a thousand of them,
and the c_i * H(m_i) of one key are summed by one double-and-add over all of them (about 63
doublings per key plus 32 additions per message; a lone message costs about 96 additions, still
faster than blst's full-width `scalar_mul` for a scalar this short), by buckets from 32 on.
The coefficients are secret and drawn per call, so their timing leaks nothing an attacker could
use before submitting.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import py_arkworks_bls12381 as ark
import pyblst
from pyblst import BlstFP12Element, BlstP1Element

from .hashing import hash_to_g1
from .keys import PublicKey
from .signatures import Signature

COEFF_BITS = 64
BISECT_MIN = 4
#: From this many keys with a single message each, their coefficients are applied in Fp12
#: (bucket multi-exponentiation of the Miller loops, about 17 Fp12 products per key at 256 keys)
#: instead of in G1 (about 96 point additions per message).
GT_MSM_MIN = 64
_G2_GENERATOR = pyblst.BlstP2Element.uncompress(ark.G2Point().to_compressed_bytes())

Coefficients = Callable[[int], list[int]]


@dataclass(frozen=True)
class BatchItem:
    """One signed message to check."""

    public_key: PublicKey
    message: bytes
    signature: Signature


def random_coefficients(n: int) -> list[int]:
    """n secret non-zero coefficients of COEFF_BITS bits (top bit set, so all have full length)."""
    top = 1 << (COEFF_BITS - 1)
    return [top | secrets.randbits(COEFF_BITS - 1) for _ in range(n)]


def _times(point: BlstP1Element, k: int) -> BlstP1Element:
    """k * point for a k >= 0 (double-and-add on blst additions)."""
    if k == 0:
        return BlstP1Element()
    acc = point
    for bit in bin(k)[3:]:
        acc = acc + acc
        if bit == "1":
            acc = acc + point
    return acc


def _interleaved(points: Sequence[BlstP1Element], scalars: Sequence[int]) -> BlstP1Element:
    """sum scalars[i] * points[i] for a handful of points and non-negative scalars: one
    double-and-add over all of them at once (Straus), so the doublings (one per bit of the
    longest scalar) are shared instead of repeated per point."""
    acc = BlstP1Element()
    for shift in range(max(k.bit_length() for k in scalars) - 1, -1, -1):
        acc = acc + acc
        for p, k in zip(points, scalars, strict=True):
            if (k >> shift) & 1:
                acc = acc + p
    return acc


def _msm(points: Sequence[BlstP1Element], scalars: Sequence[int]) -> BlstP1Element:
    """sum scalars[i] * points[i] for scalars in [0, 2**COEFF_BITS): bucket method with
    w-bit windows (w grows with the count), shared double-and-add for a handful of points."""
    if not points:
        return BlstP1Element()
    if len(points) == 1:
        return _times(points[0], scalars[0])
    if len(points) < 32:  # buckets cost about as much at 32 points, less above
        return _interleaved(points, scalars)
    w = max(4, min(10, len(points).bit_length() - 3))
    mask = (1 << w) - 1
    acc: BlstP1Element | None = None
    for shift in range(((COEFF_BITS + w - 1) // w - 1) * w, -1, -w):
        if acc is not None:
            for _ in range(w):
                acc = acc + acc
        buckets: list[BlstP1Element | None] = [None] * (mask + 1)
        for p, k in zip(points, scalars, strict=True):
            d = (k >> shift) & mask
            if d:
                b = buckets[d]
                buckets[d] = p if b is None else b + p
        running: BlstP1Element | None = None
        window: BlstP1Element | None = None
        for b in reversed(buckets[1:]):
            if b is not None:
                running = b if running is None else running + b
            if running is not None:
                window = running if window is None else window + running
        if window is not None:
            acc = window if acc is None else acc + window
    return acc if acc is not None else BlstP1Element()


def _gt_msm(values: Sequence[BlstFP12Element], scalars: Sequence[int]) -> BlstFP12Element:
    """prod values[i] ** scalars[i] in Fp12 for scalars in [1, 2**COEFF_BITS) (bucket method, w-bit
    windows): how the coefficients of keys with a single message are applied, to their Miller
    loops instead of their hashes. Exact after the final exponentiation, a homomorphism:
    FE(f ** c) = FE(f) ** c = e(H(m), pk) ** c = e(c * H(m), pk)."""
    w = max(3, min(8, len(values).bit_length() - 3))
    mask = (1 << w) - 1
    acc: BlstFP12Element | None = None
    for shift in range(((COEFF_BITS + w - 1) // w - 1) * w, -1, -w):
        if acc is not None:
            for _ in range(w):
                acc = acc * acc
        buckets: list[BlstFP12Element | None] = [None] * (mask + 1)
        for v, k in zip(values, scalars, strict=True):
            d = (k >> shift) & mask
            if d:
                b = buckets[d]
                buckets[d] = v if b is None else b * v
        running: BlstFP12Element | None = None
        window: BlstFP12Element | None = None
        for b in reversed(buckets[1:]):
            if b is not None:
                running = b if running is None else running * b
            if running is not None:
                window = running if window is None else window * running
        if window is not None:
            acc = window if acc is None else acc * window
    if acc is None:
        raise ValueError("_gt_msm needs at least one non-zero scalar")
    return acc


def verify_batch(
    items: Sequence[BatchItem],
    dst: bytes,
    coefficients: Coefficients = random_coefficients,
) -> bool:
    """True iff (with probability 1 - 2**-64 per call) every item's signature is valid.

    `coefficients` is for tests only (a fixed list shows why they must be random).
    """
    return _check(items, [hash_to_g1(item.message, dst) for item in items], coefficients)


def _check(
    items: Sequence[BatchItem], hashes: Sequence[BlstP1Element], coefficients: Coefficients
) -> bool:
    """verify_batch over the items' message hashes H(m_i), computed once by the caller (bisection
    checks each item in up to log2(n) halves: it hashes each message once, not once a half)."""
    if not items:
        return True
    cs = coefficients(len(items))
    sig_sum = _msm([item.signature.point for item in items], cs)
    # sum of c_i * H(m_i) per distinct key: one Miller loop per key, the key's doublings shared
    by_key: dict[bytes, tuple[PublicKey, list[BlstP1Element], list[int]]] = {}
    for item, h_m, c in zip(items, hashes, cs, strict=True):
        entry = by_key.get(item.public_key.compressed)
        if entry is None:
            by_key[item.public_key.compressed] = (item.public_key, [h_m], [c])
        else:
            entry[1].append(h_m)
            entry[2].append(c)
    rhs: BlstFP12Element | None = None
    lone = [e for e in by_key.values() if len(e[1]) == 1]
    if len(lone) >= GT_MSM_MIN:  # one message per key: coefficients on the Miller loops
        loops = [pyblst.miller_loop(points[0], pk.point) for pk, points, _ in lone]
        rhs = _gt_msm(loops, [scalars[0] for _, _, scalars in lone])
        groups = [e for e in by_key.values() if len(e[1]) > 1]
    else:
        groups = list(by_key.values())
    for pk, points, scalars in groups:
        loop = pyblst.miller_loop(_msm(points, scalars), pk.point)
        rhs = loop if rhs is None else rhs * loop
    return pyblst.final_verify(pyblst.miller_loop(sig_sum, _G2_GENERATOR), rhs)


def _verify_one(item: BatchItem, h_m: BlstP1Element) -> bool:
    """e(sig, g2) == e(H(m), pk) for one item whose H(m) is known (signatures.verify)."""
    return pyblst.final_verify(
        pyblst.miller_loop(item.signature.point, _G2_GENERATOR),
        pyblst.miller_loop(h_m, item.public_key.point),
    )


def find_invalid(
    items: Sequence[BatchItem],
    dst: bytes,
    coefficients: Coefficients = random_coefficients,
) -> list[int]:
    """The indexes of every item whose signature is invalid (empty when all are valid).

    One batch check when all are valid; otherwise bisection, each half batch-checked with fresh
    coefficients, so k culprits among n cost about 2k log2(n / BISECT_MIN) batch checks. Each
    message is hashed to G1 once for the whole search.
    """
    hashes = [hash_to_g1(item.message, dst) for item in items]
    bad: list[int] = []
    stack: list[tuple[int, int, bool]] = [(0, len(items), False)]
    while stack:
        lo, hi, known_bad = stack.pop()
        if hi - lo <= BISECT_MIN:
            bad.extend(i for i in range(lo, hi) if not _verify_one(items[i], hashes[i]))
            continue
        if not known_bad and _check(items[lo:hi], hashes[lo:hi], coefficients):
            continue
        mid = (lo + hi) // 2
        stack.append((mid, hi, False))
        stack.append((lo, mid, False))
    return sorted(bad)


__all__ = ["COEFF_BITS", "BatchItem", "find_invalid", "random_coefficients", "verify_batch"]
