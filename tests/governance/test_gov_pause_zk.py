"""The Security Council's pause on the real ZkRollup behind its proxy (docs/governance.md §2.4, §3):
`submitBatch` stops with PostingIsPaused; forced withdrawals, deposit requests, freezes, exits,
refunds and claims go on; the pause is bounded and once per timelocked re-arm; in Stage 2 mode it
needs an on-chain proven bug, which anyone shows with two proofs the current verifier accepts for
contradictory statements, and which replacing that verifier through the timelock clears.

The wired deployment's verifier accepts every proof (tests/governance/wired_helpers.py): an unsound
verifier, so it is what a proven bug looks like. OneStatementVerifier stands for a sound one."""

from __future__ import annotations

import ape
import pytest
from eth_abi import encode
from eth_utils import keccak
from gov_helpers import advance, execute, schedule, sign_call
from support.reverts import call_reverts, error_selectors
from wired_helpers import (
    BJJ,
    ETH,
    FORCED,
    FREEZE,
    GENESIS,
    MAX_PAUSE,
    PROOF,
    bjj_recipient,
    deploy_wired,
    deposit_struct,
    empty_batch,
    zk_constructor_args,
    zk_pause,
)

from offchain.chain import abi_of
from offchain.governance.wiring import deploy_proxied

E = 10**18
R = 21888242871839275222246405745257275088548364400416034343698204186575808495617
OTHER_PROOF = [1] * 8


@pytest.fixture
def stage1(project, deployer, proposer):
    return deploy_wired(project, deployer, proposer, zk_stage2=False)


@pytest.fixture
def stage2(project, deployer, proposer):
    return deploy_wired(project, deployer, proposer)


def _pause_data(zk, duration: int) -> bytes:
    return zk.pausePosting.encode_input(duration)


def _council_pause(chain, w, sender, duration: int = MAX_PAUSE):
    data = _pause_data(w.zk.contract, duration)
    deadline, sigs = sign_call(chain, w.council, w.zk.contract.address, data)
    return w.council.execute(w.zk.contract, data, deadline, sigs, sender=sender)


def _council_pause_refused(chain, w, sender, error: str, duration: int = MAX_PAUSE) -> None:
    """The council's pause call reverts CallFailed, wrapping the rollup's `error`."""
    zk = w.zk.contract
    data = _pause_data(zk, duration)
    deadline, sigs = sign_call(chain, w.council, zk.address, data)
    call = w.council.execute.encode_input(zk.address, data, deadline, sigs)
    tx = {"from": sender.address, "to": w.council.address, "data": call}
    try:
        chain.provider.web3.eth.call(tx)
    except Exception as e:  # web3 raises ContractCustomError with the revert data
        revert = bytes.fromhex(str(e.args[0])[2:])
    else:
        raise AssertionError(f"the council's pause did not revert (expected {error})")
    assert revert[:4] == error_selectors(abi_of("SecurityCouncil"))["CallFailed"]
    inner = error_selectors(abi_of("ZkRollup"))[error]
    assert revert[4 + 64 : 4 + 64 + 4] == inner, f"inner revert {revert[68:72].hex()}, not {error}"


def _run(chain, w, proposer, target, data: bytes) -> None:
    delay = w.timelock.getMinDelay()
    schedule(w.timelock, proposer, target, data, delay)
    advance(chain, delay + 1)
    execute(w.timelock, proposer, target, data)


def _credit_alice_and_bob(w, deployer, accounts):
    alice, bob, carol = accounts[6:9]
    zkb, zk = w.zk_bridge.contract, w.zk.contract
    amounts = {alice: 1 * E, bob: 2 * E, carol: 3 * E}
    for u, a in amounts.items():
        zkb.depositETH(bjj_recipient(), value=a, sender=u)
    # leaves 0 and 1 credited; carol's deposit stays queued
    empty_batch(zk, deployer, [deposit_struct(0, amounts[alice]), deposit_struct(1, amounts[bob])])
    return alice, bob, carol, amounts


