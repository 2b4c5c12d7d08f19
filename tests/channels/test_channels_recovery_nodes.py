"""Node recovery after a crash, in process (issue #9, items 9 and 11): a crash is simulated by
stopping a node at the protocol point (its database is what a SIGKILL would leave) and starting a
new node from the same database; tests/channels/test_channels_crash.py does the same with real
processes and SIGKILL."""

from __future__ import annotations

import asyncio
from dataclasses import replace

import pytest
from test_channels_nodes import MILLI, E, graph, line, pair, wait_for

from offchain.channels.machine import Expire
from offchain.channels.model import ChannelError
from offchain.channels.node import Node, NodeConfig


async def reborn(net, old: Node, account, name: str, **cfg) -> Node:
    """The node back from its database on its old port, with no peer addresses handed to it."""
    port = old.port
    await old.stop()
    net.nodes.remove(old)
    cfg.setdefault("request_timeout", 3.0)
    n = Node(
        account.private_key,
        net.tmp / f"{name}.db",
        net.domain,
        chain=net.client(account),
        clock=net.clock,
        config=NodeConfig(port=port, **cfg),
    )
    await n.start()
    net.nodes.append(n)
    return n


async def noop(*_args, **_kw) -> None:
    return None


def fees(n: Node) -> dict:
    return {"base_fee": n.config.base_fee, "fee_ppm": n.config.fee_ppm}


def test_never_expire_known_secret_restarted_intermediary_claims_upstream(
    net, adjudicator, alice, bob, carol, dave
):
    """B learns the secret from C and dies before claiming from A. Back up, B claims at once,
    off chain, with no application call and no peer address handed to it."""

    async def run():
        # lock_timer=0: the rules run once at start only, so the crash below is not undone by
        # B's timer before B "dies"
        (a, b, c, d), (ab, _, _) = await line(net, alice, bob, carol, dave, lock_timer=0)
        try:
            b._claim_upstream = noop  # the crash: the secret is stored, the claim never sent
            h = d.create_invoice(E)
            assert not await a.pay(d.address, E, h, graph(a, b, c, d), timeout=2)
            await wait_for(lambda: b.store.secret(h) is not None)
            assert a.views[ab].latest.state.lock(h) is not None  # A still holds B's money
            b2 = await reborn(net, b, bob, "b", **fees(b))
            await wait_for(lambda: not a.views[ab].latest.state.locks)
            await wait_for(lambda: b2.views[ab].latest == a.views[ab].latest)
            assert b2.views[ab].my_balance() > E  # paid what it forwarded, plus its fee
            return ab
        finally:
            await net.stop_all()

    ab = asyncio.run(run())
    assert adjudicator.getChannel(ab).status == 1  # no on-chain close was needed


def test_never_expire_known_secret_refuses_peer_expire(net, adjudicator, alice, bob):
    """B (payee) registered the secret on chain before expiry but A's off-chain claim never
    happened: B refuses to co-sign A's Expire, the lock is B's on chain."""

    async def run():
        a, b, cid = await pair(net, alice, bob, auto_claim=False)
        try:
            h = b.create_invoice(E)
            edges = graph(a, b)
            assert not await a.pay(b.address, E, h, edges, timeout=1)
            await wait_for(lambda: bool(b.views[cid].latest.state.locks))
            # under load the payer's own view can trail its 1 s payment timeout: wait for it
            await wait_for(lambda: a.views[cid].latest.state.lock(h) is not None)
            secret = b.store.secret(h)
            await asyncio.to_thread(b.chain.register_secret, secret)  # by expiry
            net.clock.warp(400)
            with pytest.raises(ChannelError, match="we know the secret"):
                await a._propose(cid, Expire(h))
            assert a.views[cid].latest.state.lock(h) is not None
            assert b.views[cid].latest.state.lock(h) is not None
        finally:
            await net.stop_all()

    asyncio.run(run())


