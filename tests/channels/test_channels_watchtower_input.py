"""The private watchtower (tower protocol v2): it cannot read what it stores before a close,
disputes a stale close from the blob the close unlocks, refuses garbage and hostile input with an
error reply on a connection that keeps working, charges per stored state, and a client learns
when its state was not taken or is no longer held."""

from __future__ import annotations

import asyncio
import contextlib

import msgspec
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from test_channels_nodes import MILLI, E, wait_for

from offchain.channels import crypto, towerblob, wire
from offchain.channels.model import ChannelError, ErrorCode, SignedState, State
from offchain.channels.watchtower import Watchtower
from offchain.channels.wire import open_envelope, read_frame, seal

CID = b"\x42" * 32


class TowerConn:
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


def cosigned(domain, sa, sb, nonce: int, bal_a: int, bal_b: int) -> SignedState:
    s = State(CID, nonce, bal_a, bal_b)
    d = crypto.state_digest(domain, s)
    return SignedState(s, sa.sign(d), sb.sign(d))


def justice_blob(domain, sa, sb, tower_addr, close_nonce=3, justice_nonce=5, expiry=2**40):
    """(close data, hint, blob): A's justice (state `justice_nonce`) for a close with
    `close_nonce`, delegated to the tower."""
    close = towerblob.CloseData.of(cosigned(domain, sa, sb, close_nonce, 10, 5))
    j = cosigned(domain, sa, sb, justice_nonce, 7, 8)
    dsig = sa.sign(crypto.delegation_digest(domain, CID, tower_addr, expiry))
    h, blob = towerblob.seal_justice(close, j, expiry, dsig)
    return close, h, blob


@pytest.fixture
def tower(net, tower_account, tmp_path):
    return Watchtower(tower_account.private_key, tmp_path / "tower.db", net.client(tower_account))


# ---------------------------------------------------------------- the format (pure)


def test_blob_cannot_be_opened_before_the_close(domain, sig_alice, sig_bob):
    close, h, blob = justice_blob(domain, sig_alice, sig_bob, sig_alice.address)
    assert h == towerblob.hint(close) and len(h) == 16
    # what the tower can know before the close: the channel id (public), any nonce, no signatures
    for guess in range(0, 8):
        public = towerblob.CloseData(CID, guess, b"", b"")
        assert towerblob.hint(public) != h
        with pytest.raises(ChannelError) as e:
            towerblob.open_justice(public, blob)
        assert e.value.code == ErrorCode.TOWER_REFUSED
    # a signature short of the close's own (one bit flipped) does not open it either
    flipped = towerblob.CloseData(CID, 3, close.sig_a, close.sig_b[:9] + b"\x00" + close.sig_b[10:])
    if flipped.sig_b == close.sig_b:
        flipped = towerblob.CloseData(
            CID, 3, close.sig_a, close.sig_b[:9] + b"\x01" + close.sig_b[10:]
        )
    with pytest.raises(ChannelError):
        towerblob.open_justice(flipped, blob)
    # the ciphertext shows no balance, address or channel id in the clear
    for secret in (CID, bytes.fromhex(sig_alice.address[2:]), close.sig_a, close.sig_b):
        assert secret not in blob
    # the close that appears on chain opens it: the state, the delegation
    got = towerblob.open_justice(close, blob)
    assert (got.signed.state.nonce, got.signed.state.balance_a, got.delegation_expiry) == (
        5,
        7,
        2**40,
    )


def test_blob_vector_is_stable(domain, sig_alice, sig_bob):
    """A fixed IV gives a fixed blob (the test vector of the format in docs/channels-spec.md)."""
    close = towerblob.CloseData(CID, 3, b"\x01" * 65, b"\x02" * 65)
    j = SignedState(State(CID, 5, 7, 8), b"\x03" * 65, b"\x04" * 65)
    h, blob = towerblob.seal_justice(close, j, 2**40, b"\x05" * 65, iv=b"\x06" * 12)
    assert h.hex() == crypto.keccak(b"l2kit-tower/hint/v2" + close.raw())[:16].hex()
    assert blob[:12] == b"\x06" * 12 and len(blob) == 12 + len(blob[12:-16]) + 16
    assert towerblob.open_justice(close, blob).signed == j
    tampered = blob[:20] + bytes([blob[20] ^ 1]) + blob[21:]
    with pytest.raises(ChannelError):
        towerblob.open_justice(close, tampered)
    with pytest.raises(ChannelError):
        towerblob.seal_justice(close, SignedState(State(CID, 3, 7, 8), b"", b""), 1, b"\0" * 65)


