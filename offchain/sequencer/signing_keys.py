"""Which BLS key the batcher accepts a signature under (docs/bls.md §6.3), and the I/O that keeps
that view current from BLSKeyRegistry's `KeyRegistered` logs.

Admission rule (pure, `KeyBook.signing_key`): a tx of owner O is checked against the key valid for
O at the L1 head the book was read at; it is refused when O has no key yet, or when O has a
registration whose `fromBlock` is still ahead (a rotation pending: a batch posted after it would
be checked against the new key, so a signature under the old one could knock an honest batch out;
the wallet re-signs once the new key is in effect).

`KeyWatcher` (I/O) folds new logs into a fresh `KeyBook` and swaps it in one assignment, so
`prepare` (off the lock) reads a consistent snapshot without locking.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

from eth_utils import to_checksum_address

from offchain.bls import PublicKey
from offchain.bls.registry import (
    KEY_REGISTERED_TOPIC,
    KeyEntry,
    KeyHistory,
    apply,
    decode_key_registered,
)
from offchain.sequencer.core import Rejected

log = logging.getLogger("l2kit.batcher")


@dataclass(frozen=True)
class KeyBook:
    """Every address's key history as of L1 block `head` (inclusive)."""

    history: KeyHistory = field(default_factory=KeyHistory)
    head: int = 0
    #: The history by lower-case address (admission looks owners up per tx: no checksumming).
    _by_owner: dict[str, tuple[KeyEntry, ...]] = field(
        init=False, repr=False, compare=False, default_factory=dict
    )

    def __post_init__(self) -> None:
        self._by_owner.update((o.lower(), e) for o, e in self.history.entries.items())

    def signing_key(self, owner: str) -> PublicKey:
        """The key a signature of `owner` is checked under now; Rejected (no_key,
        key_rotation_pending) when admission must refuse."""
        entries = self._by_owner.get(owner.lower(), ())
        if entries and entries[-1].from_block > self.head:
            raise Rejected(
                "key_rotation_pending",
                f"the BLS key of {owner} changes at L1 block {entries[-1].from_block} (now "
                f"{self.head}): resubmit signed with the new key once that block is reached",
            )
        if not entries:
            raise Rejected(
                "no_key",
                f"{owner} has no BLS key: register one (`l2kit rollup key register`) and wait "
                "for its activation block",
            )
        return entries[-1].key

    def valid_at(self, owner: str, key: PublicKey, block: int) -> bool:
        """Whether `key` is still `owner`'s key at `block` (a tx accepted under it and not yet
        posted by then must be dropped and re-signed)."""
        return self.history.key_at(owner, block) == key


def fold(book: KeyBook, entries: list[KeyEntry], head: int) -> KeyBook:
    """The book after `entries` (chain order), read up to block `head`."""
    history = book.history
    for entry in entries:
        history = apply(history, entry)
    return KeyBook(history, max(head, book.head))


class KeyWatcher:
    """Follows the registry's logs; `book` is the current snapshot."""

    def __init__(self, w3: Any, registry: str, from_block: int = 0) -> None:
        self.w3 = w3
        self.registry = to_checksum_address(registry)
        self._next = from_block
        self.book = KeyBook(KeyHistory(), max(from_block - 1, 0))

    def refresh(self, head: int | None = None) -> list[KeyEntry]:
        """Read the logs up to `head` (default: the node's latest block), swap the book in;
        returns the new entries."""
        top = int(self.w3.eth.block_number) if head is None else head
        if top < self._next:
            if top > self.book.head:
                self.book = KeyBook(self.book.history, top)
            return []
        logs = self.w3.eth.get_logs(
            {
                "address": self.registry,
                "fromBlock": self._next,
                "toBlock": top,
                "topics": ["0x" + KEY_REGISTERED_TOPIC.hex()],
            }
        )
        entries = [decode_key_registered(list(lg["topics"]), bytes(lg["data"])) for lg in logs]
        self.book = fold(self.book, entries, top)
        self._next = top + 1
        if entries:
            log.info("%d BLS key registration(s) read up to block %d", len(entries), top)
        return entries
