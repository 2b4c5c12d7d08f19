# SPDX-License-Identifier: GPL-3.0-or-later
"""Censorship resistance of the zk rollup (issue #9, item 7): a key owner forces a withdrawal
through L1, an honest operator pays it in the next batch, a censoring one that posts only empty
batches is frozen at the deadline (and everyone exits), a request nobody could satisfy is refused
when it is made, and no batch can skip, reorder or invent a forced slot. Everything runs on Anvil
through the real prover (Groth16 proofs of the batch and exit circuits)."""

from __future__ import annotations

from dataclasses import replace

import ape
import pytest
from eth_account import Account
from zk_helpers import (
    ALICE_DEPOSIT,
    ALICE_KEY,
    BOB_DEPOSIT,
    BOB_KEY,
    FIXED_GAS,
    FORCED_DELAY,
    MALLORY_KEY,
    PARAMS,
    Proven,
    deposit_first_two,
    submit,
)

from offchain.l1.sender import SendPolicy
from offchain.sequencer.optimistic import Rejected
from offchain.sequencer.store import TxStatus
from offchain.zk import pubdata
from offchain.zk.batch import BatchError, build_batch
from offchain.zk.batch_runner import SubmitFailed, ZkBatchRunner
from offchain.zk.chain import exit_args, forced_request_args, read_forced
from offchain.zk.exit import build_exit, exit_message, sign_exit
from offchain.zk.prover import prove_checked
from offchain.zk.sequencer_backend import ZkBatcher
from offchain.zk.state import L2State
from offchain.zk.txs import ForcedWithdrawal, TxKind, recipient_bytes, sign_tx

ETH = "0x" + "00" * 20
TOKEN = "0x" + "00" * 19 + "77"
MALLORY_L1 = 0x00000000000000000000000000000000000BAD01
# Alice's balance after batch 0 (paid Bob 0.3 ETH), Bob's (got 0.3, withdrew 0.1).
ALICE_AFTER_0 = ALICE_DEPOSIT - 3 * 10**17
BOB_AFTER_0 = BOB_DEPOSIT + 3 * 10**17 - 10**17


# ------------------------------------------------------------------ helpers


def _authorise(zk, exit_prover, state, key, leaf, recipient: int):
    """The key owner's exit-circuit proof for leaf -> recipient against `state`'s root."""
    sig = sign_exit(key, state, zk.domain, leaf, recipient)
    claim = build_exit(state, zk.domain, leaf, recipient, sig, allow_empty=True)
    return claim, prove_checked(exit_prover, claim.inputs, claim.public_inputs)


def _request(zk, claim, proof, root_count, sender, **overrides):
    leaf, token, balance, recipient, count, words = forced_request_args(claim, proof, root_count)
    return zk.rollup.requestForcedWithdrawal(
        overrides.get("leaf", leaf),
        overrides.get("token", token),
        overrides.get("balance", balance),
        overrides.get("recipient", recipient),
        overrides.get("root_count", count),
        overrides.get("proof", words),
        sender=sender,
        gas=FIXED_GAS,
    )


def _operator(zk, chain, deployer, prover, state, tmp_path) -> ZkBatchRunner:
    path = tmp_path / "zk-state.json"
    state.save(path)
    return ZkBatchRunner(
        chain.provider.web3,
        Account.from_key(deployer.private_key),
        zk.rollup.address,
        zk.bridge.address,
        PARAMS,
        prover,
        state_path=path,
    )


def _prove(zk, prover, state, forced=(), txs=(), deposits=()) -> Proven:
    """A circuit-valid batch (the local verifier accepts it): what only L1's checks can stop."""
    batch = build_batch(
        PARAMS, state, zk.chain_id, zk.rollup_int, deposits, txs, forced=tuple(forced)
    )
    return Proven(batch, prove_checked(prover, batch.inputs, batch.public_inputs))


def _mine_to(chain, timestamp: int) -> None:
    chain.mine(1, timestamp=max(timestamp, chain.pending_timestamp))


@pytest.fixture
def after_batch0(zk, batch0, alice, bob, deployer):
    """Deposits of Alice (leaf 0) and Bob (leaf 1), batch 0 accepted: root count 1."""
    deposit_first_two(zk, alice, bob)
    submit(zk, batch0, deployer)
    assert zk.rollup.rootAt(1) == batch0.batch.new_state.root
    return batch0.batch.new_state


