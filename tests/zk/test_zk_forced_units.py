# SPDX-License-Identifier: GPL-3.0-or-later
"""Pure logic of forced withdrawals: the builder's forced slots (queue order, slot room, whole
balance, conservation), their public data, the request type and the state file. No chain."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from zk_helpers import ALICE_KEY, BOB_KEY, GENESIS_DEPOSITS, PARAMS

from offchain.zk import pubdata
from offchain.zk.batch import BatchError, build_batch
from offchain.zk.params import CircuitParams
from offchain.zk.state import L2State
from offchain.zk.txs import Deposit, ForcedWithdrawal, TxKind, domain_of, sign_tx

CHAIN, ROLLUP = 31337, 0x1234
DOMAIN = domain_of(CHAIN, ROLLUP)
FAST = settings(max_examples=15, deadline=None)
PAYEE = 0xA11CE


def _funded() -> L2State:
    """Alice (leaf 0, 1 ETH) and Bob (leaf 1, 0.5 ETH) after the genesis deposits."""
    return build_batch(
        PARAMS, L2State.empty(PARAMS.depth), CHAIN, ROLLUP, GENESIS_DEPOSITS, ()
    ).new_state


def _build(state, forced=(), txs=()):
    return build_batch(PARAMS, state, CHAIN, ROLLUP, (), tuple(txs), forced=tuple(forced))


def test_zk_forced_slot_is_whole_balance_to_recipient_no_signature():
    state = _funded()
    batch = _build(state, forced=(ForcedWithdrawal(0, 0, 0, PAYEE),))
    # The compact slot names the type and the leaf; the payout record says who gets what.
    assert batch.tx_data == (
        pubdata.compact_slot(int(TxKind.FORCED), 0, 0, 0, PARAMS.depth)
        + pubdata.compact_slot(0, 0, 0, 0, PARAMS.depth)
        + pubdata.payout_record(PAYEE, 0, 10**18)
    )
    assert batch.new_state.account(0).balance == 0
    assert batch.new_state.account(0).nonce == 1
    assert batch.new_state.forced_done == 1
    assert [(w.slot, w.to, w.amount) for w in batch.withdrawals] == [(0, PAYEE, 10**18)]
    # An empty leaf is still served: a 0 slot, nothing released.
    again = _build(batch.new_state, forced=(ForcedWithdrawal(1, 0, 0, PAYEE),))
    assert again.withdrawals == ()
    assert again.new_state.forced_done == 2


def test_zk_forced_slot_caps_at_slot_range():
    """A balance above 2^128 - 1 (two maximal deposits) is paid 2^128 - 1, the rest stays."""
    most = (1 << 128) - 1
    deps = tuple(Deposit(i, 0x77, most, ALICE_KEY.public_key) for i in range(2))
    state = build_batch(PARAMS, L2State.empty(PARAMS.depth), CHAIN, ROLLUP, deps, ()).new_state
    assert state.account(0).balance == 2 * most
    batch = _build(state, forced=(ForcedWithdrawal(0, 0, 0x77, PAYEE),))
    assert [w.amount for w in batch.withdrawals] == [most]
    assert batch.new_state.account(0).balance == most


def test_zk_forced_builder_refuses_out_of_order_unsatisfiable_or_too_many():
    state = _funded()
    with pytest.raises(BatchError, match="out of order"):
        _build(state, forced=(ForcedWithdrawal(1, 0, 0, PAYEE),))
    with pytest.raises(BatchError, match="empty leaf"):
        _build(state, forced=(ForcedWithdrawal(0, 7, 0, PAYEE),))
    with pytest.raises(BatchError, match="token"):
        _build(state, forced=(ForcedWithdrawal(0, 0, 0x77, PAYEE),))
    txs = [sign_tx(BOB_KEY, DOMAIN, TxKind.TRANSFER, 1, 0, 1, n) for n in range(2)]
    with pytest.raises(BatchError, match="slots"):
        _build(state, forced=(ForcedWithdrawal(0, 0, 0, PAYEE),), txs=txs)


def test_zk_forced_beyond_the_payout_records_wait_for_the_next_batch():
    """N = 8 has W = 2 payout records: of three queued requests the batch serves two, in order,
    and a withdrawal on top of them is refused (the operator retries with fewer txs)."""
    params = CircuitParams(8, 2, 4)
    state = build_batch(params, L2State.empty(4), CHAIN, ROLLUP, GENESIS_DEPOSITS, ()).new_state
    queue = tuple(ForcedWithdrawal(i, i % 2, 0, PAYEE + i) for i in range(3))
    batch = build_batch(params, state, CHAIN, ROLLUP, (), (), forced=queue)
    assert batch.forced == queue[:2] and batch.new_state.forced_done == 2
    assert len(batch.tx_data) == 8 * params.slot_bytes + 2 * pubdata.RECORD_BYTES
    wd = sign_tx(BOB_KEY, DOMAIN, TxKind.WITHDRAW, 1, PAYEE, 1, 0)
    with pytest.raises(BatchError, match="payout records"):
        build_batch(params, state, CHAIN, ROLLUP, (), (wd,), forced=queue)
    rest = build_batch(params, batch.new_state, CHAIN, ROLLUP, (), (), forced=queue[2:])
    assert rest.new_state.forced_done == 3


def test_zk_forced_request_type_refuses_what_l1_refuses():
    with pytest.raises(ValueError, match="non-zero"):
        ForcedWithdrawal(0, 0, 0, 0)
    with pytest.raises(ValueError, match="leaf"):
        ForcedWithdrawal(0, 1 << 32, 0, PAYEE)
    with pytest.raises(ValueError, match="queued on L1"):
        sign_tx(ALICE_KEY, DOMAIN, TxKind.FORCED, 0, PAYEE, 1, 0)


def test_zk_forced_progress_survives_the_state_file(tmp_path):
    state = _build(_funded(), forced=(ForcedWithdrawal(0, 1, 0, PAYEE),)).new_state
    path = tmp_path / "state.json"
    state.save(path)
    assert L2State.load(path) == state and L2State.load(path).forced_done == 1
    # A file from before the forced queue existed loads as "none processed".
    text = path.read_text().replace('"forced_done": 1,', "")
    assert L2State.from_json(text).forced_done == 0


@FAST
@given(
    st.lists(st.integers(0, 1), min_size=0, max_size=2),
    # Transfer amounts are floats (35-bit mantissa times a power of ten), up to Bob's 0.5 ETH.
    st.builds(lambda m, e: m * 10**e, st.integers(0, 2**35 - 1), st.integers(0, 7)).filter(
        lambda v: v <= 5 * 10**17
    ),
)
@pytest.mark.slow  # hypothesis over batch builds
def test_zk_forced_conserves_funds(leaves, spend):
    """Whatever forced withdrawals and transfers run, L2 balances plus released withdrawals stay
    equal to what was deposited, and every forced withdrawal pays its leaf's whole balance."""
    state = _funded()
    total = sum(a.balance for a in state.accounts.values())
    forced = tuple(ForcedWithdrawal(i, leaf, 0, PAYEE + leaf) for i, leaf in enumerate(leaves))
    if len(forced) == 2 and forced[0].leaf_index == forced[1].leaf_index:
        forced = forced[:1]
    txs = ()
    if len(forced) < PARAMS.n_txs and 1 not in {r.leaf_index for r in forced}:
        txs = (sign_tx(BOB_KEY, DOMAIN, TxKind.TRANSFER, 1, 0, spend, 0),)
    batch = _build(state, forced=forced, txs=txs)
    after = sum(a.balance for a in batch.new_state.accounts.values())
    assert after + sum(w.amount for w in batch.withdrawals) == total
    paid = {w.to - PAYEE: w.amount for w in batch.withdrawals}
    for req in forced:
        assert paid[req.leaf_index] == state.account(req.leaf_index).balance
