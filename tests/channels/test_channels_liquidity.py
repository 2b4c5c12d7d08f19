"""Liquidity: the pure policies (rebalance plan and cycle, on-chain band with hysteresis, rate
limit and budget, routing memory with decay) and a ten-node network on Anvil in which payments
keep succeeding after the payer's direct capacity runs out."""

from __future__ import annotations

import asyncio
import time
from types import SimpleNamespace

import pytest
from test_channels_nodes import MILLI, E

from offchain.channels import crypto, liquidity
from offchain.channels.autopilot import Autopilot, AutopilotConfig
from offchain.channels.router import Edge, Hop, Memory, find_route

ME, P, Q, R = "0xme", "0xp", "0xq", "0xr"


def ch(peer: str, mine: int, theirs: int, locked: int = 0, busy: bool = False):
    return liquidity.Channel(peer.encode().ljust(32, b"\0"), peer, mine, theirs, locked, busy)


# ---------------------------------------------------------------- pure: rebalancing


def test_rebalance_plan_moves_from_richest_to_poorest_bounded():
    p = liquidity.RebalancePolicy(max_amount=300, min_amount=10, max_fee_ppm=10_000)
    chans = [ch(P, 900, 100), ch(Q, 100, 900), ch(R, 500, 500)]
    plan = liquidity.plan_rebalance(chans, p)
    assert plan is not None and (plan.source.peer, plan.target.peer) == (P, Q)
    assert plan.amount == 300 and plan.max_fee == 3  # capped by max_amount; 1 % of it
    wide = liquidity.RebalancePolicy(max_amount=10**9)
    assert liquidity.plan_rebalance(chans, wide).amount == 400  # both move to the middle
    # inside the band, busy channels, or an amount under the minimum: nothing
    assert liquidity.plan_rebalance([ch(P, 700, 300), ch(Q, 300, 700)], p) is None
    assert liquidity.plan_rebalance([ch(P, 900, 100, busy=True), ch(Q, 100, 900)], p) is None
    tiny = liquidity.RebalancePolicy(min_amount=1000)
    assert liquidity.plan_rebalance(chans, tiny) is None
    for bad in (dict(low_ppm=800_000, high_ppm=200_000), dict(min_amount=0)):
        with pytest.raises(ValueError):
            liquidity.RebalancePolicy(**bad)


def graph(fee_ppm: int = 1000, base: int = 1, cap: int = 10**6) -> list[Edge]:
    pairs = [(ME, P), (P, R), (R, Q), (Q, ME), (P, Q)]
    out = []
    for a, b in pairs:
        out += [Edge(a, b, cap, base, fee_ppm), Edge(b, a, cap, base, fee_ppm)]
    return out


def test_cycle_route_pays_itself_around_within_the_fee_limit():
    plan = liquidity.Rebalance(ch(P, 900, 100), ch(Q, 100, 900), 10_000, 100)
    route = liquidity.cycle_route(graph(), ME, plan)
    assert route is not None
    assert [h.node for h in route] == [P, Q, ME]  # P -> Q directly, never through me
    assert route[-1] == Hop(ME, 10_000)
    # Q charges 1 + 10, P charges 1 + its share on what it forwards
    assert route[1].amount == 10_000 + 11 and route[0].amount == 10_011 + 1 + 10
    assert route[0].amount - plan.amount <= plan.max_fee
    stingy = liquidity.Rebalance(plan.source, plan.target, 10_000, 21)
    assert liquidity.cycle_route(graph(), ME, stingy) is None  # 22 in fees > 21
    no_back = [e for e in graph() if not (e.src == Q and e.dst == ME)]
    assert liquidity.cycle_route(no_back, ME, plan) is None
    # the only way from P to Q through me is refused: a cycle never passes through its payer
    only_me = [e for e in graph() if {e.src, e.dst} != {P, Q} and {e.src, e.dst} != {P, R}]
    assert liquidity.cycle_route(only_me, ME, plan) is None


# ---------------------------------------------------------------- pure: on-chain policy