def test_a_pause_stops_only_posting(project, chain, deployer, accounts, stage1):
    w, zk = stage1, stage1.zk.contract
    alice, _, carol, amounts = _credit_alice_and_bob(w, deployer, accounts)
    assert zk.pauseConfig() == (w.council.address, MAX_PAUSE, False)
    tx = _council_pause(chain, w, deployer)
    until = chain.blocks.head.timestamp + MAX_PAUSE
    assert [(e.event_name, e.until) for e in tx.events if e.event_name == "PostingPaused"] == [
        ("PostingPaused", until)
    ]
    assert zk.postingPaused() and zk.pausedUntil() == until and not zk.pauseArmed()
    tx_data = b"\x00" * (4 * zk.slotBytes())
    call_reverts(zk, "PostingIsPaused", "submitBatch", 7, [], tx_data, PROOF, sender=deployer)
    # what users do goes on: a forced withdrawal, a deposit-inclusion request
    zk.requestForcedWithdrawal(0, ETH, amounts[alice], alice, 1, PROOF, sender=alice)
    requested_at = chain.blocks.head.timestamp
    zk.requestDepositInclusion(sender=carol)
    # the freeze clock runs through the pause: the request falls due FORCED after it was made
    assert zk.forcedRequest(0).deadline == requested_at + FORCED
    # the pause ends by itself; posting works again
    advance(chain, MAX_PAUSE)
    assert not zk.postingPaused()
    empty_batch(zk, deployer)
    assert zk.batchCount() == 2


def test_a_paused_frozen_zk_rollup_pays_every_exit_refund_and_claim(
    project, chain, deployer, accounts, stage1
):
    w, zk, zkb = stage1, stage1.zk.contract, stage1.zk_bridge.contract
    alice, bob, carol, amounts = _credit_alice_and_bob(w, deployer, accounts)
    zk.requestForcedWithdrawal(0, ETH, amounts[alice], alice, 1, PROOF, sender=alice)
    advance(chain, FORCED + 1)
    assert zk.frozen()
    _council_pause(chain, w, deployer)
    assert zk.postingPaused()
    zk.exit(0, ETH, amounts[alice], alice, PROOF, sender=alice)
    zk.exit(1, ETH, amounts[bob], bob, PROOF, sender=bob)
    zk.refundDeposit(2, ETH, amounts[carol], BJJ[0], BJJ[1], sender=carol)
    for u, a in amounts.items():
        before = u.balance
        tx = zkb.claim(ETH, u, sender=u)
        assert u.balance == before + a - tx.total_fees_paid
    assert zk.postingPaused() and zkb.balance == 0


def test_the_pause_is_the_councils_bounded_and_once_per_rearm(
    project, chain, deployer, proposer, attacker, stage1
):
    w, zk = stage1, stage1.zk.contract
    with ape.reverts(zk.NotAuthorized):
        zk.pausePosting(10, sender=attacker)
    with ape.reverts(zk.NotAuthorized):
        zk.rearmPause(sender=attacker)
    _council_pause_refused(chain, w, deployer, "BadPauseDuration", 0)
    _council_pause_refused(chain, w, deployer, "BadPauseDuration", MAX_PAUSE + 1)
    # a re-arm scheduled earlier lands during a pause: the running pause still cannot be extended
    rearm = zk.rearmPause.encode_input()
    delay = w.timelock.getMinDelay()
    schedule(w.timelock, proposer, zk, rearm, delay)
    advance(chain, delay - 60)
    _council_pause(chain, w, deployer, 100)
    _council_pause_refused(chain, w, deployer, "PauseNotArmed", 100)  # one pause per re-arm
    advance(chain, 61)
    execute(w.timelock, proposer, zk, rearm)
    assert zk.postingPaused() and zk.pauseArmed()
    _council_pause_refused(chain, w, deployer, "PostingIsPaused", 100)  # no extension
    with ape.reverts(zk.NotAuthorized):
        zk.unpausePosting(sender=attacker)
    data = zk.unpausePosting.encode_input()
    deadline, sigs = sign_call(chain, w.council, zk.address, data)
    tx = w.council.execute(zk, data, deadline, sigs, sender=deployer)
    assert [e.event_name for e in tx.events if e.event_name == "PostingUnpaused"] == [
        "PostingUnpaused"
    ]
    assert not zk.postingPaused()
    call_reverts(zk, "PostingNotPaused", "unpausePosting", sender=w.council.address)
    # the re-arm gave one more pause, and only one
    _council_pause(chain, w, deployer, 100)
    _council_pause_refused(chain, w, deployer, "PauseNotArmed", 100)
    salt = b"\x01" * 32  # the first re-arm's operation id is spent
    schedule(w.timelock, proposer, zk, rearm, delay, salt)
    advance(chain, delay + 1)
    execute(w.timelock, proposer, zk, rearm, salt)
    assert zk.pauseArmed() and not zk.postingPaused()
    _council_pause(chain, w, deployer, 100)
    assert zk.postingPaused()


def test_the_freeze_period_stays_above_the_longest_pause(chain, proposer, stage1):
    w, zk = stage1, stage1.zk.contract
    data = zk.setFreezePeriod.encode_input(MAX_PAUSE)
    delay = w.timelock.getMinDelay()
    schedule(w.timelock, proposer, zk, data, delay)
    advance(chain, delay + 1)
    with ape.reverts():  # the timelock's call reverts InvalidConfig
        execute(w.timelock, proposer, zk, data)
    assert zk.freezePeriod() == FREEZE


