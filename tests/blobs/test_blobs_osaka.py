"""Osaka (EIP-7594): blob transactions with cell proofs on `anvil --hardfork osaka`.

The suite's node runs Osaka too (ape-config.yaml); this module starts its own Anvil named Osaka
explicitly, so it keeps testing cell proofs whatever the suite's hardfork. It deploys the BlobData
harness from Ape's build with web3 and sends version-1 wrappers to it.
"""

import pytest
import rlp
from support.anvil import anvil_process
from web3 import Web3
from web3.exceptions import Web3RPCError

from offchain.blobs import BeaconReader, BeaconSettings, decode, encode, kzg
from offchain.blobs.tx import build_blob_tx, send_blobs
from offchain.l1.sender import L1Sender

# Anvil's first default account (the well-known test mnemonic).
KEY = "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80"
PAYLOAD = b"osaka " * 30_000  # 180,000 bytes: two blobs


@pytest.fixture(scope="module")
def osaka():
    with anvil_process("osaka") as url:
        yield Web3(Web3.HTTPProvider(url))


@pytest.fixture(scope="module")
def signer(osaka):
    return osaka.eth.account.from_key(KEY)


@pytest.fixture(scope="module")
def harness(osaka, signer, project):
    ct = project.BlobDataHarness.contract_type
    abi = [a.model_dump(mode="json", by_alias=True) for a in ct.abi]
    factory = osaka.eth.contract(abi=abi, bytecode=ct.deployment_bytecode.bytecode)
    tx = factory.constructor().build_transaction(
        {"from": signer.address, "nonce": osaka.eth.get_transaction_count(signer.address)}
    )
    receipt = osaka.eth.wait_for_transaction_receipt(
        osaka.eth.send_raw_transaction(signer.sign_transaction(tx).raw_transaction)
    )
    return osaka.eth.contract(address=receipt["contractAddress"], abi=abi)


def test_anvil_runs_osaka(osaka):
    assert (
        osaka.provider.make_request("anvil_nodeInfo", [])["result"]["hardFork"].lower() == "osaka"
    )


@pytest.mark.slow  # starts an Osaka Anvil
def test_cell_proof_blob_tx_is_recorded_and_opened_on_osaka(osaka, signer, harness):
    blobs = encode(PAYLOAD)
    data = harness.encode_abi("record", [len(blobs)])
    signed = build_blob_tx(osaka, signer, harness.address, data, blobs, cell_proofs=True)
    assert int.from_bytes(rlp.decode(signed.raw[1:])[1], "big") == 1  # version-1 wrapper
    # Sent through the one L1 sender (fees, gas and nonce from the node), cell proofs and all.
    sent = send_blobs(L1Sender(osaka, signer), harness.address, data, blobs, cell_proofs=True)
    receipt = sent.receipt
    assert receipt["transactionHash"] == Web3.to_bytes(hexstr=sent.tx_hash)
    assert list(signed.versioned_hashes) == [bytes(h) for h in osaka.eth.get_transaction(
        receipt["transactionHash"])["blobVersionedHashes"]]  # fmt: skip
    assert [bytes(h) for h in harness.functions.hashesOf(0).call()] == list(signed.versioned_hashes)
    o = kzg.open_element(blobs[1], 4000)
    assert harness.functions.openRecorded(0, 1, 4000, o.value, o.commitment, o.proof).call()
    url = osaka.provider.endpoint_uri
    read = BeaconReader(BeaconSettings(url)).blobs(receipt["blockNumber"], signed.versioned_hashes)
    assert decode(read) == PAYLOAD


def test_cell_proofs_of_another_blob_are_refused_by_the_node(osaka, signer):
    blobs = encode(b"honest")
    signed = build_blob_tx(osaka, signer, signer.address, b"", blobs, cell_proofs=True)
    body, version, blobs_, commitments, _ = rlp.decode(signed.raw[1:])
    forged = kzg.cell_proofs(encode(b"forged")[0])
    raw = b"\x03" + rlp.encode([body, version, blobs_, commitments, forged])
    with pytest.raises(Web3RPCError, match=r"(?i)kzg|proof|blob"):
        osaka.eth.send_raw_transaction(raw)
