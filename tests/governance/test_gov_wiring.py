"""The real L1Bridge and ZkRollup behind proxies owned by the timelock (docs/governance.md §5):
who may upgrade and set parameters, initializers, the exit-time views, the governed setters."""

import ape
import pytest
from eth_abi import encode
from eth_utils import keccak
from gov_helpers import ZERO32, advance, council_call, execute, now, schedule
from wired_helpers import (
    FORCED,
    FREEZE,
    GENESIS,
    MARGIN,
    MAX_PAUSE,
    SLACK,
    deploy_wired,
    empty_batch,
    zk_constructor_args,
    zk_pause,
)

from offchain.chain import abi_of
from offchain.governance.wiring import IMPLEMENTATION_SLOT, ZERO, deploy_proxied, read_slot_address


@pytest.fixture
def w(project, deployer, proposer):
    return deploy_wired(project, deployer, proposer)


def _run(chain, w, proposer, target, data: bytes, salt: bytes = ZERO32):
    """Schedule with the configured delay, wait it out, execute."""
    delay = w.timelock.getMinDelay()
    schedule(w.timelock, proposer, target, data, delay, salt)
    advance(chain, delay)
    return execute(w.timelock, proposer, target, data, salt)


def read_deadlines(c, block: int, now: int):
    from offchain.zk.freeze import read_deadlines as read  # GPL zk module, optional

    return read(c, block, now)


def test_each_proxy_admin_is_owned_by_the_timelock(project, chain, w):
    for p in (w.zk_bridge, w.zk, w.bridge):
        admin = w.admin(project, p)
        assert admin.owner() == w.timelock.address
        assert admin.UPGRADE_INTERFACE_VERSION() == "5.0.0"
        assert read_slot_address(chain.provider, p.contract.address, IMPLEMENTATION_SLOT) == (
            p.implementation
        )
        assert p.admin != p.implementation != p.contract.address
    assert w.zk.contract.timelock() == w.timelock.address
    # both zk systems count in the floor; the bridge reports its rollup's exit time
    assert w.timelock.delayFloor() == FREEZE + MARGIN
    assert w.timelock.getMinDelay() == FREEZE + MARGIN + SLACK


