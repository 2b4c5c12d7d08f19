"""History half of bench/operator.py (a helper module, not a benchmark of its own): cost as the
history grows, with checkpoints and, for comparison, from genesis (the old way).

For each history size (10, 50 and 150 batches of 512 transfers; `--quick`: 3, 6 and 12 batches of
64) it records, on a local Anvil node:

- `validator_new_head_s`: the validator service's check after one more batch, resuming from its
  verified point (and `validator_new_head_genesis_s`: the same check replayed from genesis);
- `validator_restart_s`: a new validator service's first check, from its checkpoint files;
- `restart_s`: the batcher service started as a process (`BATCHER_MODULE`) on that history, from
  process start to its READY line, with the store of its previous run (`restart_genesis_s`: with
  a fresh store, i.e. from genesis);
- `idle_cpu_pct`: that batcher's CPU over `IDLE_SECONDS` s once ready (psutil, % of one core).

`measure_history(...)` returns `{"history": {"10": {...}, ...}}` for bench/operator.py;
`python bench/operator_history.py [--quick]` prints the table and writes
bench/results/operator_history.json. The machine is shared: absolute times are load-dependent;
the shape (flat or growing with history) is the point.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.common import local_node, print_table, write_results  # noqa: E402
from offchain.rollup.hashing import keccak  # noqa: E402
from offchain.rollup.types import SignedTransfer  # noqa: E402
from offchain.rollup.wallet import (  # noqa: E402
    address_of,
    derive_key,
    sign_transfer,
)

#: The batcher service's module (`python -m ...`).
BATCHER_MODULE = "offchain.sequencer.service"
SIZES = (10, 50, 150)
TXS_PER_BATCH = 512
QUICK_SIZES = (3, 6, 12)
QUICK_TXS = 64
USERS = 64
IDLE_SECONDS = 5.0
BOND = 10**18
E17 = 10**17
READY_TIMEOUT = 1800.0


class Signers:
    """BLS-signed transfers (rollup format v2) round a ring of USERS accounts, each user's key
    derived from its L1 wallet for (chain, registry); every transfer is valid at its place in
    the sequence."""

    def __init__(self, dst: bytes, chain_id: int, registry: str, users: int = USERS) -> None:
        from eth_account import Account as EthAccount

        self.l1_keys = [keccak(b"bench user %d" % i) for i in range(users)]
        self.addresses = [address_of(k) for k in self.l1_keys]
        self.keys = [derive_key(EthAccount.from_key(k), chain_id, registry) for k in self.l1_keys]
        self.dst = dst
        self.nonces = [0] * users
        self.k = 0

    def transfers(self, n: int) -> list[SignedTransfer]:
        out = []
        users = len(self.keys)
        for _ in range(n):
            i = self.k % users
            j = (i + 1) % users
            self.k += 1
            nonce = self.nonces[i]
            self.nonces[i] = nonce + 1
            out.append(sign_transfer(self.keys[i], self.dst, i, j, 10**9, 0, nonce))
        return out


def _timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    t0 = time.perf_counter()
    value = fn()
    return time.perf_counter() - t0, value


def _batcher_run(rpc: str, deployments: Path, store: Path) -> tuple[float, float]:
    """Start the batcher service as a process on `store`; seconds to READY, then its CPU % of
    one core over IDLE_SECONDS; stopped with SIGTERM."""
    import psutil

    env = dict(os.environ, L2KIT_DEPLOYMENTS=str(deployments), PYTHONPATH=str(ROOT))
    cmd = [sys.executable, "-m", BATCHER_MODULE, "--network", "ethereum:local", "--rpc", rpc]
    cmd += ["--store", str(store), "--port", "0", "--progress-every", "0"]
    t0 = time.perf_counter()
    proc = subprocess.Popen(
        cmd, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True
    )
    try:
        assert proc.stdout is not None
        while True:
            line = proc.stdout.readline()
            if not line:
                raise RuntimeError(f"{BATCHER_MODULE} exited ({proc.wait()}) before READY")
            if line.startswith("READY"):
                break
            if time.perf_counter() - t0 > READY_TIMEOUT:
                raise RuntimeError(f"{BATCHER_MODULE} not READY in {READY_TIMEOUT} s")
        ready = time.perf_counter() - t0
        p = psutil.Process(proc.pid)
        p.cpu_percent(None)
        time.sleep(IDLE_SECONDS)
        cpu = p.cpu_percent(None)
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    return ready, cpu


def measure_history(
    sizes: Sequence[int] = SIZES, txs_per_batch: int = TXS_PER_BATCH
) -> dict[str, Any]:
    """Build the growing history on a fresh local node and measure at each size."""
    from ape import accounts, chain
    from eth_utils import to_checksum_address

    from offchain.deploy import DeployParams, deploy_all
    from offchain.deployments import save_deployment
    from offchain.rollup.honest_proposer import HonestProposer as Operator
    from offchain.rollup.l1 import RollupL1, Signer
    from offchain.rollup.validator import Validator
    from offchain.validator.service import ANVIL_KEY_1, ValidatorService

    out: dict[str, dict[str, float]] = {}
    with local_node(), tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        w3 = chain.provider.web3
        rpc = chain.provider.uri
        deployer = accounts.test_accounts[0]
        deployment = deploy_all(deployer, "ethereum:local", DeployParams(BOND, 3600))
        save_deployment(deployment, tmp)
        rollup, bridge = deployment.address("Rollup"), deployment.address("RollupBridge")
        l1 = RollupL1(w3, rollup, bridge)
        proposer = Signer(w3, bytes.fromhex(deployer.private_key.removeprefix("0x")))
        op = Operator(l1, proposer)
        registry = deployment.address("BLSKeyRegistry")
        users = Signers(l1.signing_dst(), int(w3.eth.chain_id), registry)
        last = None
        for addr, l1_key, bls_key in zip(users.addresses, users.l1_keys, users.keys, strict=True):
            # one deposit per user (accounts 0..USERS-1), gas money, then its BLS key
            proposer.send(l1.bridge.functions.depositETH(b"\x01" + bytes.fromhex(addr[2:])), 10**20)
            gas_money = {"from": proposer.address, "to": to_checksum_address(addr), "value": E17}
            w3.eth.wait_for_transaction_receipt(w3.eth.send_transaction(gas_money))  # type: ignore[arg-type]
            last = l1.register_key(Signer(w3, l1_key), bls_key)
        if last is not None:
            l1.wait_key_active(last, mine=True)
        op.step([])
        challenger = bytes.fromhex(ANVIL_KEY_1[2:])
        status = tmp / "validator-status.json"
        validator = ValidatorService(rpc, rollup, bridge, challenger, status_file=status)
        validator.step()
        store = tmp / "batcher.sqlite"
        built = 1
        for size in sorted(sizes):
            while built < size - 1:
                op.step(users.transfers(txs_per_batch))
                built += 1
                validator.step()  # keeps up, as a running validator does
            op.step(users.transfers(txs_per_batch))  # the new head
            built += 1
            head_s, _ = _timed(validator.step)
            genesis_s, _ = _timed(lambda: Validator(l1, proposer).inspect())
            fresh = ValidatorService(rpc, rollup, bridge, challenger, status_file=status)
            vrestart_s, _ = _timed(fresh.step)
            store.unlink(missing_ok=True)
            restart_genesis_s, _ = _batcher_run(rpc, tmp, store)  # fresh store: from genesis
            restart_s, idle = _batcher_run(rpc, tmp, store)  # its own store again
            out[str(size)] = {
                "batches": built,
                "validator_new_head_s": head_s,
                "validator_new_head_genesis_s": genesis_s,
                "validator_restart_s": vrestart_s,
                "restart_s": restart_s,
                "restart_genesis_s": restart_genesis_s,
                "idle_cpu_pct": idle,
            }
            print(f"history {size}: {out[str(size)]}", file=sys.stderr, flush=True)
    return {"history": out, "history_txs_per_batch": txs_per_batch, "batcher": BATCHER_MODULE}


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--quick", action="store_true", help="3, 6, 12 batches of 64 transfers")
    args = p.parse_args(argv)
    sizes, txs = (QUICK_SIZES, QUICK_TXS) if args.quick else (SIZES, TXS_PER_BATCH)
    figures = measure_history(sizes, txs)
    rows = [
        [
            size,
            f"{v['validator_new_head_s']:.3f}",
            f"{v['validator_new_head_genesis_s']:.3f}",
            f"{v['validator_restart_s']:.3f}",
            f"{v['restart_s']:.2f}",
            f"{v['restart_genesis_s']:.2f}",
            f"{v['idle_cpu_pct']:.1f}",
        ]
        for size, v in figures["history"].items()
    ]
    print_table(
        f"History cost ({txs} transfers per batch; shared, loaded machine)",
        [
            "batches",
            "validator new head s",
            "(from genesis) s",
            "validator restart s",
            "batcher restart s",
            "(fresh store) s",
            "batcher idle CPU %",
        ],
        rows,
    )
    write_results("operator_history", {**figures, "quick": args.quick})


if __name__ == "__main__":
    main()
