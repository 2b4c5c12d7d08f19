"""An independent reader of every live batch, calldata or blob, for the blob posting tests:
the posting tx's input (postBatch or postBlobBatches), the BlobBatchPosted events, the blobs from
Anvil's beacon API, each batch checked against the batch hash L1 stores. Built on the pure
offchain.rollup.blob_batches only, so it does not test the production read path with itself."""

from __future__ import annotations

from offchain.blobs import BeaconReader, BeaconSettings
from offchain.rollup import blob_batches as bb
from offchain.rollup.codec import decode_batch
from offchain.rollup.hashing import keccak
from offchain.rollup.posting import (
    POST_BATCH_SELECTOR,
    POST_BLOB_BATCHES_SELECTOR,
    decode_posting,
)
from offchain.rollup.replay import PostedBatch


def blob_events(w3, rollup_address, receipt) -> dict[int, tuple[list[bytes], int]]:
    """{batch index: (versioned hashes, payload offset)} of a posting's BlobBatchPosted events."""
    from eth_abi import decode as abi_decode

    from offchain.rollup.blob_post import BLOB_BATCH_POSTED_TOPIC

    out = {}
    for entry in receipt["logs"]:
        topics = [bytes(t) for t in entry["topics"]]
        if (
            entry["address"].lower() != rollup_address.lower()
            or topics[0] != BLOB_BATCH_POSTED_TOPIC
        ):
            continue
        hashes, offset = abi_decode(["bytes32[]", "uint256"], bytes(entry["data"]))
        out[int.from_bytes(topics[1], "big")] = ([bytes(h) for h in hashes], int(offset))
    return out


def live_batches(w3, l1) -> list[tuple[PostedBatch, str]]:
    """Every live batch as (PostedBatch with the calldata-form data, "calldata" or "blobs")."""
    rollup = l1.rollup
    count = rollup.functions.batchCount().call()
    beacon = BeaconReader(BeaconSettings(w3.provider.endpoint_uri))
    out: list[tuple[PostedBatch, str]] = []
    ends = (0, 0)
    logs = rollup.events.BatchPosted.get_logs(from_block=0)
    for i in range(count):
        stored = bytes(rollup.functions.batches(i).call()[0])
        log = [
            x for x in logs if x["args"]["index"] == i and bytes(x["args"]["batchHash"]) == stored
        ][-1]
        tx = w3.eth.get_transaction(log["transactionHash"])
        raw = bytes(tx["input"])
        if raw[:4] == POST_BATCH_SELECTOR:
            data, kind = decode_posting(raw).data, "calldata"
        else:
            call = decode_posting(raw, POST_BLOB_BATCHES_SELECTOR)
            receipt = w3.eth.get_transaction_receipt(log["transactionHash"])
            events = blob_events(w3, rollup.address, receipt)
            first = min(events)
            batch = bb.decode_posting_data(call.data)[i - first]
            hashes, offset = events[i]
            assert offset == batch.payload_offset
            assert bytes(rollup.functions.blobRef(i).call()) == bb.blob_ref(hashes, offset)
            blobs = beacon.blobs(int(log["blockNumber"]), hashes)
            data, kind = bb.read_rests(blobs, batch).calldata_form(batch), "blobs"
        commitments = decode_batch(data, *ends)
        assert keccak(b"".join(c.hash() for c in commitments)) == stored, f"batch {i}"
        ends = (commitments[-1].deposit_end, commitments[-1].forced_end)
        out.append((PostedBatch(i, data, int(log["blockNumber"])), kind))
    return out
