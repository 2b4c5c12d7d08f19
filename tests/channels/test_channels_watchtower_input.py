"""Hostile and out-of-range input to the watchtower, and a client that learns when its state was
not taken (issue #9, item 12). Every bad request gets an error reply on a connection that keeps
working; nothing is dropped silently."""

from __future__ import annotations

import asyncio

import msgspec
import pytest
from test_channels_nodes import MILLI, E, wait_for

from offchain.channels import crypto, wire
from offchain.channels.model import ErrorCode, SignedState, State
from offchain.channels.watchtower import Watchtower
from offchain.channels.wire import open_envelope, read_frame, seal


class TowerClient:
    def __init__(self, signer: crypto.Signer, port: int) -> None:
        self.signer, self.port = signer, port

    async def __aenter__(self):
        self.reader, self.writer = await asyncio.open_connection("127.0.0.1", self.port)
        return self

    async def __aexit__(self, *exc):
        self.writer.close()

    async def raw(self, payload: bytes):
        self.writer.write(len(payload).to_bytes(4, "big") + payload)
        await self.writer.drain()
        _, reply = open_envelope(await asyncio.wait_for(read_frame(self.reader), 5))
        return reply

    async def send(self, msg: wire.Message):
        self.writer.write(seal(msg, self.signer))
        await self.writer.drain()
        _, reply = open_envelope(await asyncio.wait_for(read_frame(self.reader), 5))
        return reply


def watch_body(domain, signer, peer, tower_addr: str, expiry: int) -> wire.Watch:
    cid = b"\x42" * 32
    s = State(cid, 1, 10, 5)
    d = crypto.state_digest(domain, s)
    signed = SignedState(s, signer.sign(d), peer.sign(d))
    # (an expiry outside uint64 cannot be signed: sign the nearest one, range is checked first)
    dd = crypto.delegation_digest(domain, cid, tower_addr, min(max(expiry, 0), 2**64 - 1))
    return wire.Watch(
        1,
        wire.signed_to_wire(signed),
        expiry,
        signer.sign(dd),
        bytes.fromhex(signer.address[2:]),
        bytes.fromhex(peer.address[2:]),
    )


def refused(reply, code: ErrorCode, words: str) -> bool:
    return isinstance(reply, wire.Error) and reply.code == code and words in reply.reason


@pytest.fixture
def tower(net, tower_account, tmp_path):
    return Watchtower(tower_account.private_key, tmp_path / "tower.db", net.client(tower_account))


@pytest.mark.parametrize("expiry", [2**63, 2**64 - 1, -1, -(2**63)])
def test_watchtower_rejects_delegation_expiry_out_of_range(
    net, tower, alice, bob, expiry, sig_alice, sig_bob
):
    async def run():
        await tower.start()
        try:
            async with TowerClient(sig_alice, tower.port) as c:
                bad = watch_body(net.domain, sig_alice, sig_bob, tower.address, expiry)
                reply = await c.send(bad)
                assert refused(reply, ErrorCode.TOWER_REFUSED, "delegation_expiry")
                good = watch_body(net.domain, sig_alice, sig_bob, tower.address, net.clock() + 99)
                assert isinstance(await c.send(good), wire.Ok)  # same connection still served
            assert tower.newest(b"\x42" * 32) == 1
        finally:
            await tower.stop()

    asyncio.run(run())


def test_watchtower_rejects_expired_delegation(net, tower, sig_alice, sig_bob):
    async def run():
        await tower.start()
        try:
            await wait_for(lambda: tower._chain_now > 0)
            async with TowerClient(sig_alice, tower.port) as c:
                old = watch_body(net.domain, sig_alice, sig_bob, tower.address, net.clock() - 10)
                reply = await c.send(old)
                assert refused(reply, ErrorCode.TOWER_REFUSED, "expired")
            assert tower.newest(b"\x42" * 32) is None
        finally:
            await tower.stop()

    asyncio.run(run())


@pytest.mark.parametrize("depth", [40, 5_000, 200_000])
def test_watchtower_rejects_deeply_nested_input(net, tower, sig_alice, sig_bob, depth):
    async def run():
        await tower.start()
        try:
            async with TowerClient(sig_alice, tower.port) as c:
                nested = b"\x91" * depth + b"\xc0"  # msgpack arrays nested `depth` deep
                reply = await c.raw(nested)
                assert isinstance(reply, wire.Error) and reply.code == ErrorCode.MALFORMED
                good = watch_body(net.domain, sig_alice, sig_bob, tower.address, net.clock() + 99)
                assert isinstance(await c.send(good), wire.Ok)
        finally:
            await tower.stop()

    asyncio.run(run())


def test_watchtower_rejects_push_and_client_is_told(net, tower, alice, bob, tower_account):
    """A client whose delegation the tower refuses sees it in its status (and log): it must not
    believe it is protected. A later accepted push clears the flag."""
    from offchain.channels.node import Tower

    async def run():
        await tower.start()
        bad = Tower(tower.address, "127.0.0.1", tower.port, 2**63)
        a = await net.node(alice, "alice", tower=bad, watch_chain=False)
        b = await net.node(bob, "bob")
        try:
            cid = await a.open_channel(b.address, 1 * E)
            await a.pay_direct(b.address, MILLI)
            await wait_for(lambda: a.status()["tower"]["ok"] is False)
            st = a.status()
            assert "delegation_expiry" in st["tower"]["error"]
            assert any("watchtower refused" in e for e in st["errors"])
            assert tower.newest(cid) is None
            a.tower = Tower(tower.address, "127.0.0.1", tower.port, net.clock() + 10_000)
            await a.pay_direct(b.address, MILLI)
            await wait_for(lambda: a.status()["tower"]["ok"] is True)
            assert a.status()["tower"]["nonce"] == 2 and tower.newest(cid) == 2
        finally:
            await net.stop_all()
            await tower.stop()

    asyncio.run(run())


def test_watchtower_rejects_undecodable_with_error_reply(net, tower, sig_alice):
    async def run():
        await tower.start()
        try:
            async with TowerClient(sig_alice, tower.port) as c:
                reply = await c.raw(b"\xff\xfe not msgpack")
                assert isinstance(reply, wire.Error) and reply.code == ErrorCode.MALFORMED
                reply = await c.raw(msgspec.msgpack.encode({"body": [], "from": 1}))
                assert isinstance(reply, wire.Error) and reply.code == ErrorCode.MALFORMED
                reply = await c.send(wire.Sync(3, b"\x42" * 32))  # a node's request
                assert isinstance(reply, wire.Error) and reply.code == ErrorCode.UNSUPPORTED
        finally:
            await tower.stop()

    asyncio.run(run())
