# SPDX-License-Identifier: GPL-3.0-or-later
"""Benchmark of the zk rollup: proving time, peak memory, verification gas, L1 bytes and gas per
transfer for N = 4 and 16 transaction slots (64 with --n64), account tree depth 20.

Run: python bench/zk.py [--n64]   (with the project environment, see docs/zk.md)
Writes bench/results/zk.json. Keys are the cached development setup (.cache/zk)."""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from offchain.zk.babyjub import PrivateKey  # noqa: E402
from offchain.zk.circuit import (  # noqa: E402
    build_info,
    dev_keys,
    exit_spec,
    rollup_spec,
    verifier_args,
)
from offchain.zk.params import CircuitParams  # noqa: E402
from offchain.zk.prover import Groth16Prover, Proof  # noqa: E402
from offchain.zk.tree import zero_hashes  # noqa: E402
from offchain.zk.txs import TxKind, recipient_bytes, sign_tx  # noqa: E402

DEPTH = 20
RESULTS = ROOT / "bench" / "results" / "zk.json"


def _reset_peak_rss() -> None:
    """Reset VmHWM of this process (Linux: writing 5 to clear_refs)."""
    Path("/proc/self/clear_refs").write_text("5")


def _peak_rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


class _MeasuredProver:
    """Wraps the groth16py prover to time each proof and record peak memory while proving."""

    def __init__(self, inner: Groth16Prover) -> None:
        self.inner = inner
        self.samples: list[tuple[float, float]] = []

    def prove(self, inputs) -> Proof:
        _reset_peak_rss()
        started = time.perf_counter()
        proof = self.inner.prove(inputs)
        self.samples.append((time.perf_counter() - started, _peak_rss_mb()))
        print(f"   proof {len(self.samples)}: {self.samples[-1][0]:.1f} s", flush=True)
        return proof

    def verify(self, proof, public_inputs) -> bool:
        return self.inner.verify(proof, public_inputs)


def _min_gas_returning_true(web3, sender: str, to: str, data: bytes) -> int:
    """Smallest gas limit for which an eth_call of the verifier returns true. eth_estimateGas
    would find the cheaper `false` path: with too little gas the pairing precompile fails and the
    verifier returns false instead of reverting. The figure includes the 21000 base and calldata."""
    lo, hi = 21_000, 2_000_000

    def ok(gas: int) -> bool:
        try:
            out = web3.eth.call({"from": sender, "to": to, "data": data, "gas": gas})
        except Exception:
            return False
        return int.from_bytes(bytes(out)[-32:], "big") == 1 if len(out) >= 32 else False

    if not ok(hi):
        raise RuntimeError("the verifier rejects the benchmark proof")
    while hi - lo > 1:
        mid = (lo + hi) // 2
        lo, hi = (lo, mid) if ok(mid) else (mid, hi)
    return hi


