"""The optimistic Rollup behind a GovernedProxy owned by the timelock (docs/governance.md §5):
initializers, who sets its parameters, the exit window, windows that apply only to what is posted
after a change, and an upgrade that keeps bonds, batches, the forced queue and deposits."""

from __future__ import annotations

from dataclasses import dataclass

import ape
import pytest
from gov_helpers import COUNCIL, THRESHOLD, ZERO, advance, council_call, execute, schedule

from offchain.governance.deploy import DAY, create_address
from offchain.governance.wiring import (
    IMPLEMENTATION_SLOT,
    Proxied,
    check_timelock_address,
    deploy_proxied,
    read_slot_address,
)
from offchain.rollup.codec import encode_batch, encode_forced_tx
from offchain.rollup.types import Commitment, Withdraw

BOND = 10**18
CP = 3600  # challenge period
FD = DAY  # forced-inclusion delay
LP = 30 * DAY  # liveness period
MARGIN = 30 * DAY
SLACK = 2 * DAY
MAX_PAUSE = FD // 2
_TXS_BEFORE_TIMELOCK = 7
NONE, FORCED_TX_EXPIRED = (
    0,
    1,
)  # RollupTypes.FreezeReason  # council, bridge (2), registry, rollup (2), setRollup


@dataclass
class W:
    council: object
    timelock: object
    bridge: Proxied
    rollup: Proxied
    gov: object  # the rollup proxy with RollupGovernor's ABI
    registry: object


@pytest.fixture
def w(project, deployer, proposer):
    at = create_address(deployer.address, deployer.nonce + _TXS_BEFORE_TIMELOCK)
    council = deployer.deploy(project.SecurityCouncil, COUNCIL, THRESHOLD)
    bridge = deploy_proxied(project, deployer, project.L1Bridge, at, ("0x01",), ())
    registry = deployer.deploy(project.BLSKeyRegistry, 3)
    rollup = deploy_proxied(
        project,
        deployer,
        project.Rollup,
        at,
        (bridge.contract, BOND, CP, FD, LP, registry),
        (at, BOND, CP, FD, LP, (council.address, MAX_PAUSE, False)),
        project.RollupGovernor,
    )
    bridge.contract.setRollup(rollup.contract, sender=deployer)
    timelock = deployer.deploy(
        project.ExitWindowTimelock,
        FD + CP + MARGIN + SLACK,
        [proposer.address],
        [ZERO],
        [council.address],
        ZERO,
        MARGIN,
        [rollup.contract.address, bridge.contract.address],
    )
    check_timelock_address(timelock.address, at)
    gov = project.RollupGovernor.at(rollup.contract.address)
    return W(council, timelock, bridge, rollup, gov, registry)


def _run(chain, w, proposer, target, data: bytes):
    delay = w.timelock.getMinDelay()
    schedule(w.timelock, proposer, target, data, delay)
    advance(chain, delay)
    return execute(w.timelock, proposer, target, data)


def _post_empty(rollup, sender) -> int:
    root, deposit_end, forced_end = rollup.head()
    data = encode_batch([Commitment(bytes(root), deposit_end, forced_end, 0)])
    index = rollup.batchCount()
    rollup.postBatch(bytes(root), data, sender=sender, gas=2_000_000)
    return index


def test_the_proxy_is_governed_and_counts_in_the_floor(project, chain, w):
    admin = project.IGovernedProxyAdmin.at(w.rollup.admin)
    assert admin.owner() == w.timelock.address
    assert read_slot_address(chain.provider, w.rollup.contract.address, IMPLEMENTATION_SLOT) == (
        w.rollup.implementation
    )
    assert w.gov.timelock() == w.timelock.address
    assert w.gov.exitTime() == FD + CP
    assert w.bridge.contract.exitTime() == FD + CP  # the bridge reports its rollup's
    assert w.timelock.delayFloor() == FD + CP + MARGIN
    r = w.rollup.contract
    assert (r.requiredBond(), r.challengePeriod(), r.forcedInclusionDelay()) == (BOND, CP, FD)
    assert r.livenessPeriod() == LP and r.deployedAt() > 0
    # the implementation holds its own (ungoverned) state; the proxy's is separate
    impl = project.RollupGovernor.at(w.rollup.implementation)
    assert impl.timelock() == ZERO and impl.exitTime() == FD + CP