@settings(max_examples=60, deadline=None)
@given(anchor=st.integers(0, 5), latest=st.integers(0, 40))
def test_upload_rule_never_lets_the_tower_chain_and_protects_every_close_but_one(anchor, latest):
    """A tower that keeps every blob version and opens whatever it can from public data learns
    exactly one state (anchor + 2, the guard's) and no other; every close nonce except anchor + 2
    has a justice at least two newer (a penalty) or the newest state."""
    a, top = anchor, anchor + latest
    uploaded: list[tuple[int, int]] = []  # (close nonce, justice nonce), every version
    for m in range(a + 1, top + 1):
        uploaded += [(k, m) for k in towerblob.which_blobs(m, a)]
    openable = {a}  # close data the tower holds: the anchor's is public
    learned: set[int] = set()
    while True:
        new = {m for k, m in uploaded if k in openable} - learned
        if not new:
            break
        learned |= new
        openable |= new
    assert learned == ({a + 2} if top >= a + 2 else set())
    best = {}
    for k, m in uploaded:
        best[k] = max(best.get(k, -1), m)
    for k in range(a, top):
        if k == a + 2 or (k == a and top < a + 2):
            continue
        assert best[k] >= min(k + 2, top), (k, best)


# ---------------------------------------------------------------- the tower process


def test_tower_refuses_plaintext_watch_garbage_and_oversized_input(net, tower, sig_alice, sig_bob):
    async def run():
        await tower.start()
        try:
            async with TowerConn(sig_alice, tower.port) as c:
                s = cosigned(net.domain, sig_alice, sig_bob, 1, 10, 5)
                v1 = wire.Watch(1, wire.signed_to_wire(s), 99, b"\1" * 65, b"\1" * 20, b"\2" * 20)
                reply = await c.send(v1)
                assert reply.code == ErrorCode.UNSUPPORTED and "protocol v2" in reply.reason
                for depth in (40, 5_000, 200_000):
                    reply = await c.raw(b"\x91" * depth + b"\xc0")
                    assert isinstance(reply, wire.Error) and reply.code == ErrorCode.MALFORMED
                reply = await c.raw(b"\xff\xfe not msgpack")
                assert reply.code == ErrorCode.MALFORMED
                # a blob over 8 KiB, or too short to hold a tag, does not decode
                for body in (["blob", 1, b"\1" * 16, b"\0" * 8193], ["blob", 1, b"\1" * 16, b"x"]):
                    raw = msgspec.msgpack.encode(body)
                    sig = sig_alice.sign(crypto.message_digest(raw))
                    env = wire.Envelope(2, bytes.fromhex(sig_alice.address[2:]), sig, raw)
                    reply = await c.raw(msgspec.msgpack.encode(env))
                    assert reply.code == ErrorCode.MALFORMED
                reply = await c.send(wire.Sync(3, CID))  # a node's request
                assert reply.code == ErrorCode.UNSUPPORTED
                # the same connection still stores a good blob
                _, h, blob = justice_blob(net.domain, sig_alice, sig_bob, tower.address)
                reply = await c.send(wire.BlobReq(4, h, blob))
                assert isinstance(reply, wire.BlobHeld) and reply.digest == crypto.keccak(blob)
                assert (await c.send(wire.BlobQuery(5, h))).digest == crypto.keccak(blob)
                assert (await c.send(wire.BlobQuery(6, b"\0" * 16))).digest == b""
            assert tower.blob_count() == 1
        finally:
            await tower.stop()

    asyncio.run(run())


