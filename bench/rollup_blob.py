"""The blob mode of bench/rollup.py (issue 12, docs/rollup-blobs.md): batches of BLS-aggregated
transfers posted in EIP-4844 blobs by the honest proposer (`postBlobBatches`), measured from the
receipts: payload (blob) bytes, blob gas and L1 execution gas per transfer.

A *full posting* is what one blob holds: four full batches (64 commitments of 32 transfers,
28,096 payload bytes each) fill 112,389 of a blob's 126,976 usable bytes; a fifth needs a second
blob. The six-blob posting (27 full batches) is derived from the same per-transfer bytes.
"""

from __future__ import annotations

from typing import Any

from offchain.blobs import encoding
from offchain.blobs.cost import GAS_PER_BLOB, STANDARD_TOKEN_COST, TX_BASE_GAS, calldata_tokens
from offchain.rollup import blob_post
from offchain.rollup.honest_proposer import HonestProposer

FULL_BATCH = 2048  # 64 commitments x 32 transfers
FULL_POSTING_BATCHES = 4  # what one blob holds


def _post(op: HonestProposer, rot: Any, sizes: list[int]) -> dict[str, Any]:
    """Post batches of `sizes` transfers in one blob posting; the figures of its receipt."""
    w3 = op.l1.w3
    prop = HonestProposer(
        op.l1, op.signer, op.fee_account, op.state.copy(), da=blob_post.DaSetting.BLOBS
    )
    built, state = [], prop.state
    r = rot.fork()
    for n in sizes:
        batch, state = prop.build_on(state, [r.next() for _ in range(n)])
        assert not batch.rejected, batch.rejected
        built.append((batch, state))
    indexes = prop.post_all(built)
    assert len(indexes) == len(sizes), indexes
    receipt = prop.last_receipt
    tx = w3.eth.get_transaction(receipt["transactionHash"])
    pairs = [blob_post.commitment_pairs([c.commitment for c in b.commitments]) for b, _ in built]
    payload = sum(len(rest) for batch in pairs for _, rest in batch)
    transfers = sum(len(c.commitment.transfers) for b, _ in built for c in b.commitments)
    blobs = len(tx["blobVersionedHashes"])
    # EVM gas: what the receipt charged beyond the intrinsic cost of the (small) calldata
    intrinsic = TX_BASE_GAS + STANDARD_TOKEN_COST * calldata_tokens(bytes(tx["input"]))
    execution = receipt["gasUsed"] - intrinsic
    return {
        "batches": len(sizes),
        "commitments": sum(len(b) for b in pairs),
        "transfers": transfers,
        "payload_bytes": payload,
        "blobs": blobs,
        "blob_fill": payload / (blobs * encoding.USABLE_BYTES_PER_BLOB),
        "calldata_bytes": len(tx["input"]),
        "gas": receipt["gasUsed"],
        "execution_gas_estimate": execution,
        "blob_gas": int(receipt.get("blobGasUsed") or blobs * GAS_PER_BLOB),
    }


def measure(op: HonestProposer, rot: Any) -> dict[str, Any]:
    """Blob postings of one small batch and of a full posting, each reverted afterwards."""
    w3 = op.l1.w3

    def isolated(sizes: list[int]) -> dict[str, Any]:
        snap = w3.provider.make_request("evm_snapshot", [])["result"]  # type: ignore[arg-type]
        try:
            return _post(op, rot, sizes)
        finally:
            w3.provider.make_request("evm_revert", [snap])  # type: ignore[arg-type]

    small = isolated([32])
    full = isolated([FULL_BATCH] * FULL_POSTING_BATCHES)
    per_transfer_bytes = full["payload_bytes"] / full["transfers"]
    six = int((encoding.MAX_PAYLOAD_BYTES // (FULL_BATCH * per_transfer_bytes)) * FULL_BATCH)
    return {
        "bytes_per_transfer": per_transfer_bytes,
        "exec_gas_per_transfer": full["gas"] / full["transfers"],
        "blob_gas_per_transfer": full["blobs"] * GAS_PER_BLOB / full["transfers"],
        "blob_gas_per_transfer_six_blobs": 6 * GAS_PER_BLOB / six,
        "full_posting": full,
        "one_commitment_posting": small,
    }


def section(measured: dict[str, Any], fraud: dict[str, Any]) -> dict[str, Any]:
    """The `blob` key of bench/results/rollup.json: these figures, plus `dispute_max_gas`
    from the blob dispute's worst case when bench/rollup.py measured one (None otherwise)."""
    blob_disputes = [v["gas"] for v in fraud.values() if v.get("dispute") == "blob"]
    return {**measured, "dispute_max_gas": max(blob_disputes) if blob_disputes else None}


def table(blob: dict[str, Any]) -> list[str]:
    lines = ["", "| blob posting | batches | transfers | payload B | blobs | gas | blob gas |"]
    lines.append("|---|---:|---:|---:|---:|---:|---:|")
    for name in ("one_commitment_posting", "full_posting"):
        v = blob[name]
        lines.append(
            f"| {name} | {v['batches']} | {v['transfers']} | {v['payload_bytes']} | "
            f"{v['blobs']} | {v['gas']} | {v['blob_gas']} |"
        )
    lines.append(
        f"blob mode per transfer: {blob['bytes_per_transfer']:.2f} blob bytes, "
        f"{blob['blob_gas_per_transfer']:.1f} blob gas (one full blob; "
        f"{blob['blob_gas_per_transfer_six_blobs']:.1f} at six), "
        f"{blob['exec_gas_per_transfer']:.1f} L1 gas"
    )
    return lines
