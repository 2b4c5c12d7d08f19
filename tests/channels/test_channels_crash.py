"""Routed payments A -> B -> C -> D with B, C, D each in its own OS process (offchain.channels.
runner), SIGKILLed at a chosen protocol point (L2KIT_FAILPOINT) and restarted from its database.

Every payment must end completed or refunded, with every party's funds conserved net of fees,
both sides of every channel agreeing, no lock left, and no channel closed on chain (recovery is
off chain when the peers come back). A, the payer, runs in the test process; the locks expire
15-35 s after the payment starts (far enough for a slow restart on a loaded machine, near enough
that an outcome that needed expiry would show up within the wait).
"""

from __future__ import annotations

import asyncio
import json
import os
import socket
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from channels_helpers import Clock

from offchain.channels.machine import ChannelView, view_from_json
from offchain.channels.model import hx

pytestmark = pytest.mark.slow  # kills and restarts channel node processes

E = 10**18
BASE_FEE, FEE_PPM = 10, 1000
FAST = {
    "hop_delta": 10,
    "final_margin": 5,
    "request_timeout": 1.5,
    "lock_timer": 0.1,
    "chain_poll": 0.05,
}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def read_views(db: Path) -> dict[bytes, ChannelView]:
    """A node's channel views, read from its database while the node may be running."""
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5)
    try:
        rows = con.execute("SELECT view FROM channels").fetchall()
    finally:
        con.close()
    views = [view_from_json(json.loads(r[0])) for r in rows]
    return {v.channel_id: v for v in views}


class Proc:
    """One node process: its config file, database and the running process."""

    def __init__(self, name: str, account, tmp: Path, cfg: dict) -> None:
        self.name, self.account, self.tmp = name, account, tmp
        self.address = account.address
        self.db = tmp / f"{name}.db"
        self.cfg_path = tmp / f"{name}.json"
        self.cfg = {**cfg, "db": str(self.db)}
        self.cfg_path.write_text(json.dumps(self.cfg))
        self.proc: subprocess.Popen | None = None

    def start(self, failpoint: str | None = None) -> None:
        env = {**os.environ, "L2KIT_NODE_KEY": self.account.private_key}
        env.pop("L2KIT_FAILPOINT", None)
        if failpoint:
            env["L2KIT_FAILPOINT"] = failpoint
        self.log = open(self.tmp / f"{self.name}.log", "a")  # noqa: SIM115 - closed in stop()
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "offchain.channels.runner", "--config", str(self.cfg_path)],
            env=env,
            stdout=subprocess.PIPE,
            stderr=self.log,
            text=True,
        )

    async def ready(self) -> None:
        assert self.proc is not None and self.proc.stdout is not None
        line = await asyncio.wait_for(asyncio.to_thread(self.proc.stdout.readline), 30)
        assert line.startswith("node "), f"{self.name} did not start: {line!r}"

    def killed(self) -> bool:
        return self.proc is not None and self.proc.poll() == -9

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        if getattr(self, "log", None):
            self.log.close()

    def views(self) -> dict[bytes, ChannelView]:
        return read_views(self.db)


async def wait_until(cond, timeout: float, what: str) -> None:
    loop = asyncio.get_running_loop()
    end = loop.time() + timeout
    while not cond():
        if loop.time() > end:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.05)


# (node killed, protocol point). B and C are the intermediaries, D the payee.
KILLS = [
    ("b", "lock_accepted"),
    ("b", "lock_forwarded"),
    ("b", "claim_saved"),
    ("b", "secret_returned"),
    ("b", "claim_sent"),
    ("c", "lock_accepted"),
    ("c", "lock_forwarded"),
    ("c", "claim_saved"),
    ("c", "secret_returned"),
    ("c", "claim_sent"),
    ("d", "lock_accepted"),
    ("d", "claim_sent"),
]


