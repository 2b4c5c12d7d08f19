"""`Sequencer.admit_many` semantics on a minimal backend: in-order admission, one store write per
group, a refused item leaves no trace, duplicates inside a group, idempotent resends, a failed
write acknowledges nothing."""

import threading
from dataclasses import dataclass

import pytest

from offchain.sequencer.core import Rejected, Sequencer
from offchain.sequencer.store import OperatorStore, TxStatus


@dataclass(frozen=True)
class Item:
    sender: str
    nonce: int
    signer: str = "ok"

    @property
    def payload(self) -> bytes:
        return f"{self.sender}:{self.nonce}:{self.signer}".encode()

    @property
    def tx_hash(self) -> bytes:
        return self.payload.ljust(32, b"\0")

    kind = "transfer"


class NonceBackend:
    """Accounts are names with a next nonce; a tx is valid for exactly that nonce."""

    mode = "optimistic"
    proposer = "0x" + "00" * 20

    def __init__(self, store):
        self.store = store
        self.frozen = False
        self.pending = {"a": 0, "b": 0}

    def prepare(self, body):
        return Item(body["sender"], body["nonce"])

    def check_frozen(self):
        return self.frozen

    def begin_group(self):
        return dict(self.pending)

    def admit(self, scratch, item):
        if item.sender not in scratch:
            return Rejected("unknown_account", "no such account")
        if item.nonce != scratch[item.sender]:
            return Rejected("bad_nonce", "wrong nonce")
        scratch[item.sender] += 1
        return None

    def is_resend(self, item, stored):
        return item.signer == "ok"

    def commit_group(self, scratch):
        self.pending = scratch

    def tx_json(self, stored):
        return {"seq": stored.seq, "status": stored.status.value}

    def recover(self):
        pass

    def post_if_due(self, force=False):
        return None

    def track_finality(self):
        pass

    def status_parts(self):
        return {"l2": {}, "l1": {}, "finality": {}}


@pytest.fixture
def unrecovered(tmp_path):
    store = OperatorStore(tmp_path / "s.sqlite")
    yield Sequencer(NonceBackend(store), threading.RLock(), 0.1)
    store.close()


@pytest.fixture
def seq(unrecovered):
    unrecovered.recovered()
    return unrecovered


def test_nothing_is_admitted_before_recovery(unrecovered):
    """The API is bound before recovery; a transaction sent meanwhile is refused (503 at the
    front), not admitted against a state not yet recovered."""
    out = unrecovered.admit_many([Item("a", 0)])
    assert [r.code for r in out] == ["not_ready"]
    assert unrecovered.store.count_txs() == 0
    unrecovered.recovered()
    assert unrecovered.admit_many([Item("a", 0)])[0]["seq"] == 1


def codes(results):
    return [r.code if isinstance(r, Rejected) else r["seq"] for r in results]


def test_in_order_admission_and_one_write_per_group(seq, monkeypatch):
    calls = []
    real = seq.store.append_txs
    monkeypatch.setattr(
        seq.store, "append_txs", lambda items: calls.append(len(items)) or real(items)
    )
    out = seq.admit_many([Item("a", 0), Item("a", 1), Item("b", 0), Item("a", 2)])
    assert codes(out) == [1, 2, 3, 4]
    assert calls == [4]  # one append_txs: one commit, one fsync
    assert seq.backend.pending == {"a": 3, "b": 1}


def test_a_refused_item_leaves_no_trace_and_later_ones_still_apply(seq):
    out = seq.admit_many([Item("a", 0), Item("a", 5), Item("zz", 0), Item("a", 1)])
    assert codes(out) == [1, "bad_nonce", "unknown_account", 2]
    assert seq.store.count_txs() == 2 and seq.backend.pending["a"] == 2
    assert seq.status()["counters"]["txs_rejected"] == 2
    assert seq.store.counters()["txs_accepted"] == 2


def test_duplicate_inside_one_group_gets_the_same_record(seq):
    out = seq.admit_many([Item("a", 0), Item("a", 0)])
    assert codes(out) == [1, 1] and seq.store.count_txs() == 1


def test_idempotent_resend_returns_the_stored_record(seq):
    seq.admit_many([Item("a", 0)])
    again = seq.admit_many([Item("a", 0)])
    assert codes(again) == [1] and seq.store.count_txs() == 1
    assert seq.backend.pending["a"] == 1  # not applied twice


def test_resend_that_is_not_the_same_signer_is_a_duplicate(seq):
    seq.admit_many([Item("a", 0)])
    seq.backend.is_resend = lambda item, stored: False
    assert codes(seq.admit_many([Item("a", 0)])) == ["duplicate"]


def test_a_failed_store_write_acknowledges_nothing_and_changes_nothing(seq, monkeypatch):
    def boom(items):
        raise OSError("disk full")

    monkeypatch.setattr(seq.store, "append_txs", boom)
    with pytest.raises(OSError):
        seq.admit_many([Item("a", 0), Item("b", 0)])
    assert seq.backend.pending == {"a": 0, "b": 0}
    monkeypatch.undo()
    assert codes(seq.admit_many([Item("a", 0)])) == [1]


def test_frozen_refuses_the_whole_group(seq):
    seq.backend.frozen = True
    assert codes(seq.admit_many([Item("a", 0), Item("b", 0)])) == ["frozen", "frozen"]
    assert seq.store.count_txs() == 0


def test_submit_prepared_raises_the_rejection(seq):
    assert seq.submit_prepared(Item("a", 0)).status is TxStatus.PENDING
    with pytest.raises(Rejected, match="wrong nonce"):
        seq.submit_prepared(Item("a", 7))


def test_status_has_the_common_keys(unrecovered):
    seq = unrecovered
    s = seq.status()
    assert {"mode", "ready", "frozen", "proposer", "l2", "l1", "counters", "finality"} <= set(s)
    assert s["last_batch"] is None and s["ready"] is False  # not recovered yet
    seq.recovered()
    assert seq.ready() == (True, "ready")


def test_not_ready_after_failing_rounds_for_a_while(seq, monkeypatch):
    seq._last_error = "connection refused"
    assert seq.ready()[0] is True  # one failing round is no silence yet
    monkeypatch.setattr(seq, "_last_l1_ok", seq._last_l1_ok - 31)
    ok, why = seq.ready()
    assert not ok and "connection refused" in why
    seq.backend.frozen = True
    assert seq.ready() == (False, "the rollup is frozen")
