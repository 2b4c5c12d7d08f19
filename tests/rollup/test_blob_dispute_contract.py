"""The blob dispute on Anvil (issue 12, docs/rollup-blobs.md §3): a blob that does not hold the
rest a header names is proven (fault BLOB_MISMATCH, slashed, rolled back with the later batches
of its posting), an honest blob batch survives every attempt (forged openings included), bad
evidence reverts, the commit-reveal bounty works as for the other disputes, and the state and
signature disputes run on a blob batch unchanged. Worst case (16 openings) measured."""

from __future__ import annotations

import ape
import pytest
from blob_helpers import (
    BLOB_MISMATCH,
    blobs_with,
    fault_of,
    filler_posting,
    filler_rest,
    layout,
    post_blobs,
    raw_posting,
    setup,
)
from eth_abi import encode as abi_encode
from eth_utils import keccak
from posting_helpers import call_raw, selector_of
from v2_helpers import BOND, Built

from offchain.blobs import encoding
from offchain.bls import SecretKey
from offchain.rollup import blob_batches as bb

WRONG_ROOT, BAD_SIGNATURE = 8, 2
BLOB_PROOF_ABI = "(uint256,bytes,bytes32[],uint256,uint256,(bytes32,bytes,bytes)[])"
TOP = 0x72  # a top byte that keeps every element below the BLS modulus (0x73ed...)


@pytest.fixture
def c(project, chain, accounts):
    return setup(project, chain, accounts)


def _transfers(c, n: int = 1) -> list[Built]:
    return [c.world.commit(fee_account=0, transfers=[(1 + i % 3, 2, 10**15, 0)]) for i in range(n)]


def _lie(posting: bb.BlobPosting, at: int) -> list[bytes]:
    """The posting's blobs with payload byte `at` flipped (its header still names the truth)."""
    payload = bytearray(posting.payload)
    payload[at] ^= 0x01
    return blobs_with(bytes(payload))


def _rest_at(posting: bb.BlobPosting, k: int, ci: int) -> int:
    return posting.batches[k].rest_offsets()[ci]


def _revert(c, fn: str, *args, sender=None) -> bytes:
    data = bytes(getattr(c.rollup, fn).encode_input(*args))
    ok, ret = call_raw(
        c.chain.provider.web3, (sender or c.proposer).address, c.rollup.address, data
    )
    assert not ok
    return ret


def _err(signature: str, types=(), values=()) -> bytes:
    return selector_of(signature) + abi_encode(list(types), list(values))


def _proof_hash(proof: tuple) -> bytes:
    return keccak(abi_encode([BLOB_PROOF_ABI], [proof]))


def _with(proof: tuple, **changes) -> tuple:
    fields = ["batchIndex", "headers", "blobHashes", "payloadOffset", "commitmentIndex", "elements"]
    out = list(proof)
    for name, value in changes.items():
        out[fields.index(name)] = value
    return tuple(out)


# ---------------------------------------------------------------------------- proven


def test_a_rest_the_blob_does_not_hold_is_proven_and_later_batches_of_the_posting_go(c, accounts):
    batches = [_transfers(c, 2), _transfers(c, 3), _transfers(c, 1)]
    posting = layout(batches)
    posted = post_blobs(c, posting, blobs=_lie(posting, _rest_at(posting, 1, 1) + 20))
    assert c.rollup.batchCount() == 4
    # the batch before the lie is honest
    with ape.reverts(c.rollup.NotFraudulent):
        c.rollup.proveBlobFraud(posted.proof(0, 1), sender=accounts[9])
    # the lie's own batch: its earlier commitment is honest, the lying one is proven
    with ape.reverts(c.rollup.NotFraudulent, batchIndex=2, commitmentIndex=0):
        c.rollup.proveBlobFraud(posted.proof(1, 0), sender=accounts[9])
    receipt = c.rollup.proveBlobFraud(posted.proof(1, 1), sender=accounts[9])
    (log,) = list(receipt.decode_logs(c.rollup.FraudProven))
    assert (log.batchIndex, log.commitmentIndex, log.fault, log.txIndex) == (2, 1, BLOB_MISMATCH, 0)
    assert log.challenger == accounts[9].address
    assert log.reward == BOND // 4 and log.burned == BOND - BOND // 4
    assert c.rollup.batchCount() == 2  # batch 2 and batch 3 of the same posting are gone
    assert c.rollup.batchBond(2) == 0  # slashed
    assert c.rollup.batchBond(3) == BOND  # released later (rolled back, not slashed)
    c.rollup.releaseBond(3, sender=accounts[9])
    assert c.rollup.batchBond(3) == 0
    assert c.rollup.head()[0] == batches[0][-1].post_root


