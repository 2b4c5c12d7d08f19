"""Path finding over the channel graph by capacity, fee and remembered failures (pure).

An edge u -> v is one direction of a channel: `capacity` is what u can send to v, and
(`base_fee`, `fee_ppm`) is what u charges to forward a payment over it. The payer pays no fee to
itself. The search runs Dijkstra from the payee backwards on "amount that must reach this node",
so each hop's fee is computed on the exact amount it forwards, and every edge has the capacity
for the amount that crosses it.

With a `Memory` (as Lightning's and Raiden's path finders keep one), each edge also costs a
penalty in amount units: an edge that failed for an amount at most the one asked costs
`failure_penalty` plus `failure_ppm` of the amount, decaying by half every `half_life`
seconds; an edge whose capacity is not known (no success for at least this amount, recently)
costs an uncertainty premium growing with amount / capacity; edges that carried at least the
amount recently cost none of it. The route minimises fee plus penalties.
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass, field

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


@dataclass
class Memory:
    """What payments taught about edges: failures and successes by amount, with decay. Owned
    by one node (no global state); `now` is always passed in, so it stays pure and testable."""

    half_life: float = 600.0
    failure_penalty: int = 10**15  # in amount units, at the moment of the failure, plus
    failure_ppm: int = 100_000  # this share of the amount (a failed edge must cost more than
    # the detour around it, whatever the amount)
    uncertainty_ppm: int = 1_000  # premium on an edge of unknown capacity at amount == capacity
    failures: dict[tuple[str, str], tuple[int, float]] = field(default_factory=dict)
    successes: dict[tuple[str, str], tuple[int, float]] = field(default_factory=dict)

    def _decay(self, then: float, now: float) -> float:
        return 0.5 ** (max(0.0, now - then) / self.half_life)

    def failed(self, src: str, dst: str, amount: int, now: float) -> None:
        """A payment of `amount` could not cross src -> dst (the smallest failed amount wins)."""
        k = (src.lower(), dst.lower())
        old = self.failures.get(k)
        if old is None or amount <= old[0] or self._decay(old[1], now) < 0.5:
            self.failures[k] = (amount, now)
        ok = self.successes.get(k)
        if ok is not None and ok[0] >= amount:
            del self.successes[k]  # what we knew no longer holds

    def succeeded(self, src: str, dst: str, amount: int, now: float) -> None:
        k = (src.lower(), dst.lower())
        old = self.successes.get(k)
        if old is None or amount >= old[0] or self._decay(old[1], now) < 0.5:
            self.successes[k] = (amount, now)
        f = self.failures.get(k)
        if f is not None and f[0] <= amount:
            del self.failures[k]

    def route_failed(self, src: str, route: list[Hop], now: float) -> None:
        """Feedback without a location (a refusal or cancel from downstream): every edge after
        the payer's own (whose capacity the payer knows exactly) is suspect, even one that
        carried the amount before (balances move: what held then may not hold now)."""
        prev = route[0].node if route else src
        for h in route[1:]:
            self.failed(prev, h.node, h.amount, now)
            prev = h.node

    def route_succeeded(self, src: str, route: list[Hop], now: float) -> None:
        prev = src
        for h in route:
            self.succeeded(prev, h.node, h.amount, now)
            prev = h.node

    def penalty(self, e: Edge, amount: int, now: float) -> int:
        k = (e.src.lower(), e.dst.lower())
        p = 0.0
        f = self.failures.get(k)
        if f is not None and amount >= f[0]:
            fixed = self.failure_penalty + amount * self.failure_ppm / 1_000_000
            p += fixed * self._decay(f[1], now)
        ok = self.successes.get(k)
        known = 0.0 if ok is None or ok[0] < amount else self._decay(ok[1], now)
        unc = amount * self.uncertainty_ppm / 1_000_000 * amount / max(e.capacity, 1)
        p += (1.0 - known) * unc
        return int(p)


def find_route(
    edges: list[Edge],
    src: str,
    dst: str,
    amount: int,
    max_hops: int = 20,
    memory: Memory | None = None,
    now: float = 0.0,
    avoid: frozenset[str] = frozenset(),
) -> list[Hop]:
    """Cheapest route from src to dst delivering `amount` (by fee, plus `memory`'s penalties),
    never through a node in `avoid`; raises ChannelError if none."""
    if amount <= 0:
        raise ChannelError("the amount to route must be positive")
    src, dst = src.lower(), dst.lower()
    if src == dst:
        raise ChannelError("payer and payee are the same node")
    banned = {x.lower() for x in avoid} - {src, dst}
    incoming: dict[str, list[Edge]] = {}
    for e in edges:
        if e.src.lower() not in banned and e.dst.lower() not in banned:
            incoming.setdefault(e.dst.lower(), []).append(e)
    # best[n] = (cost, amount that must arrive at n, hops to dst, next node, edge amount); the
    # cost is the amount plus the penalties of the edges after n
    best: dict[str, tuple[int, int, int, str | None, int]] = {dst: (amount, amount, 0, None, 0)}
    heap = [(amount, 0, dst)]
    done: set[str] = set()
    while heap:
        cost, hops, v = heapq.heappop(heap)
        if v in done:
            continue
        done.add(v)
        if v == src:
            break
        if hops >= max_hops:
            continue
        need = best[v][1]
        for e in incoming.get(v, []):
            u = e.src.lower()
            if u in done or e.capacity < need:
                continue
            fee = 0 if u == src else e.fee(need)
            pen = 0 if memory is None else memory.penalty(e, need, now)
            c_u = cost + fee + pen
            if u not in best or c_u < best[u][0]:
                best[u] = (c_u, need + fee, hops + 1, v, need)
                heapq.heappush(heap, (c_u, hops + 1, u))
    if src not in best:
        raise ChannelError(f"no route from {src} to {dst} with capacity for {amount}")
    route = []
    node = src
    while node != dst:
        _, _, _, nxt, edge_amount = best[node]
        assert nxt is not None
        route.append(Hop(nxt, edge_amount))
        node = nxt
    return route
