"""Checkpoint format (docs/checkpoints.md): vectors, round trip, every reject; resuming a replay
from a checkpoint equals the replay from genesis (hypothesis over random histories, pure)."""

import json
import struct
from pathlib import Path

import pytest
from eth_utils import to_checksum_address
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from offchain.bls import SecretKey, signing_dst
from offchain.bls.registry import KeyEntry, KeyHistory
from offchain.rollup.builder import build_batch
from offchain.rollup.checkpoint import VERSION, Anchor, Checkpoint, CheckpointError
from offchain.rollup.codec import encode_batch
from offchain.rollup.hashing import keccak
from offchain.rollup.l1 import BatchRecord
from offchain.rollup.merkle import SparseMerkleTree
from offchain.rollup.replay import PostedBatch, replay
from offchain.rollup.state import L2State
from offchain.rollup.types import Account, Commitment, QueuedDeposit
from offchain.rollup.wallet import address_of, sign_transfer

VECTORS = Path(__file__).parent / "vectors" / "checkpoint.json"
DST = signing_dst(31337, "0x" + "42" * 20)
SKS = [SecretKey(7_000 + i) for i in range(4)]
KEYS = [keccak(b"ckpt key %d" % i) for i in range(4)]
OWN = [address_of(k) for k in KEYS]
ETH = "0x" + "00" * 20
ROLLUP = "0x" + "ab" * 20
KEY_HISTORY = KeyHistory(
    {
        to_checksum_address(OWN[i]): (
            KeyEntry(to_checksum_address(OWN[i]), 0, 0, b"", SKS[i].public_key()),
        )
        for i in range(4)
    }
)


def state_of(accounts: dict[int, Account], deposit_end: int = 0, forced_end: int = 0) -> L2State:
    s = L2State(deposit_end=deposit_end, forced_end=forced_end)
    for i, a in accounts.items():
        s.accounts[i] = a
        s.tree.set_leaf(i, a.leaf_hash())
    return s


def anchor_for(state: L2State, index: int = 6, chain_id: int = 31337) -> Anchor:
    record = BatchRecord(
        keccak(b"batch %d" % index),
        state.root,
        "0x" + "cd" * 20,
        1_700_000_000 + index,
        state.deposit_end,
        state.forced_end,
        95 + index,
    )
    return Anchor(chain_id, ROLLUP, index, record, 100 + index, keccak(b"block"), keccak(b"tx"))


def vector_checkpoint() -> Checkpoint:
    accounts = {
        0: Account(OWN[0], ETH, 10**18, 3),
        1: Account(OWN[1], ETH, 5, 0),
        7: Account(OWN[2], "0x" + "77" * 20, 2**128 - 1, 2**32 - 1),
    }
    state = state_of(accounts, deposit_end=4, forced_end=1)
    return Checkpoint.of(anchor_for(state), state, 90, 95)


def test_vector_encodes_and_decodes_exactly():
    v = json.loads(VECTORS.read_text())
    ck = vector_checkpoint()
    assert ck.to_bytes().hex() == v["bytes"]
    back = Checkpoint.from_bytes(bytes.fromhex(v["bytes"]))
    assert back == ck
    assert back.batches == v["batches"] == 7
    assert "0x" + back.root.hex() == v["root"]
    assert back.state().root == ck.root
    assert len(bytes.fromhex(v["bytes"])) == v["length"] == 246 + 3 * 64 + 32


def test_version_2_layout():
    raw = vector_checkpoint().to_bytes()
    assert raw[:8] == b"L2KITCKP" and int.from_bytes(raw[8:10], "big") == VERSION == 2
    assert int.from_bytes(raw[10:18], "big") == 31337
    assert raw[18:38] == bytes.fromhex("ab" * 20)
    assert int.from_bytes(raw[234:238], "big") == 3  # account count
    assert int.from_bytes(raw[238:246], "big") == 101  # postedBlock, then the entries
    assert int.from_bytes(raw[246:250], "big") == 0 and int.from_bytes(raw[310:314], "big") == 1
    assert raw[-32:] == keccak(raw[:-32])