def test_initialize_runs_once_and_never_on_an_implementation(project, deployer, attacker, w):
    with ape.reverts(w.gov.InvalidInitialization):
        w.gov.initialize(attacker, 1, 1, 2, 1, (attacker, 1, False), sender=attacker)
    bare = project.RollupGovernor.at(w.rollup.implementation)
    with ape.reverts(bare.InvalidInitialization):
        bare.initialize(attacker, 1, 1, 2, 1, (attacker, 1, False), sender=attacker)
    # nor the extension itself, called directly
    direct = project.RollupGovernor.at(w.rollup.contract.governor())
    with ape.reverts(direct.InvalidInitialization):
        direct.initialize(attacker, 1, 1, 2, 1, (attacker, 1, False), sender=attacker)
    assert w.gov.timelock() == w.timelock.address


def test_initialize_refuses_bad_parameters(project, deployer, w):
    args = (w.bridge.contract, BOND, CP, FD, LP, w.registry)
    t, c = w.timelock.address, w.council.address
    pause = (c, MAX_PAUSE, False)
    for init in [
        (ZERO, BOND, CP, FD, LP, pause),
        (t, 0, CP, FD, LP, pause),
        (t, 2**96, CP, FD, LP, pause),
        (t, BOND, 0, FD, LP, pause),
        (t, BOND, CP, 0, LP, pause),
        (t, BOND, CP, FD, 0, pause),
        (t, BOND, 2**64, FD, LP, pause),
        (t, BOND, CP, FD, LP, (ZERO, MAX_PAUSE, False)),  # no pauser
        (t, BOND, CP, FD, LP, (c, 0, False)),  # no pause length
        (t, BOND, CP, FD, LP, (c, FD, False)),  # a pause as long as the forced delay
    ]:
        with ape.reverts(project.Rollup.BadParameter):
            deploy_proxied(project, deployer, project.Rollup, t, args, init, project.RollupGovernor)


def test_only_the_timelock_sets_rollup_parameters(project, chain, deployer, proposer, attacker, w):
    g = w.gov
    setters = [
        g.setRequiredBond,
        g.setChallengePeriod,
        g.setForcedInclusionDelay,
        g.setLivenessPeriod,
    ]
    for sender in (deployer, proposer, attacker):
        for setter in setters:
            with ape.reverts(g.OnlyTimelock):
                setter(7, sender=sender)
    for setter in setters:  # nor the Security Council, with all its approvals
        with ape.reverts():
            council_call(chain, w.council, deployer, g, setter.encode_input(7))
    # a directly deployed rollup has no timelock: its parameters are fixed for everyone
    bare = project.RollupGovernor.at(w.rollup.implementation)
    with ape.reverts(bare.OnlyTimelock):
        bare.setChallengePeriod(7, sender=deployer)
    r = w.rollup.contract
    assert (r.requiredBond(), r.challengePeriod(), r.forcedInclusionDelay()) == (BOND, CP, FD)


