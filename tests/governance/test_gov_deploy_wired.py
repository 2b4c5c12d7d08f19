"""`deploy_all` (what `ape run deploy` and `make demo` use) puts the bridges and the zk rollup
behind proxies owned by the timelock, and records proxy, implementation and ProxyAdmin."""

import pytest
from gov_helpers import COUNCIL, THRESHOLD

from offchain.deploy import DeployParams, deploy_all, zk_available
from offchain.errors import L2KitError
from offchain.governance.deploy import STAGE2_EXIT_WINDOW
from offchain.governance.wiring import (
    DEV_COUNCIL_THRESHOLD,
    IMPLEMENTATION_SLOT,
    check_timelock_address,
    read_slot_address,
    setup_for,
    slot_address,
)

PARAMS = DeployParams(challenge_period=600, forced_inclusion_delay=300, liveness_period=900)


def _check_proxied(project, chain, contracts, name, timelock):
    proxy, impl, admin = (
        contracts[name],
        contracts[f"{name}Implementation"],
        contracts[f"{name}ProxyAdmin"],
    )
    assert len({proxy, impl, admin}) == 3
    assert read_slot_address(chain.provider, proxy, IMPLEMENTATION_SLOT) == impl
    assert project.IGovernedProxyAdmin.at(admin).owner() == timelock


def test_deploy_all_puts_the_bridge_behind_a_timelocked_proxy(project, chain, deployer):
    d = deploy_all(deployer, "ethereum:local", PARAMS)
    c = d.contracts
    timelock = project.ExitWindowTimelock.at(c["Timelock"])
    _check_proxied(project, chain, c, "RollupBridge", timelock.address)
    _check_proxied(project, chain, c, "Rollup", timelock.address)
    # the old key is the proxy, so every existing reader keeps working
    rollup = project.Rollup.at(c["Rollup"])
    bridge = project.L1Bridge.at(c["RollupBridge"])
    assert rollup.bridge() == bridge.address and bridge.rollup() == rollup.address
    # the optimistic Rollup and its bridge are governed: the floor counts their exit time
    gov = project.RollupGovernor.at(c["Rollup"])
    assert gov.timelock() == timelock.address and gov.exitTime() == 300 + 600
    assert [s for s in timelock.governedSystems()] == [c["Rollup"], c["RollupBridge"]]
    assert timelock.delayFloor() == timelock.getMinDelay() == 300 + 600 + STAGE2_EXIT_WINDOW
    council = project.SecurityCouncil.at(c["SecurityCouncil"])
    assert council.threshold() == DEV_COUNCIL_THRESHOLD and len(council.members()) == 9
    assert timelock.hasRole(timelock.PROPOSER_ROLE(), deployer)
    assert timelock.hasRole(timelock.CANCELLER_ROLE(), council)
    assert not timelock.hasRole(timelock.PROPOSER_ROLE(), council)


@pytest.mark.slow
@pytest.mark.skipif(not zk_available(), reason="needs the zk extra")
def test_deploy_all_puts_the_zk_rollup_and_its_bridge_behind_proxies(project, chain, deployer):
    from dataclasses import replace

    d = deploy_all(
        deployer,
        "ethereum:local",
        replace(PARAMS, zk=True, zk_freeze_period=3600, zk_forced_delay=300),
    )
    c = d.contracts
    for name in ("Rollup", "RollupBridge", "ZkBridge", "ZkRollup"):
        _check_proxied(project, chain, c, name, c["Timelock"])
    zk = project.ZkRollup.at(c["ZkRollup"])
    timelock = project.ExitWindowTimelock.at(c["Timelock"])
    assert zk.timelock() == timelock.address and zk.bridge() == c["ZkBridge"]
    assert [s for s in timelock.governedSystems()] == [
        c["Rollup"],
        c["RollupBridge"],
        c["ZkRollup"],
        c["ZkBridge"],
    ]
    assert timelock.delayFloor() == 3600 + STAGE2_EXIT_WINDOW
    assert timelock.getMinDelay() == 3600 + STAGE2_EXIT_WINDOW  # longer than 300 + 600


def test_governance_setup_refuses_what_would_leave_a_deployment_ungoverned(deployer):
    with pytest.raises(L2KitError, match="needs a Security Council"):
        setup_for((), 0, (), deployer.address, local=False)
    with pytest.raises(L2KitError, match="at least one proposer"):
        setup_for(tuple(COUNCIL), THRESHOLD, (), deployer.address, local=False)
    given = setup_for(tuple(COUNCIL), THRESHOLD, (deployer.address,), deployer.address, False)
    assert given.members == tuple(COUNCIL) and given.proposers == (deployer.address,)
    dev = setup_for((), 0, (), deployer.address, local=True)
    assert dev.proposers == (deployer.address,) and len(dev.members) == 9


def test_a_timelock_off_its_predicted_address_is_refused():
    a, b = "0x" + "ab" * 20, "0x" + "22" * 20
    check_timelock_address(a, a.upper().replace("0X", "0x"))  # same address, other case
    with pytest.raises(L2KitError, match="not the predicted"):
        check_timelock_address(a, b)


def test_slot_address_reads_the_low_20_bytes():
    word = bytes(12) + bytes(range(1, 21))
    assert slot_address(word).lower() == "0x" + bytes(range(1, 21)).hex()
    with pytest.raises(ValueError, match="32 bytes"):
        slot_address(b"\x00" * 31)
