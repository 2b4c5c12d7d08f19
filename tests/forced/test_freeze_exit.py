"""Freeze and emergency exit on Anvil: a censored forced tx -> anyone freezes -> the operator is
locked out -> every user leaves with their exact balance of the last final state (proofs built by
offchain/rollup/exit.py from L1 data alone), unconsumed deposits are refunded, and the bridge
holds exactly what is still owed. Also the liveness and deposit-censorship freezes."""

import os
import re
import subprocess
import sys
from pathlib import Path

import ape
import pytest
from forced_helpers import BOND, CHALLENGE, CHALLENGER, ETH, FORCED_DELAY, LIVENESS, Env, recipient
from support.reverts import call_reverts

from offchain.deployments import Deployment, save_deployment
from offchain.rollup.builder import build_batch
from offchain.rollup.checkpoint import resume
from offchain.rollup.codec import encode_batch
from offchain.rollup.exit import (
    ExitError,
    FreezeReason,
    exit_claims,
    exit_plan,
    exit_state,
    freeze_status,
    read_frozen,
)
from offchain.rollup.merkle import EMPTY_ROOT
from offchain.rollup.types import Commitment, Transfer
from offchain.rollup.wallet import sign_transfer, sign_withdraw

E17 = 10**17
USERS = (1, 2, 3, 5, 6, 7)
FREEZER = 8


def _censoring_post(env: Env, op, txs):
    """The operator posts every deposit and `txs` but never the forced queue."""
    queue = env.l1.deposit_queue()
    batch, state = build_batch(op.state, queue[op.state.deposit_end :], txs)
    op.post(batch, state)


