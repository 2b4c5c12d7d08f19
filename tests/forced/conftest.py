"""Fixtures of the forced-inclusion tests: bridge + rollup with short deadlines on Anvil."""

import pytest
from forced_helpers import BOND, CHALLENGE, FORCED_DELAY, LIVENESS, Env

from offchain.rollup.l1 import RollupL1


@pytest.fixture
def env(project, accounts, chain, deployer) -> Env:
    bridge = deployer.deploy(project.L1Bridge, b"\x01")
    rollup = deployer.deploy(
        project.Rollup,
        bridge,
        BOND,
        CHALLENGE,
        FORCED_DELAY,
        LIVENESS,
        deployer.deploy(project.BLSKeyRegistry, 3),
    )
    bridge.setRollup(rollup, sender=deployer)
    w3 = chain.provider.web3
    l1 = RollupL1(w3, rollup.address, bridge.address)
    return Env(w3, bridge, rollup, l1, list(accounts), l1.signing_dst())


@pytest.fixture(scope="module")
def harness(project, accounts):
    return accounts[0].deploy(project.RollupHarness)
