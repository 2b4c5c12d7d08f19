"""The operator's durable store on PostgreSQL, for several API front-ends against one sequencer.

Same public API and guarantees as the SQLite `OperatorStore` (a transaction is committed, with a
synchronous commit, before it is acknowledged; a batch intent is committed before it is sent; the
L1 send journal; binding to one deployment; a schema version), plus what several processes on one
database need:

- **Sequence numbers ordered by commit.** Every append takes the one row of `seq_counter` (a row
  lock held until its commit), so appends from any number of processes commit one after another
  and each gets seqs above every committed one. A reader paging by `seq` (the sequencer reading
  what the front-ends accepted) can therefore never skip a row committed later with a smaller
  seq, which a SEQUENCE or identity column would allow.
- **At most one sequencer posts.** The first write only a sequencer makes (a batch intent, a batch
  status, a journaled L1 send, a dropped transaction) takes a session-level advisory lock on a
  key derived from the deployment binding (`acquire_leader` takes it up front, at start-up); a
  second sequencer is refused with one line naming the holder. The lock lives as long as this
  connection: if the connection breaks, every later write of this process fails too, so a
  process that lost the lock cannot write an intent (and therefore cannot send).

docs/operator.md ("PostgreSQL store") describes when to use it and the schema.
"""

from __future__ import annotations

import hashlib
import json
import re
import threading
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import psycopg
from psycopg import conninfo, errors

from offchain.l1.sender import SendRecord
from offchain.sequencer.store import (
    BatchStatus,
    DeploymentBinding,
    DuplicateTransaction,
    StoredBatch,
    StoredTx,
    StoreError,
    TxStatus,
    WrongDeployment,
)

#: Version of the PostgreSQL schema below (its own numbering, independent of SQLite's).
#: 2: the send journal keeps the blob fee of the last version (`l1_sends.blob_fee`); 3:
#: optimistic tx payloads are rollup format v2 (offchain/sequencer/payload.py).
SCHEMA_VERSION = 3

#: The persistent counters every store keeps (they survive restarts; metrics read them).
COUNTER_NAMES = (
    "txs_accepted",
    "txs_rejected",
    "batches_posted",
    "txs_posted",
    "deposits_posted",
    "l1_gas",
    "l1_bytes",
    "sender_retries",
    "blob_postings",
    "blob_gas",
)

_INT64 = (-(2**63), 2**63 - 1)
_COUNTER_NAME = re.compile(r"[a-z][a-z0-9_]{0,62}")
# Transaction-scoped advisory lock serializing schema creation and binding between processes.
_SCHEMA_LOCK = 0x6C326B6974_5343  # "l2kit" "SC"

_SCHEMA = (
    "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
    "CREATE TABLE seq_counter (only_row BOOLEAN PRIMARY KEY DEFAULT TRUE CHECK (only_row),"
    " last_seq BIGINT NOT NULL)",
    "INSERT INTO seq_counter (only_row, last_seq) VALUES (TRUE, 0)",
    "CREATE TABLE txs (seq BIGINT PRIMARY KEY, tx_hash BYTEA NOT NULL UNIQUE,"
    " kind TEXT NOT NULL, payload BYTEA NOT NULL, status TEXT NOT NULL, batch_index BIGINT,"
    " received_at DOUBLE PRECISION NOT NULL, note TEXT)",
    "CREATE INDEX txs_by_status ON txs (status, seq)",
    "CREATE INDEX txs_by_batch ON txs (batch_index)",
    "CREATE TABLE batches (batch_index BIGINT PRIMARY KEY, pre_root BYTEA NOT NULL,"
    " post_root BYTEA NOT NULL, data BYTEA NOT NULL, first_seq BIGINT NOT NULL,"
    " last_seq BIGINT NOT NULL, status TEXT NOT NULL, l1_tx_hash TEXT, l1_block BIGINT,"
    " created_at DOUBLE PRECISION NOT NULL)",
    "CREATE TABLE l1_sends (key TEXT PRIMARY KEY, nonce BIGINT NOT NULL,"
    " tx_hashes TEXT[] NOT NULL, max_fee NUMERIC(78, 0) NOT NULL,"
    " priority_fee NUMERIC(78, 0) NOT NULL, blob_fee NUMERIC(78, 0) NOT NULL DEFAULT 0,"
    " updated_at DOUBLE PRECISION NOT NULL)",
    "CREATE TABLE counters (name TEXT PRIMARY KEY, value BIGINT NOT NULL)",
    "CREATE TABLE checkpoints (name TEXT PRIMARY KEY, data BYTEA NOT NULL,"
    " updated_at DOUBLE PRECISION NOT NULL)",
)

