"""Helpers of the blob batch contract tests: postBlobBatches sent as type-3 transactions through
the L1 sender (Ape cannot send blob transactions), revert data of refused postings, and the
layout of offchain.rollup.blob_batches for v2_helpers' commitments."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import ape
import pytest
from eth_abi import encode as abi_encode
from eth_account import Account
from eth_account.signers.local import LocalAccount
from eth_utils import keccak
from v2_helpers import Built, Chain

from offchain.blobs import encoding
from offchain.blobs import tx as blob_tx
from offchain.l1.sender import L1Sender, SendPolicy, WouldRevert
from offchain.rollup import blob_batches as bb
from offchain.rollup.codec import commitment_length

#: Quick retries: the tests' Anvil mines at once.
TEST_POLICY = SendPolicy(receipt_timeout=10.0, backoff=0.05, max_backoff=0.2, max_attempts=3)
BLOB_MISMATCH = 14


def signer_of(ape_account) -> LocalAccount:
    return Account.from_key(ape_account.private_key)


def error_data(signature: str, types: Sequence[str] = (), values: Sequence = ()) -> str:
    """Hex revert data of a custom error, as it appears in a refused call's message."""
    return (keccak(text=signature)[:4] + abi_encode(list(types), list(values))).hex()


@dataclass
class Posted:
    """A blob posting as sent and mined."""

    first: int
    posting: bb.BlobPosting
    blobs: list[bytes]
    receipt: object  # Ape receipt (decode_logs)

    def batch(self, k: int) -> bb.BlobBatch:
        return self.posting.batches[k]

    def proof(self, k: int, ci: int) -> tuple:
        return bb.blob_proof(self.first + k, self.batch(k), ci, self.blobs)


def layout(batches: Sequence[Sequence[Built]]) -> bb.BlobPosting:
    return bb.encode_posting([[(b.post_root, b.rest) for b in batch] for batch in batches])


def calldata(c: Chain, pre_root: bytes, data: bytes) -> bytes:
    return bytes(c.rollup.postBlobBatches.encode_input(pre_root, data))


def send(c: Chain, tx_data: bytes, blobs: Sequence[bytes], sender=None):
    """Send a type-3 call to the rollup from `sender` (the proposer by default); Ape receipt."""
    w3 = c.chain.provider.web3
    account = signer_of(sender or c.proposer)
    sent = blob_tx.send_blobs(L1Sender(w3, account, TEST_POLICY), c.rollup.address, tx_data, blobs)
    return c.chain.provider.get_receipt(sent.tx_hash)


def post_blobs(
    c: Chain,
    posting: bb.BlobPosting,
    *,
    pre_root: bytes | None = None,
    blobs: Sequence[bytes] | None = None,
) -> Posted:
    """Post `posting` (its own blobs unless `blobs` replaces them)."""
    pre = c.rollup.head()[0] if pre_root is None else pre_root
    first = c.rollup.batchCount()
    sent_blobs = list(posting.blobs() if blobs is None else blobs)
    receipt = send(c, calldata(c, pre, posting.data), sent_blobs)
    return Posted(first, posting, sent_blobs, receipt)


def refused(c: Chain, tx_data: bytes, blobs: Sequence[bytes], sender=None) -> str:
    """The revert data (hex, in the error message) of a blob call the sender refuses to send."""
    with pytest.raises(WouldRevert) as err:
        send(c, tx_data, blobs, sender)
    return str(err.value.error)


def filler_rest(counts: tuple[int, int, int, int], fill: int) -> bytes:
    """A framing-valid rest with these counts (bytes not meant to execute)."""
    n = commitment_length(*counts) - 32
    return bytes(counts) + bytes((fill + i) % 256 for i in range(n - 4))


def blobs_with(payload: bytes) -> list[bytes]:
    return encoding.encode(payload)


def fault_of(c: Chain, receipt) -> int:
    (log,) = list(receipt.decode_logs(c.rollup.FraudProven))
    return int(log.fault)


def reverts(*args, **kwargs):
    return ape.reverts(*args, **kwargs)
