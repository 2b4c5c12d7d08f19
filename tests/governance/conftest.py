"""Fixtures for the governance tests: the council, the timelock and two governed mock rollups."""

import pytest
from gov_helpers import deploy


@pytest.fixture(scope="module")
def proposer(accounts):
    return accounts[4]


@pytest.fixture(scope="module")
def attacker(accounts):
    return accounts[5]


@pytest.fixture
def gov(project, deployer, proposer):
    return deploy(project, deployer, proposer)