def test_adjust_policy_band_hysteresis_rate_limit_and_budget():
    p = liquidity.AdjustPolicy(low=100, target=500, high=900, budget=700, min_interval=60)
    c = ch(P, 50, 10)
    assert liquidity.plan_adjust(c, p, 0, None, 1000) == liquidity.Adjust(c.channel_id, 450, 0)
    for inside in (100, 500, 900):  # hysteresis: nothing inside the band, edges included
        assert liquidity.plan_adjust(ch(P, inside, 0), p, 0, None, 1000) is None
    assert liquidity.plan_adjust(ch(P, 950, 0), p, 0, None, 1000).withdrawal == 450
    assert liquidity.plan_adjust(c, p, 0, 990, 1000) is None  # rate limit
    assert liquidity.plan_adjust(c, p, 0, 940, 1000) is not None
    assert liquidity.plan_adjust(c, p, 500, None, 1000).deposit == 200  # what the budget leaves
    assert liquidity.plan_adjust(c, p, 700, None, 1000) is None  # budget spent
    assert liquidity.plan_adjust(ch(P, 50, 10, locked=5), p, 0, None, 1000) is None
    assert liquidity.plan_adjust(ch(P, 50, 10, busy=True), p, 0, None, 1000) is None
    no_wd = liquidity.AdjustPolicy(low=100, target=500, high=900, budget=0, withdraw=False)
    assert liquidity.plan_adjust(ch(P, 950, 0), no_wd, 0, None, 1000) is None
    with pytest.raises(ValueError):
        liquidity.AdjustPolicy(low=600, target=500, high=900, budget=1)


def test_autopilot_config_from_json_names_the_bad_key():
    cfg = AutopilotConfig.from_json(
        {"rebalance": {"max_amount": 5}, "adjust": {"low": 1, "target": 2, "high": 3, "budget": 4}}
    )
    assert cfg.rebalance.max_amount == 5 and cfg.adjust.budget == 4
    for bad, word in (({"rebalanse": {}}, "rebalanse"), ({"adjust": {"lo": 1}}, "lo")):
        with pytest.raises(ValueError, match=word):
            AutopilotConfig.from_json(bad)


def test_service_autopilot_routes_over_own_and_configured_edges():
    node = SimpleNamespace(edges=lambda: [Edge(ME, P, 5)], liquidity=None)
    pilot = Autopilot.for_service(node, {"edges": [{"src": P, "dst": Q, "capacity": 7}]})
    assert node.liquidity is pilot and [e.capacity for e in pilot.graph()] == [5, 7]
    assert pilot.config.rebalance is None and pilot.config.adjust is None  # both off
    with pytest.raises(ValueError, match="capacity"):
        AutopilotConfig.from_json({"edges": [{"src": P, "dst": Q}]})
    with pytest.raises(ValueError, match="object"):
        AutopilotConfig.from_json([1])


# ---------------------------------------------------------------- pure: routing memory


def test_failure_memory_penalises_decays_and_prefers_known_capacity():
    edges = [
        Edge(ME, P, 10**6),
        Edge(P, R, 10**6, 1, 100),  # cheap
        Edge(ME, Q, 10**6),
        Edge(Q, R, 10**6, 5, 100),  # dearer
    ]
    m = Memory(half_life=100.0, failure_penalty=1000, failure_ppm=0, uncertainty_ppm=0)
    assert [h.node for h in find_route(edges, ME, R, 1000, memory=m, now=0)] == [P, R]
    m.route_failed(ME, [Hop(P, 1001), Hop(R, 1000)], now=0)
    assert set(m.failures) == {(P, R)}  # not our own edge
    assert [h.node for h in find_route(edges, ME, R, 1000, memory=m, now=1)] == [Q, R]
    # a smaller amount than the failed one is not penalised
    assert [h.node for h in find_route(edges, ME, R, 500, memory=m, now=1)] == [P, R]
    # after ten half-lives the penalty (about 1) no longer outweighs the fee difference (4)
    assert [h.node for h in find_route(edges, ME, R, 1000, memory=m, now=1000)] == [P, R]
    # a success clears the failure
    m.succeeded(P, R, 2000, now=2)
    assert m.penalty(edges[1], 1000, 2) == 0
    # uncertainty: of two equal routes, the one known to carry the amount wins
    u = Memory(uncertainty_ppm=100_000)
    even = [Edge(ME, P, 10**6), Edge(P, R, 10**4), Edge(ME, Q, 10**6), Edge(Q, R, 10**4)]
    u.succeeded(Q, R, 5000, now=0)
    assert [h.node for h in find_route(even, ME, R, 4000, memory=u, now=1)] == [Q, R]
    assert u.penalty(even[1], 4000, 1) > 0 == u.penalty(even[3], 4000, 1)
    assert [h.node for h in find_route(even, ME, R, 4000, avoid=frozenset({Q}))] == [P, R]


