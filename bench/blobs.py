"""Benchmark of the EIP-4844 blob foundation: capacity, gas on Anvil, Python times per blob.

    python bench/blobs.py        (env: SOLCX_BINARY_PATH, PATH, PYTHONPATH as for the tests)

Prints two tables and writes bench/results/blobs.json. Opening gas is measured inside the harness
(gasleft() around BlobData.openElement) and as the eth_estimateGas of the whole call; recording
gas is the receipt's gasUsed of a type-3 transaction to the harness carrying n blobs.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable

from bench.common import local_node, print_table, write_results

RECORD_SIZES = (1, 2, 6)
REPEAT = 5


def main() -> None:
    capacity = _capacity()
    gas = _gas()
    times = _times()
    write_results("blobs", {"capacity": capacity, "gas": gas, "python_ms_one_core": times})


def _capacity() -> dict:
    from offchain.blobs import encoding
    from offchain.blobs.cost import GAS_PER_BLOB, TOTAL_COST_FLOOR_PER_TOKEN

    usable = encoding.USABLE_BYTES_PER_BLOB
    first = usable - encoding.HEADER_BYTES
    # OP Stack's 4 x 31 + 3 scheme: 127 bytes per 4 elements, 4-byte header (version, length).
    op_stack = encoding.FIELD_ELEMENTS_PER_BLOB // 4 * 127 - 4
    out = {
        "usable_bytes_per_blob": usable,
        "payload_bytes_one_blob": first,
        "payload_bytes_max": encoding.MAX_PAYLOAD_BYTES,
        "efficiency": round(usable / encoding.BYTES_PER_BLOB, 4),
        "blob_gas_per_payload_byte": round(GAS_PER_BLOB / first, 4),
        "calldata_floor_gas_per_nonzero_byte": 4 * TOTAL_COST_FLOOR_PER_TOKEN,
        "op_stack_4x31_plus_3_bytes_per_blob": op_stack,
    }
    print_table(
        "Blob capacity (31 bytes per field element, 5-byte header)",
        ["figure", "value"],
        [(k, f"{v:.4f}" if isinstance(v, float) else v) for k, v in out.items()],
    )
    return out


def _gas() -> dict:
    from eth_account import Account

    from offchain.blobs import encode, kzg
    from offchain.blobs.tx import send_blobs
    from offchain.l1.sender import L1Sender

    with local_node():
        from ape import accounts, chain, project

        deployer = accounts.test_accounts[0]
        harness = deployer.deploy(project.BlobDataHarness)
        w3 = chain.provider.web3
        signer = Account.from_key(accounts.test_accounts[1].private_key)
        record: dict[str, int] = {}
        rows: list[tuple[str, int, str]] = []
        blobs = []
        for n in RECORD_SIZES:
            blobs = encode(os.urandom(n * 126_000))
            assert len(blobs) == n
            sent = send_blobs(
                L1Sender(w3, signer), harness.address, harness.record.encode_input(n), blobs
            )
            receipt = sent.receipt
            record[str(n)] = int(receipt["gasUsed"])
            rows.append(
                (f"record {n} blob(s) (tx gasUsed)", int(receipt["gasUsed"]), "L1 exec gas")
            )
            rows.append(("  blob gas of that tx", int(receipt["blobGasUsed"]), "blob gas"))
        o = kzg.open_element(blobs[0], 1234)
        inner = int(harness.openElementGas(o.versioned_hash, 1234, o.value, o.commitment, o.proof))
        data = harness.openElementGas.encode_input(
            o.versioned_hash, 1234, o.value, o.commitment, o.proof
        )
        total = int(w3.eth.estimate_gas({"to": harness.address, "data": data}))
        point = int(
            w3.eth.estimate_gas(
                {"to": harness.address, "data": harness.evaluationPoint.encode_input(4095)}
            )
        )
        rows += [
            ("openElement (library, inside the call)", inner, "precompile 50,000"),
            ("openElement call (eth_estimateGas)", total, "incl. 21,000 + calldata"),
            ("evaluationPoint(4095) call", point, "incl. 21,000"),
        ]
        print_table("Blob gas on Anvil (Prague)", ["operation", "gas", "note"], rows)
        return {
            "record_tx_gas_used": record,
            "open_element_library": inner,
            "open_element_call_total": total,
            "evaluation_point_call_total": point,
        }


def _ms(fn: Callable[[], object]) -> float:
    fn()  # warm
    start = time.perf_counter()
    for _ in range(REPEAT):
        fn()
    return round((time.perf_counter() - start) * 1000 / REPEAT, 2)


def _times() -> dict:
    from offchain.blobs import decode, encode, kzg

    kzg.load_setup()
    payload = os.urandom(126_000)
    blob = encode(payload)[0]
    com = kzg.commitment(blob)
    out = {
        "encode": _ms(lambda: encode(payload)),
        "decode": _ms(lambda: decode([blob])),
        "commitment": _ms(lambda: kzg.commitment(blob)),
        "blob_proof": _ms(lambda: kzg.blob_proof(blob, com)),
        "open_element": _ms(lambda: kzg.open_element(blob, 77)),
        "cell_proofs_128": _ms(lambda: kzg.cell_proofs(blob)),
    }
    start = time.perf_counter()
    kzg.load_setup.cache_clear()
    kzg.load_setup()
    out["load_trusted_setup_once"] = round((time.perf_counter() - start) * 1000, 1)
    print_table("Python per blob (ms, one core)", ["step", "ms"], list(out.items()))
    return out


if __name__ == "__main__":
    main()
