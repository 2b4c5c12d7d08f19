"""Operator HTTP intake benchmark: signed transfers per second end to end (request in -> fields
and signature checked -> durable in SQLite -> acknowledged) and acknowledgement latency, for
single (POST /tx) and batched (POST /txs) submission, with CPU per core.

The load generator is a separate process (raw asyncio sockets, keep-alive, every transaction
signed before the timed phase, several connections each owning its senders so nonces arrive in
order). The server side is the sequencer's HTTP front (offchain/sequencer/http_server.py) and
group-commit intake over `BenchAdmission`: the optimistic rollup's admission assembled from
offchain/rollup pieces (rollup format v2: 48-byte BLS signatures under keys derived from each
owner's L1 wallet, checked per group at once with random coefficients; nonce/balance/recipient
checks on a dict ledger, one SQLite commit per group: WAL, synchronous=FULL) -- or, with
`--target URL`, any running service (the integrated sequencer against Anvil; its users must
have registered the keys `bls_secrets` derives for LOCAL_CHAIN_ID and LOCAL_REGISTRY).

By default the server is the real sequencer service process against a local Anvil node (a
fresh deployment per run, one deposit per sender): request in -> verified -> durable ->
acknowledged, while it posts batches. `--admission core|local` measures the in-process front.

Run: `python bench/operator.py` (`--quick` for a short run). Writes bench/results/operator.json:
`http_tx_per_s`, `p50_ms`, `p99_ms` (batched submission, the fast path), `single.*`,
`batched.*`, `cpu_per_core_pct`, the linger comparison, and `history.*` from
`history_figures()` (bench/operator_history.py fills it in).
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing as mp
import os
import sqlite3
import sys
import tempfile
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import orjson  # noqa: E402
import psutil  # noqa: E402

from bench.common import local_node, print_table, write_results  # noqa: E402
from offchain.bls import PublicKey, SecretKey, signing_dst  # noqa: E402
from offchain.rollup.hashing import keccak  # noqa: E402
from offchain.rollup.params import MAX_ACCOUNTS, MAX_BALANCE, MAX_NONCE  # noqa: E402
from offchain.rollup.signatures import PendingSignature, find_bad_signatures  # noqa: E402
from offchain.rollup.types import SignedTransfer, Transfer  # noqa: E402
from offchain.rollup.wallet import (  # noqa: E402
    address_of,
    derive_key,
    sign_transfer,
)
from offchain.sequencer.core import Rejected  # noqa: E402
from offchain.sequencer.http_api import hex_field, int_field, str_field  # noqa: E402
from offchain.sequencer.payload import SIGNATURE_LEN, encode_payload, tx_id  # noqa: E402

#: The chain id and key-registry address the in-process modes derive their users' keys for,
#: and the BLS tag they sign under (bench/operator_admission.py's DST: same chain and rollup).
LOCAL_CHAIN_ID = 31337
LOCAL_REGISTRY = "0x" + "22" * 20
LOCAL_DST = signing_dst(LOCAL_CHAIN_ID, "0x" + "11" * 20)
START_BALANCE = 10**15


def bench_keys(n: int) -> list[bytes]:
    """The L1 (secp256k1) keys of the bench users: L2 account i is owned by key i."""
    return [keccak(b"bench key %d" % i) for i in range(n)]


def bls_secrets(keys: Sequence[bytes], chain_id: int, registry: str) -> list[SecretKey]:
    """Each user's BLS key, derived from its L1 wallet (offchain.rollup.wallet.derive_key)."""
    from eth_account import Account as EthAccount

    return [derive_key(EthAccount.from_key(k), chain_id, registry) for k in keys]


# -- the server side ----------


@dataclass(frozen=True)
class Prepared:
    tx: Transfer
    nonce: int
    payload: bytes
    tx_hash: bytes
    signature: bytes
    key: PublicKey


