"""Fixtures for the payment-channel tests: the adjudicator, a token, signers and helpers."""

from __future__ import annotations

import pytest
from channels_helpers import ETH, PERIOD, opened_id

from offchain.channels import crypto
from offchain.channels.model import State


@pytest.fixture(scope="session")
def adjudicator(project, deployer):
    return deployer.deploy(project.ChannelAdjudicator, 10_000)


@pytest.fixture(scope="session")
def token(project, deployer, alice, bob):
    t = deployer.deploy(project.TestToken, "Test", "TST", 18)
    for acct in (alice, bob):
        t.mint(acct, 10**24, sender=deployer)
    return t


@pytest.fixture(scope="session")
def domain(adjudicator, chain):
    return crypto.Domain(chain.chain_id, adjudicator.address)


@pytest.fixture(scope="session")
def sig_alice(alice):
    return crypto.Signer(alice.private_key)


@pytest.fixture(scope="session")
def sig_bob(bob):
    return crypto.Signer(bob.private_key)


class Cosign:
    """Signs states for one channel with both participants' keys."""

    def __init__(self, domain, sa, sb):
        self.domain, self.sa, self.sb = domain, sa, sb

    def __call__(self, s: State) -> tuple[tuple, bytes, bytes]:
        d = crypto.state_digest(self.domain, s)
        return s.as_tuple(), self.sa.sign(d), self.sb.sign(d)


@pytest.fixture(scope="session")
def cosign(domain, sig_alice, sig_bob):
    return Cosign(domain, sig_alice, sig_bob)


@pytest.fixture
def eth_channel(adjudicator, alice, bob):
    """A=alice deposits 10 ETH, B=bob funds 5 ETH; returns the channel id."""
    r = adjudicator.open(bob, ETH, PERIOD, 10 * 10**18, sender=alice, value=10 * 10**18)
    cid = opened_id(r)
    adjudicator.fund(cid, 5 * 10**18, sender=bob, value=5 * 10**18)
    return cid
