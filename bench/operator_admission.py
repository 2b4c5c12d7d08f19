"""In-process admission rate of the sequencer core (no HTTP, no node), rollup format v2: `prepare`
(field checks, the sender's key from the key book) and `admit_many` (the group's BLS signatures
checked at once with random coefficients, then the ledger checks and one durable SQLite write per
group), measured separately. Writes bench/results/operator_admission.json; its
`prepare_plus_admit_one_core_tx_per_s` is the issue's `operator_tx_per_s` (signature checks and
state updates, one core), copied into bench/results/rollup.json by bench/rollup.py.

    python -m bench.operator_admission [--txs 8000] [--group 256] [--accounts 1000]

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

from eth_utils import to_checksum_address

from bench.common import print_table, write_results
from offchain.bls import generate_secret_key, signing_dst
from offchain.bls.registry import KeyEntry, build
from offchain.rollup.types import Account
from offchain.rollup.wallet import sign_transfer
from offchain.sequencer.core import Sequencer
from offchain.sequencer.ledger import Ledger
from offchain.sequencer.optimistic_admission import LedgerAdmission
from offchain.sequencer.signing_keys import KeyBook
from offchain.sequencer.store import OperatorStore

DST = signing_dst(31337, "0x" + "11" * 20)
TOKEN = "0x" + "ee" * 20


class BenchBackend(LedgerAdmission):
    """The optimistic admission over a ledger of funded accounts; nothing posts."""

    mode = "optimistic"
    proposer = "0x" + "00" * 20

    def __init__(self, store: OperatorStore, accounts: dict[int, Account], keys: KeyBook) -> None:
        self.store = store
        self.dst = DST
        self.pending = Ledger.of(accounts, 0, 0)
        self.frozen = False
        self._keys = keys

    @property
    def key_book(self) -> KeyBook:
        return self._keys

    @property
    def fee_account(self) -> int:
        return 0

    def status_parts(self) -> dict:
        return {"l2": {}, "l1": {}, "finality": {}}


def bodies(n_txs: int, n_accounts: int) -> tuple[list[dict], dict[int, Account], KeyBook]:
    secrets = [generate_secret_key() for _ in range(n_accounts)]
    owners = [to_checksum_address(f"0x{i + 1:040x}") for i in range(n_accounts)]
    accounts = {i: Account(owners[i], TOKEN, 10**30, 0) for i in range(n_accounts)}
    book = KeyBook(
        build(KeyEntry(o, 0, 1, b"", k.public_key()) for o, k in zip(owners, secrets, strict=True)),
        10,
    )
    nonces = [0] * n_accounts
    out = []
    for t in range(n_txs):
        a, b = t % n_accounts, (t + 1) % n_accounts
        signed = sign_transfer(secrets[a], DST, a, b, 1000, 0, nonces[a])
        out.append(
            {
                "type": "transfer",
                "from": a,
                "to": b,
                "amount": "1000",
                "fee": "0",
                "nonce": nonces[a],
                "signature": "0x" + signed.signature.hex(),
            }
        )
        nonces[a] += 1
    return out, accounts, book


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--txs", type=int, default=8_000)
    p.add_argument("--accounts", type=int, default=1_000)
    p.add_argument("--group", type=int, default=256)
    args = p.parse_args()
    txs, accounts, book = bodies(args.txs, args.accounts)
    with tempfile.TemporaryDirectory() as tmp:
        store = OperatorStore(Path(tmp) / "bench.sqlite")
        backend = BenchBackend(store, accounts, book)
        seq = Sequencer(backend, threading.RLock(), 1.0)  # type: ignore[arg-type]
        seq.recovered()
        c0 = time.process_time()
        t0 = time.perf_counter()
        prepared = [seq.prepare(b) for b in txs]
        t_prepare = time.perf_counter() - t0
        t0 = time.perf_counter()
        accepted = 0
        for i in range(0, len(prepared), args.group):
            results = seq.admit_many(prepared[i : i + args.group])
            accepted += sum(1 for r in results if isinstance(r, dict))
        t_admit = time.perf_counter() - t0
        cpu = time.process_time() - c0
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
        # The same work per second of this process's CPU time: what one unshared core does
        # (the wall-clock figure above is lower whenever other processes share the core).
        "prepare_plus_admit_cpu_tx_per_s": round(len(txs) / cpu),
        "signatures": "BLS12-381 (blst), batched per group with random coefficients",
        "load_avg": os.getloadavg()[0],
    }
    print_table(
        "sequencer admission, in process (one core)",
        ["step", "tx/s"],
        [
            ["prepare (fields, key lookup, payload)", figures["prepare_tx_per_s"]],
            [
                f"admit_many, groups of {args.group} (batched BLS + ledger + 1 fsync)",
                figures["admit_tx_per_s"],
            ],
            ["both, one core (wall clock)", figures["prepare_plus_admit_one_core_tx_per_s"]],
            ["both, per CPU second of this process", figures["prepare_plus_admit_cpu_tx_per_s"]],
        ],
    )
    write_results("operator_admission", figures)


if __name__ == "__main__":
    main()