# ---------------------------------------------------------------- ten nodes on Anvil


FEE_PPM, BASE_FEE = 1000, 10
RING = 10
PAYMENTS = 24


def fresh_accounts(chain, n: int) -> list[SimpleNamespace]:
    w3 = chain.provider.web3
    out = []
    for i in range(n):
        key = "0x" + crypto.keccak(f"l2kit liquidity test {i}".encode()).hex()
        acct = SimpleNamespace(private_key=key, address=crypto.Signer(key).address)
        w3.provider.make_request("anvil_setBalance", [acct.address, hex(1000 * E)])
        out.append(acct)
    return out


def gossip(nodes, me) -> list[Edge]:
    """What `me` knows: its own edges exactly, the others' as channel totals (as a gossiped
    graph knows capacity, not balance): routes through them can fail and are remembered."""
    out = list(me.edges())
    for n in nodes:
        if n is me:
            continue
        for v in n.views.values():
            if not v.closed:
                total = v.my_balance() + v.peer_balance()
                out.append(Edge(n.address, v.peer, total, BASE_FEE, FEE_PPM))
    return out


@pytest.mark.slow  # ten nodes, 14 channels opened and funded on Anvil, 24 routed payments: ~9 s
def test_ten_nodes_payments_keep_succeeding_after_direct_capacity_runs_out(net, chain):
    """Ten nodes on a ring (both sides fund each channel) with five chords; node 0 also has a
    rich channel to node 9. Node 0 pays node 1 2.4 times the capacity of their channel. As
    direct capacity runs out, payments reroute (remembering failed edges), node 0's autopilot
    moves liquidity back into the 0-1 channel by paying itself around the ring, and its on-chain
    policy tops the channel up. Every payment succeeds; funds are conserved."""
    accts = fresh_accounts(chain, RING)
    t0 = time.monotonic()

    async def run():
        nodes = [
            await net.node(a, f"n{i}", base_fee=BASE_FEE, fee_ppm=FEE_PPM, request_timeout=5.0)
            for i, a in enumerate(accts)
        ]
        try:
            pairs = [(i, (i + 1) % RING, 1 * E, 1 * E) for i in range(RING)]
            pairs += [(i, i + 5, 1 * E, 1 * E) for i in range(1, 5)]
            pairs[RING - 1] = (0, 9, 3 * E, E // 5)  # 0 <-> 9: 0 holds most of it
            cids = await asyncio.gather(
                *(nodes[a].open_channel(nodes[b].address, x) for a, b, x, _ in pairs)
            )
            await asyncio.gather(
                *(nodes[b].fund_channel(c, y) for (_, b, _, y), c in zip(pairs, cids, strict=True))
            )
            deposits = sum(x + y for _, _, x, y in pairs)
            payer, payee = nodes[0], nodes[1]
            pilot = Autopilot(
                payer,
                AutopilotConfig(
                    rebalance=liquidity.RebalancePolicy(
                        low_ppm=250_000,
                        high_ppm=750_000,
                        max_amount=E // 2,
                        min_amount=10 * MILLI,
                        max_fee_ppm=10_000,
                    ),
                    adjust=liquidity.AdjustPolicy(
                        low=E // 5,
                        target=E,
                        high=10 * E,
                        budget=2 * E,
                        min_interval=3600,
                        withdraw=False,
                    ),
                    pay_timeout=10.0,
                ),
                lambda: gossip(nodes, payer),
            )

            def holdings(n) -> int:
                return sum(v.my_balance() for v in n.views.values() if not v.closed)

            before = holdings(payee)
            ok = []
            amount = 100 * MILLI
            for i in range(PAYMENTS):  # 2.4 ETH to node 1 over a channel holding 1 ETH of node 0's
                h = payee.create_invoice(amount)
                ok.append(
                    await payer.pay(
                        payee.address, amount, h, gossip(nodes, payer), timeout=10, attempts=6
                    )
                )
                if i % 3 == 2:
                    await pilot.step()
            st = payer.status()["liquidity"]
            await asyncio.sleep(0.5)  # the last claims settle upstream
            views = {}
            for c in cids:
                owners = [n for n in nodes if c in n.views]
                assert owners[0].views[c].latest == owners[1].views[c].latest
                views[c] = owners[0].views[c].latest.state
            total = sum(
                s.balance_a + s.balance_b + sum(x.amount for x in s.locks) for s in views.values()
            )
            received = holdings(payee) - before
            return ok, st, total, deposits, received, payer.memory

        finally:
            await net.stop_all()

    ok, st, total, deposits, received, memory = asyncio.run(run())
    assert all(ok), ok
    assert st["topups"] >= 1, st  # the on-chain policy triggered
    assert st["rebalances"] >= 1 and st["rebalanced"] > 0, st  # circular self-payments ran
    assert st["rebalance_fees"] <= st["rebalanced"] * 10_000 // 1_000_000
    assert total == deposits + st["deposited"]  # nothing created or lost, top-ups included
    assert st["deposited"] <= 2 * E
    assert received >= PAYMENTS * 100 * MILLI  # 2.4 times the direct capacity arrived
    print(
        "ten-node liquidity test:",
        round(time.monotonic() - t0, 1),
        "s",
        st,
        "memory failures:",
        len(memory.failures),
    )


class FakeStore(dict):
    def put(self, k, v):
        self[k] = v


def fake_node(mine: int, adjust):
    from offchain.channels.machine import ChannelView
    from offchain.channels.model import SignedState, State

    cid = b"\x01" * 32
    latest = SignedState(State(cid, 1, mine, 10 * E), b"", b"")
    view = ChannelView(cid, 0, ME, P, "0x" + "00" * 20, latest)
    node = SimpleNamespace(
        store=FakeStore(),
        clock=lambda: 1_000,
        views={cid: view},
        _closing=set(),
        adjust=adjust,
        errors=[],
        memory=Memory(),
        address=ME,
        liquidity=None,
    )
    node._report = node.errors.append
    return node


def test_autopilot_adjusts_once_per_interval_keeps_its_budget_and_reports_failures():
    calls = []

    async def adjust(cid, deposit, withdrawal):
        calls.append((deposit, withdrawal))

    policy = liquidity.AdjustPolicy(low=E, target=2 * E, high=50 * E, budget=3 * E)
    node = fake_node(E // 2, adjust)
    pilot = Autopilot(node, AutopilotConfig(adjust=policy), lambda: [])
    asyncio.run(pilot.step())
    asyncio.run(pilot.step())  # within min_interval: nothing more
    assert calls == [(3 * E // 2, 0)] and pilot.status()["budget_left"] == 3 * E // 2
    # a restarted autopilot over the same store keeps the budget spent and the rate limit
    again = Autopilot(node, AutopilotConfig(adjust=policy), lambda: [])
    asyncio.run(again.step())
    assert len(calls) == 1 and again.status()["deposited"] == 3 * E // 2

    async def failing(cid, deposit, withdrawal):
        raise RuntimeError("chain down")

    bad = fake_node(E // 2, failing)
    p2 = Autopilot(bad, AutopilotConfig(adjust=policy), lambda: [])
    asyncio.run(p2.step())
    assert any("chain down" in e for e in bad.errors)
    assert p2.status()["topups"] == 0 and p2.status()["deposited"] == 0
