"""SQLite persistence (write-ahead log, synchronous=FULL): a state is on disk before it is acked."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from offchain.channels.machine import ChannelView, view_from_json, view_to_json
from offchain.channels.model import hx, unhx


class Store:
    """Channel views by id, and secrets by hashlock. Survives a restart of the node."""

    def __init__(self, path: str | Path) -> None:
        self._db = sqlite3.connect(str(path), isolation_level=None, check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")
        self._durable = True
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS channels "
            "(id TEXT PRIMARY KEY, peer TEXT, view TEXT NOT NULL)"
        )
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS secrets (hashlock TEXT PRIMARY KEY, secret TEXT NOT NULL)"
        )
        self._db.execute("CREATE TABLE IF NOT EXISTS kv (k TEXT PRIMARY KEY, v TEXT NOT NULL)")

    def put_view(
        self,
        view: ChannelView,
        durable: bool = True,
        secrets: Mapping[bytes, bytes] | None = None,
    ) -> None:
        """Write a view; durable=True (a new co-signed state) waits for fsync, False (only our
        own unacknowledged proposal) lets the next durable write carry it to disk. `secrets`
        (hashlock -> secret) are written in the same transaction: a state that applies a claim
        is never on disk without the secret it was claimed with (a crash cannot split them)."""
        if durable != self._durable:
            self._db.execute(f"PRAGMA synchronous={'FULL' if durable else 'NORMAL'}")
            self._durable = durable
        row = (hx(view.channel_id), view.peer.lower(), json.dumps(view_to_json(view)))
        if not secrets:
            self._db.execute(
                "INSERT OR REPLACE INTO channels (id, peer, view) VALUES (?, ?, ?)", row
            )
            return
        with self._db:  # one transaction: both or neither
            self._db.execute("BEGIN IMMEDIATE")
            self._db.executemany(
                "INSERT OR IGNORE INTO secrets (hashlock, secret) VALUES (?, ?)",
                [(hx(h), hx(x)) for h, x in secrets.items()],
            )
            self._db.execute(
                "INSERT OR REPLACE INTO channels (id, peer, view) VALUES (?, ?, ?)", row
            )

    def views(self) -> list[ChannelView]:
        rows = self._db.execute("SELECT view FROM channels").fetchall()
        return [view_from_json(json.loads(r[0])) for r in rows]

    def put_secret(self, hashlock: bytes, secret: bytes) -> None:
        self._db.execute(
            "INSERT OR IGNORE INTO secrets (hashlock, secret) VALUES (?, ?)",
            (hx(hashlock), hx(secret)),
        )

    def secret(self, hashlock: bytes) -> bytes | None:
        row = self._db.execute(
            "SELECT secret FROM secrets WHERE hashlock = ?", (hx(hashlock),)
        ).fetchone()
        return None if row is None else unhx(row[0], 32)

    def put(self, key: str, value: object) -> None:
        self._db.execute("INSERT OR REPLACE INTO kv (k, v) VALUES (?, ?)", (key, json.dumps(value)))

    def get(self, key: str, default: Any = None) -> Any:  # a JSON value
        row = self._db.execute("SELECT v FROM kv WHERE k = ?", (key,)).fetchone()
        return default if row is None else json.loads(row[0])

    def items(self, prefix: str) -> list[tuple[str, object]]:
        """Every (key, value) whose key starts with `prefix`."""
        rows = self._db.execute(
            "SELECT k, v FROM kv WHERE substr(k, 1, ?) = ?", (len(prefix), prefix)
        ).fetchall()
        return [(k, json.loads(v)) for k, v in rows]

    def close(self) -> None:
        self._db.close()
