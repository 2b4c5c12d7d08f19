"""Worst-case gas of the blob dispute (docs/rollup-blobs.md §3): a full blob batch (64 commitments
of 32 transfers, one blob) whose blob does not hold the last commitment that spans 16 blob
elements; `Rollup.proveBlobFraud` opens all 16 with the point-evaluation precompile.

bench/rollup.py calls `measure` on its node and writes `blob.dispute_blob_gas` and
`blob.dispute_max_gas` (the worst dispute of every kind, this one included) into
bench/results/rollup.json. Run alone (`python bench/rollup_blob_dispute.py`), it measures on a
fresh node and updates only those two keys of that file.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.common import RESULTS, local_node  # noqa: E402
from offchain.blobs import encoding  # noqa: E402
from offchain.blobs.tx import send_blobs  # noqa: E402
from offchain.rollup import blob_batches as bb  # noqa: E402
from offchain.rollup.codec import commitment_length  # noqa: E402
from offchain.rollup.l1 import RollupL1, Signer  # noqa: E402
from offchain.rollup.posting import POST_BLOB_BATCHES_SELECTOR, encode_posting  # noqa: E402

FULL_COUNTS = bytes([0, 32, 0, 0])
REST_LEN = commitment_length(0, 32, 0, 0) - 32  # 439 bytes


def full_posting() -> bb.BlobPosting:
    """One batch of 64 framing-valid 32-transfer commitments (only the blob dispute reads them)."""
    rests = [
        (b"\x11" * 32, FULL_COUNTS + bytes((i + j) % 251 + 1 for j in range(REST_LEN - 4)))
        for i in range(64)
    ]
    return bb.encode_posting([rests])


def worst_commitment(batch: bb.BlobBatch) -> int:
    """The last commitment whose rest spans the most blob elements (16 for a 439-byte rest)."""
    spans = [
        len(bb.element_span(o, h.rest_length))
        for o, h in zip(batch.rest_offsets(), batch.headers, strict=True)
    ]
    most = max(spans)
    return max(i for i, s in enumerate(spans) if s == most)


def measure(l1: RollupL1, poster: Signer, prover: Signer) -> dict[str, int]:
    """Post the lying full batch from `poster` (bonded) and prove it from `prover`: gas figures."""
    posting = full_posting()
    ci = worst_commitment(posting.batches[0])
    lie = bytearray(posting.payload)
    lie[posting.batches[0].rest_offsets()[ci] + REST_LEN // 2] ^= 1
    blobs = encoding.encode(bytes(lie))
    index = l1.rollup.functions.batchCount().call()
    pre = l1.rollup.functions.head().call()[0]
    data = encode_posting(pre, posting.data, POST_BLOB_BATCHES_SELECTOR)
    send_blobs(poster.sender, l1.rollup.address, data, blobs)
    proof = bb.blob_proof(index, posting.batches[0], ci, blobs)
    receipt = prover.send(l1.rollup.functions.proveBlobFraud(proof))
    return {"dispute_blob_gas": int(receipt["gasUsed"]), "dispute_blob_openings": len(proof[5])}


def main() -> None:
    from ape import accounts, chain, project
    from hexbytes import HexBytes

    with local_node():
        w3 = chain.provider.web3
        test = accounts.test_accounts
        deployer = test[0]
        bridge = deployer.deploy(project.L1Bridge, b"\x01")
        registry = deployer.deploy(project.BLSKeyRegistry, 3)
        rollup = deployer.deploy(
            project.Rollup, bridge, 10**18, 3600, 86_400, 30 * 86_400, registry
        )
        bridge.setRollup(rollup, sender=deployer)
        l1 = RollupL1(w3, rollup.address, bridge.address)
        poster, prover = (Signer(w3, bytes(HexBytes(test[i].private_key))) for i in (1, 2))
        poster.send(l1.rollup.functions.bond(), value=10**18)
        figures = measure(l1, poster, prover)
    path = RESULTS / "rollup.json"
    body = json.loads(path.read_text()) if path.exists() else {"benchmark": "rollup"}
    blob = body.setdefault("blob", {})
    blob["dispute_blob_gas"] = figures["dispute_blob_gas"]
    others = [int(body.get("fraud_proof_max_gas", 0))]
    blob["dispute_max_gas"] = max([figures["dispute_blob_gas"], *others])
    path.write_text(json.dumps(body, indent=2) + "\n")
    openings, gas = figures["dispute_blob_openings"], figures["dispute_blob_gas"]
    print(f"blob dispute, {openings} openings: {gas:,} gas")
    print(f"worst dispute of any kind: {blob['dispute_max_gas']:,} gas; wrote {path}")


if __name__ == "__main__":
    main()
