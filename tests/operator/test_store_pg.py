"""The PostgreSQL store beyond the shared contract (test_store.py runs that against both stores):
opening by URL, its schema, durability settings, several processes on one database (ordered by
commit, nothing lost), the sequencer leader lock, and SIGKILL of a writer mid-stream."""

from __future__ import annotations

import hashlib
import inspect
import json
import random
import subprocess
import sys
import threading
import time
from pathlib import Path

import psutil
import pytest
from pg_support import start_server

psycopg = pytest.importorskip(
    "psycopg", reason="psycopg is not installed: `make setup` installs it (requirements.lock)"
)

from offchain.l1.sender import SendRecord  # noqa: E402
from offchain.sequencer.store import (  # noqa: E402
    BatchStatus,
    DeploymentBinding,
    OperatorStore,
    StoreError,
    TxStatus,
    WrongDeployment,
)
from offchain.sequencer.store_open import open_store, store_kind  # noqa: E402
from offchain.sequencer.store_pg import (  # noqa: E402
    LeaderLockHeld,
    PostgresStore,
    display_url,
    leader_key,
)

WRITER = Path(__file__).with_name("store_writer.py")
BOUND = DeploymentBinding(31337, "0x" + "Ab" * 20, 5, "0x" + "ab" * 32)
ROOT_A, ROOT_B = b"\xaa" * 32, b"\xbb" * 32


def h(n: int) -> bytes:
    return n.to_bytes(32, "big")


def sql(url: str, query: str) -> list[tuple]:
    with psycopg.connect(url, autocommit=True) as db:
        cur = db.execute(query)
        return cur.fetchall() if cur.description else []


# -- opening ------------------------------------------------------------------------------------


def test_open_store_tells_paths_from_urls(tmp_path, pg_url):
    assert store_kind(tmp_path / "op.sqlite") == "sqlite"
    assert store_kind("relative/dir/op.sqlite") == "sqlite"
    assert store_kind("postgresql://u@h:5432/db") == store_kind("POSTGRES://u@h/db") == "postgres"
    sqlite = open_store(tmp_path / "op.sqlite")
    assert isinstance(sqlite, OperatorStore)
    sqlite.close()
    pg = open_store(pg_url)
    assert isinstance(pg, PostgresStore)
    pg.close()
    # postgres:// is the other spelling libpq accepts
    pg = open_store("postgres://" + pg_url.removeprefix("postgresql://"))
    assert isinstance(pg, PostgresStore)
    pg.close()


