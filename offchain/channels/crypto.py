"""EIP-712 hashing exactly as ChannelAdjudicator computes it, and low-s secp256k1 signatures.

Fast path: the type hashes and each domain's separator are computed once, and a struct is
hashed from its 32-byte words concatenated directly (every field is a static ABI type, so the
ABI encoding is just the words) with one keccak call of `safe-pysha3`. Tests compare every digest
with eth_account's `encode_typed_data` and with the contract's `stateDigest`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache

import coincurve
import sha3  # type: ignore[import-untyped]
from eth_typing import ChecksumAddress
from eth_utils import to_checksum_address

from offchain.channels.model import ChannelError, ErrorCode, State

SECP256K1_N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141
HALF_N = SECP256K1_N // 2


def keccak(data: bytes = b"", *, text: str | None = None) -> bytes:
    """keccak256 of `data` (or of the UTF-8 `text`)."""
    h = sha3.keccak_256()
    h.update(data if text is None else text.encode())
    return h.digest()


def _u(v: int) -> bytes:
    """A uint as its 32-byte ABI word (the contract's types are at most uint256)."""
    return v.to_bytes(32, "big")


def _addr(a: str) -> bytes:
    return bytes.fromhex(a.removeprefix("0x")).rjust(32, b"\0")


STATE_TYPE = (
    "State(bytes32 channelId,uint64 nonce,uint256 balanceA,uint256 balanceB,"
    "bytes32 locksRoot,uint256 lockedAmount)"
)
STATE_TYPEHASH = keccak(text=STATE_TYPE)
ADJUST_TYPEHASH = keccak(
    text="Adjust(State state,uint8 party,uint256 deposit,uint256 withdrawal,uint64 expiry)"
    + STATE_TYPE
)
COOP_TYPEHASH = keccak(
    text="CooperativeClose(bytes32 channelId,uint64 nonce,uint256 balanceA,uint256 balanceB)"
)
DELEGATION_TYPEHASH = keccak(text="Delegation(bytes32 channelId,address watchtower,uint64 expiry)")
DOMAIN_TYPEHASH = keccak(
    text="EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)"
)
MESSAGE_PREFIX = b"l2kit-channels/message/v2"  # v2: the msgpack wire (spec section 7)


@dataclass(frozen=True)
class Domain:
    """The EIP-712 domain: binds every signature to one chain and one adjudicator."""

    chain_id: int
    contract: str
    name: str = "l2kit-channels"
    version: str = "1"
    _prefix: bytes = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        # "\x19\x01" || separator, computed once per domain
        object.__setattr__(self, "_prefix", b"\x19\x01" + self.separator())

    def separator(self) -> bytes:
        return keccak(
            DOMAIN_TYPEHASH
            + keccak(text=self.name)
            + keccak(text=self.version)
            + _u(self.chain_id)
            + _addr(self.contract)
        )

    def digest(self, struct_hash: bytes) -> bytes:
        return keccak(self._prefix + struct_hash)


def state_struct_hash(s: State) -> bytes:
    return keccak(
        STATE_TYPEHASH
        + s.channel_id
        + _u(s.nonce)
        + _u(s.balance_a)
        + _u(s.balance_b)
        + s.locks_root
        + _u(s.locked_amount)
    )


def state_digest(domain: Domain, s: State) -> bytes:
    return domain.digest(state_struct_hash(s))


def adjust_digest(
    domain: Domain, s: State, party: int, deposit: int, withdrawal: int, expiry: int
) -> bytes:
    return domain.digest(
        keccak(
            ADJUST_TYPEHASH
            + state_struct_hash(s)
            + _u(party)
            + _u(deposit)
            + _u(withdrawal)
            + _u(expiry)
        )
    )


def coop_digest(domain: Domain, channel_id: bytes, nonce: int, bal_a: int, bal_b: int) -> bytes:
    return domain.digest(keccak(COOP_TYPEHASH + channel_id + _u(nonce) + _u(bal_a) + _u(bal_b)))


def delegation_digest(domain: Domain, channel_id: bytes, watchtower: str, expiry: int) -> bytes:
    return domain.digest(keccak(DELEGATION_TYPEHASH + channel_id + _addr(watchtower) + _u(expiry)))


def message_digest(payload: bytes) -> bytes:
    """Digest a node signs over the exact encoded bytes of a network message body."""
    return keccak(MESSAGE_PREFIX + payload)


@lru_cache(maxsize=4096)
def checksum(raw: bytes) -> ChecksumAddress:
    """The EIP-55 checksummed form of a 20-byte address. Cached: a node meets few addresses,
    and the checksum (a keccak over the hex text) costs more than a signature recovery's curve
    arithmetic; comparisons stay exact (same bytes, same string)."""
    return to_checksum_address(raw)


class Signer:
    """Holds one private key; signs 32-byte digests as r||s||v (v = 27/28), low-s."""

    def __init__(self, private_key: bytes | str) -> None:
        if isinstance(private_key, str):
            private_key = bytes.fromhex(private_key.removeprefix("0x"))
        self._key = coincurve.PrivateKey(private_key)
        pub = self._key.public_key.format(compressed=False)[1:]
        self.address = checksum(keccak(pub)[-20:])

    def sign(self, digest: bytes) -> bytes:
        sig = self._key.sign_recoverable(digest, hasher=None)  # libsecp256k1 emits low-s
        return sig[:64] + bytes([sig[64] + 27])


def recover(digest: bytes, sig: bytes) -> str:
    """The signer's checksummed address; rejects malformed and high-s signatures."""
    if not isinstance(sig, bytes | bytearray) or len(sig) != 65:
        raise ChannelError("a signature must be 65 bytes r||s||v", ErrorCode.BAD_SIGNATURE)
    s = int.from_bytes(sig[32:64], "big")
    if s == 0 or s > HALF_N:
        raise ChannelError(
            "signature s value is zero or high (only low-s signatures are valid)",
            ErrorCode.BAD_SIGNATURE,
        )
    v = sig[64]
    if v not in (27, 28):
        raise ChannelError(f"signature v must be 27 or 28, got {v}", ErrorCode.BAD_SIGNATURE)
    try:
        pub = coincurve.PublicKey.from_signature_and_message(
            bytes(sig[:64]) + bytes([v - 27]), digest, hasher=None
        )
    except Exception as e:
        raise ChannelError(f"signature does not recover: {e}", ErrorCode.BAD_SIGNATURE) from e
    return checksum(keccak(pub.format(compressed=False)[1:])[-20:])


def check_sig(digest: bytes, sig: bytes, expected: str, what: str) -> None:
    got = recover(digest, sig)
    if got.lower() != expected.lower():
        raise ChannelError(
            f"{what}: signature is by {got}, expected {expected}", ErrorCode.BAD_SIGNATURE
        )
