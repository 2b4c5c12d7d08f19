"""Liquidity policies (pure): circular rebalancing and on-chain top-up / withdrawal.

Everything here is a function of plain values (channel balances, the graph, the time, what was
spent so far); the node's `Autopilot` (autopilot.py) executes what these return.

* `plan_rebalance`: the channel whose outbound share is furthest above `high_ppm` gives, the one
  furthest below `low_ppm` receives; the amount moves each towards the middle of the band, is at
  most `max_amount` and at least `min_amount`. `cycle_route` finds the self-payment
  me -> source peer -> ... -> target peer -> me (never through me in between) whose total fee,
  plus the routing memory's penalties of its edges after the first, is at most `max_fee_ppm` of
  the amount, or nothing (so a cycle that just failed waits for its penalty to decay).
* `plan_adjust`: when my balance in a channel leaves [low, high] (absolute amounts), move it
  back to `target` on chain (hysteresis: nothing happens inside the band), at most once per
  `min_interval` seconds per channel, top-ups never beyond the remaining `budget`, withdrawals
  only if allowed, and never while the channel has locks pending or an adjustment in flight.
"""

from __future__ import annotations

from dataclasses import dataclass

from offchain.channels.model import ChannelError
from offchain.channels.router import Edge, Hop, Memory, find_route


@dataclass(frozen=True)
class Channel:
    """One open channel as the policies see it (my side)."""

    channel_id: bytes
    peer: str
    mine: int  # my balance (what I can send)
    theirs: int  # the peer's balance (what I can receive)
    locked: int = 0
    busy: bool = False  # an adjustment or close in flight: leave it alone

    @property
    def total(self) -> int:
        return self.mine + self.theirs + self.locked


@dataclass(frozen=True)
class RebalancePolicy:
    low_ppm: int = 250_000  # outbound share below which a channel should receive
    high_ppm: int = 750_000  # outbound share above which a channel may give
    max_amount: int = 10**18
    min_amount: int = 1
    max_fee_ppm: int = 5_000  # the most the node pays to move liquidity, per amount moved

    def __post_init__(self) -> None:
        if not 0 <= self.low_ppm < self.high_ppm <= 1_000_000:
            raise ValueError("rebalance band: need 0 <= low_ppm < high_ppm <= 1000000")
        if self.min_amount <= 0 or self.max_amount < self.min_amount or self.max_fee_ppm < 0:
            raise ValueError("rebalance amounts: need 0 < min_amount <= max_amount, fee >= 0")


@dataclass(frozen=True)
class Rebalance:
    source: Channel  # has too much outbound
    target: Channel  # has too little
    amount: int  # to arrive back to me over `target`
    max_fee: int


def _share(c: Channel) -> int:
    return c.mine * 1_000_000 // c.total if c.total else 0


def plan_rebalance(channels: list[Channel], p: RebalancePolicy) -> Rebalance | None:
    usable = [c for c in channels if not c.busy and c.total > 0]
    rich = [c for c in usable if _share(c) > p.high_ppm]
    poor = [c for c in usable if _share(c) < p.low_ppm]
    if not rich or not poor:
        return None
    src = max(rich, key=lambda c: (_share(c), c.mine))
    dst = min(poor, key=lambda c: (_share(c), -c.theirs))
    mid = (p.low_ppm + p.high_ppm) // 2
    give = src.mine - src.total * mid // 1_000_000
    take = dst.total * mid // 1_000_000 - dst.mine
    amount = min(give, take, p.max_amount)
    if amount < p.min_amount:
        return None
    return Rebalance(src, dst, amount, amount * p.max_fee_ppm // 1_000_000)


def cycle_route(
    edges: list[Edge],
    me: str,
    plan: Rebalance,
    memory: Memory | None = None,
    now: float = 0.0,
) -> list[Hop] | None:
    """The self-payment route of `plan` within its fee limit, or None. `edges` is the graph (my
    own edges included: their capacities and fees are read from it)."""
    me_l = me.lower()
    by_pair = {(e.src.lower(), e.dst.lower()): e for e in edges}
    first = by_pair.get((me_l, plan.source.peer.lower()))
    last = by_pair.get((plan.target.peer.lower(), me_l))
    if first is None or last is None or last.capacity < plan.amount:
        return None
    need_at_target = plan.amount + last.fee(plan.amount)
    try:
        inner = find_route(
            edges,
            plan.source.peer,
            plan.target.peer,
            need_at_target,
            memory=memory,
            now=now,
            avoid=frozenset({me}),
        )
    except ChannelError:
        return None
    src_edge = by_pair.get((plan.source.peer.lower(), inner[0].node.lower()))
    if src_edge is None:
        return None
    at_source = inner[0].amount + src_edge.fee(inner[0].amount)
    if at_source - plan.amount > plan.max_fee or first.capacity < at_source:
        return None
    route = [Hop(plan.source.peer, at_source), *inner, Hop(me, plan.amount)]
    if memory is not None:
        # what the memory expects a failure to cost counts against the limit too: a cycle that
        # just failed is not tried again (every step) until its penalty has decayed
        risk, prev = 0, route[0].node
        for h in route[1:]:
            e = by_pair.get((prev.lower(), h.node.lower()))
            risk += 0 if e is None else memory.penalty(e, h.amount, now)
            prev = h.node
        if at_source - plan.amount + risk > plan.max_fee:
            return None
    return route


@dataclass(frozen=True)
class AdjustPolicy:
    low: int  # my balance below this: top up to `target`
    target: int
    high: int  # my balance above this: withdraw down to `target` (if `withdraw`)
    budget: int  # the most deposited in total by the policy
    min_interval: int = 60  # seconds between two policy adjustments of one channel
    withdraw: bool = True

    def __post_init__(self) -> None:
        if not 0 <= self.low <= self.target <= self.high or self.budget < 0:
            raise ValueError("adjust band: need 0 <= low <= target <= high and budget >= 0")
        if self.min_interval < 0:
            raise ValueError("min_interval must be >= 0")


@dataclass(frozen=True)
class Adjust:
    channel_id: bytes
    deposit: int
    withdrawal: int


def plan_adjust(
    c: Channel, p: AdjustPolicy, spent: int, last_adjust: int | None, now: int
) -> Adjust | None:
    """What to do on chain for channel `c` now, or None. `spent`: deposited by the policy so
    far; `last_adjust`: when the policy last adjusted this channel (None: never)."""
    if c.busy or c.locked:
        return None
    if last_adjust is not None and now - last_adjust < p.min_interval:
        return None
    if c.mine < p.low:
        deposit = min(p.target - c.mine, p.budget - spent)
        return Adjust(c.channel_id, deposit, 0) if deposit > 0 else None
    if c.mine > p.high and p.withdraw:
        return Adjust(c.channel_id, 0, c.mine - p.target)
    return None
