"""Channel nodes over loopback TCP against the adjudicator on Anvil."""

from __future__ import annotations

import asyncio

import pytest
from channels_helpers import ETH

from offchain.channels.model import ChannelError

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
            # both sides propose at the same time: conflicts are resolved, nothing is lost
            await asyncio.gather(
                *(a.pay_direct(b.address, MILLI) for _ in range(25)),
                *(b.pay_direct(a.address, MILLI) for _ in range(25)),
            )
            va, vb = a.views[cid], b.views[cid]
            assert va.latest == vb.latest
            exp_a = 10 * E + 2 * E - 1830 * MILLI + 60 * MILLI + 40 * MILLI
            exp_b = 5 * E + 1830 * MILLI - 60 * MILLI - 40 * MILLI - 1 * E
            assert (va.my_balance(), vb.my_balance()) == (exp_a, exp_b)
            # sequential payments are one update each; the 50 concurrent ones are batched: fewer
            # updates (nonces) than payments, at least one per proposer
            n = va.latest.state.nonce - (120 + 20 + 2)
            assert 2 <= n < 50, n
            bob_before = bob.balance
            await a.cooperative_close(cid)  # sent by A: B's balance moves only by its payout
            return cid, exp_b, bob.balance - bob_before
        finally:
            await net.stop_all()

    cid, exp_b, paid_b = asyncio.run(run())
    assert paid_b == exp_b  # paid out at once by the close
    assert adjudicator.claimable(ETH, alice) == 0
    assert adjudicator.claimable(ETH, bob) == 1 * E  # only the withdrawal waits for a claim
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


def tower_blobs(db) -> int | None:
    import sqlite3

    con = sqlite3.connect(db)
    try:
        row = con.execute("SELECT count(*) FROM blobs").fetchone()
    except sqlite3.OperationalError:
        return None
    finally:
        con.close()
    return row[0]


def test_watchtower_process_disputes_while_client_offline(
    net, adjudicator, alice, bob, tower_account, tmp_path
):
    """The watchtower runs as its own OS process (python -m offchain.channels.watchtower)."""
    import os
    import subprocess
    import sys

    from offchain.channels.node import Tower

    env = {**os.environ, "L2KIT_TOWER_KEY": tower_account.private_key}
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "offchain.channels.watchtower",
            "--rpc",
            net.url,
            "--adjudicator",
            adjudicator.address,
            "--db",
            str(tmp_path / "tower.db"),
        ],
        env=env,
        stdout=subprocess.PIPE,
        text=True,
    )

    async def run():
        line = await asyncio.wait_for(asyncio.to_thread(proc.stdout.readline), 30)
        words = line.split()
        assert words[0] == "watchtower", line
        port = int(words[-1].rsplit(":", 1)[1])
        tower = Tower(words[1], "127.0.0.1", port, net.clock() + 10_000)
        a = await net.node(alice, "alice", tower=tower, watch_chain=False)
        b = await net.node(bob, "bob")
        try:
            cid = await a.open_channel(b.address, 10 * E)
            await b.fund_channel(cid, 5 * E)
            await b.pay_direct(a.address, 3 * E)
            stale = b.views[cid].latest
            for _ in range(4):
                await b.pay_direct(a.address, 10 * MILLI)
            # close nonces 0 (the anchor's guard: state 2), 1, 3, 4; never 2 (towerblob.py)
            await wait_for(lambda: tower_blobs(tmp_path / "tower.db") == 4)  # stored, unread
            await a.towerc.drain()
            await a.stop()  # the client goes offline
            net.nodes.remove(a)
            await b.close_channel(cid, state=stale)
            # the blob of close nonce 1 holds state 3: proven stale (3 >= 1 + 2)
            await wait_for(lambda: adjudicator.getChannel(cid).nonce == 3, timeout=10)
            net.clock.warp(101)
            alice_before = alice.balance
            await b.settle_and_unlock(cid)  # sent by B: A's balance moves only by its payout
            return cid, alice.balance - alice_before
        finally:
            await net.stop_all()

    try:
        cid, paid_a = asyncio.run(run())
    finally:
        proc.terminate()
        proc.wait(10)
    c = adjudicator.getChannel(cid)
    assert (c.closeNonce, c.nonce) == (1, 3)
    assert paid_a == 15 * E  # B forfeited its balance, A was paid at settlement
    assert adjudicator.claimable(ETH, alice) == 0


