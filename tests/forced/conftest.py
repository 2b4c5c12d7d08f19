"""Fixtures of the forced-inclusion tests: bridge + rollup with short deadlines on Anvil."""

import pytest
from forced_helpers import BOND, CHALLENGE, FORCED_DELAY, LIVENESS, Env
from support.rollup_env import deploy_env


@pytest.fixture
def env(project, accounts, chain, deployer) -> Env:
    return deploy_env(
        project,
        deployer,
        accounts,
        chain,
        bond=BOND,
        challenge_period=CHALLENGE,
        forced_delay=FORCED_DELAY,
        liveness_period=LIVENESS,
    )


@pytest.fixture(scope="module")
def harness(project, accounts):
    return accounts[0].deploy(project.RollupHarness)
