# SPDX-License-Identifier: GPL-3.0-or-later
"""Pure logic of the zk off-chain side: Poseidon tree, BabyJubJub, codecs, batch builder, state."""

from __future__ import annotations

import hashlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from zk_helpers import ALICE_KEY, BOB_KEY, GENESIS_DEPOSITS, MALLORY_KEY, PARAMS

from offchain.recipient import babyjubjub_key_problem, times_eight_is_identity
from offchain.zk import babyjub, pubdata
from offchain.zk.batch import BatchError, build_batch
from offchain.zk.field import SNARK_FIELD
from offchain.zk.poseidon import poseidon
from offchain.zk.state import Account, L2State
from offchain.zk.tree import PoseidonTree, root_from_path, zero_hashes
from offchain.zk.txs import Deposit, Tx, TxKind, domain_of, recipient_bytes, sign_tx

DOMAIN = domain_of(31337, 0x1234)
FAST = settings(max_examples=15, deadline=None)


def test_poseidon_matches_circomlib_vector():
    # circomlib's test vector for Poseidon([1, 2]).
    assert poseidon([1, 2]) == int(
        "115cc0f5e7d690413df64c6b9662e9cf2a3617f2743245519e19607a4417189a", 16
    )
    with pytest.raises(ValueError, match="field element"):
        poseidon([SNARK_FIELD])
    with pytest.raises(ValueError, match="1 to 12"):
        poseidon([])


def _naive_root(depth: int, leaves: dict[int, int]) -> int:
    level = [leaves.get(i, 0) for i in range(1 << depth)]
    while len(level) > 1:
        level = [poseidon([level[i], level[i + 1]]) for i in range(0, len(level), 2)]
    return level[0]


@FAST
@given(st.dictionaries(st.integers(0, 7), st.integers(0, SNARK_FIELD - 1), max_size=5))
def test_sparse_tree_matches_full_recompute(leaves):
    tree = PoseidonTree(3)
    for idx, value in leaves.items():
        tree = tree.with_leaf(idx, value)
    assert tree.root == _naive_root(3, leaves)
    for idx in range(8):
        assert root_from_path(tree.leaf(idx), idx, tree.siblings(idx)) == tree.root


def test_tree_is_immutable_and_checks_indices():
    empty = PoseidonTree(4)
    one = empty.with_leaf(3, 42)
    assert empty.root == zero_hashes(4)[4] != one.root
    assert one.with_leaf(3, 0).root == empty.root
    with pytest.raises(IndexError, match="outside"):
        empty.with_leaf(16, 1)
    with pytest.raises(ValueError, match="depth"):
        PoseidonTree(0)


def test_babyjub_constants():
    assert babyjub.on_curve(babyjub.BASE8)
    assert babyjub.mul(babyjub.BASE8, babyjub.SUBORDER) == babyjub.IDENTITY


@FAST
@given(st.binary(min_size=32, max_size=32), st.integers(0, SNARK_FIELD - 1))
def test_sign_verify_and_compression(seed, message):
    key = babyjub.PrivateKey(seed)
    pub = key.public_key
    sig = key.sign(message)
    assert babyjub.verify(pub, message, sig)
    assert not babyjub.verify(pub, (message + 1) % SNARK_FIELD, sig)
    assert not babyjub.verify(ALICE_KEY.public_key, message, sig) or pub == ALICE_KEY.public_key
    assert babyjub.decompress(babyjub.compress(pub)) == pub


def test_decompress_rejects_non_points():
    with pytest.raises(ValueError):
        babyjub.decompress(1 << 254)
    with pytest.raises(ValueError):
        babyjub.PrivateKey(b"short")
    bad = babyjub.Signature(ALICE_KEY.public_key, babyjub.SUBORDER)
    assert not babyjub.verify(ALICE_KEY.public_key, 1, bad)


