"""Pure logic of forced slots (codec, execution, builder) and a differential test against the
on-chain executor (RollupHarness): both sides apply, skip or reject forced txs identically."""

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from offchain.rollup.builder import build_batch
from offchain.rollup.codec import CodecError, decode_batch, decode_tx_at, encode_batch, encode_tx
from offchain.rollup.eip712 import Domain, address_of
from offchain.rollup.execute import Fault, commit, execute
from offchain.rollup.state import L2State
from offchain.rollup.types import Account, Commitment, ForcedSlot, QueuedForced
from offchain.rollup.wallet import sign_transfer, sign_withdraw

KEYS = [bytes([i + 1]) * 32 for i in range(4)]
OWN = [address_of(k) for k in KEYS]
ETH = "0x" + "00" * 20
TOK = "0x" + "ab" * 20
SEP = Domain(31337, "0x" + "11" * 20).separator()
MAXU = 2**256 - 1


def make_state() -> L2State:
    s = L2State()
    for i, a in {
        0: Account(OWN[0], ETH, 10**18, 0),
        1: Account(OWN[1], ETH, 10**18, 0),
        2: Account(OWN[2], TOK, 10**18, 0),
    }.items():
        s.accounts[i] = a
        s.tree.set_leaf(i, a.leaf_hash())
    return s


def qf(index, tx) -> QueuedForced:
    return QueuedForced(index, encode_tx(tx))


def slots(*applied: bool) -> bytes:
    return b"".join(encode_tx(ForcedSlot(a)) for a in applied)


def test_forced_slot_codec():
    assert encode_tx(ForcedSlot(True)) == b"\x04\x01"
    assert encode_tx(ForcedSlot(False)) == b"\x04\x00"
    assert decode_tx_at(b"\x04\x01", 0) == (ForcedSlot(True), 2)
    with pytest.raises(CodecError, match="outcome byte"):
        decode_tx_at(b"\x04\x02", 0)
    with pytest.raises(CodecError, match="truncated"):
        decode_tx_at(b"\x04", 0)


@settings(max_examples=30, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.binary(min_size=32, max_size=32),
            st.integers(0, 2**32 - 1),
            st.integers(0, 2**32 - 1),
            st.integers(0, 2**24 - 1),
            st.lists(st.booleans(), max_size=5),
        ),
        min_size=1,
        max_size=4,
    )
)
def test_batch_header_roundtrip_with_forced_end(items):
    cs = [Commitment(r, d, fa, slots(*fl), fe) for r, d, fe, fa, fl in items]
    data = encode_batch(cs)
    assert len(data) == sum(45 + len(c.tx_data) for c in cs)
    assert decode_batch(data) == cs


def test_queued_forced_rejects_non_user_txs():
    for bad in (b"", b"\x01\x00\x00\x01", b"\x02" * 77, b"\x03" * 76, b"\x04\x01"):
        with pytest.raises(ValueError, match="forced tx"):
            QueuedForced(0, bad)


def test_valid_forced_transfer_is_applied_without_fee():
    state = make_state()
    t = sign_transfer(KEYS[0], SEP, 0, 1, 10**17, 1000, 0)
    ex = execute(state, slots(True), 1, [], SEP, [qf(0, t)])
    assert ex.ok and ex.forced_consumed == 1
    commit(state, ex, 0)
    assert state.forced_end == 1
    assert state.account(0) == Account(OWN[0], ETH, 10**18 - 10**17, 1)  # fee not charged
    assert state.account(1).balance == 10**18 + 10**17


@pytest.mark.parametrize(
    "tx",
    [
        sign_transfer(KEYS[1], SEP, 0, 1, 10**17, 0, 0),  # not the owner's signature
        sign_transfer(KEYS[0], SEP, 0, 1, 2 * 10**18, 0, 0),  # overspend
        sign_transfer(KEYS[0], SEP, 0, 1, 10**17, 0, 5),  # wrong nonce
        sign_transfer(KEYS[0], SEP, 0, 9, 10**17, 0, 0),  # recipient missing (after the debit)
        sign_transfer(KEYS[0], SEP, 0, 2, 10**17, 0, 0),  # other token (after the debit)
        sign_withdraw(KEYS[0], SEP, 0, 0, 0, 0),  # zero withdraw
        sign_withdraw(KEYS[3], SEP, 7, 1, 0, 0),  # no such account
    ],
    ids=["bad-sig", "overspend", "nonce", "no-recipient", "token", "zero-withdraw", "no-sender"],
)
def test_invalid_forced_tx_is_skipped_without_state_change(tx):
    state = make_state()
    ex = execute(state, slots(False), 0, [], SEP, [qf(0, tx)])
    assert ex.ok and ex.root == state.root and ex.withdrawals == ()
    claimed_applied = execute(state, slots(True), 0, [], SEP, [qf(0, tx)])
    assert (claimed_applied.fault, claimed_applied.tx_index) == (Fault.FORCED_OUTCOME, 0)


