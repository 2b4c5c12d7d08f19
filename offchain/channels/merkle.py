"""Locks root: a positional Merkle tree over lock leaves (matches ChannelAdjudicator.unlock).

The leaves (in the state's canonical order) are padded with zero hashes to a power of two; a
parent is keccak256(left || right). A proof is the list of siblings from the leaf up, and the
leaf's index says at each level whether the node is a left (bit 0) or right (bit 1) child. The
root of no leaves is 32 zero bytes, of one leaf the leaf itself. Being positional, each lock has
one index, which the contract uses as its "unlocked" bit.
"""

from __future__ import annotations

import sha3  # type: ignore[import-untyped]

ZERO = b"\x00" * 32


def keccak(data: bytes) -> bytes:
    return sha3.keccak_256(data).digest()


def _word(v: int, bits: int, what: str) -> bytes:
    if not isinstance(v, int) or isinstance(v, bool) or not 0 <= v < 1 << bits:
        raise ValueError(f"lock {what} must be a uint{bits}, got {v!r}")
    return v.to_bytes(32, "big")


def lock_leaf(sender: int, amount: int, hashlock: bytes, expiry: int) -> bytes:
    """keccak256(abi.encode(uint8 sender, uint256 amount, bytes32 hashlock, uint64 expiry)):
    every field is a static type, so the encoding is the four 32-byte words (the tests compare
    it with eth_abi and with the contract's lockLeaf)."""
    if not isinstance(hashlock, bytes) or len(hashlock) != 32:
        raise ValueError(f"lock hashlock must be 32 bytes, got {hashlock!r}")
    return keccak(
        _word(sender, 8, "sender")
        + _word(amount, 256, "amount")
        + hashlock
        + _word(expiry, 64, "expiry")
    )


def _levels(leaves: list[bytes]) -> list[list[bytes]]:
    size = 1
    while size < len(leaves):
        size *= 2
    levels = [list(leaves) + [ZERO] * (size - len(leaves))]
    while len(levels[-1]) > 1:
        cur = levels[-1]
        levels.append([keccak(cur[i] + cur[i + 1]) for i in range(0, len(cur), 2)])
    return levels


def root(leaves: list[bytes]) -> bytes:
    if not leaves:
        return ZERO
    return _levels(leaves)[-1][0]


def proof(leaves: list[bytes], index: int) -> list[bytes]:
    """The siblings of leaves[index] from the bottom up."""
    if not 0 <= index < len(leaves):
        raise IndexError(f"leaf index {index} out of range for {len(leaves)} leaves")
    path = []
    for level in _levels(leaves)[:-1]:
        path.append(level[index ^ 1])
        index //= 2
    return path


def verify(path: list[bytes], root_: bytes, leaf: bytes, index: int) -> bool:
    h = leaf
    for p in path:
        h = keccak(h + p) if index % 2 == 0 else keccak(p + h)
        index //= 2
    return index == 0 and h == root_