# ---------------------------------------------------------------- routing A -> B -> C -> D


async def line(net, alice, bob, carol, dave, fee_ppm=1000, base_fee=10, **cfg):
    """A-B, B-C, C-D channels, each opened by the left node with 5 ETH. B and C charge fees."""
    a = await net.node(alice, "a", **cfg)
    b = await net.node(bob, "b", base_fee=base_fee, fee_ppm=fee_ppm, **cfg)
    c = await net.node(carol, "c", base_fee=base_fee, fee_ppm=fee_ppm, **cfg)
    d = await net.node(dave, "d", **cfg)
    ab = await a.open_channel(b.address, 5 * E)
    bc = await b.open_channel(c.address, 5 * E)
    cd = await c.open_channel(d.address, 5 * E)
    return (a, b, c, d), (ab, bc, cd)


def graph(*nodes):
    return [e for n in nodes for e in n.edges()]


def no_locks(*pairs):
    return all(not n.views[cid].latest.state.locks for n, cid in pairs)


def test_routed_payment_over_three_hops(net, alice, bob, carol, dave):
    async def run():
        (a, b, c, d), (ab, bc, cd) = await line(net, alice, bob, carol, dave)
        try:
            amount = 1 * E
            h = d.create_invoice(amount)
            assert await a.pay(d.address, amount, h, graph(a, b, c, d))
            await wait_for(lambda: no_locks((a, ab), (b, bc), (c, cd), (b, ab), (c, bc), (d, cd)))
            fee_c = 10 + amount * 1000 // 10**6
            fee_b = 10 + (amount + fee_c) * 1000 // 10**6
            assert d.views[cd].my_balance() == amount
            assert c.views[cd].my_balance() == 5 * E - amount
            assert c.views[bc].my_balance() == amount + fee_c
            assert b.views[bc].my_balance() == 5 * E - amount - fee_c
            assert b.views[ab].my_balance() == amount + fee_c + fee_b
            assert a.views[ab].my_balance() == 5 * E - (amount + fee_c + fee_b)
            assert all(a.address.lower() != v.peer.lower() for v in d.views.values())
            for n, cid in ((a, ab), (b, ab), (b, bc), (c, bc), (c, cd), (d, cd)):
                assert n.views[cid].latest.state.nonce == 2
            # the invoice is single-use: its secret is public along the path now (B would claim
            # a new lock with it at once), so the payer refuses to lock money under it again
            with pytest.raises(ChannelError, match="already revealed"):
                await a.pay(d.address, amount, h, graph(a, b, c, d), timeout=3)
            assert no_locks((a, ab), (b, ab), (b, bc), (c, bc))
            assert d.views[cd].my_balance() == amount
        finally:
            await net.stop_all()

    asyncio.run(run())


def test_routed_payment_with_intermediary_offline(net, alice, bob, carol, dave):
    async def run():
        (a, b, c, d), (ab, bc, cd) = await line(net, alice, bob, carol, dave)
        try:
            g = graph(a, b, c, d)
            await c.stop()  # C goes offline
            h = d.create_invoice(E)
            assert not await a.pay(d.address, E, h, g, timeout=5)
            # B could not reach C: it cancelled A's lock, nobody lost anything
            await wait_for(lambda: no_locks((a, ab), (b, ab)))
            assert a.views[ab].my_balance() == 5 * E
            assert b.views[bc].my_balance() == 5 * E
            # C comes back from its database and the same payment goes through
            c2 = await net.restart(c, carol, "c", base_fee=10, fee_ppm=1000)
            assert c2.views[bc].latest == b.views[bc].latest
            assert await a.pay(d.address, E, h, g)
            await wait_for(lambda: d.views[cd].my_balance() == E)
        finally:
            await net.stop_all()

    asyncio.run(run())