def test_garbage_under_a_real_hint_is_never_acted_on(net, tower, sig_alice, sig_bob, tower_account):
    """Blobs filed under the hint of a real close: random bytes, a justice for another close, a
    justice delegated by the wrong party, one whose state is not co-signed. Only the good one
    is found; the rest count as garbage."""
    close, h, good = justice_blob(net.domain, sig_alice, sig_bob, tower.address)
    _, _, other = justice_blob(net.domain, sig_alice, sig_bob, tower.address, close_nonce=2)
    j = cosigned(net.domain, sig_alice, sig_bob, 6, 7, 8)
    wrong_deleg = sig_bob.sign(crypto.delegation_digest(net.domain, CID, tower.address, 2**40))
    _, bad_deleg = towerblob.seal_justice(close, j, 2**40, wrong_deleg)
    forged = SignedState(j.state, j.sig_a, j.sig_a)
    dsig = sig_alice.sign(crypto.delegation_digest(net.domain, CID, tower.address, 2**40))
    _, unsigned = towerblob.seal_justice(close, forged, 2**40, dsig)
    rows = [b"\x07" * 200, other, bad_deleg, unsigned]
    for i, blob in enumerate(rows):
        tower._db.execute("INSERT INTO blobs VALUES (?, ?, ?)", (f"0x{i:040x}", h, blob))
    for blob in (bad_deleg, unsigned):  # also from the rightful client: still garbage
        tower._db.execute("DELETE FROM blobs WHERE client = ?", (sig_alice.address.lower(),))
        tower._db.execute(
            "INSERT INTO blobs VALUES (?, ?, ?)", (sig_alice.address.lower(), h, blob)
        )
        assert tower.justices(close, sig_bob.address, sig_alice.address, sig_bob.address) == []
    tower._db.execute("DELETE FROM blobs WHERE client = ?", (sig_alice.address.lower(),))
    tower._db.execute("INSERT INTO blobs VALUES (?, ?, ?)", (sig_alice.address.lower(), h, good))
    found = tower.justices(close, sig_bob.address, sig_alice.address, sig_bob.address)
    assert [x[0].state.nonce for x in found] == [5]
    # closed by A itself: A's blob is not for this case (the tower protects the closer's peer)
    assert tower.justices(close, sig_alice.address, sig_alice.address, sig_bob.address) == []
    assert tower.garbage >= 4 + 2 + 1
    tower._db.close()


def test_fees_are_charged_per_stored_state_and_never_half_applied(net, tower_account, tmp_path):
    paid = {"x": 0}
    tw = Watchtower(
        tower_account.private_key,
        tmp_path / "fee.db",
        net.client(tower_account),
        fee=5,
        paid=lambda c: paid["x"],
    )
    client = crypto.Signer("0x" + "11" * 32)
    msg = wire.BlobReq(1, b"\x01" * 16, b"\x02" * 40)
    with pytest.raises(ChannelError) as e:
        tw.accept(client.address, msg)
    assert e.value.code == ErrorCode.TOWER_REFUSED and "pay the tower at least 5" in str(e.value)
    assert (tw.blob_count(), tw.charged(client.address)) == (0, 0)  # nothing stored, nothing owed
    paid["x"] = 12
    r = tw.accept(client.address, msg)
    assert wire.from_u256(r.credit) == 7 and tw.charged(client.address) == 5
    r = tw.accept(client.address, wire.BlobReq(2, b"\x01" * 16, b"\x03" * 40))  # a replacement
    assert wire.from_u256(r.credit) == 2 and tw.blob_count() == 1
    with pytest.raises(ChannelError):
        tw.accept(client.address, wire.BlobReq(3, b"\x09" * 16, b"\x03" * 40))
    assert (tw.blob_count(), tw.charged(client.address)) == (1, 10)
    with pytest.raises(ValueError):
        Watchtower(tower_account.private_key, tmp_path / "f2.db", net.client(tower_account), fee=1)
    tw._db.close()


# ---------------------------------------------------------------- clients and nodes


def test_client_is_told_when_not_protected_and_checks_what_the_tower_holds(net, tower, alice, bob):
    """A delegation expiry the chain cannot take is refused by the client itself (the tower
    cannot see it): status says so. A good tower holds the blob; the client checks it by hash,
    and sees when the tower dropped or altered it."""
    from offchain.channels.node import Tower

    async def run():
        await tower.start()
        bad = Tower(tower.address, "127.0.0.1", tower.port, 2**63)
        a = await net.node(alice, "alice", tower=bad, watch_chain=False)
        b = await net.node(bob, "bob")
        try:
            await a.open_channel(b.address, 1 * E)
            await a.pay_direct(b.address, MILLI)
            await a.pay_direct(b.address, MILLI)
            await wait_for(lambda: a.status()["tower"]["ok"] is False)
            st = a.status()
            assert "delegation_expiry" in st["tower"]["error"]
            assert any("watchtower did not store" in e for e in st["errors"])
            assert tower.blob_count() == 0
            a.set_tower(Tower(tower.address, "127.0.0.1", tower.port, net.clock() + 10_000))
            await a.pay_direct(b.address, MILLI)
            await a.towerc.drain()
            st = a.status()["tower"]
            assert st["ok"] is True and st["nonce"] == 3 and tower.blob_count() == 1
            assert await a.towerc.check()
            tower._db.execute("UPDATE blobs SET blob = ?", (b"\x00" * 64,))
            assert not await a.towerc.check()  # the tower no longer holds what we sent
        finally:
            await net.stop_all()
            await tower.stop()

    asyncio.run(run())


