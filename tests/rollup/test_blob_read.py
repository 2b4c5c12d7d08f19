"""Blob batches read back (docs/rollup-blobs.md §4): every reader gets the calldata form from
the blobs; each way a blob batch can be wrong is caught and proven from blob data (the blob
dispute for headers the blobs do not match, the state and signature disputes inside a blob
batch); an honest blob batch survives."""

import pytest
from blobread_helpers import (
    CHALLENGER,
    CHEATER,
    bulky_batches,
    honest_blob_batches,
    op_build,
    post_blobs,
    post_commitments,
    setup_rollup,
)
from rollup_helpers import CHALLENGE_PERIOD, assert_reverts, bounty_of
from web3.logs import DISCARD

from offchain.rollup import adversary as adv
from offchain.rollup import blob_batches
from offchain.rollup.blob_read import BlobFraud, BlobFraudProof
from offchain.rollup.codec import encode_batch
from offchain.rollup.execute import Fault
from offchain.rollup.posting import POST_BLOB_BATCHES_SELECTOR, decode_posting
from offchain.rollup.wallet import sign_transfer


def test_blob_batches_of_one_blob_read_back_as_calldata(env):
    op = setup_rollup(env)
    t1 = sign_transfer(env.bls(2), env.dst, 1, 2, 10**16, 0, 0)
    t2 = sign_transfer(env.bls(3), env.dst, 2, 0, 2 * 10**16, 0, 0)
    batches = honest_blob_batches(env, op, [[t1], [t2]])
    posted = env.l1.posted_batches()
    assert [b.index for b in posted] == [0, 1, 2]
    for b, cs in zip(posted[1:], batches, strict=True):
        assert b.data == encode_batch(cs)  # exactly the calldata form
    assert posted[1].posted_block == posted[2].posted_block  # one posting, one block
    result, receipt = env.validator(CHALLENGER).challenge()  # an honest blob batch survives
    assert result.fraud is None and receipt is None
    assert result.state.root == op.state.root == bytes(env.rollup.head()[0])


def test_blob_posting_of_several_blobs_reads_back_exactly(env):
    root = bytes(env.rollup.head()[0])
    batches = bulky_batches(5, root)
    posting = adv.blob_posting(batches)
    assert len(posting.blobs()) == 2
    post_blobs(env, 0, posting)
    posted = env.l1.posted_batches()
    assert [b.data for b in posted] == [encode_batch(cs) for cs in batches]


def test_honest_blob_commitment_cannot_be_knocked_out(env, project):
    op = setup_rollup(env)
    t1 = sign_transfer(env.bls(2), env.dst, 1, 2, 10**16, 0, 0)
    honest_blob_batches(env, op, [[t1]])
    reading = env.l1.read_batches()
    assert reading.blob_fraud is None and reading.unreadable is None
    # the dispute's evidence for the honest commitment: the openings prove the blob holds it
    tx = env.w3.eth.get_transaction(reading.postings[1].tx_hash)
    hashes = [bytes(h) for h in tx["blobVersionedHashes"]]
    blobs = env.l1.beacon.blobs(reading.postings[1].block_number, hashes)
    data = decode_posting(bytes(tx["input"]), POST_BLOB_BATCHES_SELECTOR).data
    proof = blob_batches.blob_proof(1, blob_batches.decode_posting_data(data)[0], 0, blobs)
    rollup = env.l1.rollup
    sender = env.accounts[CHALLENGER].address
    assert_reverts(rollup, rollup.functions.proveBlobFraud(proof), "NotFraudulent", sender)


def _assert_proven(env, result, receipt, fault, index=1, commitment=0):
    fraud = result.fraud
    assert fraud is not None
    assert (fraud.batch_index, fraud.commitment_index, fraud.fault) == (index, commitment, fault)
    assert receipt["gasUsed"] < 3_000_000
    logs = env.l1.rollup.events.FraudProven().process_receipt(receipt, errors=DISCARD)
    assert logs[0]["args"]["fault"] == fault.value
    assert logs[0]["args"]["challenger"] == env.accounts[CHALLENGER].address
    # committed, then revealed: the bounty is the validator's own
    bounty = env.rollup.bounties(bounty_of(env, receipt))
    assert bounty.recipient == env.accounts[CHALLENGER].address and bounty.amount > 0