def bench_one(n: int, d: int, project, accounts, web3) -> dict:
    from eth_abi import encode
    from eth_account import Account
    from eth_utils import keccak

    from offchain.zk.batch_runner import ZkBatchRunner

    params = CircuitParams(n_txs=n, n_deposits=d, depth=DEPTH)
    spec = rollup_spec(params)
    started = time.perf_counter()
    keys = dev_keys(spec)
    key_seconds = time.perf_counter() - started
    exit_keys = dev_keys(exit_spec(DEPTH))
    info = build_info(spec)

    deployer = accounts[0]
    bridge = deployer.deploy(project.L1Bridge, b"\x02")
    bv = deployer.deploy(project.Groth16Verifier, *verifier_args(keys))
    ev = deployer.deploy(project.Groth16Verifier, *verifier_args(exit_keys))
    rollup = deployer.deploy(
        project.ZkRollup,
        bridge,
        bv,
        ev,
        zero_hashes(DEPTH)[DEPTH],
        n,
        d,
        7 * 24 * 3600,
        86400,
        DEPTH,
    )
    bridge.setRollup(rollup, sender=deployer)

    users = [PrivateKey(f"bench-user-{i:02d}".encode().ljust(32, b"!")) for i in range(d)]
    for key in users:
        bridge.depositETH(recipient_bytes(key.public_key), sender=accounts[1], value=10**18)

    prover = _MeasuredProver(Groth16Prover(keys))
    op = ZkBatchRunner(
        web3,
        Account.from_key(deployer.private_key),
        rollup.address,
        bridge.address,
        params,
        prover,
    )

    def transfers(round_: int) -> tuple:
        txs = []
        nonces = {i: op.state.account(i).nonce for i in range(d)}
        for t in range(n):
            src, dst = t % d, (t + 1 + round_) % d
            if dst == src:
                dst = (dst + 1) % d
            txs.append(
                sign_tx(users[src], op.domain, TxKind.TRANSFER, src, dst, 10**12, nonces[src])
            )
            nonces[src] += 1
        return tuple(txs)

    # Batch 1: the D deposits are credited, then the new accounts fill every slot with transfers.
    first_txs = tuple(
        sign_tx(users[t % d], op.domain, TxKind.TRANSFER, t % d, (t + 1) % d, 10**12, t // d)
        for t in range(n)
    )
    r1 = op.run_batch(first_txs)
    # Batch 2: N transfers only (the per-transfer figure).
    r2 = op.run_batch(transfers(1))
    # Batch 3: W withdrawals to L1 (each releases a claim on the bridge; W payout records).
    nonces = {i: op.state.account(i).nonce for i in range(d)}
    wds = []
    for t in range(params.n_payouts):
        src = t % d
        wds.append(
            sign_tx(users[src], op.domain, TxKind.WITHDRAW, src, 0xA11CE + t, 10**12, nonces[src])
        )
        nonces[src] += 1
    r3 = op.run_batch(tuple(wds))

    proof_words = list(r2.proof.words)
    call = keccak(text="verifyProof(uint256[8],uint256[])")[:4] + encode(
        ["uint256[8]", "uint256[]"], [proof_words, list(r2.batch.public_inputs)]
    )
    verify_gas = _min_gas_returning_true(web3, deployer.address, bv.address, call)
    prove_times = [s for s, _ in prover.samples]
    peaks = [m for _, m in prover.samples]
    constraints = info.get("constraints")
    return {
        "n_txs": n,
        "n_deposits": d,
        "n_payouts": params.n_payouts,
        "depth": DEPTH,
        "pubdata_format": 2,
        "tx_slot_bytes": params.slot_bytes,
        "hashed_pubdata_bytes": params.pubdata_bytes,
        "l1_bytes_per_transfer": round(r2.calldata_bytes / n, 1),
        "gas_per_transfer": r2.gas_used // n,
        "proving_rate_constraints_per_s": (
            round(constraints / min(prove_times)) if constraints else None
        ),
        "constraints": constraints,
        "setup_seconds": info.get("setup_seconds"),
        "key_load_or_setup_seconds": round(key_seconds, 1),
        "prove_seconds": round(min(prove_times), 1),
        "prove_seconds_all": [round(x, 1) for x in prove_times],
        "peak_rss_mb_proving": round(max(peaks)),
        "verify_gas_call": verify_gas,
        "batch_deposits_and_transfers": {"gas": r1.gas_used, "calldata_bytes": r1.calldata_bytes},
        "batch_transfers": {
            "gas": r2.gas_used,
            "calldata_bytes": r2.calldata_bytes,
            "gas_per_transfer": r2.gas_used // n,
            "l1_bytes_per_transfer": round(r2.calldata_bytes / n, 1),
        },
        "batch_withdrawals": {
            "gas": r3.gas_used,
            "calldata_bytes": r3.calldata_bytes,
            "withdrawals": params.n_payouts,
            "gas_per_withdrawal": r3.gas_used // params.n_payouts,
        },
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--n64", action="store_true", help="also N=64 (about 11+ GB, minutes)")
    parser.add_argument("--sizes", default=None, help="comma-separated N values, e.g. 4")
    args = parser.parse_args()
    sizes = [4, 16] + ([64] if args.n64 else [])
    if args.sizes:
        sizes = [int(x) for x in args.sizes.split(",")]

    from ape import accounts, networks, project

    rows = []
    with networks.parse_network_choice("ethereum:local:foundry") as provider:
        web3 = provider.web3
        for n in sizes:
            d = max(2, n // 4)
            print(f"== N={n} D={d} depth={DEPTH}", flush=True)
            rows.append(bench_one(n, d, project, accounts.test_accounts, web3))
            print(json.dumps(rows[-1], indent=1), flush=True)

    # Keep rows of sizes not run this time (e.g. N=64 from an earlier --n64 run).
    measured = {r["n_txs"] for r in rows}
    if RESULTS.exists():
        old = json.loads(RESULTS.read_text()).get("rows", [])
        kept = [r for r in old if r["n_txs"] not in measured]
        rows = sorted(kept + rows, key=lambda r: r["n_txs"])
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps({"benchmark": "zk", "rows": rows}, indent=1) + "\n")
    header = (
        f"{'N':>4} {'D':>3} {'constraints':>11} {'setup s':>8} {'prove s':>8} {'peak MB':>8} "
        f"{'verify gas':>10} {'batch gas':>10} {'gas/tx':>7} {'B/tx':>6} {'wd gas/tx':>9} "
        f"{'c/s':>7}"
    )
    print(header)
    for r in rows:
        bt, bw = r["batch_transfers"], r["batch_withdrawals"]
        print(
            f"{r['n_txs']:>4} {r['n_deposits']:>3} {r['constraints'] or '?':>11} "
            f"{r['setup_seconds'] or '?':>8} {r['prove_seconds']:>8} {r['peak_rss_mb_proving']:>8} "
            f"{r['verify_gas_call']:>10} {bt['gas']:>10} {bt['gas_per_transfer']:>7} "
            f"{bt['l1_bytes_per_transfer']:>6} {bw['gas_per_withdrawal']:>9} "
            f"{r.get('proving_rate_constraints_per_s') or '?':>7}"
        )
    print(f"wrote {RESULTS}")


if __name__ == "__main__":
    main()
