# SPDX-License-Identifier: GPL-3.0-or-later
"""What ZkRollup.submitBatch costs besides the proof check: the gas of a batch whose verifier
accepts everything (contracts/test/zk/AcceptingVerifier.sol), so every N, 64 included, runs in
seconds without proving. Account tree depth 20 as in bench/zk.py; public data format v2.

Per N: a batch of N transfers and a batch of W withdrawals (the payout records), both without
deposits, each the second batch of its rollup (warm counters, as in a running deployment). The
whole batch with a real proof costs about this plus the verifier's work (bench/zk.py measures
that: `verify_gas_call` less its 21,000 base and calldata).

Run: python bench/zk_contract.py   (project environment, see docs/zk.md)
Writes bench/results/zk_contract.json."""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.common import local_node, print_table, write_results  # noqa: E402
from offchain.zk import pubdata  # noqa: E402
from offchain.zk.babyjub import PrivateKey  # noqa: E402
from offchain.zk.tree import zero_hashes  # noqa: E402
from offchain.zk.txs import recipient_bytes  # noqa: E402

DEPTH = 20
SIZES = (4, 16, 64)
GAS_LIMIT = 5_000_000
AMOUNT = 10**12


def _transfers(n: int, d: int) -> bytes:
    slots = [pubdata.compact_slot(1, t % d, (t + 1) % d, AMOUNT, DEPTH) for t in range(n)]
    return pubdata.encode_tx_data(slots, [])


def _withdrawals(n: int, d: int, first_recipient: int) -> bytes:
    w = pubdata.payout_slots(n)
    slots = [pubdata.compact_slot(2, t % d, 0, 0, DEPTH) for t in range(w)]
    slots += [pubdata.compact_slot(0, 0, 0, 0, DEPTH)] * (n - w)
    records = [pubdata.payout_record(first_recipient + t, 0, AMOUNT) for t in range(w)]
    return pubdata.encode_tx_data(slots, records)


def bench_one(n: int, project, accounts, chain) -> dict:
    d = max(2, n // 4)
    deployer, funder = accounts[0], accounts[1]
    out: dict = {"n_txs": n, "n_deposits": d, "n_payouts": pubdata.payout_slots(n), "depth": DEPTH}
    batches = {
        "transfers": (_transfers(n, d), _transfers(n, d)),
        # Recipients paid for the first time in the measured batch (new claims on the bridge).
        "withdrawals": (_withdrawals(n, d, 0xB0B), _withdrawals(n, d, 0xA11CE)),
    }
    for name, (warm_up, tx_data) in batches.items():
        bridge = deployer.deploy(project.L1Bridge, b"\x02")
        verifier = deployer.deploy(project.AcceptingVerifier)
        genesis = zero_hashes(DEPTH)[DEPTH]
        rollup = deployer.deploy(
            project.ZkRollup, bridge, verifier, verifier, genesis, n, d, 7 * 86400, 86400, DEPTH
        )
        bridge.setRollup(rollup, sender=deployer)
        # Funds the withdrawals release (a queued deposit the batches leave in the queue).
        key = recipient_bytes(PrivateKey(b"bench-zk-contract".ljust(32, b"!")).public_key)
        bridge.depositETH(key, sender=funder, value=10**18)
        proof = [1] * 8
        rollup.submitBatch(1, [], warm_up, proof, sender=deployer, gas_limit=GAS_LIMIT)
        chain.pending_timestamp += 12  # a later block: lastBatchAt changes, as between real batches
        receipt = rollup.submitBatch(2, [], tx_data, proof, sender=deployer, gas_limit=GAS_LIMIT)
        out[f"batch_{name}"] = {"gas": receipt.gas_used, "tx_data_bytes": len(tx_data)}
    out["gas_per_transfer"] = out["batch_transfers"]["gas"] // n
    return out


def main() -> None:
    from ape import accounts, chain, project

    with local_node():
        rows = [bench_one(n, project, accounts.test_accounts, chain) for n in SIZES]
    print_table(
        "ZkRollup.submitBatch without the proof check (accepting verifier), depth 20",
        ["N", "W", "transfers: gas", "gas / transfer", "txData B", "W withdrawals: gas"],
        [
            [
                r["n_txs"],
                r["n_payouts"],
                r["batch_transfers"]["gas"],
                r["gas_per_transfer"],
                r["batch_transfers"]["tx_data_bytes"],
                r["batch_withdrawals"]["gas"],
            ]
            for r in rows
        ],
    )
    write_results("zk_contract", {"pubdata_format": pubdata.FORMAT_VERSION, "rows": rows})


if __name__ == "__main__":
    main()
