"""Locks root: a Merkle tree over lock leaves with sorted-pair keccak (OpenZeppelin MerkleProof).

Leaves are hashed pairwise level by level; an odd node at the end of a level is carried up
unchanged. The root of no leaves is 32 zero bytes, of one leaf the leaf itself.
"""

from __future__ import annotations

from eth_abi import encode
from eth_utils import keccak

ZERO = b"\x00" * 32


def lock_leaf(sender: int, amount: int, hashlock: bytes, expiry: int) -> bytes:
    """keccak256(abi.encode(uint8 sender, uint256 amount, bytes32 hashlock, uint64 expiry))."""
    types = ["uint8", "uint256", "bytes32", "uint64"]
    return keccak(encode(types, [sender, amount, hashlock, expiry]))


def _pair(x: bytes, y: bytes) -> bytes:
    return keccak(x + y) if x < y else keccak(y + x)


def _levels(leaves: list[bytes]) -> list[list[bytes]]:
    levels = [list(leaves)]
    while len(levels[-1]) > 1:
        cur = levels[-1]
        nxt = [_pair(cur[i], cur[i + 1]) for i in range(0, len(cur) - 1, 2)]
        if len(cur) % 2:
            nxt.append(cur[-1])
        levels.append(nxt)
    return levels


def root(leaves: list[bytes]) -> bytes:
    if not leaves:
        return ZERO
    return _levels(leaves)[-1][0]


def proof(leaves: list[bytes], index: int) -> list[bytes]:
    """The sibling path of leaves[index] up to the root."""
    if not 0 <= index < len(leaves):
        raise IndexError(f"leaf index {index} out of range for {len(leaves)} leaves")
    path = []
    for level in _levels(leaves)[:-1]:
        sib = index ^ 1
        if sib < len(level):
            path.append(level[sib])
        index //= 2
    return path


def verify(path: list[bytes], root_: bytes, leaf: bytes) -> bool:
    h = leaf
    for p in path:
        h = _pair(h, p)
    return h == root_