_TX_COLUMNS = "seq, tx_hash, kind, payload, status, batch_index, received_at, note"
_BATCH_COLUMNS = (
    "batch_index, pre_root, post_root, data, first_seq, last_seq, status, l1_tx_hash, l1_block"
)


class LeaderLockHeld(StoreError):
    """Another sequencer holds the leader lock of this deployment's store."""


def display_url(url: str) -> str:
    """`url` without its password, in the form postgresql://user@host:port/db."""
    try:
        parts = conninfo.conninfo_to_dict(url)
    except psycopg.ProgrammingError:
        return "postgresql://<unparseable URL>"
    user = f"{parts['user']}@" if parts.get("user") else ""
    host = str(parts.get("host") or "")
    port = f":{parts['port']}" if parts.get("port") else ""
    return f"postgresql://{user}{host}{port}/{parts.get('dbname') or ''}"


def leader_key(binding: DeploymentBinding | None) -> int:
    """The advisory-lock key (a signed 64-bit integer) of the sequencer of `binding`."""
    if binding is None:
        text = "l2kit-sequencer-leader:unbound"
    else:
        text = (
            f"l2kit-sequencer-leader:{binding.chain_id}:{binding.rollup.lower()}:"
            f"{binding.deployment_block}:{binding.block_hash.lower()}"
        )
    return int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "big", signed=True)


