"""Nodes reject malformed, unsigned, forged and replayed messages without losing any state."""

from __future__ import annotations

import asyncio

import msgspec

from offchain.channels import crypto, machine, wire
from offchain.channels.model import ErrorCode
from offchain.channels.wire import read_frame, seal

E = 10**18


async def raw_exchange(port: int, payload: bytes, expect_reply: bool = True):
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(payload)
    await writer.drain()
    try:
        if not expect_reply:
            data = await asyncio.wait_for(reader.read(), 2)
            assert data == b""  # the node dropped the connection
            return None
        raw = await asyncio.wait_for(read_frame(reader), 2)
        return wire.open_envelope(raw)[1]
    finally:
        writer.close()


def frame(raw: bytes) -> bytes:
    return len(raw).to_bytes(4, "big") + raw


def envelope(sender: str, sig: bytes, body: bytes, version: int = wire.WIRE_VERSION) -> bytes:
    env = wire.Envelope(version, bytes.fromhex(sender[2:]), sig, body)
    return frame(msgspec.msgpack.encode(env))


def test_malformed_unsigned_forged_and_replayed_messages(net, alice, bob, carol):
    async def run():
        a = await net.node(alice, "alice")
        b = await net.node(bob, "bob")
        try:
            cid = await a.open_channel(b.address, 10 * E)
            await a.pay_direct(b.address, E)
            before = b.views[cid]
            mallory = crypto.Signer(carol.private_key)
            alice_signer = crypto.Signer(alice.private_key)
            dom = net.domain
            nxt = machine.apply_ops(before.latest.state, (machine.Pay(E),), 0, net.clock())
            good_sig = alice_signer.sign(crypto.state_digest(dom, nxt))
            pay = wire.PayOp(wire.u256(E))
            upd = wire.Update(1, cid, nxt.nonce, good_sig, [pay])
            body = wire.encode_body(upd)
            # framing garbage: zero length, oversize length -> connection dropped
            await raw_exchange(b.port, b"\x00\x00\x00\x00", expect_reply=False)
            await raw_exchange(b.port, b"\xff\xff\xff\xff", expect_reply=False)
            over_frame = (wire.MAX_FRAME + 1).to_bytes(4, "big") + b"\x00" * 16
            await raw_exchange(b.port, over_frame, expect_reply=False)
            expected: list[ErrorCode] = []

            async def send(payload: bytes, code: ErrorCode) -> None:
                expected.append(code)
                replies.append(await raw_exchange(b.port, payload))

            replies: list = []
            # not msgpack, not an envelope, unsigned, signed by someone other than the sender
            await send(frame(b"\xc1not msgpack"), ErrorCode.MALFORMED)
            await send(frame(msgspec.msgpack.encode({"hello": 1})), ErrorCode.MALFORMED)
            await send(envelope(a.address, b"", body), ErrorCode.MALFORMED)
            await send(
                envelope(a.address, mallory.sign(crypto.message_digest(body)), body),
                ErrorCode.BAD_SIGNATURE,
            )
            # another wire version, an unknown message tag, an unknown error code
            sig = alice_signer.sign(crypto.message_digest(body))
            await send(envelope(a.address, sig, body, version=1), ErrorCode.MALFORMED)
            strange = msgspec.msgpack.encode(["steal", 1, cid])
            s2 = alice_signer.sign(crypto.message_digest(strange))
            await send(envelope(a.address, s2, strange), ErrorCode.MALFORMED)
            bad_code = msgspec.msgpack.encode(["error", 1, 999, "no such code"])
            s3 = alice_signer.sign(crypto.message_digest(bad_code))
            await send(envelope(a.address, s3, bad_code), ErrorCode.MALFORMED)
            # a reply sent as a request
            await send(seal(wire.Ok(1), alice_signer), ErrorCode.UNSUPPORTED)
            # a properly signed message from a stranger about A's channel
            await send(seal(upd, mallory), ErrorCode.UNKNOWN_CHANNEL)
            # A's own envelope but an update signed with a bad state signature
            bad = wire.Update(1, cid, nxt.nonce, mallory.sign(crypto.state_digest(dom, nxt)), [pay])
            await send(seal(bad, alice_signer), ErrorCode.BAD_SIGNATURE)
            # overspending, a non-minimal amount, a truncated channel id
            over = wire.Update(1, cid, nxt.nonce, good_sig, [wire.PayOp(wire.u256(100 * E))])
            await send(seal(over, alice_signer), ErrorCode.INVALID_UPDATE)
            padded = wire.Update(1, cid, nxt.nonce, good_sig, [wire.PayOp(b"\x00" + wire.u256(E))])
            await send(seal(padded, alice_signer), ErrorCode.MALFORMED)
            short = msgspec.msgpack.encode(["sync", 1, b"\x12"])
            s4 = alice_signer.sign(crypto.message_digest(short))
            await send(envelope(a.address, s4, short), ErrorCode.MALFORMED)
            # replay of an old, once valid update (nonce 1), and of the last one
            await send(
                seal(msgspec.structs.replace(upd, nonce=1), alice_signer), ErrorCode.STALE_NONCE
            )
            # another chain's signature on the right content
            other = crypto.Domain(dom.chain_id + 1, dom.contract)
            xsig = alice_signer.sign(crypto.state_digest(other, nxt))
            xchain = msgspec.structs.replace(upd, sig=xsig)
            await send(seal(xchain, alice_signer), ErrorCode.BAD_SIGNATURE)
            assert all(isinstance(r, wire.Error) for r in replies), replies
            assert [r.code for r in replies] == expected
            assert b.rejected >= len(expected) + 3
            assert b.views[cid] == before  # nothing changed, nothing half-applied
            assert b.store.views()[0] == before  # and nothing on disk either
            # the genuine update still goes through afterwards, once
            ok = await raw_exchange(b.port, seal(upd, alice_signer))
            assert isinstance(ok, wire.Ack) and ok.nonce == nxt.nonce
            assert b.views[cid].latest.state.nonce == nxt.nonce
            after = b.views[cid]
            again = await raw_exchange(b.port, seal(upd, alice_signer))  # replayed as is
            assert isinstance(again, wire.Error) and again.code == ErrorCode.STALE_NONCE
            assert b.views[cid] == after and b.store.views()[0] == after
        finally:
            await net.stop_all()

    asyncio.run(run())


def test_foreign_channel_state_rejected_then_one_hop_locked_payment(net, alice, bob):
    async def run():
        a = await net.node(alice, "alice")
        b = await net.node(bob, "bob")
        try:
            c1 = await a.open_channel(b.address, 10 * E)
            c2 = await a.open_channel(b.address, 10 * E)
            await a.pay_direct(b.address, E)
            # A state signed for channel 1 presented as an update of channel 2
            signer = crypto.Signer(alice.private_key)
            s1 = machine.apply_ops(a.views[c1].latest.state, (machine.Pay(E),), 0, net.clock())
            sig = signer.sign(crypto.state_digest(net.domain, s1))
            body = wire.Update(7, c2, 1, sig, [wire.PayOp(wire.u256(E))])
            r = await raw_exchange(b.port, seal(body, signer))
            assert isinstance(r, wire.Error) and r.code == ErrorCode.BAD_SIGNATURE
            assert b.views[c2].latest.state.nonce == 0
            # a one-hop hash-locked payment over the same connection still works
            h = b.create_invoice(E)
            assert await a.pay(b.address, E, h, a.edges())
        finally:
            await net.stop_all()

    asyncio.run(run())
