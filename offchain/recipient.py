"""L2 recipient encoding used by bridge deposits (see contracts/bridge/IL1Bridge.sol).

- ``0x01 ‖ address``: an account owned by an Ethereum (secp256k1) key, 21 bytes;
- ``0x02 ‖ Ax ‖ Ay``: an account owned by a BabyJubJub EdDSA key, 65 bytes.
"""

from __future__ import annotations

from dataclasses import dataclass

from eth_utils import to_canonical_address, to_checksum_address

from offchain.errors import InvalidRecipient

TAG_ADDRESS = 0x01
TAG_BABYJUBJUB = 0x02

# BabyJubJub over the BN254 scalar field: a·x² + y² = 1 + d·x²·y² (the bridge's constants).
BN254_R = 21888242871839275222246405745257275088548364400416034343698204186575808495617
BJJ_A = 168700
BJJ_D = 168696


@dataclass(frozen=True)
class AddressRecipient:
    """An L2 account owned by an Ethereum address."""

    address: str


@dataclass(frozen=True)
class BabyJubJubRecipient:
    """An L2 account owned by a BabyJubJub public key (x, y)."""

    ax: int
    ay: int


Recipient = AddressRecipient | BabyJubJubRecipient


def address_recipient(address: str) -> bytes:
    """Encode an Ethereum address as a deposit recipient."""
    raw = to_canonical_address(address)
    if raw == b"\x00" * 20:
        raise InvalidRecipient("the zero address cannot receive deposits: use the L2 owner")
    return bytes([TAG_ADDRESS]) + raw


def babyjubjub_recipient(ax: int, ay: int) -> bytes:
    """Encode a BabyJubJub public key as a deposit recipient."""
    if not (0 <= ax < 2**256 and 0 <= ay < 2**256) or (ax == 0 and ay == 0):
        raise InvalidRecipient("a BabyJubJub key needs two non-zero coordinates below 2^256")
    return bytes([TAG_BABYJUBJUB]) + ax.to_bytes(32, "big") + ay.to_bytes(32, "big")


def babyjubjub_key_problem(ax: int, ay: int) -> str | None:
    """Why the bridge refuses (ax, ay) as a BabyJubJub recipient, or None when it accepts it.

    The same rule as `L1Bridge._checkRecipient`: not the zero pair, both coordinates below r,
    a point of the curve, and not of small order (8·A is the identity, which the circuit's
    EdDSA verifier refuses, so nobody could ever sign for the key)."""
    if ax == 0 and ay == 0:
        return "the zero BabyJubJub key"
    if not (0 <= ax < BN254_R and 0 <= ay < BN254_R):
        return "a coordinate is not below the BN254 scalar field order"
    x2, y2 = ax * ax % BN254_R, ay * ay % BN254_R
    if (BJJ_A * x2 + y2 - 1 - BJJ_D * x2 * y2) % BN254_R != 0:
        return "not a point of the BabyJubJub curve"
    if times_eight_is_identity(ax, ay):
        return "a key of small order (8·A is the identity): no signature by it verifies"
    return None


def times_eight_is_identity(x: int, y: int) -> bool:
    """Whether 8·(x, y) is the identity, by three projective doublings (the bridge's formula,
    dbl-2008-bbjlp, so a differential test can compare the two step for step)."""
    r, z = BN254_R, 1
    for _ in range(3):
        b, c, d = (x + y) * (x + y) % r, x * x % r, y * y % r
        e = BJJ_A * c % r
        f = (e + d) % r
        j = (f - 2 * z * z) % r
        x, y, z = (b - c - d) * j % r, f * (e - d) % r, f * j % r
    return x == 0 and y == z


def decode_recipient(data: bytes) -> Recipient:
    """Decode recipient bytes, rejecting anything the bridge would reject."""
    if len(data) == 21 and data[0] == TAG_ADDRESS:
        if data[1:] == b"\x00" * 20:
            raise InvalidRecipient("recipient is the zero address")
        return AddressRecipient(to_checksum_address(data[1:]))
    if len(data) == 65 and data[0] == TAG_BABYJUBJUB:
        ax, ay = int.from_bytes(data[1:33], "big"), int.from_bytes(data[33:], "big")
        if ax == 0 and ay == 0:
            raise InvalidRecipient("recipient is the zero BabyJubJub key")
        return BabyJubJubRecipient(ax, ay)
    raise InvalidRecipient(
        f"unknown recipient encoding 0x{data.hex()}: expected 0x01‖address (21 bytes) "
        "or 0x02‖Ax‖Ay (65 bytes)"
    )
