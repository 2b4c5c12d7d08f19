"""The off-chain view of BLSKeyRegistry: every address's key history rebuilt from its
`KeyRegistered` events alone, and the key valid at a block (what a validator or a dispute uses).

Pure: `decode_key_registered` turns one raw log into a `KeyEntry`, `apply` folds entries into a
`KeyHistory` (a new value each time, nothing mutated); fetching the logs is the caller's I/O.
The rules mirror the contract: an entry with the index of the newest record replaces it (a
pending key re-registered in the same block), the next index appends; `key_at(owner, block)` is
the last entry whose `from_block` <= block, like `keyHashAt`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from eth_abi import decode
from eth_utils import keccak, to_checksum_address

from .encoding import from_words
from .errors import BLSError
from .keys import PublicKey

KEY_REGISTERED_SIGNATURE = (
    "KeyRegistered(address,uint256,uint64,bytes32,"
    "(uint256,uint256,uint256,uint256,uint256,uint256,uint256,uint256))"
)
KEY_REGISTERED_TOPIC = keccak(text=KEY_REGISTERED_SIGNATURE)
_DATA_TYPES = ["uint256", "uint64", "bytes32", "(" + ",".join(["uint256"] * 8) + ")"]


@dataclass(frozen=True)
class KeyEntry:
    """One `KeyRegistered` event."""

    owner: str
    index: int
    from_block: int
    key_hash: bytes
    key: PublicKey


@dataclass(frozen=True)
class KeyHistory:
    """Every address's keys, oldest first."""

    entries: Mapping[str, tuple[KeyEntry, ...]] = field(default_factory=dict)

    def key_at(self, owner: str, block: int) -> PublicKey | None:
        """The key valid for `owner` at `block`, or None (the contract reverts NoKeyAt)."""
        valid = None
        for entry in self.entries.get(to_checksum_address(owner), ()):
            if entry.from_block > block:
                break
            valid = entry.key
        return valid


def decode_key_registered(topics: list[bytes], data: bytes) -> KeyEntry:
    """Decode one raw log of the event; BLSError if it is not a well-formed KeyRegistered."""
    if len(topics) != 2 or bytes(topics[0]) != KEY_REGISTERED_TOPIC:
        raise BLSError("not a KeyRegistered log (wrong topics)")
    try:
        index, from_block, key_hash, words = decode(_DATA_TYPES, bytes(data))
    except Exception as e:
        raise BLSError(f"KeyRegistered log data does not decode: {e}") from e
    encoding = from_words(words)
    if keccak(encoding) != key_hash:
        raise BLSError("KeyRegistered log: keyHash is not keccak256 of the key")
    owner = to_checksum_address(bytes(topics[1])[-20:])
    return KeyEntry(owner, index, from_block, key_hash, PublicKey.from_eip2537(encoding))


def apply(history: KeyHistory, entry: KeyEntry) -> KeyHistory:
    """The history after one event (events must come in chain order)."""
    current = history.entries.get(entry.owner, ())
    if entry.index == len(current):
        updated = (*current, entry)
    elif entry.index == len(current) - 1:
        updated = (*current[:-1], entry)
    else:
        raise BLSError(
            f"KeyRegistered for {entry.owner} has index {entry.index} but {len(current)} keys "
            "are known: feed the events in chain order, none missing"
        )
    return KeyHistory({**history.entries, entry.owner: updated})


def build(entries: Iterable[KeyEntry]) -> KeyHistory:
    """The history after all `entries`, in order."""
    history = KeyHistory()
    for entry in entries:
        history = apply(history, entry)
    return history