def test_pubdata_layout():
    assert len(pubdata.header(1, 2, 3)) == pubdata.HEADER_BYTES == 32
    assert len(pubdata.deposit_slot(1, 2, 3, 4)) == pubdata.DEPOSIT_SLOT_BYTES == 72
    assert len(pubdata.compact_slot(1, 2, 3, 4, PARAMS.depth)) == PARAMS.slot_bytes == 7
    assert len(pubdata.payout_record(1, 2, 3)) == pubdata.RECORD_BYTES == 56
    assert PARAMS.n_payouts == 2
    assert PARAMS.pubdata_bytes == 32 + 2 * 72 + 2 * 7 + 2 * 56
    data = b"l2kit"
    assert pubdata.data_hash(data) == int(hashlib.sha256(data).hexdigest(), 16) % (1 << 253)


@FAST
@given(st.integers(0, 2**64 - 1), st.integers(0, 2**160 - 1))
def test_domain_packs_chain_and_address(chain_id, addr):
    d = domain_of(chain_id, addr)
    assert (d >> 160, d & (2**160 - 1)) == (chain_id, addr)
    assert d < SNARK_FIELD


def test_deposit_recipient_codec():
    pub = BOB_KEY.public_key
    dep = Deposit.from_recipient(7, 0, 5, recipient_bytes(pub))
    assert dep == Deposit(7, 0, 5, pub) and dep.key_is_valid
    assert not Deposit(0, 0, 1, (1, 2)).key_is_valid
    assert not Deposit(0, 0, 1, (pub[0] + SNARK_FIELD, pub[1])).key_is_valid
    with pytest.raises(ValueError, match="BabyJubJub"):
        Deposit.from_recipient(0, 0, 1, b"\x01" + bytes(20))


def test_tx_validation():
    sig = ALICE_KEY.sign(1)
    with pytest.raises(ValueError, match="padding"):
        Tx(TxKind.NOOP, 0, 0, 0, 0, sig)
    with pytest.raises(ValueError, match="2\\^128"):
        Tx(TxKind.TRANSFER, 0, 1, 2**128, 0, sig)
    with pytest.raises(ValueError, match="non-zero"):
        Tx(TxKind.WITHDRAW, 0, 0, 1, 0, sig)
    with pytest.raises(ValueError, match="20 bytes"):
        Tx(TxKind.WITHDRAW, 0, 2**160, 1, 0, sig)
    # Transfers post a float amount; withdrawals an exact one.
    with pytest.raises(ValueError, match="significant digits"):
        Tx(TxKind.TRANSFER, 0, 1, 2**35 * 10 + 1, 0, sig)
    assert Tx(TxKind.TRANSFER, 0, 1, (2**35 - 1) * 10**20, 0, sig).amount
    assert Tx(TxKind.WITHDRAW, 0, 5, 2**128 - 1, 0, sig).amount == 2**128 - 1


def _genesis():
    return build_batch(PARAMS, L2State.empty(PARAMS.depth), 31337, 0x1234, GENESIS_DEPOSITS, ())


def test_builder_credits_deposits_in_order():
    b = _genesis()
    assert b.deposit_leaves == (0, 1)
    assert b.new_state.account(0).balance == GENESIS_DEPOSITS[0].amount
    assert b.new_state.deposits_done == 2 and b.new_state.batches_done == 1
    assert len(b.data) == PARAMS.pubdata_bytes
    assert b.public_inputs[2] == b.inputs["dataHash"] == pubdata.data_hash(b.data)
    again = build_batch(
        PARAMS, b.new_state, 31337, 0x1234, (Deposit(2, 0, 9, ALICE_KEY.public_key),), ()
    )
    assert again.deposit_leaves == (0,)
    assert again.new_state.account(0).balance == GENESIS_DEPOSITS[0].amount + 9
    with pytest.raises(BatchError, match="out of order"):
        build_batch(PARAMS, b.new_state, 31337, 0x1234, GENESIS_DEPOSITS[:1], ())


