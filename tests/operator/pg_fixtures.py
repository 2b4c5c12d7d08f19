"""The PostgreSQL fixtures (`pg_server`, `pg_url`), shared by tests/operator and tests/zk:
`from pg_fixtures import pg_server, pg_url` in a conftest (tests/zk puts this folder on
sys.path first)."""

import os

import pytest
from pg_support import session_server


@pytest.fixture(scope="session")
def pg_server():
    """The session's PostgreSQL server (pgserver, started once, ~1 s), or a skip saying why."""
    with session_server() as server:
        if isinstance(server, str):
            if os.environ.get("L2KIT_REQUIRE_POSTGRES") == "1":
                pytest.fail(f"L2KIT_REQUIRE_POSTGRES=1 but no PostgreSQL server: {server}")
            pytest.skip(f"no PostgreSQL server for the tests: {server}")
        yield server


@pytest.fixture
def pg_url(pg_server):
    """A fresh, empty database for one test (CREATE DATABASE on the session's server, ~0.1 s;
    not dropped one by one, as DROP DATABASE forces a checkpoint: all go with the server)."""
    return pg_server.new_database()
