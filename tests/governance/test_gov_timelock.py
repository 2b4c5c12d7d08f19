"""ExitWindowTimelock: no operation can execute before every user could have exited."""

import ape
import pytest
from gov_helpers import (
    CP,
    FID,
    MARGIN,
    ZERO,
    ZERO32,
    ZK_FREEZE,
    advance,
    council_call,
    deploy,
    execute,
    schedule,
)

FLOOR = FID + CP + MARGIN  # the optimistic mock has the longest exit time


def test_floor_is_longest_exit_time_plus_margin(gov):
    assert gov.rollup.exitTime() == FID + CP
    assert gov.zk.exitTime() == ZK_FREEZE
    assert gov.timelock.delayFloor() == FLOOR
    assert gov.timelock.getMinDelay() == FLOOR
    assert gov.timelock.configuredDelay() == FLOOR
    assert list(gov.timelock.governedSystems()) == [gov.rollup.address, gov.zk.address]


def test_constructor_refuses_a_delay_below_the_exit_window(project, deployer, proposer):
    with ape.reverts(project.ExitWindowTimelock.DelayBelowExitWindow):
        deploy(project, deployer, proposer, min_delay=FLOOR - 1)


def test_constructor_refuses_an_admin(project, deployer, proposer, gov):
    with ape.reverts(project.ExitWindowTimelock.AdminNotAllowed):
        deployer.deploy(
            project.ExitWindowTimelock,
            FLOOR,
            [proposer],
            [ZERO],
            [],
            deployer,
            MARGIN,
            [gov.rollup],
        )


def test_constructor_refuses_a_duplicate_or_zero_system(project, deployer, proposer, gov):
    with ape.reverts(project.ExitWindowTimelock.BadGovernedSystem):
        deployer.deploy(
            project.ExitWindowTimelock,
            FLOOR,
            [proposer],
            [ZERO],
            [],
            ZERO,
            MARGIN,
            [gov.rollup, gov.rollup],
        )
    with ape.reverts(project.ExitWindowTimelock.BadGovernedSystem):
        deployer.deploy(
            project.ExitWindowTimelock, FLOOR, [proposer], [ZERO], [], ZERO, MARGIN, [ZERO]
        )


def test_schedule_below_the_floor_is_refused(gov, proposer):
    data = gov.rollup.postBatch.encode_input()
    with ape.reverts(gov.timelock.DelayBelowExitWindow, delay=FLOOR - 1, floor=FLOOR):
        schedule(gov.timelock, proposer, gov.rollup, data, FLOOR - 1)


def test_schedule_batch_below_the_floor_is_refused(gov, proposer):
    data = gov.rollup.postBatch.encode_input()
    with ape.reverts(gov.timelock.DelayBelowExitWindow):
        gov.timelock.scheduleBatch(
            [gov.rollup], [0], [data], ZERO32, ZERO32, FLOOR - 1, sender=proposer
        )


def test_operation_at_the_floor_executes_only_after_the_delay(chain, gov, proposer):
    data = gov.rollup.postBatch.encode_input()
    schedule(gov.timelock, proposer, gov.rollup, data, FLOOR)
    advance(chain, FLOOR - 10)
    with ape.reverts(gov.timelock.TimelockUnexpectedOperationState):
        execute(gov.timelock, proposer, gov.rollup, data)
    advance(chain, 10)
    execute(gov.timelock, proposer, gov.rollup, data)
    assert gov.rollup.batchCount() == 1


def test_only_proposers_schedule_and_the_council_only_cancels(chain, gov, proposer, deployer):
    data = gov.rollup.postBatch.encode_input()
    with ape.reverts(gov.timelock.AccessControlUnauthorizedAccount):
        schedule(gov.timelock, deployer, gov.rollup, data, FLOOR)
    # the council cannot schedule (no proposer role) ...
    sched = gov.timelock.schedule.encode_input(gov.rollup, 0, data, ZERO32, ZERO32, FLOOR)
    with ape.reverts(gov.council.CallFailed):
        council_call(chain, gov.council, deployer, gov.timelock, sched)
    # ... but it can cancel a pending operation
    tx = schedule(gov.timelock, proposer, gov.rollup, data, FLOOR)
    op = tx.events.filter(gov.timelock.CallScheduled)[0].id
    council_call(chain, gov.council, deployer, gov.timelock, gov.timelock.cancel.encode_input(op))
    assert not gov.timelock.isOperation(op)


def _run(chain, gov, proposer, target, data, salt=ZERO32):
    delay = gov.timelock.getMinDelay()
    schedule(gov.timelock, proposer, target, data, delay, salt)
    advance(chain, delay)
    return execute(gov.timelock, proposer, target, data, salt)


def test_update_delay_below_the_floor_is_refused(chain, gov, proposer):
    data = gov.timelock.updateDelay.encode_input(FLOOR - 1)
    with ape.reverts(gov.timelock.DelayBelowExitWindow):
        _run(chain, gov, proposer, gov.timelock, data)
    assert gov.timelock.configuredDelay() == FLOOR


