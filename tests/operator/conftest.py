"""Fixtures for the operator tests: the rollup deployed as `ape run deploy` does, users funded."""

import pytest
from operator_helpers import BOND, CHALLENGE, settings_for

from offchain.deploy import DeployParams, deploy_all
from offchain.sequencer.http_api import JsonApiServer
from offchain.sequencer.optimistic import Batcher
from offchain.sequencer.routes import routes


@pytest.fixture
def deployment(deployer):
    return deploy_all(deployer, "ethereum:local", DeployParams(BOND, CHALLENGE, test_tokens=True))


@pytest.fixture
def contracts(project, deployment):
    return (
        project.L1Bridge.at(deployment.address("RollupBridge")),
        project.Rollup.at(deployment.address("Rollup")),
    )


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
