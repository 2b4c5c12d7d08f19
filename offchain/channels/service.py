"""A channel node as a service: the node of `runner.make_node` with a local REST API in front.

    L2KIT_NODE_KEY=0x... python -m offchain.channels.service --config node.json

The config is the runner's (see `offchain.channels.runner`) plus `api_host` (default 127.0.0.1)
and `api_port` (0: any free port). `l2kit channels node` builds the same config from the
deployment and runs `serve` in the foreground. Prints the runner's ``node <address> listening on
127.0.0.1:<port>`` line, then ``api http://<host>:<port>``; SIGTERM/SIGINT stop it cleanly.

Every answer is JSON. Success: ``{"ok": true, ...}``. Failure: ``{"ok": false, "error": {"code":
<machine-readable>, "message": <one line>}}`` with an HTTP status (400 bad input, 404 unknown
channel or peer, 409 refused by the rules or the peer, 502 peer or chain failed, 504 timeout).
Every check that can be made before something leaves the node is made first: a request that is
refused here sent nothing, on chain or to a peer. docs/channels-service.md lists the endpoints.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import os
import signal
import sys
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web
from web3 import Web3

from offchain.channels.autopilot import Autopilot
from offchain.channels.chain import TxFailed
from offchain.channels.machine import ChannelView
from offchain.channels.model import ChannelError, hx, unhx
from offchain.channels.node import ETH, Conflict, Node, PeerRefused, PeerUnreachable, Tower
from offchain.channels.router import Edge, find_route
from offchain.channels.runner import load_config, make_node
from offchain.errors import HttpApiError

log = logging.getLogger(__name__)

TOWER_KEY = "service:tower"  # the delegated watchtower, kept in the node's store across restarts
GAS_RESERVE = 10**16  # wei kept back for gas when checking that an open or fund is affordable
MAX_AMOUNT = 2**255  # the contract's balances are uint256; anything near that is a typo


class ApiError(HttpApiError):
    """A request the channel service refuses (HTTP status, machine-readable code, message)."""


def _amount(body: dict, field: str = "amount") -> int:
    """A positive amount in wei: a JSON integer or a decimal string (never a float)."""
    raw = body.get(field)
    if isinstance(raw, bool) or not isinstance(raw, int | str):
        raise ApiError(400, "bad_amount", f"{field} must be wei as an integer or decimal string")
    text = str(raw).strip()
    if not (text.isascii() and text.isdigit()):  # "²".isdigit() is true, int("²") fails
        raise ApiError(400, "bad_amount", f"{field} {raw!r} is not a whole number of wei")
    value = int(text)
    if not 0 < value < MAX_AMOUNT:
        raise ApiError(400, "bad_amount", f"{field} must be positive and below 2**255 wei")
    return value


def _address(raw: object, what: str) -> str:
    if not isinstance(raw, str) or not Web3.is_address(raw):
        raise ApiError(400, "bad_address", f"{what} {raw!r} is not an address (0x + 40 hex)")
    return Web3.to_checksum_address(raw)


def _body_of(data: bytes) -> dict:
    if not data:
        return {}
    try:
        body = json.loads(data)
    except ValueError:
        raise ApiError(400, "bad_json", "the request body is not JSON") from None
    if not isinstance(body, dict):
        raise ApiError(400, "bad_json", "the request body must be a JSON object")
    return body


def channel_json(v: ChannelView) -> dict[str, Any]:
    s = v.latest.state
    return {
        "channel_id": hx(v.channel_id),
        "peer": v.peer,
        "role": "A" if v.me == 0 else "B",
        "token": v.token,
        "balance": str(v.my_balance()),
        "peer_balance": str(v.peer_balance()),
        "nonce": s.nonce,
        "locks": len(s.locks),
        "closed": v.closed,
    }


def hint_edges(hints: object, payee: str, payer: str) -> list[Edge]:
    """An invoice's route hints as edges. A hint may only describe a channel into the payee:
    that is all the payee knows, and an invoice (which anyone can hand us) must not be able to
    invent the rest of the graph and steer the payment through a node of its choosing. A hint
    for the payer's own channel with the payee is skipped: the payer's own edge is exact."""
    if not isinstance(hints, list) or len(hints) > 64:
        raise ApiError(400, "bad_invoice", "the invoice's hints must be a list of at most 64")
    edges = []
    for h in hints:
        if not isinstance(h, dict):
            raise ApiError(400, "bad_invoice", "each route hint must be an object")
        src, dst = _address(h.get("src"), "hint src"), _address(h.get("dst"), "hint dst")
        if dst != payee or src == payee:
            raise ApiError(
                400, "bad_invoice", "a route hint must be a channel from another node to the payee"
            )
        capacity = _amount(h, "capacity")
        if src != payer:  # our own channel with the payee: our view of it is the one that counts
            edges.append(Edge(src, dst, capacity))
    return edges


class Service:
    """The REST API of one started node. Handlers check, then call the node."""

    def __init__(self, node: Node) -> None:
        self.node = node

    # ---------------------------------------------------------------- lookups

    def view(self, ref: str) -> ChannelView:
        """A channel by its id (0x + 64 hex) or by its peer's address (the open one)."""
        n = self.node
        if Web3.is_address(ref):
            for v in n.views.values():
                if v.peer.lower() == ref.lower() and not v.closed:
                    return v
            raise ApiError(404, "unknown_channel", f"no open channel with {ref}")
        try:
            cid = unhx(ref, 32, "channel id")
        except ChannelError:
            raise ApiError(
                400, "bad_channel", f"{ref!r} is neither a channel id (0x + 64 hex) nor an address"
            ) from None
        if cid not in n.views:
            raise ApiError(404, "unknown_channel", f"no channel {ref} on this node")
        return n.views[cid]

    def open_view(self, ref: str) -> ChannelView:
        v = self.view(ref)
        if v.closed:
            raise ApiError(409, "channel_closed", f"channel {hx(v.channel_id)} is closed")
        return v

    async def _wallet(self) -> int:
        chain = self.node._need_chain()
        return await asyncio.to_thread(chain.w3.eth.get_balance, self.node.address)

    async def _afford(self, amount: int) -> None:
        have = await self._wallet()
        if have < amount + GAS_RESERVE:
            raise ApiError(
                409,
                "insufficient_funds",
                f"{self.node.address} holds {have} wei on L1, not enough for {amount} wei plus gas",
            )

    async def _reachable(self, peer: str) -> None:
        host, port = self.node.directory[peer.lower()]
        try:
            _, w = await asyncio.wait_for(asyncio.open_connection(host, port), 3)
        except (OSError, TimeoutError):
            raise ApiError(
                502, "peer_unreachable", f"peer {peer} at {host}:{port} does not answer"
            ) from None
        w.close()

    # ---------------------------------------------------------------- reads

    async def status(self, _: dict, __: str) -> dict:
        n = self.node
        return {**n.status(), "port": n.port, "peers": len(n.directory)}

    async def channels(self, _: dict, __: str) -> dict:
        return {"channels": [channel_json(v) for v in self.node.views.values()]}

    async def peers(self, _: dict, __: str) -> dict:
        n = self.node
        rows = []
        for addr, (host, port) in sorted(n.directory.items()):
            open_ = [v for v in n.views.values() if v.peer.lower() == addr and not v.closed]
            rows.append(
                {
                    "address": Web3.to_checksum_address(addr),
                    "host": host,
                    "port": port,
                    "channel_id": hx(open_[0].channel_id) if open_ else None,
                }
            )
        return {"peers": rows}

    # ---------------------------------------------------------------- peers and channels

    async def add_peer(self, body: dict, _: str) -> dict:
        addr = _address(body.get("address"), "peer")
        host = body.get("host", "127.0.0.1")
        port = body.get("port")
        if not isinstance(host, str) or not host:
            raise ApiError(400, "bad_peer", "host must be a host name or IP")
        if isinstance(port, bool) or not isinstance(port, int) or not 0 < port < 65536:
            raise ApiError(400, "bad_peer", f"port {port!r} is not a TCP port (1-65535)")
        if addr == self.node.address:
            raise ApiError(400, "bad_peer", "that is this node's own address")
        self.node.add_peer(addr, host, port)
        return {"address": addr, "host": host, "port": port}

    async def open(self, body: dict, _: str) -> dict:
        n = self.node
        peer = _address(body.get("peer"), "peer")
        amount = _amount(body)
        if peer == n.address:
            raise ApiError(400, "bad_peer", "a channel needs another node, not this one")
        if peer.lower() not in n.directory:
            raise ApiError(
                404, "unknown_peer", f"peer {peer} is not known: add it first (its host and port)"
            )
        if any(v.peer.lower() == peer.lower() and not v.closed for v in n.views.values()):
            raise ApiError(409, "channel_exists", f"there is already an open channel with {peer}")
        await self._afford(amount)
        await self._reachable(peer)
        cid = await n.open_channel(peer, amount)
        return {"channel": channel_json(n.views[cid])}

    async def fund(self, body: dict, ref: str) -> dict:
        v = self.open_view(ref)
        amount = _amount(body)
        if v.me != 1 or v.latest.state.nonce != 0:
            raise ApiError(
                409,
                "not_fundable",
                "only the channel's B side funds it, and only before the first payment",
            )
        await self._afford(amount)
        await self._reachable(v.peer)
        await self.node.fund_channel(v.channel_id, amount)
        return {"channel": channel_json(self.node.views[v.channel_id])}

    async def pay(self, body: dict, _: str) -> dict:
        peer = _address(body.get("peer"), "peer")
        amount = _amount(body)
        v = self.open_view(peer)
        if v.my_balance() < amount:
            raise ApiError(
                409,
                "insufficient_capacity",
                f"the channel with {peer} holds {v.my_balance()} wei on this side, less than "
                f"{amount}",
            )
        await self.node.pay_direct(peer, amount)
        return {"channel": channel_json(self.node.views[v.channel_id])}

    async def invoice(self, body: dict, _: str) -> dict:
        """A hashlock for a payment to this node, with route hints: the capacity of each open
        channel towards this node (what a payer cannot see from its own channels)."""
        n = self.node
        amount = _amount(body)
        h = n.create_invoice(amount)
        hints = [
            {"src": v.peer, "dst": n.address, "capacity": str(v.peer_balance())}
            for v in n.views.values()
            if not v.closed
        ]
        return {
            "invoice": {
                "payee": n.address,
                "amount": str(amount),
                "hashlock": hx(h),
                "hints": hints,
            }
        }

    async def route(self, body: dict, _: str) -> dict:
        n = self.node
        inv = body.get("invoice")
        if not isinstance(inv, dict):
            raise ApiError(400, "bad_invoice", "invoice must be the object `invoice` returned")
        payee = _address(inv.get("payee"), "payee")
        amount = _amount(inv)
        try:
            hashlock = unhx(inv.get("hashlock"), 32, "hashlock")
        except ChannelError:
            raise ApiError(400, "bad_invoice", "the invoice's hashlock is not 32 bytes") from None
        if payee == n.address:
            raise ApiError(400, "bad_invoice", "the invoice is for this node itself")
        edges = n.edges() + hint_edges(inv.get("hints", []), payee, n.address)
        try:
            hops = find_route(edges, n.address, payee, amount)
        except ChannelError as e:
            raise ApiError(409, "no_route", f"no route to {payee} for {amount} wei: {e}") from None
        timeout = body.get("timeout", 10)
        if isinstance(timeout, bool) or not isinstance(timeout, int | float):
            raise ApiError(400, "bad_timeout", "timeout must be a number of seconds")
        ok = await n.pay(payee, amount, hashlock, edges, timeout=min(max(timeout, 1.0), 120.0))
        if not ok:
            raise ApiError(
                409,
                "payment_failed",
                "the payment was refused or not settled in time (a lock in flight is claimed or "
                "cancelled later; see status)",
            )
        return {
            "paid": str(amount),
            "payee": payee,
            "hops": [Web3.to_checksum_address(h.node) for h in hops],
        }

    async def close(self, body: dict, ref: str) -> dict:
        """Cooperative close; if the peer cannot or will not sign, a unilateral close with the
        latest co-signed state (then `settle` after the challenge period)."""
        n = self.node
        v = self.open_view(ref)
        chain = n._need_chain()
        mode = "cooperative"
        reason = None
        if body.get("force"):
            mode, reason = "unilateral", "forced"
        else:
            try:
                await n.cooperative_close(v.channel_id)
            except (PeerUnreachable, PeerRefused, Conflict, TimeoutError) as e:
                if n.views[v.channel_id].closed:  # the peer signed, the chain refused: no fallback
                    raise
                mode, reason = "unilateral", f"the peer did not sign a cooperative close: {e}"
        if mode == "unilateral":
            await n.close_channel(v.channel_id)
        c = await asyncio.to_thread(chain.channel, v.channel_id)
        claimed = "0"
        if mode == "cooperative":
            claimed = str(await self._claim(v.token))
        return {
            "channel_id": hx(v.channel_id),
            "mode": mode,
            "reason": reason,
            "status": c.status,
            "settle_after": c.deadline if mode == "unilateral" else None,
            "claimed": claimed,
        }

    async def settle(self, _: dict, ref: str) -> dict:
        v = self.view(ref)
        await self.node.settle_and_unlock(v.channel_id)
        c = await asyncio.to_thread(self.node._need_chain().channel, v.channel_id)
        return {"channel_id": hx(v.channel_id), "status": c.status}

    async def _claim(self, token: str) -> int:
        chain = self.node._need_chain()
        amount = await asyncio.to_thread(chain.claimable, token, self.node.address)
        if amount:
            await asyncio.to_thread(chain.claim, token)
        return amount

    async def claim(self, body: dict, _: str) -> dict:
        token = _address(body.get("token", ETH), "token")
        return {"claimed": str(await self._claim(token)), "token": token}

    async def delegate(self, body: dict, _: str) -> dict:
        """Hand every open channel's latest state to a watchtower, and each new one from now on."""
        n = self.node
        tower = _address(body.get("tower"), "tower")
        host, port = body.get("host", "127.0.0.1"), body.get("port")
        if isinstance(port, bool) or not isinstance(port, int) or not 0 < port < 65536:
            raise ApiError(400, "bad_tower", f"port {port!r} is not a TCP port (1-65535)")
        expiry = body.get("expiry")
        if isinstance(expiry, bool) or not isinstance(expiry, int) or expiry <= n.clock():
            raise ApiError(400, "bad_tower", "expiry must be a unix time in the future")
        # the new tower must answer as a tower and take every state before it replaces the old
        # one: a refused delegation leaves the node protected as it was
        old_tower = n.tower
        old_client = n.set_tower(Tower(tower, str(host), port, expiry))
        assert n.towerc is not None
        reason = await n.towerc.probe()
        pushed = 0
        for v in list(n.views.values()):
            if reason is None and not v.closed and v.latest.state.nonce > 0:
                await n.towerc.push_latest(v)
                pushed += 1
                if n.towerc.status.get("ok") is False:
                    reason = n.towerc.status["error"]
        if reason is not None:
            n.set_tower(old_tower)
            if old_client is not None and n.towerc is not None:
                n.towerc.status = old_client.status
            raise ApiError(502, "tower_refused", f"the watchtower refused: {reason}")
        n.store.put(TOWER_KEY, [tower, str(host), port, expiry])
        return {"tower": tower, "pushed": pushed, "status": dict(n.towerc.status)}