def test_never_expire_known_secret_no_cancel_of_known_secret(net, alice, bob):
    """The node never proposes Cancel for a lock whose secret it knows, whatever asks it to."""

    async def run():
        a, b, cid = await pair(net, alice, bob, auto_claim=False)
        try:
            h = b.create_invoice(E)
            assert not await a.pay(b.address, E, h, graph(a, b), timeout=1)
            await wait_for(lambda: bool(b.views[cid].latest.state.locks))
            await b._cancel_upstream(h)  # e.g. a failed forward
            from offchain.channels.machine import Cancel

            with pytest.raises(ChannelError, match="we know the secret"):
                await b._propose(cid, Cancel(h))
            assert b.views[cid].latest.state.lock(h) is not None
        finally:
            await net.stop_all()

    asyncio.run(run())


@pytest.mark.parametrize("kept", [True, False], ids=["proposal-kept", "proposal-lost"])
def test_recovery_lost_countersignature_does_not_block_peer(net, alice, bob, kept):
    """A dies after B co-signed A's update but before A saved B's signature. B's next payment
    is accepted at once (A adopts the state B holds), not refused as a conflict."""

    async def run():
        a, b, cid = await pair(net, alice, bob)
        try:
            await a.pay_direct(b.address, MILLI)
            before = a.views[cid]
            await a.pay_direct(b.address, 2 * MILLI)
            lost = a.views[cid]
            pending = None
            if kept:
                from offchain.channels.machine import Pay, Proposal

                pending = Proposal((Pay(2 * MILLI),), lost.latest.state, lost.latest.sig_a)
            a._save(replace(before, pending=pending))
            await b.pay_direct(a.address, 5 * MILLI)  # today: "conflict" / "not the next one"
            assert a.views[cid].latest == b.views[cid].latest
            assert a.views[cid].latest.state.nonce == 3 and a.views[cid].pending is None
            assert a.views[cid].my_balance() == 10 * E - 3 * MILLI + 5 * MILLI
        finally:
            await net.stop_all()

    asyncio.run(run())


def test_recovery_leftover_proposal_resynced_at_start(net, alice, bob):
    """A restarts holding its unacknowledged proposal; it resyncs at start without proposing."""

    async def run():
        a, b, cid = await pair(net, alice, bob)
        try:
            await a.pay_direct(b.address, MILLI)
            before = a.views[cid]
            await a.pay_direct(b.address, 2 * MILLI)
            lost = a.views[cid]
            from offchain.channels.machine import Pay, Proposal

            leftover = Proposal((Pay(2 * MILLI),), lost.latest.state, lost.latest.sig_a)
            a._save(replace(before, pending=leftover))
            a2 = await reborn(net, a, alice, "alice")
            await wait_for(lambda: a2.views[cid].pending is None)
            assert a2.views[cid].latest == b.views[cid].latest
        finally:
            await net.stop_all()

    asyncio.run(run())


def test_recovery_orphaned_incoming_lock_cancelled_at_once(
    net, adjudicator, alice, bob, carol, dave
):
    """B dies after accepting A's lock and before forwarding it. Back up, B gives the lock back
    at once instead of letting A wait for its expiry."""

    async def run():
        (a, b, c, d), (ab, bc, _) = await line(net, alice, bob, carol, dave)
        try:
            b._forward = noop  # the crash: the incoming lock is saved, nothing forwarded
            h = d.create_invoice(E)
            assert not await a.pay(d.address, E, h, graph(a, b, c, d), timeout=1)
            assert b.views[ab].latest.state.lock(h) is not None
            b2 = await reborn(net, b, bob, "b", **fees(b))
            await wait_for(lambda: not a.views[ab].latest.state.locks, timeout=3)
            assert a.views[ab].my_balance() == 5 * E  # refunded long before expiry
            await wait_for(lambda: b2.views[ab].latest == a.views[ab].latest)
            assert not b2.views[bc].latest.state.locks
        finally:
            await net.stop_all()

    asyncio.run(run())


