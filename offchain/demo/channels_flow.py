"""The payment-channel part of the demo: four nodes on loopback, three channels on L1, payments
direct and routed A -> B -> C -> D (no channel between A and D), then a cooperative close."""

from __future__ import annotations

import asyncio
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from web3 import Web3

from offchain.channels import crypto
from offchain.channels.chain import ChainClient
from offchain.channels.node import Node, NodeConfig

E = 10**18
Log = Callable[[str], None]


@dataclass
class ChannelFigures:
    channels_opened: int = 0
    direct_payments: int = 0
    direct_p50_ms: float = 0.0
    routed_payments: int = 0
    routed_ms: float = 0.0
    closed: int = 0
    notes: list[str] = field(default_factory=list)


class ChainClock:
    """Chain-aligned seconds: the demo moves the chain's clock forward, the nodes must follow."""

    def __init__(self, w3: Web3) -> None:
        self.w3 = w3

    def __call__(self) -> int:
        return int(self.w3.eth.get_block("latest")["timestamp"])


async def _wait(predicate: Callable[[], bool], timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        await asyncio.sleep(0.05)
    raise RuntimeError("timed out waiting for the channel nodes")


async def run_channels(
    rpc: str,
    adjudicator: str,
    abi: list,
    keys: list[str],
    db_dir: Path,
    log: Log,
    direct_payments: int = 50,
) -> ChannelFigures:
    figures = ChannelFigures()
    w3 = Web3(Web3.HTTPProvider(rpc))
    domain = crypto.Domain(w3.eth.chain_id, Web3.to_checksum_address(adjudicator))
    clock = ChainClock(w3)
    db_dir.mkdir(parents=True, exist_ok=True)
    nodes: list[Node] = []
    try:
        for name, key in zip("abcd", keys, strict=True):
            (db_dir / f"{name}.db").unlink(missing_ok=True)
            fees = NodeConfig(base_fee=10, fee_ppm=1000) if name in "bc" else NodeConfig()
            node = Node(
                key,
                db_dir / f"{name}.db",
                domain,
                chain=ChainClient(rpc, adjudicator, abi, key),
                clock=clock,
                config=fees,
            )
            await node.start()
            for other in nodes:
                other.add_peer(node.address, "127.0.0.1", node.port)
                node.add_peer(other.address, "127.0.0.1", other.port)
            nodes.append(node)
        a, b, c, d = nodes
        ab = await a.open_channel(b.address, 5 * E)
        await b.open_channel(c.address, 5 * E)
        await c.open_channel(d.address, 5 * E)
        figures.channels_opened = 3
        log("4 nodes on loopback TCP; channels A-B, B-C, C-D opened on L1 with 5 ETH each")

        latencies = []
        for _ in range(direct_payments):
            started = time.perf_counter()
            await a.pay_direct(b.address, E // 1000)
            latencies.append((time.perf_counter() - started) * 1000)
        figures.direct_payments = direct_payments
        figures.direct_p50_ms = statistics.median(latencies)
        log(
            f"{direct_payments} direct payments A->B, co-signed and persisted "
            f"(p50 {figures.direct_p50_ms:.1f} ms)"
        )

        hashlock = d.create_invoice(E // 10)
        graph = [edge for n in nodes for edge in n.edges()]
        started = time.perf_counter()
        if not await a.pay(d.address, E // 10, hashlock, graph):
            raise RuntimeError("the routed payment failed")
        await _wait(lambda: all(not v.latest.state.locks for n in nodes for v in n.views.values()))
        figures.routed_ms = (time.perf_counter() - started) * 1000
        figures.routed_payments = 1
        cd = next(iter(d.views))
        log(
            f"0.1 ETH routed A->B->C->D over hash-locked transfers in {figures.routed_ms:.0f} ms; "
            f"D now holds {d.views[cd].my_balance() / E:.3f} ETH in C-D, A and D share no channel"
        )

        await a.cooperative_close(ab)  # returns once the close is mined on L1
        figures.closed = 1
        log("A and B closed their channel cooperatively on L1 with both signatures")
    finally:
        for node in nodes:
            await node.stop()
    return figures


def run(
    rpc: str, adjudicator: str, abi: list, keys: list[str], db_dir: Path, log: Log
) -> ChannelFigures:
    return asyncio.run(run_channels(rpc, adjudicator, abi, keys, db_dir, log))
