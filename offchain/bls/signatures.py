"""Messages, signing, aggregation and verification (signatures in G1, keys in G2).

A signed message is sender index (uint32 BE) || nonce (uint32 BE) || body, so no two senders
ever sign the same bytes (the reason the registry needs no proof of possession, docs/bls.md),
and the tag binds chain id and rollup address (hashing.signing_dst): a signature made for another
chain, rollup, nonce or sender verifies nowhere else.

verify_aggregate mirrors BLS.verifyAggregate on chain: e(sig, -g2) * prod e(H(m_i), pk_i) == 1,
here as one product of Miller loops and one final exponentiation (blst).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import py_arkworks_bls12381 as ark
import pyblst
from pyblst import BlstP1Element

from .encoding import g1_from_compressed, g1_from_eip2537, g1_to_eip2537
from .errors import BLSError
from .hashing import hash_to_g1
from .keys import PublicKey, SecretKey

_G2_GENERATOR = pyblst.BlstP2Element.uncompress(ark.G2Point().to_compressed_bytes())
_IDENTITY_G1 = BlstP1Element()


@dataclass(frozen=True)
class Signature:
    """A signature or an aggregate: a G1 point of the subgroup (the identity allowed)."""

    point: BlstP1Element = field(compare=False, repr=False)
    compressed: bytes

    @classmethod
    def from_point(cls, point: BlstP1Element) -> Signature:
        return cls(point, point.compress())

    @classmethod
    def from_compressed(cls, data: bytes) -> Signature:
        return cls.from_point(g1_from_compressed(data))

    @classmethod
    def from_eip2537(cls, data: bytes) -> Signature:
        return cls.from_point(g1_from_eip2537(data))

    def eip2537(self) -> bytes:
        """The 128-byte encoding BLS.verifyAggregate takes."""
        return g1_to_eip2537(self.point)


def signing_message(sender_index: int, nonce: int, body: bytes) -> bytes:
    """The bytes a sender signs: sender index (4) || nonce (4) || body."""
    if not 0 <= sender_index < 2**32:
        raise BLSError(f"sender index {sender_index} is not a uint32")
    if not 0 <= nonce < 2**32:
        raise BLSError(f"nonce {nonce} is not a uint32")
    return sender_index.to_bytes(4, "big") + nonce.to_bytes(4, "big") + bytes(body)


def sign(secret: SecretKey, message: bytes, dst: bytes) -> Signature:
    """sk * H(m)."""
    return Signature.from_point(hash_to_g1(message, dst).scalar_mul(secret.value))


def aggregate(signatures: Sequence[Signature]) -> Signature:
    """The sum of the signatures (the identity for none)."""
    total = _IDENTITY_G1
    for s in signatures:
        total = total + s.point
    return Signature.from_point(total)


def verify(public_key: PublicKey, message: bytes, signature: Signature, dst: bytes) -> bool:
    """e(sig, g2) == e(H(m), pk)."""
    return pyblst.final_verify(
        pyblst.miller_loop(signature.point, _G2_GENERATOR),
        pyblst.miller_loop(hash_to_g1(message, dst), public_key.point),
    )


def verify_aggregate(
    public_keys: Sequence[PublicKey],
    messages: Sequence[bytes],
    signature: Signature,
    dst: bytes,
) -> bool:
    """e(sig, g2) == prod e(H(m_i), pk_i): the check BLS.verifyAggregate makes on chain.

    Like the contract it does not demand distinct messages: l2kit messages are distinct by
    construction (sender index and nonce in each). Callers aggregating other messages must.
    """
    if len(public_keys) != len(messages):
        raise BLSError(f"{len(messages)} messages but {len(public_keys)} public keys")
    if not messages:
        raise BLSError("an aggregate must cover at least one message")
    rhs = None
    for pk, m in zip(public_keys, messages, strict=True):
        loop = pyblst.miller_loop(hash_to_g1(m, dst), pk.point)
        rhs = loop if rhs is None else rhs * loop
    return pyblst.final_verify(pyblst.miller_loop(signature.point, _G2_GENERATOR), rhs)


def verify_aggregate_encoded(
    public_keys: Sequence[PublicKey],
    messages: Sequence[bytes],
    signature: bytes,
    dst: bytes,
) -> bool:
    """verify_aggregate on the 128-byte EIP-2537 signature as posted on L1, exactly as
    BLS.verifyAggregate treats it: an encoding that is not a canonical subgroup point
    (padding, coordinate >= p, off the curve, outside the subgroup) is an invalid aggregate
    (False), not an error, so a validator proves fraud for it like for a wrong signature."""
    try:
        sig = Signature.from_eip2537(signature)
    except BLSError:
        return False
    return verify_aggregate(public_keys, messages, sig, dst)


__all__ = [
    "Signature",
    "aggregate",
    "sign",
    "signing_message",
    "verify",
    "verify_aggregate",
    "verify_aggregate_encoded",
]