def test_stage2_pause_needs_a_proven_conflict_and_a_fixed_verifier_clears_it(
    project, chain, deployer, proposer, attacker, stage2
):
    w, zk = stage2, stage2.zk.contract
    assert zk.pauseConfig()[2] and not zk.provenBug()
    _council_pause_refused(chain, w, deployer, "NoProvenBug")
    # anyone shows the batch verifier accepting two new roots for one transition
    tx = zk.proveBatchConflict(GENESIS, 99, 5, PROOF, 6, OTHER_PROOF, sender=attacker)
    [ev] = [e for e in tx.events if e.event_name == "BatchConflictProven"]
    assert (ev.by, ev.verifier, ev.oldRoot, ev.dataHash, ev.rootA, ev.rootB) == (
        attacker.address,
        w.verifier.address,
        GENESIS,
        99,
        5,
        6,
    )
    assert zk.provenBug()
    _council_pause(chain, w, deployer)
    assert zk.postingPaused()
    # the timelock installs a fixed verifier: the evidence no longer stands
    fixed = deployer.deploy(project.AcceptingVerifier)
    _run(chain, w, proposer, zk, zk.setBatchVerifier.encode_input(fixed))
    assert not zk.provenBug()
    _run(chain, w, proposer, zk, zk.rearmPause.encode_input())
    _council_pause_refused(chain, w, deployer, "NoProvenBug")
    # an exit-verifier conflict counts too (the exit verifier was not replaced)
    tx = zk.proveExitConflict(
        GENESIS, (3 << 160) | 0, 1, attacker, PROOF, 2, attacker, OTHER_PROOF, sender=attacker
    )
    assert [e.event_name for e in tx.events if e.event_name == "ExitConflictProven"] == [
        "ExitConflictProven"
    ]
    assert zk.provenBug()
    _council_pause(chain, w, deployer)
    assert zk.postingPaused()


def test_one_honest_proof_cannot_fake_a_conflict(project, chain, deployer, attacker, stage2):
    """Against a sound verifier (one known statement), every way to reuse its honest proof is
    refused: the same root twice, the root + R (the same field element), a second root."""
    w = stage2
    old, root, data_hash = GENESIS, 12345, 777
    statement = keccak(encode(["uint256[8]", "uint256[]"], [PROOF, [old, root, data_hash]]))
    sound = deployer.deploy(project.OneStatementVerifier, statement)
    zk = deploy_proxied(
        project,
        deployer,
        project.ZkRollup,
        w.timelock.address,
        zk_constructor_args(w.zk_bridge.contract, sound),
        (w.timelock.address, sound, sound, GENESIS, FREEZE, zk_pause(w.council.address)),
    ).contract
    args = (old, data_hash, root, PROOF)
    call_reverts(zk, "NoConflict", "proveBatchConflict", *args, root, PROOF, sender=attacker)
    call_reverts(zk, "NotInField", "proveBatchConflict", *args, root + R, PROOF, sender=attacker)
    call_reverts(
        zk,
        "NotInField",
        "proveBatchConflict",
        old,
        data_hash,
        root + R,
        PROOF,
        root,
        PROOF,
        sender=attacker,
    )
    call_reverts(zk, "InvalidProof", "proveBatchConflict", *args, root + 1, PROOF, sender=attacker)
    call_reverts(
        zk, "InvalidProof", "proveBatchConflict", *args, root + 1, OTHER_PROOF, sender=attacker
    )
    # the exit side: equal balances, a balance outside the field, proofs the verifier refuses
    leaf = (0 << 160) | 0
    call_reverts(
        zk,
        "NoConflict",
        "proveExitConflict",
        old,
        leaf,
        5,
        attacker,
        PROOF,
        5,
        attacker,
        PROOF,
        sender=attacker,
    )
    call_reverts(
        zk,
        "NotInField",
        "proveExitConflict",
        old,
        leaf,
        5,
        attacker,
        PROOF,
        5 + R,
        attacker,
        PROOF,
        sender=attacker,
    )
    call_reverts(
        zk,
        "InvalidProof",
        "proveExitConflict",
        old,
        leaf,
        5,
        attacker,
        PROOF,
        6,
        attacker,
        PROOF,
        sender=attacker,
    )
    assert not zk.provenBug()
    # and the one honest statement does verify (the stand-in is not a verifier refusing all)
    assert sound.verifyProof(PROOF, [old, root, data_hash])
    assert sound.verifyProof(PROOF, [old, root + R, data_hash])  # aliases, as claimed above
    assert not sound.verifyProof(PROOF, [old, root + 1, data_hash])