def test_recovery_peer_list_survives_restart(net, adjudicator, alice, bob):
    """A node restarted with no peer handed to it still reaches its peers (persisted)."""

    async def run():
        a, b, cid = await pair(net, alice, bob)
        try:
            b2 = await reborn(net, b, bob, "bob")
            assert a.address.lower() in b2.directory
            await b2.pay_direct(a.address, MILLI)  # today: "no address known"
            assert a.views[cid].latest == b2.views[cid].latest
        finally:
            await net.stop_all()

    asyncio.run(run())


def test_recovery_unknown_peer_is_retry_later_not_close(net, adjudicator, alice, bob, carol, dave):
    """A claim that finds no address for its peer is retried, never a reason to close."""

    async def run():
        (a, b, c, d), (ab, _, _) = await line(net, alice, bob, carol, dave, lock_timer=0)
        try:
            b._claim_upstream = noop
            h = d.create_invoice(E)
            assert not await a.pay(d.address, E, h, graph(a, b, c, d), timeout=2)
            await wait_for(lambda: b.store.secret(h) is not None)
            saved = b.directory.pop(a.address.lower())
            del b._claim_upstream
            await b.run_lock_rules()  # the claim finds no address
            await asyncio.sleep(0.5)
            assert adjudicator.getChannel(ab).status == 1 and not b.views[ab].closed
            b.directory[a.address.lower()] = saved  # learned again: the next run claims
            await b.run_lock_rules()
            await wait_for(lambda: not a.views[ab].latest.state.locks)
            return ab
        finally:
            await net.stop_all()

    ab = asyncio.run(run())
    assert adjudicator.getChannel(ab).status == 1


# ---------------------------------------------------------------- closed channels still bind


async def routed_lock_in_place(net, alice, bob, carol):
    """A -> B -> C with C (the payee) not claiming: returns the nodes, channels and hashlock once
    both locks are co-signed."""
    a = await net.node(alice, "a")
    b = await net.node(bob, "b", base_fee=10, fee_ppm=1000)
    c = await net.node(carol, "c", auto_claim=False)
    ab = await a.open_channel(b.address, 5 * E)
    bc = await b.open_channel(c.address, 5 * E)
    h = c.create_invoice(E)
    pay = asyncio.ensure_future(a.pay(c.address, E, h, graph(a, b, c), timeout=30))
    await wait_for(
        lambda: (
            bool(c.views[bc].latest.state.locks)
            and b.views[bc].latest == c.views[bc].latest
            and b.views[ab].latest == a.views[ab].latest
        )
    )
    return (a, b, c), (ab, bc), h, pay


@pytest.mark.parametrize("closer", ["payee", "intermediary"])
def test_forwarded_lock_not_released_while_downstream_can_claim(
    net, adjudicator, alice, bob, carol, closer
):
    """B's forward to C sits in a channel closed on chain (by C, or by B itself). C can still
    register the secret before the lock's expiry and take it on chain, so B must not give A's
    lock back meanwhile; once the secret is out B claims A's lock: B loses nothing."""

    async def run():
        (a, b, c), (ab, bc), h, pay = await routed_lock_in_place(net, alice, bob, carol)
        try:
            await (c if closer == "payee" else b).close_channel(bc)
            await wait_for(lambda: b.views[bc].closed)
            await asyncio.sleep(1.5)  # several runs of B's lock timer
            assert a.views[ab].my_balance() < 5 * E, "B gave A's lock back"
            out = b.views[bc].latest.state.lock(h)
            if adjudicator.secretRevealedAt(h) == 0:  # (C's node registers it when B closes)
                c.chain.register_secret(c.store.secret(h))  # C takes the B-C lock on chain
            assert 0 < adjudicator.secretRevealedAt(h) <= out.expiry
            await wait_for(lambda: not a.views[ab].latest.state.locks, timeout=10)
            await wait_for(lambda: b.views[ab].latest == a.views[ab].latest)
            assert b.views[ab].my_balance() == out.amount + 10 + out.amount * 1000 // 10**6
            pay.cancel()
        finally:
            await net.stop_all()

    asyncio.run(run())


