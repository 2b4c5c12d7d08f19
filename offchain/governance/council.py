"""Security Council approvals, computed off chain exactly as SecurityCouncil.sol checks them.

Digest (EIP-712):
    domain    = keccak256(abi.encode(
                    keccak256("EIP712Domain(string name,string version,uint256 chainId,"
                              "address verifyingContract)"),
                    keccak256("l2kit Security Council"), keccak256("1"), chainId, council))
    structHash = keccak256(abi.encode(
                    keccak256("Call(address target,bytes data,uint256 nonce,uint256 deadline)"),
                    target, keccak256(data), nonce, deadline))
    digest    = keccak256(0x19 || 0x01 || domain || structHash)
Each member signs the digest (65 bytes r || s || v); `execute` takes the first `threshold`
signatures and wants their signers strictly ascending.
"""

from __future__ import annotations

from collections.abc import Sequence

from eth_abi import encode
from eth_account import Account
from eth_utils import keccak, to_checksum_address

DOMAIN_TYPEHASH = keccak(
    text="EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)"
)
CALL_TYPEHASH = keccak(text="Call(address target,bytes data,uint256 nonce,uint256 deadline)")
NAME, VERSION = "l2kit Security Council", "1"


def domain_separator(chain_id: int, council: str) -> bytes:
    """The council's EIP-712 domain separator."""
    return keccak(
        encode(
            ["bytes32", "bytes32", "bytes32", "uint256", "address"],
            [
                DOMAIN_TYPEHASH,
                keccak(text=NAME),
                keccak(text=VERSION),
                chain_id,
                to_checksum_address(council),
            ],
        )
    )


def call_digest(
    chain_id: int, council: str, target: str, data: bytes, nonce: int, deadline: int
) -> bytes:
    """The digest members sign to approve `target.call(data)` at `nonce` until `deadline`."""
    struct = keccak(
        encode(
            ["bytes32", "address", "bytes32", "uint256", "uint256"],
            [CALL_TYPEHASH, to_checksum_address(target), keccak(data), nonce, deadline],
        )
    )
    return keccak(b"\x19\x01" + domain_separator(chain_id, council) + struct)


def approve(private_key: bytes, digest: bytes) -> tuple[str, bytes]:
    """(signer address, 65-byte signature) of one member over `digest`."""
    signed = Account.unsafe_sign_hash(digest, private_key)
    sig = signed.r.to_bytes(32, "big") + signed.s.to_bytes(32, "big") + bytes([signed.v])
    return Account.from_key(private_key).address, sig


def ordered(approvals: Sequence[tuple[str, bytes]]) -> list[bytes]:
    """Signatures sorted by signer address, as `execute` requires."""
    return [sig for _, sig in sorted(approvals, key=lambda a: int(a[0], 16))]