@pytest.mark.parametrize("how", ["rest_hash", "counts"])
def test_headers_the_blobs_do_not_match_are_proven_by_the_blob_dispute(env, how):
    op = setup_rollup(env)
    t1 = sign_transfer(env.bls(2), env.dst, 1, 2, 10**16, 0, 0)
    t2 = sign_transfer(env.bls(3), env.dst, 2, 0, 10**16, 0, 0)
    built, mid = op_build(op, op.state, [t1])
    built2, _ = op_build(op, mid, [t2])
    honest = adv.blob_posting(
        [[c.commitment for c in built.commitments], [c.commitment for c in built2.commitments]]
    )
    tamper = adv.blob_rest_hash_mismatch if how == "rest_hash" else adv.blob_counts_mismatch
    bad = tamper(honest, batch=1, commitment=0)  # the second batch of the posting
    post_blobs(env, CHEATER, bad)
    assert env.rollup.batchCount() == 3
    reading = env.l1.read_batches()
    assert isinstance(reading.blob_fraud, BlobFraud) and reading.blob_fraud.index == 2
    assert [b.index for b in reading.batches] == [0, 1]  # nothing past it accepted
    with pytest.raises(BlobFraud):
        env.l1.posted_batches()
    result, receipt = env.validator(CHALLENGER).challenge()
    assert isinstance(result.fraud.proof, BlobFraudProof)
    _assert_proven(env, result, receipt, Fault.BLOB_MISMATCH, index=2)
    assert env.rollup.batchCount() == 2  # batch 1 of the same posting stays: it was good
    again, none = env.validator(CHALLENGER).challenge()
    assert again.fraud is None and none is None
    assert again.state.root == mid.root


def test_state_fraud_inside_a_blob_batch_is_proven_by_the_state_dispute(env):
    op = setup_rollup(env)
    cs = adv.wrong_root(op.state, [sign_transfer(env.bls(2), env.dst, 1, 2, 10**16, 0, 0)])
    post_commitments(env, CHEATER, [cs])
    result, receipt = env.validator(CHALLENGER).challenge()
    _assert_proven(env, result, receipt, Fault.WRONG_ROOT)
    assert not result.fraud.is_signature_fraud
    assert env.rollup.batchCount() == 1


def test_signature_fraud_inside_a_blob_batch_is_proven_by_the_signature_dispute(env):
    op = setup_rollup(env)
    cs = adv.steal(op.state, env.dst, env.bls(CHEATER), 0, 2, 10**17)
    post_commitments(env, CHEATER, [cs])
    result, receipt = env.validator(CHALLENGER).challenge()
    _assert_proven(env, result, receipt, Fault.BAD_SIGNATURE)
    assert result.fraud.is_signature_fraud
    assert env.rollup.batchCount() == 1


def test_blob_fraud_window_and_bounty_settle(env):
    """The blob dispute's bounty is paid like the others' once the window has passed."""
    op = setup_rollup(env)
    t1 = sign_transfer(env.bls(2), env.dst, 1, 2, 10**16, 0, 0)
    built, _ = op_build(op, op.state, [t1])
    bad = adv.blob_rest_hash_mismatch(adv.blob_posting([[c.commitment for c in built.commitments]]))
    post_blobs(env, CHEATER, bad)
    _, receipt = env.validator(CHALLENGER).challenge()
    env.advance(CHALLENGE_PERIOD)
    env.rollup.settleBounty(bounty_of(env, receipt), sender=env.accounts[8])
    assert env.rollup.rewardOf(env.accounts[CHALLENGER]) > 0


def test_blob_fraud_across_a_blob_boundary_is_read_and_proven(env):
    """A posting of two blobs whose tampered commitment's rest straddles the two: the reader
    names it, and its evidence (elements of both blobs) proves it on chain."""
    root = bytes(env.rollup.head()[0])
    honest = adv.blob_posting(bulky_batches(5, root))
    where = None
    for k, b in enumerate(honest.batches):
        for ci, (h, at) in enumerate(zip(b.headers, b.rest_offsets(), strict=True)):
            span = blob_batches.element_span(at, h.rest_length)
            if span[0][0] != span[-1][0]:
                where = (k, ci)
    assert where is not None
    bad = adv.blob_rest_hash_mismatch(honest, *where)
    post_blobs(env, CHEATER, bad)
    reading = env.l1.read_batches()
    found = reading.blob_fraud
    assert found is not None and (found.index, found.commitment_index) == where
    assert len(reading.batches) == where[0]  # the batches before it read back
    proof = found.proof()
    assert len(proof.as_abi()[2]) == 2  # both blobs' hashes; elements from each
    receipt = env.signer(CHALLENGER).send(env.l1.rollup.functions.proveBlobFraud(proof.as_abi()))
    logs = env.l1.rollup.events.FraudProven().process_receipt(receipt, errors=DISCARD)
    assert logs[0]["args"]["fault"] == Fault.BLOB_MISMATCH.value
    assert receipt["gasUsed"] < 3_000_000
    assert env.rollup.batchCount() == where[0]  # the bad batch is rolled back
