"""The node's liquidity autopilot: runs the pure policies of liquidity.py and executes them.

Each `step` looks at the node's open channels; for each one the on-chain policy wants adjusted it
calls `node.adjust` (what it deposited counts against the budget, kept in the node's store with
the time of each channel's last policy adjustment, so a restart neither forgets the budget nor
the rate limit); then it plans at most one circular rebalance and pays it to itself over
`cycle_route`. `graph()` gives the edges the node knows (its own and its peers'). Failures are
reported in the node's status and the next step tries again.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from offchain.channels import liquidity
from offchain.channels.model import ChannelError, hx
from offchain.channels.router import Edge

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class AutopilotConfig:
    rebalance: liquidity.RebalancePolicy | None = None
    adjust: liquidity.AdjustPolicy | None = None
    interval: float = 1.0  # seconds between steps of `run`
    pay_timeout: float = 10.0
    edges: tuple[Edge, ...] = ()  # other nodes' channels the operator knows (cycle routes)

    @staticmethod
    def from_json(raw: object) -> AutopilotConfig:
        """From the node service's `liquidity` config object (docs/channels-service.md);
        ValueError says which key is wrong."""
        if not isinstance(raw, dict):
            raise ValueError("`liquidity` must be an object")
        unknown = set(raw) - {"rebalance", "adjust", "interval", "pay_timeout", "edges"}
        if unknown:
            raise ValueError(f"unknown `liquidity` keys: {sorted(unknown)}")
        try:
            reb = raw.get("rebalance")
            adj = raw.get("adjust")
            edges = tuple(
                Edge(
                    str(e["src"]),
                    str(e["dst"]),
                    int(e["capacity"]),
                    int(e.get("base_fee", 0)),
                    int(e.get("fee_ppm", 0)),
                )
                for e in raw.get("edges", [])
            )
            return AutopilotConfig(
                liquidity.RebalancePolicy(**reb) if reb is not None else None,
                liquidity.AdjustPolicy(**adj) if adj is not None else None,
                float(raw.get("interval", 1.0)),
                float(raw.get("pay_timeout", 10.0)),
                edges,
            )
        except (TypeError, KeyError, AttributeError) as e:
            raise ValueError(f"`liquidity`: {e}") from e


class Autopilot:
    def __init__(self, node: Any, config: AutopilotConfig, graph: Callable[[], list[Edge]]):
        self.node, self.config, self.graph = node, config, graph
        self.rebalances = 0
        self.rebalance_failures = 0
        self.rebalanced = 0  # amount moved by successful rebalances
        self.rebalance_fees = 0
        self.topups = 0
        self.withdrawals = 0
        self._task: asyncio.Task | None = None
        node.liquidity = self

    @property
    def spent(self) -> int:
        return int(self.node.store.get("liq:spent", 0))

    def status(self) -> dict:
        adj = self.config.adjust
        return {
            "rebalances": self.rebalances,
            "rebalance_failures": self.rebalance_failures,
            "rebalanced": self.rebalanced,
            "rebalance_fees": self.rebalance_fees,
            "topups": self.topups,
            "withdrawals": self.withdrawals,
            "deposited": self.spent,
            "budget_left": None if adj is None else max(0, adj.budget - self.spent),
        }

    def channels(self) -> list[liquidity.Channel]:
        n = self.node
        return [
            liquidity.Channel(
                v.channel_id,
                v.peer,
                v.my_balance(),
                v.peer_balance(),
                sum(x.amount for x in v.latest.state.locks),
                v.adjusting is not None or v.channel_id in n._closing,
            )
            for v in n.views.values()
            if not v.closed
        ]

    async def step(self) -> None:
        chans = self.channels()
        adj = self.config.adjust
        if adj is not None:
            for c in chans:
                await self._adjust(c, adj)
        if self.config.rebalance is not None:
            await self._rebalance(self.channels(), self.config.rebalance)

    async def _adjust(self, c: liquidity.Channel, p: liquidity.AdjustPolicy) -> None:
        n = self.node
        key = "liq:last:" + hx(c.channel_id)
        last = n.store.get(key)
        now = n.clock()
        plan = liquidity.plan_adjust(c, p, self.spent, None if last is None else int(last), now)
        if plan is None:
            return
        # the rate limit counts attempts: a failing adjustment is not retried in a tight loop
        n.store.put(key, now)
        try:
            await n.adjust(c.channel_id, plan.deposit, plan.withdrawal)
        except Exception as e:  # the chain, the peer: report it, the next step tries again
            n._report(f"liquidity: adjusting {hx(c.channel_id)} failed: {e}")
            return
        if plan.deposit:
            n.store.put("liq:spent", self.spent + plan.deposit)
            self.topups += 1
        if plan.withdrawal:
            self.withdrawals += 1

    async def _rebalance(
        self, chans: list[liquidity.Channel], p: liquidity.RebalancePolicy
    ) -> None:
        n = self.node
        plan = liquidity.plan_rebalance(chans, p)
        if plan is None:
            return
        route = liquidity.cycle_route(self.graph(), n.address, plan, n.memory, n.clock())
        if route is None:
            return
        h = n.create_invoice(plan.amount)
        try:
            outcome = await n.pay_route(route, h, self.config.pay_timeout)
        except ChannelError as e:
            outcome = f"error: {e}"
        if outcome == "ok":
            self.rebalances += 1
            self.rebalanced += plan.amount
            self.rebalance_fees += route[0].amount - plan.amount
        else:
            self.rebalance_failures += 1
            log.info("liquidity: rebalance of %s failed: %s", plan.amount, outcome)

    async def run(self) -> None:
        while True:
            try:
                await self.step()
            except Exception as e:  # never stop managing liquidity over one bad step
                self.node._report(f"liquidity: step failed: {e!r}")
            await asyncio.sleep(self.config.interval)

    @staticmethod
    def for_service(node: Any, raw: object) -> Autopilot:
        """The autopilot of the node service's `liquidity` config: the node's own edges plus
        the configured ones as its graph."""
        cfg = AutopilotConfig.from_json(raw)
        return Autopilot(node, cfg, lambda: [*node.edges(), *cfg.edges])

    def start(self) -> None:
        self._task = self.node._spawn(self.run())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(BaseException):
                await self._task
