"""The Security Council's pause on the real optimistic Rollup, behind its proxy as `deploy_all`
deploys it (docs/governance.md §3): posting stops with PostingIsPaused; exits, forced txs,
freezes, fraud proofs, withdrawals, refunds, claims and free-bond withdrawals all go on; the pause
is bounded, once per timelocked re-arm, and refused in Stage 2 mode."""

from __future__ import annotations

from dataclasses import replace

import ape
import pytest
from gov_helpers import advance, council_call, execute, schedule
from support.reverts import call_reverts
from support.rollup_env import ETH, deploy_env

from offchain.governance.deploy import GovernanceParams
from offchain.governance.wiring import dev_setup
from offchain.rollup.builder import build_batch
from offchain.rollup.codec import encode_batch
from offchain.rollup.exit import exit_plan
from offchain.rollup.types import Commitment, Transfer
from offchain.rollup.wallet import sign_transfer, sign_withdraw

BOND = 10**18
CHALLENGE = 100
FORCED = 300
LIVENESS = 1000
MAX_PAUSE = FORCED // 2  # offchain.deploy.rollup_max_pause
E17 = 10**17
CHEATER, FREEZER = 4, 8


def _env(project, deployer, accounts, chain, stage2: bool):
    gov = replace(
        dev_setup(deployer.address), params=GovernanceParams(pause_needs_proven_bug=stage2)
    )
    return deploy_env(
        project,
        deployer,
        accounts,
        chain,
        bond=BOND,
        challenge_period=CHALLENGE,
        forced_delay=FORCED,
        liveness_period=LIVENESS,
        governance=gov,
    )


@pytest.fixture
def env(project, deployer, accounts, chain):
    return _env(project, deployer, accounts, chain, stage2=False)


def _council(project, env):
    return project.SecurityCouncil.at(env.deployment.address("SecurityCouncil"))


def _gov(project, env):
    return project.RollupGovernor.at(env.rollup.address)


def _pause(project, chain, env, sender, duration: int = MAX_PAUSE):
    g = _gov(project, env)
    return council_call(
        chain, _council(project, env), sender, g, g.pausePosting.encode_input(duration)
    )


def _post_empty(rollup, sender) -> None:
    root, deposit_end, forced_end = rollup.head()
    data = encode_batch([Commitment(bytes(root), deposit_end, forced_end, 0)])
    rollup.postBatch(bytes(root), data, sender=sender, gas=2_000_000)


def test_a_paused_rollup_lets_everyone_exit_prove_and_claim(project, chain, accounts, env):
    g, r, dst = _gov(project, env), env.rollup, env.dst
    assert g.pauseConfig() == (env.deployment.address("SecurityCouncil"), MAX_PAUSE, False)
    env.bond(0, 3 * BOND)
    env.bond(CHEATER, 2 * BOND)
    env.register(1, 2)
    for i in (1, 2):
        env.deposit_eth(i, 10**18)  # accounts 0, 1
    op = env.operator()
    op.step([])  # batch 0
    op.step([sign_withdraw(env.bls(2), dst, 1, 5 * E17, 0, 0)])  # batch 1
    env.force(1, Transfer(0, 1, E17, 0))  # queued now: its deadline runs through the pause
    advance(chain, 2 * CHALLENGE)  # batches 0 and 1 final
    # a cheater posts a batch whose signature is made for another nonce
    bad = sign_transfer(env.bls(1), dst, 0, 1, 10, 0, 7)
    built, _ = build_batch(op.state, [], [bad])
    data = encode_batch([built.commitments[0].commitment])
    root = op.state.root
    env.signer(CHEATER).send(env.l1.rollup.functions.postBatch(root, data))  # batch 2
    assert r.batchCount() == 3

    receipt = _pause(project, chain, env, accounts[0])
    [ev] = receipt.events.filter(g.PostingPaused)
    assert ev.by == env.deployment.address("SecurityCouncil")
    until = ev.until
    assert g.postingPaused() and g.pausedUntil() == until and not g.pauseArmed()

    # posting stops, whatever the entry point
    empty = encode_batch([Commitment(root, 2, 0, 0)])
    call_reverts(r, "PostingIsPaused", "postBatch", root, empty, sender=accounts[0])
    call_reverts(
        r, "PostingIsPaused", "postBlobBatches", root, b"\x01" + bytes(68), sender=accounts[0]
    )
    # a fraud proof still rolls the cheater's batch back
    result, proof = env.validator().challenge()
    assert result.fraud is not None and result.fraud.is_signature_fraud and proof is not None
    assert r.batchCount() == 2 and r.bondOf(accounts[CHEATER]) == BOND
    # withdrawals of final batches are paid, and claimed from the bridge
    claim = env.validator().check().withdrawals[0]
    r.finalizeWithdrawal(claim.as_abi(), sender=accounts[5])
    before = accounts[2].balance
    env.bridge.claim(ETH, accounts[2], sender=accounts[2], gas_price=0)
    assert accounts[2].balance == before + 5 * E17
    # free bond comes out; forced txs and deposit checkpoints are still accepted
    r.withdrawBond(BOND, accounts[0], sender=accounts[0])
    env.force(2, Transfer(1, 0, E17, 0))
    env.deposit_eth(3, 3 * E17)  # deposit 2, never consumed: refunded after the freeze
    r.requestDepositInclusion(sender=accounts[3])
    # the first forced tx's deadline passes while the pause still runs: anyone freezes
    advance(chain, FORCED - 2 * CHALLENGE + 1)
    assert g.postingPaused()
    r.freeze(sender=accounts[FREEZER])
    assert r.frozen()
    for u in (1, 2, 3):
        plan = exit_plan(env.l1, env.addr(u))
        for c in plan.exits:
            env.signer(FREEZER).send(env.l1.rollup.functions.exitFrozen(*c.as_args()))
        for c in plan.refunds:
            env.signer(FREEZER).send(env.l1.rollup.functions.refundDeposit(*c.as_args()))
    assert g.postingPaused()
    assert env.eth_claimable(1) == 10**18  # account 0: every forced/bad transfer undone
    assert env.eth_claimable(2) == 5 * E17  # account 1: what it did not withdraw
    assert env.eth_claimable(3) == 3 * E17  # the refunded deposit
    before = accounts[1].balance
    env.bridge.claim(ETH, accounts[1], sender=accounts[1], gas_price=0)
    assert accounts[1].balance == before + 10**18