class PostgresStore:
    """PostgreSQL-backed, crash-safe (synchronous commit), safe to share between threads, and
    safe to share between processes (several front-ends appending, one sequencer posting)."""

    def __init__(self, url: str, *, leader: bool = False, connect_timeout: float = 10.0) -> None:
        """Connect to the database at `url` (postgresql://user@host:port/db), create the schema
        in an empty database or check the version of an existing one.

        With `leader`, the sequencer leader lock is taken as soon as the store is bound (or now,
        if it is bound already); without it, on the first write only a sequencer makes.
        """
        self._url = url  # holds the password, if the URL has one: never shown
        self.name = display_url(url)
        self._lock = threading.RLock()
        self._leader_key: int | None = None
        self._want_leader = leader
        try:
            self._db = psycopg.connect(
                url,
                autocommit=True,
                connect_timeout=max(1, round(connect_timeout)),
                application_name="l2kit-store",
            )
        except psycopg.Error as exc:
            raise StoreError(
                f"cannot connect to the PostgreSQL store {self.name}: {_first_line(exc)}. Check "
                "the URL (postgresql://user@host:port/db), that the server runs and that the "
                "database exists (createdb)"
            ) from exc
        try:
            self._prepare_session()
            self._create_or_check_schema()
            if leader and self.binding() is not None:
                self.acquire_leader()
        except BaseException:
            self._db.close()
            raise

    @property
    def path(self) -> str:
        """What names this store in messages (the URL without its password)."""
        return self.name

    # -- plumbing -----------------------------------------------------------------------------

    def _prepare_session(self) -> None:
        if self._read("SHOW fsync") == [("off",)]:
            raise StoreError(
                f"the PostgreSQL server of {self.name} runs with fsync=off: a crash could lose "
                "acknowledged transactions. Turn fsync on (postgresql.conf) before using it"
            )
        if self._read("SHOW synchronous_commit") == [("off",)]:
            # A commit must be on disk before the API acknowledges it; stricter settings
            # (remote_write, remote_apply) configured by the operator are kept.
            self._db.execute("SET synchronous_commit TO on")

    @contextmanager
    def _tx(self) -> Iterator[psycopg.Connection[Any]]:
        """One database transaction under the store's lock; psycopg errors become StoreError."""
        with self._lock:
            try:
                with self._db.transaction():
                    yield self._db
            except psycopg.Error as exc:
                raise StoreError(
                    f"the PostgreSQL store {self.name} failed: {_first_line(exc)}. The operation"
                    " was rolled back, unless the connection broke while committing (then its "
                    "outcome is unknown): restart the service, it recovers from the store"
                ) from exc

    def _read(self, query: str, args: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        """One statement outside any explicit transaction (autocommit: its own snapshot)."""
        with self._lock:
            try:
                return self._db.execute(query, args).fetchall()
            except psycopg.Error as exc:
                raise StoreError(
                    f"the PostgreSQL store {self.name} failed to answer: {_first_line(exc)}. "
                    "Check that the server runs; restart the service once it does"
                ) from exc

    def _create_or_check_schema(self) -> None:
        with self._tx() as db:
            db.execute("SELECT pg_advisory_xact_lock(%s)", (_SCHEMA_LOCK,))
            exists = db.execute("SELECT to_regclass('meta') IS NOT NULL").fetchone()
            if exists is not None and exists[0]:
                row = db.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
                found = None if row is None else row[0]
                if found != str(SCHEMA_VERSION):
                    raise StoreError(
                        f"{self.name} has schema version {found}, this operator needs "
                        f"{SCHEMA_VERSION}: use the matching l2kit version or start from a new "
                        "store (a new database)"
                    )
                return
            held = db.execute(
                "SELECT count(*) FROM pg_tables WHERE schemaname = current_schema()"
            ).fetchone()
            if held is not None and held[0]:
                raise StoreError(
                    f"{self.name} already holds {held[0]} tables of something else: give the "
                    "store a database of its own (CREATE DATABASE ...)"
                )
            for statement in _SCHEMA:
                db.execute(statement)
            db.execute(
                "INSERT INTO meta (key, value) VALUES ('schema_version', %s)",
                (str(SCHEMA_VERSION),),
            )

    def close(self) -> None:
        """Close the connection (this releases the leader lock)."""
        with self._lock:
            self._db.close()
            self._leader_key = None

    # -- the sequencer leader lock ----------------------------------------------------------------

    @property
    def is_leader(self) -> bool:
        """Whether this store holds the sequencer leader lock of its deployment."""
        return self._leader_key is not None

    def acquire_leader(self) -> None:
        """Take the sequencer leader lock of this store's deployment for this session.

        Raises LeaderLockHeld (one line naming the holder) if another session holds it.
        """
        with self._tx() as db:  # session-level locks ignore the transaction around them
            key = leader_key(self._binding_in(db))
            if self._leader_key == key:
                return
            self._take_leader_lock(db, key)
            if self._leader_key is not None:
                db.execute("SELECT pg_advisory_unlock(%s)", (self._leader_key,))
            self._leader_key = key

    def _take_leader_lock(self, db: psycopg.Connection[Any], key: int) -> None:
        row = db.execute("SELECT pg_try_advisory_lock(%s)", (key,)).fetchone()
        if row is not None and row[0]:
            return
        holder = self._lock_holder(db, key)
        binding = self._binding_in(db)
        what = "this deployment" if binding is None else binding.describe()
        raise LeaderLockHeld(
            f"another sequencer holds the leader lock of {what} in the PostgreSQL store "
            f"{self.name} ({holder}): only one sequencer may build and post batches. Stop it "
            "first, or run this process as an API front-end only"
        )

    @staticmethod
    def _lock_holder(db: psycopg.Connection[Any], key: int) -> str:
        unsigned = key % 2**64
        row = db.execute(
            "SELECT a.pid, a.client_addr::text, a.application_name, a.backend_start"
            " FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid"
            " WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 1"
            " AND l.classid = %s::bigint::oid AND l.objid = %s::bigint::oid"
            " AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())",
            (unsigned >> 32, unsigned & 0xFFFFFFFF),
        ).fetchone()
        if row is None:
            return "holder not visible to this user"
        pid, addr, app, since = row
        started = since.isoformat(timespec="seconds") if since is not None else "?"
        client = addr or "local socket"
        return f"server pid {pid}, client {client}, {app or 'no name'}, since {started}"

    def _require_leader(self, db: psycopg.Connection[Any]) -> None:
        """Called inside every write only a sequencer makes: take the lock if not held yet."""
        if self._leader_key is None:
            key = leader_key(self._binding_in(db))
            self._take_leader_lock(db, key)
            self._leader_key = key

    # -- meta ---------------------------------------------------------------------------------

    def get_meta(self, key: str) -> str | None:
        rows = self._read("SELECT value FROM meta WHERE key = %s", (key,))
        return None if not rows else str(rows[0][0])

    def set_meta(self, key: str, value: str) -> None:
        with self._tx() as db:
            db.execute(
                "INSERT INTO meta (key, value) VALUES (%s, %s) "
                "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                (key, value),
            )

    # -- deployment binding ---------------------------------------------------------------------

    def binding(self) -> DeploymentBinding | None:
        rows = self._read("SELECT value FROM meta WHERE key = 'deployment'")
        return None if not rows else DeploymentBinding(**json.loads(rows[0][0]))

    @staticmethod
    def _binding_in(db: psycopg.Connection[Any]) -> DeploymentBinding | None:
        row = db.execute("SELECT value FROM meta WHERE key = 'deployment'").fetchone()
        return None if row is None else DeploymentBinding(**json.loads(row[0]))

    def bind(self, binding: DeploymentBinding) -> None:
        """Tie a new store to `binding`, or check that an existing one belongs to it.

        Raises WrongDeployment (nothing changed) for a store of another deployment, and for a
        store with contents but no binding (written before stores were bound): using either would
        drop acknowledged transactions, forget batches and replay foreign signatures.
        """
        with self._tx() as db:
            db.execute("SELECT pg_advisory_xact_lock(%s)", (_SCHEMA_LOCK,))
            found = self._binding_in(db)
            if found is not None:
                if not _same(found, binding):
                    raise WrongDeployment(
                        f"the store {self.name} belongs to another deployment "
                        f"({found.describe()}), not to this one ({binding.describe()}): nothing "
                        "was changed. Use the store of this deployment (--store, default "
                        "var/<ecosystem>-<network>/...), or move this one aside to start afresh "
                        "only if this deployment is new"
                    )
            else:
                row = db.execute(
                    "SELECT (SELECT count(*) FROM txs) + (SELECT count(*) FROM batches)"
                ).fetchone()
                held = 0 if row is None else int(row[0])
                if held:
                    raise WrongDeployment(
                        f"the store {self.name} holds {held} records but names no deployment "
                        "(an older l2kit wrote it): refusing to guess that it belongs to "
                        f"{binding.describe()}. Move it aside, or run the l2kit version that "
                        "wrote it"
                    )
                db.execute(
                    "INSERT INTO meta (key, value) VALUES ('deployment', %s)",
                    (json.dumps(binding.__dict__, sort_keys=True),),
                )
        if self._want_leader or self._leader_key is not None:
            self.acquire_leader()  # (re)keyed to the binding now stored

    # -- L1 send journal ------------------------------------------------------------------------

    def l1_send(self, key: str) -> SendRecord | None:
        """The nonce, fees and hashes of every version sent for the L1 transaction `key`."""
        rows = self._read(
            "SELECT nonce, tx_hashes, max_fee, priority_fee, blob_fee FROM l1_sends WHERE key = %s",
            (key,),
        )
        if not rows:
            return None
        nonce, hashes, max_fee, priority_fee, blob_fee = rows[0]
        return SendRecord(int(nonce), tuple(hashes), int(max_fee), int(priority_fee), int(blob_fee))

    def record_l1_send(self, key: str, record: SendRecord) -> None:
        """Durably note a version of `key` *before* it is broadcast (write-ahead)."""
        with self._tx() as db:
            self._require_leader(db)
            db.execute(
                "INSERT INTO l1_sends"
                " (key, nonce, tx_hashes, max_fee, priority_fee, blob_fee, updated_at)"
                " VALUES (%s, %s, %s, %s, %s, %s, %s) ON CONFLICT (key) DO UPDATE SET"
                " nonce = excluded.nonce, tx_hashes = excluded.tx_hashes,"
                " max_fee = excluded.max_fee, priority_fee = excluded.priority_fee,"
                " blob_fee = excluded.blob_fee, updated_at = excluded.updated_at",
                (
                    key,
                    record.nonce,
                    list(record.tx_hashes),
                    record.max_fee,
                    record.priority_fee,
                    record.blob_fee,
                    time.time(),
                ),
            )

    def clear_l1_send(self, key: str) -> None:
        """Forget `key` once it is resolved (mined, or superseded and safe to send afresh)."""
        with self._tx() as db:
            self._require_leader(db)
            db.execute("DELETE FROM l1_sends WHERE key = %s", (key,))

    def clear_l1_sends(self, prefix: str) -> None:
        """Forget every journaled send whose key starts with `prefix` (a family of sends)."""
        with self._tx() as db:
            self._require_leader(db)
            db.execute("DELETE FROM l1_sends WHERE starts_with(key, %s)", (prefix,))

    def send_journal(self, key: str) -> PgSendJournal:
        """The journal `offchain.l1.sender.send_transaction` keeps for the L1 transaction `key`."""
        return PgSendJournal(self, key)

    # -- transactions ---------------------------------------------------------------------------

    def append_tx(self, tx_hash: bytes, kind: str, payload: bytes) -> int:
        """Durably record an accepted transaction; returns its sequence number (1, 2, ...)."""
        return self.append_txs([(tx_hash, kind, payload)])[0]

    def append_txs(self, items: Sequence[tuple[bytes, str, bytes]]) -> list[int]:
        """Durably record accepted transactions in one database transaction (one commit);
        returns their sequence numbers in order.

        Raises DuplicateTransaction, storing none of them, if any hash was accepted before or
        appears twice in `items`.
        """
        items = list(items)
        for tx_hash, kind, payload in items:
            if not isinstance(tx_hash, bytes) or not tx_hash:
                raise StoreError(f"a transaction hash must be non-empty bytes, not {tx_hash!r}")
            if not isinstance(kind, str) or not kind:
                raise StoreError(f"a transaction kind must be a non-empty string, not {kind!r}")
            if not isinstance(payload, bytes):
                raise StoreError(f"a transaction payload must be bytes, not {type(payload)}")
        if not items:
            return []
        hashes = [tx_hash for tx_hash, _, _ in items]
        seen: set[bytes] = set()
        for tx_hash in hashes:
            if tx_hash in seen:
                raise DuplicateTransaction(f"transaction 0x{tx_hash.hex()} appears twice")
            seen.add(tx_hash)
        with self._tx() as db:
            # The counter row is locked until this commit: appends commit in seq order.
            row = db.execute(
                "UPDATE seq_counter SET last_seq = last_seq + %s RETURNING last_seq",
                (len(items),),
            ).fetchone()
            if row is None:
                raise StoreError(f"{self.name} has lost its seq_counter row: the store is damaged")
            first = int(row[0]) - len(items) + 1
            known = db.execute(
                "SELECT tx_hash FROM txs WHERE tx_hash = ANY(%s::bytea[]) LIMIT 1", (hashes,)
            ).fetchone()
            if known is not None:
                raise DuplicateTransaction(
                    f"transaction 0x{bytes(known[0]).hex()} was accepted before"
                )
            seqs = list(range(first, first + len(items)))
            try:
                db.execute(
                    "INSERT INTO txs (seq, tx_hash, kind, payload, status, received_at)"
                    " SELECT s, h, k, p, %s, %s FROM unnest(%s::bigint[], %s::bytea[],"
                    " %s::text[], %s::bytea[]) AS u(s, h, k, p)",
                    (
                        TxStatus.PENDING.value,
                        time.time(),
                        seqs,
                        hashes,
                        [kind for _, kind, _ in items],
                        [payload for _, _, payload in items],
                    ),
                )
            except errors.UniqueViolation as exc:  # cannot happen under the counter lock
                raise DuplicateTransaction(f"a transaction was accepted before: {exc}") from exc
            # counted in the same transaction, as the SQLite store does: never off by a crash
            _add_counters(db, {"txs_accepted": len(items)})
        return seqs

    def txs_by_hash(self, hashes: Sequence[bytes]) -> dict[bytes, StoredTx]:
        """The stored records among `hashes` (one query per 1000), by hash."""
        found: dict[bytes, StoredTx] = {}
        for start in range(0, len(hashes), 1000):
            chunk = [bytes(x) for x in hashes[start : start + 1000]]
            rows = self._read(f"SELECT {_TX_COLUMNS} FROM txs WHERE tx_hash = ANY(%s)", (chunk,))
            for row in rows:
                stored = _stored_tx(row)
                found[stored.tx_hash] = stored
        return found

    def tx(self, tx_hash: bytes) -> StoredTx | None:
        rows = self._read(f"SELECT {_TX_COLUMNS} FROM txs WHERE tx_hash = %s", (tx_hash,))
        return None if not rows else _stored_tx(rows[0])

    def txs(
        self, status: TxStatus | None = None, after_seq: int = 0, limit: int | None = None
    ) -> list[StoredTx]:
        """Transactions in acceptance order, optionally only those with `status`, at most
        `limit` of them (the oldest)."""
        query = f"SELECT {_TX_COLUMNS} FROM txs WHERE seq > %s"
        args: list[int | str] = [after_seq]
        if status is not None:
            query += " AND status = %s"
            args.append(status.value)
        query += " ORDER BY seq"
        if limit is not None:
            query += " LIMIT %s"
            args.append(max(0, int(limit)))
        return [_stored_tx(r) for r in self._read(query, args)]

    def count_txs(self, status: TxStatus | None = None) -> int:
        if status is None:
            rows = self._read("SELECT count(*) FROM txs")
        else:
            rows = self._read("SELECT count(*) FROM txs WHERE status = %s", (status.value,))
        return int(rows[0][0])

    def drop_tx(self, seq: int, reason: str) -> None:
        """Mark a pending transaction as dropped (it can no longer be applied), keeping why."""
        with self._tx() as db:
            self._require_leader(db)
            row = db.execute("SELECT status FROM txs WHERE seq = %s FOR UPDATE", (seq,)).fetchone()
            if row is None or row[0] != TxStatus.PENDING.value:
                raise StoreError(f"transaction #{seq} is not pending: it cannot be dropped")
            db.execute(
                "UPDATE txs SET status = %s, note = %s WHERE seq = %s",
                (TxStatus.DROPPED.value, reason, seq),
            )

    # -- batches --------------------------------------------------------------------------------

    def record_batch_intent(
        self,
        batch_index: int,
        pre_root: bytes,
        post_root: bytes,
        data: bytes,
        seqs: Iterable[int],
    ) -> StoredBatch:
        """Record a batch before sending it, moving its transactions out of the pending set.

        `seqs` must be the oldest pending transactions, in order, with no gap: a batch never
        skips or reorders what was acknowledged.
        """
        seqs = list(seqs)
        with self._tx() as db:
            self._require_leader(db)
            if db.execute(
                "SELECT 1 FROM batches WHERE batch_index = %s", (batch_index,)
            ).fetchone():
                raise StoreError(f"batch {batch_index} is recorded already")
            pending = [
                int(r[0])
                for r in db.execute(
                    "SELECT seq FROM txs WHERE status = %s ORDER BY seq LIMIT %s",
                    (TxStatus.PENDING.value, len(seqs)),
                )
            ]
            if pending != seqs:
                raise StoreError(
                    f"batch {batch_index} must take the oldest pending transactions {pending}, "
                    f"not {seqs}"
                )
            first, last = (seqs[0], seqs[-1]) if seqs else (0, 0)
            row = db.execute(
                "INSERT INTO batches (batch_index, pre_root, post_root, data, first_seq, last_seq,"
                " status, created_at) VALUES (%s, %s, %s, %s, %s, %s, %s, %s)"
                f" RETURNING {_BATCH_COLUMNS}",
                (
                    batch_index,
                    pre_root,
                    post_root,
                    data,
                    first,
                    last,
                    BatchStatus.INTENT.value,
                    time.time(),
                ),
            ).fetchone()
            if seqs:
                db.execute(
                    "UPDATE txs SET status = %s, batch_index = %s WHERE seq BETWEEN %s AND %s"
                    " AND status = %s",  # dropped txs in between stay dropped
                    (TxStatus.BATCHED.value, batch_index, first, last, TxStatus.PENDING.value),
                )
        if row is None:
            raise StoreError(f"batch {batch_index} was not returned by the insert that wrote it")
        return _stored_batch(row)

    def mark_batch(
        self,
        batch_index: int,
        status: BatchStatus,
        l1_tx: str | None = None,
        l1_block: int | None = None,
        counters: Mapping[str, int] | None = None,
    ) -> None:
        """Move a batch (and its transactions) to `status`, adding the `counters` deltas in the
        same database transaction."""
        deltas = _checked_deltas(counters or {})
        tx_status = {
            BatchStatus.POSTED: TxStatus.POSTED,
            BatchStatus.FINAL: TxStatus.FINAL,
            BatchStatus.INTENT: TxStatus.BATCHED,
        }
        with self._tx() as db:
            self._require_leader(db)
            if not db.execute(
                "UPDATE batches SET status = %s, l1_tx_hash = COALESCE(%s, l1_tx_hash),"
                " l1_block = COALESCE(%s, l1_block) WHERE batch_index = %s RETURNING 1",
                (status.value, l1_tx, l1_block, batch_index),
            ).fetchone():
                raise StoreError(f"no batch {batch_index} in the store")
            if status is BatchStatus.ROLLED_BACK:
                # Its transactions go back to pending, keeping their original order.
                db.execute(
                    "UPDATE txs SET status = %s, batch_index = NULL WHERE batch_index = %s",
                    (TxStatus.PENDING.value, batch_index),
                )
            else:
                db.execute(
                    "UPDATE txs SET status = %s WHERE batch_index = %s",
                    (tx_status[status].value, batch_index),
                )
            _add_counters(db, deltas)

    def count_batch_txs(self, batch_index: int) -> int:
        """How many transactions a batch carries."""
        rows = self._read("SELECT count(*) FROM txs WHERE batch_index = %s", (batch_index,))
        return int(rows[0][0])

    def batch(self, batch_index: int) -> StoredBatch | None:
        rows = self._read(
            f"SELECT {_BATCH_COLUMNS} FROM batches WHERE batch_index = %s", (batch_index,)
        )
        return None if not rows else _stored_batch(rows[0])

    def last_batch(self) -> StoredBatch | None:
        """The batch with the highest index, if any."""
        rows = self._read(f"SELECT {_BATCH_COLUMNS} FROM batches ORDER BY batch_index DESC LIMIT 1")
        return None if not rows else _stored_batch(rows[0])

    def open_batches(self) -> list[StoredBatch]:
        """Every batch not FINAL (what a restart reconciles with L1; final ones cannot change)."""
        query = f"SELECT {_BATCH_COLUMNS} FROM batches WHERE status != %s ORDER BY batch_index"
        return [_stored_batch(r) for r in self._read(query, (BatchStatus.FINAL.value,))]

    def batch_indexes(self, status: BatchStatus) -> list[int]:
        """The indexes of the batches with `status`, in order (without their data)."""
        rows = self._read(
            "SELECT batch_index FROM batches WHERE status = %s ORDER BY batch_index",
            (status.value,),
        )
        return [int(r[0]) for r in rows]

    def mark_batches_final(self, up_to: int) -> list[int]:
        """Mark every POSTED batch with index < `up_to` FINAL (one transaction); returns them."""
        with self._tx() as db:
            self._require_leader(db)
            rows = db.execute(
                "UPDATE batches SET status = %s WHERE status = %s AND batch_index < %s"
                " RETURNING batch_index",
                (BatchStatus.FINAL.value, BatchStatus.POSTED.value, up_to),
            ).fetchall()
            done = sorted(int(r[0]) for r in rows)
            if done:
                db.execute(
                    "UPDATE txs SET status = %s WHERE status = %s AND batch_index < %s",
                    (TxStatus.FINAL.value, TxStatus.POSTED.value, up_to),
                )
        return done

    def batches(self, status: BatchStatus | None = None) -> list[StoredBatch]:
        query, args = f"SELECT {_BATCH_COLUMNS} FROM batches", []
        if status is not None:
            query += " WHERE status = %s"
            args.append(status.value)
        return [_stored_batch(r) for r in self._read(query + " ORDER BY batch_index", args)]

    def delete_batch(self, batch_index: int) -> None:
        """Forget a rolled-back batch record (its transactions were returned to pending)."""
        with self._tx() as db:
            self._require_leader(db)
            row = db.execute(
                "SELECT status FROM batches WHERE batch_index = %s FOR UPDATE", (batch_index,)
            ).fetchone()
            if row is None or row[0] != BatchStatus.ROLLED_BACK.value:
                raise StoreError(f"batch {batch_index} is not rolled back: it cannot be deleted")
            db.execute("DELETE FROM batches WHERE batch_index = %s", (batch_index,))

    # -- persistent counters --------------------------------------------------------------------

    def add_counters(self, deltas: Mapping[str, int]) -> None:
        """Add `deltas` to the persistent counters, all in one database transaction."""
        checked = _checked_deltas(deltas)
        if not checked:
            return
        with self._tx() as db:
            _add_counters(db, checked)

    def counters(self) -> dict[str, int]:
        """Every counter (the known ones start at 0), as committed."""
        values = dict.fromkeys(COUNTER_NAMES, 0)
        for name, value in self._read("SELECT name, value FROM counters ORDER BY name"):
            values[str(name)] = int(value)
        return values

    # -- checkpoints ----------------------------------------------------------------------------

    def save_checkpoint(self, name: str, data: bytes) -> None:
        """Durably store `data` as the checkpoint `name`, replacing an older one."""
        if not isinstance(name, str) or not name:
            raise StoreError(f"a checkpoint name must be a non-empty string, not {name!r}")
        if not isinstance(data, bytes):
            raise StoreError(f"checkpoint data must be bytes, not {type(data)}")
        with self._tx() as db:
            db.execute(
                "INSERT INTO checkpoints (name, data, updated_at) VALUES (%s, %s, %s)"
                " ON CONFLICT (name) DO UPDATE SET data = excluded.data,"
                " updated_at = excluded.updated_at",
                (name, data, time.time()),
            )

    def load_checkpoint(self, name: str) -> bytes | None:
        """The checkpoint `name`, or None if there is none."""
        rows = self._read("SELECT data FROM checkpoints WHERE name = %s", (name,))
        return None if not rows else bytes(rows[0][0])

    def delete_checkpoint(self, name: str) -> None:
        """Forget the checkpoint `name` (no error if there is none)."""
        with self._tx() as db:
            db.execute("DELETE FROM checkpoints WHERE name = %s", (name,))


@dataclass(frozen=True)
class PgSendJournal:
    """`l1_sender.SendJournal` backed by the store's `l1_sends` table."""

    store: PostgresStore
    key: str

    def load(self) -> SendRecord | None:
        return self.store.l1_send(self.key)

    def save(self, record: SendRecord) -> None:
        self.store.record_l1_send(self.key, record)


def _checked_deltas(deltas: Mapping[str, int]) -> dict[str, int]:
    """`deltas` if every name and value is acceptable; raises StoreError (nothing applied)."""
    checked: dict[str, int] = {}
    for name, value in deltas.items():
        if not isinstance(name, str) or not _COUNTER_NAME.fullmatch(name):
            raise StoreError(f"a counter name must be lower_snake_case, not {name!r}")
        if isinstance(value, bool) or not isinstance(value, int):
            raise StoreError(f"counter {name} must change by an integer, not {value!r}")
        if not _INT64[0] <= value <= _INT64[1]:
            raise StoreError(f"counter {name} cannot change by {value}: out of 64-bit range")
        if value:
            checked[name] = value
    return checked


def _add_counters(db: psycopg.Connection[Any], deltas: Mapping[str, int]) -> None:
    for name, value in sorted(deltas.items()):  # a fixed order: no deadlock between writers
        db.execute(
            "INSERT INTO counters (name, value) VALUES (%s, %s)"
            " ON CONFLICT (name) DO UPDATE SET value = counters.value + excluded.value",
            (name, value),
        )


def _same(a: DeploymentBinding, b: DeploymentBinding) -> bool:
    return (a.chain_id, a.rollup.lower(), a.deployment_block, a.block_hash.lower()) == (
        b.chain_id,
        b.rollup.lower(),
        b.deployment_block,
        b.block_hash.lower(),
    )


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def _stored_tx(row: tuple[Any, ...]) -> StoredTx:
    seq, tx_hash, kind, payload, status, batch_index, received_at, note = row
    return StoredTx(
        int(seq),
        bytes(tx_hash),
        str(kind),
        bytes(payload),
        TxStatus(status),
        None if batch_index is None else int(batch_index),
        float(received_at),
        note,
    )


def _stored_batch(row: tuple[Any, ...]) -> StoredBatch:
    index, pre_root, post_root, data, first_seq, last_seq, status, l1_tx_hash, l1_block = row
    return StoredBatch(
        int(index),
        bytes(pre_root),
        bytes(post_root),
        bytes(data),
        int(first_seq),
        int(last_seq),
        BatchStatus(status),
        l1_tx_hash,
        None if l1_block is None else int(l1_block),
    )