def _redigest(body: bytes) -> bytes:
    return body + keccak(body)


@pytest.mark.parametrize(
    "mutate, message",
    [
        (lambda r: r[:-1], "trailing bytes|truncated"),
        (lambda r: r + b"\x00", "trailing bytes|truncated"),
        (lambda r: r[:40], "too short"),
        (lambda r: b"L2KITCKQ" + r[8:], "bad magic"),
        (lambda r: r[:8] + (3).to_bytes(2, "big") + r[10:], "version 3 is not supported"),
        (lambda r: r[:-33] + bytes([r[-33] ^ 1]) + r[-32:], "digest mismatch"),
        # accounts out of order (entries 0 and 1 swapped), digest recomputed
        (lambda r: _redigest(r[:246] + r[310:374] + r[246:310] + r[374:-32]), "out of order"),
        # a balance changed: the digest matches but the rebuilt root does not
        (lambda r: _redigest(r[:305] + bytes([r[305] ^ 1]) + r[306:-32]), "hash to root"),
        # an empty leaf as an account
        (lambda r: _redigest(r[:250] + b"\x00" * 60 + r[310:-32]), "outside the tree or empty"),
        # an index outside the tree
        (lambda r: _redigest(r[:374] + (2**24).to_bytes(4, "big") + r[378:-32]), "outside"),
    ],
)
def test_rejects(mutate, message):
    raw = vector_checkpoint().to_bytes()
    with pytest.raises(CheckpointError, match=message):
        Checkpoint.from_bytes(mutate(raw))


def test_of_refuses_a_state_that_is_not_the_batch_record():
    state = vector_checkpoint().state()
    other = state.copy()
    other.accounts[1] = Account(OWN[1], ETH, 6, 0)
    other.tree.set_leaf(1, other.accounts[1].leaf_hash())
    with pytest.raises(CheckpointError, match="not the state after that batch"):
        Checkpoint.of(anchor_for(state), other, 0, 0)


accounts_st = st.dictionaries(
    st.integers(0, 2**24 - 1),
    st.builds(
        Account,
        st.sampled_from(OWN),
        st.sampled_from([ETH, "0x" + "77" * 20]),
        st.integers(0, 2**128 - 1),
        st.integers(0, 2**32 - 1),
    ),
    max_size=12,
)


@settings(max_examples=40, deadline=None)
@given(accounts=accounts_st, dep=st.integers(0, 2**32 - 1), frc=st.integers(0, 2**32 - 1))
def test_round_trip(accounts, dep, frc):
    state = state_of(accounts, dep, frc)
    ck = Checkpoint.of(anchor_for(state, index=len(accounts)), state, dep % 1000, frc % 1000)
    raw = ck.to_bytes()
    back = Checkpoint.from_bytes(raw)
    assert back == ck and back.to_bytes() == raw
    assert back.state().root == state.root and back.state().accounts == state.accounts
    assert len(raw) == 246 + 64 * len(accounts) + 32  # proportional to accounts, not history


@settings(max_examples=40, deadline=None)
@given(leaves=st.dictionaries(st.integers(0, 2**24 - 1), st.binary(min_size=32, max_size=32)))
def test_tree_from_leaves_equals_leaf_by_leaf(leaves):
    t = SparseMerkleTree()
    for i, h in leaves.items():
        t.set_leaf(i, h)
    built = SparseMerkleTree.from_leaves(leaves)
    assert built.root == t.root
    for i in list(leaves)[:3]:
        assert built.proof(i) == t.proof(i)


# ------------------------------------------------------------- resume equals full replay