Handler = Callable[[dict, str], Awaitable[dict]]


LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "[::1]")


def check_local_caller(request: web.Request) -> None:
    """Refuse what a web page could send: the API has no login, so a browser tab must not be
    able to reach it. A cross-origin page's request carries an Origin header; a JSON content type
    cannot be sent cross-origin without a CORS preflight, which this API never grants; a Host
    other than a loopback name is DNS rebinding (a page's own name resolved to 127.0.0.1)."""
    if request.headers.get("Origin") is not None:
        raise ApiError(403, "cross_origin", "requests from web pages (with Origin) are refused")
    host = request.host.rsplit(":", 1)[0] if not request.host.endswith("]") else request.host
    allowed = request.app.get("allowed_hosts", LOOPBACK_HOSTS)
    if host not in allowed:
        raise ApiError(403, "bad_host", f"Host {request.host!r} is not this node's API address")
    if request.method == "POST" and request.content_type != "application/json":
        raise ApiError(415, "bad_content_type", "send the body as Content-Type: application/json")


def _wrap(fn: Handler) -> Callable[[web.Request], Awaitable[web.Response]]:
    async def handle(request: web.Request) -> web.Response:
        try:
            check_local_caller(request)
            body = _body_of(await request.read()) if request.method == "POST" else {}
            result = await fn(body, request.match_info.get("ref", ""))
            return web.json_response({"ok": True, **result})
        except ApiError as e:
            status, code, msg = e.status, e.code, e.message
        except PeerUnreachable as e:
            status, code, msg = 502, "peer_unreachable", str(e)
        except (PeerRefused, Conflict) as e:
            status, code, msg = 409, "peer_refused", str(e)
        except TxFailed as e:
            status, code, msg = 502, "chain_failed", str(e)
        except ChannelError as e:
            status, code, msg = 409, "refused", str(e)
        except TimeoutError:
            status, code, msg = 504, "timeout", "the peer or the chain did not answer in time"
        except Exception as e:  # still an answer, and kept where the operator looks
            log.exception("channel API %s %s", request.method, request.path)
            status, code, msg = 500, "internal", f"{type(e).__name__}: {e}"
        msg = " ".join(str(msg).split())
        return web.json_response(
            {"ok": False, "error": {"code": code, "message": msg}}, status=status
        )

    return handle


