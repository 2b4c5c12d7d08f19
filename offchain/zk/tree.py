# SPDX-License-Identifier: GPL-3.0-or-later
"""A sparse binary Poseidon Merkle tree (empty leaf 0), matching circuits/merkle.circom.

The tree is an immutable value: `with_leaf` returns a new tree, so a failed batch never leaves
a half-updated state behind."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from types import MappingProxyType

from offchain.zk.poseidon import poseidon

MAX_DEPTH = 32


@lru_cache(maxsize=8)
def zero_hashes(depth: int) -> tuple[int, ...]:
    """zero_hashes(d)[i] is the root of an empty subtree of height i (i = 0..d)."""
    zs = [0]
    for _ in range(depth):
        zs.append(poseidon([zs[-1], zs[-1]]))
    return tuple(zs)


def hash_pair(left: int, right: int) -> int:
    return poseidon([left, right])


def root_from_path(leaf: int, index: int, siblings: tuple[int, ...]) -> int:
    """The root a leaf at `index` with these siblings (bottom-up) leads to."""
    cur = leaf
    for level, sib in enumerate(siblings):
        cur = hash_pair(sib, cur) if (index >> level) & 1 else hash_pair(cur, sib)
    return cur


@dataclass(frozen=True)
class PoseidonTree:
    """Sparse tree of `depth` levels; `nodes[(level, index)]` holds non-empty nodes only."""

    depth: int
    nodes: Mapping[tuple[int, int], int] = field(default_factory=lambda: MappingProxyType({}))

    def __post_init__(self) -> None:
        if not 1 <= self.depth <= MAX_DEPTH:
            raise ValueError(f"tree depth must be 1..{MAX_DEPTH}, got {self.depth}")

    @property
    def capacity(self) -> int:
        return 1 << self.depth

    def node(self, level: int, index: int) -> int:
        return self.nodes.get((level, index), zero_hashes(self.depth)[level])

    @property
    def root(self) -> int:
        return self.node(self.depth, 0)

    def leaf(self, index: int) -> int:
        self._check_index(index)
        return self.node(0, index)

    def siblings(self, index: int) -> tuple[int, ...]:
        """The Merkle path of leaf `index`, bottom-up."""
        self._check_index(index)
        return tuple(self.node(level, (index >> level) ^ 1) for level in range(self.depth))

    def with_leaf(self, index: int, value: int) -> PoseidonTree:
        """A new tree with leaf `index` set to `value`."""
        self._check_index(index)
        nodes = dict(self.nodes)
        zeros = zero_hashes(self.depth)
        cur = value
        for level in range(self.depth + 1):
            key = (level, index >> level)
            if cur == zeros[level]:
                nodes.pop(key, None)
            else:
                nodes[key] = cur
            if level == self.depth:
                break
            sib = nodes.get((level, (index >> level) ^ 1), zeros[level])
            cur = hash_pair(sib, cur) if (index >> level) & 1 else hash_pair(cur, sib)
        return PoseidonTree(self.depth, MappingProxyType(nodes))

    def _check_index(self, index: int) -> None:
        if not 0 <= index < self.capacity:
            raise IndexError(f"leaf index {index} outside a tree of {self.capacity} leaves")
