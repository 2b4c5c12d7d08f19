"""The posting calldata rule (pure): the one tx input from which a batch's data is read.

Rollup.postBatch accepts only a direct call from an account without code whose calldata is the
canonical ABI encoding (contracts/libraries/PostingCalldata.sol), so the posting tx's input is
exactly that call. This module decodes with exactly the same rule; any input it refuses is one the
contract would have refused, so meeting one on chain is an alarm, never a fraud case
(docs/rollup-spec.md, "Posting calldata").
"""

from __future__ import annotations

from dataclasses import dataclass

from .hashing import keccak

#: First four bytes of keccak256("postBatch(bytes32,bytes)").
POST_BATCH_SELECTOR = keccak(b"postBatch(bytes32,bytes)")[:4]
#: selector(4) | expectedPreRoot(32) | offset word(32) | length word(32).
HEAD_LEN = 100
#: The only accepted offset word: `data` right after the two head words.
DATA_OFFSET = 0x40


class NonCanonicalPosting(ValueError):
    """A tx input that is not the canonical postBatch call (the contract refuses such calldata)."""


@dataclass(frozen=True)
class PostingCall:
    """The two arguments of a canonical postBatch call."""

    expected_pre_root: bytes
    data: bytes


def _padded(n: int) -> int:
    return (n + 31) // 32 * 32


#: First four bytes of keccak256("postBlobBatches(bytes32,bytes)"): same calldata rule.
POST_BLOB_BATCHES_SELECTOR = keccak(b"postBlobBatches(bytes32,bytes)")[:4]


def encode_posting(
    expected_pre_root: bytes, data: bytes, selector: bytes = POST_BATCH_SELECTOR
) -> bytes:
    """The canonical calldata of postBatch(expected_pre_root, data) (or of postBlobBatches with
    `selector` = POST_BLOB_BATCHES_SELECTOR)."""
    if len(expected_pre_root) != 32:
        raise ValueError(f"expectedPreRoot must be 32 bytes, got {len(expected_pre_root)}")
    pad = _padded(len(data)) - len(data)
    return (
        selector
        + expected_pre_root
        + DATA_OFFSET.to_bytes(32, "big")
        + len(data).to_bytes(32, "big")
        + data
        + b"\x00" * pad
    )


def decode_posting(tx_input: bytes, selector: bytes = POST_BATCH_SELECTOR) -> PostingCall:
    """Decode a posting tx's input with exactly the contract's rule; NonCanonicalPosting if it
    breaks it (wrong selector, offset word, length, non-zero padding, missing or extra bytes).
    `selector`: which posting function (postBatch or postBlobBatches) the input must call."""
    if len(tx_input) < HEAD_LEN:
        raise NonCanonicalPosting(f"input of {len(tx_input)} bytes is shorter than {HEAD_LEN}")
    if tx_input[:4] != selector:
        name = "postBatch" if selector == POST_BATCH_SELECTOR else "postBlobBatches"
        raise NonCanonicalPosting(f"selector 0x{tx_input[:4].hex()} is not {name}")
    offset = int.from_bytes(tx_input[36:68], "big")
    if offset != DATA_OFFSET:
        raise NonCanonicalPosting(f"data offset word is {offset:#x}, not {DATA_OFFSET:#x}")
    length = int.from_bytes(tx_input[68:100], "big")
    expected = HEAD_LEN + _padded(length)
    if len(tx_input) != expected:
        raise NonCanonicalPosting(
            f"input is {len(tx_input)} bytes; a {length}-byte batch needs exactly {expected}"
        )
    end = HEAD_LEN + length
    if any(tx_input[end:]):
        raise NonCanonicalPosting("non-zero bytes in the padding after data")
    return PostingCall(tx_input[4:36], tx_input[HEAD_LEN:end])
