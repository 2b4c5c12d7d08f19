"""Two nodes paying each other at once on one channel, many payments in flight each way: every
payment is applied exactly once and both sides end with the same co-signed state (chain-free:
the channel is injected as if opened). Before the in-flight rule of `Node._on_update`, a sync
run for the peer's update could adopt or drop the proposer's update in flight: its batch was
applied twice, or the two sides co-signed different states with one nonce."""

from __future__ import annotations

import asyncio

from offchain.channels import crypto
from offchain.channels.machine import ChannelView
from offchain.channels.model import SignedState, State
from offchain.channels.node import Node, NodeConfig

E = 10**18


def test_both_ways_at_once_every_payment_applied_once(tmp_path):
    async def run() -> None:
        dom = crypto.Domain(31337, "0x" + "11" * 20)
        cfg = NodeConfig(watch_chain=False, lock_timer=0)
        a, b = (Node(bytes([i + 1]) * 32, tmp_path / f"{i}.db", dom, config=cfg) for i in range(2))
        for n in (a, b):
            await n.start()
        try:
            a.add_peer(b.address, "127.0.0.1", b.port)
            b.add_peer(a.address, "127.0.0.1", a.port)
            cid = b"\x01" * 32
            anchor = SignedState(State(cid, 0, 50 * E, 50 * E), b"", b"")
            await a._save(ChannelView(cid, 0, a.address, b.address, "0x" + "00" * 20, anchor))
            await b._save(ChannelView(cid, 1, a.address, b.address, "0x" + "00" * 20, anchor))
            for _ in range(3):
                before = a.views[cid].latest.state
                ok = {"ab": 0, "ba": 0}

                async def burst(x: Node, y: Node, key: str, amount: int, ok: dict = ok) -> None:
                    sem = asyncio.Semaphore(16)

                    async def one() -> None:
                        async with sem:
                            await x.pay_direct(y.address, amount)
                            ok[key] += 1

                    await asyncio.gather(*(one() for _ in range(300)), return_exceptions=True)

                await asyncio.gather(burst(a, b, "ab", 1000), burst(b, a, "ba", 1))
                after = a.views[cid].latest
                assert after == b.views[cid].latest  # one co-signed state, the same on both
                assert after.state.balance_a == before.balance_a - 1000 * ok["ab"] + ok["ba"]
                assert ok["ab"] + ok["ba"] > 0
        finally:
            for n in (a, b):
                await n.stop()

    asyncio.run(run())