@pytest.mark.slow  # waits out the forced deadline
def test_ignored_forced_tx_freeze_and_everyone_exits(env: Env, accounts):
    dst = env.dst
    env.bond(0)
    env.register(1, 2, 3)
    for i in (1, 2, 3):
        env.deposit_eth(i, 10**18)  # deposits 0..2 -> accounts 0..2
    op = env.operator()
    op.step([])  # batch 0
    op.step(
        [
            sign_transfer(env.bls(1), dst, 0, 1, 2 * E17, 0, 0),
            sign_withdraw(env.bls(3), dst, 2, 10**18, 0, 0),  # account 2 empties itself
        ]
    )  # batch 1
    env.force(1, Transfer(0, 2, E17, 0))  # the operator ignores it
    env.deposit_eth(5, 5 * E17)  # deposit 3 -> account 3
    _censoring_post(env, op, [sign_transfer(env.bls(2), dst, 1, 0, E17, 0, 0)])  # batch 2
    with ape.reverts(env.rollup.NotFreezable):
        env.rollup.freeze(sender=accounts[FREEZER])
    assert not freeze_status(env.l1).can_freeze
    call_reverts(
        env.rollup, "NotFrozen", "exitFrozen", 0, bytes(60), bytes(768), sender=accounts[1]
    )
    call_reverts(
        env.rollup,
        "NotFrozen",
        "refundDeposit",
        0,
        ETH,
        10**18,
        recipient(env.addr(1)),
        sender=accounts[1],
    )
    with pytest.raises(ExitError, match="not frozen"):
        read_frozen(env.l1)

    env.advance(FORCED_DELAY + 1)  # batches 0..2 final; the forced tx is overdue
    env.deposit_eth(6, 7 * E17)  # deposit 4: consumed only by the discarded batch 3
    _censoring_post(env, op, [])  # batch 3, not final at the freeze
    env.deposit_eth(7, 2 * E17)  # deposit 5: never consumed
    # checkpoints a validator made before the freeze: after batch 1, and after batch 3 (which
    # the freeze discards)
    _, ck2 = resume(env.l1, dst, None, count=2)
    _, ck4 = resume(env.l1, dst, ck2)
    assert (ck2.batches, ck4.batches) == (2, 4)
    status = freeze_status(env.l1)
    assert status.can_freeze and status.reason is FreezeReason.FORCED_TX_EXPIRED
    receipt = env.rollup.freeze(sender=accounts[FREEZER])
    ev = receipt.events[0]
    assert (ev.reason, ev.batchCount, ev.depositEnd, ev.forcedEnd) == (1, 3, 4, 0)
    assert receipt.events[1].fromIndex == 3 and receipt.events[1].toIndex == 4
    assert env.rollup.frozen() and env.rollup.batchCount() == 3
    # final batches 0..2 release their bonds; discarded batch 3 keeps its bond locked until its
    # own challenge window ends (it could still be proven fraudulent), then releases it
    env.rollup.withdrawBond(3 * BOND, accounts[0], sender=accounts[0])
    call_reverts(env.rollup, "BondLocked", "withdrawBond", 1, accounts[0], sender=accounts[0])
    assert env.rollup.isDisputable(3) and env.rollup.lockedBondOf(accounts[0]) == BOND

    # the operator (and everyone else) is locked out
    root = env.rollup.frozenRoot()
    call_reverts(
        env.rollup,
        "Frozen",
        "postBatch",
        root,
        encode_batch([Commitment(root, 4, 0, 0)]),
        sender=accounts[0],
    )
    with ape.reverts(env.rollup.BatchFinal):  # final batches stay final
        env.rollup.proveFraud(
            (0, [], 0, (root, 0, 0, root), root, 0, 0, b"", [], b"", []),
            sender=accounts[CHALLENGER],
        )
    call_reverts(env.rollup, "Frozen", "forceTransaction", b"", sender=accounts[1])
    with ape.reverts(env.rollup.Frozen):
        env.rollup.requestDepositInclusion(sender=accounts[1])
    with ape.reverts(env.rollup.Frozen):
        env.rollup.freeze(sender=accounts[FREEZER])
    assert freeze_status(env.l1).frozen

    # an exit from a checkpoint is the exit from genesis; one past the freeze is refused
    for u in USERS:
        assert exit_plan(env.l1, env.addr(u), ck2) == exit_plan(env.l1, env.addr(u))
    with pytest.raises(ExitError, match="refused: batch 3 is no longer live"):
        exit_plan(env.l1, None, ck4)

    # every user exits from L1 data alone
    expected_exit = {1: 9 * E17, 2: 11 * E17, 3: 0, 5: 5 * E17, 6: 0, 7: 0}
    expected_refund = {1: 0, 2: 0, 3: 0, 5: 0, 6: 7 * E17, 7: 2 * E17}
    for u in USERS:
        plan = exit_plan(env.l1, env.addr(u))
        assert sum(c.amount for c in plan.exits) == expected_exit[u]
        assert sum(c.amount for c in plan.refunds) == expected_refund[u]
        for c in plan.exits:
            env.signer(FREEZER).send(env.l1.rollup.functions.exitFrozen(*c.as_args()))
        for c in plan.refunds:
            env.signer(FREEZER).send(env.l1.rollup.functions.refundDeposit(*c.as_args()))
        assert env.eth_claimable(u) == expected_exit[u] + expected_refund[u]
        assert exit_plan(env.l1, env.addr(u)).exits == ()  # nothing left to claim

    # double exit, forged leaves, aliased index, zero balance, refunds: all rejected
    frozen = read_frozen(env.l1)
    state = exit_state(
        env.l1.posted_batches(), env.l1.deposit_queue(), env.l1.forced_queue(), dst, frozen
    )
    first = next(c for c in exit_claims(state) if c.account_index == 0)
    with ape.reverts(env.bridge.AlreadyReleased):
        env.rollup.exitFrozen(*first.as_args(), sender=accounts[1])
    idx, leaf, sibs = first.as_args()
    richer = leaf[:40] + (10**19).to_bytes(16, "big") + leaf[56:]
    call_reverts(env.rollup, "BadAccountProof", "exitFrozen", idx, richer, sibs, sender=accounts[1])
    call_reverts(
        env.rollup, "BadAccountProof", "exitFrozen", idx + (1 << 24), leaf, sibs, sender=accounts[1]
    )
    call_reverts(
        env.rollup, "BadAccountProof", "exitFrozen", idx, leaf[:-1], sibs, sender=accounts[1]
    )
    call_reverts(
        env.rollup,
        "BadAccountProof",
        "exitFrozen",
        5,
        bytes(60),
        b"".join(state.tree.proof(5)),
        sender=accounts[1],
    )
    empty = state.account(2)
    call_reverts(
        env.rollup,
        "NothingToWithdraw",
        "exitFrozen",
        2,
        empty.packed(),
        b"".join(state.tree.proof(2)),
        sender=accounts[3],
    )
    queue = env.l1.deposit_queue()
    d0, d5 = queue[0], queue[5]
    call_reverts(
        env.rollup,
        "DepositConsumed",
        "refundDeposit",
        0,
        ETH,
        d0.amount,
        recipient(d0.owner),
        sender=accounts[1],
    )
    with ape.reverts(env.bridge.AlreadyReleased):
        env.rollup.refundDeposit(5, ETH, d5.amount, recipient(d5.owner), sender=accounts[7])
    call_reverts(
        env.rollup,
        "DepositEvidenceMismatch",
        "refundDeposit",
        5,
        ETH,
        d5.amount + 1,
        recipient(d5.owner),
        sender=accounts[7],
    )
    call_reverts(
        env.rollup,
        "DepositEvidenceMismatch",
        "refundDeposit",
        6,
        ETH,
        1,
        recipient(d5.owner),
        sender=accounts[7],
    )
    call_reverts(
        env.rollup,
        "DepositEvidenceMismatch",
        "refundDeposit",
        5,
        ETH,
        d5.amount,
        recipient(d5.owner)[:20],
        sender=accounts[7],
    )

    # the withdrawal of a final batch is still payable after the freeze
    claims = env.validator().check().withdrawals
    assert [c.amount for c in claims] == [10**18]
    env.signer(3).send(env.l1.rollup.functions.finalizeWithdrawal(claims[0].as_abi()))
    assert env.eth_claimable(3) == 10**18

    # conservation: the bridge owes exactly exits + refunds + withdrawals, and holds it
    owed = env.bridge.liabilities(ETH)
    total_deposits = sum(d.amount for d in queue)
    paid = sum(expected_exit.values()) + sum(expected_refund.values()) + 10**18
    assert owed == total_deposits == paid == sum(env.eth_claimable(u) for u in USERS)
    assert env.w3.eth.get_balance(env.bridge.address) == owed
    for u in USERS:
        if env.eth_claimable(u):
            env.bridge.claim(ETH, accounts[u], sender=accounts[u])
    assert env.bridge.liabilities(ETH) == 0
    assert env.w3.eth.get_balance(env.bridge.address) == 0