def test_open_store_refuses_other_schemes_without_creating_a_file(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(StoreError, match=r"unknown scheme mysql://.*postgresql://user@host"):
        open_store("mysql://root@db/l2kit")
    assert list(tmp_path.iterdir()) == []


def test_open_store_without_psycopg_says_how_to_get_it(monkeypatch):
    monkeypatch.setitem(sys.modules, "psycopg", None)  # import psycopg now raises ImportError
    with pytest.raises(StoreError, match=r"psycopg is not installed: run `make setup`"):
        open_store("postgresql://nobody@localhost/none")


def test_an_unreachable_server_is_one_clear_line_without_the_password(tmp_path):
    url = f"postgresql://op:s3cret@/l2kit?host={tmp_path}&connect_timeout=2"
    with pytest.raises(StoreError) as err:
        open_store(url)
    message = str(err.value)
    assert "cannot connect to the PostgreSQL store postgresql://op@" in message
    assert "createdb" in message and "s3cret" not in message and "\n" not in message
    assert display_url("postgresql://a:b@h:5433/d") == "postgresql://a@h:5433/d"


def test_the_postgres_store_has_the_public_api_of_the_sqlite_store():
    renamed = {"mark_batch": {"l1_tx_hash": "l1_tx"}}  # issue #10's interface names it l1_tx

    def public(cls: type) -> dict[str, list[str]]:
        return {
            name: [p for p in inspect.signature(member).parameters if p != "self"]
            for name, member in inspect.getmembers(cls, inspect.isfunction)
            if not name.startswith("_")
        }

    sqlite, pg = public(OperatorStore), public(PostgresStore)
    missing = sorted(set(sqlite) - set(pg))
    assert missing == [], f"PostgresStore lacks {missing}"
    for name, params in sqlite.items():
        expected = [renamed.get(name, {}).get(p, p) for p in params]
        assert pg[name][: len(expected)] == expected, name
    for name in ("append_txs", "add_counters", "counters", "save_checkpoint", "load_checkpoint"):
        assert name in pg
    assert pg["mark_batch"] == ["batch_index", "status", "l1_tx", "l1_block", "counters"]


# -- schema -------------------------------------------------------------------------------------

#: Schema version 2 of the PostgreSQL store, as docs/operator.md describes it.
SCHEMA_V2 = {
    "meta": ["key text", "value text"],
    "seq_counter": ["only_row boolean", "last_seq bigint"],
    "txs": [
        "seq bigint",
        "tx_hash bytea",
        "kind text",
        "payload bytea",
        "status text",
        "batch_index bigint",
        "received_at double precision",
        "note text",
    ],
    "batches": [
        "batch_index bigint",
        "pre_root bytea",
        "post_root bytea",
        "data bytea",
        "first_seq bigint",
        "last_seq bigint",
        "status text",
        "l1_tx_hash text",
        "l1_block bigint",
        "created_at double precision",
    ],
    "l1_sends": [
        "key text",
        "nonce bigint",
        "tx_hashes ARRAY",
        "max_fee numeric",
        "priority_fee numeric",
        "blob_fee numeric",
        "updated_at double precision",
    ],
    "counters": ["name text", "value bigint"],
    "checkpoints": ["name text", "data bytea", "updated_at double precision"],
}


def test_a_new_database_gets_schema_version_3_exactly(pg_url):
    open_store(pg_url).close()
    rows = sql(
        pg_url,
        "SELECT table_name, column_name || ' ' || data_type FROM information_schema.columns"
        " WHERE table_schema = current_schema() ORDER BY table_name, ordinal_position",
    )
    found: dict[str, list[str]] = {}
    for table, column in rows:
        found.setdefault(table, []).append(column)
    assert found == SCHEMA_V2
    assert sql(pg_url, "SELECT value FROM meta WHERE key = 'schema_version'") == [("3",)]


def test_another_schema_version_is_refused_and_left_as_it_is(pg_url):
    open_store(pg_url).close()
    sql(pg_url, "UPDATE meta SET value = '4' WHERE key = 'schema_version'")
    sql(pg_url, "DROP TABLE checkpoints")  # as a future version might have
    with pytest.raises(StoreError, match="schema version 4, this operator needs 3"):
        open_store(pg_url)
    assert sql(pg_url, "SELECT to_regclass('checkpoints')") == [(None,)]  # not "repaired"


def test_a_database_holding_other_tables_is_refused(pg_url):
    sql(pg_url, "CREATE TABLE invoices (id int)")
    with pytest.raises(StoreError, match=r"holds 1 tables of something else.*database of its own"):
        open_store(pg_url)
    assert sql(pg_url, "SELECT to_regclass('txs')") == [(None,)]


@pytest.mark.slow  # four Python processes start (~10 s here)
def test_many_processes_opening_a_new_database_at_once_create_one_schema(pg_url):
    procs = [_writer(pg_url, w, 3) for w in range(4)]
    outputs = [p.communicate(timeout=60) for p in procs]
    assert all(p.returncode == 0 for p in procs), outputs
    assert sql(pg_url, "SELECT count(*) FROM txs")[0][0] > 0
    assert sql(pg_url, "SELECT count(*) FROM meta WHERE key = 'schema_version'") == [(1,)]


# -- durability settings ------------------------------------------------------------------------


def test_synchronous_commit_is_forced_on_when_the_database_turns_it_off(pg_url):
    dbname = psycopg.conninfo.conninfo_to_dict(pg_url)["dbname"]
    sql(pg_url, f'ALTER DATABASE "{dbname}" SET synchronous_commit = off')
    assert sql(pg_url, "SHOW synchronous_commit") == [("off",)]
    store = open_store(pg_url)
    assert store._db.execute("SHOW synchronous_commit").fetchone() == ("on",)
    store.close()
    sql(pg_url, f'ALTER DATABASE "{dbname}" SET synchronous_commit = remote_apply')
    store = open_store(pg_url)  # a stricter setting is kept
    assert store._db.execute("SHOW synchronous_commit").fetchone() == ("remote_apply",)
    store.close()


def test_a_server_running_with_fsync_off_is_refused(pg_server, pg_url):
    if pg_server._handle is None:
        pytest.skip("needs the tests' own server (ALTER SYSTEM on an external one is not ours)")
    admin = pg_server.admin_url
    try:
        sql(admin, "ALTER SYSTEM SET fsync = off")
        sql(admin, "SELECT pg_reload_conf()")
        deadline = time.monotonic() + 10
        while sql(pg_url, "SHOW fsync") != [("off",)]:
            assert time.monotonic() < deadline, "the server did not reload its configuration"
            time.sleep(0.05)
        with pytest.raises(StoreError, match="fsync=off: a crash could lose acknowledged"):
            open_store(pg_url)
    finally:
        sql(admin, "ALTER SYSTEM RESET fsync")
        sql(admin, "SELECT pg_reload_conf()")
        while sql(pg_url, "SHOW fsync") != [("on",)]:
            time.sleep(0.05)


# -- the sequencer leader lock ------------------------------------------------------------------


def test_leader_key_is_derived_from_the_binding():
    same = DeploymentBinding(31337, BOUND.rollup.lower(), 5, BOUND.block_hash.upper())
    assert leader_key(BOUND) == leader_key(same)
    assert leader_key(BOUND) != leader_key(
        DeploymentBinding(31337, BOUND.rollup, 6, BOUND.block_hash)
    )
    assert leader_key(BOUND) != leader_key(None)
    assert -(2**63) <= leader_key(BOUND) < 2**63


def test_a_second_sequencer_is_refused_with_one_line_and_front_ends_still_append(pg_url):
    first = open_store(pg_url, leader=True)
    first.bind(BOUND)
    assert first.is_leader
    second = open_store(pg_url)  # a front-end: no lock wanted
    assert not second.is_leader
    with pytest.raises(LeaderLockHeld) as err:
        open_store(pg_url, leader=True)
    message = str(err.value)
    assert message.startswith("another sequencer holds the leader lock of chain 31337")
    assert "server pid" in message and "API front-end" in message and "\n" not in message

    # The front-end appends; the sequencer batches what the front-end accepted.
    assert second.append_tx(h(1), "transfer", b"x") == 1
    first.record_batch_intent(0, ROOT_A, ROOT_B, b"b", [1])
    # Writes only a sequencer makes are refused to the front-end and change nothing.
    second.append_tx(h(2), "transfer", b"y")
    refused = [
        lambda: second.record_batch_intent(1, ROOT_A, ROOT_B, b"", [2]),
        lambda: second.mark_batch(0, BatchStatus.POSTED, "0x1", 1),
        lambda: second.record_l1_send("batch:1", SendRecord(1, ("0x2",), 1, 1)),
        lambda: second.drop_tx(2, "no"),
        lambda: second.clear_l1_sends("batch:"),
    ]
    for attempt in refused:
        with pytest.raises(LeaderLockHeld, match="another sequencer holds the leader lock"):
            attempt()
    assert second.batch(1) is None and second.batch(0).status is BatchStatus.INTENT
    assert second.tx(h(2)).status is TxStatus.PENDING and second.l1_send("batch:1") is None

    first.close()  # the lock goes with the session
    second.acquire_leader()
    assert second.is_leader
    second.mark_batch(0, BatchStatus.POSTED, "0x1", 1)
    second.close()


def test_an_unbound_leader_rekeys_its_lock_when_it_binds(pg_url):
    early = open_store(pg_url)
    early.append_tx(h(1), "transfer", b"")
    early.record_batch_intent(0, ROOT_A, ROOT_B, b"", [1])  # lazily takes the "unbound" lock
    assert early.is_leader
    early.mark_batch(0, BatchStatus.ROLLED_BACK)
    early.delete_batch(0)
    early.drop_tx(1, "test")
    sql(pg_url, "DELETE FROM txs")
    early.bind(BOUND)  # now keyed to the binding: another sequencer of BOUND is refused
    with pytest.raises(LeaderLockHeld):
        open_store(pg_url, leader=True)
    early.close()
    later = open_store(pg_url, leader=True)
    assert later.is_leader
    later.close()


def test_the_lock_of_a_killed_sequencer_is_released(pg_url):
    store = open_store(pg_url)
    store.bind(BOUND)
    holder = _writer(pg_url, 0, 0, "hold-leader")
    try:
        assert holder.stdout.readline().strip() == "READY"
        with pytest.raises(LeaderLockHeld):
            store.acquire_leader()
        holder.kill()  # SIGKILL: no clean shutdown, the server notices the closed socket
        holder.wait(timeout=10)
        deadline = time.monotonic() + 10
        while True:
            try:
                store.acquire_leader()
                break
            except LeaderLockHeld:
                assert time.monotonic() < deadline, "the killed sequencer's lock was kept"
                time.sleep(0.05)
        assert store.is_leader
    finally:
        holder.kill()
        holder.wait(timeout=10)
        store.close()


def test_binding_races_between_processes_end_with_one_binding(pg_url):
    stores = [open_store(pg_url) for _ in range(4)]
    bindings = [DeploymentBinding(31337, BOUND.rollup, 5 + i, BOUND.block_hash) for i in range(4)]
    outcomes: list[str] = []

    def bind(store: PostgresStore, binding: DeploymentBinding) -> None:
        try:
            store.bind(binding)
            outcomes.append("bound")
        except WrongDeployment:
            outcomes.append("refused")

    threads = [threading.Thread(target=bind, args=sb) for sb in zip(stores, bindings, strict=True)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert sorted(outcomes) == ["bound", "refused", "refused", "refused"]
    assert stores[0].binding() in bindings
    for s in stores:
        s.close()


# -- several processes on one database ----------------------------------------------------------


def test_an_append_stalled_before_its_commit_holds_back_later_appends(pg_url):
    """A front-end whose append stalls after taking its seq (here: its INSERT waits on an
    uncommitted row with the same hash) must hold back every later append: were the later one to
    commit first with a larger seq, a reader paging by seq would move past the stalled one."""
    store = open_store(pg_url)
    store.append_tx(h(1), "transfer", b"")
    other = psycopg.connect(pg_url)  # holds an uncommitted row with h(2)'s hash
    other.execute(
        "INSERT INTO txs (seq, tx_hash, kind, payload, status, received_at)"
        " VALUES (1000, %s, 'transfer', '', 'pending', 0)",
        (h(2),),
    )
    stalled_store, later_store = open_store(pg_url), open_store(pg_url)
    done: dict[str, int] = {}

    def append(name: str, s: PostgresStore, tx_hash: bytes) -> None:
        done[name] = s.append_tx(tx_hash, "transfer", b"")

    stalled = threading.Thread(target=append, args=("stalled", stalled_store, h(2)))
    stalled.start()
    time.sleep(0.5)  # it has its seq and waits for the other transaction's row
    later = threading.Thread(target=append, args=("later", later_store, h(3)))
    later.start()
    later.join(timeout=1.0)
    assert done == {}, "a later append committed while an earlier one was still open"
    assert [t.seq for t in store.txs(after_seq=1)] == []  # a reader sees neither yet
    other.rollback()  # the stalled INSERT goes on
    stalled.join(timeout=10)
    later.join(timeout=10)
    assert done == {"stalled": 2, "later": 3}
    assert [t.tx_hash for t in store.txs(after_seq=1)] == [h(2), h(3)]
    for s in (stalled_store, later_store, store):
        s.close()
    other.close()


@pytest.mark.slow  # four writer processes, 240 groups (~20 s here)
def test_concurrent_front_ends_and_a_sequencer_keep_commit_order_and_lose_nothing(pg_url):
    sequencer = open_store(pg_url, leader=True)
    sequencer.bind(BOUND)
    groups = 60
    writers = [_writer(pg_url, w, groups) for w in range(4)]
    seen: list[int] = []
    cursor, batch, deadline = 0, 0, time.monotonic() + 120
    try:
        # The sequencer pages by seq and batches the oldest pending, as the core does.
        while any(p.poll() is None for p in writers) or sequencer.txs(after_seq=cursor):
            assert time.monotonic() < deadline, "the writers did not finish"
            page = sequencer.txs(TxStatus.PENDING, after_seq=cursor)
            if page:
                seqs = [t.seq for t in page]
                assert seqs == sorted(seqs) and seqs[0] > cursor
                sequencer.record_batch_intent(batch, ROOT_A, ROOT_B, b"", seqs)
                seen.extend(seqs)
                cursor, batch = seqs[-1], batch + 1
            time.sleep(random.uniform(0, 0.01))
        outputs = [p.communicate(timeout=30)[0] for p in writers]
    finally:
        for p in writers:
            p.kill()
            p.wait(timeout=10)
    assert all(p.returncode == 0 for p in writers)

    acks = [_acks(out) for out in outputs]
    everything = sequencer.txs()
    assert [t.seq for t in everything] == seen  # the pager skipped nothing
    assert seen == list(range(1, len(seen) + 1))  # and no seq was lost
    by_hash = {t.tx_hash: t for t in everything}
    for w, acked in enumerate(acks):
        assert len(acked) == groups, f"writer {w} acknowledged {len(acked)} groups"
        previous = 0
        for (_, g), seqs in acked.items():
            assert seqs == list(range(seqs[0], seqs[0] + len(seqs)))  # one transaction each
            assert seqs[0] > previous  # a writer's appends commit in its order
            previous = seqs[-1]
            for i, seq in enumerate(seqs):
                payload = json.dumps({"w": w, "g": g, "i": i, "n": len(seqs)}).encode()
                stored = by_hash[hashlib.sha256(payload).digest()]
                assert stored.seq == seq and stored.payload == payload
    assert sum(len(s) for a in acks for s in a.values()) == len(everything)
    assert all(t.status is TxStatus.BATCHED for t in everything)
    sequencer.close()


# -- SIGKILL of a writer mid-stream (both stores) -----------------------------------------------


@pytest.mark.slow  # three writer processes killed in turn (~10-15 s here)
def test_a_writer_killed_mid_stream_loses_no_acknowledged_append_and_leaves_no_half(
    new_store_url,
):
    url = new_store_url()
    rng = random.Random(10)
    acknowledged: dict[tuple[int, int], list[int]] = {}
    for round_ in range(3):  # a new writer each round, in the store the last one was killed in
        writer = _writer(url, round_, 100_000)
        try:
            assert writer.stdout.readline().strip() == "READY"
            target = rng.randint(20, 200)
            lines = []
            while len(lines) < target:
                line = writer.stdout.readline()
                assert line, f"the writer died: {writer.stderr.read()}"
                lines.append(line)
            writer.kill()  # SIGKILL, most likely in the middle of an append
            rest = writer.stdout.read()
            writer.wait(timeout=10)
        finally:
            writer.kill()
            writer.wait(timeout=10)
        acknowledged.update(_acks("".join(lines) + rest))

    store = open_store(url)
    stored = store.txs()
    by_hash = {t.tx_hash: t for t in stored}
    for (w, g), seqs in acknowledged.items():  # every acknowledged append is there
        for i, seq in enumerate(seqs):
            payload = json.dumps({"w": w, "g": g, "i": i, "n": len(seqs)}).encode()
            assert by_hash[hashlib.sha256(payload).digest()].seq == seq
    groups: dict[tuple[int, int], list[int]] = {}
    for t in stored:  # nothing half-written: intact rows, whole groups, no seq gap
        fields = json.loads(t.payload)
        assert hashlib.sha256(t.payload).digest() == t.tx_hash and t.kind == "transfer"
        groups.setdefault((fields["w"], fields["g"]), []).append(fields["n"])
    assert all(len(sizes) == sizes[0] for sizes in groups.values())
    assert set(acknowledged) <= set(groups) and len(groups) <= len(acknowledged) + 3
    assert [t.seq for t in stored] == list(range(1, len(stored) + 1))
    store.close()


@pytest.mark.slow  # a second PostgreSQL server, killed and recovered (~30 s)
def test_acknowledged_appends_survive_a_server_crash_though_the_database_says_async(pg_server):
    """SIGKILL of every server process (WAL buffers in shared memory are lost): what a store
    acknowledged is there after recovery, also when the database's default is asynchronous
    commit (the store overrides it), and the store reopens and appends on."""
    if pg_server._handle is None:
        pytest.skip("needs a server of its own to kill: runs with the tests' pgserver only")
    server = start_server()
    try:
        url = server.new_database()
        dbname = psycopg.conninfo.conninfo_to_dict(url)["dbname"]
        sql(url, f'ALTER DATABASE "{dbname}" SET synchronous_commit = off')
        writer = _writer(url, 0, 100_000)
        assert writer.stdout.readline().strip() == "READY"
        lines = [writer.stdout.readline() for _ in range(300)]
        postmaster = psutil.Process(server._handle.get_pid())
        doomed = [postmaster, *postmaster.children(recursive=True)]
        for proc in doomed:
            proc.kill()
        psutil.wait_procs(doomed, timeout=10)
        rest, _ = writer.communicate(timeout=30)  # it fails on its next append
        acknowledged = _acks("".join(lines) + rest)
        assert len(acknowledged) >= 300

        with server._handle._lock:  # pgserver's own start-up path: recovery from the WAL
            server._handle.ensure_postgres_running()
        store = open_store(url)
        by_hash = {t.tx_hash: t.seq for t in store.txs()}
        lost = [
            (g, seqs)
            for (w, g), seqs in acknowledged.items()
            for i, seq in enumerate(seqs)
            if by_hash.get(_hash(w, g, i, len(seqs))) != seq
        ]
        assert lost == [], f"{len(lost)} acknowledged transactions lost, first {lost[:3]}"
        assert store.append_tx(h(1), "transfer", b"") > max(by_hash.values())
        store.close()
    finally:
        server.stop()


# -- helpers ------------------------------------------------------------------------------------


def _writer(url: str, writer: int, groups: int, mode: str = "front") -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, str(WRITER), url, str(writer), str(groups), mode],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _hash(writer: int, group: int, index: int, size: int) -> bytes:
    """The hash store_writer.py gives transaction `index` of a group."""
    payload = json.dumps({"w": writer, "g": group, "i": index, "n": size}).encode()
    return hashlib.sha256(payload).digest()


def _acks(output: str) -> dict[tuple[int, int], list[int]]:
    """The groups a writer acknowledged, from its complete ACK lines (a cut last line is not)."""
    acks = {}
    for line in output.splitlines(keepends=True):
        if line.startswith("ACK ") and line.endswith("\n"):
            _, w, g, seqs = line.split()
            acks[(int(w), int(g))] = [int(s) for s in seqs.split(",")]
    return acks


# -- the batcher of today on the PostgreSQL store (a drop-in check) -----------------------------


def test_the_batcher_runs_and_recovers_on_the_postgres_store(
    chain, deployment, contracts, deployer, alice, bob, pg_url, bls_keys
):
    """The optimistic batcher given a postgresql:// store (`open_store(..., leader=True)`, as
    the service's `--store` does) binds, takes the leader lock, accepts, posts, and recovers
    after a restart with nothing lost."""
    from operator_helpers import fund, key_of, settings_for

    import offchain.sequencer.optimistic as batcher_module
    from offchain.rollup.wallet import sign_transfer

    bridge, _ = contracts
    fund(bridge, alice, 10**18)
    fund(bridge, bob, 10**18)
    first = batcher_module.Batcher(settings_for(chain, deployment, deployer, pg_url))
    first.recover()
    first.ensure_bond()
    first.post_if_due(force=True)  # the deposits
    assert first.store.is_leader
    with pytest.raises(LeaderLockHeld):
        open_store(pg_url, leader=True)  # a second sequencer of this deployment
    key = key_of(alice)
    posted = [
        first.submit(sign_transfer(key, first.dst, 0, 1, 1000, 0, n), n).tx_hash for n in range(3)
    ]
    first.post_if_due(force=True)
    pending = first.submit(sign_transfer(key, first.dst, 0, 1, 1000, 0, 3), 3).tx_hash
    first.store.close()  # as a crash would: every acknowledged write is committed

    again = batcher_module.Batcher(settings_for(chain, deployment, deployer, pg_url))
    again.recover()
    assert [again.store.tx(h).status for h in posted] == [TxStatus.POSTED] * 3
    assert again.store.tx(pending).status is TxStatus.PENDING
    again.post_if_due(force=True)
    assert again.store.tx(pending).status is TxStatus.POSTED
    assert again.store.count_txs(TxStatus.DROPPED) == 0
    again.store.close()
