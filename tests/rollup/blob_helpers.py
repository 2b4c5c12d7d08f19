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
from posting_helpers import call_raw
from v2_helpers import ACTIVATION_DELAY, Built, Chain, deploy
from web3.exceptions import ContractLogicError

from offchain.blobs import encoding
from offchain.blobs import tx as blob_tx
from offchain.bls import SecretKey
from offchain.l1.sender import L1Sender, SendPolicy, WouldRevert
from offchain.rollup import blob_batches as bb
from offchain.rollup.codec import commitment_length
from offchain.rollup.posting import POST_BLOB_BATCHES_SELECTOR

#: Quick retries: the tests' Anvil mines at once.
TEST_POLICY = SendPolicy(receipt_timeout=10.0, backoff=0.05, max_backoff=0.2, max_attempts=3)
BLOB_MISMATCH = 14
E19 = 10**19
#: rest counts of a 32-transfer commitment (the longest rest: 439 bytes).
FULL = (0, 32, 0, 0)


def setup(project, chain, accounts) -> Chain:
    """A v2 rollup; L2 accounts 0..3 owned by L1 accounts 1..4, 10 ETH each, BLS keys
    registered, in calldata batch 0; the proposer (account 8) holds 12 bonds."""
    c = deploy(project, chain, accounts)
    owners = [accounts[i + 1].address.lower() for i in range(4)]
    for i in range(4):
        c.register(accounts[i + 1], SecretKey(30_000 + i))
        c.deposit(accounts[0], owners[i], E19)
    c.mine(ACTIVATION_DELAY)
    c.post([c.world.commit(deposits=[(i, owners[i], E19) for i in range(4)])])
    return c


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


def send(c: Chain, tx_data: bytes, blobs: Sequence[bytes], sender=None, to: str | None = None):
    """Send a type-3 call to the rollup (or `to`) from `sender` (the proposer by default); the
    Ape receipt."""
    w3 = c.chain.provider.web3
    account = signer_of(sender or c.proposer)
    target = to or c.rollup.address
    sent = blob_tx.send_blobs(L1Sender(w3, account, TEST_POLICY), target, tx_data, blobs)
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


def refused(
    c: Chain, tx_data: bytes, blobs: Sequence[bytes], sender=None, to: str | None = None
) -> str:
    """The revert data (hex, in the error message) of a blob call the sender refuses to send."""
    with pytest.raises(WouldRevert) as err:
        send(c, tx_data, blobs, sender, to)
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


def plain_call(c: Chain, tx_data: bytes, sender=None, gas: int = 0) -> tuple[bool, bytes]:
    """eth_call without blobs (the checks before the blob count are the same)."""
    w3 = c.chain.provider.web3
    frm = (sender or c.proposer).address
    if not gas:
        return call_raw(w3, frm, c.rollup.address, tx_data)
    try:
        return True, bytes(
            w3.eth.call({"from": frm, "to": c.rollup.address, "data": tx_data, "gas": gas})
        )
    except ContractLogicError as e:
        raw = e.data if isinstance(e.data, str) else ""
        return False, bytes.fromhex(raw[2:]) if raw.startswith("0x") else b""


def filler_posting(batches: int, commitments: int = 64, counts=FULL, root: bytes = b"\x11" * 32):
    """A posting of framing-valid filler commitments (never executed): for sizes and disputes."""
    return bb.encode_posting(
        [
            [(root, filler_rest(counts, 64 * k + i)) for i in range(commitments)]
            for k in range(batches)
        ]
    )


def raw_posting(headers_per_batch: Sequence[Sequence[bb.BlobHeader]], payload: bytes):
    """A posting laid out by hand (headers need not match the payload): data, payload, offsets."""
    data, out, at = bytearray(), [], 0
    for headers in headers_per_batch:
        data.append(len(headers))
        data += b"".join(h.encode() for h in headers)
        batch = bb.BlobBatch(tuple(headers), at)
        out.append(batch)
        at += batch.payload_length
    return bb.BlobPosting(bytes(data), payload, tuple(out))


def selector_call(pre_root: bytes, data: bytes) -> bytes:
    """postBlobBatches calldata built from posting.encode_posting's layout (same canonical rule)."""
    from offchain.rollup.posting import encode_posting

    return POST_BLOB_BATCHES_SELECTOR + encode_posting(pre_root, data)[4:]


def call_blobs(c: Chain, tx_data: bytes, hashes: Sequence[bytes], sender=None) -> bytes:
    """eth_call as a type-3 transaction carrying blobs of these versioned hashes: return data."""
    w3 = c.chain.provider.web3
    tx = {
        "from": (sender or c.proposer).address,
        "to": c.rollup.address,
        "data": tx_data,
        "gas": 20_000_000,
        "maxFeePerBlobGas": 10**10,
        "blobVersionedHashes": list(hashes),
    }
    return bytes(w3.eth.call(tx))  # type: ignore[arg-type]
