"""Benchmark of BLS12-381 signatures: on-chain gas (EIP-2537 on Anvil) and Python rates (one core).

    python bench/bls.py        (env: SOLCX_BINARY_PATH, PATH, PYTHONPATH as for the tests)

Prints two tables and writes bench/results/bls.json. Gas is measured inside the harness call
(gasleft() before and after the library call: no calldata, no call overhead) and, for the
aggregate check, also as the whole eth_estimateGas of the call with its calldata.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from bench.common import local_node, print_table, write_results

AGGREGATE_SIZES = (1, 8, 32, 64)
BATCH = 1024


def main() -> None:
    gas = _gas()
    rates = _rates()
    write_results("bls", {"gas": gas, "python_per_second_one_core": rates})


def _gas() -> dict:
    from offchain import bls

    with local_node():
        from ape import accounts, chain, project

        deployer = accounts.test_accounts[0]
        harness = deployer.deploy(project.BLSHarness)
        registry = deployer.deploy(project.BLSKeyRegistry, 3)
        dst = bls.signing_dst(chain.chain_id, registry.address)
        msg = bls.signing_message(1, 0, bytes(12))
        h2g = int(harness.hashToG1Gas(msg, dst))
        rows: list[tuple[str, int, int, str]] = [("hashToG1 (20-byte message)", h2g, 0, "")]
        out: dict = {"hash_to_g1": h2g, "verify_aggregate": {}}
        for n in AGGREGATE_SIZES:
            sks = [bls.SecretKey(1_000 + i) for i in range(n)]
            msgs = [bls.signing_message(i, 0, bytes(12)) for i in range(n)]
            agg = bls.aggregate([bls.sign(sk, m, dst) for sk, m in zip(sks, msgs, strict=True)])
            pks = [bls.g2_words(sk.public_key().eip2537()) for sk in sks]
            sig = bls.g1_words(agg.eip2537())
            ok, inner = harness.verifyAggregateGas(msgs, pks, sig, dst)
            assert ok, "benchmark aggregate must verify"
            total = int(
                harness.verifyAggregate.estimate_gas_cost(msgs, pks, sig, dst, sender=deployer)
            )
            out["verify_aggregate"][str(n)] = {"library": int(inner), "call_total": total}
            rows.append(
                (f"verifyAggregate, n = {n}", int(inner), total, f"{int(inner) // n:,}/msg")
            )
        receipt = registry.register(
            bls.g2_words(bls.SecretKey(5).public_key().eip2537()), sender=deployer
        )
        out["register_key"] = int(receipt.gas_used)
        rows.append(("BLSKeyRegistry.register (first key)", int(receipt.gas_used), 0, "tx"))
    print_table(
        "BLS12-381 gas (EIP-2537, Anvil prague)",
        ["operation", "library gas", "call gas", "note"],
        rows,
    )
    return out


def _rate(fn: Callable[[], object], count: int, min_seconds: float = 0.5) -> float:
    done, start = 0, time.perf_counter()
    while True:
        fn()
        done += count
        elapsed = time.perf_counter() - start
        if elapsed >= min_seconds:
            return done / elapsed


def _rates() -> dict:
    import pyblst

    from offchain import bls

    dst = bls.signing_dst(1, "0x" + "11" * 20)
    distinct = []
    for i in range(BATCH):
        sk = bls.SecretKey(7_000 + i)
        m = bls.signing_message(i, 0, bytes(12))
        distinct.append(bls.BatchItem(sk.public_key(), m, bls.sign(sk, m, dst)))
    few_keys = []
    for i in range(BATCH):
        sk = bls.SecretKey(9_000 + i % 64)
        m = bls.signing_message(i % 64, i // 64, bytes(12))
        few_keys.append(bls.BatchItem(sk.public_key(), m, bls.sign(sk, m, dst)))
    one_bad = list(distinct)
    one_bad[517] = bls.BatchItem(one_bad[517].public_key, b"forged", one_bad[517].signature)
    item = distinct[0]
    h = bls.hash_to_g1(item.message, dst)
    pk = item.public_key.point
    agg = bls.aggregate([i.signature for i in distinct])
    figures = {
        "hash_to_g1": _rate(lambda: bls.hash_to_g1(item.message, dst), 1),
        "miller_loop": _rate(lambda: pyblst.miller_loop(h, pk), 1),
        "verify_single": _rate(
            lambda: bls.verify(item.public_key, item.message, item.signature, dst), 1
        ),
        "verify_batch_1024_distinct_keys": _rate(lambda: bls.verify_batch(distinct, dst), BATCH),
        "verify_batch_1024_over_64_keys": _rate(lambda: bls.verify_batch(few_keys, dst), BATCH),
        "verify_aggregate_1024_distinct_keys": _rate(
            lambda: bls.verify_aggregate(
                [i.public_key for i in distinct], [i.message for i in distinct], agg, dst
            ),
            BATCH,
        ),
        "find_invalid_1_bad_in_1024": _rate(lambda: bls.find_invalid(one_bad, dst), BATCH),
    }
    assert bls.find_invalid(one_bad, dst) == [517]
    # The bound for all-distinct keys: one hash-to-G1 and one Miller loop per transaction.
    ceiling = 1 / (1 / figures["hash_to_g1"] + 1 / figures["miller_loop"])
    figures["bound_distinct_keys_hash_plus_miller_loop"] = ceiling
    print_table(
        "BLS12-381 in Python (blst through pyblst), per second, one core",
        ["operation", "per second"],
        [(k.replace("_", " "), round(v)) for k, v in figures.items()],
    )
    out = {k: round(v) for k, v in figures.items()}
    out["verify_batch_distinct_share_of_bound"] = round(
        figures["verify_batch_1024_distinct_keys"] / ceiling, 2
    )
    return out


if __name__ == "__main__":
    main()
