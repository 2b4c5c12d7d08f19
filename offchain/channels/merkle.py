"""Locks root: a positional Merkle tree over lock leaves (matches ChannelAdjudicator.unlock).

The leaves (in the state's canonical order) are padded with zero hashes to a power of two; a
parent is keccak256(left || right). A proof is the list of siblings from the leaf up, and the
leaf's index says at each level whether the node is a left (bit 0) or right (bit 1) child. The
root of no leaves is 32 zero bytes, of one leaf the leaf itself. Being positional, each lock has
one index, which the contract uses as its "unlocked" bit.
"""

from __future__ import annotations

from eth_abi import encode
from eth_utils import keccak

ZERO = b"\x00" * 32


def lock_leaf(sender: int, amount: int, hashlock: bytes, expiry: int) -> bytes:
    """keccak256(abi.encode(uint8 sender, uint256 amount, bytes32 hashlock, uint64 expiry))."""
    types = ["uint8", "uint256", "bytes32", "uint64"]
    return keccak(encode(types, [sender, amount, hashlock, expiry]))


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
