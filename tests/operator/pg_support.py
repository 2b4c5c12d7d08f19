"""A real PostgreSQL server for the tests, started by the tests themselves (the `pgserver` wheel),
and a fresh database per test on it.

`L2KIT_TEST_POSTGRES=postgresql://...` uses that server instead (a role allowed to CREATE
DATABASE). When no server can be had, the tests that need one skip and say exactly why;
`L2KIT_REQUIRE_POSTGRES=1` (for CI) turns that skip into a failure.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

HOW_TO_GET_IT = "`make setup` installs pgserver and psycopg (requirements.lock)"


class PostgresUnavailable(Exception):
    """No PostgreSQL server for the tests; the message says why and how to get one."""


@dataclass
class PostgresServer:
    """A server the tests may create databases on; `admin_url` names its maintenance database."""

    admin_url: str
    started_in_s: float
    _handle: Any = None
    _data_dir: Path | None = None
    _made: list[str] = field(default_factory=list)
    _shared: str | None = None

    def url(self, database: str) -> str:
        """The URL of `database` on this server (postgresql://..., as `--store` takes it)."""
        return urlsplit(self.admin_url)._replace(path="/" + database).geturl()

    def new_database(self) -> str:
        """A fresh, empty database on this server; returns its URL."""
        import psycopg

        name = f"l2kit_test_{uuid.uuid4().hex[:16]}"
        with psycopg.connect(self.admin_url, autocommit=True) as db:
            db.execute(f'CREATE DATABASE "{name}"')
        self._made.append(name)
        return self.url(name)

    def new_schema_store(self) -> str:
        """A fresh store location that costs a CREATE SCHEMA, not a CREATE DATABASE: a new schema
        in one shared database, named first in the URL's search_path."""
        import psycopg

        if self._shared is None:
            self._shared = self.new_database()
        name = f"s_{uuid.uuid4().hex[:16]}"
        with psycopg.connect(self._shared, autocommit=True) as db:
            db.execute(f'CREATE SCHEMA "{name}"')
        parts = urlsplit(self._shared)
        query = "&".join(q for q in (parts.query, f"options=-csearch_path%3D{name}") if q)
        return parts._replace(query=query).geturl()

    def drop_database(self, url: str) -> None:
        import psycopg
        from psycopg import conninfo

        name = conninfo.conninfo_to_dict(url)["dbname"]
        with psycopg.connect(self.admin_url, autocommit=True) as db:
            db.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        if name in self._made:
            self._made.remove(name)

    def stop(self) -> None:
        if self._handle is not None:
            # Its data is deleted next: an immediate stop skips the shutdown checkpoint (seconds
            # of writes for every database the tests made). The handle is then told the server
            # is gone, so that its own clean-up (also run at exit) does not try to stop it again.
            from pgserver._commands import pg_ctl

            handle, self._handle = self._handle, None
            pg_ctl(["-w", "-m", "immediate", "stop"], pgdata=handle.pgdata, user=handle.system_user)
            handle._postmaster_info = None
            handle.cleanup()
        else:
            for name in list(self._made):
                self.drop_database(self.url(name))
        if self._data_dir is not None:
            # Deleting every test database takes seconds on a busy disk: not worth waiting for.
            subprocess.Popen(["rm", "-rf", str(self._data_dir)], start_new_session=True)


def start_server() -> PostgresServer:
    """The external server of L2KIT_TEST_POSTGRES, or a private pgserver one."""
    try:
        import psycopg
    except ImportError as exc:
        raise PostgresUnavailable(f"psycopg is not installed ({exc}): {HOW_TO_GET_IT}") from exc
    external = os.environ.get("L2KIT_TEST_POSTGRES")
    began = time.monotonic()
    if external:
        try:
            psycopg.connect(external, autocommit=True, connect_timeout=5).close()
        except psycopg.Error as exc:
            raise PostgresUnavailable(
                f"L2KIT_TEST_POSTGRES={external} does not answer: {exc}"
            ) from exc
        return PostgresServer(external, time.monotonic() - began)
    try:
        import pgserver
    except ImportError as exc:
        raise PostgresUnavailable(f"pgserver is not installed ({exc}): {HOW_TO_GET_IT}") from exc
    # A short private path: the server's unix socket lives in it (sockets have ~100-byte names).
    data_dir = Path(tempfile.mkdtemp(prefix="l2kit-pg-"))
    try:
        handle = pgserver.get_server(data_dir / "data", cleanup_mode="stop")
        admin_url = handle.get_uri()
    except Exception as exc:
        log = data_dir / "data" / "log"
        tail = log.read_text(errors="replace")[-400:] if log.exists() else "no server log"
        shutil.rmtree(data_dir, ignore_errors=True)
        raise PostgresUnavailable(
            f"the pgserver PostgreSQL server did not start ({type(exc).__name__}: {exc}; "
            f"log: {tail!r}). It needs to run initdb and, as root, a `pgserver` system user"
        ) from exc
    return PostgresServer(admin_url, time.monotonic() - began, handle, data_dir)


@contextmanager
def session_server() -> Iterator[PostgresServer | str]:
    """The test session's server, or the reason there is none."""
    try:
        server = start_server()
    except PostgresUnavailable as exc:
        yield str(exc)
        return
    try:
        yield server
    finally:
        server.stop()
