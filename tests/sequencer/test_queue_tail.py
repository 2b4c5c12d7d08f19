"""The unconsumed tail of an L1 queue (offchain/sequencer/queue_tail.py): absolute positions,
incremental extension, dropping consumed entries, and the block a checkpoint records. Pure."""

from dataclasses import dataclass

import pytest

from offchain.sequencer.queue_tail import QueueTail


@dataclass(frozen=True)
class Entry:
    index: int


def _tail(base, n, first_block=10, from_block=0):
    entries = [Entry(base + i) for i in range(n)]
    return QueueTail(base, entries, [first_block + i for i in range(n)], from_block)


def test_slices_take_absolute_positions_and_len_is_the_queue_end():
    t = _tail(5, 4)  # entries 5..8
    assert len(t) == 9
    assert [e.index for e in t[6:8]] == [6, 7]
    assert [e.index for e in t[7:]] == [7, 8]
    assert [e.index for e in t[5:100]] == [5, 6, 7, 8]
    assert t[9:] == [] and t[8] == Entry(8)
    with pytest.raises(IndexError, match="dropped"):
        t[4:6]
    with pytest.raises(IndexError):
        t[9]


def test_extend_skips_what_it_holds_refuses_gaps_and_moves_the_read_block():
    t = _tail(0, 2, first_block=3)  # blocks 3, 4
    assert t.from_block == 4
    assert t.extend([Entry(1), Entry(2), Entry(3)], [4, 7, 9]) == 2
    assert len(t) == 4 and t.from_block == 9
    with pytest.raises(ValueError, match="gap"):
        t.extend([Entry(5)], [12])
    assert len(t) == 4  # nothing of the refused read was kept


def test_drop_below_keeps_only_the_unconsumed_tail_and_block_of_stays_a_lower_bound():
    t = _tail(0, 5, first_block=20)  # blocks 20..24
    t.drop_below(3)
    assert t.base == 3 and [e.index for e in t.entries] == [3, 4] and len(t) == 5
    assert t.block_of(4) == 24
    t.drop_below(5)
    assert t.entries == [] and len(t) == 5
    assert t.block_of(5) == 24  # the next entry is queued at or after the last one read
    t.drop_below(2)  # below the base: nothing happens
    assert t.base == 5
    with pytest.raises(IndexError, match="dropped"):
        t.block_of(1)


def test_an_empty_tail_remembers_where_its_reading_started():
    t = QueueTail(7, [], [], from_block=123)
    assert len(t) == 7 and t.block_of(7) == 123 and t[7:] == []


def test_a_non_contiguous_or_unblocked_tail_is_refused():
    with pytest.raises(ValueError, match="not contiguous"):
        QueueTail(0, [Entry(0), Entry(2)], [1, 2])
    with pytest.raises(ValueError, match="block"):
        QueueTail(0, [Entry(0)], [])