def test_setters_through_the_timelock(chain, proposer, w):
    g, r = w.gov, w.rollup.contract
    tx = _run(chain, w, proposer, g, g.setRequiredBond.encode_input(2 * BOND))
    assert r.requiredBond() == 2 * BOND
    assert [(e.which, e.oldValue, e.newValue) for e in tx.events.filter(g.ParameterChanged)] == [
        (0, BOND, 2 * BOND)
    ]
    assert list(tx.events.filter(g.ExitTimeChanged)) == []
    tx = _run(chain, w, proposer, g, g.setLivenessPeriod.encode_input(LP // 2))
    assert r.livenessPeriod() == LP // 2
    assert w.gov.exitTime() == FD + CP  # liveness is not part of the exit time
    tx = _run(chain, w, proposer, g, g.setForcedInclusionDelay.encode_input(FD + SLACK))
    assert r.forcedInclusionDelay() == FD + SLACK
    assert [(e.oldExitTime, e.newExitTime) for e in tx.events.filter(g.ExitTimeChanged)] == [
        (FD + CP, FD + CP + SLACK)
    ]
    assert w.timelock.delayFloor() == FD + CP + SLACK + MARGIN
    with ape.reverts(w.rollup.contract.BadParameter):  # a zero window is refused at execution
        _run(chain, w, proposer, g, g.setChallengePeriod.encode_input(0))


def test_the_exit_window_cannot_outgrow_the_delay(chain, proposer, w):
    g = w.gov
    data = g.setChallengePeriod.encode_input(
        CP + SLACK + 1
    )  # one second past what the delay covers
    with ape.reverts(w.timelock.ExitTimeAboveDelay):
        _run(chain, w, proposer, g, data)
    assert w.rollup.contract.challengePeriod() == CP
    # nor can the delay be lowered below the optimistic rollup's exit window + margin
    data = w.timelock.updateDelay.encode_input(FD + CP + MARGIN - 1)
    with ape.reverts(w.timelock.DelayBelowExitWindow):
        _run(chain, w, proposer, w.timelock, data)


def test_a_challenge_period_change_applies_to_later_batches_only(chain, proposer, w):
    g, r = w.gov, w.rollup.contract
    r.bond(value=3 * BOND, sender=proposer)
    first = _post_empty(r, proposer)
    schedule(
        w.timelock,
        proposer,
        g,
        g.setChallengePeriod.encode_input(CP + DAY),
        w.timelock.getMinDelay(),
    )
    # the batch posted before the change keeps its window: still disputable just before its end
    advance(chain, w.timelock.getMinDelay())
    execute(w.timelock, proposer, g, g.setChallengePeriod.encode_input(CP + DAY))
    assert r.isFinal(first)
    second = _post_empty(r, proposer)
    advance(chain, CP + 10)
    assert not r.isFinal(second)  # posted after the raise: the longer window
    advance(chain, DAY)
    assert r.isFinal(second)


def test_a_cut_does_not_shorten_a_posted_batchs_window(chain, proposer, w):
    g, r = w.gov, w.rollup.contract
    r.bond(value=3 * BOND, sender=proposer)
    data = g.setChallengePeriod.encode_input(CP // 4)
    schedule(w.timelock, proposer, g, data, w.timelock.getMinDelay())
    advance(chain, w.timelock.getMinDelay() - CP // 2)
    posted = _post_empty(r, proposer)  # under the old window, executed CP // 2 later
    advance(chain, CP // 2)
    execute(w.timelock, proposer, g, data)
    assert r.challengePeriod() == CP // 4
    assert not r.isFinal(posted)  # the cut would have made it final already
    later = _post_empty(r, proposer)
    advance(chain, CP // 4 + 1)
    assert r.isFinal(later)
    advance(chain, CP)
    assert r.isFinal(posted)


def test_a_forced_delay_raise_applies_to_later_forced_txs_only(chain, proposer, attacker, w):
    g, r = w.gov, w.rollup.contract
    tx = encode_forced_tx(Withdraw(1, 10**16, 0))
    data = g.setForcedInclusionDelay.encode_input(FD + SLACK)
    schedule(w.timelock, proposer, g, data, w.timelock.getMinDelay())
    advance(chain, w.timelock.getMinDelay())
    r.forceTransaction(tx, sender=attacker)  # queued just before the raise: the old deadline
    queued_at = r.forcedAt(0)
    execute(w.timelock, proposer, g, data)
    assert r.forcedInclusionDelay() == FD + SLACK and r.forcedAt(0) == queued_at
    advance(chain, FD + 1)
    assert r.freezeReason() == FORCED_TX_EXPIRED


def test_a_forced_tx_queued_after_a_raise_gets_the_longer_delay(chain, proposer, attacker, w):
    g, r = w.gov, w.rollup.contract
    _run(chain, w, proposer, g, g.setForcedInclusionDelay.encode_input(FD + SLACK))
    # the liveness clock ran during the delay: keep it out of the way with a final batch
    r.bond(value=3 * BOND, sender=proposer)
    _post_empty(r, proposer)
    advance(chain, CP + 1)
    r.forceTransaction(encode_forced_tx(Withdraw(1, 10**16, 0)), sender=attacker)
    advance(chain, FD + 1)
    assert r.freezeReason() == NONE  # the old delay has passed, not the new one
    advance(chain, SLACK)
    assert r.freezeReason() == FORCED_TX_EXPIRED


def test_an_upgrade_keeps_bonds_batches_forced_queue_and_deposits(
    project, chain, deployer, proposer, attacker, w
):
    r = w.rollup.contract
    r.bond(value=3 * BOND, sender=proposer)
    final = _post_empty(r, proposer)
    advance(chain, CP + 1)
    pending = _post_empty(r, proposer)
    r.forceTransaction(encode_forced_tx(Withdraw(1, 10**16, 0)), sender=attacker)
    w.bridge.contract.depositETH(
        b"\x01" + bytes.fromhex(attacker.address[2:]), value=10**17, sender=attacker
    )
    before = (
        r.bondOf(proposer),
        r.lockedBondOf(proposer),
        r.batchCount(),
        tuple(r.batches(final)),
        tuple(r.batches(pending)),
        r.forcedCount(),
        r.forcedAt(0),
        r.head(),
        w.bridge.contract.depositCount(),
        chain.provider.get_balance(r.address),
        chain.provider.get_balance(w.bridge.contract.address),
        r.isFinal(final),
        r.isFinal(pending),
    )
    v2 = deployer.deploy(project.Rollup, w.bridge.contract, BOND, CP, FD, LP, w.registry)
    admin = project.IGovernedProxyAdmin.at(w.rollup.admin)
    data = admin.upgradeAndCall.encode_input(r, v2, b"")
    for sender in (deployer, attacker):
        with ape.reverts(admin.OwnableUnauthorizedAccount):
            admin.upgradeAndCall(r, v2, b"", sender=sender)
    schedule(w.timelock, proposer, admin, data, w.timelock.getMinDelay())
    chain.mine(1)
    # (the timelock's delay is longer than the challenge window: the pending batch finalizes)
    advance(chain, w.timelock.getMinDelay())
    before_final = r.isFinal(pending)
    execute(w.timelock, proposer, admin, data)
    assert read_slot_address(chain.provider, r.address, IMPLEMENTATION_SLOT) == v2.address
    after = (
        r.bondOf(proposer),
        r.lockedBondOf(proposer),
        r.batchCount(),
        tuple(r.batches(final)),
        tuple(r.batches(pending)),
        r.forcedCount(),
        r.forcedAt(0),
        r.head(),
        w.bridge.contract.depositCount(),
        chain.provider.get_balance(r.address),
        chain.provider.get_balance(w.bridge.contract.address),
        r.isFinal(final),
        r.isFinal(pending),
    )
    assert after[:11] == before[:11]
    assert after[11] and after[12] == before_final
    assert w.gov.timelock() == w.timelock.address and w.gov.exitTime() == FD + CP
    assert r.governor() == v2.governor() != project.Rollup.at(w.rollup.implementation).governor()


def test_a_second_change_waits_until_older_batches_are_past_both_windows(chain, proposer, w):
    g, r = w.gov, w.rollup.contract
    r.bond(value=4 * BOND, sender=proposer)
    first, second = (
        g.setChallengePeriod.encode_input(2 * CP),
        g.setChallengePeriod.encode_input(3 * CP),
    )
    delay = w.timelock.getMinDelay()
    schedule(w.timelock, proposer, g, first, delay)
    schedule(w.timelock, proposer, g, second, delay)
    advance(chain, delay)
    old = _post_empty(r, proposer)  # window CP
    execute(w.timelock, proposer, g, first)
    _post_empty(r, proposer)  # window 2 * CP
    # forgetting CP now would move batch `old`'s window to 2 * CP: refused until it is past both
    until = r.batches(old)[3] + 2 * CP
    with ape.reverts(g.WindowChangePending, until=until):
        execute(w.timelock, proposer, g, second)
    advance(chain, 2 * CP)
    execute(w.timelock, proposer, g, second)  # still ready: it ran once both windows had passed
    assert r.challengePeriod() == 3 * CP


def test_after_a_freeze_a_cut_keeps_the_discarded_batches_windows(chain, proposer, attacker, w):
    g, r = w.gov, w.rollup.contract
    r.bond(value=3 * BOND, sender=proposer)
    data = g.setChallengePeriod.encode_input(CP // 4)
    schedule(w.timelock, proposer, g, data, w.timelock.getMinDelay())
    advance(chain, w.timelock.getMinDelay())  # longer than the liveness period: freezable
    discarded = _post_empty(r, proposer)
    r.freeze(sender=attacker)
    assert r.batchCount() == 0 and r.discardedEnd() == 1
    execute(w.timelock, proposer, g, data)
    advance(chain, CP // 4 + 10)
    with ape.reverts(r.BatchBondLocked):  # still in the window it was posted with
        r.releaseBond(discarded, sender=attacker)
    advance(chain, CP)
    r.releaseBond(discarded, sender=attacker)
    assert r.lockedBondOf(proposer) == 0


def test_no_governor_selector_clashes_with_the_rollup(project):
    """The fallback reaches RollupGovernor only for selectors Rollup lacks: a shared selector
    would silently hide the governor's function."""

    def selectors(container) -> set[str]:
        return {m.selector for m in container.contract_type.abi if m.type == "function"}

    rollup, governor = selectors(project.Rollup), selectors(project.RollupGovernor)
    assert governor and not rollup & governor