def make_app(svc: Service, api_host: str = "127.0.0.1") -> web.Application:
    app = web.Application()
    app["allowed_hosts"] = (*LOOPBACK_HOSTS, api_host)
    r = app.router
    r.add_get("/status", _wrap(svc.status))
    r.add_get("/channels", _wrap(svc.channels))
    r.add_get("/peers", _wrap(svc.peers))
    r.add_post("/peers", _wrap(svc.add_peer))
    r.add_post("/channels", _wrap(svc.open))
    r.add_post("/channels/{ref}/fund", _wrap(svc.fund))
    r.add_post("/channels/{ref}/close", _wrap(svc.close))
    r.add_post("/channels/{ref}/settle", _wrap(svc.settle))
    r.add_post("/pay", _wrap(svc.pay))
    r.add_post("/invoices", _wrap(svc.invoice))
    r.add_post("/route", _wrap(svc.route))
    r.add_post("/claim", _wrap(svc.claim))
    r.add_post("/delegate", _wrap(svc.delegate))

    async def not_found(request: web.Request) -> web.Response:
        return web.json_response(
            {
                "ok": False,
                "error": {
                    "code": "not_found",
                    "message": f"no endpoint {request.method} {request.path}",
                },
            },
            status=404,
        )

    app.router.add_route("*", "/{tail:.*}", not_found)
    return app