def test_liveness_freeze(env: Env, accounts):
    start = env.rollup.deployedAt()
    assert env.rollup.lastFinalizationTime() == start
    env.deposit_eth(1, 10**18)
    env.advance(LIVENESS - 60)
    with ape.reverts(env.rollup.NotFreezable):
        env.rollup.freeze(sender=accounts[FREEZER])
    env.advance(120)
    assert freeze_status(env.l1).reason is FreezeReason.NO_FINALIZATION
    receipt = env.rollup.freeze(sender=accounts[FREEZER])
    assert receipt.events[0].reason == FreezeReason.NO_FINALIZATION
    assert env.rollup.frozenRoot() == EMPTY_ROOT
    plan = exit_plan(env.l1, env.addr(1))
    assert plan.exits == () and [r.amount for r in plan.refunds] == [10**18]
    env.signer(1).send(env.l1.rollup.functions.refundDeposit(*plan.refunds[0].as_args()))
    assert env.eth_claimable(1) == 10**18


def test_liveness_clock_restarts_at_each_finalization(env: Env, accounts):
    env.bond(0)
    env.deposit_eth(1, 10**18)
    op = env.operator()
    receipt = op.step([])[1]
    posted_at = env.w3.eth.get_block(receipt["blockNumber"])["timestamp"]
    env.advance(CHALLENGE)
    assert env.rollup.lastFinalizationTime() == posted_at + CHALLENGE
    env.advance(LIVENESS - 60)
    with ape.reverts(env.rollup.NotFreezable):
        env.rollup.freeze(sender=accounts[FREEZER])
    env.advance(120)
    env.rollup.freeze(sender=accounts[FREEZER])
    assert env.rollup.frozenRoot() == op.state.root and env.rollup.frozenDepositEnd() == 1


