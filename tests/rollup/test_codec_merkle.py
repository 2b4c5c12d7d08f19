"""Pure unit and property tests: accounts and the Merkle tree (the v2 codec is tested in
tests/rollup2/test_v2_codec.py and against Solidity in test_v2_differential.py)."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from offchain.rollup.hashing import keccak
from offchain.rollup.merkle import (
    EMPTY_ROOT,
    ZERO_HASHES,
    SparseMerkleTree,
    root_from_proof,
    verify_proof,
)
from offchain.rollup.types import Account

index = st.integers(0, 2**24 - 1)


def test_account_validation():
    with pytest.raises(ValueError):
        Account("0x" + "11" * 20, "0x" + "00" * 20, 2**128, 0)
    with pytest.raises(ValueError):
        Account("0x" + "00" * 20, "0x" + "11" * 20, 0, 0)
    with pytest.raises(ValueError):
        Account("0x1234", "0x" + "00" * 20, 0, 0)
    a = Account("0x" + "11" * 20, "0x" + "22" * 20, 5, 6)
    assert Account.unpack(a.packed()) == a
    assert a.leaf_hash() == keccak(a.packed())


def _naive_root(leaves: dict[int, bytes], depth: int) -> bytes:
    level = [leaves.get(i, b"\x00" * 32) for i in range(1 << depth)]
    while len(level) > 1:
        level = [keccak(level[i] + level[i + 1]) for i in range(0, len(level), 2)]
    return level[0]


@settings(max_examples=60)
@given(st.dictionaries(st.integers(0, 15), st.binary(min_size=32, max_size=32), max_size=10))
def test_sparse_tree_matches_naive_tree(leaves):
    tree = SparseMerkleTree(depth=4)
    for i, h in leaves.items():
        tree.set_leaf(i, h)
    assert tree.root == _naive_root(leaves, 4)
    for i in range(16):
        assert root_from_proof(i, tree.leaf(i), tree.proof(i)) == tree.root


@settings(max_examples=30)
@given(st.lists(st.tuples(index, st.binary(min_size=32, max_size=32)), min_size=1, max_size=8))
def test_full_depth_proofs_and_overlays(updates):
    base = SparseMerkleTree()
    over = base.overlay()
    for i, h in updates:
        over.set_leaf(i, h)
    assert base.root == EMPTY_ROOT  # the overlay leaves its base untouched
    for i, _ in updates:
        assert verify_proof(over.root, i, over.leaf(i), over.proof(i))
        assert not verify_proof(over.root, i ^ 1, over.leaf(i), over.proof(i)) or (
            over.leaf(i) == over.leaf(i ^ 1)
        )
    root = over.root
    over.merge()
    assert base.root == root


def test_empty_root_is_zero_hash_chain():
    h = b"\x00" * 32
    for _ in range(24):
        h = keccak(h + h)
    assert h == EMPTY_ROOT == ZERO_HASHES[24]
    with pytest.raises(ValueError):
        SparseMerkleTree().proof(2**24)


@settings(max_examples=15, deadline=None)
@given(st.lists(st.tuples(index, st.binary(min_size=32, max_size=32)), min_size=1, max_size=4))
def test_merkle_proofs_agree_on_chain(harness, updates):
    tree = SparseMerkleTree()
    for i, h in updates:
        tree.set_leaf(i, h)
    i, _ = updates[-1]
    assert harness.rootFrom(i, tree.leaf(i), b"".join(tree.proof(i))) == tree.root
