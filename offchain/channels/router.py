"""Path finding over the channel graph by capacity and fee (pure).

An edge u -> v is one direction of a channel: `capacity` is what u can send to v, and
(`base_fee`, `fee_ppm`) is what u charges to forward a payment over it. The payer pays no fee to
itself. The search runs Dijkstra from the payee backwards on "amount that must reach this node",
so each hop's fee is computed on the exact amount it forwards, and every edge has the capacity
for the amount that crosses it.
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass

from offchain.channels.model import ChannelError


@dataclass(frozen=True)
class Edge:
    src: str
    dst: str
    capacity: int
    base_fee: int = 0
    fee_ppm: int = 0

    def fee(self, amount: int) -> int:
        return self.base_fee + (amount * self.fee_ppm) // 1_000_000


@dataclass(frozen=True)
class Hop:
    """Send `amount` over the channel to `node`."""

    node: str
    amount: int


def find_route(edges: list[Edge], src: str, dst: str, amount: int, max_hops: int = 20) -> list[Hop]:
    """Cheapest route from src to dst delivering `amount`; raises ChannelError if none."""
    if amount <= 0:
        raise ChannelError("the amount to route must be positive")
    src, dst = src.lower(), dst.lower()
    if src == dst:
        raise ChannelError("payer and payee are the same node")
    incoming: dict[str, list[Edge]] = {}
    for e in edges:
        incoming.setdefault(e.dst.lower(), []).append(e)
    # best[n] = (amount that must arrive at n, hops to dst, next node, edge amount)
    best: dict[str, tuple[int, int, str | None, int]] = {dst: (amount, 0, None, 0)}
    heap = [(amount, 0, dst)]
    done: set[str] = set()
    while heap:
        need, hops, v = heapq.heappop(heap)
        if v in done:
            continue
        done.add(v)
        if v == src:
            break
        if hops >= max_hops:
            continue
        for e in incoming.get(v, []):
            u = e.src.lower()
            if u in done or e.capacity < need:
                continue
            at_u = need if u == src else need + e.fee(need)
            if u not in best or at_u < best[u][0]:
                best[u] = (at_u, hops + 1, v, need)
                heapq.heappush(heap, (at_u, hops + 1, u))
    if src not in best:
        raise ChannelError(f"no route from {src} to {dst} with capacity for {amount}")
    route = []
    node = src
    while node != dst:
        _, _, nxt, edge_amount = best[node]
        assert nxt is not None
        route.append(Hop(nxt, edge_amount))
        node = nxt
    return route
