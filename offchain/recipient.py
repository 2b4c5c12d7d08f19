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
