"""The due rule (offchain/sequencer/due.py): when a batch is built."""

from dataclasses import replace

from offchain.sequencer.due import DueInputs, is_due

IDLE = DueInputs(
    now=100.0,
    pending_txs=0,
    oldest_tx_at=None,
    waiting_deposits=0,
    oldest_deposit_at=None,
    waiting_forced=0,
    max_batch_txs=10,
    max_batch_delay=5.0,
)


def test_nothing_waiting_is_not_due():
    assert not is_due(IDLE)


def test_full_batch_is_due_at_once():
    assert not is_due(replace(IDLE, pending_txs=9, oldest_tx_at=99.0))
    assert is_due(replace(IDLE, pending_txs=10, oldest_tx_at=99.0))


def test_oldest_tx_waiting_the_delay_is_due():
    assert not is_due(replace(IDLE, pending_txs=1, oldest_tx_at=95.1))
    assert is_due(replace(IDLE, pending_txs=1, oldest_tx_at=95.0))


def test_a_waiting_deposit_is_due_after_the_delay():
    assert not is_due(replace(IDLE, waiting_deposits=1, oldest_deposit_at=99.0))
    assert is_due(replace(IDLE, waiting_deposits=1, oldest_deposit_at=90.0))


def test_a_stale_time_without_anything_waiting_is_ignored():
    assert not is_due(replace(IDLE, oldest_tx_at=0.0, oldest_deposit_at=0.0))


def test_forced_heartbeat_and_force_are_due_at_once():
    assert is_due(replace(IDLE, waiting_forced=1))
    assert is_due(replace(IDLE, heartbeat=True))
    assert is_due(replace(IDLE, force=True))
