"""Fixtures for the operator tests: the rollup deployed as `ape run deploy` does, users funded."""

import json
import urllib.error
import urllib.request

import pytest
from web3 import Web3

from offchain.deploy import DeployParams, deploy_all
from offchain.operator.batcher import Batcher, BatcherSettings
from offchain.operator.batcher_api import routes
from offchain.operator.http_api import JsonApiServer
from offchain.operator.l1_sender import SendPolicy
from offchain.recipient import address_recipient

CHALLENGE = 100
BOND = 10**18


@pytest.fixture
def deployment(deployer):
    return deploy_all(deployer, "ethereum:local", DeployParams(BOND, CHALLENGE, test_tokens=True))


@pytest.fixture
def contracts(project, deployment):
    return (
        project.L1Bridge.at(deployment.address("RollupBridge")),
        project.Rollup.at(deployment.address("Rollup")),
    )


def fund(bridge, user, amount):
    bridge.depositETH(address_recipient(user.address), value=amount, sender=user)


def settings_for(chain, deployment, deployer, store_path, **overrides) -> BatcherSettings:
    base = dict(
        rpc=chain.provider.uri,
        rollup=deployment.address("Rollup"),
        bridge=deployment.address("RollupBridge"),
        proposer_key=bytes(deployer.private_key_bytes)
        if hasattr(deployer, "private_key_bytes")
        else bytes.fromhex(deployer.private_key.removeprefix("0x")),
        store_path=store_path,
        max_batch_delay=3600,
        send_policy=SendPolicy(receipt_timeout=5, backoff=0.05, max_backoff=0.2),
    )
    base.update(overrides)
    return BatcherSettings(**base)


@pytest.fixture
def make_batcher(chain, deployment, deployer, tmp_path):
    made = []

    def make(**overrides):
        b = Batcher(
            settings_for(chain, deployment, deployer, tmp_path / "batcher.sqlite", **overrides)
        )
        b.recover()
        b.ensure_bond()
        made.append(b)
        return b

    yield make
    for b in made:
        b.store.close()


@pytest.fixture
def api(make_batcher):
    batcher = make_batcher()
    server = JsonApiServer(routes(batcher))
    server.start()
    yield batcher, server.url
    server.stop()


def http(url, method="GET", body=None):
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(
        url, data=data, method=method, headers={"Content-Type": "application/json"}
    )
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            return resp.status, json.loads(resp.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def advance(chain, seconds):
    w3 = Web3(Web3.HTTPProvider(chain.provider.uri))
    w3.provider.make_request("evm_increaseTime", [seconds])
    w3.provider.make_request("evm_mine", [])
