# SPDX-License-Identifier: GPL-3.0-or-later
"""Deposit censorship in the zk rollup: anyone starts the inclusion deadline of the queued
deposits (`requestDepositInclusion`); batches must consume them `depositSlots` per `forcedDelay`.
A censoring operator that keeps the liveness clock going with empty batches is frozen at the
deadline (`DEPOSITS_CENSORED`), accepts no batch any more, the depositors are refunded and users
exit; an honest operator facing a flood of deposits is never frozen; requests cannot be spammed
to move a deadline. Batches are proven for real (only L1's checks stop the dishonest ones)."""

from __future__ import annotations

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
    FREEZE_PERIOD,
    MALLORY_KEY,
    PARAMS,
    Proven,
    deposit_first_two,
    submit,
)

from offchain.zk.batch import build_batch
from offchain.zk.batch_runner import ZkBatchRunner as ZkOperator
from offchain.zk.chain import exit_args, read_deposits, refund_args
from offchain.zk.exit import build_exit, sign_exit
from offchain.zk.freeze import FreezeReason, freeze_status
from offchain.zk.prover import prove_checked
from offchain.zk.txs import Deposit, recipient_bytes

ETH = "0x" + "00" * 20
# Carol's three deposits after batch 0: to Alice's leaf, to Bob's leaf, to a new key (leaf 2).
FLOOD = (
    Deposit(2, 0, 2 * 10**17, ALICE_KEY.public_key),
    Deposit(3, 0, 3 * 10**17, BOB_KEY.public_key),
    Deposit(4, 0, 4 * 10**17, MALLORY_KEY.public_key),
)
ALICE_AFTER_0 = ALICE_DEPOSIT - 3 * 10**17
BOB_AFTER_0 = BOB_DEPOSIT + 3 * 10**17 - 10**17


def _prove(zk, prover, state, deposits=()) -> Proven:
    batch = build_batch(PARAMS, state, zk.chain_id, zk.rollup_int, tuple(deposits), ())
    return Proven(batch, prove_checked(prover, batch.inputs, batch.public_inputs))


@pytest.fixture(scope="session")
def empty1(zk, prover, batch0) -> Proven:
    """The censor's batch 1: no deposit, no transaction (keeps the liveness clock going)."""
    return _prove(zk, prover, batch0.batch.new_state)


@pytest.fixture(scope="session")
def late2(zk, prover, empty1) -> Proven:
    """Batch 2 after the censor's empty batch, consuming deposits 2 and 3: valid, but late."""
    return _prove(zk, prover, empty1.batch.new_state, FLOOD[:2])


@pytest.fixture(scope="session")
def flood1(zk, prover, batch0) -> Proven:
    """Batch 1 with full deposit slots: deposits 2 and 3."""
    return _prove(zk, prover, batch0.batch.new_state, FLOOD[:2])


@pytest.fixture(scope="session")
def mallory(accounts):
    return accounts[5]


@pytest.fixture
def flood_queued(zk, batch0, alice, bob, carol, deployer):
    """Batch 0 consumed deposits 0 and 1; Carol queues deposits 2, 3, 4 (more than one batch)."""
    deposit_first_two(zk, alice, bob)
    submit(zk, batch0, deployer)
    for d in FLOOD:
        zk.bridge.depositETH(recipient_bytes(d.pubkey), sender=carol, value=d.amount, gas=FIXED_GAS)
    assert zk.bridge.depositCount() == 5 and zk.rollup.depositsProcessed() == 2
    return batch0.batch.new_state


def _request(zk, sender):
    receipt = zk.rollup.requestDepositInclusion(sender=sender, gas=FIXED_GAS)
    return receipt, receipt.decode_logs(zk.rollup.DepositInclusionRequested)[0]


def _mine_to(chain, timestamp: int) -> None:
    chain.mine(1, timestamp=max(timestamp, chain.pending_timestamp))


