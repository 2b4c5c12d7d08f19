"""SQLite persistence (write-ahead log, synchronous=FULL): a state is on disk before it is acked.

Channel views are written by a **group commit**: `write_view` queues the row and returns a future;
one writer (a second connection, used from a worker thread so the event loop keeps serving) takes
every queued row, writes them in one transaction (one fsync for all, the last row per channel
wins) and resolves their futures. A co-signed state is acknowledged only after its future
resolved. Rows are written in the order they were queued, so a newer view is never overwritten
by an older one.
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import msgspec

from offchain.channels.machine import ChannelView, view_from_json, view_to_json
from offchain.channels.model import hx, unhx

_JSON = msgspec.json.Encoder()


def _dumps(value: object) -> str:
    """JSON text of a view or value (msgspec: the same JSON as `json.dumps`, compact, faster)."""
    return _JSON.encode(value).decode()


class Store:
    """Channel views by id, and secrets by hashlock. Survives a restart of the node."""

    def __init__(self, path: str | Path) -> None:
        self._db = sqlite3.connect(
            str(path), isolation_level=None, check_same_thread=False, timeout=30
        )
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")
        self._durable = True
        self._path = str(path)
        self._writer: sqlite3.Connection | None = None  # the group commit's own connection
        self._queue: list[
            tuple[tuple[str, str, str] | None, dict[str, str], dict[str, str], bool, asyncio.Future]
        ] = []
        self._flusher: asyncio.Task | None = None
        self._closed = False
        self.commits = 0  # transactions written by the group commit (one fsync each)
        # secrets queued with a view are known at once, before their transaction commits: the
        # view is the node's view from the moment it is queued, and a view without the secret it
        # was claimed with would make the lock rules give back a lock whose secret we hold
        self._secrets: dict[bytes, bytes] = {}
        self._kv: dict[str, str] = {}  # key-values queued by `put_queued`, known at once too
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

    def write_view(
        self,
        view: ChannelView,
        durable: bool = True,
        secrets: Mapping[bytes, bytes] | None = None,
    ) -> asyncio.Future:
        """Queue a view for the group commit (with the secrets its state was claimed with, in
        the same transaction); the future resolves once it is on disk (fsynced if `durable`)."""
        self._check_open()
        loop = asyncio.get_running_loop()
        fut = loop.create_future()
        row = (hx(view.channel_id), view.peer.lower(), _dumps(view_to_json(view)))
        self._secrets.update(secrets or {})
        sec = {hx(h): hx(x) for h, x in (secrets or {}).items()}
        self._queue.append((row, sec, {}, durable, fut))
        if self._flusher is None:
            self._flusher = loop.create_task(self._flush())
        return fut

    def put_queued(self, key: str, value: object) -> asyncio.Future:
        """`put` through the group commit, without an fsync of its own and without blocking the
        event loop: `get` sees the value at once, and it is on disk no later than any view
        queued after it (the log is written in queue order, so the next durable commit carries
        it). For marks whose loss in a crash before that commit is harmless."""
        self._check_open()
        loop = asyncio.get_running_loop()
        fut = loop.create_future()
        v = _dumps(value)
        self._kv[key] = v
        self._queue.append((None, {}, {key: v}, False, fut))
        if self._flusher is None:
            self._flusher = loop.create_task(self._flush())
        return fut

    def _check_open(self) -> None:
        if self._closed:
            raise RuntimeError("the store is closed")

    async def _flush(self) -> None:
        try:
            while self._queue:
                items, self._queue = self._queue, []
                try:
                    await asyncio.to_thread(self._write_all, items)
                except Exception as e:  # every waiter learns it; nothing is acknowledged
                    for *_, fut in items:
                        if not fut.done():
                            fut.set_exception(e)
                    continue
                for *_, fut in items:
                    if not fut.done():
                        fut.set_result(None)
        finally:
            self._flusher = None

    def _write_all(self, items: list) -> None:
        if self._writer is None:
            self._writer = sqlite3.connect(
                self._path, isolation_level=None, check_same_thread=False, timeout=30
            )
        db = self._writer
        durable = any(d for _, _, _, d, _ in items)
        db.execute(f"PRAGMA synchronous={'FULL' if durable else 'NORMAL'}")
        rows: dict[str, tuple[str, str, str]] = {}
        secrets: dict[str, str] = {}
        kv: dict[str, str] = {}
        for row, sec, pairs, _, _ in items:
            if row is not None:
                rows[row[0]] = row  # in queue order: the newest view of a channel wins
            secrets.update(sec)
            kv.update((k, self._kv.get(k, v)) for k, v in pairs.items())  # the newest value
        db.execute("BEGIN IMMEDIATE")
        try:
            if secrets:
                db.executemany(
                    "INSERT OR IGNORE INTO secrets (hashlock, secret) VALUES (?, ?)",
                    list(secrets.items()),
                )
            if kv:
                db.executemany("INSERT OR REPLACE INTO kv (k, v) VALUES (?, ?)", list(kv.items()))
            db.executemany(
                "INSERT OR REPLACE INTO channels (id, peer, view) VALUES (?, ?, ?)",
                list(rows.values()),
            )
        except BaseException:
            db.execute("ROLLBACK")
            raise
        db.execute("COMMIT")
        self.commits += 1

    async def drain(self) -> None:
        """Wait until every queued view is written."""
        while self._flusher is not None:
            await asyncio.shield(self._flusher)

    def views(self) -> list[ChannelView]:
        rows = self._db.execute("SELECT view FROM channels").fetchall()
        return [view_from_json(json.loads(r[0])) for r in rows]

    def put_secret(self, hashlock: bytes, secret: bytes) -> None:
        self._secrets[hashlock] = secret
        self._db.execute(
            "INSERT OR IGNORE INTO secrets (hashlock, secret) VALUES (?, ?)",
            (hx(hashlock), hx(secret)),
        )

    def put_invoice(self, hashlock: bytes, secret: bytes, amount: int) -> None:
        """An invoice's secret and amount, in one transaction (one fsync, both or neither)."""
        self._secrets[hashlock] = secret
        if not self._durable:
            self._db.execute("PRAGMA synchronous=FULL")
            self._durable = True
        with self._db:
            self._db.execute("BEGIN IMMEDIATE")
            self._db.execute(
                "INSERT OR IGNORE INTO secrets (hashlock, secret) VALUES (?, ?)",
                (hx(hashlock), hx(secret)),
            )
            self._db.execute(
                "INSERT OR REPLACE INTO kv (k, v) VALUES (?, ?)",
                ("invoice:" + hx(hashlock), json.dumps(amount)),
            )

    def secret(self, hashlock: bytes) -> bytes | None:
        known = self._secrets.get(hashlock)
        if known is not None:
            return known
        row = self._db.execute(
            "SELECT secret FROM secrets WHERE hashlock = ?", (hx(hashlock),)
        ).fetchone()
        return None if row is None else unhx(row[0], 32)

    def put(self, key: str, value: object) -> None:
        v = json.dumps(value)
        if key in self._kv:
            self._kv[key] = v
        self._db.execute("INSERT OR REPLACE INTO kv (k, v) VALUES (?, ?)", (key, v))

    def get(self, key: str, default: Any = None) -> Any:  # a JSON value
        queued = self._kv.get(key)
        if queued is not None:
            return json.loads(queued)
        row = self._db.execute("SELECT v FROM kv WHERE k = ?", (key,)).fetchone()
        return default if row is None else json.loads(row[0])

    def items(self, prefix: str) -> list[tuple[str, object]]:
        """Every (key, value) whose key starts with `prefix`."""
        rows = dict(
            self._db.execute(
                "SELECT k, v FROM kv WHERE substr(k, 1, ?) = ?", (len(prefix), prefix)
            ).fetchall()
        )
        rows.update((k, v) for k, v in self._kv.items() if k.startswith(prefix))
        return [(k, json.loads(v)) for k, v in rows.items()]

    def close(self) -> None:
        self._closed = True
        if self._writer is not None:
            self._writer.close()
        self._db.close()