def test_update_delay_at_or_above_the_floor_is_accepted(chain, gov, proposer):
    _run(chain, gov, proposer, gov.timelock, gov.timelock.updateDelay.encode_input(FLOOR + 5))
    assert gov.timelock.configuredDelay() == FLOOR + 5
    assert gov.timelock.getMinDelay() == FLOOR + 5


def test_update_delay_directly_is_refused(gov, proposer):
    with ape.reverts(gov.timelock.TimelockUnauthorizedCaller):
        gov.timelock.updateDelay(FLOOR + 1, sender=proposer)


def test_parameter_change_that_outgrows_the_delay_is_refused(chain, gov, proposer):
    # one more second of challenge period would need a delay of FLOOR + 1
    data = gov.rollup.setChallengePeriod.encode_input(CP + 1)
    with ape.reverts(gov.timelock.ExitTimeAboveDelay, newExitTime=FID + CP + 1):
        _run(chain, gov, proposer, gov.rollup, data)
    assert gov.rollup.challengePeriod() == CP


def test_parameter_change_within_the_delay_raises_the_floor(chain, gov, proposer):
    _run(chain, gov, proposer, gov.timelock, gov.timelock.updateDelay.encode_input(FLOOR + 3600))
    tx = _run(
        chain, gov, proposer, gov.rollup, gov.rollup.setChallengePeriod.encode_input(CP + 3600)
    )
    assert tx.events.filter(gov.rollup.ExitTimeChanged)[0].newExitTime == FID + CP + 3600
    assert gov.timelock.delayFloor() == FLOOR + 3600
    with ape.reverts(gov.timelock.DelayBelowExitWindow):
        schedule(gov.timelock, proposer, gov.rollup, b"\x00", FLOOR)
    # and the delay can no longer come back down below the raised floor
    with ape.reverts(gov.timelock.DelayBelowExitWindow):
        _run(chain, gov, proposer, gov.timelock, gov.timelock.updateDelay.encode_input(FLOOR))


def test_lowering_an_exit_time_is_accepted(chain, gov, proposer):
    _run(chain, gov, proposer, gov.rollup, gov.rollup.setChallengePeriod.encode_input(CP - 3600))
    assert gov.timelock.delayFloor() == FLOOR - 3600
    # the configured delay still holds
    assert gov.timelock.getMinDelay() == FLOOR


def test_governed_setters_refuse_everyone_but_the_timelock(chain, gov, proposer, deployer):
    with ape.reverts(gov.rollup.OnlyTimelock):
        gov.rollup.setForcedInclusionDelay(1, sender=proposer)
    # the council cannot shorten (or change) the exit window either
    data = gov.rollup.setForcedInclusionDelay.encode_input(1)
    with ape.reverts(gov.council.CallFailed):
        council_call(chain, gov.council, deployer, gov.rollup, data)


def test_add_governed_only_through_the_timelock_and_within_the_delay(
    project, chain, deployer, gov, proposer
):
    fits = deployer.deploy(project.MockGovernedRollup, gov.timelock, gov.council, 1, 1, 60, False)
    with ape.reverts(gov.timelock.TimelockUnauthorizedCaller):
        gov.timelock.addGoverned(fits, sender=proposer)
    big = deployer.deploy(
        project.MockGovernedRollup, gov.timelock, gov.council, FID + CP, 1, 60, False
    )
    with ape.reverts(gov.timelock.ExitTimeAboveDelay):
        _run(chain, gov, proposer, gov.timelock, gov.timelock.addGoverned.encode_input(big))
    tx = _run(chain, gov, proposer, gov.timelock, gov.timelock.addGoverned.encode_input(fits))
    assert tx.events.filter(gov.timelock.GovernedAdded)[0].system == fits.address
    assert gov.timelock.isGoverned(fits)
    again = gov.timelock.addGoverned.encode_input(fits)
    with ape.reverts(gov.timelock.BadGovernedSystem):
        _run(chain, gov, proposer, gov.timelock, again, salt=b"\x01" * 32)


@pytest.mark.parametrize("which", ["rollup", "zk"])
def test_floor_follows_whichever_system_is_slowest(chain, gov, proposer, which):
    # raise the delay, then make the zk mock the slowest: the floor moves to it
    _run(
        chain, gov, proposer, gov.timelock, gov.timelock.updateDelay.encode_input(FLOOR + 9 * 86400)
    )
    system = getattr(gov, which)
    _run(
        chain, gov, proposer, system, system.setForcedInclusionDelay.encode_input(FID + CP + 86400)
    )
    expected = system.exitTime() + MARGIN
    assert gov.timelock.delayFloor() == max(expected, gov.rollup.exitTime() + MARGIN)


def test_python_operation_ids_match_the_timelock(gov):
    from offchain.governance.operations import Call, operation_id

    c = Call(gov.rollup.address, 7, b"\x01\x02")
    salt, pred = b"\x05" * 32, b"\x06" * 32
    assert gov.timelock.hashOperation(c.target, 7, c.data, pred, salt) == operation_id(
        [c], pred, salt
    )
    assert gov.timelock.hashOperationBatch([c.target], [7], [c.data], pred, salt) == operation_id(
        [c], pred, salt, batch=True
    )
