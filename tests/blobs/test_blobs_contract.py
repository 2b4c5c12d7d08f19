"""BlobData.sol on Anvil: blob transactions recorded by versioned hash, openings via 0x0A."""

import ape
import pytest
from blobs_helpers import send_blobs
from eth_abi import encode as abi_encode
from eth_utils import keccak
from web3.exceptions import ContractCustomError, ContractLogicError

from offchain.blobs import BlobDecodeError, decode, encode, kzg
from offchain.blobs.encoding import BLS_MODULUS, USABLE_BYTES_PER_BLOB
from offchain.blobs.tx import build_blob_tx
from offchain.l1.sender import WouldRevert

PAYLOAD = bytes(range(256)) * 600  # 153,600 bytes: two blobs
BLOBS = encode(PAYLOAD)


def _mismatch_data(expected: int, present: int) -> str:
    selector = keccak(text="BlobCountMismatch(uint256,uint256)")[:4]
    return "0x" + (selector + abi_encode(["uint256", "uint256"], [expected, present])).hex()


@pytest.fixture(scope="module")
def recorded(harness, w3, blob_signer):
    """Two blobs recorded by one type-3 transaction to the harness (record id 0)."""
    receipt, signed = send_blobs(
        w3, blob_signer, harness.address, harness.record.encode_input(2), BLOBS
    )
    return receipt, signed


def test_blob_tx_records_every_versioned_hash_in_order(harness, recorded):
    receipt, signed = recorded
    assert receipt["transactionHash"] == signed.tx_hash  # the hash of 0x03 || rlp(tx)
    expected = [kzg.blob_versioned_hash(b) for b in BLOBS]
    assert list(signed.versioned_hashes) == expected
    assert [bytes(h) for h in harness.hashesOf(0)] == expected
    assert receipt["blobGasUsed"] == 2 * 131_072


def test_recorded_hashes_are_emitted_for_watchers(harness, recorded, w3):
    receipt, _ = recorded
    logs = list(
        harness.BlobsRecorded.from_receipt(
            ape.chain.provider.get_receipt(receipt["transactionHash"].hex())
        )
    )
    assert [bytes(h) for h in logs[0].hashes] == [kzg.blob_versioned_hash(b) for b in BLOBS]


def test_tx_with_fewer_blobs_than_named_is_refused(harness, w3, blob_signer):
    with pytest.raises((ContractCustomError, ContractLogicError)) as err:
        build_blob_tx(w3, blob_signer, harness.address, harness.record.encode_input(3), BLOBS)
    assert _mismatch_data(3, 2) in str(err.value)


def test_tx_with_more_blobs_than_named_is_refused(harness, w3, blob_signer):
    with pytest.raises((ContractCustomError, ContractLogicError)) as err:
        build_blob_tx(w3, blob_signer, harness.address, harness.record.encode_input(1), BLOBS)
    assert _mismatch_data(1, 2) in str(err.value)


def test_the_l1_sender_refuses_a_blob_tx_that_would_revert_and_sends_nothing(
    harness, w3, blob_signer
):
    nonce = w3.eth.get_transaction_count(blob_signer.address, "pending")
    with pytest.raises(WouldRevert) as err:
        send_blobs(w3, blob_signer, harness.address, harness.record.encode_input(3), BLOBS)
    assert _mismatch_data(3, 2) in str(err.value.error)
    assert w3.eth.get_transaction_count(blob_signer.address, "pending") == nonce


def test_plain_tx_naming_a_blob_is_refused(harness, deployer):
    with ape.reverts(harness.BlobCountMismatch, expected=1, present=0):
        harness.record(1, sender=deployer)


@pytest.mark.parametrize("count", [0, 7])
def test_blob_count_out_of_range_is_refused(harness, deployer, count):
    with ape.reverts(harness.BlobCountOutOfRange, count=count):
        harness.record(count, sender=deployer)


@pytest.mark.parametrize(("blob", "index"), [(0, 0), (0, 1), (0, 4095), (1, 0), (1, 954)])
def test_python_opening_verifies_on_chain(harness, recorded, blob, index):
    o = kzg.open_element(BLOBS[blob], index)
    assert harness.openRecorded(0, blob, index, o.value, o.commitment, o.proof)


def test_opening_proves_payload_bytes(harness, recorded):
    """Element 1 of blob 1 holds payload bytes from offset 4096*31 - 5 + 31 on: read them."""
    o = kzg.open_element(BLOBS[1], 1)
    assert harness.openRecorded(0, 1, 1, o.value, o.commitment, o.proof)
    start = USABLE_BYTES_PER_BLOB - 5 + 31
    assert o.value[1:] == PAYLOAD[start : start + 31]


