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


class Net:
    """Builds channel nodes (asyncio tasks on loopback) wired to the test chain."""

    def __init__(self, chain, adjudicator, tmp_path) -> None:
        from channels_helpers import Clock

        self.chain = chain
        self.url = chain.provider.uri
        self.adjudicator = adjudicator
        self.abi = [x.model_dump(mode="json", by_alias=True) for x in adjudicator.contract_type.abi]
        self.domain = crypto.Domain(chain.chain_id, adjudicator.address)
        self.clock = Clock(chain)
        self.tmp = tmp_path
        self.nodes: list = []

    def client(self, account):
        from offchain.channels.chain import ChainClient

        return ChainClient(self.url, self.adjudicator.address, self.abi, account.private_key)

    async def node(self, account, name: str, tower=None, **cfg):
        from offchain.channels.node import Node, NodeConfig

        cfg.setdefault("request_timeout", 3.0)
        n = Node(
            account.private_key,
            self.tmp / f"{name}.db",
            self.domain,
            chain=self.client(account),
            clock=self.clock,
            config=NodeConfig(**cfg),
            tower=tower,
        )
        await n.start()
        for other in self.nodes:
            other.add_peer(n.address, "127.0.0.1", n.port)
            n.add_peer(other.address, "127.0.0.1", other.port)
        self.nodes.append(n)
        return n

    async def restart(self, old, account, name: str, **cfg):
        """A node coming back from its database on a fresh port."""
        self.nodes.remove(old)
        return await self.node(account, name, **cfg)

    async def stop_all(self) -> None:
        for n in self.nodes:
            await n.stop()
        self.nodes.clear()


@pytest.fixture
def net(chain, adjudicator, tmp_path):
    return Net(chain, adjudicator, tmp_path)


@pytest.fixture(scope="session")
def dave(accounts):
    return accounts[4]


@pytest.fixture(scope="session")
def tower_account(accounts):
    return accounts[5]
