"""Pure unit and property tests: packed numbers, tx/batch codec round trips, the Merkle tree."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from offchain.rollup.codec import (
    CodecError,
    decode_amount,
    decode_batch,
    decode_fee,
    decode_tx_at,
    decode_txs,
    encode_amount,
    encode_batch,
    encode_fee,
    encode_tx,
    encode_txs,
)
from offchain.rollup.hashing import keccak
from offchain.rollup.merkle import (
    EMPTY_ROOT,
    ZERO_HASHES,
    SparseMerkleTree,
    root_from_proof,
    verify_proof,
)
from offchain.rollup.types import Account, Commitment, DepositTx, Transfer, Withdraw

amounts = st.builds(lambda m, e: m * 10**e, st.integers(0, 2**35 - 1), st.integers(0, 31))
fees = st.builds(lambda m, e: m * 10**e, st.integers(0, 2**11 - 1), st.integers(0, 31))
index = st.integers(0, 2**24 - 1)
sig = st.binary(min_size=64, max_size=64)
txs = st.one_of(
    st.builds(DepositTx, index),
    st.builds(Transfer, index, index, amounts, fees, sig),
    st.builds(Withdraw, index, amounts, fees, sig),
)


@settings(max_examples=200)
@given(amounts, fees)
def test_packed_numbers_round_trip(a, f):
    assert decode_amount(encode_amount(a)) == a
    assert decode_fee(encode_fee(f)) == f


def test_packing_rejects_unrepresentable_values():
    with pytest.raises(CodecError):
        encode_amount(2**35 + 1)
    with pytest.raises(CodecError):
        encode_fee(2049)
    with pytest.raises(CodecError):
        encode_amount(-1)
    with pytest.raises(CodecError):
        encode_amount(2**35 * 10**32)
    assert encode_fee(2040) == ((204 << 5) | 1).to_bytes(2, "big")


@settings(max_examples=100)
@given(st.lists(txs, max_size=32))
def test_tx_codec_round_trip(tx_list):
    data = encode_txs(tx_list)
    assert decode_txs(data) == tx_list
    assert len(data) == sum({DepositTx: 4, Transfer: 78, Withdraw: 75}[type(t)] for t in tx_list)


@settings(max_examples=50)
@given(
    st.lists(
        st.builds(
            Commitment,
            st.binary(min_size=32, max_size=32),
            st.integers(0, 2**32 - 1),
            index,
            st.lists(txs, max_size=5).map(encode_txs),
        ),
        min_size=1,
        max_size=8,
    )
)
def test_batch_codec_round_trip(cs):
    assert decode_batch(encode_batch(cs)) == cs


def test_malformed_tx_data_is_rejected():
    with pytest.raises(CodecError, match="unknown tx type"):
        decode_txs(b"\x07\x00\x00\x00")
    with pytest.raises(CodecError, match="truncated"):
        decode_txs(encode_tx(Transfer(1, 2, 3, 0, b"\x01" * 64))[:-1])
    with pytest.raises(CodecError, match="more than 32"):
        decode_txs(encode_tx(DepositTx(0)) * 33)
    with pytest.raises(CodecError):
        decode_tx_at(b"", 0)
    with pytest.raises(CodecError):
        decode_batch(b"\x00" * 40)
    with pytest.raises(CodecError):
        encode_batch([])


def test_transfer_is_78_bytes_deposit_4():
    assert len(encode_tx(Transfer(1, 2, 3, 4, b"\x00" * 64))) == 78
    assert len(encode_tx(Withdraw(1, 3, 4, b"\x00" * 64))) == 75
    assert len(encode_tx(DepositTx(9))) == 4


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