def test_wrong_value_is_refused(harness, recorded):
    o = kzg.open_element(BLOBS[0], 5)
    wrong = kzg.open_element(BLOBS[0], 6).value
    with ape.reverts(harness.PointEvaluationFailed, index=5):
        harness.openRecorded(0, 0, 5, wrong, o.commitment, o.proof)


def test_right_value_at_wrong_index_is_refused(harness, recorded):
    o = kzg.open_element(BLOBS[0], 5)
    with ape.reverts(harness.PointEvaluationFailed, index=6):
        harness.openRecorded(0, 0, 6, o.value, o.commitment, o.proof)


def test_commitment_of_another_blob_is_refused(harness, recorded):
    o = kzg.open_element(BLOBS[1], 5)  # a valid opening, but of blob 1
    with ape.reverts(harness.KzgCommitmentMismatch):
        harness.openRecorded(0, 0, 5, o.value, o.commitment, o.proof)


def test_proof_for_another_element_is_refused(harness, recorded):
    o = kzg.open_element(BLOBS[0], 5)
    other = kzg.open_element(BLOBS[0], 6)
    with ape.reverts(harness.PointEvaluationFailed):
        harness.openRecorded(0, 0, 5, o.value, o.commitment, other.proof)


def test_proof_that_is_no_curve_point_is_refused(harness, recorded):
    o = kzg.open_element(BLOBS[0], 5)
    with ape.reverts(harness.PointEvaluationFailed):
        harness.openRecorded(0, 0, 5, o.value, o.commitment, b"\xff" * 48)


def test_value_at_or_above_the_modulus_is_refused(harness, recorded):
    o = kzg.open_element(BLOBS[0], 5)
    with ape.reverts(harness.ElementValueOutOfRange):
        harness.openRecorded(0, 0, 5, BLS_MODULUS.to_bytes(32, "big"), o.commitment, o.proof)


def test_index_out_of_range_is_refused(harness, recorded):
    o = kzg.open_element(BLOBS[0], 5)
    with ape.reverts(harness.ElementIndexOutOfRange, index=4096):
        harness.openRecorded(0, 0, 4096, o.value, o.commitment, o.proof)


def test_short_commitment_or_proof_is_refused(harness, recorded):
    o = kzg.open_element(BLOBS[0], 5)
    with ape.reverts(harness.KzgLengthInvalid, commitmentLength=47, proofLength=48):
        harness.openRecorded(0, 0, 5, o.value, o.commitment[:47], o.proof)
    with ape.reverts(harness.KzgLengthInvalid, commitmentLength=48, proofLength=49):
        harness.openRecorded(0, 0, 5, o.value, o.commitment, o.proof + b"\0")


def test_too_little_gas_for_the_precompile_is_refused_not_taken_as_failure(harness, recorded, w3):
    o = kzg.open_element(BLOBS[0], 5)
    data = harness.openElementGas.encode_input(o.versioned_hash, 5, o.value, o.commitment, o.proof)
    selector = keccak(text="PointEvaluationGasTooLow(uint256)")[:4].hex()
    with pytest.raises((ContractCustomError, ContractLogicError)) as err:
        w3.eth.call({"to": harness.address, "data": data, "gas": 60_000})
    assert selector in str(err.value)


@pytest.mark.parametrize("index", [0, 1, 2, 3, 7, 64, 1000, 2047, 2048, 3333, 4095])
def test_evaluation_point_matches_python(harness, index):
    assert harness.evaluationPoint(index) == kzg.evaluation_point(index)


def test_opening_gas_is_the_precompile_plus_a_little(harness):
    o = kzg.open_element(BLOBS[0], 77)
    used = harness.openElementGas(o.versioned_hash, 77, o.value, o.commitment, o.proof)
    assert 50_000 < used < 56_000


def test_non_canonical_blob_the_chain_accepts_is_refused_and_its_witness_opens(
    harness, recorded, w3, blob_signer
):
    """A poster sets a top byte to 0x01 (still < r, so the network takes it): decode refuses
    and names the element, and opening that element on chain shows the offending byte."""
    bad = bytearray(encode(b"honest-looking batch")[0])
    bad[32 * 9] = 0x01
    bad = bytes(bad)
    receipt, _ = send_blobs(w3, blob_signer, harness.address, harness.record.encode_input(1), [bad])
    assert receipt["status"] == 1
    with pytest.raises(BlobDecodeError) as err:
        decode([bad])
    assert (err.value.blob, err.value.element) == (0, 9)
    o = kzg.open_element(bad, 9)
    record_id = harness.recordCount() - 1
    assert harness.openRecorded(record_id, 0, 9, o.value, o.commitment, o.proof)
    assert o.value[0] == 0x01