def history(steps: list[tuple[int, list[tuple[int, int, int]], bool]]):
    """Batches built by an honest builder (deposits, then transfers), and where `lie` is set the
    batch claims a wrong post-root (a fraud the replay must find at the same place)."""
    state = L2State()
    deposits: list[QueuedDeposit] = []
    batches: list[PostedBatch] = []
    nonces: dict[int, int] = {}
    for n_dep, transfers, lie in steps:
        new = [
            QueuedDeposit(len(deposits) + k, ETH, 10**18, OWN[(len(deposits) + k) % 4])
            for k in range(n_dep)
        ]
        deposits.extend(new)
        txs = []
        for s, r, amount in transfers:
            if s >= len(state.accounts) or r >= len(state.accounts) or s == r:
                continue
            nonce = nonces.get(s, state.account(s).nonce)
            txs.append(sign_transfer(SKS[(s % 4)], DST, s, r, amount, 0, nonce))
            nonces[s] = nonce + 1
        if not new and not txs:
            new_state = state
            data = encode_batch([Commitment(state.root, state.deposit_end, state.forced_end, 0)])
        else:
            built, new_state = build_batch(state, new, txs)
            data = built.data
            nonces = {}
        if lie:
            c = Commitment(keccak(b"lie"), state.deposit_end, state.forced_end, 0)
            data = encode_batch([c])
            batches.append(PostedBatch(len(batches), data))
            break
        batches.append(PostedBatch(len(batches), data))
        state = new_state
    return batches, deposits


step_st = st.tuples(
    st.integers(0, 2),
    st.lists(
        st.tuples(st.integers(0, 4), st.integers(0, 4), st.sampled_from([10**15, 3 * 10**16])),
        max_size=3,
    ),
    st.sampled_from([False, False, False, True]),
)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(steps=st.lists(step_st, min_size=1, max_size=6), cut=st.integers(1, 6))
def test_resume_from_checkpoint_equals_replay_from_genesis(steps, cut):
    steps[0] = (max(steps[0][0], 1), steps[0][1], False)
    batches, deposits = history(steps)
    full = replay(batches, deposits, DST, keys=KEY_HISTORY)
    k = min(cut, full.batches_ok)
    if k == 0:
        return
    head = replay(batches[:k], deposits, DST, keys=KEY_HISTORY)
    assert head.fraud is None and head.batches_ok == k
    ck = Checkpoint.of(anchor_for(head.state, index=k - 1), head.state.copy(), 0, 0)
    ck = Checkpoint.from_bytes(ck.to_bytes())
    start = ck.state()
    rest = replay(
        batches[k:], deposits[start.deposit_end :], DST, start=start, first=k, keys=KEY_HISTORY
    )
    assert rest.batches_ok == full.batches_ok
    assert rest.state.root == full.state.root and rest.state.accounts == full.state.accounts
    assert (rest.state.deposit_end, rest.state.forced_end) == (
        full.state.deposit_end,
        full.state.forced_end,
    )
    assert (rest.fraud is None) == (full.fraud is None)
    if full.fraud is not None:
        assert rest.fraud is not None
        assert (rest.fraud.batch_index, rest.fraud.commitment_index, rest.fraud.fault) == (
            full.fraud.batch_index,
            full.fraud.commitment_index,
            full.fraud.fault,
        )
        assert rest.fraud.proof == full.fraud.proof
    # the replay from the checkpoint yields exactly the withdrawal claims of the later batches
    assert rest.withdrawals == tuple(w for w in full.withdrawals if w.batch_index >= k)


def test_replay_refuses_a_queue_that_starts_after_the_state():
    state = state_of({0: Account(OWN[0], ETH, 1, 0)}, deposit_end=2)
    with pytest.raises(ValueError, match="starts at 3, after the state's position 2"):
        replay([], [QueuedDeposit(3, ETH, 1, OWN[0])], DST, start=state, first=1)
    with pytest.raises(ValueError, match="needs the state after batch"):
        replay([], [], DST, first=1)


def test_struct_sizes_match_the_spec():
    # header 246 bytes and 64 per account, as docs/checkpoints.md states
    from offchain.rollup import checkpoint

    assert checkpoint._HEAD.size == 246 and checkpoint._ACCOUNT.size == 64
    assert struct.calcsize(">I60s") == 64