def test_counts_in_the_header_differing_from_the_rests_own_are_proven(c, accounts):
    # The header says (0, 1, 0, 0); the blob holds a rest of that length hashing to restHash but
    # starting with other counts, so its hash matches and only the counts check catches it.
    honest = filler_rest((0, 1, 0, 0), 7)
    other = bytes([1, 0, 0, 0]) + honest[4:]
    assert len(other) == len(honest)
    header = bb.BlobHeader(b"\x11" * 32, bytes([0, 1, 0, 0]), keccak(other))
    posting = raw_posting([[header]], other)
    posted = post_blobs(c, posting)
    receipt = c.rollup.proveBlobFraud(posted.proof(0, 0), sender=accounts[9])
    assert fault_of(c, receipt) == BLOB_MISMATCH
    assert c.rollup.batchCount() == 1


def test_a_rest_with_the_right_counts_and_a_wrong_hash_is_proven(c, accounts):
    rest = filler_rest((0, 1, 0, 0), 9)
    header = bb.BlobHeader(b"\x11" * 32, bytes([0, 1, 0, 0]), keccak(b"another rest"))
    posted = post_blobs(c, raw_posting([[header]], rest))
    assert fault_of(c, c.rollup.proveBlobFraud(posted.proof(0, 0), sender=accounts[9])) == 14


# ------------------------------------------------------------------------- honest


def _honest_posting(c):
    batches = [_transfers(c, 2), _transfers(c, 2)]
    posting = layout(batches)
    return posting, post_blobs(c, posting)


def test_an_honest_blob_batch_survives_every_commitment(c, accounts):
    _posting, posted = _honest_posting(c)
    for k in range(2):
        for ci in range(2):
            with ape.reverts(c.rollup.NotFraudulent, batchIndex=1 + k, commitmentIndex=ci):
                c.rollup.proveBlobFraud(posted.proof(k, ci), sender=accounts[9])
    assert c.rollup.batchCount() == 3


