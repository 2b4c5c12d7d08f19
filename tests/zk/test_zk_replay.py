# SPDX-License-Identifier: GPL-3.0-or-later
"""Differential: a batch replayed from its public data alone (offchain/zk/replay.py, what the
operator does with a batch someone else posted) lands on exactly the state the builder made
(offchain/zk/batch.py, with signatures and the witness); and public data that does not apply
to the state is refused, never half-applied. Pure, no chain."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from zk_helpers import ALICE_KEY, BOB_KEY, GENESIS_DEPOSITS, MALLORY_KEY, PARAMS

from offchain.zk.batch import BatchError, build_batch
from offchain.zk.chain import decode_submit, submit_calldata
from offchain.zk.prover import Proof
from offchain.zk.replay import PostedBatch, ReplayError, replay_batch, replay_batch_executed
from offchain.zk.state import L2State
from offchain.zk.txs import Deposit, ForcedWithdrawal, TxKind, domain_of, sign_tx

CHAIN, ROLLUP = 31337, 0x1234
DOMAIN = domain_of(CHAIN, ROLLUP)
KEYS = (ALICE_KEY, BOB_KEY, MALLORY_KEY)
NO_PROOF = Proof(bytes(256))  # replay never reads the proof


def _posted(batch) -> PostedBatch:
    """The batch as L1 shows it: the submitBatch calldata round trip, plus the log fields."""
    args = decode_submit(submit_calldata(batch, NO_PROOF))
    return PostedBatch(
        batch_index=batch.old_state.batches_done,
        old_root=batch.old_state.root,
        new_root=args.new_root,
        first_deposit=batch.old_state.deposits_done,
        deposits=args.deposits,
        tx_data=args.tx_data,
        l1_tx_hash="0x00",
        l1_block=0,
        submitter="0x00",
        n_txs=PARAMS.n_txs,
    )


def _genesis():
    return build_batch(PARAMS, L2State.empty(PARAMS.depth), CHAIN, ROLLUP, GENESIS_DEPOSITS, ())


# Transfer amounts are floats (35-bit mantissa times a power of ten), up to 0.3 ETH.
_AMOUNTS = st.builds(lambda m, e: m * 10**e, st.integers(0, 2**35 - 1), st.integers(0, 7)).filter(
    lambda v: v <= 3 * 10**17
)


@settings(max_examples=25, deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(0, 2), st.integers(0, 2), _AMOUNTS, st.booleans()),
        min_size=1,
        max_size=6,
    ),
    st.booleans(),
)
@pytest.mark.slow  # proves a batch
def test_zk_recovery_foreign_batch_replay_matches_builder(moves, extra_deposit):
    state = _genesis().new_state
    queue = state.deposits_done
    for frm, to, amount, withdraw in moves:
        deposits = ()
        if extra_deposit:
            deposits = (Deposit(queue, 0, 7, KEYS[frm].public_key),)
        if frm not in state.accounts:
            continue
        kind = TxKind.WITHDRAW if withdraw else TxKind.TRANSFER
        dest = 0xC0FFEE if withdraw else to
        nonce = state.account(frm).nonce
        tx = sign_tx(KEYS[frm], DOMAIN, kind, frm, dest, max(amount, 1), nonce)
        try:
            batch = build_batch(PARAMS, state, CHAIN, ROLLUP, deposits, (tx,))
        except BatchError:
            continue
        replayed, executed = replay_batch_executed(state, _posted(batch))
        assert replayed == batch.new_state
        assert [(e.kind, e.from_index, e.to, e.amount, e.nonce) for e in executed] == [
            (tx.kind, tx.from_index, tx.to, tx.amount, tx.nonce)
        ]
        state, queue = replayed, queue + len(deposits)


def test_zk_recovery_foreign_batch_replay_refuses_the_wrong_pre_state():
    first = _genesis()
    pay = sign_tx(ALICE_KEY, DOMAIN, TxKind.TRANSFER, 0, 1, 5, 0)
    second = build_batch(PARAMS, first.new_state, CHAIN, ROLLUP, (), (pay,))
    posted = _posted(second)
    with pytest.raises(ReplayError, match="follows"):
        replay_batch(first.old_state, posted)  # a batch behind
    other = first.new_state.with_account(1, first.new_state.account(1))
    assert replay_batch(other, posted) == second.new_state  # same state, same result
    richer = first.new_state.with_account(
        0, first.new_state.account(0).__class__(*ALICE_KEY.public_key, 0, 1, 0)
    )
    with pytest.raises(ReplayError, match=r"root|cannot pay"):
        replay_batch(richer, posted)
    forged = PostedBatch(**{**posted.__dict__, "new_root": posted.new_root ^ 1})
    with pytest.raises(ReplayError, match="L1 accepted"):
        replay_batch(first.new_state, forged)


def test_zk_recovery_foreign_batch_replay_of_a_forced_withdrawal_matches_builder():
    """A batch serving the L1 forced queue (type-3 slot, no signature) replays from its public
    data to the builder's state: balance out, nonce stepped, the forced counter moved."""
    state = _genesis().new_state
    leaf = next(iter(state.accounts))
    acct = state.account(leaf)
    forced = (ForcedWithdrawal(state.forced_done, leaf, acct.token, 0xC0FFEE),)
    pay = None
    other = next((i for i in state.accounts if i != leaf), None)
    if other is not None:
        sender = state.account(other)
        pay = sign_tx(KEYS[other], DOMAIN, TxKind.TRANSFER, other, leaf, 1, sender.nonce)
    batch = build_batch(PARAMS, state, CHAIN, ROLLUP, (), (pay,) if pay else (), forced=forced)
    replayed, executed = replay_batch_executed(state, _posted(batch))
    assert replayed == batch.new_state
    assert replayed.forced_done == state.forced_done + 1
    assert replayed.account(leaf).nonce == acct.nonce + 1
    assert executed[0].kind == TxKind.FORCED and executed[0].amount == acct.balance
    # a forged amount (not the whole balance) is refused, not half-applied
    posted = _posted(batch)
    data = bytearray(posted.tx_data)
    rec = PARAMS.n_txs * PARAMS.slot_bytes
    data[rec + 40 : rec + 56] = (acct.balance - 1).to_bytes(16, "big")
    with pytest.raises(ReplayError, match="forced withdrawal"):
        replay_batch(state, PostedBatch(**{**posted.__dict__, "tx_data": bytes(data)}))
