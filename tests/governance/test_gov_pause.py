"""GovernancePausable: a council pause stops posting only, ends by itself, and cannot be chained."""

import ape
import pytest
from gov_helpers import MAX_PAUSE, advance, council_call, deploy, execute, schedule


def _pause(chain, gov, deployer, system=None, duration=MAX_PAUSE):
    system = system or gov.rollup
    return council_call(
        chain, gov.council, deployer, system, system.pausePosting.encode_input(duration)
    )


def _timelocked(chain, gov, proposer, target, data):
    delay = gov.timelock.getMinDelay()
    schedule(gov.timelock, proposer, target, data, delay)
    advance(chain, delay)
    return execute(gov.timelock, proposer, target, data)


def test_pause_stops_posting(chain, gov, deployer, alice):
    _pause(chain, gov, deployer)
    assert gov.rollup.postingPaused()
    with ape.reverts(gov.rollup.PostingIsPaused):
        gov.rollup.postBatch(sender=alice)


def test_pause_never_blocks_exits_forced_withdrawals_or_claims(chain, gov, deployer, alice):
    gov.rollup.deposit(value=10**18, sender=alice)
    _pause(chain, gov, deployer, duration=60)
    gov.rollup.requestExit(sender=alice)
    gov.rollup.exitLike(sender=alice)  # forceTransaction / freeze / proveFraud / claim stand-in
    before = alice.balance
    # the council re-pauses only after a timelocked re-arm, so here the pause runs out; the
    # exit-like calls above went through while it ran
    advance(chain, gov.rollup.exitTime())
    tx = gov.rollup.completeExit(sender=alice)
    assert alice.balance == before + 10**18 - tx.total_fees_paid
    assert gov.rollup.exitLikeCalls() == 2


def test_completing_an_exit_works_while_paused(chain, gov, deployer, alice):
    gov.rollup.deposit(value=5, sender=alice)
    gov.rollup.requestExit(sender=alice)
    advance(chain, gov.rollup.exitTime())
    _pause(chain, gov, deployer)
    assert gov.rollup.postingPaused()
    gov.rollup.completeExit(sender=alice)
    assert gov.rollup.balanceOf(alice) == 0


def test_pause_expires_by_itself(chain, gov, deployer, alice):
    _pause(chain, gov, deployer, duration=3600)
    # a view call may run at the pending block's time, a second or two past the latest block
    advance(chain, 3590)
    assert gov.rollup.postingPaused()
    advance(chain, 10)
    assert not gov.rollup.postingPaused()
    gov.rollup.postBatch(sender=alice)


def test_pause_cannot_be_renewed_without_the_timelock(chain, gov, deployer, proposer):
    _pause(chain, gov, deployer, duration=60)
    advance(chain, 61)
    with ape.reverts(gov.rollup.PauseNotArmed):
        gov.rollup.pausePosting.call(60, sender=gov.council.address)
    with ape.reverts(gov.council.CallFailed):
        _pause(chain, gov, deployer, duration=60)
    with ape.reverts(gov.rollup.NotAuthorized):
        gov.rollup.rearmPause(sender=deployer)
    _timelocked(chain, gov, proposer, gov.rollup, gov.rollup.rearmPause.encode_input())
    assert gov.rollup.pauseArmed()
    _pause(chain, gov, deployer, duration=60)
    assert gov.rollup.postingPaused()


@pytest.mark.parametrize("duration", [0, MAX_PAUSE + 1], ids=["zero", "too-long"])
def test_pause_duration_is_bounded(chain, gov, deployer, duration):
    with ape.reverts(gov.council.CallFailed):
        _pause(chain, gov, deployer, duration=duration)
    assert gov.rollup.pauseArmed()


def test_pause_errors_name_the_rule(gov):
    # eth_call as the council (no key needed) shows which rule refused the pause
    council = gov.council.address
    with ape.reverts(gov.rollup.BadPauseDuration, duration=MAX_PAUSE + 1, max=MAX_PAUSE):
        gov.rollup.pausePosting.call(MAX_PAUSE + 1, sender=council)
    with ape.reverts(gov.rollup.BadPauseDuration, duration=0, max=MAX_PAUSE):
        gov.rollup.pausePosting.call(0, sender=council)