async def serve(cfg: dict, key: str) -> None:
    """Run the node and its API until SIGTERM/SIGINT."""
    node = make_node(cfg, key)
    saved = node.store.get(TOWER_KEY)
    if isinstance(saved, list) and len(saved) == 4:
        node.set_tower(Tower(str(saved[0]), str(saved[1]), int(saved[2]), int(saved[3])))
    pilot = None
    if cfg.get("liquidity") is not None:
        try:
            pilot = Autopilot.for_service(node, cfg["liquidity"])
        except ValueError as e:
            raise SystemExit(f"the node config's `liquidity` is wrong: {e}") from e
    await node.start()
    if pilot is not None:
        pilot.start()
    host = str(cfg.get("api_host", "127.0.0.1"))
    runner = web.AppRunner(make_app(Service(node), host), access_log=None)
    try:
        await runner.setup()
        site = web.TCPSite(runner, host, int(cfg.get("api_port", 0)))
        await site.start()
        api_port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        print(f"node {node.address} listening on 127.0.0.1:{node.port}", flush=True)
        print(f"api http://{host}:{api_port}", flush=True)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        await stop.wait()
    finally:
        with contextlib.suppress(Exception):
            await runner.cleanup()
        await node.stop()


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description="l2kit payment-channel node with a REST API")
    p.add_argument("--config", required=True, help="JSON config file (see the module doc)")
    args = p.parse_args(argv)
    key = os.environ.get("L2KIT_NODE_KEY")
    if not key:
        raise SystemExit("set L2KIT_NODE_KEY to the node account's private key")
    logging.basicConfig(stream=sys.stderr, level=logging.WARNING)
    asyncio.run(serve(load_config(args.config), key))


if __name__ == "__main__":
    main()
