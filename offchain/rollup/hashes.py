"""Every hash and id of rollup format v2 in one place (docs/rollup-spec.md): the commitment and
batch hashes, the forced-queue accumulator and the withdrawal id. Pure functions of bytes."""

from __future__ import annotations

from collections.abc import Sequence

from .hashing import keccak
from .types import norm_address


def commitment_hash(post_root: bytes, deposit_end: int, forced_end: int, rest: bytes) -> bytes:
    """keccak(postRoot | depositEnd(4) | forcedEnd(4) | keccak(rest)); `rest` is every posted
    byte of the commitment after postRoot (counts, fee account, signature, sections)."""
    if len(post_root) != 32:
        raise ValueError(f"post root must be 32 bytes, got {len(post_root)}")
    for name, value in (("deposit end", deposit_end), ("forced end", forced_end)):
        if not 0 <= value < 2**32:
            raise ValueError(f"{name} {value} is not a uint32")
    return keccak(
        post_root + deposit_end.to_bytes(4, "big") + forced_end.to_bytes(4, "big") + keccak(rest)
    )


def batch_hash(commitment_hashes: Sequence[bytes]) -> bytes:
    """The stored batch hash: keccak of the commitment hashes back to back."""
    return keccak(b"".join(commitment_hashes))


def forced_accumulator_next(accumulator: bytes, sender: str, l2tx: bytes) -> bytes:
    """forcedAcc[n+1] = keccak(forcedAcc[n] | msg.sender(20) | l2tx): the entry binds its L1
    sender, which is what authenticates a forced transaction in v2 (no signature)."""
    if len(accumulator) != 32:
        raise ValueError(f"accumulator must be 32 bytes, got {len(accumulator)}")
    return keccak(accumulator + bytes.fromhex(norm_address(sender)[2:]) + bytes(l2tx))


def withdrawal_id(batch_index: int, commitment_index: int, tx_index: int) -> bytes:
    """keccak(abi.encode(batchIndex, commitmentIndex, txIndex)); txIndex is the slot position
    in posted order (deposits, transfers, withdraws, forced slots)."""
    return keccak(
        batch_index.to_bytes(32, "big")
        + commitment_index.to_bytes(32, "big")
        + tx_index.to_bytes(32, "big")
    )