def test_the_pause_is_the_councils_bounded_and_once_per_rearm(
    project, chain, accounts, deployer, env
):
    g, r = _gov(project, env), env.rollup
    council = _council(project, env)
    for sender in (deployer, accounts[5]):
        with ape.reverts(g.NotAuthorized):
            g.pausePosting(10, sender=sender)
        with ape.reverts(g.NotAuthorized):
            g.rearmPause(sender=sender)
    for duration in (0, MAX_PAUSE + 1):
        with ape.reverts():
            council_call(chain, council, deployer, g, g.pausePosting.encode_input(duration))
    _pause(project, chain, env, deployer, 60)
    with ape.reverts():  # PostingIsPaused: a running pause cannot be extended
        _pause(project, chain, env, deployer, 60)
    receipt = council_call(chain, council, deployer, g, g.unpausePosting.encode_input())
    assert len(list(receipt.events.filter(g.PostingUnpaused))) == 1
    assert not g.postingPaused()
    env.bond(0, 2 * BOND)
    _post_empty(r, accounts[0])  # posting works again
    with ape.reverts():  # PauseNotArmed: one pause per timelocked re-arm
        _pause(project, chain, env, deployer, 60)
    timelock = project.ExitWindowTimelock.at(env.deployment.address("Timelock"))
    data = g.rearmPause.encode_input()
    delay = timelock.getMinDelay()
    schedule(timelock, deployer, g, data, delay)
    advance(chain, delay)
    tx = execute(timelock, deployer, g, data)
    assert len(list(tx.events.filter(g.PauseRearmed))) == 1 and g.pauseArmed()
    _pause(project, chain, env, deployer, 30)
    advance(chain, 31)
    assert not g.postingPaused()  # it ended by itself
    _post_empty(r, accounts[0])
    # the forced-inclusion delay can never drop to the pause's length (P4)
    data = g.setForcedInclusionDelay.encode_input(MAX_PAUSE)
    schedule(timelock, deployer, g, data, timelock.getMinDelay())
    advance(chain, timelock.getMinDelay())
    with ape.reverts(r.BadParameter):
        execute(timelock, deployer, g, data)


def test_stage2_mode_refuses_every_pause(project, chain, accounts, deployer):
    env = _env(project, deployer, accounts, chain, stage2=True)
    g = _gov(project, env)
    assert g.pauseConfig()[2]
    with ape.reverts():  # NoProvenBug: the optimistic rollup has no proven-bug evidence yet
        _pause(project, chain, env, deployer, 10)
    assert not g.postingPaused() and g.pauseArmed()