def test_only_the_council_pauses(gov, alice, proposer):
    with ape.reverts(gov.rollup.NotAuthorized):
        gov.rollup.pausePosting(60, sender=alice)


def test_unpause_by_council_or_timelock_only_while_paused(chain, gov, deployer, alice, proposer):
    unpause = gov.rollup.unpausePosting.encode_input()
    with ape.reverts(gov.council.CallFailed):
        council_call(chain, gov.council, deployer, gov.rollup, unpause)  # not paused
    _pause(chain, gov, deployer)
    with ape.reverts(gov.rollup.NotAuthorized):
        gov.rollup.unpausePosting(sender=alice)
    council_call(chain, gov.council, deployer, gov.rollup, unpause)
    assert not gov.rollup.postingPaused()
    gov.rollup.postBatch(sender=alice)


@pytest.mark.slow  # proves a fraud on chain
def test_stage2_pause_needs_an_on_chain_proven_bug(project, chain, deployer, proposer, alice):
    gov = deploy(project, deployer, proposer, stage2=True)
    with ape.reverts(gov.rollup.NoProvenBug):
        gov.rollup.pausePosting.call(60, sender=gov.council.address)
    with ape.reverts(gov.council.CallFailed):
        _pause(chain, gov, deployer)
    gov.rollup.proveRoot(0, b"\x01" * 32, sender=alice)
    gov.rollup.proveRoot(0, b"\x01" * 32, sender=alice)  # the same root again: no conflict
    with ape.reverts(gov.council.CallFailed):
        _pause(chain, gov, deployer)
    gov.rollup.proveRoot(0, b"\x02" * 32, sender=alice)  # two valid proofs, two roots
    _pause(chain, gov, deployer)
    assert gov.rollup.postingPaused()


def test_pause_config_is_checked(project, deployer, gov):
    zero = "0x0000000000000000000000000000000000000000"
    with ape.reverts(project.MockGovernedRollup.BadPauseConfig):
        deployer.deploy(project.MockGovernedRollup, gov.timelock, zero, 1, 1, 60, False)
    with ape.reverts(project.MockGovernedRollup.BadPauseConfig):
        deployer.deploy(project.MockGovernedRollup, gov.timelock, gov.council, 1, 1, 0, False)


def test_a_rearm_during_a_pause_does_not_extend_it(chain, gov, deployer, proposer):
    rearm = gov.rollup.rearmPause.encode_input()
    delay = gov.timelock.getMinDelay()
    schedule(gov.timelock, proposer, gov.rollup, rearm, delay)
    advance(chain, delay - 10)
    _pause(chain, gov, deployer, duration=60)
    advance(chain, 10)
    execute(gov.timelock, proposer, gov.rollup, rearm)
    assert gov.rollup.pauseArmed() and gov.rollup.postingPaused()
    with ape.reverts(gov.rollup.PostingIsPaused):
        gov.rollup.pausePosting.call(60, sender=gov.council.address)


def test_pause_state_lives_in_its_erc7201_slot(chain, gov, deployer):
    from eth_utils import keccak

    h = int.from_bytes(keccak(text="l2kit.storage.GovernancePausable"), "big") - 1
    slot = int.from_bytes(keccak(h.to_bytes(32, "big")), "big") & ~0xFF
    w3 = chain.provider.web3
    assert w3.eth.get_storage_at(gov.rollup.address, slot) == b"\x00" * 32  # armed, not paused
    _pause(chain, gov, deployer, duration=60)
    until = int.from_bytes(w3.eth.get_storage_at(gov.rollup.address, slot), "big")
    assert until == gov.rollup.pausedUntil() > 0
    assert w3.eth.get_storage_at(gov.rollup.address, slot + 1)[-1] == 1  # spent
