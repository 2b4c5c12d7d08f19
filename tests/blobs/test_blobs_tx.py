"""The type-3 sender's pure parts: fee caps and the two network wrappers (against eth-account)."""

import eth_account.typed_transactions.base as eth_account_base
import pytest
import rlp
from eth_account import Account
from eth_utils import keccak

from offchain.blobs import BlobError, encode, kzg
from offchain.blobs.tx import blob_fees, network_wrapper

SIGNER = Account.from_key(b"\x11" * 32)
BLOBS = encode(b"wrapper" * 30_000)  # two blobs
TX = {
    "type": 3,
    "chainId": 31337,
    "nonce": 4,
    "to": SIGNER.address,
    "value": 0,
    "gas": 50_000,
    "maxFeePerGas": 30,
    "maxPriorityFeePerGas": 2,
    "maxFeePerBlobGas": 7,
}


def test_fee_caps_follow_the_fees_with_a_margin():
    fees = blob_fees(base_fee=10, blob_base_fee=3, priority_fee=2, margin=2)
    assert (fees.max_fee_per_gas, fees.max_priority_fee_per_gas, fees.max_fee_per_blob_gas) == (
        22,
        2,
        6,
    )


def test_blob_fee_cap_is_at_least_one_wei():
    assert blob_fees(0, 0, 0).max_fee_per_blob_gas == 1


def test_fee_margin_below_one_is_refused():
    with pytest.raises(BlobError):
        blob_fees(1, 1, 1, margin=0)


def _signed_body() -> bytes:
    tx = dict(TX, blobVersionedHashes=[kzg.blob_versioned_hash(b) for b in BLOBS])
    return bytes(SIGNER.sign_transaction(tx).raw_transaction)


def test_version0_wrapper_is_byte_identical_to_eth_accounts(monkeypatch):
    # eth-account reloads the trusted setup for every proof; hand it the same, loaded once.
    monkeypatch.setattr(eth_account_base, "load_trusted_setup", lambda *_: kzg.load_setup())
    reference = bytes(SIGNER.sign_transaction(TX, blobs=BLOBS).raw_transaction)
    assert network_wrapper(_signed_body(), BLOBS, cell_proofs=False) == reference


def test_version1_wrapper_carries_128_valid_cell_proofs_per_blob():
    raw = network_wrapper(_signed_body(), BLOBS, cell_proofs=True)
    assert raw[0] == 3
    _body, version, blobs, commitments, proofs = rlp.decode(raw[1:])
    assert int.from_bytes(version, "big") == 1
    assert list(blobs) == BLOBS
    assert list(commitments) == [kzg.commitment(b) for b in BLOBS]
    assert len(proofs) == 128 * len(BLOBS)
    for n, blob in enumerate(BLOBS):
        assert kzg.verify_cell_proofs(blob, commitments[n], list(proofs[128 * n : 128 * n + 128]))


def test_tx_hash_covers_the_body_only():
    body = _signed_body()
    for cell_proofs in (False, True):
        raw = network_wrapper(body, BLOBS, cell_proofs=cell_proofs)
        inner = rlp.decode(raw[1:])[0]
        assert keccak(b"\x03" + rlp.encode(inner)) == keccak(body)


def test_wrapping_something_else_is_refused():
    with pytest.raises(BlobError, match="type-3"):
        network_wrapper(b"\x02" + rlp.encode([]), BLOBS, cell_proofs=False)
