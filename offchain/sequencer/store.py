"""The operator's durable store (SQLite): every accepted transaction and every batch it posts.

Write-ahead discipline: a transaction is committed here *before* the API acknowledges it, and a
batch is recorded as an intent *before* it is sent to L1, so a crash at any point loses nothing
and a restart can tell what reached L1 by comparing intents with the chain.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from types import TracebackType

from offchain.errors import SequencerError
from offchain.l1.sender import SendRecord

#: 2: persistent counters and checkpoints (issue #10); 3: the send journal keeps the blob fee of
#: the last version (`l1_sends.blob_fee`); 4: optimistic tx payloads are rollup format v2
#: (body | nonce | BLS signature, offchain/sequencer/payload.py) and a tx id is keccak256 of the
#: signed message. A store of another version is refused.
SCHEMA_VERSION = 4

#: The persistent counters (survive restarts); `add_counters` refuses any other name.
COUNTERS = (
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

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS txs (
    seq INTEGER PRIMARY KEY,
    tx_hash BLOB NOT NULL UNIQUE,
    kind TEXT NOT NULL,
    payload BLOB NOT NULL,
    status TEXT NOT NULL,
    batch_index INTEGER,
    received_at REAL NOT NULL,
    note TEXT
);
CREATE INDEX IF NOT EXISTS txs_by_status ON txs (status, seq);
CREATE TABLE IF NOT EXISTS batches (
    batch_index INTEGER PRIMARY KEY,
    pre_root BLOB NOT NULL,
    post_root BLOB NOT NULL,
    data BLOB NOT NULL,
    first_seq INTEGER NOT NULL,
    last_seq INTEGER NOT NULL,
    status TEXT NOT NULL,
    l1_tx_hash TEXT,
    l1_block INTEGER,
    created_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS l1_sends (
    key TEXT PRIMARY KEY,
    nonce INTEGER NOT NULL,
    tx_hashes TEXT NOT NULL,
    max_fee INTEGER NOT NULL,
    priority_fee INTEGER NOT NULL,
    blob_fee INTEGER NOT NULL DEFAULT 0,
    updated_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS counters (name TEXT PRIMARY KEY, value INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS checkpoints (
    name TEXT PRIMARY KEY,
    data BLOB NOT NULL,
    updated_at REAL NOT NULL
);
"""


class StoreError(SequencerError):
    """The store refused an operation; the message says why."""


class DuplicateTransaction(StoreError):
    """A transaction with this hash was accepted before."""


class WrongDeployment(StoreError):
    """The store was written for another deployment (chain, contract or chain history)."""


@dataclass(frozen=True)
class DeploymentBinding:
    """What ties a store to one deployment: everything in it (acknowledged transactions signed for
    this chain id and rollup, batches whose proofs users need) is only meaningful there.

    `block_hash` is the hash of the deployment block: a redeployed local node reuses the chain id,
    the addresses and often the block number, but never the block hash.
    """

    chain_id: int
    rollup: str
    deployment_block: int
    block_hash: str

    def describe(self) -> str:
        return (
            f"chain {self.chain_id}, rollup {self.rollup}, deployed in block "
            f"{self.deployment_block} ({self.block_hash})"
        )


class TxStatus(StrEnum):
    PENDING = "pending"  # accepted, not yet in a batch intent
    BATCHED = "batched"  # in a batch intent (posted or about to be)
    POSTED = "posted"  # its batch is on L1
    FINAL = "final"  # its batch is final on L1
    DROPPED = "dropped"  # became invalid (e.g. a rollback of another proposer's batch); see note


class BatchStatus(StrEnum):
    INTENT = "intent"  # built and recorded, maybe sent, not seen on L1 yet
    POSTED = "posted"  # seen on L1
    FINAL = "final"  # past the challenge window
    ROLLED_BACK = "rolled_back"  # removed on L1 by a fraud proof


@dataclass(frozen=True)
class StoredTx:
    seq: int
    tx_hash: bytes
    kind: str
    payload: bytes
    status: TxStatus
    batch_index: int | None
    received_at: float
    note: str | None = None