def test_routed_payment_with_expired_lock(net, alice, bob, carol, dave):
    async def run():
        (a, b, c, d), (ab, bc, cd) = await line(net, alice, bob, carol, dave, auto_claim=False)
        try:
            g = graph(a, b, c, d)
            h = d.create_invoice(E)
            # a lock that expires too soon for B to forward it: refused, nothing locked anywhere
            assert not await a.pay(d.address, E, h, g, expiry_override=net.clock() + 5)
            assert no_locks((a, ab), (b, ab), (b, bc))
            # D receives the lock but sits on it until it expires
            assert not await a.pay(d.address, E, h, g, timeout=1)
            await wait_for(lambda: bool(d.views[cd].latest.state.locks))
            net.clock.warp(400)
            with pytest.raises(ChannelError, match="expired"):
                await d.claim_incoming(h)  # too late: C refuses the secret
            # C's own timer takes its lock back (D co-signs: the secret never reached the
            # chain); B and A follow
            await wait_for(lambda: no_locks((a, ab), (b, ab), (b, bc), (c, bc), (c, cd), (d, cd)))
            assert a.views[ab].my_balance() == 5 * E
            assert b.views[bc].my_balance() == 5 * E
            assert c.views[cd].my_balance() == 5 * E
            assert d.views[cd].my_balance() == 0
        finally:
            await net.stop_all()

    asyncio.run(run())


def test_routed_payment_with_secret_revealed_only_on_chain(
    net, adjudicator, alice, bob, carol, dave
):
    async def run():
        a = await net.node(alice, "a")
        b = await net.node(bob, "b")
        c = await net.node(carol, "c")
        d = await net.node(dave, "d", reveal_offchain=False)  # D only registers on chain
        ab = await a.open_channel(b.address, 5 * E)
        bc = await b.open_channel(c.address, 5 * E)
        cd = await c.open_channel(d.address, 5 * E)
        try:
            h = d.create_invoice(E)
            assert await a.pay(d.address, E, h, graph(a, b, c, d))  # B saw the secret on chain
            await wait_for(lambda: no_locks((a, ab), (b, ab), (b, bc), (c, bc)))
            assert b.views[bc].my_balance() == 4 * E and a.views[ab].my_balance() == 4 * E
            # C-D still carries the lock: D closes, settles and unlocks it on chain
            assert d.views[cd].latest.state.locks
            await d.close_channel(cd)
            await wait_for(lambda: c.views[cd].closed)
            net.clock.warp(101)
            await d.settle_and_unlock(cd)
            await c.settle_and_unlock(cd)
            return cd
        finally:
            await net.stop_all()

    cd = asyncio.run(run())
    assert adjudicator.getChannel(cd).lockedAmount == 0
    assert adjudicator.claimable(ETH, dave) == 0 and adjudicator.claimable(ETH, carol) == 0


def test_persisted_state_survives_restart(net, alice, bob):
    async def run():
        a, b, cid = await pair(net, alice, bob)
        try:
            for _ in range(5):
                await a.pay_direct(b.address, MILLI)
            latest = b.views[cid].latest
            await b.stop()
            b2 = await net.restart(b, bob, "bob")
            assert b2.views[cid].latest == latest
            await b2.pay_direct(a.address, 3 * MILLI)
            assert a.views[cid].my_balance() == 10 * E - 2 * MILLI
        finally:
            await net.stop_all()

    asyncio.run(run())


def test_node_that_lost_its_unacknowledged_proposal_catches_up(net, alice, bob):
    async def run():
        from dataclasses import replace

        a, b, cid = await pair(net, alice, bob)
        try:
            await a.pay_direct(b.address, MILLI)
            before = a.views[cid]
            await a.pay_direct(b.address, 2 * MILLI)
            # A crashes after B co-signed nonce 2 but before A's copy reached the disk
            a._save(replace(before, pending=None))
            await a.pay_direct(b.address, 4 * MILLI)  # resyncs to B's nonce 2, then pays
            assert a.views[cid].latest == b.views[cid].latest
            assert a.views[cid].latest.state.nonce == 3
            assert b.views[cid].my_balance() == 5 * E + 7 * MILLI
        finally:
            await net.stop_all()

    asyncio.run(run())


