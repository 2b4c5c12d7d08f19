"""Blob batches on Anvil, Solidity side (issue 12, docs/rollup-blobs.md §1 and §3): postBlobBatches
sent as type-3 transactions, the blob binding, and the blob dispute (proveBlobFraud)."""

from __future__ import annotations

import pytest
from blob_helpers import (
    BLOB_MISMATCH,
    blobs_with,
    fault_of,
    layout,
    post_blobs,
)
from v2_helpers import ACTIVATION_DELAY, BOND, batch_hash, deploy

from offchain.bls import SecretKey
from offchain.rollup import blob_batches as bb

E19 = 10**19


@pytest.fixture
def c(project, chain, accounts):
    """Accounts 0..3 owned by L1 accounts 1..4, 10 ETH each, keys registered (calldata batch 0)."""
    c = deploy(project, chain, accounts)
    owners = [accounts[i + 1].address.lower() for i in range(4)]
    for i in range(4):
        c.register(accounts[i + 1], SecretKey(30_000 + i))
        c.deposit(accounts[0], owners[i], E19)
    c.mine(ACTIVATION_DELAY)
    c.post([c.world.commit(deposits=[(i, owners[i], E19) for i in range(4)])])
    return c


def test_one_blob_batch_is_posted_bound_and_stored_as_its_calldata_twin(c):
    built = [
        c.world.commit(fee_account=0, transfers=[(1, 2, 10**18, 100)]),
        c.world.commit(fee_account=0, transfers=[(2, 3, 10**17, 0)]),
    ]
    posting = layout([built])
    posted = post_blobs(c, posting)
    assert posted.first == 1 and c.rollup.batchCount() == 2
    stored = c.rollup.batches(1)
    assert bytes(stored.batchHash) == batch_hash([b.hash for b in built])
    assert bytes(stored.batchHash) == posting.batches[0].batch_hash(4, 0)
    assert bytes(stored.postRoot) == built[-1].post_root
    hashes = [bytes(h) for h in posted.receipt.decode_logs(c.rollup.BlobBatchPosted)[0].blobHashes]
    assert bytes(c.rollup.blobRef(1)) == bb.blob_ref(hashes, 0)
    assert c.rollup.lockedBondOf(c.proposer) == 2 * BOND


def test_blob_dispute_slashes_a_batch_whose_blob_lacks_the_rest(c, accounts):
    built = [c.world.commit(fee_account=0, transfers=[(1, 2, 10**18, 100)])]
    posting = layout([built])
    lie = bytearray(posting.payload)
    lie[-1] ^= 1  # the blob holds another rest than the header names
    posted = post_blobs(c, posting, blobs=blobs_with(bytes(lie)))
    receipt = c.rollup.proveBlobFraud(posted.proof(0, 0), sender=accounts[9])
    assert fault_of(c, receipt) == BLOB_MISMATCH
    assert c.rollup.batchCount() == 1