@pytest.fixture
def alice_forced(zk, exit_prover, after_batch0, alice):
    """Alice forces a withdrawal of leaf 0 to her L1 account; returns (state, request)."""
    claim, proof = _authorise(zk, exit_prover, after_batch0, ALICE_KEY, 0, int(alice.address, 16))
    receipt = _request(zk, claim, proof, 1, alice)
    ev = receipt.decode_logs(zk.rollup.ForcedWithdrawalRequested)[0]
    assert (ev.index, ev.leafIndex, ev.recipient, ev.token) == (0, 0, alice.address, ETH)
    assert ev.deadline == receipt.timestamp + FORCED_DELAY
    (req,) = read_forced(zk.rollup.provider.web3, zk.rollup.address, 0, 1)
    assert req == ForcedWithdrawal(0, 0, 0, int(alice.address, 16), ev.deadline)
    return after_batch0, req


# ------------------------------------------------------------------ the guarantee


@pytest.mark.slow  # proves batches
def test_zk_forced_withdrawal_included_by_honest_operator_and_paid(
    zk, prover, alice_forced, chain, deployer, alice, tmp_path
):
    state, req = alice_forced
    assert zk.rollup.forcedPending(0) and zk.rollup.forcedCount() == 1
    op = _operator(zk, chain, deployer, prover, state, tmp_path)
    assert op.pending_forced() == (req,)
    result = op.run_batch()  # nothing else to do: the operator still takes the forced queue
    assert result.batch.forced == (req,)
    assert zk.rollup.forcedProcessed() == 1 and not zk.rollup.forcedPending(0)
    assert zk.rollup.stateRoot() == op.state.root
    leaf = op.state.account(0)
    assert (leaf.balance, leaf.nonce) == (0, 2)  # whole balance out, nonce bumped
    assert zk.bridge.claimable(alice, ETH) == ALICE_AFTER_0
    before = alice.balance
    zk.bridge.claim(ETH, alice, sender=alice, gas=FIXED_GAS, gas_price=0)
    assert alice.balance == before + ALICE_AFTER_0
    # Processed in time, the request never freezes the rollup.
    _mine_to(chain, req.deadline + 1)
    assert not zk.rollup.forcedOverdue() and not zk.rollup.frozen()


@pytest.mark.slow  # proves batches
def test_zk_forced_withdrawal_served_before_l2_txs_and_pays_current_balance(
    zk, prover, alice_forced, chain, deployer, alice, tmp_path
):
    """A transfer to the leaf after the request is paid out too: the slot takes the balance at
    processing time; the operator fills the remaining slot with an L2 tx after the forced one."""
    state, req = alice_forced
    op = _operator(zk, chain, deployer, prover, state, tmp_path)
    gift = sign_tx(BOB_KEY, op.domain, TxKind.TRANSFER, 1, 0, 10**17, 1)
    with pytest.raises(BatchError, match="slots"):
        op.build((gift, gift), forced=(req,))
    result = op.run_batch((gift,))
    assert result.batch.forced == (req,)
    # Slot 0 is the forced withdrawal (Alice's balance then), slot 1 Bob's gift, kept on L2.
    assert result.batch.tx_data[0] >> 6 == TxKind.FORCED
    assert zk.bridge.claimable(alice, ETH) == ALICE_AFTER_0
    assert op.state.account(0).balance == 10**17


