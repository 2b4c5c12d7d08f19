"""Fixtures of the BLS tests: the library harness and a key registry on Anvil."""

import pytest
from bls_helpers import ACTIVATION_DELAY


@pytest.fixture(scope="module")
def harness(project, deployer):
    return deployer.deploy(project.BLSHarness)


@pytest.fixture
def registry(project, deployer):
    return deployer.deploy(project.BLSKeyRegistry, ACTIVATION_DELAY)
