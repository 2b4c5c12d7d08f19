"""In-process admission rate of the sequencer core (no HTTP, no node): `prepare` (decode, EIP-712
digest, ECDSA recovery) and `admit_many` (ledger checks + one durable SQLite write per group),
measured separately. Writes bench/results/operator_admission.json.

    python -m bench.operator_admission [--txs 20000] [--group 256]

The end-to-end HTTP figure is bench/operator.py's (the http helper's server); this one shows the
core is not the bottleneck. Timings on a loaded shared machine are low: see `load_avg`.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import threading
import time
from pathlib import Path

from coincurve import PrivateKey

from bench.common import print_table, write_results
from offchain.rollup.eip712 import HALF_N, SECP256K1_N, address_of, to_compact, transfer_digest
from offchain.rollup.types import Account
from offchain.sequencer.core import Sequencer
from offchain.sequencer.ledger import Ledger
from offchain.sequencer.optimistic_admission import LedgerAdmission
from offchain.sequencer.store import OperatorStore

SEP = b"\x11" * 32
TOKEN = "0x" + "ee" * 20


class BenchBackend(LedgerAdmission):
    """The optimistic admission over a ledger of funded accounts; nothing posts."""

    mode = "optimistic"
    proposer = "0x" + "00" * 20

    def __init__(self, store: OperatorStore, accounts: dict[int, Account]) -> None:
        self.store = store
        self.separator = SEP
        self.pending = Ledger.of(accounts, 0, 0)
        self.frozen = False

    @property
    def fee_account(self) -> int:
        return 0

    def status_parts(self) -> dict:
        return {"l2": {}, "l1": {}, "finality": {}}


def sign(key: PrivateKey, digest: bytes) -> bytes:
    sig = key.sign_recoverable(digest, hasher=None)
    r, s, v = int.from_bytes(sig[:32], "big"), int.from_bytes(sig[32:64], "big"), sig[64]
    if s > HALF_N:
        s, v = SECP256K1_N - s, v ^ 1
    return to_compact(r, s, v)


def bodies(n_txs: int, n_accounts: int) -> tuple[list[dict], dict[int, Account]]:
    keys = [PrivateKey(os.urandom(32)) for _ in range(n_accounts)]
    accounts = {i: Account(address_of(k.secret), TOKEN, 10**30, 0) for i, k in enumerate(keys)}
    nonces = [0] * n_accounts
    out = []
    for t in range(n_txs):
        a, b = t % n_accounts, (t + 1) % n_accounts
        digest = transfer_digest(SEP, a, b, 1000, 0, nonces[a])
        sig = sign(keys[a], digest)
        out.append(
            {
                "type": "transfer",
                "from": a,
                "to": b,
                "amount": "1000",
                "fee": "0",
                "nonce": nonces[a],
                "signature": "0x" + sig.hex(),
            }
        )
        nonces[a] += 1
    return out, accounts


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--txs", type=int, default=20_000)
    p.add_argument("--accounts", type=int, default=1_000)
    p.add_argument("--group", type=int, default=256)
    args = p.parse_args()
    txs, accounts = bodies(args.txs, args.accounts)
    with tempfile.TemporaryDirectory() as tmp:
        store = OperatorStore(Path(tmp) / "bench.sqlite")
        backend = BenchBackend(store, accounts)
        seq = Sequencer(backend, threading.RLock(), 1.0)  # type: ignore[arg-type]
        seq.recovered()
        t0 = time.perf_counter()
        prepared = [seq.prepare(b) for b in txs]
        t_prepare = time.perf_counter() - t0
        t0 = time.perf_counter()
        accepted = 0
        for i in range(0, len(prepared), args.group):
            results = seq.admit_many(prepared[i : i + args.group])
            accepted += sum(1 for r in results if isinstance(r, dict))
        t_admit = time.perf_counter() - t0
        store.close()
    if accepted != len(txs):
        raise SystemExit(f"only {accepted} of {len(txs)} admitted: benchmark bug")
    figures = {
        "txs": len(txs),
        "group": args.group,
        "prepare_tx_per_s": round(len(txs) / t_prepare),
        "admit_tx_per_s": round(len(txs) / t_admit),
        "admit_groups_per_s": round(len(txs) / args.group / t_admit, 1),
        "prepare_plus_admit_one_core_tx_per_s": round(len(txs) / (t_prepare + t_admit)),
        "load_avg": os.getloadavg()[0],
    }
    print_table(
        "sequencer admission, in process (one core)",
        ["step", "tx/s"],
        [
            ["prepare (decode, digest, ECDSA recovery)", figures["prepare_tx_per_s"]],
            [f"admit_many, groups of {args.group} (ledger + 1 fsync)", figures["admit_tx_per_s"]],
            ["both, one core", figures["prepare_plus_admit_one_core_tx_per_s"]],
        ],
    )
    write_results("operator_admission", figures)


if __name__ == "__main__":
    main()