@pytest.mark.slow  # zk batcher service
def test_zk_forced_batcher_service_serves_the_queue_first(
    zk, prover, exit_prover, after_batch0, chain, deployer, alice, tmp_path
):
    """The batcher service: a queued request makes a batch due at once, goes into the first
    slot, and L2 txs of that leaf wait (refused while queued, dropped once they no longer
    apply) instead of blocking the batch."""
    state_file = tmp_path / "zk-state.json"
    after_batch0.save(state_file)
    batcher = ZkBatcher(
        chain.provider.web3,
        Account.from_key(deployer.private_key),
        zk.rollup.address,
        zk.bridge.address,
        PARAMS,
        prover,
        tmp_path / "zk.sqlite",
        state_file,
        max_batch_delay=3600,
        policy=SendPolicy(receipt_timeout=10, backoff=0.05, max_backoff=0.2),
    )
    try:
        batcher.recover()
        dom = batcher.domain
        stale = batcher.submit(sign_tx(ALICE_KEY, dom, TxKind.TRANSFER, 0, 1, 10**17, 1))
        assert batcher.post_if_due() is None  # one tx, max_batch_delay not reached: not due
        claim, proof = _authorise(
            zk, exit_prover, after_batch0, ALICE_KEY, 0, int(alice.address, 16)
        )
        _request(zk, claim, proof, 1, alice)
        with pytest.raises(Rejected) as refused:
            batcher.submit(sign_tx(ALICE_KEY, dom, TxKind.TRANSFER, 0, 1, 10**17, 2))
        assert refused.value.code == "forced_pending"
        assert batcher.post_if_due() == 1  # due at once, although max_batch_delay is an hour
        assert zk.rollup.forcedProcessed() == 1
        assert zk.bridge.claimable(alice, ETH) == ALICE_AFTER_0
        assert batcher.confirmed.forced_done == 1
        assert batcher.confirmed.account(0).balance == 0
        (dropped,) = batcher.store.txs(TxStatus.DROPPED)
        assert dropped.seq == stale.seq
        assert batcher.post_if_due() is None  # nothing left to do
    finally:
        batcher.store.close()


# ------------------------------------------------------------------ censorship