@pytest.mark.parametrize(("victim", "point"), KILLS, ids=[f"{v}-{p}" for v, p in KILLS])
def test_crash_routed_payment_ends_completed_or_refunded(
    net, adjudicator, alice, bob, carol, dave, tmp_path, victim, point
):
    w3 = net.chain.provider.web3
    w3.provider.make_request("evm_mine", [])
    net.clock = Clock(net.chain)  # chain-aligned, from a fresh block
    abi_file = str(Path(".build/__local__.json").resolve())
    ports = {n: free_port() for n in "abcd"}
    addrs = {"a": alice.address, "b": bob.address, "c": carol.address, "d": dave.address}
    fees = {"base_fee": BASE_FEE, "fee_ppm": FEE_PPM}

    def cfg(name: str, opens: list[str], node: dict) -> dict:
        return {
            "rpc": net.url,
            "adjudicator": adjudicator.address,
            "abi_file": abi_file,
            "port": ports[name],
            "clock_skew": net.clock.skew,
            "peers": {addrs[n]: ["127.0.0.1", ports[n]] for n in "abcd" if n != name},
            "open": [{"peer": addrs[n], "amount": 5 * E} for n in opens],
            "node": {**FAST, **node},
        }

    procs = {
        "d": Proc("d", dave, tmp_path, cfg("d", [], {})),
        "c": Proc("c", carol, tmp_path, cfg("c", ["d"], fees)),
        "b": Proc("b", bob, tmp_path, cfg("b", ["c"], fees)),
    }
    amount = E // 10
    fee_c = BASE_FEE + amount * FEE_PPM // 10**6
    fee_b = BASE_FEE + (amount + fee_c) * FEE_PPM // 10**6

    async def run():
        for name in ("d", "c", "b"):
            procs[name].start(f"channels.{point}" if name == victim else None)
            await procs[name].ready()
        a = await net.node(alice, "a", port=ports["a"], **FAST)
        for n in "bcd":
            a.add_peer(addrs[n], "127.0.0.1", ports[n])
        try:
            ab = await a.open_channel(addrs["b"], 5 * E)
            bc = next(iter(procs["b"].views().keys() - {ab}))
            (cd,) = procs["d"].views().keys()
            # D's invoice: the payee process made no invoice, so the test writes one into its
            # database the way Node.create_invoice does (a secret and the amount asked)
            h = make_invoice(procs["d"].db, amount)
            from offchain.channels.router import Edge

            edges = [
                Edge(addrs["a"], addrs["b"], 5 * E, 0, 0),
                Edge(addrs["b"], addrs["c"], 5 * E, BASE_FEE, FEE_PPM),
                Edge(addrs["c"], addrs["d"], 5 * E, BASE_FEE, FEE_PPM),
            ]
            await a.pay(addrs["d"], amount, h, edges, timeout=2)
            await wait_until(procs[victim].killed, 15, f"{victim} to die at {point}")
            procs[victim].start()  # back from its database, no failpoint
            await procs[victim].ready()
            ids = {"ab": ab, "bc": bc, "cd": cd}

            def settled() -> bool:
                va = a.views[ab]
                vb, vc, vd = (procs[n].views() for n in "bcd")
                pairs = [(va, vb[ab]), (vb[bc], vc[bc]), (vc[cd], vd[cd])]
                return all(
                    x.latest.state == y.latest.state
                    and not x.latest.state.locks
                    and x.pending is None
                    and y.pending is None
                    for x, y in pairs
                )

            await wait_until(settled, 60, "every channel to agree with no lock left")
            return ids, a.views[ab], {n: procs[n].views() for n in "bcd"}
        finally:
            await net.stop_all()
            for p in procs.values():
                p.stop()

    ids, va, views = asyncio.run(run())
    ab, bc, cd = ids["ab"], ids["bc"], ids["cd"]
    bal = {
        "a": va.latest.state.balance_a,
        "b_in": views["b"][ab].latest.state.balance_b,
        "b_out": views["b"][bc].latest.state.balance_a,
        "c_in": views["c"][bc].latest.state.balance_b,
        "c_out": views["c"][cd].latest.state.balance_a,
        "d": views["d"][cd].latest.state.balance_b,
    }
    completed = {
        "a": 5 * E - amount - fee_c - fee_b,
        "b_in": amount + fee_c + fee_b,
        "b_out": 5 * E - amount - fee_c,
        "c_in": amount + fee_c,
        "c_out": 5 * E - amount,
        "d": amount,
    }
    refunded = {"a": 5 * E, "b_in": 0, "b_out": 5 * E, "c_in": 0, "c_out": 5 * E, "d": 0}
    assert bal in (completed, refunded), bal
    if point in ("lock_forwarded", "claim_saved", "secret_returned", "claim_sent") or victim == "d":
        assert bal == completed  # the secret was out: only completion conserves funds
    for cid in (ab, bc, cd):
        assert adjudicator.getChannel(cid).status == 1, f"{hx(cid)} was closed on chain"


def make_invoice(db: Path, amount: int) -> bytes:
    from eth_utils import keccak

    secret = os.urandom(32)
    h = keccak(secret)
    con = sqlite3.connect(str(db), timeout=5, isolation_level=None)
    try:
        con.execute("INSERT INTO secrets (hashlock, secret) VALUES (?, ?)", (hx(h), hx(secret)))
        con.execute("INSERT INTO kv (k, v) VALUES (?, ?)", ("invoice:" + hx(h), str(amount)))
    finally:
        con.close()
    return h


