# SPDX-License-Identifier: GPL-3.0-or-later
"""Packed public data of a batch (what L1 sees and hashes) - layout fixed by circuits/rollup.circom:
header (32) | deposit slots (72 each) | transaction slots (61 each)."""

from __future__ import annotations

import hashlib

from offchain.zk.field import HASH_MASK

HEADER_BYTES = 32
DEPOSIT_SLOT_BYTES = 72
TX_SLOT_BYTES = 61


def header(chain_id: int, rollup: int, batch_index: int) -> bytes:
    """chainId (8) | rollup address (20) | batch index (4)."""
    return chain_id.to_bytes(8, "big") + rollup.to_bytes(20, "big") + batch_index.to_bytes(4, "big")


def deposit_slot(index: int, packed_key: int, token: int, amount: int) -> bytes:
    """leaf index (4) | compressed key (32) | token (20) | amount (16)."""
    return (
        index.to_bytes(4, "big")
        + packed_key.to_bytes(32, "big")
        + token.to_bytes(20, "big")
        + amount.to_bytes(16, "big")
    )


def empty_deposit_slot() -> bytes:
    return bytes(DEPOSIT_SLOT_BYTES)


def tx_slot(kind: int, from_index: int, to: int, amount: int, token: int) -> bytes:
    """type (1) | from (4) | to (20) | amount (16) | token (20)."""
    return (
        kind.to_bytes(1, "big")
        + from_index.to_bytes(4, "big")
        + to.to_bytes(20, "big")
        + amount.to_bytes(16, "big")
        + token.to_bytes(20, "big")
    )


def data_hash(data: bytes) -> int:
    """The public input binding the data: SHA-256 with the top three bits cleared."""
    return int.from_bytes(hashlib.sha256(data).digest(), "big") & HASH_MASK


def total_bytes(n_txs: int, n_deposits: int) -> int:
    return HEADER_BYTES + n_deposits * DEPOSIT_SLOT_BYTES + n_txs * TX_SLOT_BYTES
