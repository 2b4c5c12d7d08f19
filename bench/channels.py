"""Payment channels: L1 gas per adjudicator operation, and off-chain payment speed on loopback.

Run (with the project environment, see README):  python bench/channels.py [--gas-only]
Prints the tables and writes bench/results/channels.json. Starts its own Anvil through Ape.
The gas part includes the side-by-side comparison with Raiden's shipped bytecode
(bench/sidebyside/, wheel pinned in bench/raiden.lock and fetched by `make bench`);
`--gas-only` skips the off-chain payment speed part and keeps its last figures in the JSON.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

ETH = "0x0000000000000000000000000000000000000000"
E = 10**18
DIRECT_PAYMENTS = 2000
ROUTED_PAYMENTS = 200
IN_FLIGHT = 64  # payments a payer keeps outstanding on one channel (they batch into updates)
MULTI_CHANNELS = 10  # channels between different node pairs (5 nodes: every pair once)
MULTI_PAYMENTS = 1000  # per channel
OPEN_RATE = 2000  # payments/s offered on one channel by the open-loop run (the target's rate)
OPEN_PAYMENTS = 4000  # two seconds of it


def table(title: str, header: list[str], rows: list[list[object]]) -> None:
    def fmt(v: object) -> str:
        if isinstance(v, float):
            return f"{v:,.2f}"
        if isinstance(v, int):
            return f"{v:,}"
        return str(v)

    cells = [header] + [[fmt(c) for c in r] for r in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(header))]
    print(f"\n{title}\n")
    for n, row in enumerate(cells):
        print("| " + " | ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)) + " |")
        if n == 0:
            print("|" + "|".join("-" * (w + 2) for w in widths) + "|")


def warp(w3, seconds: int) -> None:
    """Mine a block `seconds` after the latest one (relative to the chain, not the wall clock,
    so the gas snapshot's fixed block times stay fixed: tools/gas_snapshot.py)."""
    latest = w3.eth.get_block("latest")["timestamp"]
    w3.provider.make_request("evm_mine", [latest + seconds])


def measure_gas(adj, abi, url, keys, token_addr, token_abi) -> dict[str, int]:
    from eth_utils import keccak

    from offchain.channels import crypto, merkle
    from offchain.channels.chain import ChainClient
    from offchain.channels.model import Lock, State

    ca, cb = (ChainClient(url, adj, abi, k) for k in keys[:2])
    sa, sb = crypto.Signer(keys[0]), crypto.Signer(keys[1])
    dom = ca.domain
    w3 = ca.w3
    gas: dict[str, int] = {}

    def cos(s: State) -> tuple[bytes, bytes]:
        d = crypto.state_digest(dom, s)
        return sa.sign(d), sb.sign(d)

    # open + deposit (ETH, then ERC-20), the peer's deposit, a co-signed top-up
    cid, r = ca.open(cb.address, ETH, 100, 10 * E)
    gas["open + deposit (ETH)"] = r["gasUsed"]
    gas["deposit by peer (fund, ETH)"] = cb.fund(cid, 5 * E, True)["gasUsed"]
    ca.approve(token_addr, 10**24, token_abi)
    _, r = ca.open(cb.address, token_addr, 100, 10 * E)
    gas["open + deposit (ERC-20)"] = r["gasUsed"]
    s1 = State(cid, 1, 11 * E, 5 * E)
    exp = ca.now() + 1000
    d = crypto.adjust_digest(dom, s1, 0, E, 0, exp)
    gas["top-up (adjust, ETH)"] = ca.adjust(s1, 0, E, 0, exp, sa.sign(d), sb.sign(d), True)[
        "gasUsed"
    ]
    s2 = State(cid, 2, 10 * E, 5 * E)
    d = crypto.adjust_digest(dom, s2, 0, 0, E, exp)
    gas["withdraw (adjust)"] = ca.adjust(s2, 0, 0, E, exp, sa.sign(d), sb.sign(d), False)["gasUsed"]
    # cooperative close
    d = crypto.coop_digest(dom, cid, 9, 4 * E, 11 * E)
    gas["cooperative close"] = ca.cooperative_close(cid, 9, 4 * E, 11 * E, sa.sign(d), sb.sign(d))[
        "gasUsed"
    ]
    gas["claim (ETH)"] = ca.claim(ETH)["gasUsed"]

    # unilateral close, dispute, settle
    cid, _ = ca.open(cb.address, ETH, 100, 10 * E)
    old, new = State(cid, 3, 6 * E, 4 * E), State(cid, 9, 5 * E, 5 * E)
    gas["unilateral close"] = cb.close(old, *cos(old))["gasUsed"]
    gas["dispute with newer state"] = ca.dispute(new, *cos(new))["gasUsed"]
    warp(w3, 101)
    gas["settle (penalty applied)"] = ca.settle(cid)["gasUsed"]

    # unlock with 1 and with 10 locks (secrets registered before expiry)
    for n in (1, 10):
        cid, _ = ca.open(cb.address, ETH, 100, 10 * E)
        expiry = ca.now() + 500
        secrets = [keccak(text=f"bench-{n}-{i}") for i in range(n)]
        locks = sorted(
            (Lock(0, E // 10, keccak(x), expiry) for x in secrets), key=lambda x: x.leaf()
        )
        s = State(cid, 4, 10 * E - n * (E // 10), 0, tuple(locks))
        cb.close(s, *cos(s))
        for x in secrets:
            r = cb.register_secret(x)
        gas["register secret"] = r["gasUsed"]
        warp(w3, 101)
        gas[f"settle ({n} pending lock{'s' if n > 1 else ''})"] = ca.settle(cid)["gasUsed"]
        leaves = [x.leaf() for x in locks]
        proofs = [merkle.proof(leaves, i) for i in range(n)]
        r = cb.unlock(cid, locks, list(range(n)), proofs)
        gas[f"unlock {n} lock{'s' if n > 1 else ''}"] = r["gasUsed"]
    return gas


def pct(xs: list[float], q: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(q * len(xs)))]


async def paced(pay, count: int, window: int) -> tuple[float, list[float]]:
    """Run `count` calls of `pay()` keeping `window` outstanding; (seconds, latencies)."""
    lat: list[float] = []
    sem = asyncio.Semaphore(window)

    async def one() -> None:
        async with sem:
            t = time.perf_counter()
            await pay()
            lat.append(time.perf_counter() - t)

    t0 = time.perf_counter()
    await asyncio.gather(*(one() for _ in range(count)))
    return time.perf_counter() - t0, lat


async def open_loop(pay, count: int, rate: float, seed: int = 16) -> tuple[float, list[float]]:
    """Offer `count` calls of `pay()` at `rate` per second, Poisson arrivals (seeded), whatever
    the answers: each call starts at its scheduled arrival and its latency runs from that
    arrival to its completion, so queueing (and any lag of the event loop) counts. Returns
    (seconds from the first arrival to the last completion, latencies)."""
    import random

    loop = asyncio.get_running_loop()
    rng = random.Random(seed)
    lat: list[float] = []
    done = loop.create_future()
    left = count

    async def one(at: float) -> None:
        nonlocal left
        try:
            await pay()
            lat.append(loop.time() - at)
        finally:
            left -= 1
            if left == 0:
                done.set_result(loop.time())

    tasks: set[asyncio.Task] = set()

    def arrive(at: float) -> None:
        t = loop.create_task(one(at))
        tasks.add(t)
        t.add_done_callback(tasks.discard)

    t0 = loop.time() + 0.05
    at = t0
    for _ in range(count):
        loop.call_at(at, arrive, at)
        at += rng.expovariate(rate)
    end = await done
    return end - t0, lat


async def measure_multi(adj, abi, url, keys, tmp: Path) -> dict:
    """MULTI_CHANNELS channels, one per pair of 5 nodes, all paying at once (summed rate)."""
    import itertools

    from offchain.channels.chain import ChainClient
    from offchain.channels.node import Node, NodeConfig

    clients = [ChainClient(url, adj, abi, k) for k in keys[:5]]
    cfg = NodeConfig(watch_chain=False, request_timeout=30.0)
    nodes = []
    for i, k in enumerate(keys[:5]):
        n = Node(k, tmp / f"m{i}.db", clients[0].domain, chain=clients[i], config=cfg)
        await n.start()
        nodes.append(n)
    for n in nodes:
        for m in nodes:
            if m is not n:
                n.add_peer(m.address, "127.0.0.1", m.port)
    pairs = list(itertools.combinations(nodes, 2))[:MULTI_CHANNELS]
    try:
        for x, y in pairs:
            await x.open_channel(y.address, 100 * E)
        cids = [x.channel_with(y.address).channel_id for x, y in pairs]
        lat: list[float] = []

        async def run_pair(x, y, cid) -> None:
            async def pay() -> None:
                await x._propose(cid, Pay(1000))

            _, part = await paced(pay, MULTI_PAYMENTS, IN_FLIGHT)
            lat.extend(part)

        from offchain.channels.machine import Pay

        t0 = time.perf_counter()
        await asyncio.gather(*(run_pair(x, y, c) for (x, y), c in zip(pairs, cids, strict=True)))
        total = time.perf_counter() - t0
        updates = sum(x.views[c].latest.state.nonce for (x, _), c in zip(pairs, cids, strict=True))
        commits = sum(n.store.commits for n in nodes)
        n_pay = MULTI_PAYMENTS * len(pairs)
        return {
            "channels": len(pairs),
            "nodes": len(nodes),
            "payments": n_pay,
            "in_flight_per_channel": IN_FLIGHT,
            "per_second": n_pay / total,
            "p50_ms": pct(lat, 0.5) * 1000,
            "p99_ms": pct(lat, 0.99) * 1000,
            "updates": updates,
            "fsyncs": commits,
        }
    finally:
        for n in nodes:
            await n.stop()


async def measure_speed(adj, abi, url, keys, tmp: Path) -> dict[str, dict]:
    from offchain.channels.chain import ChainClient
    from offchain.channels.node import Node, NodeConfig

    clients = [ChainClient(url, adj, abi, k) for k in keys[:4]]
    dom = clients[0].domain
    cfg = NodeConfig(watch_chain=False, request_timeout=10.0, base_fee=1, fee_ppm=100)
    nodes = []
    for i, k in enumerate(keys[:4]):
        n = Node(k, tmp / f"n{i}.db", dom, chain=clients[i], config=cfg)
        await n.start()
        nodes.append(n)
    for n in nodes:
        for m in nodes:
            if m is not n:
                n.add_peer(m.address, "127.0.0.1", m.port)
    a, b, c, d = nodes
    await a.open_channel(b.address, 100 * E)
    await b.open_channel(c.address, 100 * E)
    await c.open_channel(d.address, 100 * E)
    out: dict[str, dict] = {}
    try:
        lat = []
        t0 = time.perf_counter()
        for _ in range(DIRECT_PAYMENTS // 4):
            t = time.perf_counter()
            await a.pay_direct(b.address, 1000)
            lat.append(time.perf_counter() - t)
        total = time.perf_counter() - t0
        out["direct_sequential"] = {
            "payments": DIRECT_PAYMENTS // 4,
            "per_second": DIRECT_PAYMENTS // 4 / total,
            "p50_ms": pct(lat, 0.5) * 1000,
            "p99_ms": pct(lat, 0.99) * 1000,
        }
        n0, c0 = a.views[a.channel_with(b.address).channel_id].latest.state.nonce, a.store.commits
        total, lat = await paced(lambda: a.pay_direct(b.address, 1000), DIRECT_PAYMENTS, IN_FLIGHT)
        out["direct"] = {
            "payments": DIRECT_PAYMENTS,
            "in_flight": IN_FLIGHT,
            "per_second": DIRECT_PAYMENTS / total,
            "p50_ms": pct(lat, 0.5) * 1000,
            "p99_ms": pct(lat, 0.99) * 1000,
            "updates": a.views[a.channel_with(b.address).channel_id].latest.state.nonce - n0,
            "payer_fsyncs": a.store.commits - c0,
        }
        # the target as stated: 2,000 payments/s offered on one channel (open loop)
        n0 = a.views[a.channel_with(b.address).channel_id].latest.state.nonce
        total, lat = await open_loop(
            lambda: a.pay_direct(b.address, 1000), OPEN_PAYMENTS, OPEN_RATE
        )
        out["direct_open_loop"] = {
            "payments": OPEN_PAYMENTS,
            "offered_per_second": OPEN_RATE,
            "arrivals": "Poisson (seeded)",
            "per_second": len(lat) / total,
            "p50_ms": pct(lat, 0.5) * 1000,
            "p99_ms": pct(lat, 0.99) * 1000,
            "updates": a.views[a.channel_with(b.address).channel_id].latest.state.nonce - n0,
        }
        # both directions at once (two proposers on one channel, conflicts resolved by the protocol)
        t0 = time.perf_counter()
        half = DIRECT_PAYMENTS // 2

        async def burst(x, y):
            await paced(lambda: x.pay_direct(y.address, 1000), half, IN_FLIGHT // 2)

        await asyncio.gather(burst(a, b), burst(b, a))
        assert a.views[a.channel_with(b.address).channel_id].latest == (
            b.views[b.channel_with(a.address).channel_id].latest
        )
        total = time.perf_counter() - t0
        out["direct_both_ways"] = {"payments": 2 * half, "per_second": 2 * half / total}
        edges = [e for n in nodes for e in n.edges()]
        lat = []
        t0 = time.perf_counter()
        ok = 0
        for _ in range(ROUTED_PAYMENTS):
            h = d.create_invoice(1000)
            t = time.perf_counter()
            ok += await a.pay(d.address, 1000, h, edges)
            lat.append(time.perf_counter() - t)
        total = time.perf_counter() - t0
        out["routed_3_hops"] = {
            "payments": ROUTED_PAYMENTS,
            "succeeded": ok,
            "per_second": ROUTED_PAYMENTS / total,
            "p50_ms": pct(lat, 0.5) * 1000,
            "p99_ms": pct(lat, 0.99) * 1000,
        }
    finally:
        for n in nodes:
            await n.stop()
    return out


def side_by_side(url: str, token_addr: str, token_abi: list, adj_addr: str, abi: list) -> dict:
    """Raiden's TokenNetwork deployed next to the adjudicator; the like-for-like scenarios."""
    from web3 import Web3

    from bench.sidebyside.compare import Bench, compare
    from bench.sidebyside.evm import Node
    from bench.sidebyside.raiden import Raiden

    node = Node(Web3(Web3.HTTPProvider(url, request_kwargs={"timeout": 60})))
    deployer = node.fresh_account("raiden-deployer")
    token = node.at(token_addr, token_abi)
    raiden = Raiden.deploy(node, deployer, token.address, 500)
    bench = Bench(node, deployer, token, node.at(adj_addr, abi), raiden)
    out = compare(bench)
    out["raiden_contracts"] = raiden.version
    out["notes"] = (
        "transaction gas incl. 21,000 base per transaction, summed over the scenario; ERC-20 "
        "(one TestToken for both); payouts included (l2kit claims counted when a payout was "
        "deferred); approvals and minting not counted. cold = participants hold no tokens outside "
        "the channel, so every payout writes a zero balance slot; warm = they keep one token, so "
        "payouts update non-zero slots. (c): Raiden unlock(receiver, sender, all locks) vs l2kit "
        "unlockAll(all locks), secrets registered before; per extra lock = (32 - 1 locks) / 31. "
        "ratio = l2kit / Raiden."
    )
    return out


def print_side_by_side(sbs: dict) -> None:
    table(
        f"Channel gas side by side with Raiden (raiden-contracts {sbs['raiden_contracts']}, "
        "shipped bytecode, same Anvil node; cold = payouts into empty balances, "
        "warm = into non-empty ones)",
        ["scenario", "storage", "l2kit", "Raiden", "l2kit / Raiden"],
        [
            [r["scenario"], r["storage"], r["l2kit"], r["raiden"], f"{r['ratio']:.3f}"]
            for r in sbs["rows"]
        ],
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--gas-only", action="store_true", help="skip the off-chain payment speed part"
    )
    args = parser.parse_args()
    from ape import accounts, chain, networks, project
    from ape.logging import logger

    logger.set_level("WARNING")
    with networks.parse_network_choice("ethereum:local:foundry"):
        deployer = accounts.test_accounts[0]
        users = accounts.test_accounts[1:5]
        adj = deployer.deploy(project.ChannelAdjudicator, 10_000)
        token = deployer.deploy(project.TestToken, "Bench", "BNC", 18)
        token.mint(users[0], 10**24, sender=deployer)
        abi = [x.model_dump(mode="json", by_alias=True) for x in adj.contract_type.abi]
        token_abi = [x.model_dump(mode="json", by_alias=True) for x in token.contract_type.abi]
        keys = [u.private_key for u in users]
        url = chain.provider.uri
        gas = measure_gas(adj.address, abi, url, keys, token.address, token_abi)
        sbs = side_by_side(url, token.address, token_abi, adj.address, abi)
        speed = None
        if not args.gas_only:
            keys5 = [u.private_key for u in accounts.test_accounts[1:6]]
            with tempfile.TemporaryDirectory() as tmp:
                speed = asyncio.run(measure_speed(adj.address, abi, url, keys, Path(tmp)))
                speed["direct_10_channels"] = asyncio.run(
                    measure_multi(adj.address, abi, url, keys5, Path(tmp))
                )
    path = ROOT / "bench" / "results" / "channels.json"
    previous = json.loads(path.read_text()) if path.exists() else {}
    table(
        "Payment channels: L1 gas per operation (transaction gas, incl. 21,000 base)",
        ["operation", "gas"],
        [[k, v] for k, v in gas.items()],
    )
    print_side_by_side(sbs)
    now = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    speed_at = now
    if speed is None:
        speed = previous.get("offchain", {})
        speed_at = previous.get("offchain_measured_at", previous.get("measured_at", "never"))
        print(f"\n--gas-only: off-chain speed not measured (the JSON keeps those of {speed_at})")
    else:
        print_speed(speed)
    body = {
        **previous,
        "benchmark": "channels",
        "measured_at": now,
        "machine": platform.machine(),
        "python": platform.python_version(),
        "gas": gas,
        "raiden_side_by_side": sbs,
        "offchain": speed,
        "offchain_measured_at": speed_at,
        "notes": "median/99th percentile latency per payment (from submission, queueing "
        "included; open loop: from the scheduled Poisson arrival, payments offered at OPEN_RATE "
        "whatever the answers); direct = IN_FLIGHT payments outstanding, batched into updates "
        "(one nonce, one "
        "signature, one group-committed fsync per side each); routed = sequential, until the "
        "payer's lock is claimed (secret back at the payer); every co-signed state is fsynced "
        "before its ack.",
        "load_average": list(os.getloadavg()),
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(body, indent=2) + "\n")
    print(f"\nwrote {path}")


def print_speed(speed: dict) -> None:
    table(
        "Off-chain payments on loopback (2 cores, SQLite WAL, fsync before every ack)",
        ["payment", "count", "payments/s", "p50 ms", "p99 ms"],
        [
            [
                "direct A->B, one at a time",
                speed["direct_sequential"]["payments"],
                speed["direct_sequential"]["per_second"],
                speed["direct_sequential"]["p50_ms"],
                speed["direct_sequential"]["p99_ms"],
            ],
            [
                f"direct A->B, {IN_FLIGHT} in flight",
                speed["direct"]["payments"],
                speed["direct"]["per_second"],
                speed["direct"]["p50_ms"],
                speed["direct"]["p99_ms"],
            ],
            [
                f"direct A->B, {OPEN_RATE:,}/s offered (open loop)",
                speed["direct_open_loop"]["payments"],
                speed["direct_open_loop"]["per_second"],
                speed["direct_open_loop"]["p50_ms"],
                speed["direct_open_loop"]["p99_ms"],
            ],
            [
                "direct, both ways at once",
                speed["direct_both_ways"]["payments"],
                speed["direct_both_ways"]["per_second"],
                "-",
                "-",
            ],
            [
                f"direct, {MULTI_CHANNELS} channels of 5 nodes at once (sum)",
                speed["direct_10_channels"]["payments"],
                speed["direct_10_channels"]["per_second"],
                speed["direct_10_channels"]["p50_ms"],
                speed["direct_10_channels"]["p99_ms"],
            ],
            [
                "routed A->B->C->D",
                speed["routed_3_hops"]["payments"],
                speed["routed_3_hops"]["per_second"],
                speed["routed_3_hops"]["p50_ms"],
                speed["routed_3_hops"]["p99_ms"],
            ],
        ],
    )


if __name__ == "__main__":
    main()
