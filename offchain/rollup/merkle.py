"""Fixed-depth sparse binary Merkle tree of account leaves (keccak256, empty leaf = 0).

node(level+1, i) = keccak256(node(level, 2i) | node(level, 2i+1)); level 0 holds leaf hashes.
A tree can be an overlay over a base tree: reads fall through, writes stay local until `merge`.
"""

from __future__ import annotations

from collections.abc import Sequence

from .hashing import keccak
from .params import TREE_DEPTH

ZERO = b"\x00" * 32


def _zero_hashes(depth: int) -> tuple[bytes, ...]:
    out = [ZERO]
    for _ in range(depth):
        out.append(keccak(out[-1] + out[-1]))
    return tuple(out)


#: ZERO_HASHES[l] is the root of an empty subtree of height l.
ZERO_HASHES = _zero_hashes(TREE_DEPTH)
EMPTY_ROOT = ZERO_HASHES[TREE_DEPTH]


class SparseMerkleTree:
    """Merkle tree over 2**depth leaves storing only non-empty nodes."""

    depth: int

    def __init__(self, depth: int = TREE_DEPTH, base: SparseMerkleTree | None = None) -> None:
        if base is not None and base.depth != depth:
            raise ValueError("an overlay must have its base's depth")
        self.depth = depth
        self._base = base
        self._nodes: dict[tuple[int, int], bytes] = {}
        self._zero = ZERO_HASHES if depth == TREE_DEPTH else _zero_hashes(depth)

    @classmethod
    def from_leaves(cls, leaves: dict[int, bytes], depth: int = TREE_DEPTH) -> SparseMerkleTree:
        """The tree holding exactly these leaf hashes (others empty), built bottom-up: each
        non-empty node is hashed once (a checkpoint load rebuilds its tree this way)."""
        tree = cls(depth)
        zero = tree._zero
        level_nodes = {i: h for i, h in leaves.items() if h != zero[0]}
        for i in level_nodes:
            tree._check(i)
        nodes = tree._nodes
        for level in range(depth):
            parents: dict[int, bytes] = {}
            for i, h in level_nodes.items():
                nodes[(level, i)] = h
                p = i >> 1
                if p in parents:
                    continue
                left = level_nodes.get(p << 1, zero[level])
                right = level_nodes.get((p << 1) | 1, zero[level])
                parents[p] = keccak(left + right)
            level_nodes = parents
        for i, h in level_nodes.items():
            nodes[(depth, i)] = h
        return tree

    def overlay(self) -> SparseMerkleTree:
        """A child tree whose writes do not touch this one until `merge`d."""
        return SparseMerkleTree(self.depth, self)

    def merge(self) -> None:
        """Write this overlay's nodes into its base."""
        if self._base is None:
            raise ValueError("merge is only for overlays")
        self._base._nodes.update(self._nodes)
        self._nodes.clear()

    def node(self, level: int, index: int) -> bytes:
        key = (level, index)
        tree: SparseMerkleTree | None = self
        while tree is not None:
            value = tree._nodes.get(key)
            if value is not None:
                return value
            tree = tree._base
        return self._zero[level]

    @property
    def root(self) -> bytes:
        return self.node(self.depth, 0)

    def leaf(self, index: int) -> bytes:
        return self.node(0, index)

    def proof(self, index: int) -> list[bytes]:
        """Siblings from the leaf level up (depth entries)."""
        self._check(index)
        return [self.node(level, (index >> level) ^ 1) for level in range(self.depth)]

    def set_leaf(self, index: int, leaf_hash: bytes) -> bytes:
        """Set a leaf hash, recompute its path, return the new root."""
        self._check(index)
        nodes = self._nodes
        h = leaf_hash
        nodes[(0, index)] = h
        i = index
        for level in range(self.depth):
            sib = self.node(level, i ^ 1)
            h = keccak(sib + h) if i & 1 else keccak(h + sib)
            i >>= 1
            nodes[(level + 1, i)] = h
        return h

    def _check(self, index: int) -> None:
        if not 0 <= index < (1 << self.depth):
            raise ValueError(f"leaf index {index} outside 0..2^{self.depth}-1")


def root_from_proof(index: int, leaf_hash: bytes, siblings: Sequence[bytes]) -> bytes:
    """The root implied by a leaf and its siblings (leaf level first)."""
    h = leaf_hash
    for level, sib in enumerate(siblings):
        h = keccak(sib + h) if (index >> level) & 1 else keccak(h + sib)
    return h


def verify_proof(root: bytes, index: int, leaf_hash: bytes, siblings: Sequence[bytes]) -> bool:
    return len(siblings) == TREE_DEPTH and root_from_proof(index, leaf_hash, siblings) == root
