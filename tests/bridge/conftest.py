"""Fixtures for the bridge tests: a bridge for address recipients, wired to a stand-in rollup."""

import pytest

from offchain.recipient import address_recipient

ADDRESS_TAG = "0x01"
BJJ_TAG = "0x02"


@pytest.fixture
def bridge(project, deployer):
    return deployer.deploy(project.L1Bridge, ADDRESS_TAG)


@pytest.fixture
def rollup(project, deployer, bridge):
    mock = deployer.deploy(project.MockRollup)
    bridge.setRollup(mock, sender=deployer)
    return mock


@pytest.fixture
def token(project, deployer, alice):
    t = deployer.deploy(project.TestToken, "Test", "TST", 18)
    t.mint(alice, 10**24, sender=deployer)
    return t


@pytest.fixture
def to_alice(alice):
    return address_recipient(alice.address)


@pytest.fixture
def to_bob(bob):
    return address_recipient(bob.address)
