"""Fixtures of the rollup tests: bridge + rollup deployed on Anvil, web3 signers, L2 helpers."""

import pytest
from rollup_helpers import BOND, CHALLENGE_PERIOD, FORCED_DELAY, LIVENESS_PERIOD, Env

from offchain.rollup.l1 import RollupL1


@pytest.fixture
def env(project, accounts, chain, deployer) -> Env:
    bridge = deployer.deploy(project.L1Bridge, b"\x01")
    rollup = deployer.deploy(
        project.Rollup,
        bridge,
        BOND,
        CHALLENGE_PERIOD,
        FORCED_DELAY,
        LIVENESS_PERIOD,
        deployer.deploy(project.BLSKeyRegistry, 3),
    )
    bridge.setRollup(rollup, sender=deployer)
    token = deployer.deploy(project.TestToken, "Test", "TST", 18)
    w3 = chain.provider.web3
    l1 = RollupL1(w3, rollup.address, bridge.address)
    return Env(w3, bridge, rollup, token, l1, list(accounts), l1.signing_dst())


@pytest.fixture(scope="module")
def harness(project, accounts):
    return accounts[0].deploy(project.RollupHarness)
