"""EIP-712 typed data of L2 transactions, bound to chain id and the rollup contract.

Types (see docs/rollup-spec.md):
  Transfer(uint32 from,uint32 to,uint128 amount,uint128 fee,uint32 nonce)
  Withdraw(uint32 from,uint128 amount,uint128 fee,uint32 nonce)
Signatures travel in EIP-2098 compact form (64 bytes); only low-s signatures are valid.
"""

from __future__ import annotations

from dataclasses import dataclass

from coincurve import PrivateKey, PublicKey
from eth_account import Account as EthAccount

from .hashing import keccak
from .params import EIP712_NAME, EIP712_VERSION
from .types import norm_address

SECP256K1_N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141
HALF_N = SECP256K1_N // 2

DOMAIN_TYPEHASH = keccak(
    b"EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)"
)
TRANSFER_TYPE = "Transfer(uint32 from,uint32 to,uint128 amount,uint128 fee,uint32 nonce)"
WITHDRAW_TYPE = "Withdraw(uint32 from,uint128 amount,uint128 fee,uint32 nonce)"
TRANSFER_TYPEHASH = keccak(TRANSFER_TYPE.encode())
WITHDRAW_TYPEHASH = keccak(WITHDRAW_TYPE.encode())


def _u(v: int) -> bytes:
    return v.to_bytes(32, "big")


@dataclass(frozen=True)
class Domain:
    """The signing domain: chain id and rollup address."""

    chain_id: int
    rollup: str

    def separator(self) -> bytes:
        return keccak(
            DOMAIN_TYPEHASH
            + keccak(EIP712_NAME.encode())
            + keccak(EIP712_VERSION.encode())
            + _u(self.chain_id)
            + bytes(12)
            + bytes.fromhex(norm_address(self.rollup)[2:])
        )

    def typed_data(self) -> dict:
        return {
            "name": EIP712_NAME,
            "version": EIP712_VERSION,
            "chainId": self.chain_id,
            "verifyingContract": norm_address(self.rollup),
        }


def transfer_digest(
    separator: bytes, sender: int, recipient: int, amount: int, fee: int, nonce: int
) -> bytes:
    struct = keccak(
        TRANSFER_TYPEHASH + _u(sender) + _u(recipient) + _u(amount) + _u(fee) + _u(nonce)
    )
    return keccak(b"\x19\x01" + separator + struct)


def withdraw_digest(separator: bytes, sender: int, amount: int, fee: int, nonce: int) -> bytes:
    struct = keccak(WITHDRAW_TYPEHASH + _u(sender) + _u(amount) + _u(fee) + _u(nonce))
    return keccak(b"\x19\x01" + separator + struct)


def sign_digest(private_key: bytes, digest: bytes) -> bytes:
    """Sign an EIP-712 digest with eth-account; return the 64-byte EIP-2098 compact signature.

    eth-account (eth-keys) produces canonical low-s signatures; the check below keeps the rule
    explicit, since the contract refuses high-s."""
    signed = EthAccount.unsafe_sign_hash(digest, private_key)
    r, s, v = signed.r, signed.s, signed.v - 27
    if s > HALF_N:
        s, v = SECP256K1_N - s, v ^ 1
    return to_compact(r, s, v)


def to_compact(r: int, s: int, y_parity: int) -> bytes:
    return r.to_bytes(32, "big") + ((y_parity << 255) | s).to_bytes(32, "big")


def from_compact(sig: bytes) -> tuple[int, int, int]:
    """(r, s, yParity) of a compact signature."""
    r = int.from_bytes(sig[0:32], "big")
    vs = int.from_bytes(sig[32:64], "big")
    return r, vs & ((1 << 255) - 1), vs >> 255


def recover(digest: bytes, sig: bytes) -> str | None:
    """The signer of `digest`, or None if the signature is invalid or high-s (as OpenZeppelin)."""
    if len(sig) != 64:
        return None
    r, s, v = from_compact(sig)
    if s > HALF_N or r == 0 or s == 0 or r >= SECP256K1_N:
        return None
    try:
        pub = PublicKey.from_signature_and_message(
            r.to_bytes(32, "big") + s.to_bytes(32, "big") + bytes([v]), digest, hasher=None
        )
    except Exception:
        return None
    return "0x" + keccak(pub.format(compressed=False)[1:])[12:].hex()


def address_of(private_key: bytes) -> str:
    pub = PrivateKey(private_key).public_key.format(compressed=False)[1:]
    return "0x" + keccak(pub)[12:].hex()