def test_exit_time_views(project, deployer, w):
    assert w.zk.contract.exitTime() == FREEZE  # longer than the forced delay
    assert w.zk_bridge.contract.exitTime() == FREEZE
    # an unwired bridge has no exit route to report: it refuses rather than answering 0
    bare = deployer.deploy(project.L1Bridge, "0x02")
    with ape.reverts(bare.RollupNotWired):
        bare.exitTime()
    # the forced delay bounds the exit time from below when it is the longer one
    short = deployer.deploy(
        project.ZkRollup, *zk_constructor_args(w.zk_bridge.contract, w.verifier, freeze=FORCED // 2)
    )
    assert short.exitTime() == FORCED


def test_initialize_runs_once_and_never_on_an_implementation(project, deployer, attacker, w):
    with ape.reverts(w.zk_bridge.contract.InvalidInitialization):
        w.zk_bridge.contract.initialize(sender=attacker)
    with ape.reverts(w.zk.contract.InvalidInitialization):
        w.zk.contract.initialize(
            attacker, w.verifier, w.verifier, GENESIS, 1, zk_pause(attacker), sender=attacker
        )
    # the bare implementations: already initialized by their constructors, nobody takes them over
    bare = project.L1Bridge.at(w.zk_bridge.implementation)
    with ape.reverts(bare.InvalidInitialization):
        bare.initialize(sender=attacker)
    impl = project.ZkRollup.at(w.zk.implementation)
    with ape.reverts(impl.InvalidInitialization):
        impl.initialize(
            attacker, w.verifier, w.verifier, GENESIS, 1, zk_pause(attacker), sender=attacker
        )
    assert impl.timelock() == ZERO  # and its own setters answer to nobody
    with ape.reverts(impl.OnlyTimelock):
        impl.setFreezePeriod(1, sender=attacker)


def test_zk_initialize_refuses_a_bad_configuration(project, deployer, w):
    args = zk_constructor_args(w.zk_bridge.contract, w.verifier)
    pause = zk_pause(w.council.address)
    good = (w.timelock.address, w.verifier.address, w.verifier.address, GENESIS, FREEZE, pause)
    r = 21888242871839275222246405745257275088548364400416034343698204186575808495617
    bad = [
        (ZERO, *good[1:]),  # no timelock
        (good[0], deployer.address, *good[2:]),  # batch verifier without code
        (*good[:2], deployer.address, *good[3:]),  # exit verifier without code
        (*good[:3], r, *good[4:]),  # genesis root outside the field
        (*good[:4], 0, pause),  # freeze period 0
        (*good[:5], (ZERO, MAX_PAUSE, True)),  # nobody to pause
        (*good[:5], (w.council.address, 0, True)),  # a zero pause
        (*good[:5], (w.council.address, FORCED, True)),  # a pause as long as the forced delay
        (*good[:4], MAX_PAUSE, pause),  # a freeze period no longer than the pause
    ]
    for init in bad:
        with ape.reverts(project.ZkRollup.InvalidConfig):
            deploy_proxied(project, deployer, project.ZkRollup, w.timelock.address, args, init)


def test_only_the_timelock_sets_zk_parameters(chain, deployer, proposer, attacker, w):
    zk = w.zk.contract
    calls = [
        zk.setFreezePeriod.encode_input(FREEZE - 1),
        zk.setBatchVerifier.encode_input(w.verifier),
        zk.setExitVerifier.encode_input(w.verifier),
    ]
    for sender in (deployer, proposer, attacker):
        with ape.reverts(zk.OnlyTimelock):
            zk.setFreezePeriod(FREEZE - 1, sender=sender)
        with ape.reverts(zk.OnlyTimelock):
            zk.setBatchVerifier(w.verifier, sender=sender)
        with ape.reverts(zk.OnlyTimelock):
            zk.setExitVerifier(w.verifier, sender=sender)
    # nor the Security Council, with all the approvals it can gather
    for data in calls:
        with ape.reverts():
            council_call(chain, w.council, deployer, zk, data)
    assert zk.freezePeriod() == FREEZE


def test_only_the_timelock_upgrades(project, chain, deployer, attacker, w):
    v2 = deployer.deploy(project.L1BridgeV2, "0x02")
    admin = w.admin(project, w.zk_bridge)
    for sender in (deployer, attacker):
        with ape.reverts(admin.OwnableUnauthorizedAccount):
            admin.upgradeAndCall(w.zk_bridge.contract, v2, b"", sender=sender)
        with ape.reverts(admin.OwnableUnauthorizedAccount):
            admin.transferOwnership(sender, sender=sender)
    # the proxy's own upgrade entry point answers only its ProxyAdmin: from anyone else the call
    # goes to the implementation, which has no such function
    upgrade = keccak(text="upgradeToAndCall(address,bytes)")[:4] + encode(
        ["address", "bytes"], [v2.address, b""]
    )
    with ape.reverts():
        attacker.transfer(w.zk_bridge.contract.address, 0, data=upgrade)
    data = admin.upgradeAndCall.encode_input(w.zk_bridge.contract, v2, b"")
    with ape.reverts():
        council_call(chain, w.council, deployer, admin, data)
    assert read_slot_address(chain.provider, w.zk_bridge.contract.address, IMPLEMENTATION_SLOT) == (
        w.zk_bridge.implementation
    )


def test_parameter_change_waits_the_delay(chain, proposer, w):
    zk = w.zk.contract
    data = zk.setFreezePeriod.encode_input(FREEZE // 2)
    delay = w.timelock.getMinDelay()
    with ape.reverts(w.timelock.DelayBelowExitWindow):
        schedule(w.timelock, proposer, zk, data, w.timelock.delayFloor() - 1)
    schedule(w.timelock, proposer, zk, data, delay)
    advance(chain, delay - 2)
    with ape.reverts(w.timelock.TimelockUnexpectedOperationState):
        execute(w.timelock, proposer, zk, data)
    assert zk.freezePeriod() == FREEZE
    advance(chain, 2)
    tx = execute(w.timelock, proposer, zk, data)
    assert zk.freezePeriod() == zk.freezePeriodInForce() == FREEZE // 2  # a cut applies at once
    assert [(e.oldPeriod, e.newPeriod) for e in tx.events.filter(zk.FreezePeriodChanged)] == [
        (FREEZE, FREEZE // 2)
    ]
    assert [(e.oldExitTime, e.newExitTime) for e in tx.events.filter(zk.ExitTimeChanged)] == [
        (FREEZE, FREEZE // 2)
    ]
    assert w.timelock.delayFloor() == FREEZE // 2 + MARGIN


def test_a_freeze_period_raise_waits_for_the_next_batch(chain, deployer, proposer, w):
    zk = w.zk.contract
    raised = FREEZE + SLACK  # exactly what the configured delay still covers
    tx = _run(chain, w, proposer, zk, zk.setFreezePeriod.encode_input(raised))
    assert [(e.oldExitTime, e.newExitTime) for e in tx.events.filter(zk.ExitTimeChanged)] == [
        (FREEZE, raised)
    ]
    assert zk.exitTime() == raised and w.timelock.delayFloor() == raised + MARGIN
    # the idle period that was running keeps its announced freeze: no exit in flight waits longer
    assert zk.freezePeriodInForce() == FREEZE
    # (the delay already passed FREEZE without a batch: the rollup froze under the old period)
    assert zk.frozen()


def test_a_raise_applies_from_the_next_accepted_batch(chain, deployer, proposer, w):
    zk = w.zk.contract
    raised = FREEZE + SLACK
    data = zk.setFreezePeriod.encode_input(raised)
    delay = w.timelock.getMinDelay()
    schedule(w.timelock, proposer, zk, data, delay)
    # the operator keeps posting while the change waits
    while now(chain) + FREEZE // 2 < w.timelock.getTimestamp(
        w.timelock.hashOperation(zk, 0, data, ZERO32, ZERO32)
    ):
        advance(chain, FREEZE // 2)
        empty_batch(zk, deployer)
    advance(chain, FREEZE // 2)
    execute(w.timelock, proposer, zk, data)
    assert zk.freezePeriodInForce() == FREEZE
    # the off-chain freeze report reads the period in force, not the governed value
    c = chain.provider.web3.eth.contract(address=zk.address, abi=abi_of("ZkRollup"))
    block = chain.provider.web3.eth.get_block("latest")
    deadlines = read_deadlines(c, block["number"], block["timestamp"])
    assert deadlines.no_batch_after == zk.lastBatchAt() + FREEZE
    empty_batch(zk, deployer)
    assert zk.freezePeriodInForce() == raised
    advance(chain, FREEZE + 1)
    assert not zk.frozen()
    advance(chain, SLACK)
    assert zk.frozen()


def test_a_raise_beyond_the_delay_is_refused(chain, deployer, proposer, w):
    """The exit window cannot be shortened by a parameter change: the timelock refuses it."""
    zk = w.zk.contract
    data = zk.setFreezePeriod.encode_input(FREEZE + SLACK + 1)
    schedule(w.timelock, proposer, zk, data, w.timelock.getMinDelay())
    advance(chain, w.timelock.getMinDelay())
    with ape.reverts(w.timelock.ExitTimeAboveDelay):
        execute(w.timelock, proposer, zk, data)
    assert zk.freezePeriod() == FREEZE
    # still ready: it can only be cancelled, which the council may do
    op = w.timelock.hashOperation(zk, 0, data, ZERO32, ZERO32)
    assert w.timelock.isOperationReady(op)
    council_call(chain, w.council, deployer, w.timelock, w.timelock.cancel.encode_input(op))
    assert not w.timelock.isOperation(op)


def test_the_council_cannot_shorten_the_exit_window(chain, deployer, w):
    tl = w.timelock
    for data in (
        tl.updateDelay.encode_input(tl.delayFloor() - 1),
        tl.schedule.encode_input(
            w.zk.contract, 0, w.zk.contract.setFreezePeriod.encode_input(1), ZERO32, ZERO32, 0
        ),
    ):
        with ape.reverts():
            council_call(chain, w.council, deployer, tl, data)
    assert tl.getMinDelay() == FREEZE + MARGIN + SLACK


def test_governed_setters_refuse_bad_values(chain, deployer, proposer, w):
    zk = w.zk.contract
    cases = [
        (zk.setFreezePeriod.encode_input(0), zk.InvalidConfig),
        (zk.setBatchVerifier.encode_input(deployer), zk.NotAVerifier),
        (zk.setExitVerifier.encode_input(deployer), zk.NotAVerifier),
    ]
    for i, (data, _) in enumerate(cases):
        salt = i.to_bytes(32, "big")
        schedule(w.timelock, proposer, zk, data, w.timelock.getMinDelay(), salt)
    advance(chain, w.timelock.getMinDelay())
    for i, (data, err) in enumerate(cases):
        with ape.reverts(err):
            execute(w.timelock, proposer, zk, data, i.to_bytes(32, "big"))


def test_verifier_swaps_apply_to_later_proofs(project, chain, deployer, proposer, w):
    zk = w.zk.contract
    other = deployer.deploy(project.AcceptingVerifier)
    ops = [zk.setBatchVerifier.encode_input(other), zk.setExitVerifier.encode_input(other)]
    delay = w.timelock.getMinDelay()
    w.timelock.scheduleBatch([zk, zk], [0, 0], ops, ZERO32, ZERO32, delay, sender=proposer)
    advance(chain, delay)
    tx = w.timelock.executeBatch([zk, zk], [0, 0], ops, ZERO32, ZERO32, sender=proposer)
    assert zk.batchVerifier() == zk.exitVerifier() == other.address
    assert [(e.oldVerifier, e.newVerifier) for e in tx.events.filter(zk.BatchVerifierChanged)] == [
        (w.verifier.address, other.address)
    ]
    assert [(e.oldVerifier, e.newVerifier) for e in tx.events.filter(zk.ExitVerifierChanged)] == [
        (w.verifier.address, other.address)
    ]
    assert not tx.events.filter(zk.ExitTimeChanged)  # verifiers do not move the exit time
