"""Blob (type-3) transactions through the one L1 sender on Anvil: fees from the node, a
replacement that outbids the blob fee too, and the commitments computed once."""

from blobs_helpers import TEST_POLICY
from eth_account.typed_transactions import TypedTransaction
from hexbytes import HexBytes
from web3 import Web3

from offchain.blobs import encode, kzg
from offchain.blobs import tx as blob_tx
from offchain.l1.sender import L1Sender, SendPolicy


def test_blob_tx_fees_come_from_the_node(w3, blob_signer, harness):
    blobs = encode(b"fees from the node")
    blob_base = w3.eth.blob_base_fee
    sent = blob_tx.send_blobs(
        L1Sender(w3, blob_signer, TEST_POLICY),
        harness.address,
        harness.record.encode_input(1),
        blobs,
    )
    tx = w3.eth.get_transaction(sent.tx_hash)
    assert tx["type"] == 3
    assert tx["maxFeePerBlobGas"] == max(1, blob_base * TEST_POLICY.blob_fee_factor)
    assert tx["maxPriorityFeePerGas"] == w3.eth.max_priority_fee
    assert [bytes(h) for h in tx["blobVersionedHashes"]] == [
        kzg.blob_versioned_hash(b) for b in blobs
    ]


def test_dropped_blob_tx_is_replaced_outbidding_its_blob_fee_and_mined_once(
    w3, blob_signer, harness, monkeypatch
):
    blobs = encode(b"replaced once")
    sidecar = blob_tx.BlobSidecar(blobs)
    commitments = {"n": 0}
    real_commitment = kzg.commitment

    def counted(blob):
        commitments["n"] += 1
        return real_commitment(blob)

    monkeypatch.setattr(kzg, "commitment", counted)
    sent_raw: list[bytes] = []
    real_send = w3.eth.send_raw_transaction

    def send_and_drop(raw):
        sent_raw.append(bytes(raw))
        tx_hash = real_send(raw)
        if len(sent_raw) == 1:  # the node loses the first version
            w3.provider.make_request("anvil_dropTransaction", [Web3.to_hex(tx_hash)])
        else:
            w3.provider.make_request("evm_mine", [])
        return tx_hash

    monkeypatch.setattr(w3.eth, "send_raw_transaction", send_and_drop)
    nonce = w3.eth.get_transaction_count(blob_signer.address)
    w3.provider.make_request("evm_setAutomine", [False])
    try:
        sent = blob_tx.send_blobs(
            L1Sender(w3, blob_signer, SendPolicy(receipt_timeout=1.0, backoff=0.01)),
            harness.address,
            harness.record.encode_input(1),
            sidecar,
        )
    finally:
        w3.provider.make_request("evm_setAutomine", [True])
    assert sent.attempts == 2 and len(sent_raw) == 2
    # Both versions carry the blobs (the network wrapper), proven once for both.
    bodies = [TypedTransaction.from_bytes(HexBytes(r[:1] + _body(r))).as_dict() for r in sent_raw]
    assert bodies[0]["nonce"] == bodies[1]["nonce"] == nonce
    assert bodies[1]["maxFeePerBlobGas"] >= 2 * bodies[0]["maxFeePerBlobGas"]
    assert bodies[1]["maxFeePerGas"] >= 2 * bodies[0]["maxFeePerGas"]
    assert commitments["n"] == len(blobs)  # the replacement reused them
    assert w3.eth.get_transaction_count(blob_signer.address) == nonce + 1
    assert sent.receipt["blobGasUsed"] > 0


def _body(raw: bytes) -> bytes:
    """The signed body ``rlp(tx)`` inside a version-0 network wrapper."""
    import rlp

    return rlp.encode(rlp.decode(raw[1:])[0])
