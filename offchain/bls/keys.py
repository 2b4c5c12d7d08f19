"""BLS secret and public keys: random generation and derivation from an L1 wallet signature.

Derivation (as zkSync Lite did): the wallet signs a fixed EIP-712 message bound to the chain id
and the key registry's address, and the secret key is hash_to_field of that 65-byte signature
into the scalar field: OS2IP(expand_message_xmd(sig, KEYGEN_DST, 48)) mod r, the reduction done
by arkworks (48 bytes, so the bias is below 2**-128). The user keeps no new secret: signing the
same message again gives the same signature, hence the same key, because eth-account (like most
wallets) signs with RFC 6979 deterministic nonces. The signature is put in canonical form first
(low s, v in {27, 28}), so a wallet returning the high-s twin of the same signature still derives
the same key. A wallet that randomises its nonces gets a different key each time: the derived key
then does not match the one registered, which `derive_secret_key_from_account` callers detect by
comparing public keys (see docs/bls.md, "Key derivation").
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from typing import Any

import py_arkworks_bls12381 as ark
from pyblst import BlstP2Element

from .encoding import g2_from_compressed, g2_from_eip2537, g2_to_eip2537
from .errors import BLSError
from .hashing import expand_message_xmd

KEYGEN_DST = b"L2KIT-V2-BLS-KEYGEN_XMD:SHA-256_RO_"
SECP256K1_N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141
# r, the order of G1 and G2 (the scalar field); secret keys lie in [1, r).
CURVE_ORDER = 0x73EDA753299D7D483339D80809A1D80553BDA402FFFE5BFEFFFFFFFF00000001

DERIVATION_NAME = "l2kit BLS key"
DERIVATION_VERSION = "1"
DERIVATION_PURPOSE = (
    "Sign to derive your l2kit L2 signing key. Sign this only for the l2kit key registry: "
    "whoever holds this signature can spend your L2 funds."
)
DERIVATION_TYPES = {
    "EIP712Domain": [
        {"name": "name", "type": "string"},
        {"name": "version", "type": "string"},
        {"name": "chainId", "type": "uint256"},
        {"name": "verifyingContract", "type": "address"},
    ],
    "BLSKeyDerivation": [
        {"name": "purpose", "type": "string"},
        {"name": "keyIndex", "type": "uint32"},
    ],
}
_G2_GENERATOR = BlstP2Element.uncompress(ark.G2Point().to_compressed_bytes())


@dataclass(frozen=True)
class PublicKey:
    """A public key: a G2 point of the subgroup, never the identity."""

    point: BlstP2Element = field(compare=False, repr=False)
    compressed: bytes

    def __post_init__(self) -> None:
        if self.compressed[0] & 0x40:
            raise BLSError("public key is the identity point: such a key accepts any signature")

    @classmethod
    def from_point(cls, point: BlstP2Element) -> PublicKey:
        return cls(point, point.compress())

    @classmethod
    def from_compressed(cls, data: bytes) -> PublicKey:
        return cls.from_point(g2_from_compressed(data))

    @classmethod
    def from_eip2537(cls, data: bytes) -> PublicKey:
        return cls.from_point(g2_from_eip2537(data))

    def eip2537(self) -> bytes:
        """The 256-byte encoding the precompiles and BLSKeyRegistry take."""
        return g2_to_eip2537(self.point)


@dataclass(frozen=True)
class SecretKey:
    """A secret scalar in [1, r). Its repr never shows the value."""

    value: int = field(repr=False)

    def __post_init__(self) -> None:
        if not 0 < self.value < CURVE_ORDER:
            raise BLSError("secret key must be in [1, r)")

    def public_key(self) -> PublicKey:
        return PublicKey.from_point(_G2_GENERATOR.scalar_mul(self.value))


def _scalar_from_bytes(data: bytes) -> SecretKey:
    value = int.from_bytes(ark.Scalar.from_be_bytes_mod_order(data).to_be_bytes(), "big")
    if value == 0:  # probability 2**-255
        raise BLSError("the derived secret key is zero; derive with another key index")
    return SecretKey(value)


def generate_secret_key() -> SecretKey:
    """A fresh random key (64 bytes from the OS CSPRNG, reduced mod r)."""
    return _scalar_from_bytes(secrets.token_bytes(64))


def canonical_signature(signature: bytes) -> bytes:
    """An ECDSA signature r || s || v as 65 bytes with s <= n/2 and v in {27, 28}."""
    if len(signature) != 65:
        raise BLSError(f"wallet signature must be 65 bytes (r || s || v), got {len(signature)}")
    r = int.from_bytes(signature[:32], "big")
    s = int.from_bytes(signature[32:64], "big")
    v = signature[64]
    if v < 27:
        v += 27
    if v not in (27, 28) or not 0 < r < SECP256K1_N or not 0 < s < SECP256K1_N:
        raise BLSError("wallet signature is not a valid secp256k1 signature (r, s, v)")
    if s > SECP256K1_N // 2:
        s = SECP256K1_N - s
        v = 55 - v
    return r.to_bytes(32, "big") + s.to_bytes(32, "big") + bytes([v])


def derive_secret_key(wallet_signature: bytes) -> SecretKey:
    """The BLS secret key derived from the wallet's signature of `derivation_typed_data`."""
    uniform = expand_message_xmd(canonical_signature(wallet_signature), KEYGEN_DST, 48)
    return _scalar_from_bytes(uniform)


def derivation_typed_data(chain_id: int, registry: str, key_index: int = 0) -> dict[str, Any]:
    """The EIP-712 message the wallet signs to derive key number `key_index` (0 first; a rotation
    to a fresh derived key uses the next index)."""
    if not 0 <= key_index < 2**32:
        raise BLSError(f"key index {key_index} is not a uint32")
    return {
        "types": DERIVATION_TYPES,
        "primaryType": "BLSKeyDerivation",
        "domain": {
            "name": DERIVATION_NAME,
            "version": DERIVATION_VERSION,
            "chainId": chain_id,
            "verifyingContract": registry,
        },
        "message": {"purpose": DERIVATION_PURPOSE, "keyIndex": key_index},
    }


def derive_secret_key_from_account(
    account: Any, chain_id: int, registry: str, key_index: int = 0
) -> SecretKey:
    """Sign the derivation message with an eth-account LocalAccount and derive the key."""
    from eth_account.messages import encode_typed_data

    signable = encode_typed_data(full_message=derivation_typed_data(chain_id, registry, key_index))
    signed = account.sign_message(signable)
    return derive_secret_key(bytes(signed.signature))


__all__ = [
    "CURVE_ORDER",
    "PublicKey",
    "SecretKey",
    "canonical_signature",
    "derivation_typed_data",
    "derive_secret_key",
    "derive_secret_key_from_account",
    "generate_secret_key",
]