def test_paid_tower_disputes_a_stale_close_it_could_not_read_before(
    net, adjudicator, alice, bob, tower_account
):
    """Carol runs the tower and its channel node (same key, fee 1 milli per stored state); Alice
    prepays over a channel with it. Bob closes with a stale state; the tower, which could open
    nothing before, opens the blob of that close and disputes; Bob forfeits."""
    from offchain.channels.node import Tower
    from offchain.channels.watchtower import channel_income

    async def run():
        tnode = await net.node(tower_account, "towernode")
        tw = Watchtower(
            tower_account.private_key,
            net.tmp / "ptower.db",
            net.client(tower_account),
            fee=MILLI,
            paid=channel_income(tnode),
        )
        await tw.start()
        tower = Tower(tw.address, "127.0.0.1", tw.port, net.clock() + 10_000, MILLI, 20 * MILLI)
        a = await net.node(alice, "alice", tower=tower, watch_chain=False)
        b = await net.node(bob, "bob")
        try:
            t_cid = await a.open_channel(tnode.address, 1 * E)  # the channel that pays the tower
            await a.pay_direct(tnode.address, 5 * MILLI)  # a first prepayment: 5 states
            cid = await a.open_channel(b.address, 10 * E)
            await b.fund_channel(cid, 5 * E)
            await b.pay_direct(a.address, 3 * E)
            stale = b.views[cid].latest  # nonce 1
            for _ in range(4):
                await b.pay_direct(a.address, 10 * MILLI)
            await a.towerc.drain()
            await wait_for(lambda: tnode.channel_with(a.address).my_balance() > 5 * MILLI)
            # every stored state (replacements too) was charged, and prepaid in advance
            assert tw.charged(a.address) == a.towerc.status["blobs"] * MILLI > 5 * MILLI
            # before the close: the only blob that opens with public data is each channel's
            # anchor guard, and it shows state 2 only (the upload rule of towerblob.py)
            rows = tw._db.execute("SELECT hint, blob FROM blobs").fetchall()
            opened = []
            for ch in (cid, t_cid):
                for k in range(0, 8):
                    public = towerblob.CloseData(ch, k, b"", b"")
                    for _, blob in rows:
                        with contextlib.suppress(ChannelError):
                            opened.append((k, towerblob.open_justice(public, blob).signed))
            assert [(k, s.state.nonce) for k, s in opened] == [(0, 2), (0, 2)]
            assert len(rows) > 2
            assert tw.disputes == 0
            await a.stop()
            net.nodes.remove(a)
            await b.close_channel(cid, state=stale)
            await wait_for(lambda: tw.disputes == 1, timeout=15)
            c = adjudicator.getChannel(cid)
            assert (c.closeNonce, c.nonce) == (1, 3)
            assert a.status()["tower"]["credit"] is not None
        finally:
            await net.stop_all()
            await tw.stop()

    asyncio.run(run())


def test_tower_answers_a_close_with_the_anchor_from_the_guard_blob(
    net, adjudicator, alice, bob, tower_account
):
    """The anchor's close publishes no signatures; its guard blob (state 2) still lets the tower
    prove the close stale (2 >= 0 + 2): the closer forfeits."""
    from offchain.channels.node import Tower

    async def run():
        tw = Watchtower(tower_account.private_key, net.tmp / "gtower.db", net.client(tower_account))
        await tw.start()
        tower = Tower(tw.address, "127.0.0.1", tw.port, net.clock() + 10_000)
        a = await net.node(alice, "alice", tower=tower, watch_chain=False)
        b = await net.node(bob, "bob")
        try:
            cid = await a.open_channel(b.address, 1 * E)
            await b.fund_channel(cid, 1 * E)
            anchor = b.views[cid].latest  # nonce 0, no signatures
            for _ in range(5):
                await b.pay_direct(a.address, 100 * MILLI)
            await a.towerc.drain()
            await a.stop()
            net.nodes.remove(a)
            await b.close_channel(cid, state=anchor)
            await wait_for(lambda: tw.disputes == 1, timeout=15)
            c = adjudicator.getChannel(cid)
            assert (c.closeNonce, c.nonce) == (0, 2)
        finally:
            await net.stop_all()
            await tw.stop()

    asyncio.run(run())