def test_deposit_censorship_freeze(env: Env, accounts):
    env.bond(0)
    env.deposit_eth(1, 10**18)
    op = env.operator()
    op.step([])
    with ape.reverts(env.rollup.NoDepositsWaiting):
        env.rollup.requestDepositInclusion(sender=accounts[5])
    # an honoured request: no freeze
    env.deposit_eth(2, 10**18)
    env.rollup.requestDepositInclusion(sender=accounts[5])
    op.step([])
    env.advance(FORCED_DELAY + 1)
    assert env.rollup.freezeReason() == FreezeReason.NONE
    # an ignored request: freeze
    env.deposit_eth(5, 3 * E17)
    receipt = env.rollup.requestDepositInclusion(sender=accounts[5])
    assert receipt.events[0].depositCount == 3
    with ape.reverts(env.rollup.CheckpointPending):
        env.rollup.requestDepositInclusion(sender=accounts[6])
    env.deposit_eth(6, 4 * E17)
    assert op.state.deposit_end == 2  # the operator posts nothing more
    env.advance(FORCED_DELAY - 60)
    with ape.reverts(env.rollup.NotFreezable):
        env.rollup.freeze(sender=accounts[FREEZER])
    env.advance(120)
    assert freeze_status(env.l1).reason is FreezeReason.DEPOSITS_CENSORED
    receipt = env.rollup.freeze(sender=accounts[FREEZER])
    assert receipt.events[0].reason == FreezeReason.DEPOSITS_CENSORED
    for u, amount in ((5, 3 * E17), (6, 4 * E17)):
        plan = exit_plan(env.l1, env.addr(u))
        assert [r.amount for r in plan.refunds] == [amount]
        env.signer(u).send(env.l1.rollup.functions.refundDeposit(*plan.refunds[0].as_args()))
        assert env.eth_claimable(u) == amount


@pytest.mark.slow  # runs the exit script
def test_exit_script_freezes_and_refunds(env: Env, chain, tmp_path):
    """`ape run exit --owner .. --send` against this test's node: freeze, then refund."""
    env.deposit_eth(1, 3 * E17)
    env.advance(LIVENESS + 1)
    save_deployment(
        Deployment(
            chain_id=chain.chain_id,
            network="ethereum:local",
            block=0,
            contracts={"Rollup": env.rollup.address, "RollupBridge": env.bridge.address},
        ),
        tmp_path,
    )
    run = dict(os.environ, L2KIT_DEPLOYMENTS=str(tmp_path), APE_FOUNDRY_HOST=chain.provider.uri)
    ape_bin = str(Path(sys.executable).with_name("ape"))
    result = subprocess.run(
        [ape_bin, "run", "exit", "--owner", env.accounts[1].address, "--send"],
        cwd=Path(__file__).resolve().parents[2],
        env=run,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "freezable now (NO_FINALIZATION)" in result.stdout, result.stdout
    assert re.search(r"refund\s+deposit\s+0 .* amount 300000000000000000", result.stdout)
    assert env.rollup.frozen()
    assert env.eth_claimable(1) == 3 * E17