class BenchAdmission:
    """The optimistic admission from offchain/rollup pieces, over a dict ledger and SQLite."""

    def __init__(
        self, owners: Sequence[str], public_keys: Sequence[PublicKey], db_path: Path
    ) -> None:
        self.owner = list(owners)
        self.keys = list(public_keys)
        self.balance = [START_BALANCE] * len(owners)
        self.nonce = [0] * len(owners)
        self.hashes: set[bytes] = set()
        self.db = sqlite3.connect(str(db_path), check_same_thread=False, isolation_level=None)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=FULL")
        self.db.execute(
            "CREATE TABLE txs (seq INTEGER PRIMARY KEY, tx_hash BLOB UNIQUE, kind TEXT, "
            "payload BLOB, received_at REAL)"
        )
        self.fsyncs = 0

    def prepare(self, body: Mapping[str, Any]) -> Prepared:
        fields = dict(body)
        str_field(fields, "type", ("transfer",))
        sender = int_field(fields, "from", 0, MAX_ACCOUNTS - 1)
        to = int_field(fields, "to", 0, MAX_ACCOUNTS - 1)
        amount = int_field(fields, "amount", 1, MAX_BALANCE)
        fee = int_field(fields, "fee", 0, MAX_BALANCE)
        nonce = int_field(fields, "nonce", 0, MAX_NONCE)
        signature = hex_field(fields, "signature", SIGNATURE_LEN)
        if sender >= len(self.keys):
            raise Rejected("unknown_account", "no such account")
        tx = Transfer(sender, to, amount, fee)
        payload = encode_payload(tx, nonce, signature)
        return Prepared(tx, nonce, payload, tx_id(tx, nonce), signature, self.keys[sender])

    def admit_many(self, prepared: Sequence[Prepared]) -> list[Any]:
        out: list[Any] = []
        balance: dict[int, int] = {}
        nonce: dict[int, int] = {}
        fresh: set[bytes] = set()
        rows = []
        now = time.time()
        pending = [
            PendingSignature(SignedTransfer(p.tx, p.signature), p.nonce, p.key) for p in prepared
        ]
        bad = set(find_bad_signatures(pending, LOCAL_DST))  # the whole group at once
        for i, p in enumerate(prepared):
            t = p.tx
            if p.tx_hash in self.hashes or p.tx_hash in fresh:
                out.append(Rejected("duplicate", "accepted before"))
                continue
            if t.sender >= len(self.owner) or t.recipient >= len(self.owner):
                out.append(Rejected("unknown_account", "no such account"))
                continue
            if i in bad:
                out.append(Rejected("bad_signature", "not the owner's BLS signature"))
                continue
            n = nonce.get(t.sender, self.nonce[t.sender])
            if p.nonce != n:
                out.append(Rejected("bad_nonce", f"expected nonce {n}"))
                continue
            b = balance.get(t.sender, self.balance[t.sender])
            if b < t.amount + t.fee:
                out.append(Rejected("insufficient_balance", "balance too low"))
                continue
            balance[t.sender] = b - t.amount - t.fee
            balance[t.recipient] = balance.get(t.recipient, self.balance[t.recipient]) + t.amount
            nonce[t.sender] = n + 1
            fresh.add(p.tx_hash)
            rows.append((p.tx_hash, "transfer", p.payload, now))
            out.append(p)
        if rows:
            self.db.execute("BEGIN IMMEDIATE")
            cur = self.db.execute("SELECT COALESCE(MAX(seq), 0) FROM txs")
            first = int(cur.fetchone()[0]) + 1
            self.db.executemany(
                "INSERT INTO txs (tx_hash, kind, payload, received_at) VALUES (?, ?, ?, ?)", rows
            )
            self.db.execute("COMMIT")  # one fsync for the whole group
            self.fsyncs += 1
        else:
            first = 0
        for k, v in balance.items():
            self.balance[k] = v
        for k, v in nonce.items():
            self.nonce[k] = v
        self.hashes |= fresh
        answers: list[Any] = []
        seq = first
        for item in out:
            if isinstance(item, Prepared):
                answers.append(
                    {"tx_hash": "0x" + item.tx_hash.hex(), "seq": seq, "status": "pending"}
                )
                seq += 1
            else:
                answers.append(item)
        return answers


