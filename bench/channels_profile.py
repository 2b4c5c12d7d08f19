"""Where a payment's time goes: nodes on loopback without a chain (channels injected as
already opened), timed and optionally profiled with cProfile.

Run:  python bench/channels_profile.py [--profile direct|routed] [--count N]
Not a figure source for the README (bench/channels.py is); a tool to find the hot paths.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import io
import pstats
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from offchain.channels import crypto  # noqa: E402
from offchain.channels.machine import ChannelView  # noqa: E402
from offchain.channels.model import SignedState, State  # noqa: E402
from offchain.channels.node import Node, NodeConfig  # noqa: E402

E = 10**18
ETH = "0x" + "00" * 20
KEYS = [bytes([i + 1]) * 32 for i in range(4)]


def pct(xs: list[float], q: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(q * len(xs)))] * 1000


async def connect(x: Node, y: Node, n: int) -> None:
    """A channel x->y funded by x with 100 ETH, as if opened on chain."""
    cid = bytes([n]) * 32
    anchor = SignedState(State(cid, 0, 100 * E, 0), b"", b"")
    await x._save(ChannelView(cid, 0, x.address, y.address, ETH, anchor))
    await y._save(ChannelView(cid, 1, x.address, y.address, ETH, anchor))


async def run(
    tmp: Path, what: str, count: int, prof: cProfile.Profile | None, rate: int = 0
) -> None:
    dom = crypto.Domain(31337, "0x" + "11" * 20)
    cfg = NodeConfig(watch_chain=False, base_fee=1, fee_ppm=100, lock_timer=0)
    nodes = [Node(k, tmp / f"p{i}.db", dom, config=cfg) for i, k in enumerate(KEYS)]
    for n in nodes:
        await n.start()
    for n in nodes:
        for m in nodes:
            if m is not n:
                n.add_peer(m.address, "127.0.0.1", m.port)
    a, b, c, d = nodes
    await connect(a, b, 1)
    await connect(b, c, 2)
    await connect(c, d, 3)
    try:
        lat: list[float] = []
        edges = [e for n in nodes for e in n.edges()]
        cpu0 = main0 = 0.0
        for i in range(count + 20):
            if i == 20:
                cpu0, main0 = time.process_time(), time.thread_time()
                if prof is not None:
                    prof.enable()
            t = time.perf_counter()
            if what == "direct":
                await a.pay_direct(b.address, 1000)
            else:
                h = d.create_invoice(1000)
                t = time.perf_counter()
                assert await a.pay(d.address, 1000, h, edges)
            if i >= 20:
                lat.append(time.perf_counter() - t)
        cpu = (time.process_time() - cpu0) / count * 1000
        main = (time.thread_time() - main0) / count * 1000
        if prof is not None:
            prof.disable()
        fs = sum(n.store.commits for n in nodes)
        if what == "direct" and rate:
            from bench.channels import open_loop

            total, ol = await open_loop(lambda: a.pay_direct(b.address, 1000), 2 * rate, rate)
            print(
                f"direct open loop {rate}/s offered: {len(ol) / total:.0f}/s achieved,"
                f" p50 {pct(ol, 0.5):.2f} ms, p99 {pct(ol, 0.99):.2f} ms"
            )
        print(
            f"{what}: {count} sequential, p50 {pct(lat, 0.5):.2f} ms, p99 {pct(lat, 0.99):.2f} ms,"
            f" CPU per payment {cpu:.2f} ms ({main:.2f} ms on the event loop), {fs} group commits"
        )
    finally:
        for n in nodes:
            await n.stop()


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--profile", choices=["direct", "routed"])
    p.add_argument("--count", type=int, default=300)
    p.add_argument("--sort", default="tottime")
    p.add_argument("--rate", type=int, default=0, help="also an open-loop run at this rate")
    args = p.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        for what in ("direct", "routed"):
            prof = cProfile.Profile() if args.profile == what else None
            (Path(tmp) / what).mkdir()
            asyncio.run(run(Path(tmp) / what, what, args.count, prof, args.rate))
            if prof is not None:
                s = io.StringIO()
                pstats.Stats(prof, stream=s).sort_stats(args.sort).print_stats(45)
                print(s.getvalue())


if __name__ == "__main__":
    main()