def test_forwarded_lock_not_released_while_downstream_can_claim_refund_after_expiry(
    net, adjudicator, alice, bob, carol
):
    """The other outcome: C closed B-C and never registered the secret. Once B's forward expired
    with no secret on chain (the adjudicator refunds it to B), B gives A's lock back."""

    async def run():
        (a, b, c), (ab, bc), h, pay = await routed_lock_in_place(net, alice, bob, carol)
        try:
            await c.close_channel(bc)
            await wait_for(lambda: b.views[bc].closed)
            out = b.views[bc].latest.state.lock(h)
            net.clock.warp(out.expiry - net.clock() + 2)
            assert a.views[ab].latest.state.lock(h).expiry > net.clock()  # A's lock is live
            await wait_for(lambda: not a.views[ab].latest.state.locks, timeout=10)
            assert a.views[ab].my_balance() == 5 * E  # refunded
            assert adjudicator.secretRevealedAt(h) == 0
            pay.cancel()
        finally:
            await net.stop_all()

    asyncio.run(run())


@pytest.mark.parametrize("path", ["when learned", "by the timer"])
def test_secret_known_enforced_in_closed_channel(net, adjudicator, alice, bob, carol, path):
    """A (the payer) closes A-B with its lock to B inside, then C (A's accomplice) claims from B
    off chain. B learned the secret after the close: it must register it on chain before A-B's
    lock expires (at once, or by its timer if that first reaction is lost), and after settlement
    the lock is B's."""

    async def run():
        (a, b, c), (ab, bc), h, pay = await routed_lock_in_place(net, alice, bob, carol)
        try:
            await a.close_channel(ab)
            await wait_for(lambda: b.views[ab].closed)
            if path == "by the timer":
                b._claim_upstream = noop
            await c.claim_incoming(h)
            assert b.store.secret(h) is not None and not b.views[bc].latest.state.locks
            lock = b.views[ab].latest.state.lock(h)
            await wait_for(lambda: adjudicator.secretRevealedAt(h) > 0, timeout=10)
            assert adjudicator.secretRevealedAt(h) <= lock.expiry
            net.clock.warp(b.config.challenge_period + 1)
            await b.settle_and_unlock(ab)
            assert b.chain.is_unlocked(ab, 0)  # the lock was paid to B
            pay.cancel()
        finally:
            await net.stop_all()

    asyncio.run(run())


# ---------------------------------------------------------------- a peer that refuses


def test_peer_refusal_never_locks_funds_expire_refused(net, adjudicator, alice, bob):
    """B holds A's expired lock and answers every Expire with a refusal (no secret on chain to
    justify it). A waits hop_delta past the expiry, then closes on chain: the adjudicator
    refunds the lock, A's funds are not locked for ever."""

    async def run():
        a, b, cid = await pair(net, alice, bob, b_amount=0, auto_claim=False)
        try:
            h = b.create_invoice(E)  # B knows the secret but never claims or reveals it
            assert not await a.pay(b.address, E, h, a.edges(), timeout=1)
            await wait_for(lambda: bool(b.views[cid].latest.state.locks))

            async def hostile(_v, _op) -> None:
                raise ChannelError("no (hostile peer)")

            b._check_release = hostile
            lock = a.views[cid].latest.state.lock(h)
            net.clock.warp(lock.expiry - net.clock() + 2)
            await wait_for(lambda: any("hostile" in e for e in a.status()["errors"]))
            assert adjudicator.getChannel(cid).status == 1  # within hop_delta: still off chain
            net.clock.warp(a.config.hop_delta)
            await wait_for(lambda: adjudicator.getChannel(cid).status == 2, timeout=10)
            assert adjudicator.secretRevealedAt(h) == 0
            net.clock.warp(a.config.challenge_period + 1)
            await a.settle_and_unlock(cid)
            assert a.chain.is_unlocked(cid, 0)  # refunded to A
        finally:
            await net.stop_all()

    asyncio.run(run())
