"""Fixtures of the rollup tests: bridge + rollup deployed on Anvil, web3 signers, L2 helpers."""

import pytest
from rollup_helpers import BOND, CHALLENGE_PERIOD, FORCED_DELAY, LIVENESS_PERIOD, Env
from support.rollup_env import deploy_env


@pytest.fixture
def env(project, accounts, chain, deployer) -> Env:
    return deploy_env(
        project,
        deployer,
        accounts,
        chain,
        bond=BOND,
        challenge_period=CHALLENGE_PERIOD,
        forced_delay=FORCED_DELAY,
        liveness_period=LIVENESS_PERIOD,
        token=True,
    )


@pytest.fixture(scope="module")
def harness(project, accounts):
    return accounts[0].deploy(project.RollupHarness)
