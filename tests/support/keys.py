"""Keys and recipients of Ape's test accounts."""

from __future__ import annotations

from typing import Any

from hexbytes import HexBytes

from offchain.recipient import TAG_ADDRESS


def private_key_bytes(account: Any) -> bytes:
    """The 32-byte private key of an Ape test account (Ape gives it as hex or bytes)."""
    return bytes(HexBytes(account.private_key))


def private_key_hex(account: Any) -> str:
    """The private key as 0x-prefixed hex (what the `l2kit` command line reads)."""
    return "0x" + private_key_bytes(account).hex()


def address_recipient(address: str) -> bytes:
    """The bridge's recipient encoding of an L2 account owned by `address`: 0x01 ‖ address."""
    return bytes([TAG_ADDRESS]) + bytes.fromhex(address.removeprefix("0x"))
