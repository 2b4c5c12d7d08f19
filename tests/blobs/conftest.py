"""Fixtures of the blob tests: the BlobData harness, web3 and a signer for blob transactions."""

import pytest
from blobs_helpers import local_account


@pytest.fixture(scope="module")
def harness(project, deployer):
    return deployer.deploy(project.BlobDataHarness)


@pytest.fixture(scope="module")
def w3(chain):
    return chain.provider.web3


@pytest.fixture(scope="module")
def blob_signer(accounts):
    # An account no other fixture sends from, so Ape's and web3's nonces never collide.
    return local_account(accounts[7])