# (failpoint, n-th hit): B killed while it receives A's updates (its state co-signed and on
# disk, the ack not sent) or while its own updates are acknowledged (A's co-signature on disk)
PIPELINE_KILLS = [("update_saved", 6), ("ack_saved", 6)]


@pytest.mark.parametrize(("point", "nth"), PIPELINE_KILLS, ids=[p for p, _ in PIPELINE_KILLS])
def test_crash_concurrent_batched_payments_both_ways_every_ack_recoverable(
    net, adjudicator, alice, bob, tmp_path, point, nth
):
    """A (in the test) and B (a process) pay each other at once, many payments in flight each
    way (batched into updates); B is SIGKILLed mid-stream. Every state B acknowledged is on B's
    disk at the moment it dies; after B's restart both sides agree, funds are conserved, and
    every payment whose payer saw it succeed is in the final state."""
    w3 = net.chain.provider.web3
    w3.provider.make_request("evm_mine", [])
    net.clock = Clock(net.chain)
    abi_file = str(Path(".build/__local__.json").resolve())
    ports = {"a": free_port(), "b": free_port()}
    to_a, to_b = 1, 1000  # B pays A 1 wei per payment, A pays B 1000: counts can be read back
    cfg = {
        "rpc": net.url,
        "adjudicator": adjudicator.address,
        "abi_file": abi_file,
        "port": ports["b"],
        "clock_skew": net.clock.skew,
        "peers": {alice.address: ["127.0.0.1", ports["a"]]},
        "open": [{"peer": alice.address, "amount": 5 * E}],
        "node": FAST,
        "pay": {"peer": alice.address, "amount": to_a, "count": 300, "in_flight": 16},
    }
    b = Proc("b", bob, tmp_path, cfg)

    async def run():
        a = await net.node(alice, "a", port=ports["a"], **FAST)
        a.add_peer(bob.address, "127.0.0.1", ports["b"])
        b.start(f"channels.{point}:{nth}")
        await b.ready()
        try:
            (cid,) = b.views().keys()
            await wait_until(lambda: cid in a.views, 10, "A to learn the channel")
            await a.fund_channel(cid, 5 * E)
            sent_ok: list[int] = []  # nonces of A's updates that B acknowledged
            attempts = 0

            async def a_pays() -> None:
                nonlocal attempts
                sem = asyncio.Semaphore(16)

                async def one() -> None:
                    nonlocal attempts
                    async with sem:
                        if b.killed():
                            return
                        attempts += 1
                        try:
                            st = await a.pay_direct(bob.address, to_b)
                        except Exception:
                            return
                        sent_ok.append(st.state.nonce)

                await asyncio.gather(*(one() for _ in range(300)))

            assert b.proc is not None
            b.proc.send_signal(__import__("signal").SIGUSR1)
            await a_pays()
            try:
                await wait_until(b.killed, 30, f"B to die at {point}")
            except AssertionError:
                print((tmp_path / "b.log").read_text()[-3000:], a.status(), len(sent_ok))
                raise
            on_disk = b.views()[cid]  # what B kept at the moment of the SIGKILL
            assert sent_ok, "no payment of A went through before the kill"
            assert on_disk.latest.state.nonce >= max(sent_ok)  # every ack B sent is on disk
            b.cfg.pop("pay")
            b.cfg_path.write_text(json.dumps(b.cfg))
            b.start()
            await b.ready()

            def agreed() -> bool:
                vb = b.views()[cid]
                va = a.views[cid]
                return va.latest == vb.latest and va.pending is None and vb.pending is None

            await wait_until(agreed, 60, "A and B to agree after the restart")
            return a.views[cid], len(sent_ok), attempts
        finally:
            await net.stop_all()
            b.stop()

    va, ok, attempts = asyncio.run(run())
    s = va.latest.state
    assert s.balance_a + s.balance_b == 10 * E and not s.locks
    # B is the channel's A side (it opened); B's balance = 5E - to_a * x + to_b * y
    delta = s.balance_a - 5 * E  # = to_b * (A's payments in) - to_a * (B's payments in)
    a_in = -(-delta // to_b)  # ceil: B's 1-wei payments are fewer than 1000
    b_in = a_in * to_b - delta
    assert 0 <= b_in < to_b and a_in * to_b - b_in * to_a == delta
    assert ok <= a_in <= attempts  # every acknowledged payment of A counted, none invented
    assert b_in <= 300