def _reason(zk) -> FreezeReason:
    return FreezeReason(zk.rollup.freezeReason())


# ------------------------------------------------------------------ censorship


@pytest.mark.slow  # proves batches
def test_zk_deposit_censor_posting_empty_batches_is_frozen_refunded_and_users_exit(
    zk, exit_prover, flood_queued, empty1, late2, chain, deployer, alice, bob, carol, mallory
):
    receipt, ev = _request(zk, mallory)  # anyone may ask, here a stranger
    t0 = receipt.timestamp
    assert (ev.first, ev.count, ev.requestedAt, ev.requester) == (2, 5, t0, mallory.address)
    # Deposits 2 and 3 (one batch's deposit slots) are due one forcedDelay out, 4 one later.
    assert ev.lastDeadline == t0 + 2 * FORCED_DELAY
    deadlines = [zk.rollup.depositDeadline(i) for i in range(6)]
    assert deadlines == [0, 0, t0 + FORCED_DELAY, t0 + FORCED_DELAY, ev.lastDeadline, 0]
    # The censor keeps posting batches that leave the deposits queued.
    _mine_to(chain, t0 + FORCED_DELAY // 2)
    submit(zk, empty1, deployer)
    assert zk.rollup.batchCount() == 2 and zk.rollup.depositsProcessed() == 2
    _mine_to(chain, t0 + FORCED_DELAY)
    assert not zk.rollup.frozen() and _reason(zk) is FreezeReason.NONE
    # One second past the deadline: frozen, though a batch landed well inside freezePeriod.
    _mine_to(chain, t0 + FORCED_DELAY + 1)
    assert zk.rollup.lastBatchAt() + FREEZE_PERIOD > chain.blocks.head.timestamp
    assert zk.rollup.depositsOverdue() and zk.rollup.frozen()
    assert _reason(zk) is FreezeReason.DEPOSITS_CENSORED
    status = freeze_status(zk.rollup.provider.web3, zk.rollup.address)
    assert status.frozen and status.reason is FreezeReason.DEPOSITS_CENSORED
    assert "deposit 2" in status.detail
    # No batch any more, even the one that serves the deposits now: frozen is final.
    with ape.reverts(zk.rollup.RollupFrozen):
        submit(zk, late2, deployer)
    with ape.reverts(zk.rollup.RollupFrozen):
        zk.rollup.requestDepositInclusion(sender=mallory, gas=FIXED_GAS)
    with ape.reverts(zk.bridge.RollupIsFrozen, rollup=zk.rollup.address):
        zk.bridge.depositETH(
            recipient_bytes(BOB_KEY.public_key), sender=bob, value=1, gas=FIXED_GAS
        )
    # Every censored deposit goes back to who paid it (Carol), whoever calls.
    for dep in read_deposits(zk.rollup.provider.web3, zk.bridge.address, 2, 3):
        zk.rollup.refundDeposit(*refund_args(dep), sender=mallory, gas=FIXED_GAS)
    assert zk.bridge.claimable(carol, ETH) == sum(d.amount for d in FLOOD) + 10**17  # + batch 0
    # Users exit with their balances in the last proven root.
    last = empty1.batch.new_state
    assert last.root == zk.rollup.stateRoot()
    for key, leaf, who, amount in (
        (ALICE_KEY, 0, alice, ALICE_AFTER_0),
        (BOB_KEY, 1, bob, BOB_AFTER_0),
    ):
        sig = sign_exit(key, last, zk.domain, leaf, int(who.address, 16))
        claim = build_exit(last, zk.domain, leaf, int(who.address, 16), sig)
        proof = prove_checked(exit_prover, claim.inputs, claim.public_inputs)
        zk.rollup.exit(*exit_args(claim, proof), sender=who, gas=FIXED_GAS)
        assert zk.bridge.claimable(who, ETH) == amount
    # Everything the bridge holds is owed to someone: the refunds, the exits, batch 0's withdrawal.
    assert zk.bridge.liabilities(ETH) == sum(d.amount for d in FLOOD) + 10**17 + (
        ALICE_AFTER_0 + BOB_AFTER_0
    )
    # The first cause stays the reported one once the liveness clock runs out too.
    _mine_to(chain, zk.rollup.lastBatchAt() + FREEZE_PERIOD + 1)
    assert _reason(zk) is FreezeReason.DEPOSITS_CENSORED


@pytest.mark.slow  # proves a batch
def test_zk_deposit_operator_behind_the_schedule_is_frozen(
    zk, flood_queued, flood1, chain, deployer, mallory
):
    """Consuming the first batch's worth in time is not enough: the next `depositSlots` are due
    one forcedDelay later, and a censor that stops there is frozen then."""
    receipt, ev = _request(zk, mallory)
    t0 = receipt.timestamp
    submit(zk, flood1, deployer)  # deposits 2 and 3: the first group, in time
    assert zk.rollup.depositDeadline(3) == 0 and zk.rollup.depositDeadline(4) == ev.lastDeadline
    _mine_to(chain, t0 + FORCED_DELAY + 1)
    assert not zk.rollup.frozen()
    _mine_to(chain, ev.lastDeadline)
    assert not zk.rollup.frozen()
    _mine_to(chain, ev.lastDeadline + 1)
    assert zk.rollup.frozen() and _reason(zk) is FreezeReason.DEPOSITS_CENSORED


# ------------------------------------------------------------------ honest operator


@pytest.mark.slow  # proves two batches through the operator
def test_zk_deposit_flood_never_freezes_an_honest_operator(
    zk, prover, flood_queued, chain, deployer, carol, mallory, tmp_path
):
    """Three deposits wait, two slots per batch: a deadline of one forcedDelay for all of them
    would be unmeetable at one batch per forcedDelay; spaced, one full batch each time keeps up.
    The operator takes the queue in order, `depositSlots` at a time."""
    receipt, ev = _request(zk, mallory)
    t0 = receipt.timestamp
    assert ev.lastDeadline == t0 + 2 * FORCED_DELAY  # ceil(3 / 2) forcedDelays
    path = tmp_path / "zk-state.json"
    flood_queued.save(path)
    op = ZkOperator(
        chain.provider.web3,
        Account.from_key(deployer.private_key),
        zk.rollup.address,
        zk.bridge.address,
        PARAMS,
        prover,
        state_path=path,
    )
    for step, (deadline, consumed) in enumerate(((t0 + FORCED_DELAY, 4), (ev.lastDeadline, 5))):
        _mine_to(chain, deadline - 30)  # the operator posts one batch per forcedDelay, late
        assert not zk.rollup.frozen(), step
        op.run_batch()
        assert zk.rollup.depositsProcessed() == consumed
        _mine_to(chain, deadline + 1)
        assert not zk.rollup.frozen() and _reason(zk) is FreezeReason.NONE, step
    assert op.state.account(2).balance == FLOOD[2].amount  # the new key got leaf 2
    # Met: nothing is due, nothing left to request; later deposits start a fresh request.
    _mine_to(chain, t0 + 4 * FORCED_DELAY)  # (freezePeriod after the last batch is later)
    assert not zk.rollup.depositsOverdue() and not zk.rollup.frozen()
    with ape.reverts(zk.rollup.NoDepositsWaiting, depositsProcessed=5):
        zk.rollup.requestDepositInclusion(sender=mallory, gas=FIXED_GAS)
    zk.bridge.depositETH(recipient_bytes(BOB_KEY.public_key), sender=carol, value=1, gas=FIXED_GAS)
    receipt, ev = _request(zk, mallory)
    assert (ev.first, ev.count, ev.lastDeadline) == (5, 6, receipt.timestamp + FORCED_DELAY)


# ------------------------------------------------------------------ requests


def test_zk_deposit_request_spam_does_not_move_deadlines(
    zk, batch0, alice, bob, carol, deployer, chain, mallory
):
    with ape.reverts(zk.rollup.NoDepositsWaiting, depositsProcessed=0):
        zk.rollup.requestDepositInclusion(sender=mallory, gas=FIXED_GAS)
    deposit_first_two(zk, alice, bob)
    receipt, ev = _request(zk, mallory)
    t0 = receipt.timestamp
    assert (ev.first, ev.count, ev.lastDeadline) == (0, 2, t0 + FORCED_DELAY)
    recorded = tuple(zk.rollup.depositCheckpoint())
    assert recorded == (0, 2, t0)
    # Asking again (the operator, a user, a spammer; before or after more deposits) is refused
    # and leaves the deadline where it was.
    for who in (deployer, alice, mallory):
        _mine_to(chain, chain.pending_timestamp + 60)
        with ape.reverts(
            zk.rollup.DepositCheckpointPending, count=2, lastDeadline=t0 + FORCED_DELAY
        ):
            zk.rollup.requestDepositInclusion(sender=who, gas=FIXED_GAS)
        zk.bridge.depositETH(
            recipient_bytes(ALICE_KEY.public_key), sender=carol, value=1, gas=FIXED_GAS
        )
    assert tuple(zk.rollup.depositCheckpoint()) == recorded
    assert zk.rollup.depositDeadline(1) == t0 + FORCED_DELAY and zk.rollup.depositDeadline(2) == 0
    # Met by batch 0 before the deadline: a new request covers the later deposits, from now.
    submit(zk, batch0, deployer)
    assert zk.rollup.depositDeadline(1) == 0
    receipt, ev = _request(zk, alice)
    assert (ev.first, ev.count) == (2, 5)
    assert ev.lastDeadline == receipt.timestamp + 2 * FORCED_DELAY
    assert not zk.rollup.frozen()


def test_zk_deposit_unmet_request_freezes_an_idle_operator(zk, alice, bob, chain, mallory):
    deposit_first_two(zk, alice, bob)
    _, ev = _request(zk, mallory)
    _mine_to(chain, ev.lastDeadline)
    assert not zk.rollup.frozen() and not zk.rollup.depositsOverdue()
    _mine_to(chain, ev.lastDeadline + 1)
    assert zk.rollup.frozen() and _reason(zk) is FreezeReason.DEPOSITS_CENSORED
    status = freeze_status(zk.rollup.provider.web3, zk.rollup.address)
    assert status.frozen and status.reason is FreezeReason.DEPOSITS_CENSORED


def test_zk_freeze_reason_is_the_first_cause(zk, alice, bob, chain, mallory):
    """No batch for freezePeriod came first: a request made just before does not change the
    reason (NO_BATCH), and `frozen()` agrees with `freezeReason()` all along."""
    assert _reason(zk) is FreezeReason.NONE and not zk.rollup.frozen()
    status = freeze_status(zk.rollup.provider.web3, zk.rollup.address)
    assert not status.frozen and status.reason is FreezeReason.NONE
    assert "no batch" in status.detail
    deposit_first_two(zk, alice, bob)
    idle = zk.rollup.lastBatchAt() + FREEZE_PERIOD
    _mine_to(chain, idle - FORCED_DELAY // 2)
    _, ev = _request(zk, mallory)
    assert ev.lastDeadline > idle
    status = freeze_status(zk.rollup.provider.web3, zk.rollup.address)
    assert f"deposit 0 due at {ev.lastDeadline}" in status.detail
    _mine_to(chain, idle)
    assert not zk.rollup.frozen()
    _mine_to(chain, idle + 1)
    assert zk.rollup.frozen() and _reason(zk) is FreezeReason.NO_BATCH
    _mine_to(chain, ev.lastDeadline + 1)
    assert zk.rollup.depositsOverdue() and _reason(zk) is FreezeReason.NO_BATCH