@dataclass(frozen=True)
class StoredBatch:
    batch_index: int
    pre_root: bytes
    post_root: bytes
    data: bytes
    first_seq: int
    last_seq: int
    status: BatchStatus
    l1_tx_hash: str | None
    l1_block: int | None


class OperatorStore:
    """SQLite-backed, crash-safe (WAL, synchronous=FULL), safe to share between threads."""

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        if str(path) != ":memory:":
            self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.RLock()
        self._db = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")
        try:
            self._check_version()
            with self._tx() as db:
                for statement in _SCHEMA.strip().split(";"):
                    if statement.strip():
                        db.execute(statement)
                if db.execute("SELECT 1 FROM meta WHERE key = 'schema_version'").fetchone() is None:
                    db.execute(
                        "INSERT INTO meta (key, value) VALUES ('schema_version', ?)",
                        (str(SCHEMA_VERSION),),
                    )
        except BaseException:
            self._db.close()
            raise

    def _check_version(self) -> None:
        """Refuse (before writing anything) a store written with another schema version."""
        has_meta = self._db.execute(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'meta'"
        ).fetchone()
        if not has_meta:
            return
        row = self._db.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
        if row is not None and int(row[0]) != SCHEMA_VERSION:
            raise StoreError(
                f"{self.path} has schema version {row[0]}, this operator needs {SCHEMA_VERSION} "
                "(no migration: nothing deployed uses an older store): use the l2kit version "
                "that wrote it, or move it aside and start from a new store"
            )

    # -- plumbing -----------------------------------------------------------------------------

    class _Txn:
        def __init__(self, store: OperatorStore) -> None:
            self.store = store

        def __enter__(self) -> sqlite3.Connection:
            self.store._lock.acquire()
            self.store._db.execute("BEGIN IMMEDIATE")
            return self.store._db

        def __exit__(
            self,
            exc_type: type[BaseException] | None,
            exc: BaseException | None,
            tb: TracebackType | None,
        ) -> None:
            try:
                self.store._db.execute("ROLLBACK" if exc_type else "COMMIT")
            finally:
                self.store._lock.release()

    def _tx(self) -> OperatorStore._Txn:
        return OperatorStore._Txn(self)

    def close(self) -> None:
        with self._lock:
            self._db.close()

    # -- meta ---------------------------------------------------------------------------------

    def get_meta(self, key: str) -> str | None:
        with self._lock:
            row = self._db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return None if row is None else str(row[0])

    def set_meta(self, key: str, value: str) -> None:
        with self._tx() as db:
            db.execute(
                "INSERT INTO meta (key, value) VALUES (?, ?) "
                "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                (key, value),
            )

    # -- deployment binding ---------------------------------------------------------------------

    def binding(self) -> DeploymentBinding | None:
        raw = self.get_meta("deployment")
        return None if raw is None else DeploymentBinding(**json.loads(raw))

    def bind(self, binding: DeploymentBinding) -> None:
        """Tie a new store to `binding`, or check that an existing one belongs to it.

        Raises WrongDeployment (nothing changed) for a store of another deployment, and for a
        store with contents but no binding (written before stores were bound): using either would
        drop acknowledged transactions, forget batches and replay foreign signatures.
        """
        with self._tx() as db:
            row = db.execute("SELECT value FROM meta WHERE key = 'deployment'").fetchone()
            if row is not None:
                found = DeploymentBinding(**json.loads(row[0]))
                if _same(found, binding):
                    return
                raise WrongDeployment(
                    f"the store {self.path} belongs to another deployment ({found.describe()}), "
                    f"not to this one ({binding.describe()}): nothing was changed. Use the store "
                    "of this deployment (--store, default var/<ecosystem>-<network>/...), or move "
                    "this one aside to start afresh only if this deployment is new"
                )
            held = db.execute(
                "SELECT (SELECT COUNT(*) FROM txs) + (SELECT COUNT(*) FROM batches)"
            ).fetchone()[0]
            if held:
                raise WrongDeployment(
                    f"the store {self.path} holds {held} records but names no deployment (an "
                    "older l2kit wrote it): refusing to guess that it belongs to "
                    f"{binding.describe()}. Move it aside, or run the l2kit version that wrote it"
                )
            db.execute(
                "INSERT INTO meta (key, value) VALUES ('deployment', ?)",
                (json.dumps(binding.__dict__, sort_keys=True),),
            )

    # -- L1 send journal ------------------------------------------------------------------------

    def l1_send(self, key: str) -> SendRecord | None:
        """The nonce, fees and hashes of every version sent for the L1 transaction `key`."""
        with self._lock:
            row = self._db.execute(
                "SELECT nonce, tx_hashes, max_fee, priority_fee, blob_fee FROM l1_sends"
                " WHERE key = ?",
                (key,),
            ).fetchone()
        if row is None:
            return None
        hashes = tuple(json.loads(row[1]))
        return SendRecord(int(row[0]), hashes, int(row[2]), int(row[3]), int(row[4]))

    def record_l1_send(self, key: str, record: SendRecord) -> None:
        """Durably note a version of `key` *before* it is broadcast (write-ahead)."""
        with self._tx() as db:
            db.execute(
                "INSERT INTO l1_sends"
                " (key, nonce, tx_hashes, max_fee, priority_fee, blob_fee, updated_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT(key) DO UPDATE SET"
                " nonce = excluded.nonce, tx_hashes = excluded.tx_hashes,"
                " max_fee = excluded.max_fee, priority_fee = excluded.priority_fee,"
                " blob_fee = excluded.blob_fee, updated_at = excluded.updated_at",
                (
                    key,
                    record.nonce,
                    json.dumps(list(record.tx_hashes)),
                    record.max_fee,
                    record.priority_fee,
                    record.blob_fee,
                    time.time(),
                ),
            )

    def clear_l1_send(self, key: str) -> None:
        """Forget `key` once it is resolved (mined, or superseded and safe to send afresh)."""
        with self._tx() as db:
            db.execute("DELETE FROM l1_sends WHERE key = ?", (key,))

    def clear_l1_sends(self, prefix: str) -> None:
        """Forget every journaled send whose key starts with `prefix` (a family of sends)."""
        with self._tx() as db:
            db.execute("DELETE FROM l1_sends WHERE substr(key, 1, ?) = ?", (len(prefix), prefix))

    def send_journal(self, key: str) -> StoreSendJournal:
        """The journal `offchain.l1.sender.send_transaction` keeps for the L1 transaction `key`."""
        return StoreSendJournal(self, key)

    # -- transactions ---------------------------------------------------------------------------

    def append_tx(self, tx_hash: bytes, kind: str, payload: bytes) -> int:
        """Durably record one accepted transaction; returns its sequence number (1, 2, ...)."""
        return self.append_txs([(tx_hash, kind, payload)])[0]

    def append_txs(self, items: Sequence[tuple[bytes, str, bytes]]) -> list[int]:
        """Durably record accepted transactions `(tx_hash, kind, payload)` in ONE transaction
        (one commit, one fsync: group commit); returns their sequence numbers in order.

        All or nothing: if any hash is stored already (or repeats within `items`), raises
        DuplicateTransaction and stores none of them."""
        if not items:
            return []
        hashes = [bytes(h) for h, _, _ in items]
        if len(set(hashes)) != len(hashes):
            raise DuplicateTransaction("the same transaction appears twice in one group")
        now = time.time()
        pending = TxStatus.PENDING.value
        with self._tx() as db:
            for start in range(0, len(hashes), 500):  # bound the number of SQL variables
                chunk = hashes[start : start + 500]
                marks = ",".join("?" * len(chunk))
                row = db.execute(
                    f"SELECT tx_hash FROM txs WHERE tx_hash IN ({marks}) LIMIT 1", chunk
                ).fetchone()
                if row is not None:
                    raise DuplicateTransaction(
                        f"transaction 0x{bytes(row[0]).hex()} was accepted before"
                    )
            last = db.execute("SELECT COALESCE(MAX(seq), 0) FROM txs").fetchone()[0]
            first = int(last) + 1
            db.executemany(
                "INSERT INTO txs (seq, tx_hash, kind, payload, status, received_at) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                [
                    (first + i, h, kind, payload, pending, now)
                    for i, (h, kind, payload) in enumerate(items)
                ],
            )
            _add_counters(db, {"txs_accepted": len(items)})
        return list(range(first, first + len(items)))

    def txs_by_hash(self, hashes: Sequence[bytes]) -> dict[bytes, StoredTx]:
        """The stored records among `hashes` (one query per 500), by hash."""
        found: dict[bytes, StoredTx] = {}
        with self._lock:
            for start in range(0, len(hashes), 500):
                chunk = [bytes(h) for h in hashes[start : start + 500]]
                marks = ",".join("?" * len(chunk))
                rows = self._db.execute(
                    f"SELECT * FROM txs WHERE tx_hash IN ({marks})", chunk
                ).fetchall()
                for row in rows:
                    stored = _stored_tx(row)
                    found[stored.tx_hash] = stored
        return found

    def tx(self, tx_hash: bytes) -> StoredTx | None:
        with self._lock:
            row = self._db.execute("SELECT * FROM txs WHERE tx_hash = ?", (tx_hash,)).fetchone()
        return None if row is None else _stored_tx(row)

    def txs(
        self, status: TxStatus | None = None, after_seq: int = 0, limit: int | None = None
    ) -> list[StoredTx]:
        """Transactions in acceptance order, optionally only those with `status`, at most
        `limit` of them (the oldest)."""
        query = "SELECT * FROM txs WHERE seq > ?"
        args: list[int | str] = [after_seq]
        if status is not None:
            query += " AND status = ?"
            args.append(status.value)
        query += " ORDER BY seq"
        if limit is not None:
            query += " LIMIT ?"
            args.append(max(0, int(limit)))
        with self._lock:
            rows = self._db.execute(query, args).fetchall()
        return [_stored_tx(r) for r in rows]

    def count_txs(self, status: TxStatus | None = None) -> int:
        with self._lock:
            if status is None:
                return int(self._db.execute("SELECT COUNT(*) FROM txs").fetchone()[0])
            return int(
                self._db.execute(
                    "SELECT COUNT(*) FROM txs WHERE status = ?", (status.value,)
                ).fetchone()[0]
            )

    def drop_tx(self, seq: int, reason: str) -> None:
        """Mark a pending transaction as dropped (it can no longer be applied), keeping why."""
        with self._tx() as db:
            row = db.execute("SELECT status FROM txs WHERE seq = ?", (seq,)).fetchone()
            if row is None or row[0] != TxStatus.PENDING.value:
                raise StoreError(f"transaction #{seq} is not pending: it cannot be dropped")
            db.execute(
                "UPDATE txs SET status = ?, note = ? WHERE seq = ?",
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
            if db.execute("SELECT 1 FROM batches WHERE batch_index = ?", (batch_index,)).fetchone():
                raise StoreError(f"batch {batch_index} is recorded already")
            pending = [
                int(r[0])
                for r in db.execute(
                    "SELECT seq FROM txs WHERE status = ? ORDER BY seq LIMIT ?",
                    (TxStatus.PENDING.value, len(seqs)),
                )
            ]
            if pending != seqs:
                raise StoreError(
                    f"batch {batch_index} must take the oldest pending transactions {pending}, "
                    f"not {seqs}"
                )
            first, last = (seqs[0], seqs[-1]) if seqs else (0, 0)
            db.execute(
                "INSERT INTO batches (batch_index, pre_root, post_root, data, first_seq, last_seq,"
                " status, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
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
            )
            if seqs:
                db.execute(
                    "UPDATE txs SET status = ?, batch_index = ? WHERE seq BETWEEN ? AND ?"
                    " AND status = ?",  # dropped txs in between stay dropped
                    (TxStatus.BATCHED.value, batch_index, first, last, TxStatus.PENDING.value),
                )
        recorded = self.batch(batch_index)
        if recorded is None:  # written by the transaction that just committed
            raise StoreError(f"batch {batch_index} is missing right after it was recorded")
        return recorded

    def mark_batch(
        self,
        batch_index: int,
        status: BatchStatus,
        l1_tx: str | None = None,
        l1_block: int | None = None,
        counters: Mapping[str, int] | None = None,
    ) -> None:
        """Move a batch (and its transactions) to `status`; `counters` (deltas) are added in
        the same transaction, so a crash never counts a posting twice or not at all."""
        tx_status = {
            BatchStatus.POSTED: TxStatus.POSTED,
            BatchStatus.FINAL: TxStatus.FINAL,
            BatchStatus.INTENT: TxStatus.BATCHED,
        }
        with self._tx() as db:
            if not db.execute(
                "SELECT 1 FROM batches WHERE batch_index = ?", (batch_index,)
            ).fetchone():
                raise StoreError(f"no batch {batch_index} in the store")
            db.execute(
                "UPDATE batches SET status = ?, l1_tx_hash = COALESCE(?, l1_tx_hash),"
                " l1_block = COALESCE(?, l1_block) WHERE batch_index = ?",
                (status.value, l1_tx, l1_block, batch_index),
            )
            if status is BatchStatus.ROLLED_BACK:
                # Its transactions go back to pending, keeping their original order.
                db.execute(
                    "UPDATE txs SET status = ?, batch_index = NULL WHERE batch_index = ?",
                    (TxStatus.PENDING.value, batch_index),
                )
            else:
                db.execute(
                    "UPDATE txs SET status = ? WHERE batch_index = ?",
                    (tx_status[status].value, batch_index),
                )
            if counters:
                _add_counters(db, counters)

    # -- counters and checkpoints ---------------------------------------------------------------

    def add_counters(self, deltas: Mapping[str, int]) -> None:
        """Add `deltas` to the persistent counters (names from COUNTERS), in one transaction."""
        with self._tx() as db:
            _add_counters(db, deltas)

    def counters(self) -> dict[str, int]:
        """Every persistent counter (0 for one never incremented)."""
        with self._lock:
            rows = self._db.execute("SELECT name, value FROM counters").fetchall()
        found = {str(n): int(v) for n, v in rows}
        return {name: found.get(name, 0) for name in COUNTERS}

    def save_checkpoint(self, name: str, data: bytes) -> None:
        """Store (or replace) the checkpoint `name`."""
        with self._tx() as db:
            db.execute(
                "INSERT INTO checkpoints (name, data, updated_at) VALUES (?, ?, ?) "
                "ON CONFLICT(name) DO UPDATE SET data = excluded.data, "
                "updated_at = excluded.updated_at",
                (name, bytes(data), time.time()),
            )

    def load_checkpoint(self, name: str) -> bytes | None:
        with self._lock:
            row = self._db.execute(
                "SELECT data FROM checkpoints WHERE name = ?", (name,)
            ).fetchone()
        return None if row is None else bytes(row[0])

    def delete_checkpoint(self, name: str) -> None:
        with self._tx() as db:
            db.execute("DELETE FROM checkpoints WHERE name = ?", (name,))

    def count_batch_txs(self, batch_index: int) -> int:
        """How many transactions a batch carries."""
        with self._lock:
            row = self._db.execute(
                "SELECT COUNT(*) FROM txs WHERE batch_index = ?", (batch_index,)
            ).fetchone()
        return int(row[0])

    def batch(self, batch_index: int) -> StoredBatch | None:
        with self._lock:
            row = self._db.execute(
                "SELECT * FROM batches WHERE batch_index = ?", (batch_index,)
            ).fetchone()
        return None if row is None else _stored_batch(row)

    def last_batch(self) -> StoredBatch | None:
        """The batch with the highest index, if any."""
        with self._lock:
            row = self._db.execute(
                "SELECT * FROM batches ORDER BY batch_index DESC LIMIT 1"
            ).fetchone()
        return None if row is None else _stored_batch(row)

    def open_batches(self) -> list[StoredBatch]:
        """Every batch not FINAL (what a restart reconciles with L1; final ones cannot change)."""
        with self._lock:
            rows = self._db.execute(
                "SELECT * FROM batches WHERE status != ? ORDER BY batch_index",
                (BatchStatus.FINAL.value,),
            ).fetchall()
        return [_stored_batch(r) for r in rows]

    def batch_indexes(self, status: BatchStatus) -> list[int]:
        """The indexes of the batches with `status`, in order (without their data)."""
        with self._lock:
            rows = self._db.execute(
                "SELECT batch_index FROM batches WHERE status = ? ORDER BY batch_index",
                (status.value,),
            ).fetchall()
        return [int(r[0]) for r in rows]

    def mark_batches_final(self, up_to: int) -> list[int]:
        """Mark every POSTED batch with index < `up_to` FINAL (one transaction); returns them."""
        with self._tx() as db:
            rows = db.execute(
                "SELECT batch_index FROM batches WHERE status = ? AND batch_index < ?",
                (BatchStatus.POSTED.value, up_to),
            ).fetchall()
            done = [int(r[0]) for r in rows]
            if done:
                db.execute(
                    "UPDATE batches SET status = ? WHERE status = ? AND batch_index < ?",
                    (BatchStatus.FINAL.value, BatchStatus.POSTED.value, up_to),
                )
                db.execute(
                    "UPDATE txs SET status = ? WHERE status = ? AND batch_index < ?",
                    (TxStatus.FINAL.value, TxStatus.POSTED.value, up_to),
                )
        return done

    def batches(self, status: BatchStatus | None = None) -> list[StoredBatch]:
        query, args = "SELECT * FROM batches", []
        if status is not None:
            query += " WHERE status = ?"
            args.append(status.value)
        with self._lock:
            rows = self._db.execute(query + " ORDER BY batch_index", args).fetchall()
        return [_stored_batch(r) for r in rows]

    def delete_batch(self, batch_index: int) -> None:
        """Forget a rolled-back batch record (its transactions were returned to pending)."""
        with self._tx() as db:
            row = db.execute(
                "SELECT status FROM batches WHERE batch_index = ?", (batch_index,)
            ).fetchone()
            if row is None or row[0] != BatchStatus.ROLLED_BACK.value:
                raise StoreError(f"batch {batch_index} is not rolled back: it cannot be deleted")
            db.execute("DELETE FROM batches WHERE batch_index = ?", (batch_index,))


@dataclass(frozen=True)
class StoreSendJournal:
    """`l1_sender.SendJournal` backed by the store's `l1_sends` table."""

    store: OperatorStore
    key: str

    def load(self) -> SendRecord | None:
        return self.store.l1_send(self.key)

    def save(self, record: SendRecord) -> None:
        self.store.record_l1_send(self.key, record)


def _add_counters(db: sqlite3.Connection, deltas: Mapping[str, int]) -> None:
    unknown = sorted(set(deltas) - set(COUNTERS))
    if unknown:
        raise StoreError(f"unknown counters {unknown}: the store keeps {list(COUNTERS)}")
    for name, delta in deltas.items():
        if delta:
            db.execute(
                "INSERT INTO counters (name, value) VALUES (?, ?) "
                "ON CONFLICT(name) DO UPDATE SET value = value + excluded.value",
                (name, int(delta)),
            )


def _same(a: DeploymentBinding, b: DeploymentBinding) -> bool:
    return (a.chain_id, a.rollup.lower(), a.deployment_block, a.block_hash.lower()) == (
        b.chain_id,
        b.rollup.lower(),
        b.deployment_block,
        b.block_hash.lower(),
    )


def _stored_tx(row: tuple) -> StoredTx:
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


def _stored_batch(row: tuple) -> StoredBatch:
    (
        index,
        pre_root,
        post_root,
        data,
        first_seq,
        last_seq,
        status,
        l1_tx_hash,
        l1_block,
        _created,
    ) = row
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