def test_honest_intermediary_claims_upstream_on_chain_when_payer_vanishes(
    net, adjudicator, alice, bob, carol, dave
):
    async def run():
        (a, b, c, d), (ab, _bc, cd) = await line(net, alice, bob, carol, dave, auto_claim=False)
        try:
            h = d.create_invoice(E)
            payment = asyncio.ensure_future(a.pay(d.address, E, h, graph(a, b, c, d)))
            await wait_for(lambda: bool(d.views[cd].latest.state.locks))
            payment.cancel()
            await a.stop()  # the payer disappears once every lock is in place
            net.nodes.remove(a)
            await d.claim_incoming(h)  # D reveals to C, C to B; B cannot reach A
            await wait_for(lambda: b.store.secret(h) is not None)
            assert adjudicator.getChannel(ab).status == 1  # B retries A before going on chain
            lock = b.views[ab].latest.state.lock(h)
            net.clock.warp(lock.expiry - net.clock() - b.config.margin() + 1)  # the danger zone
            await wait_for(lambda: adjudicator.getChannel(ab).status == 2)  # B closed A-B
            assert adjudicator.secretRevealedAt(h) > 0
            owed = b.views[ab].latest.state.lock(h).amount
            net.clock.warp(101)
            await b.settle_and_unlock(ab)
            return ab, owed
        finally:
            await net.stop_all()

    ab, owed = asyncio.run(run())
    assert owed > E  # what B paid downstream plus its fee
    assert adjudicator.getChannel(ab).lockedAmount == 0


def test_node_back_online_disputes_a_stale_close_made_while_it_was_away(
    net, adjudicator, alice, bob
):
    async def run():
        a, b, cid = await pair(net, alice, bob)
        try:
            stale = b.views[cid].latest  # nonce 0: B owns 5 ETH
            for _ in range(3):
                await b.pay_direct(a.address, E)
            await a.stop()  # A goes offline
            await b.close_channel(cid, state=stale)
            a2 = await net.restart(a, alice, "alice")  # back within the challenge period
            await wait_for(lambda: adjudicator.getChannel(cid).nonce == 3)
            assert a2.views[cid].closed
            net.clock.warp(101)
            await a2.settle_and_unlock(cid)
            return cid
        finally:
            await net.stop_all()

    cid = asyncio.run(run())
    c = adjudicator.getChannel(cid)
    assert (c.closeNonce, c.nonce, c.status) == (0, 3, 3)
    assert adjudicator.claimable(ETH, bob) == 0  # B forfeited its 2 ETH as well


def test_expired_lock_with_offline_peer_is_refunded_on_chain(
    net, adjudicator, alice, bob, carol, dave
):
    async def run():
        (a, b, c, d), (ab, bc, cd) = await line(net, alice, bob, carol, dave, auto_claim=False)
        try:
            h = d.create_invoice(E)
            assert not await a.pay(d.address, E, h, graph(a, b, c, d), timeout=1)
            await wait_for(lambda: bool(d.views[cd].latest.state.locks))
            await d.stop()  # D vanishes holding the lock (and never reveals the secret)
            net.nodes.remove(d)
            net.clock.warp(400)
            # D unreachable: C's timer closes C-D on chain instead (once, however it is asked)
            await c.expire_locks()
            await wait_for(lambda: adjudicator.getChannel(cd).status == 2)
            await wait_for(lambda: no_locks((a, ab), (b, ab), (b, bc), (c, bc)))
            net.clock.warp(101)
            await c.settle_and_unlock(cd)  # the expired lock is refunded to C
            return cd
        finally:
            await net.stop_all()

    cd = asyncio.run(run())
    c = adjudicator.getChannel(cd)
    assert c.status == 3 and c.lockedAmount == 0
    assert adjudicator.claimable(ETH, carol) == 0  # C claimed its 5 ETH back
