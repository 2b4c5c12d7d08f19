"""A process serving the HTTP front over a real SQLite admission, for the SIGKILL test:
`python http_front_proc.py DB` prints `READY <url>` and serves until killed.

The admission stores each accepted transaction (its `id`) in one SQLite transaction per group
(WAL, synchronous=FULL: one fsync per group), as the store's `append_txs` does."""

from __future__ import annotations

import sqlite3
import sys
import threading
from collections.abc import Mapping, Sequence
from typing import Any

from offchain.sequencer.core import Rejected
from offchain.sequencer.http_api import int_field
from offchain.sequencer.http_server import HttpFront, HttpServer
from offchain.sequencer.intake import Intake


class SqliteAdmission:
    def __init__(self, path: str) -> None:
        self.db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=FULL")
        self.db.execute(
            "CREATE TABLE IF NOT EXISTS txs (seq INTEGER PRIMARY KEY, id INTEGER UNIQUE)"
        )

    def prepare(self, body: Mapping[str, Any]) -> int:
        return int_field(dict(body), "id", 0, 2**62)

    def admit_many(self, prepared: Sequence[int]) -> list[Any]:
        known = {
            row[0]
            for row in self.db.execute(
                f"SELECT id FROM txs WHERE id IN ({','.join('?' * len(prepared))})", prepared
            )
        }
        fresh: list[int] = []
        out: list[Any] = []
        for ident in prepared:
            if ident in known or ident in fresh:
                out.append(Rejected("duplicate", f"{ident} was accepted before"))
            else:
                fresh.append(ident)
                out.append(ident)
        self.db.execute("BEGIN IMMEDIATE")
        self.db.executemany("INSERT INTO txs (id) VALUES (?)", [(i,) for i in fresh])
        self.db.execute("COMMIT")  # durable from here: only now may anything be acknowledged
        return [{"id": x, "status": "pending"} if isinstance(x, int) else x for x in out]


def main() -> None:
    intake = Intake(SqliteAdmission(sys.argv[1]))
    intake.start()
    server = HttpServer(HttpFront([], intake))
    server.start()
    print(f"READY {server.url}", flush=True)
    threading.Event().wait()


if __name__ == "__main__":
    main()
