"""Nodes reject malformed, unsigned, forged and replayed messages without losing any state."""

from __future__ import annotations

import asyncio
import json

from offchain.channels import crypto, machine
from offchain.channels.model import hx
from offchain.channels.wire import read_frame, seal

E = 10**18


async def raw_exchange(port: int, payload: bytes, expect_reply: bool = True) -> dict | None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(payload)
    await writer.drain()
    try:
        if not expect_reply:
            data = await asyncio.wait_for(reader.read(), 2)
            assert data == b""  # the node dropped the connection
            return None
        raw = await asyncio.wait_for(read_frame(reader), 2)
        return json.loads(raw)["body"]
    finally:
        writer.close()


def frame(obj) -> bytes:
    raw = obj if isinstance(obj, bytes) else json.dumps(obj).encode()
    return len(raw).to_bytes(4, "big") + raw


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
            nxt = machine.apply_op(before.latest.state, machine.Pay(E), 0, net.clock())
            good_sig = alice_signer.sign(crypto.state_digest(dom, nxt))
            upd = {
                "type": "update",
                "channel_id": hx(cid),
                "op": {"kind": "pay", "amount": E},
                "nonce": nxt.nonce,
                "sig": hx(good_sig),
                "id": 1,
            }
            # framing garbage: zero length, oversize length -> connection dropped
            await raw_exchange(b.port, b"\x00\x00\x00\x00", expect_reply=False)
            await raw_exchange(b.port, b"\xff\xff\xff\xff", expect_reply=False)
            # not JSON, no body, unsigned, signature by someone else than 'from'
            replies = [
                await raw_exchange(b.port, frame(b"{not json")),
                await raw_exchange(b.port, frame({"hello": 1})),
                await raw_exchange(b.port, frame({"body": upd, "from": a.address})),
                await raw_exchange(
                    b.port,
                    frame({"body": upd, "from": a.address, "sig": hx(mallory.sign(b"\x00" * 32))}),
                ),
            ]
            # a properly signed message from a stranger about A's channel
            replies.append(await raw_exchange(b.port, seal(upd, mallory)))
            # A's own envelope but an update signed with a bad state signature
            bad = {**upd, "sig": hx(mallory.sign(crypto.state_digest(dom, nxt)))}
            replies.append(await raw_exchange(b.port, seal(bad, alice_signer)))
            # overspending, unknown op, malformed fields
            over = {**upd, "op": {"kind": "pay", "amount": 100 * E}}
            replies.append(await raw_exchange(b.port, seal(over, alice_signer)))
            replies.append(
                await raw_exchange(b.port, seal({**upd, "op": {"kind": "steal"}}, alice_signer))
            )
            replies.append(
                await raw_exchange(b.port, seal({**upd, "channel_id": "0x12"}, alice_signer))
            )
            # replay of an old, once valid update (nonce 1)
            replies.append(await raw_exchange(b.port, seal({**upd, "nonce": 1}, alice_signer)))
            # another chain's signature on the right content
            other = crypto.Domain(dom.chain_id + 1, dom.contract)
            xchain = {**upd, "sig": hx(alice_signer.sign(crypto.state_digest(other, nxt)))}
            replies.append(await raw_exchange(b.port, seal(xchain, alice_signer)))
            assert all(r["type"] == "error" for r in replies), replies
            assert b.rejected >= 13
            assert b.views[cid] == before  # nothing changed, nothing half-applied
            assert b.store.views()[0] == before  # and nothing on disk either
            # the genuine update still goes through afterwards
            ok = await raw_exchange(b.port, seal(upd, alice_signer))
            assert ok["type"] == "ack"
            assert b.views[cid].latest.state.nonce == nxt.nonce
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
            s1 = machine.apply_op(a.views[c1].latest.state, machine.Pay(E), 0, net.clock())
            sig = signer.sign(crypto.state_digest(net.domain, s1))
            body = {
                "type": "update",
                "channel_id": hx(c2),
                "op": {"kind": "pay", "amount": E},
                "nonce": 1,
                "sig": hx(sig),
                "id": 7,
            }
            r = await raw_exchange(b.port, seal(body, signer))
            assert r["type"] == "error" and "signature" in r["reason"]
            assert b.views[c2].latest.state.nonce == 0
            # a one-hop hash-locked payment over the same connection still works
            h = b.create_invoice(E)
            assert await a.pay(b.address, E, h, a.edges())
        finally:
            await net.stop_all()

    asyncio.run(run())
