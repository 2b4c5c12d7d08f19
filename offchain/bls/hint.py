"""The square-root hint of the signature dispute (docs/bls.md §4.2).

The contract decompresses a commitment's 48-byte aggregate signature without computing a square
root (a 381-bit MODEXP exponent costs about 81,000 gas since Osaka, EIP-7883): the disputer passes
a hint that `G1Compressed.decompress` checks with two cheap MODEXPs. The hint is a function of the
48 bytes alone, mirrored here:

- x on the curve: the point's y, the square root of x³ + 4 with the flagged sign;
- x³ + 4 not a square: the smaller square root of -(x³ + 4) (p ≡ 3 mod 4, so -1 is not a square:
  a non-zero a is a non-square exactly when -a is a square), which proves the bytes are no point;
- zero otherwise (bad flags, the infinity flag, x ≥ p, and x³ + 4 = 0 where y = 0).

This is modular arithmetic on Python integers for the hint only (the contract checks it); no curve
arithmetic is done here.
"""

from __future__ import annotations

from .errors import BLSError

#: The BLS12-381 base field modulus.
P = int(
    "1a0111ea397fe69a4b1ba7b6434bacd764774b84f38512bf6730d2a0f6b0f6241eabfffeb153ffffb9feffffffffaaab",
    16,
)
_SQRT_EXP = (P + 1) // 4  # p ≡ 3 (mod 4)
_X_MASK = (1 << 381) - 1


def _largest(y: int) -> bool:
    """The ZCash sign bit: y > p - y."""
    return y > (P - y) % P


def decompression_hint(compressed: bytes) -> int:
    """The hint for `compressed` (any 48 bytes), as an integer below p."""
    if len(compressed) != 48:
        raise BLSError(f"a compressed G1 point is 48 bytes, got {len(compressed)}")
    flags = compressed[0] >> 5
    x = int.from_bytes(compressed, "big") & _X_MASK
    if flags & 4 == 0 or flags & 2 or x >= P:
        return 0
    a = (pow(x, 3, P) + 4) % P
    y = pow(a, _SQRT_EXP, P)
    if y * y % P == a:
        if a == 0:
            return 0
        return y if _largest(y) == bool(flags & 1) else P - y
    w = pow(-a % P, _SQRT_EXP, P)
    if w * w % P != -a % P:  # cannot happen: one of a, -a is a square
        raise BLSError("neither x³ + 4 nor its negation is a square mod p")
    return P - w if _largest(w) else w


def hint_words(compressed: bytes) -> tuple[int, int]:
    """The hint as the contract's (hi, lo) words (`SignatureProof.signatureHint`)."""
    h = decompression_hint(compressed)
    return h >> 256, h & ((1 << 256) - 1)
