"""Fixtures shared by every test: named accounts and the deployed bridge with its test tokens.

pytest puts this file's folder (tests/) on sys.path, which is how every folder imports the shared
test-support package as `support` (tests/support/)."""

import pytest


@pytest.fixture(scope="session")
def deployer(accounts):
    return accounts[0]


@pytest.fixture(scope="session")
def alice(accounts):
    return accounts[1]


@pytest.fixture(scope="session")
def bob(accounts):
    return accounts[2]


@pytest.fixture(scope="session")
def carol(accounts):
    return accounts[3]
