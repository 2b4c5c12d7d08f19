"""Channel nodes over loopback TCP against the adjudicator on Anvil."""

from __future__ import annotations

import asyncio

from channels_helpers import ETH

E = 10**18
MILLI = 10**15


async def wait_for(cond, timeout: float = 5.0) -> None:
    loop = asyncio.get_running_loop()
    end = loop.time() + timeout
    while not cond():
        if loop.time() > end:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.02)


async def pair(net, alice, bob, a_amount=10 * E, b_amount=5 * E, **cfg):
    a = await net.node(alice, "alice", **cfg)
    b = await net.node(bob, "bob", **cfg)
    cid = await a.open_channel(b.address, a_amount)
    if b_amount:
        await b.fund_channel(cid, b_amount)
    return a, b, cid


def test_pay_both_ways_topup_withdraw_cooperative_close(net, adjudicator, alice, bob):
    async def run():
        a, b, cid = await pair(net, alice, bob)
        try:
            for i in range(60):
                await a.pay_direct(b.address, (i + 1) * MILLI)  # 1830 milli to B
                await b.pay_direct(a.address, MILLI)  # 60 milli back
            await a.adjust(cid, deposit=2 * E)
            for _ in range(20):
                await b.pay_direct(a.address, 2 * MILLI)  # 40 milli
            await b.adjust(cid, withdrawal=1 * E)
            await asyncio.gather(
                *(a.pay_direct(b.address, MILLI) for _ in range(5)),
                *(b.pay_direct(a.address, MILLI) for _ in range(5)),
            )
            va, vb = a.views[cid], b.views[cid]
            assert va.latest == vb.latest
            exp_a = 10 * E + 2 * E - 1830 * MILLI + 60 * MILLI + 40 * MILLI
            exp_b = 5 * E + 1830 * MILLI - 60 * MILLI - 40 * MILLI - 1 * E
            assert (va.my_balance(), vb.my_balance()) == (exp_a, exp_b)
            assert va.latest.state.nonce == 120 + 20 + 10 + 2
            await a.cooperative_close(cid)
            return cid, exp_a, exp_b
        finally:
            await net.stop_all()

    cid, exp_a, exp_b = asyncio.run(run())
    assert adjudicator.claimable(ETH, alice) == exp_a
    assert adjudicator.claimable(ETH, bob) == exp_b + 1 * E  # plus the withdrawal
    assert adjudicator.getChannel(cid).status == 3  # settled


def test_unilateral_close_with_latest_state(net, adjudicator, alice, bob):
    async def run():
        a, b, cid = await pair(net, alice, bob)
        try:
            for _ in range(10):
                await a.pay_direct(b.address, 100 * MILLI)
            await b.close_channel(cid)
            await wait_for(lambda: a.views[cid].closed)
            net.clock.warp(101)
            await b.settle_and_unlock(cid)
            await a.settle_and_unlock(cid)
            return cid
        finally:
            await net.stop_all()

    cid = asyncio.run(run())
    c = adjudicator.getChannel(cid)
    assert c.status == 3 and c.nonce == 10 and c.closeNonce == 10
    assert adjudicator.claimable(ETH, alice) == 0  # both claimed
    assert adjudicator.claimable(ETH, bob) == 0


def test_stale_close_disputed_by_peer_node_with_penalty(net, adjudicator, alice, bob):
    async def run():
        a, b, cid = await pair(net, alice, bob)
        try:
            await b.pay_direct(a.address, 2 * E)
            stale = b.views[cid].latest  # B holds 12/3 ... then pays A back and more
            for _ in range(5):
                await a.pay_direct(b.address, 1 * E)
            assert b.views[cid].my_balance() == 8 * E
            await b.close_channel(cid, state=stale)  # B cheats with nonce 1 (A holds 6)
            await wait_for(lambda: adjudicator.getChannel(cid).nonce == 6)
            net.clock.warp(101)
            await a.settle_and_unlock(cid)
            return cid
        finally:
            await net.stop_all()

    cid = asyncio.run(run())
    c = adjudicator.getChannel(cid)
    assert (c.closeNonce, c.nonce) == (1, 6)
    assert adjudicator.claimable(ETH, bob) == 0  # forfeited its 8 ETH
    assert adjudicator.claimable(ETH, alice) == 0  # A claimed all 15 ETH


def test_watchtower_disputes_while_client_offline(
    net, adjudicator, alice, bob, tower_account, tmp_path
):
    from offchain.channels.node import Tower
    from offchain.channels.watchtower import Watchtower

    async def run():
        wt = Watchtower(tower_account.private_key, tmp_path / "tower.db", net.client(tower_account))
        await wt.start()
        tower = Tower(wt.address, "127.0.0.1", wt.port, net.clock() + 10_000)
        a = await net.node(alice, "alice", tower=tower, watch_chain=False)
        b = await net.node(bob, "bob")
        try:
            cid = await a.open_channel(b.address, 10 * E)
            await b.fund_channel(cid, 5 * E)
            await b.pay_direct(a.address, 3 * E)
            stale = b.views[cid].latest
            for _ in range(4):
                await b.pay_direct(a.address, 10 * MILLI)
            await wait_for(lambda: wt.newest(cid) == 5)
            await a.stop()  # the client goes offline
            net.nodes.remove(a)
            await b.close_channel(cid, state=stale)
            await wait_for(lambda: wt.disputes == 1)
            net.clock.warp(101)
            await b.settle_and_unlock(cid)
            return cid
        finally:
            await net.stop_all()
            await wt.stop()

    cid = asyncio.run(run())
    c = adjudicator.getChannel(cid)
    assert (c.closeNonce, c.nonce) == (1, 5)
    assert adjudicator.claimable(ETH, alice) == 15 * E