@pytest.mark.slow  # proves several batches
def test_zk_censorship_empty_batches_past_deadline_freeze_and_user_exits(
    zk, prover, exit_prover, alice_forced, chain, deployer, alice, bob, tmp_path
):
    state, req = alice_forced
    censor = _operator(zk, chain, deployer, prover, state, tmp_path)
    # The censor keeps the liveness clock going with empty batches that leave the queue alone.
    _mine_to(chain, req.deadline - FORCED_DELAY // 2)
    censor.run_batch(forced=())
    assert zk.rollup.batchCount() == 2 and zk.rollup.forcedProcessed() == 0
    assert not zk.rollup.frozen()
    # Past the deadline the rollup is frozen, though a batch landed well inside freezePeriod.
    _mine_to(chain, req.deadline + 1)
    assert zk.rollup.forcedOverdue()
    assert zk.rollup.frozen()
    empty = _prove(zk, prover, censor.state)
    with ape.reverts(zk.rollup.RollupFrozen):
        submit(zk, empty, deployer)
    # Serving the request now is too late too: frozen is final.
    late = _prove(zk, prover, censor.state, forced=(req,))
    with ape.reverts(zk.rollup.RollupFrozen):
        submit(zk, late, deployer)
    with pytest.raises(SubmitFailed):
        censor.run_batch()
    # Everyone exits with all funds of the last proven root (Alice's request never ran).
    last = censor.state
    assert last.root == zk.rollup.stateRoot()
    for key, leaf, who, amount in (
        (ALICE_KEY, 0, alice, ALICE_AFTER_0),
        (BOB_KEY, 1, bob, BOB_AFTER_0),
    ):
        claim, proof = _authorise(zk, exit_prover, last, key, leaf, int(who.address, 16))
        zk.rollup.exit(*exit_args(claim, proof), sender=who, gas=FIXED_GAS)
        assert zk.bridge.claimable(who, ETH) == amount
    # A frozen rollup queues nothing more.
    claim, proof = _authorise(zk, exit_prover, last, BOB_KEY, 1, int(bob.address, 16))
    with ape.reverts(zk.rollup.RollupFrozen):
        _request(zk, claim, proof, 2, bob)


@pytest.mark.slow  # proves batches
def test_zk_censorship_front_running_batch_does_not_void_a_request(
    zk, prover, exit_prover, after_batch0, chain, deployer, alice, tmp_path
):
    """The operator lands a batch that changes the root between the user's proof and their
    request: the proof names root count 1, which stays valid."""
    claim, proof = _authorise(zk, exit_prover, after_batch0, ALICE_KEY, 0, int(alice.address, 16))
    op = _operator(zk, chain, deployer, prover, after_batch0, tmp_path)
    op.run_batch((sign_tx(BOB_KEY, op.domain, TxKind.TRANSFER, 1, 0, 1, 1),))
    assert zk.rollup.stateRoot() != after_batch0.root
    _request(zk, claim, proof, 1, alice)
    assert zk.rollup.forcedCount() == 1
    op.run_batch()
    assert zk.bridge.claimable(alice, ETH) == ALICE_AFTER_0 + 1


@pytest.mark.slow  # proves batches
def test_zk_censorship_request_flood_cannot_outrun_an_honest_operator(
    zk, prover, exit_prover, after_batch0, chain, deployer, alice, bob, tmp_path
):
    """At most txSlots requests fall due per forcedDelay: the third request's deadline is pushed
    to one forcedDelay after the first's, so one full batch per forcedDelay keeps up."""
    deadlines = []
    for key, leaf, who in ((ALICE_KEY, 0, alice), (BOB_KEY, 1, bob)):
        claim, proof = _authorise(zk, exit_prover, after_batch0, key, leaf, int(who.address, 16))
        ev = _request(zk, claim, proof, 1, who).decode_logs(zk.rollup.ForcedWithdrawalRequested)
        deadlines.append(ev[0].deadline)
    op = _operator(zk, chain, deployer, prover, after_batch0, tmp_path)
    op.run_batch()
    assert zk.rollup.forcedProcessed() == 2
    claim, proof = _authorise(zk, exit_prover, op.state, ALICE_KEY, 0, int(alice.address, 16))
    receipt = _request(zk, claim, proof, 2, alice)
    third = receipt.decode_logs(zk.rollup.ForcedWithdrawalRequested)[0]
    assert third.index == 2 and third.deadline >= deadlines[0] + FORCED_DELAY
    assert third.deadline >= receipt.timestamp + FORCED_DELAY


# ------------------------------------------------------------------ bogus requests


@pytest.mark.slow  # proves a batch
def test_zk_forced_bogus_requests_refused_at_request_time(
    zk, exit_prover, after_batch0, chain, alice, bob
):
    state = after_batch0
    alice_l1 = int(alice.address, 16)
    claim, proof = _authorise(zk, exit_prover, state, ALICE_KEY, 0, alice_l1)
    # Not the owner's key: the builder refuses, and a forged witness gives no valid proof.
    acct = state.account(0)
    forged_sig = MALLORY_KEY.sign(exit_message(zk.domain, 0, MALLORY_L1, acct.balance, 0))
    with pytest.raises(ValueError, match="signature"):
        build_exit(state, zk.domain, 0, MALLORY_L1, forged_sig)
    honest = build_exit(
        state, zk.domain, 0, MALLORY_L1, sign_exit(ALICE_KEY, state, zk.domain, 0, MALLORY_L1)
    )
    forged = replace(
        honest,
        inputs={
            **honest.inputs,
            "sigR8x": forged_sig.r8[0],
            "sigR8y": forged_sig.r8[1],
            "sigS": forged_sig.s,
        },
    )
    forged_proof = exit_prover.prove(forged.inputs)
    with ape.reverts(zk.rollup.InvalidProof):
        _request(zk, forged, forged_proof, 1, bob)
    # A leaf that does not exist (nothing to open), or with the wrong token: unsatisfiable
    # requests, refused because the proof binds leaf and token.
    with pytest.raises(ValueError, match="no account"):
        build_exit(state, zk.domain, 5, alice_l1, forged_sig)
    with ape.reverts(zk.rollup.InvalidProof):
        _request(zk, claim, proof, 1, alice, leaf=5)
    with ape.reverts(zk.rollup.InvalidProof):
        _request(zk, claim, proof, 1, alice, token=TOKEN)
    # Someone else's recipient, balance or root: the proof binds them all.
    with ape.reverts(zk.rollup.InvalidProof):
        _request(zk, claim, proof, 1, bob, recipient=bob.address)
    with ape.reverts(zk.rollup.InvalidProof):
        _request(zk, claim, proof, 1, alice, balance=claim.balance + 1)
    with ape.reverts(zk.rollup.InvalidProof):
        _request(zk, claim, proof, 0, alice)  # the genesis root had no leaf 0
    with ape.reverts(zk.rollup.UnknownRoot):
        _request(zk, claim, proof, 2, alice)
    with ape.reverts(zk.rollup.ZeroRecipient):
        _request(zk, claim, proof, 1, alice, recipient=ETH)
    assert zk.rollup.forcedCount() == 0
    # Refused requests leave nothing behind that could freeze the honest operator.
    _mine_to(chain, chain.pending_timestamp + 2 * FORCED_DELAY)
    assert not zk.rollup.forcedOverdue() and not zk.rollup.frozen()
    # Anyone may relay the owner's proof: the funds still go where the owner signed.
    ev = _request(zk, claim, proof, 1, bob).decode_logs(zk.rollup.ForcedWithdrawalRequested)[0]
    assert ev.recipient == alice.address
    # One pending request per leaf: relaying it again is refused.
    with ape.reverts(zk.rollup.ForcedAlreadyPending):
        _request(zk, claim, proof, 1, bob)


@pytest.mark.slow  # proves several batches
def test_zk_forced_replayed_request_refused_after_processing(
    zk, prover, exit_prover, alice_forced, chain, deployer, alice, tmp_path
):
    """Once processed, the old proof (any root from before the withdrawal) cannot queue it again
    (it would empty Alice's later deposits without her); a fresh proof can, even of an empty
    leaf, and that request is satisfiable: the slot pays 0."""
    state, _ = alice_forced
    claim, proof = _authorise(zk, exit_prover, state, ALICE_KEY, 0, int(alice.address, 16))
    op = _operator(zk, chain, deployer, prover, state, tmp_path)
    op.run_batch()
    assert zk.rollup.forcedFloor(0) == 2
    with ape.reverts(zk.rollup.StaleRoot):
        _request(zk, claim, proof, 1, deployer)
    with ape.reverts(zk.rollup.StaleRoot):
        _request(zk, claim, proof, 0, deployer)
    claim2, proof2 = _authorise(zk, exit_prover, op.state, ALICE_KEY, 0, int(alice.address, 16))
    assert claim2.balance == 0
    _request(zk, claim2, proof2, 2, alice)
    claimable = zk.bridge.claimable(alice, ETH)
    receipt = op.run_batch().tx_hash
    assert zk.rollup.forcedProcessed() == 2
    assert zk.bridge.claimable(alice, ETH) == claimable  # nothing to pay, nothing released
    logs = list(zk.rollup.ForcedWithdrawalProcessed.range(0, chain.blocks.head.number + 1))
    assert [(lg.index, lg.amount) for lg in logs] == [(0, ALICE_AFTER_0), (1, 0)], receipt


@pytest.mark.slow  # proves several batches
def test_zk_forced_request_on_a_balance_above_slot_range_is_still_served(
    zk, prover, exit_prover, project, chain, deployer, carol, tmp_path
):
    """Balances have 192 bits, slot amounts 128: two maximal deposits of a token the attacker
    minted give a leaf more than a slot can carry. Its forced withdrawal must still be servable
    (else the attacker freezes an honest operator): the slot pays 2^128 - 1, the rest stays."""
    most = (1 << 128) - 1
    token = deployer.deploy(project.TestToken, "Huge", "HUGE", 18)
    token.mint(carol, 2 * most, sender=deployer)
    token.approve(zk.bridge, 2 * most, sender=carol)
    for _ in range(2):
        zk.bridge.depositERC20(
            token, most, recipient_bytes(MALLORY_KEY.public_key), sender=carol, gas=FIXED_GAS
        )
    op = _operator(zk, chain, deployer, prover, L2State.empty(PARAMS.depth), tmp_path)
    op.run_batch()
    assert op.state.account(0).balance == 2 * most
    claim, proof = _authorise(zk, exit_prover, op.state, MALLORY_KEY, 0, int(carol.address, 16))
    _request(zk, claim, proof, 1, carol)
    (req,) = op.pending_forced()
    op.run_batch()
    assert zk.rollup.forcedProcessed() == 1
    assert zk.bridge.claimable(carol, token) == most
    assert op.state.account(0).balance == most
    _mine_to(chain, req.deadline + 1)
    assert not zk.rollup.frozen()


# ------------------------------------------------------------------ dishonest batches


def _two_requests(zk, exit_prover, state, alice, bob):
    reqs = []
    for key, leaf, who in ((ALICE_KEY, 0, alice), (BOB_KEY, 1, bob)):
        claim, proof = _authorise(zk, exit_prover, state, key, leaf, int(who.address, 16))
        _request(zk, claim, proof, 1, who)
    reqs = read_forced(zk.rollup.provider.web3, zk.rollup.address, 0, 2)
    assert [r.leaf_index for r in reqs] == [0, 1]
    return reqs


@pytest.mark.slow  # proves several batches (~80 s)
def test_zk_forced_batches_that_skip_or_reorder_requests_refused(
    zk, prover, exit_prover, after_batch0, deployer, alice, bob
):
    state = after_batch0
    first, second = _two_requests(zk, exit_prover, state, alice, bob)
    # Skip the head: serve Bob's request as if it were the first. The circuit is satisfied (it
    # does not know the queue); the contract checks the slot against its queue head.
    skip = _prove(zk, prover, state, forced=(replace(second, queue_index=0),))
    with ape.reverts(zk.rollup.ForcedMismatch, slot=0, index=0):
        submit(zk, skip, deployer)
    # Both, in the wrong order.
    swapped = _prove(
        zk,
        prover,
        state,
        forced=(replace(second, queue_index=0), replace(first, queue_index=1)),
    )
    with ape.reverts(zk.rollup.ForcedMismatch, slot=0, index=0):
        submit(zk, swapped, deployer)
    # The head, but paid to the operator's own address.
    redirected = _prove(zk, prover, state, forced=(replace(first, recipient=MALLORY_L1),))
    with ape.reverts(zk.rollup.ForcedMismatch, slot=0, index=0):
        submit(zk, redirected, deployer)
    assert zk.rollup.forcedProcessed() == 0 and zk.rollup.batchCount() == 1
    # In order, both are accepted.
    honest = _prove(zk, prover, state, forced=(first, second))
    submit(zk, honest, deployer)
    assert zk.rollup.forcedProcessed() == 2
    assert zk.bridge.claimable(alice, ETH) == ALICE_AFTER_0
    assert zk.bridge.claimable(bob, ETH) == BOB_AFTER_0


@pytest.mark.slow  # proves a batch (~30 s)
def test_zk_forced_slot_without_request_cannot_move_funds(zk, prover, after_batch0, deployer):
    """A type-3 slot carries no signature: without a queued request it is refused, so the
    operator cannot empty a leaf to itself."""
    invented = ForcedWithdrawal(0, 0, 0, MALLORY_L1)
    theft = _prove(zk, prover, after_batch0, forced=(invented,))
    with ape.reverts(zk.rollup.ForcedNotQueued, slot=0, queued=0):
        submit(zk, theft, deployer)
    assert zk.bridge.claimable(f"0x{MALLORY_L1:040x}", ETH) == 0


@pytest.mark.slow  # proves a batch
def test_zk_forced_slot_pays_exactly_the_whole_balance(
    zk, prover, exit_prover, alice_forced, deployer, alice
):
    """The operator serves the request but keeps part of the balance on L2 (pays 1 wei less):
    the circuit refuses (a forced slot must empty the leaf), so no proof passes on L1."""
    state, req = alice_forced
    honest = build_batch(PARAMS, state, zk.chain_id, zk.rollup_int, (), (), forced=(req,))
    acct = state.account(0)
    kept = state.with_account(0, replace(acct, balance=1, nonce=acct.nonce + 1))
    record = pubdata.payout_record(req.recipient, 0, acct.balance - 1)
    start = (
        pubdata.HEADER_BYTES
        + PARAMS.n_deposits * pubdata.DEPOSIT_SLOT_BYTES
        + PARAMS.n_txs * PARAMS.slot_bytes
    )
    data = honest.data[:start] + record + honest.data[start + pubdata.RECORD_BYTES :]
    amounts = list(honest.inputs["txAmount"])
    amounts[0] = acct.balance - 1
    rec_amounts = list(honest.inputs["recAmount"])
    rec_amounts[0] = acct.balance - 1
    inputs = {
        **honest.inputs,
        "txAmount": amounts,
        "recAmount": rec_amounts,
        "newRoot": kept.root,
        "dataHash": pubdata.data_hash(data),
    }
    cheat = replace(honest, inputs=inputs, data=data, new_state=replace(kept, batches_done=2))
    proof = prover.prove(inputs)
    assert not prover.verify(proof, cheat.public_inputs)
    with ape.reverts(zk.rollup.InvalidProof):
        submit(zk, Proven(cheat, proof), deployer)
    assert zk.rollup.forcedProcessed() == 0