class NullAdmission:
    """Accepts everything without checks or storage: isolates the HTTP front and intake cost."""

    def prepare(self, body: Mapping[str, Any]) -> Mapping[str, Any]:
        return body

    def admit_many(self, prepared: Sequence[Any]) -> list[Any]:
        return [{"status": "pending"} for _ in prepared]


class LocalService:
    """The HTTP front + intake over a BenchAdmission, in this process."""

    def __init__(
        self,
        owners: Sequence[str],
        public_keys: Sequence[PublicKey],
        workdir: Path,
        linger: float,
        null: bool = False,
        core: bool = False,
    ) -> None:
        from prometheus_client import CollectorRegistry

        from offchain.sequencer.http_server import HttpFront, HttpLimits, HttpServer
        from offchain.sequencer.intake import Intake, IntakeLimits

        db = workdir / f"bench-{time.monotonic_ns()}.sqlite"
        self.core_store: Any = None
        self.admission: Any
        if core:  # the sequencer core's own optimistic admission and store (issue #10 core)
            self.admission, self.core_store = _core_sequencer(owners, public_keys, db)
        else:
            self.admission = BenchAdmission(owners, public_keys, db)
        self.registry = CollectorRegistry(auto_describe=False)
        holder: list[HttpFront] = []
        self.groups: list[int] = []

        def on_group(n: int, s: float) -> None:
            self.groups.append(n)
            holder[0].on_group(n, s)

        admission: Any = NullAdmission() if null else self.admission
        self.intake = Intake(admission, IntakeLimits(linger=linger), on_group=on_group)
        front = HttpFront([], self.intake, None, self.registry, HttpLimits(max_body=4 << 20))
        holder.append(front)
        self.intake.start()
        self.server = HttpServer(front)
        self.server.start()
        self.url = self.server.url

    def stop(self) -> None:
        self.server.stop()
        self.intake.stop()
        if self.core_store is not None:
            self.core_store.close()
        else:
            self.admission.db.close()


def core_available() -> bool:
    """Whether the sequencer core (offchain/sequencer/core.py) and its bench backend are here."""
    try:
        import bench.operator_admission  # noqa: F401
        import offchain.sequencer.core  # noqa: F401
    except ImportError:
        return False
    return True


def _core_sequencer(
    owners: Sequence[str], public_keys: Sequence[PublicKey], db: Path
) -> tuple[Any, Any]:
    import threading as _threading

    from bench.operator_admission import TOKEN, BenchBackend
    from offchain.bls.registry import KeyEntry, build
    from offchain.rollup.types import Account
    from offchain.sequencer.core import Sequencer
    from offchain.sequencer.signing_keys import KeyBook
    from offchain.sequencer.store import OperatorStore

    store = OperatorStore(db)
    accounts = {i: Account(o, TOKEN, START_BALANCE, 0) for i, o in enumerate(owners)}
    entries = (KeyEntry(o, 0, 1, b"", k) for o, k in zip(owners, public_keys, strict=True))
    book = KeyBook(build(entries), 10)  # every key in effect (from block 1, head 10)
    seq = Sequencer(BenchBackend(store, accounts, book), _threading.RLock(), 1.0)
    seq.recovered()
    return seq, store


def signing_tag(core: bool) -> bytes:
    """The BLS tag of the in-process modes (both the same chain and rollup)."""
    if core:
        from bench.operator_admission import DST

        return bytes(DST)
    return LOCAL_DST


# -- the load generator (a separate process) ----------


def _requests(
    keys: Sequence[SecretKey],
    senders: Sequence[int],
    n: int,
    batch: int,
    host: str,
    dst: bytes = LOCAL_DST,
) -> list[bytes]:
    """`n` BLS-signed transfers from `senders` (round robin, nonces in order), as raw requests."""
    nonces = dict.fromkeys(senders, 0)
    bodies = []
    count = len(keys)
    for i in range(n):
        s = senders[i % len(senders)]
        to = (s + 1) % count
        sig = sign_transfer(keys[s], dst, s, to, 1000, 0, nonces[s]).signature
        bodies.append(
            {
                "type": "transfer",
                "from": s,
                "to": to,
                "amount": "1000",
                "fee": "0",
                "nonce": nonces[s],
                "signature": "0x" + sig.hex(),
            }
        )
        nonces[s] += 1
    out = []
    if batch:
        for i in range(0, len(bodies), batch):
            out.append(_raw(host, "/txs", orjson.dumps({"txs": bodies[i : i + batch]})))
    else:
        out = [_raw(host, "/tx", orjson.dumps(b)) for b in bodies]
    return out


