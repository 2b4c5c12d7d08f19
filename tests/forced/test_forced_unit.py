"""Pure logic of forced slots in format v2 (execution, builder) and a differential test against
the on-chain executor (RollupHarness): both sides apply, skip or reject forced txs identically.
A forced tx is authenticated by its L1 sender (the queue entry binds it), not by a signature."""

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from offchain.bls import SecretKey, signing_dst
from offchain.rollup.builder import build_batch
from offchain.rollup.codec import encode_forced_tx
from offchain.rollup.execute import Fault, commit, execute
from offchain.rollup.proofs import fraud_proof
from offchain.rollup.state import L2State
from offchain.rollup.types import (
    Account,
    Commitment,
    ForcedSlot,
    QueuedForced,
    Transfer,
    Withdraw,
)
from offchain.rollup.wallet import sign_transfer

OWN = ["0x" + f"{i + 1:040x}" for i in range(4)]
SKS = [SecretKey(3_000 + i) for i in range(4)]
ETH = "0x" + "00" * 20
TOK = "0x" + "ab" * 20
DST = signing_dst(31337, "0x" + "11" * 20)
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


def qf(index: int, sender: str, tx) -> QueuedForced:
    data = tx if isinstance(tx, bytes) else encode_forced_tx(tx)
    return QueuedForced(index, sender, data)


def slots_commitment(state: L2State, applied, n_forced=None) -> Commitment:
    n = len(applied) if n_forced is None else n_forced
    return Commitment(
        bytes(32),
        state.deposit_end,
        state.forced_end + n,
        0,
        forced=[ForcedSlot(a) for a in applied],
    )


def test_valid_forced_transfer_is_applied_without_fee_or_nonce():
    state = make_state()
    ex = execute(
        state,
        slots_commitment(state, [True]),
        [],
        [qf(0, OWN[0], Transfer(0, 1, 10**17, 1000))],
        check_root=False,
    )
    assert ex.ok and ex.forced_consumed == 1
    commit(state, ex, 0)
    assert state.forced_end == 1
    assert state.account(0) == Account(OWN[0], ETH, 10**18 - 10**17, 0)  # no fee, same nonce
    assert state.account(1).balance == 10**18 + 10**17


@pytest.mark.parametrize(
    "sender, tx",
    [
        (OWN[1], Transfer(0, 1, 10**17, 0)),  # not queued by the owner
        (OWN[0], Transfer(0, 1, 2 * 10**18, 0)),  # overspend
        (OWN[0], Transfer(0, 9, 10**17, 0)),  # recipient missing (after the debit)
        (OWN[0], Transfer(0, 2, 10**17, 0)),  # other token (after the debit)
        (OWN[0], Withdraw(0, 0, 0)),  # zero withdraw
        (OWN[3], Withdraw(7, 1, 0)),  # no such account
        (OWN[0], b"\x03" + bytes(3) + b"\xff" * 4 + bytes(2)),  # above 2^128-1: overspend
    ],
    ids=["other-sender", "overspend", "no-recipient", "token", "zero", "no-sender", "huge"],
)
def test_invalid_forced_tx_is_skipped_without_state_change(harness, sender, tx):
    state = make_state()
    entry = [qf(0, sender, tx)]
    skipped = slots_commitment(state, [False])
    ex = execute(state, skipped, [], entry, check_root=False)
    assert ex.ok and ex.root == state.root and ex.withdrawals == ()
    assert _onchain(harness, state, skipped, entry, ex) == (0, MAXU, state.root)
    claimed = slots_commitment(state, [True])
    ex2 = execute(state, claimed, [], entry, check_root=False)
    assert (ex2.fault, ex2.tx_index) == (Fault.FORCED_OUTCOME, 0)
    assert _onchain(harness, state, claimed, entry, ex2) == (Fault.FORCED_OUTCOME, 0, state.root)


def test_forced_range_must_be_consumed_exactly():
    state = make_state()
    entry = qf(0, OWN[0], Transfer(0, 1, 1, 0))
    c = slots_commitment(state, [True])
    assert execute(state, c, [], [], check_root=False).fault == Fault.FORCED_MISMATCH
    valid_claimed_skipped = execute(state, slots_commitment(state, [False]), [], [entry])
    assert valid_claimed_skipped.fault == Fault.FORCED_OUTCOME


def test_builder_runs_forced_after_the_signed_txs_of_its_commitment():
    state = make_state()
    forced = [qf(0, OWN[0], Transfer(0, 1, 10**17, 0)), qf(1, OWN[1], Transfer(0, 1, 1, 0))]
    # a user tx that the forced transfer (executed after it) does not invalidate
    user = sign_transfer(SKS[0], DST, 0, 1, 5, 0, 0)
    batch, post = build_batch(state, [], [user], forced=forced)
    (bc,) = batch.commitments
    c = bc.commitment
    assert c.forced_end == 2 and [s.applied for s in c.forced] == [True, False]
    assert batch.rejected == ()
    assert post.forced_end == 2 and post.account(0).nonce == 1
    assert post.account(0).balance == 10**18 - 10**17 - 5
    with pytest.raises(ValueError, match="forced txs must start"):
        build_batch(post, [], [], forced=forced[:1])


def _onchain(harness, state, c: Commitment, forced, ex):
    proof = fraud_proof(0, [c], 0, (), ex, forced)
    fault, index, root = harness.execute(state.root, proof.as_abi())
    return (int(fault), index, bytes(root))


forced_strategy = st.tuples(
    st.sampled_from(["t", "w"]),
    st.integers(0, 3),  # sender account
    st.integers(0, 3),  # recipient
    st.sampled_from([0, 1, 10**17, 2 * 10**18]),
    st.booleans(),  # queued by the owner
    st.booleans(),  # claimed outcome (used when `honest` is False)
)


@settings(
    max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.lists(forced_strategy, min_size=1, max_size=6), st.booleans())
def test_random_forced_sequences_agree_on_chain(harness, ops, honest):
    state = make_state()
    forced = []
    for kind, f, t, amount, right, _ in ops:
        sender = OWN[f] if right else OWN[(f + 1) % 4]
        tx = Transfer(f, t, amount, 0) if kind == "t" else Withdraw(f, amount, 3)
        forced.append(qf(len(forced), sender, tx))
    if honest:
        batch, _ = build_batch(state, [], [], forced=forced)
        (bc,) = batch.commitments
        c = bc.commitment
        assert _onchain(harness, state, c, bc.forced, bc.execution) == (0, MAXU, c.post_root)
        return
    c = slots_commitment(state, [o[5] for o in ops])
    ex = execute(state, c, [], forced, check_root=False)
    got = _onchain(harness, state, c, forced, ex)
    assert got[0] == ex.fault.value
    assert got[1] == (MAXU if ex.tx_index < 0 else ex.tx_index)
    assert got[2] == ex.root


def test_saved_state_keeps_the_forced_position(tmp_path):
    from offchain.rollup.store import load_state, save_state

    state = make_state()
    _, post = build_batch(state, [], [], forced=[qf(0, OWN[0], Transfer(0, 1, 10**17, 0))])
    save_state(post, tmp_path / "state.json")
    loaded = load_state(tmp_path / "state.json")
    assert (loaded.root, loaded.forced_end) == (post.root, 1)
    # the next batch continues at forced position 1
    batch, _ = build_batch(loaded, [], [], forced=[qf(1, OWN[0], Transfer(0, 1, 1, 0))])
    assert batch.commitments[0].commitment.forced_end == 2
