"""Blob reading, pure parts (offchain/rollup/blob_read.py, adversary blob postings): what a
tampered posting looks like to a reader, how a blob fraud becomes the replay's fraud, which
rollup function takes which proof, and the beacon setting's default."""

from __future__ import annotations

import pytest
from eth_abi import decode as abi_decode
from eth_abi import encode as abi_encode
from web3 import Web3

from offchain.blobs.errors import BeaconUnavailable, BlobMissing
from offchain.rollup import adversary as adv
from offchain.rollup import blob_batches as bb
from offchain.rollup.blob_read import (
    BLOB_PROOF_ABI,
    BlobFraud,
    BlobsUnavailable,
    beacon_for,
    default_beacon,
    is_blob_posting,
    with_blob_fraud,
)
from offchain.rollup.execute import Fault
from offchain.rollup.hashing import keccak
from offchain.rollup.l1 import BatchReading, UnreadableBatch
from offchain.rollup.posting import POST_BATCH_SELECTOR, POST_BLOB_BATCHES_SELECTOR
from offchain.rollup.proofs import commitment_for
from offchain.rollup.replay import PostedBatch, ReplayResult
from offchain.rollup.state import L2State
from offchain.rollup.types import Commitment, Transfer
from offchain.rollup.validator import entry

ROOT = b"\x07" * 32


def _commitment(n: int, seed: int) -> Commitment:
    transfers = tuple(Transfer(seed, seed + t + 1, 100 + t, 1) for t in range(n))
    return Commitment(
        ROOT, 0, 0, 0, transfers=transfers, signature=bytes([seed]) * 48 if n else b""
    )


def _posting() -> bb.BlobPosting:
    return adv.blob_posting([[_commitment(2, 1), _commitment(3, 2)], [_commitment(1, 3)]])


def test_honest_blob_posting_reads_back_every_rest():
    posting = _posting()
    blobs = posting.blobs()
    for batch in bb.decode_posting_data(posting.data):
        assert bb.read_rests(blobs, batch).first_bad is None


@pytest.mark.parametrize("tamper", [adv.blob_rest_hash_mismatch, adv.blob_counts_mismatch])
@pytest.mark.parametrize(("batch", "commitment"), [(0, 0), (0, 1), (1, 0)])
def test_tampered_header_is_the_first_bad_commitment(tamper, batch, commitment):
    honest = _posting()
    bad = tamper(honest, batch=batch, commitment=commitment)
    blobs = bad.blobs()
    assert blobs == honest.blobs()  # the blobs are honest; only the header lies
    decoded = bb.decode_posting_data(bad.data)
    assert decoded == list(bad.batches)
    for k, b in enumerate(decoded):
        rests = bb.read_rests(blobs, b)
        if k < batch:
            assert rests.first_bad is None
        elif k == batch:
            assert rests.first_bad == commitment


def test_counts_mismatch_passes_the_hash_rule_and_fails_only_the_counts_rule():
    bad = adv.blob_counts_mismatch(_posting(), batch=0, commitment=1)
    b = bad.batches[0]
    h = b.headers[1]
    rest = bb.extract(bad.blobs(), b.rest_offsets()[1], h.rest_length)
    assert keccak(rest) == h.rest_hash  # the hash matches what the blobs hold
    assert rest[:4] != h.counts  # but the rest starts with other counts
    assert not bb.rest_is_good(h, rest)


def _fraud(index: int = 2) -> BlobFraud:
    bad = adv.blob_rest_hash_mismatch(_posting(), batch=0, commitment=1)
    batch = bad.batches[0]
    return BlobFraud(index, 1, batch, bad.blobs(), batch.commitment_hashes(0, 0), 50)


def test_blob_fraud_becomes_the_replays_fraud_only_after_the_verified_prefix():
    found = _fraud()
    reading = BatchReading((b"\x01" * 32,) * 3, (), None, 0, (), found)
    clean = ReplayResult(L2State(), None, (), 2)
    result = with_blob_fraud(clean, reading)
    assert result.fraud is not None
    assert (result.fraud.batch_index, result.fraud.commitment_index) == (2, 1)
    assert result.fraud.fault == Fault.BLOB_MISMATCH and result.fraud.tx_index == 0
    # a replay that stopped earlier (a state fraud before it) keeps its own verdict
    assert with_blob_fraud(ReplayResult(L2State(), None, (), 1), reading).fraud is None
    no_blob = BatchReading((), (PostedBatch(0, b""),), None)
    assert with_blob_fraud(clean, no_blob) is clean


def test_blob_fraud_proof_is_the_contract_struct_and_commits_like_the_others():
    found = _fraud()
    proof = found.proof()
    abi = proof.as_abi()
    index, headers, hashes, offset, ci, elements = abi
    assert (index, ci, offset) == (2, 1, 0)
    assert headers == found.batch.header_bytes()
    header = found.batch.headers[1]
    span = bb.element_span(found.batch.rest_offsets()[1], header.rest_length)
    assert len(elements) == len(span) > 0
    encoded = abi_encode([BLOB_PROOF_ABI], [abi])
    assert proof.proof_hash() == keccak(encoded)
    (decoded,) = abi_decode([BLOB_PROOF_ABI], encoded)
    assert decoded[1] == headers and list(decoded[2]) == list(hashes)
    c = commitment_for(proof, "0x" + "11" * 20, b"\x02" * 32)
    assert c.batch_index == 2 and c.proof_hash == proof.proof_hash()
    assert c.batch_hash == proof.batch_hash
    assert entry(proof, "prove") == "proveBlobFraud"
    assert entry(proof, "reveal") == "revealBlobFraud"


def test_blob_errors_stop_every_reader_that_only_knows_unreadable_batches():
    assert issubclass(BlobFraud, UnreadableBatch)
    down = BlobsUnavailable(3, 77, "http://beacon:5052", BeaconUnavailable("refused"))
    assert down.index == 3
    text = str(down)
    assert "batch 3" in text and "L1 block 77" in text and "http://beacon:5052" in text
    assert "retried" in text
    missing = BlobsUnavailable(3, 77, "http://b", BlobMissing("pruned? about 18 days"))
    assert "18 days" in str(missing)


def test_selector_tells_blob_postings_apart():
    assert is_blob_posting(POST_BLOB_BATCHES_SELECTOR + b"\x00" * 96)
    assert not is_blob_posting(POST_BATCH_SELECTOR + b"\x00" * 96)


def test_beacon_setting_defaults_to_the_rpc_url():
    w3 = Web3(Web3.HTTPProvider("http://127.0.0.1:9"))
    assert default_beacon(w3).settings.url == "http://127.0.0.1:9"
    assert beacon_for(None, w3).settings.url == "http://127.0.0.1:9"
    assert beacon_for("http://archiver:8080", w3).settings.url == "http://archiver:8080"
    assert default_beacon(Web3(Web3.IPCProvider("/tmp/none.ipc"))) is None
