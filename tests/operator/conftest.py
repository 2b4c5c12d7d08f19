"""Fixtures for the operator tests: the rollup deployed as `ape run deploy` does, users funded."""

import operator_helpers
import pytest
from operator_helpers import BOND, CHALLENGE, register_keys, settings_for
from pg_fixtures import pg_server, pg_url  # noqa: F401 - fixtures

from offchain.deploy import DeployParams, deploy_all
from offchain.sequencer.config import SequencerConfig
from offchain.sequencer.http_server import serve
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
def bls_keys(chain, project, deployment, accounts):
    """Users 1..4 (alice, bob, carol, ...) with registered, active BLS keys (format v2)."""
    keys = register_keys(chain, project, deployment, [accounts[i] for i in range(1, 5)])
    operator_helpers.KEYS.clear()
    operator_helpers.KEYS.update(keys)
    return keys


@pytest.fixture
def make_batcher(chain, deployment, deployer, tmp_path, bls_keys):
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
    server = serve(SequencerConfig(port=0), batcher.core, routes(batcher))
    yield batcher, server.url
    server.close()


# -- PostgreSQL (issue #10: the store for several API front-ends against one sequencer) ---------


@pytest.fixture(scope="session", params=["sqlite", "postgres"])
def store_backend(request):
    return request.param


@pytest.fixture(scope="session")
def new_store_url(request, store_backend, tmp_path_factory):
    """Makes a new, empty store location of the parametrized kind: an SQLite path or a
    PostgreSQL database URL. `open_store(new_store_url())` opens it; opening the same location
    again is a restart."""
    if store_backend == "sqlite":
        return lambda: str(tmp_path_factory.mktemp("store") / "op.sqlite")
    server = request.getfixturevalue("pg_server")
    return server.new_schema_store


@pytest.fixture(params=["sqlite", "postgres"])
def store_location(request, tmp_path):
    """A fresh store for one test, of each kind in turn: what `--store` takes (a file path, or a
    postgresql:// URL of a new database). For the service and crash tests to run on both."""
    if request.param == "sqlite":
        return str(tmp_path / "batcher.sqlite")
    return request.getfixturevalue("pg_url")