@pytest.mark.parametrize(
    ("tx", "match"),
    [
        (sign_tx(MALLORY_KEY, DOMAIN, TxKind.TRANSFER, 0, 1, 1, 0), "signature"),
        (sign_tx(ALICE_KEY, DOMAIN, TxKind.TRANSFER, 0, 1, 10**30, 0), "spends"),
        (sign_tx(ALICE_KEY, DOMAIN, TxKind.TRANSFER, 0, 1, 1, 3), "nonce"),
        (sign_tx(ALICE_KEY, DOMAIN, TxKind.TRANSFER, 0, 9, 1, 0), "receiving leaf"),
        (sign_tx(ALICE_KEY, DOMAIN, TxKind.TRANSFER, 5, 1, 1, 0), "no account"),
    ],
)
def test_builder_rejects_invalid_transactions_atomically(tx, match):
    state = _genesis().new_state
    ok = sign_tx(BOB_KEY, DOMAIN, TxKind.TRANSFER, 1, 0, 1, 0)
    with pytest.raises(BatchError, match=match):
        build_batch(PARAMS, state, 31337, 0x1234, (), (ok, tx))
    # Nothing half-applied: the input state is an immutable value, still the same.
    assert state.account(1).nonce == 0


def test_builder_rejects_too_much_and_token_mismatch():
    state = _genesis().new_state
    tok = 0xCAFE
    state = state.with_account(2, Account(*MALLORY_KEY.public_key, tok, 10, 0))
    cross = sign_tx(MALLORY_KEY, DOMAIN, TxKind.TRANSFER, 2, 0, 1, 0)
    with pytest.raises(BatchError, match="token"):
        build_batch(PARAMS, state, 31337, 0x1234, (), (cross,))
    with pytest.raises(BatchError, match="slots"):
        build_batch(PARAMS, state, 31337, 0x1234, (), (cross, cross, cross))
    with pytest.raises(BatchError, match="deposit slots"):
        build_batch(PARAMS, state, 31337, 0x1234, GENESIS_DEPOSITS * 2, ())


def test_state_json_roundtrip_and_corruption(tmp_path):
    state = _genesis().new_state
    path = tmp_path / "s.json"
    state.save(path)
    assert L2State.load(path) == state
    path.write_text(
        path.read_text()
        .replace('"batches_done": 1', '"batches_done": 1')
        .replace(str(GENESIS_DEPOSITS[0].amount), str(GENESIS_DEPOSITS[0].amount + 1))
    )
    with pytest.raises(ValueError, match="corrupt"):
        L2State.load(path)


def test_full_tree_rejects_new_deposit():
    state = L2State.empty(1)
    for i in range(2):
        state = state.with_account(i, Account(*ALICE_KEY.public_key, i + 1, 1, 0))
    with pytest.raises(OverflowError, match="full"):
        state.free_index()


GENERATOR = (
    995203441582195749578291179787384436505546430278305826713579947235728471134,
    5472060717959818805561601436314318772137091100104008585924551046643952123905,
)


@FAST
@given(st.integers(0, 2**64), st.integers(0, 7))
def test_small_order_keys_babyjub_agrees_with_the_bridge_rule(k, t):
    """Differential: offchain.zk.babyjub (affine, double-and-add) and offchain.recipient (the
    bridge's projective doublings) classify every point the same; small order iff k == 0."""
    torsion = babyjub.mul(babyjub.mul(GENERATOR, babyjub.SUBORDER), t)
    point = babyjub.add(babyjub.mul(babyjub.BASE8, k), torsion)
    small = k % babyjub.SUBORDER == 0
    assert babyjub.has_small_order(point) == times_eight_is_identity(*point) == small
    problem = babyjubjub_key_problem(*point)
    assert (problem is not None) == small
    if small:
        with pytest.raises(ValueError, match="small order"):
            recipient_bytes(point)
