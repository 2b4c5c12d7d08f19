"""Store schema 2: group commit (append_txs), persistent counters, checkpoints, version check."""

import sqlite3

import pytest

from offchain.sequencer.store import (
    SCHEMA_VERSION,
    BatchStatus,
    DuplicateTransaction,
    OperatorStore,
    StoreError,
    TxStatus,
)


def h(n: int) -> bytes:
    return n.to_bytes(32, "big")


def test_append_txs_is_all_or_nothing(tmp_path):
    store = OperatorStore(tmp_path / "s.sqlite")
    assert store.append_txs([(h(1), "transfer", b"a"), (h(2), "withdraw", b"b")]) == [1, 2]
    with pytest.raises(DuplicateTransaction):
        store.append_txs([(h(3), "transfer", b"c"), (h(2), "transfer", b"x")])
    with pytest.raises(DuplicateTransaction):
        store.append_txs([(h(4), "transfer", b"d"), (h(4), "transfer", b"d")])
    assert store.count_txs() == 2 and store.tx(h(3)) is None and store.tx(h(4)) is None
    assert store.append_txs([(h(3), "transfer", b"c")]) == [3]
    assert store.append_txs([]) == []
    assert store.counters()["txs_accepted"] == 3


def test_counters_survive_a_restart_and_mark_batch_adds_them_atomically(tmp_path):
    path = tmp_path / "s.sqlite"
    store = OperatorStore(path)
    store.append_tx(h(1), "transfer", b"")
    store.record_batch_intent(0, b"\x01" * 32, b"\x02" * 32, b"data", [1])
    store.mark_batch(0, BatchStatus.POSTED, "0xab", 3, {"batches_posted": 1, "l1_gas": 500})
    store.add_counters({"l1_gas": 25, "sender_retries": 2})
    with pytest.raises(StoreError, match="unknown counters"):
        store.add_counters({"made_up": 1})
    with pytest.raises(StoreError, match="unknown counters"):  # nothing of that group applied
        store.mark_batch(0, BatchStatus.FINAL, counters={"batches_posted": 1, "bad": 1})
    assert store.batch(0).status is BatchStatus.POSTED
    store.close()
    again = OperatorStore(path)
    c = again.counters()
    assert c["batches_posted"] == 1 and c["l1_gas"] == 525 and c["sender_retries"] == 2
    assert c["txs_accepted"] == 1 and c["txs_rejected"] == 0
    assert again.mark_batches_final(1) == [0] and again.tx(h(1)).status is TxStatus.FINAL
    assert again.mark_batches_final(1) == []
    assert again.last_batch().batch_index == 0 and again.open_batches() == []


def test_checkpoints(tmp_path):
    store = OperatorStore(tmp_path / "s.sqlite")
    assert store.load_checkpoint("validator") is None
    store.save_checkpoint("validator", b"one")
    store.save_checkpoint("validator", b"two")
    assert store.load_checkpoint("validator") == b"two"
    store.delete_checkpoint("validator")
    assert store.load_checkpoint("validator") is None


def test_a_store_of_another_schema_version_is_refused_untouched(tmp_path):
    path = tmp_path / "old.sqlite"
    db = sqlite3.connect(path)
    db.execute("CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
    db.execute("INSERT INTO meta VALUES ('schema_version', '1')")
    db.commit()
    db.close()
    with pytest.raises(StoreError, match=f"schema version 1, this operator needs {SCHEMA_VERSION}"):
        OperatorStore(path)
    tables = {r[0] for r in sqlite3.connect(path).execute("SELECT name FROM sqlite_master")}
    assert "counters" not in tables  # refused before writing anything