def test_top_bytes_stream_header_and_padding_mean_nothing(c, accounts):
    built = _transfers(c, 3)
    posting = layout([built])
    blob = bytearray(posting.blobs()[0])
    used = -(-(encoding.HEADER_BYTES + len(posting.payload)) // 31)  # elements holding the stream
    for e in range(used + 3):
        blob[32 * e] = TOP  # every top byte, the used elements' and the padding's
    blob[1:5] = b"\xff\xff\xff\xff"  # stream header: version and length bytes
    blob[32 * (used + 1) + 5] = 0x42  # a padding byte past the payload
    posted = post_blobs(c, posting, blobs=[bytes(blob)])
    for ci in range(3):
        proof = posted.proof(0, ci)
        assert any(int.from_bytes(e[0], "big") >> 248 == TOP for e in proof[5])
        with ape.reverts(c.rollup.NotFraudulent):
            c.rollup.proveBlobFraud(proof, sender=accounts[9])


# --------------------------------------------------------------------- bad evidence


def test_forged_openings_cannot_knock_out_an_honest_batch(c, accounts):
    _, posted = _honest_posting(c)
    proof = posted.proof(1, 1)
    elements = list(proof[5])
    value, commitment, kzg_proof = elements[0]
    forged = (bytes([value[0]]) + bytes([value[1] ^ 1]) + value[2:], commitment, kzg_proof)
    ret = _revert(c, "proveBlobFraud", _with(proof, elements=[forged, *elements[1:]]))
    assert ret[:4] == selector_of("PointEvaluationFailed(bytes32,uint256)")
    # another element's (valid) opening in this element's place
    other = posted.proof(0, 0)[5][0]
    assert other[0] != value
    ret = _revert(c, "proveBlobFraud", _with(proof, elements=[other, *elements[1:]]))
    assert ret[:4] == selector_of("PointEvaluationFailed(bytes32,uint256)")
    # a value at or above the BLS modulus
    big = (b"\xff" * 32, commitment, kzg_proof)
    ret = _revert(c, "proveBlobFraud", _with(proof, elements=[big, *elements[1:]]))
    assert ret == _err("ElementValueOutOfRange(bytes32)", ["bytes32"], [b"\xff" * 32])
    # lengths
    short = (value, commitment[:47], kzg_proof)
    ret = _revert(c, "proveBlobFraud", _with(proof, elements=[short, *elements[1:]]))
    assert ret == _err("KzgLengthInvalid(uint256,uint256)", ["uint256", "uint256"], [47, 48])


def test_an_opening_against_another_blob_is_refused(c, accounts):
    _, posted = _honest_posting(c)
    proof = posted.proof(0, 0)
    _value, _, _kzg_proof = proof[5][0]
    stranger = blobs_with(b"\x05" * 1000)[0]
    from offchain.blobs import kzg

    o = kzg.open_element(stranger, 0)
    ret = _revert(
        c,
        "proveBlobFraud",
        _with(proof, elements=[(o.value, o.commitment, o.proof), *list(proof[5][1:])]),
    )
    assert ret[:4] == selector_of("KzgCommitmentMismatch(bytes32,bytes32)")
    # The revert decodes through the Rollup's own ABI (IRollup declares it; no name clash).
    import ape

    names = {e.name: e.selector for e in ape.project.Rollup.contract_type.errors}
    assert names["KzgCommitmentMismatch"] == "KzgCommitmentMismatch(bytes32,bytes32)"


@pytest.mark.parametrize("delta", [-1, 1])
def test_not_exactly_the_covering_elements_is_refused(c, delta):
    _, posted = _honest_posting(c)
    proof = posted.proof(0, 1)
    elements = list(proof[5])
    given = elements[:-1] if delta < 0 else [*elements, elements[-1]]
    ret = _revert(c, "proveBlobFraud", _with(proof, elements=given))
    expected = _err(
        "ElementCountMismatch(uint256,uint256)", ["uint256"] * 2, [len(elements), len(given)]
    )
    assert ret == expected


def test_blob_hashes_or_offset_not_the_postings_are_refused(c):
    _, posted = _honest_posting(c)
    proof = posted.proof(1, 0)
    ref = _err("BlobRefMismatch(uint256)", ["uint256"], [2])
    assert _revert(c, "proveBlobFraud", _with(proof, payloadOffset=proof[3] + 1)) == ref
    assert _revert(c, "proveBlobFraud", _with(proof, payloadOffset=0)) == ref
    assert _revert(c, "proveBlobFraud", _with(proof, blobHashes=[b"\x01" + bytes(31)])) == ref
    assert _revert(c, "proveBlobFraud", _with(proof, blobHashes=list(proof[2]) * 2)) == ref
    # batch 1's binding does not serve for batch 2 (and vice versa)
    other = posted.proof(0, 0)
    assert _revert(c, "proveBlobFraud", _with(other, batchIndex=2)) == ref


def test_headers_not_the_batchs_are_refused(c):
    _, posted = _honest_posting(c)
    proof = posted.proof(0, 0)
    mismatch = _err("BatchHashMismatch(uint256)", ["uint256"], [1])
    h = bytearray(proof[1])
    h[40] ^= 1  # a restHash byte
    assert _revert(c, "proveBlobFraud", _with(proof, headers=bytes(h))) == mismatch
    assert _revert(c, "proveBlobFraud", _with(proof, headers=proof[1] + b"\x00")) == mismatch
    assert _revert(c, "proveBlobFraud", _with(proof, headers=b"")) == mismatch
    assert _revert(c, "proveBlobFraud", _with(proof, headers=proof[1][:68])) == mismatch
    # another batch's headers for this batch
    assert _revert(c, "proveBlobFraud", _with(proof, headers=posted.proof(1, 0)[1])) == mismatch
    ret = _revert(c, "proveBlobFraud", _with(proof, commitmentIndex=2))
    assert ret == _err("CommitmentMismatch(uint256)", ["uint256"], [2])


def test_a_calldata_batch_unknown_batch_and_final_batch_are_not_disputable(c, accounts, chain):
    _, posted = _honest_posting(c)
    proof = posted.proof(0, 0)
    # batch 0 was posted by calldata
    assert _revert(c, "proveBlobFraud", _with(proof, batchIndex=0)) == _err(
        "NotABlobBatch(uint256)", ["uint256"], [0]
    )
    assert _revert(c, "proveBlobFraud", _with(proof, batchIndex=3)) == _err(
        "UnknownBatch(uint256)", ["uint256"], [3]
    )
    chain.pending_timestamp += 3600 + 1
    chain.mine()
    assert _revert(c, "proveBlobFraud", proof) == _err("BatchFinal(uint256)", ["uint256"], [1])


def test_an_old_blob_binding_is_dead_once_its_index_is_reused(c, accounts):
    built = _transfers(c, 1)
    posting = layout([built])
    posted = post_blobs(c, posting, blobs=_lie(posting, 10))
    old = posted.proof(0, 0)
    c.rollup.proveBlobFraud(old, sender=accounts[9])
    assert c.rollup.batchCount() == 1
    # index 1 reused by a calldata batch with the same commitments: no binding survives
    c.post(built)
    assert bytes(c.rollup.blobRef(1)) == bytes(32)
    assert _revert(c, "proveBlobFraud", old) == _err("NotABlobBatch(uint256)", ["uint256"], [1])
    assert _revert(c, "revealBlobFraud", old, accounts[9].address, b"\x00" * 32) == _err(
        "NotABlobBatch(uint256)", ["uint256"], [1]
    )


def test_an_old_blob_binding_is_dead_once_a_new_posting_reuses_the_index(c, accounts):
    built = _transfers(c, 1)
    posting = layout([built])
    posted = post_blobs(c, posting, blobs=_lie(posting, 10))
    old = posted.proof(0, 0)
    c.rollup.proveBlobFraud(old, sender=accounts[9])
    post_blobs(c, posting)  # honest this time, same headers and index
    assert _revert(c, "proveBlobFraud", old) == _err("BlobRefMismatch(uint256)", ["uint256"], [1])


def test_a_blob_batch_discarded_by_a_freeze_stays_provable_in_its_window(c, accounts, chain):
    c.rollup.forceTransaction(b"\x03" + bytes(3) + bytes(4) + bytes(2), sender=accounts[1])
    chain.pending_timestamp += 86_000  # the forced tx has 400 s left
    chain.mine()
    built = _transfers(c, 1)
    posting = layout([built])
    posted = post_blobs(c, posting, blobs=_lie(posting, 10))  # skips the forced tx
    chain.pending_timestamp += 500  # the forced tx expired; the blob batch is in its window
    chain.mine()
    c.rollup.freeze(sender=accounts[2])
    assert c.rollup.batchCount() == 1 and c.rollup.discardedEnd() == 2
    assert c.rollup.isDisputable(1)
    receipt = c.rollup.proveBlobFraud(posted.proof(0, 0), sender=accounts[9])
    assert fault_of(c, receipt) == BLOB_MISMATCH
    assert c.rollup.discardedEnd() == 1 and c.rollup.batchBond(1) == 0


# ----------------------------------------------------------------------- bounty


def test_commit_reveal_pays_the_committed_challenger(c, accounts, chain):
    built = _transfers(c, 1)
    posting = layout([built])
    posted = post_blobs(c, posting, blobs=_lie(posting, 10))
    proof = posted.proof(0, 0)
    challenger, salt = accounts[7].address, b"\x07" * 32
    commitment = keccak(
        abi_encode(["bytes32", "address", "bytes32"], [_proof_hash(proof), challenger, salt])
    )
    c.rollup.commitFraud(commitment, sender=accounts[7])
    # the reveal is sent by anyone (a relayer); the bounty follows the commitment
    receipt = c.rollup.revealBlobFraud(proof, challenger, salt, sender=accounts[9], gas=3_000_000)
    (log,) = list(receipt.decode_logs(c.rollup.FraudProven))
    assert log.challenger == challenger and log.fault == BLOB_MISMATCH
    (opened,) = list(receipt.decode_logs(c.rollup.BountyOpened))
    bounty = c.rollup.bounties(opened.id)
    assert bytes(bounty.proofHash) == _proof_hash(proof)
    assert bounty.recipient == challenger
    chain.pending_timestamp += 3600 + 1
    chain.mine()
    c.rollup.settleBounty(opened.id, sender=accounts[9])
    assert c.rollup.rewardOf(challenger) == BOND // 4


def test_a_reveal_without_an_earlier_commitment_pays_the_caller_and_an_earlier_one_claims(
    c, accounts, chain
):
    built = _transfers(c, 1)
    posting = layout([built])
    posted = post_blobs(c, posting, blobs=_lie(posting, 10))
    proof = posted.proof(0, 0)
    early, salt = accounts[6].address, b"\x06" * 32
    c.rollup.commitFraud(
        keccak(abi_encode(["bytes32", "address", "bytes32"], [_proof_hash(proof), early, salt])),
        sender=accounts[6],
    )
    # a copier reveals with a commitment it never made: the rollback happens, the caller holds
    receipt = c.rollup.revealBlobFraud(
        proof, accounts[9].address, b"\x09" * 32, sender=accounts[9], gas=3_000_000
    )
    (opened,) = list(receipt.decode_logs(c.rollup.BountyOpened))
    assert opened.recipient == accounts[9].address
    # the earlier committer takes the bounty during the claim window
    c.rollup.claimBounty(opened.id, early, salt, sender=accounts[6])
    assert c.rollup.bounties(opened.id).recipient == early


# ------------------------------------------------------------------ several blobs


@pytest.fixture
def big(c):
    """Five full filler batches (two blobs): commitment 289 (batch 4, 33rd) straddles the blobs,
    commitment 5 (batch 0) spans 16 elements."""
    return filler_posting(5)


def test_a_commitment_straddling_two_blobs_is_read_across_them(c, accounts, big):
    at = _rest_at(big, 4, 33)
    span = bb.element_span(at, 439)
    assert span[0][0] == 0 and span[-1][0] == 1  # it straddles the blob boundary
    posted = post_blobs(c, big, blobs=_lie(big, at + 438))
    with ape.reverts(c.rollup.NotFraudulent):
        c.rollup.proveBlobFraud(posted.proof(4, 32), sender=accounts[9])
    receipt = c.rollup.proveBlobFraud(posted.proof(4, 33), sender=accounts[9])
    assert fault_of(c, receipt) == BLOB_MISMATCH
    assert c.rollup.batchCount() == 5


def test_an_honest_straddling_commitment_survives(c, accounts, big):
    posted = post_blobs(c, big)
    with ape.reverts(c.rollup.NotFraudulent):
        c.rollup.proveBlobFraud(posted.proof(4, 33), sender=accounts[9])


def test_worst_blob_dispute_16_openings_stays_far_under_3m_gas(c, accounts, big):
    at = _rest_at(big, 0, 5)
    assert len(bb.element_span(at, 439)) == 16
    posted = post_blobs(c, big, blobs=_lie(big, at + 200))
    proof = posted.proof(0, 5)
    assert len(proof[5]) == 16
    receipt = c.rollup.proveBlobFraud(proof, sender=accounts[9])
    assert fault_of(c, receipt) == BLOB_MISMATCH
    print(f"\nblob dispute, 32-transfer commitment over 16 elements: {receipt.gas_used} gas")
    assert receipt.gas_used <= 3_000_000


# ------------------------------------------------- the other disputes on blob batches


def test_a_state_fraud_in_a_blob_batch_is_proven_from_the_rest_read_back(c, accounts):
    from v2_helpers import Built as _Built

    honest = _transfers(c, 1)[0]
    built = c.world.commit(fee_account=0, transfers=[(2, 3, 10**15, 0)])
    built.post_root = keccak(b"lie")
    posting = layout([[honest, built]])
    posted = post_blobs(c, posting)
    read = bb.read_rests(posted.blobs, posting.batches[0])
    assert read.first_bad is None and read.rests[1] == built.rest
    # The calldata form every reader gets is the calldata batch of these commitments.
    assert read.calldata_form(posting.batches[0]) == honest.data + built.data
    disputed = _Built(
        built.post_root, built.deposit_end, built.forced_end, read.rests[1], built.witnesses, [], []
    )
    prev = (honest.post_root, honest.deposit_end, honest.forced_end, keccak(read.rests[0]))
    proof = (
        1,
        [honest.hash, disputed.hash],
        1,
        prev,
        disputed.post_root,
        disputed.deposit_end,
        disputed.forced_end,
        disputed.rest,
        [],
        disputed.witnesses,
        [],
    )
    receipt = c.rollup.proveFraud(proof, sender=accounts[9])
    assert fault_of(c, receipt) == WRONG_ROOT
    assert c.rollup.batchCount() == 1


def test_a_bad_aggregate_in_a_blob_batch_is_proven_by_the_signature_dispute(c, accounts):
    built = c.world.commit(transfers=[(1, 2, 10**18, 0)], sign_with={1: SecretKey(999)})
    posting = layout([[built]])
    post_blobs(c, posting)
    proof = c.sig_proof(1, [built], 0, [c.world.signer_evidence(1)])
    receipt = c.rollup.proveSignatureFraud(proof, sender=accounts[9])
    assert fault_of(c, receipt) == BAD_SIGNATURE
    assert c.rollup.batchCount() == 1


def test_an_honest_blob_batch_survives_the_state_and_signature_disputes(c, accounts):
    built = c.world.commit(fee_account=0, transfers=[(1, 2, 10**18, 0)])
    post_blobs(c, layout([[built]]))
    with ape.reverts(c.rollup.NotFraudulent):
        c.rollup.proveSignatureFraud(
            c.sig_proof(1, [built], 0, [c.world.signer_evidence(1)]), sender=accounts[9]
        )
    proof = (
        1,
        [built.hash],
        0,
        (b"\0" * 32, 0, 0, b"\0" * 32),
        built.post_root,
        built.deposit_end,
        built.forced_end,
        built.rest,
        [],
        built.witnesses,
        [],
    )
    with ape.reverts(c.rollup.NotFraudulent):
        c.rollup.proveFraud(proof, sender=accounts[9])
