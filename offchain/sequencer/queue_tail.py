"""The unconsumed tail of an L1 queue (deposits or forced txs), indexed by queue position. Pure.

The batcher needs only the entries no live batch consumed yet, so it keeps those (and their L1
blocks) instead of every entry since genesis: memory stays flat, and a refresh reads only the
logs from the block of the newest entry it holds. Slicing takes absolute queue positions
(`tail[5:9]` are entries 5..8), `len(tail)` is the queue's end (the next position), as with the
whole list it replaces.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, overload


@dataclass
class QueueTail:
    """Entries `base`..`end - 1` of a queue (each with `.index`), and the L1 block of each."""

    base: int = 0
    entries: list[Any] = field(default_factory=list)
    blocks: list[int] = field(default_factory=list)
    #: A block at or before the one that queues the next entry not held yet (a refresh reads
    #: logs from it): the block of the newest entry held, or where the reading started.
    from_block: int = 0

    def __post_init__(self) -> None:
        if len(self.entries) != len(self.blocks):
            raise ValueError("every queue entry needs its L1 block")
        for offset, entry in enumerate(self.entries):
            if entry.index != self.base + offset:
                raise ValueError(
                    f"queue entry {entry.index} at position {self.base + offset}: not contiguous"
                )
        if self.blocks:
            self.from_block = max(self.from_block, self.blocks[-1])

    def __len__(self) -> int:
        return self.base + len(self.entries)

    @overload
    def __getitem__(self, key: int) -> Any: ...

    @overload
    def __getitem__(self, key: slice) -> list[Any]: ...

    def __getitem__(self, key: int | slice) -> Any:
        if isinstance(key, int):
            if not self.base <= key < len(self):
                raise IndexError(f"queue position {key} is not held ({self.base}..{len(self)})")
            return self.entries[key - self.base]
        if key.step not in (None, 1):
            raise ValueError("queue slices take no step")
        start = self.base if key.start is None else key.start
        stop = len(self) if key.stop is None else min(key.stop, len(self))
        if start < self.base:
            raise IndexError(f"queue position {start} was dropped (tail starts at {self.base})")
        return self.entries[start - self.base : max(stop - self.base, 0)]

    def extend(self, entries: Sequence[Any], blocks: Sequence[int]) -> int:
        """Append what a refresh read from position `len(self)` on (entries it already holds are
        skipped); returns how many were new."""
        added = 0
        for entry, block in zip(entries, blocks, strict=True):
            if entry.index < len(self):
                continue
            if entry.index != len(self):
                raise ValueError(f"queue entry {entry.index} read after {len(self) - 1}: a gap")
            self.entries.append(entry)
            self.blocks.append(block)
            self.from_block = max(self.from_block, block)
            added += 1
        return added

    def drop_below(self, position: int) -> None:
        """Forget the entries before `position` (consumed by a live batch)."""
        n = min(max(position - self.base, 0), len(self.entries))
        if n:
            del self.entries[:n]
            del self.blocks[:n]
            self.base += n

    def block_of(self, position: int) -> int:
        """A block at or before the one that queued entry `position` (or, past the end, the
        next entry to come): what a checkpoint records to read the queue again from there."""
        if self.base <= position < len(self):
            return self.blocks[position - self.base]
        if position >= len(self):
            return self.from_block
        raise IndexError(f"queue position {position} was dropped (tail starts at {self.base})")