def _raw(host: str, path: str, body: bytes) -> bytes:
    head = (
        f"POST {path} HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    )
    return head.encode() + body


async def _drive(url: str, per_conn: list[list[bytes]], go: Any) -> dict[str, Any]:
    host, port = url.removeprefix("http://").split(":")
    conns = [await asyncio.open_connection(host, int(port)) for _ in per_conn]
    latencies: list[float] = []
    errors = 0
    bad_status = 0

    async def run(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, reqs: list[bytes]):
        nonlocal errors, bad_status
        for req in reqs:
            t0 = time.perf_counter()
            writer.write(req)
            head = await reader.readuntil(b"\r\n\r\n")
            length = int(head.split(b"Content-Length: ", 1)[1].split(b"\r\n", 1)[0])
            body = await reader.readexactly(length)
            latencies.append(time.perf_counter() - t0)
            if not head.startswith(b"HTTP/1.1 200"):
                bad_status += 1
            errors += body.count(b'"error"')
        writer.close()

    go.wait()
    started = time.perf_counter()
    cpu0 = time.process_time()
    await asyncio.gather(*(run(r, w, q) for (r, w), q in zip(conns, per_conn, strict=True)))
    elapsed = time.perf_counter() - started
    return {
        "elapsed": elapsed,
        "latencies": latencies,
        "errors": errors,
        "bad_status": bad_status,
        "generator_cpu_s": time.process_time() - cpu0,
    }


def _generator(
    url: str, secrets: list[int], n: int, batch: int, conns: int, dst: bytes, pipe: Any, go: Any
) -> None:
    keys = [SecretKey(v) for v in secrets]  # plain ints across the process boundary
    senders = [list(range(c, len(keys), conns)) for c in range(conns)]
    host = url.removeprefix("http://")
    per_conn = [_requests(keys, s, n // conns, batch, host, dst) for s in senders]
    pipe.send("signed")
    pipe.send(asyncio.run(_drive(url, per_conn, go)))


# -- one run ----------


def _pct(sorted_values: Sequence[float], q: float) -> float:
    if not sorted_values:
        return float("nan")
    return sorted_values[min(len(sorted_values) - 1, int(q * len(sorted_values)))]


def run_once(
    n: int,
    batch: int,
    conns: int,
    linger: float,
    target: str | None,
    workdir: Path,
    null: bool = False,
    core: bool = False,
    dst: bytes | None = None,
    secrets: Sequence[SecretKey] | None = None,
    server_pid: int | None = None,
) -> dict[str, Any]:
    """One timed run. `dst` and `secrets` (the users' BLS keys) default to the in-process
    modes' (LOCAL_DST, keys derived for LOCAL_CHAIN_ID and LOCAL_REGISTRY)."""
    accounts = max(conns * 4, 64)
    keys = bench_keys(accounts)
    owners = [address_of(k) for k in keys]
    if secrets is None:
        secrets = bls_secrets(keys, LOCAL_CHAIN_ID, LOCAL_REGISTRY)
    if len(secrets) < accounts:
        raise ValueError(f"{len(secrets)} BLS keys for {accounts} bench accounts")
    secrets = list(secrets)[:accounts]
    public = [k.public_key() for k in secrets]
    service = None if target else LocalService(owners, public, workdir, linger, null, core)
    url = target or (service.url if service else "")
    ctx = mp.get_context("spawn")
    parent, child = ctx.Pipe()
    go = ctx.Event()
    dst = dst if dst is not None else signing_tag(core)
    values = [k.value for k in secrets]
    proc = ctx.Process(target=_generator, args=(url, values, n, batch, conns, dst, child, go))
    proc.start()
    try:
        assert parent.recv() == "signed"
        gen = psutil.Process(proc.pid)
        me = psutil.Process(server_pid)  # the server: this process, or the service's
        psutil.cpu_percent(percpu=True)
        gen_cpu0 = sum(gen.cpu_times()[:2])
        me_cpu0 = sum(me.cpu_times()[:2])
        go.set()
        out = parent.recv()
        per_core = psutil.cpu_percent(percpu=True)
        server_cpu = sum(me.cpu_times()[:2]) - me_cpu0
        gen_cpu = sum(gen.cpu_times()[:2]) - gen_cpu0 if gen.is_running() else None
    finally:
        proc.join(30)
        if service is not None:
            groups = list(service.groups)
            service.stop()
        else:
            groups = []
    lat = sorted(out["latencies"])
    sent = len(lat) * (batch or 1)
    accepted = sent - out["errors"]
    if accepted != sent or out["bad_status"]:
        print(f"warning: {sent - accepted} of {sent} refused, {out['bad_status']} non-200 answers")
    elapsed = out["elapsed"]
    return {
        "txs": sent,
        "accepted": accepted,
        "refused": out["errors"],
        "non_200": out["bad_status"],
        "seconds": round(elapsed, 3),
        "tx_per_s": round(accepted / elapsed, 1),
        "requests_per_s": round(len(lat) / elapsed, 1),
        "p50_ms": round(_pct(lat, 0.50) * 1000, 2),
        "p99_ms": round(_pct(lat, 0.99) * 1000, 2),
        "max_ms": round(lat[-1] * 1000, 2) if lat else None,
        "connections": conns,
        "batch": batch or 1,
        "linger_ms": linger * 1000,
        "groups": len(groups),
        "mean_group": round(sum(groups) / len(groups), 1) if groups else None,
        "cpu_per_core_pct": per_core,
        "server_cpu_s": round(server_cpu, 2),
        "server_cpu_us_per_tx": round(server_cpu / max(sent, 1) * 1e6, 1),
        "generator_cpu_s": round(gen_cpu, 2) if gen_cpu is not None else None,
    }


def stage_costs(n: int = 3000) -> dict[str, float]:
    """Microseconds per transaction of each stage, in this process (one thread): where the
    time goes."""
    keys = bench_keys(8)
    owners = [address_of(k) for k in keys]
    secrets = bls_secrets(keys, LOCAL_CHAIN_ID, LOCAL_REGISTRY)
    host = "x"
    reqs = _requests(secrets, list(range(8)), n, 0, host)
    bodies = [orjson.loads(r.split(b"\r\n\r\n", 1)[1]) for r in reqs]
    with tempfile.TemporaryDirectory() as d:
        adm = BenchAdmission(owners, [k.public_key() for k in secrets], Path(d) / "s.sqlite")
        t0 = time.perf_counter()
        for r in reqs:
            orjson.loads(r.split(b"\r\n\r\n", 1)[1])
        t1 = time.perf_counter()
        prepared = [adm.prepare(b) for b in bodies]
        t2 = time.perf_counter()
        for i in range(0, n, 256):
            adm.admit_many(prepared[i : i + 256])
        t3 = time.perf_counter()
        pending = [
            PendingSignature(SignedTransfer(p.tx, p.signature), p.nonce, p.key) for p in prepared
        ]
        t4 = time.perf_counter()
        for i in range(0, n, 256):
            find_bad_signatures(pending[i : i + 256], LOCAL_DST)
        t5 = time.perf_counter()
        adm.db.close()
    us = 1e6 / n
    return {
        "json_parse_us": round((t1 - t0) * us, 1),
        "prepare_us": round((t2 - t1) * us, 1),
        "admit_and_commit_256_us": round((t3 - t2) * us, 1),
        "of_which_bls_batch_verify_256_us": round((t5 - t4) * us, 1),
    }


def history_figures(quick: bool = False) -> dict[str, Any]:
    """`history.<batches>.<figure>` from bench/operator_history.py's `measure_history()`: the
    validator's new-head check, the batcher's restart and idle CPU at each history size."""
    from bench.operator_history import QUICK_SIZES, QUICK_TXS, SIZES, TXS_PER_BATCH, measure_history

    sizes, txs = (QUICK_SIZES, QUICK_TXS) if quick else (SIZES, TXS_PER_BATCH)
    measured = measure_history(sizes, txs)
    out: dict[str, Any] = {"history_txs_per_batch": measured["history_txs_per_batch"]}
    for size, figures in measured["history"].items():
        for key, value in figures.items():
            out[f"history.{size}.{key}"] = round(value, 4) if isinstance(value, float) else value
    return out


# -- the real service end to end (the default) ----------

SERVICE_BOND = 10**18


class ServiceUnderTest:
    """A fresh rollup deployment on the connected local node, one deposit per bench key (L2
    accounts 0..n-1 in order), each owner's derived BLS key registered and in effect, and the
    sequencer service (`python -m offchain.sequencer.service`)
    as its own process on it: what an operator runs."""

    def __init__(self, accounts_n: int, workdir: Path, extra: Sequence[str] = ()) -> None:
        import subprocess

        from ape import accounts, chain
        from eth_utils import to_checksum_address

        from offchain.deploy import DeployParams, deploy_all
        from offchain.deployments import save_deployment
        from offchain.rollup.l1 import RollupL1, Signer

        deployer = accounts.test_accounts[0]
        deployment = deploy_all(deployer, "ethereum:local", DeployParams(SERVICE_BOND, 3600))
        home = Path(tempfile.mkdtemp(dir=workdir))
        save_deployment(deployment, home)
        w3 = chain.provider.web3
        l1 = RollupL1(w3, deployment.address("Rollup"), deployment.address("RollupBridge"))
        self.dst = l1.signing_dst()
        payer = Signer(w3, bytes.fromhex(deployer.private_key.removeprefix("0x")))
        keys = bench_keys(accounts_n)
        registry = deployment.address("BLSKeyRegistry")
        self.secrets = bls_secrets(keys, int(w3.eth.chain_id), registry)
        last = None
        for key, secret in zip(keys, self.secrets, strict=True):
            owner = address_of(key)
            payer.send(l1.bridge.functions.depositETH(b"\x01" + bytes.fromhex(owner[2:])), 10**18)
            gas_money = {"from": payer.address, "to": to_checksum_address(owner), "value": 10**17}
            w3.eth.wait_for_transaction_receipt(w3.eth.send_transaction(gas_money))  # type: ignore[arg-type]
            last = l1.register_key(Signer(w3, key), secret)
        if last is not None:
            l1.wait_key_active(last, mine=True)  # every key in effect before the service starts
        env = dict(
            os.environ,
            L2KIT_DEPLOYMENTS=str(home),
            L2KIT_PROPOSER_KEY=deployer.private_key,
            PYTHONPATH=str(ROOT),
        )
        cmd = [sys.executable, "-m", "offchain.sequencer.service", "--rpc", chain.provider.uri]
        cmd += ["--store", str(home / "batcher.sqlite"), "--port", "0", "--progress-every", "0"]
        cmd += [*extra]
        self.proc = subprocess.Popen(
            cmd, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True
        )
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        if not line.startswith("READY "):
            self.stop()
            raise RuntimeError(f"the sequencer service did not start ({self.proc.returncode})")
        self.url = line.split()[1]
        self._wait_account(accounts_n - 1)

    def _wait_account(self, index: int, timeout: float = 120.0) -> None:
        import urllib.error
        import urllib.request

        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"{self.url}/account/{index}", timeout=10):
                    return
            except urllib.error.URLError:
                time.sleep(0.2)
        raise RuntimeError(f"the service never saw the deposit of account {index}")

    def stop(self) -> None:
        import subprocess

        self.proc.terminate()
        try:
            self.proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


def service_runs(runs: Sequence[tuple[int, int, int]], workdir: Path) -> list[dict[str, Any]]:
    """`run_once` against the real service on a local Anvil node, for each (txs, batch,
    connections); a fresh deployment and service per run (every run starts at nonce 0)."""
    out = []
    with local_node():
        for n, batch, conns in runs:
            service = ServiceUnderTest(max(conns * 4, 64), workdir)
            try:
                out.append(
                    run_once(
                        n,
                        batch,
                        conns,
                        0.0,
                        service.url,
                        workdir,
                        dst=service.dst,
                        secrets=service.secrets,
                        server_pid=service.proc.pid,
                    )
                )
            finally:
                service.stop()
    return out


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--quick", action="store_true", help="short runs (a smoke test)")
    p.add_argument("--target", help="drive a running service at this URL instead")
    p.add_argument("--connections", type=int, default=32)
    p.add_argument("--batch", type=int, default=64, help="txs per POST /txs")
    p.add_argument(
        "--batch-connections",
        type=int,
        default=4,
        help="connections for batched submission (txs in flight = batch x connections)",
    )
    p.add_argument("--no-history", action="store_true", help="skip history_figures()")
    p.add_argument(
        "--admission",
        choices=("service", "core", "local"),
        default="service",
        help="service (default): the real sequencer service process against a local Anvil node, "
        "end to end; core: the in-process front over the core's Sequencer + optimistic "
        "admission + OperatorStore; local: BenchAdmission (this file)",
    )
    args = p.parse_args(argv)
    service = args.admission == "service" and not args.target
    core = args.admission == "core"
    singles_n = 4_000 if args.quick else 20_000
    batched_n = 16_384 if args.quick else 98_304
    load = os.getloadavg()
    with tempfile.TemporaryDirectory() as d:
        work = Path(d)
        lingers = {}
        if service:
            single, batched = service_runs(
                [
                    (singles_n, 0, args.connections),
                    (batched_n, args.batch, args.batch_connections),
                ],
                work,
            )
        else:
            single = run_once(singles_n, 0, args.connections, 0.0, args.target, work, core=core)
            batched = run_once(
                batched_n, args.batch, args.batch_connections, 0.0, args.target, work, core=core
            )
        if not args.target and not service:
            lingers["single_linger_1ms"] = run_once(
                singles_n, 0, args.connections, 0.001, None, work, core=core
            )
            lingers["single_http_only"] = run_once(
                singles_n, 0, args.connections, 0.0, None, work, null=True
            )
    costs = stage_costs()
    rows = [
        (
            name,
            r["tx_per_s"],
            r["p50_ms"],
            r["p99_ms"],
            r["batch"],
            r["connections"],
            r["mean_group"],
            r["server_cpu_us_per_tx"],
        )
        for name, r in [("single POST /tx", single), ("batched POST /txs", batched)]
        + [(k, v) for k, v in lingers.items()]
    ]
    print_table(
        "Operator HTTP intake (signed transfers, durable before the answer)",
        (
            "submission",
            "tx/s",
            "p50 ms",
            "p99 ms",
            "txs/request",
            "connections",
            "mean group",
            "server CPU us/tx",
        ),
        rows,
    )
    print_table("Where the time goes (one thread, us per tx)", ("stage", "us"), list(costs.items()))
    figures: dict[str, Any] = {
        "http_tx_per_s": batched["tx_per_s"],
        "p50_ms": batched["p50_ms"],
        "p99_ms": batched["p99_ms"],
        "headline": "batched submission (POST /txs); single-submission figures under 'single'",
        "single": single,
        "batched": batched,
        **lingers,
        "cpu_per_core_pct": {
            "single": single["cpu_per_core_pct"],
            "batched": batched["cpu_per_core_pct"],
        },
        "stage_costs_us": costs,
        "cores": os.cpu_count(),
        "load_average_before": [round(x, 2) for x in load],
        "target": args.target
        or (
            "the sequencer service process (python -m offchain.sequencer.service, optimistic) "
            "against a local Anvil node: aiohttp front, group commit, SQLite store, posting"
            if service
            else None
        )
        or (
            "in-process HTTP front + the core's Sequencer (optimistic LedgerAdmission, "
            "OperatorStore.append_txs)"
            if core
            else "in-process HTTP front + BenchAdmission (SQLite, FULL sync)"
        ),
        "note": "measured on a shared 2-core machine loaded by other work: figures are low",
    }
    if not args.no_history:
        figures.update(history_figures(args.quick))
    figures["quick"] = args.quick
    write_results("operator", figures)
    return 0


if __name__ == "__main__":
    sys.exit(main())