def test_bad_outcome_byte_is_malformed_on_both_sides(harness):
    state = make_state()
    t = sign_transfer(KEYS[0], SEP, 0, 1, 1, 0, 0)
    ex = execute(state, b"\x04\x02", 0, [], SEP, [qf(0, t)])
    assert (ex.fault, ex.tx_index) == (Fault.MALFORMED, 0)
    assert _onchain(harness, state, b"\x04\x02", [qf(0, t)], ex) == (Fault.MALFORMED, 0, ex.root)


def test_forced_range_must_be_consumed_exactly():
    state = make_state()
    t = sign_transfer(KEYS[0], SEP, 0, 1, 1, 0, 0)
    assert execute(state, slots(True), 0, [], SEP, []).fault == Fault.FORCED_MISMATCH
    missing = execute(state, b"", 0, [], SEP, [qf(0, t)])
    assert (missing.fault, missing.tx_index) == (Fault.FORCED_MISMATCH, -1)
    valid_claimed_skipped = execute(state, slots(False), 0, [], SEP, [qf(0, t)])
    assert valid_claimed_skipped.fault == Fault.FORCED_OUTCOME


def test_builder_puts_forced_after_deposits_and_before_user_txs():
    state = make_state()
    forced_t = sign_transfer(KEYS[0], SEP, 0, 1, 10**17, 0, 0)
    bad = sign_transfer(KEYS[1], SEP, 0, 1, 10**17, 0, 1)
    # a user tx with the nonce the forced tx uses becomes invalid and is dropped
    user_same_nonce = sign_transfer(KEYS[0], SEP, 0, 1, 5, 0, 0)
    user_next = sign_transfer(KEYS[0], SEP, 0, 1, 7, 0, 1)
    batch, post = build_batch(
        state, [], [user_same_nonce, user_next], SEP, forced=[qf(0, forced_t), qf(1, bad)]
    )
    c = batch.commitments[0].commitment
    assert c.forced_end == 2 and c.tx_data.startswith(slots(True, False))
    assert [r[0] for r in batch.rejected] == [user_same_nonce]
    assert post.forced_end == 2 and post.account(0).nonce == 2
    with pytest.raises(ValueError, match="forced txs must start"):
        build_batch(post, [], [], SEP, forced=[qf(0, forced_t)])


def _onchain(harness, state, txs, forced, ex):
    proof = (0, [], 0, (b"\x00" * 32, 0, 0, b"\x00" * 32, 0), b"\x00" * 32, 0, 0, txs)
    proof += ([], ex.witness_bytes(), len(forced), [f.data for f in forced])
    return harness.execute(state.root, SEP, proof)


forced_strategy = st.tuples(
    st.sampled_from(["t", "w"]),
    st.integers(0, 3),  # sender
    st.integers(0, 3),  # recipient
    st.sampled_from([0, 1, 10**17, 2 * 10**18]),
    st.booleans(),  # right signer
    st.integers(-1, 1),  # nonce offset
    st.booleans(),  # claimed outcome (used when `honest` is False)
)


@settings(
    max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.lists(forced_strategy, min_size=1, max_size=6), st.booleans())
def test_random_forced_sequences_agree_on_chain(harness, ops, honest):
    state = make_state()
    nonces = {i: 0 for i in range(4)}
    forced = []
    for kind, f, t, amount, right, off, _ in ops:
        key = KEYS[f] if right else KEYS[(f + 1) % 4]
        n = max(0, nonces[f] + off)
        tx = (
            sign_transfer(key, SEP, f, t, amount, 0, n)
            if kind == "t"
            else sign_withdraw(key, SEP, f, amount, 3, n)
        )
        forced.append(qf(len(forced), tx))
        nonces[f] += 1
    if honest:
        batch, _ = build_batch(state, [], [], SEP, forced=forced)
        (bc,) = batch.commitments
        c = bc.commitment
        assert _onchain(harness, state, c.tx_data, bc.forced, bc.execution) == (
            0,
            MAXU,
            c.post_root,
        )
        return
    txs = slots(*(o[6] for o in ops))
    ex = execute(state, txs, 0, [], SEP, forced)
    got = _onchain(harness, state, txs, forced, ex)
    assert got[0] == ex.fault.value
    assert got[1] == (MAXU if ex.tx_index < 0 else ex.tx_index)
    assert got[2] == ex.root


def test_saved_state_keeps_the_forced_position(tmp_path):
    from offchain.rollup.store import load_state, save_state

    state = make_state()
    t = sign_transfer(KEYS[0], SEP, 0, 1, 10**17, 0, 0)
    _, post = build_batch(state, [], [], SEP, forced=[qf(0, t)])
    save_state(post, tmp_path / "state.json")
    loaded = load_state(tmp_path / "state.json")
    assert (loaded.root, loaded.forced_end) == (post.root, 1)
    # the next batch continues at forced position 1
    t2 = sign_transfer(KEYS[0], SEP, 0, 1, 1, 0, 1)
    batch, _ = build_batch(loaded, [], [], SEP, forced=[qf(1, t2)])
    assert batch.commitments[0].commitment.forced_end == 2
