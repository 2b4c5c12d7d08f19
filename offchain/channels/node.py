"""A channel node: asyncio TCP on loopback, the typed msgpack wire, SQLite persistence.

Each node listens for requests from peers and keeps one outgoing connection per peer for its own
requests; replies travel back on the connection the request came in on. Every co-signed state is
written to the store before the acknowledgement leaves the node.

The node is transport plus the executor of three pure rule sets: `machine` (the channel: updates,
adjustments, closing), `mediator` (which locks to take, forward or enforce on chain) and
`recovery` (what each pending lock needs now). Refusals travel as typed `Error` replies with an
`ErrorCode`; the node decides from the code, never from the text. Operations queued on one
channel while an update is in flight go out together as the next update (one nonce, one
signature and one group-committed fsync per side for the whole batch). Its own timer runs
`recovery.plan` every `lock_timer` seconds, and once at start after resynchronising every
channel with its peer, so a node that crashed at any point of a routed payment claims what it
is owed, cancels what it cannot forward and takes back what expired, without the application
calling anything. Failures of background
work are logged and kept in `status()["errors"]`; none is dropped silently.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import os
import time
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, TypeVar

import msgspec

from offchain.channels import crypto, machine, mediator, merkle, recovery, wire
from offchain.channels.chain import ChainClient, TxFailed
from offchain.channels.machine import AddLock, Applied, Cancel, ChannelView, Claim, Expire, Pay
from offchain.channels.model import (
    ChannelError,
    ErrorCode,
    Lock,
    RouteHop,
    SignedState,
    State,
    hx,
    unhx,
)
from offchain.channels.router import Edge, Hop, Memory, find_route
from offchain.channels.store import Store
from offchain.channels.towerclient import Tower, TowerClient
from offchain.channels.wire import open_envelope, read_frame, seal
from offchain.sequencer.failpoints import hit

log = logging.getLogger(__name__)

ETH = "0x0000000000000000000000000000000000000000"
R = TypeVar("R", bound=wire.Reply)
CHAIN_BACKOFF_MAX = 5.0  # seconds: the longest pause of the chain watcher after failures


class PeerUnreachable(ChannelError):
    """The peer could not be reached: nothing was delivered."""


class Conflict(ChannelError):
    """Both sides proposed at once and the peer's update won; retry."""


class PeerRefused(ChannelError):
    """The peer answered with an `Error` reply; `code` is its `ErrorCode`."""


# the peer did not co-sign our update: away, no answer, refused, or kept outrunning us
NO_COSIGNATURE = (PeerUnreachable, TimeoutError, PeerRefused, Conflict)


def _fail(batch: list[tuple[machine.Op, asyncio.Future]], e: BaseException) -> None:
    for _, f in batch:
        if not f.done():
            f.set_exception(e)


MAX_BATCH = 64  # operations per update (wire.MAX_OPS is the hard limit)


def op_to_wire(op: machine.Op) -> wire.WireOp:
    match op:
        case Pay(amount):
            return wire.PayOp(wire.u256(amount))
        case AddLock(lock, route):
            hops = [wire.Hop(unhx(h.node, 20), wire.u256(h.amount), h.expiry) for h in route]
            return wire.LockOp(wire.lock_to_wire(lock), hops)
        case Claim(h, secret):
            return wire.ClaimOp(h, secret)
        case Cancel(h):
            return wire.CancelOp(h)
        case Expire(h):
            return wire.ExpireOp(h)
    raise ChannelError(f"unknown operation {op!r}")


def op_from_wire(w: wire.WireOp) -> machine.Op:
    match w:
        case wire.PayOp(amount):
            return Pay(wire.from_u256(amount))
        case wire.LockOp(lock, route):
            hops = tuple(
                RouteHop(crypto.checksum(h.node), wire.from_u256(h.amount), h.expiry) for h in route
            )
            return AddLock(wire.lock_from_wire(lock), hops)
        case wire.ClaimOp(h, secret):
            return Claim(h, secret)
        case wire.CancelOp(h):
            return Cancel(h)
        case wire.ExpireOp(h):
            return Expire(h)
    raise ChannelError(f"unknown operation {w!r}", ErrorCode.MALFORMED)


@dataclass(frozen=True)
class NodeConfig:
    host: str = "127.0.0.1"
    port: int = 0
    base_fee: int = 0
    fee_ppm: int = 0
    hop_delta: int = 60  # seconds an intermediary keeps between incoming and outgoing expiry
    final_margin: int = 30  # seconds the payee wants before expiry to claim (on chain if needed)
    request_timeout: float = 5.0
    reveal_offchain: bool = True  # False: secrets are only registered on chain (tests, audits)
    auto_claim: bool = True  # the payee claims a matching lock as soon as it arrives
    watch_chain: bool = True
    chain_poll: float = 0.05
    challenge_period: int = 100
    lock_timer: float = 0.2  # seconds between runs of the lock rules (0: only at start)
    # an incoming lock whose secret we know is enforced on chain from expiry - reveal_margin on;
    # None: half of hop_delta (the time an intermediary keeps to settle upstream)
    reveal_margin: int | None = None

    def margin(self) -> int:
        return self.hop_delta // 2 if self.reveal_margin is None else self.reveal_margin


class Node:
    def __init__(
        self,
        private_key: str,
        db_path: str | Path,
        domain: crypto.Domain,
        chain: ChainClient | None = None,
        clock: Callable[[], int] | None = None,
        config: NodeConfig | None = None,
        tower: Tower | None = None,
    ) -> None:
        self.signer = crypto.Signer(private_key)
        self.address = self.signer.address
        self.domain = domain
        self.chain = chain
        self.clock = clock or (lambda: int(time.time()))
        self.config = config or NodeConfig()
        self.tower = tower
        self.store = Store(db_path)
        self.views: dict[bytes, ChannelView] = {v.channel_id: v for v in self.store.views()}
        # peers' addresses survive a restart: a claim right after start must find its peer
        self.directory: dict[str, tuple[str, int]] = {
            k.removeprefix("peer:"): (str(v[0]), int(v[1]))
            for k, v in self.store.items("peer:")
            if isinstance(v, list) and len(v) == 2
        }
        self.errors: list[str] = []  # background failures, newest last (bounded)
        self.tower_status: dict = {"ok": None, "error": None, "nonce": None}
        self._routing: set[bytes] = set()  # hashlocks with a forward in flight
        self._unsynced: set[bytes] = set(self.views)  # channels not yet resynced since start
        self._acting: set[tuple[str, bytes]] = set()  # timer actions in progress
        self._closing: set[bytes] = set()  # channels with a close transaction in flight
        self.port = 0
        self.rejected = 0  # messages refused (malformed, unsigned, invalid)
        self._server: asyncio.AbstractServer | None = None
        self._conns: dict[str, tuple[asyncio.StreamWriter, asyncio.Task]] = {}
        self._conn_locks: dict[str, asyncio.Lock] = {}
        self._waiters: dict[int, asyncio.Future] = {}
        self._ids = itertools.count(1)
        self._chan_locks: dict[bytes, asyncio.Lock] = {}
        self._payments: dict[bytes, asyncio.Future] = {}
        self._tasks: set[asyncio.Task] = set()
        self._inbound: set[asyncio.StreamWriter] = set()
        # channels where we (as A) just refused the peer's update: we let it go first next time
        self._yield_to: dict[bytes, asyncio.Event] = {}
        self._from_block = 0
        self._stopping = False
        # operations waiting for the channel's next update, and channels with a sender running
        self._outbox: dict[bytes, list[tuple[machine.Op, asyncio.Future]]] = {}
        self._sending: set[bytes] = set()
        self._committing: dict[bytes, asyncio.Future] = {}  # the latest queued write per channel
        # a proposal of ours that a sync adopted while it was in flight, and its co-signed state
        self._landed: dict[bytes, tuple[machine.Proposal, SignedState]] = {}
        self._in_flight: set[bytes] = set()  # channels with an update of ours awaiting its answer
        self.memory = Memory()  # what payments taught about the graph's edges (router.py)
        self.liquidity: Any = None  # an attached autopilot.Autopilot (its status is shown)
        self.towerc: TowerClient | None = None
        self._tower_task: asyncio.Task | None = None
        if tower is not None:
            self.set_tower(tower)
        self.policy = mediator.Policy(
            self.config.base_fee,
            self.config.fee_ppm,
            self.config.hop_delta,
            self.config.final_margin,
        )

    # ---------------------------------------------------------------- lifecycle

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._serve, self.config.host, self.config.port)
        self.port = self._server.sockets[0].getsockname()[1]
        if self.chain is not None and self.config.watch_chain:
            self._from_block = int(self.store.get("from_block", 0))
            self._spawn(self._watch_chain())
        self._spawn(self._lock_timer())
        if self.towerc is not None:
            self._tower_task = self._spawn(self.towerc.run())

    async def stop(self) -> None:
        """Go offline: close the server, connections and tasks (state stays on disk)."""
        self._stopping = True
        if self._server is not None:
            self._server.close()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._server.wait_closed(), 1)
        for w in list(self._inbound):
            w.close()
        for w, t in list(self._conns.values()):
            t.cancel()
            w.close()
        self._conns.clear()
        for t in list(self._tasks):
            t.cancel()
        for t in list(self._tasks):
            with contextlib.suppress(BaseException):
                await t
        for f in self._waiters.values():
            if not f.done():
                f.set_exception(PeerUnreachable("node stopped"))
        for queued in self._outbox.values():
            for _, f in queued:
                if not f.done():
                    f.set_exception(PeerUnreachable("node stopped"))
        self._outbox.clear()
        with contextlib.suppress(Exception):
            await self.store.drain()
        self.store.close()

    def set_tower(self, tower: Tower | None) -> TowerClient | None:
        """Use `tower` (private, tower protocol v2) for every new state from now on; returns the
        previous client (its queued uploads are dropped)."""
        old, old_task = self.towerc, self._tower_task
        if old_task is not None:
            old_task.cancel()
        self.tower = tower
        self.towerc = None
        self._tower_task = None
        if tower is not None:
            self.towerc = TowerClient(
                self.signer, self.domain, tower, self.store, self._report, self.pay_direct
            )
            if self._server is not None:
                self._tower_task = self._spawn(self.towerc.run())
        return old

    def add_peer(self, address: str, host: str, port: int) -> None:
        key = address.lower()
        if self.directory.get(key) != (host, port):
            self.directory[key] = (host, port)
            self.store.put("peer:" + key, [host, port])

    def _spawn(self, coro: Coroutine[Any, Any, Any]) -> asyncio.Task:
        t = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(t)
        t.add_done_callback(self._task_done)
        return t

    def _task_done(self, t: asyncio.Task) -> None:
        self._tasks.discard(t)
        if not t.cancelled() and t.exception() is not None:
            name = getattr(t.get_coro(), "__name__", t.get_name())
            self._report(f"{name}: {t.exception()!r}")

    def _report(self, what: str) -> None:
        """Keep a background failure where the operator sees it (log and status)."""
        log.warning("channel node %s: %s", self.address, what)
        self.errors.append(what)
        del self.errors[:-50]

    def status(self) -> dict:
        """What an operator needs to see: channels, pending locks, background failures."""
        return {
            "address": self.address,
            "channels": len(self.views),
            "locks": sum(len(v.latest.state.locks) for v in self.views.values() if not v.closed),
            "unsynced": len(self._unsynced),
            "errors": list(self.errors),
            "tower": dict(self.towerc.status if self.towerc else self.tower_status),
            "liquidity": None if self.liquidity is None else self.liquidity.status(),
        }

    # ---------------------------------------------------------------- views

    def _save(
        self, view: ChannelView, durable: bool = True, secrets: dict[bytes, bytes] | None = None
    ) -> asyncio.Future:
        """Take `view` as the channel's view now and queue it for the group commit (with the
        secrets its new state was claimed with, atomically); await the result before sending
        anything that relies on it being on disk."""
        self.views[view.channel_id] = view
        if self.towerc is not None:
            self.towerc.on_view(view)
        fut = self.store.write_view(view, durable, secrets)
        self._committing[view.channel_id] = fut
        return fut

    def _keep(self, view: ChannelView) -> None:
        """Take `view` as the channel's view in memory only (our unacknowledged proposal)."""
        self.views[view.channel_id] = view
        if self.towerc is not None:
            self.towerc.on_view(view)

    async def _settled(self, cid: bytes) -> None:
        """Wait until the channel's last queued view is on disk: nothing is built on, or shown
        to the peer from, a state that a crash could still lose."""
        fut = self._committing.get(cid)
        if fut is not None and not fut.done():
            await asyncio.shield(fut)

    def channel_with(self, peer: str) -> ChannelView:
        for v in self.views.values():
            if v.peer.lower() == peer.lower() and not v.closed:
                return v
        raise ChannelError(f"no open channel with {peer}")

    def edges(self) -> list[Edge]:
        """This node's outgoing channel directions, for a route graph."""
        return [
            Edge(self.address, v.peer, v.my_balance(), self.config.base_fee, self.config.fee_ppm)
            for v in self.views.values()
            if not v.closed
        ]

    def _lock_for(self, cid: bytes) -> asyncio.Lock:
        return self._chan_locks.setdefault(cid, asyncio.Lock())

    # ---------------------------------------------------------------- opening and funding

    async def open_channel(self, peer: str, amount: int, token: str = ETH) -> bytes:
        """Open and fund a channel on chain, then tell the peer."""
        chain = self._need_chain()
        cid, _ = await asyncio.to_thread(
            chain.open, peer, token, self.config.challenge_period, amount
        )
        anchor = State(cid, 0, amount, 0)
        view = ChannelView(cid, 0, self.address, peer, token, SignedState(anchor, b"", b""))
        await self._save(view)
        await self._tell(peer, wire.Opened(0, cid))
        return cid

    async def fund_channel(self, cid: bytes, amount: int) -> None:
        """B's initial deposit (before any update)."""
        chain = self._need_chain()
        v = self.views[cid]
        if v.me != 1 or v.latest.state.nonce != 0:
            raise ChannelError("only B funds, and only before the first update")
        await asyncio.to_thread(chain.fund, cid, amount, v.token == ETH)
        anchor = replace(v.latest.state, balance_b=amount)
        await self._save(replace(v, latest=SignedState(anchor, b"", b"")))
        await self._tell(v.peer, wire.Funded(0, cid))

    async def _tell(self, peer: str, msg: wire.Request) -> None:
        """A notification whose refusal changes nothing here: reported, not raised."""
        try:
            await self._request(peer, msg, wire.Ok)
        except PeerRefused as e:
            self._report(f"{type(msg).__name__.lower()} refused by {peer}: {e}")

    async def _on_opened(self, sender: str, msg: wire.Opened) -> wire.Reply:
        chain = self._need_chain()
        cid = msg.channel_id
        c = await asyncio.to_thread(chain.channel, cid)
        if c.status != "Open" or c.a.lower() != sender.lower() or c.b != self.address:
            raise ChannelError(
                "no such open channel between the sender and this node on chain",
                ErrorCode.UNKNOWN_CHANNEL,
            )
        if cid not in self.views:
            anchor = State(cid, 0, c.total, 0)
            view = ChannelView(cid, 1, c.a, c.b, c.token, SignedState(anchor, b"", b""))
            await self._save(view)
        return wire.Ok(msg.id)

    async def _on_funded(self, sender: str, msg: wire.Funded) -> wire.Reply:
        chain = self._need_chain()
        cid = msg.channel_id
        v = self._view_from(sender, cid)
        c = await asyncio.to_thread(chain.channel, cid)
        if v.latest.state.nonce == 0:
            bal_b = c.total - v.latest.state.balance_a
            anchor = replace(v.latest.state, balance_b=bal_b)
            await self._save(replace(v, latest=SignedState(anchor, b"", b"")))
        return wire.Ok(msg.id)

    # ---------------------------------------------------------------- top-up and withdrawal

    async def adjust(self, cid: bytes, deposit: int = 0, withdrawal: int = 0) -> None:
        """Top up and/or withdraw my side, co-signed with the peer, then executed on chain."""
        chain = self._need_chain()
        async with self._lock_for(cid):
            await self._settled(cid)
            v = self.views[cid]
            s = machine.adjusted_state(v, v.me, deposit, withdrawal)
            expiry = self.clock() + 600
            digest = crypto.adjust_digest(self.domain, s, v.me, deposit, withdrawal, expiry)
            mine = self.signer.sign(digest)
            await self._save(machine.begin_adjust(v, s, expiry))
            try:
                req = wire.AdjustReq(
                    0,
                    cid,
                    wire.state_to_wire(s),
                    wire.u256(deposit),
                    wire.u256(withdrawal),
                    expiry,
                    mine,
                )
                resp = await self._request(v.peer, req, wire.AdjustSig)
                crypto.check_sig(digest, resp.sig, v.peer, "adjust")
                sig_a, sig_b = (mine, resp.sig) if v.me == 0 else (resp.sig, mine)
                await asyncio.to_thread(
                    chain.adjust, s, v.me, deposit, withdrawal, expiry, sig_a, sig_b, v.token == ETH
                )
            except BaseException:
                await self._save(machine.cancel_adjust(self.views[cid]))
                raise
            await self._save(machine.resolve_adjust(self.views[cid], s.nonce, self.clock()))
        with contextlib.suppress(ChannelError, TimeoutError):
            await self._tell(v.peer, wire.Adjusted(0, cid))

    async def _on_adjust(self, sender: str, msg: wire.AdjustReq) -> wire.Reply:
        cid = msg.channel_id
        await self._settled(cid)
        v = self._view_from(sender, cid)
        dep, wd = wire.from_u256(msg.deposit), wire.from_u256(msg.withdrawal)
        s = machine.adjusted_state(v, 1 - v.me, dep, wd)
        if wire.state_from_wire(msg.state) != s:
            raise ChannelError("the adjusted state does not follow from the latest state")
        digest = crypto.adjust_digest(self.domain, s, 1 - v.me, dep, wd, msg.expiry)
        crypto.check_sig(digest, msg.sig, v.peer, "adjust")
        # Freeze the channel until the adjustment lands on chain or expires.
        await self._save(machine.begin_adjust(v, s, msg.expiry))
        return wire.AdjustSig(msg.id, self.signer.sign(digest))

    async def _on_adjusted(self, sender: str, msg: wire.Adjusted) -> wire.Reply:
        v = self._view_from(sender, msg.channel_id)
        await self.refresh_adjust(v)
        return wire.Ok(msg.id)

    async def refresh_adjust(self, v: ChannelView) -> None:
        """Resolve a frozen adjustment from the chain: adopt it if it landed, drop it if expired."""
        if v.adjusting is None:
            return
        c = await asyncio.to_thread(self._need_chain().channel, v.channel_id)
        new = machine.resolve_adjust(v, c.min_nonce, self.clock())
        if new != v:
            await self._save(new)

    # ---------------------------------------------------------------- closing

    async def cooperative_close(self, cid: bytes) -> None:
        chain = self._need_chain()
        async with self._lock_for(cid):
            await self._settled(cid)
            v = self.views[cid]
            s = machine.coop_close_terms(v)
            digest = crypto.coop_digest(self.domain, cid, s.nonce, s.balance_a, s.balance_b)
            mine = self.signer.sign(digest)
            resp = await self._request(v.peer, wire.CoopClose(0, cid, s.nonce, mine), wire.CloseSig)
            crypto.check_sig(digest, resp.sig, v.peer, "cooperative close")
            sig_a, sig_b = (mine, resp.sig) if v.me == 0 else (resp.sig, mine)
            await self._save(machine.mark_closed(v))
            await asyncio.to_thread(
                chain.cooperative_close, cid, s.nonce, s.balance_a, s.balance_b, sig_a, sig_b
            )

    async def _on_coop_close(self, sender: str, msg: wire.CoopClose) -> wire.Reply:
        cid = msg.channel_id
        await self._settled(cid)
        v = self._view_from(sender, cid)
        s = machine.coop_close_terms(v, msg.nonce)
        digest = crypto.coop_digest(self.domain, cid, s.nonce, s.balance_a, s.balance_b)
        crypto.check_sig(digest, msg.sig, v.peer, "cooperative close")
        await self._save(machine.mark_closed(v))
        return wire.CloseSig(msg.id, self.signer.sign(digest))

    async def close_channel(self, cid: bytes, state: SignedState | None = None) -> None:
        """Unilateral close with our latest co-signed state (or `state`, for tests of staleness).
        At most one close per channel is sent: a second call while one is in flight, or once
        the chain shows the channel closing, does nothing. If the transaction fails the channel
        is marked open again (so the timer retries) and TxFailed is raised."""
        chain = self._need_chain()
        if cid in self._closing:
            return
        self._closing.add(cid)
        try:
            c = await asyncio.to_thread(chain.channel, cid)
            await self._settled(cid)
            v = self.views[cid]
            if c.status != "Open":
                await self._save(machine.mark_closed(v))
                return
            st = state or v.latest
            await self._save(machine.mark_closed(v))
            try:
                await asyncio.to_thread(chain.close, st.state, st.sig_a, st.sig_b)
            except BaseException:
                await self._save(machine.reopen(self.views[cid]))
                raise
        finally:
            self._closing.discard(cid)

    async def settle_and_unlock(self, cid: bytes) -> None:
        """After the challenge period: settle, then resolve every resolvable lock and claim."""
        chain = self._need_chain()
        c = await asyncio.to_thread(chain.channel, cid)
        if c.status == "Closing":
            await asyncio.to_thread(chain.settle, cid)
        await self.unlock(cid)
        v = self.views[cid]
        if await asyncio.to_thread(chain.claimable, v.token, self.address):
            await asyncio.to_thread(chain.claim, v.token)

    async def unlock(self, cid: bytes) -> int:
        """Unlock the settled state's locks that can be resolved now; returns how many."""
        chain = self._need_chain()
        v = self.views[cid]
        c = await asyncio.to_thread(chain.channel, cid)
        st = v.latest.state
        if c.nonce != st.nonce or not st.locks:
            return 0
        leaves = [lock.leaf() for lock in st.locks]
        now = await asyncio.to_thread(chain.now)
        ready, indices, proofs = [], [], []
        for i, lock in enumerate(st.locks):
            done = await asyncio.to_thread(chain.is_unlocked, cid, i)
            revealed = await asyncio.to_thread(chain.secret_revealed_at, lock.hashlock)
            if not done and ((0 < revealed <= lock.expiry) or now > lock.expiry):
                ready.append(lock)
                indices.append(i)
                proofs.append(merkle.proof(leaves, i))
        if ready:
            await asyncio.to_thread(chain.unlock, cid, ready, indices, proofs)
        return len(ready)

    # ---------------------------------------------------------------- payments

    async def pay_direct(self, peer: str, amount: int) -> SignedState:
        v = self.channel_with(peer)
        return await self._propose(v.channel_id, Pay(amount))

    def create_invoice(self, amount: int) -> bytes:
        """A fresh secret for a payment to this node; returns its hashlock."""
        secret = os.urandom(32)
        h = crypto.keccak(secret)
        self.store.put_invoice(h, secret, amount)
        return h

    async def pay(
        self,
        payee: str,
        amount: int,
        hashlock: bytes,
        edges: list[Edge],
        timeout: float = 10.0,
        expiry_override: int | None = None,
        attempts: int = 1,
    ) -> bool:
        """Route a hash-locked payment; True once the first hop's lock is claimed, False if it was
        refused, cancelled, or not settled within `timeout` (the lock may then still complete
        or be cancelled later). A refused or cancelled attempt is remembered (`self.memory`)
        and, up to `attempts` in all, retried on the route the memory now prefers; a timed-out
        one never is (it may still complete). Raises ChannelError if no route has the
        capacity."""
        if self.store.secret(hashlock) is not None:
            # anyone on the path may know it: a new lock under it can be taken without paying on
            raise ChannelError(
                f"the secret of hashlock {hx(hashlock)} was already revealed: ask the payee "
                "for a new invoice"
            )
        for attempt in range(max(1, attempts)):
            try:
                route = find_route(
                    edges, self.address, payee, amount, memory=self.memory, now=self.clock()
                )
            except ChannelError:
                if attempt == 0:
                    raise
                return False
            outcome = await self.pay_route(route, hashlock, timeout, expiry_override)
            if outcome != "failed":
                return outcome == "ok"
        return False

    async def pay_route(
        self,
        route: list[Hop],
        hashlock: bytes,
        timeout: float = 10.0,
        expiry_override: int | None = None,
    ) -> str:
        """Send a hash-locked payment over `route` (the last hop may be this node itself: a
        circular self-payment that moves liquidity). "ok" once the first hop's lock is claimed,
        "failed" if refused or cancelled (nothing moved), "timeout" if still unsettled."""
        plan = mediator.plan_payment(route, self.clock(), self.policy, expiry_override)
        v = self.channel_with(route[0].node)
        fut = asyncio.get_running_loop().create_future()
        self._payments[hashlock] = fut
        lock = Lock(v.me, plan.amount, hashlock, plan.expiry)
        try:
            await self._propose(v.channel_id, AddLock(lock, plan.route))
        except (ChannelError, TimeoutError):
            self._payments.pop(hashlock, None)
            # the first hop refused: its admission checks its own outgoing capacity too, so the
            # whole route is suspect (the first edge's capacity we know exactly)
            self.memory.route_failed(self.address, route, self.clock())
            return "failed"
        try:
            ok = await asyncio.wait_for(asyncio.shield(fut), timeout)
        except TimeoutError:
            return "timeout"
        if ok:
            self.memory.route_succeeded(self.address, route, self.clock())
            return "ok"
        self.memory.route_failed(self.address, route, self.clock())
        return "failed"

    # ---------------------------------------------------------------- proposing

    async def _propose(self, cid: bytes, op: machine.Op) -> SignedState:
        """Queue `op` for the channel's next update and wait for its outcome: the co-signed
        state that includes it, or the error that refused it. Ops queued while an update is in
        flight go out together in the next one."""
        fut: asyncio.Future = asyncio.get_running_loop().create_future()
        self._outbox.setdefault(cid, []).append((op, fut))
        if cid not in self._sending:
            self._sending.add(cid)
            self._spawn(self._send_loop(cid))
        return await fut

    async def _send_loop(self, cid: bytes) -> None:
        """The channel's one sender: takes everything queued, sends it as one update, repeats."""
        batch: list[tuple[machine.Op, asyncio.Future]] = []
        try:
            while self._outbox.get(cid):
                queued = self._outbox.pop(cid)
                batch, rest = queued[:MAX_BATCH], queued[MAX_BATCH:]
                if rest:
                    self._outbox[cid] = rest
                await self._send_batch(cid, batch)
        except BaseException as e:  # cancelled (node stopping) or a bug: no caller waits forever
            for _, f in batch + self._outbox.pop(cid, []):
                if not f.done():
                    f.set_exception(
                        e if isinstance(e, Exception) else PeerUnreachable("node stopped")
                    )
            raise
        finally:
            self._sending.discard(cid)

    async def _send_batch(self, cid: bytes, batch: list[tuple[machine.Op, asyncio.Future]]) -> None:
        live = [(op, f) for op, f in batch if not f.done()]
        for attempt in range(20):
            try:
                signed = await self._propose_once(cid, live)
            except Conflict:
                live = [(op, f) for op, f in live if not f.done()]
                await asyncio.sleep(0.001 * (attempt + 1))
                continue
            except PeerRefused as e:
                if len(live) > 1 and e.code != ErrorCode.FROZEN:
                    # one op of the batch may be the refused one: retry each alone, so only
                    # that one fails
                    for one in live:
                        if not one[1].done():
                            await self._send_batch(cid, [one])
                    return
                _fail(live, e)
                return
            except Exception as e:
                _fail(live, e)
                return
            if signed is not None:
                for _, f in live:
                    if not f.done():
                        f.set_result(signed)
            return
        _fail(live, Conflict("the peer kept winning update conflicts; try again later"))

    async def _propose_once(
        self, cid: bytes, batch: list[tuple[machine.Op, asyncio.Future]]
    ) -> SignedState | None:
        """One update carrying the batch's ops that apply (each op that does not gets its own
        error); the co-signed state, or None if no op was left."""
        turn = self._yield_to.pop(cid, None)
        if turn is not None:  # fairness: the peer lost a conflict to us, let its retry in first
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(turn.wait(), 0.05)
        async with self._lock_for(cid):
            await self._settled(cid)
            v = self.views[cid]
            if v.pending is not None:
                await self._resync(cid)
                v = self.views[cid]
            if v.adjusting is not None:
                await self.refresh_adjust(v)
                v = self.views[cid]
            machine.check_usable(v)
            for op, f in batch:
                if isinstance(op, Cancel) and not f.done():  # never give back a known secret
                    lock = v.latest.state.lock(op.hashlock)
                    if lock is not None:
                        known = self.store.secret(op.hashlock) is not None
                        try:
                            recovery.may_release(lock, op, known, 0)
                        except ChannelError as e:
                            f.set_exception(e)
            todo = [(op, f) for op, f in batch if not f.done()]
            _, kept, bad = machine.fold_ops(
                v.latest.state, tuple(op for op, _ in todo), v.me, self.clock()
            )
            for i, err in bad.items():
                todo[i][1].set_exception(err)
            ops = tuple(todo[i][0] for i in kept)
            if not ops:
                return None
            new, events = machine.propose(v, ops, self.signer, self.domain, self.clock())
            # Our own proposal needs no fsync: losing it costs nothing (the peer's copy, if it
            # signed, is one nonce ahead, which the penalty rule does not punish) and `sync`
            # recovers it. Only a proposal that adds a lock is written at all (unsynced, ahead
            # of the network round trip): after a crash it tells the lock rules that the lock
            # may be out there (a forward, recovery rule 3); payments, claims, cancels and
            # expiries are simply proposed again by whoever still wants them.
            if any(isinstance(op, AddLock) for op in ops):
                self._save(new, durable=False)
            else:
                self._keep(new)
            ev = events[0]
            assert isinstance(ev, machine.SendUpdate)
            msg = wire.Update(0, cid, ev.nonce, ev.sig, [op_to_wire(op) for op in ops])
            claims = any(isinstance(op, Claim) for op in ops)
            self._in_flight.add(cid)
            try:
                resp = await self._request(
                    v.peer,
                    msg,
                    wire.Ack,
                    sent=lambda: hit("channels.claim_sent") if claims else None,
                )
            except PeerUnreachable:
                await self._save(machine.drop_pending(self.views[cid]), durable=False)
                raise
            except PeerRefused as e:
                self._in_flight.discard(cid)
                await self._save(machine.drop_pending(self.views[cid]), durable=False)
                if e.code == ErrorCode.STALE_NONCE:
                    await self._resync(cid)  # the peer is ahead of what we remember
                adopted = self._adopted(cid, new)
                if adopted is not None:
                    await self._settled(cid)
                    return adopted
                moved = self.views[cid].latest.state.nonce != v.latest.state.nonce
                if e.code == ErrorCode.CONFLICT or moved:
                    # the peer's concurrent update won (or landed while ours was in flight)
                    raise Conflict(str(e), ErrorCode.CONFLICT) from e
                raise
            finally:
                self._in_flight.discard(cid)
            cur = self.views[cid]
            if cur.pending is None or cur.pending.state.nonce != ev.nonce:
                adopted = self._adopted(cid, new)
                if adopted is not None:
                    await self._settled(cid)
                    return adopted
                raise Conflict("our update was superseded by the peer's", ErrorCode.CONFLICT)
            done, events = machine.receive_ack(cur, resp.nonce, resp.sig, self.domain)
            await self._save(done)
            hit("channels.ack_saved")  # the peer's co-signature on our update is on disk
        for applied in events:
            if isinstance(applied, Applied):
                self._after_applied(cid, applied)
        return done.latest

    def _adopted(self, cid: bytes, proposed: ChannelView) -> SignedState | None:
        """The co-signed state, if a `sync` (run for an update of the peer while ours was in
        flight) adopted our proposal itself: the peer co-signed it, the sync applied its
        operations, and proposing them again would apply them twice."""
        landed = self._landed.pop(cid, None)
        if landed is None or proposed.pending is None or landed[0] is not proposed.pending:
            return None
        return landed[1]

    async def _resync(self, cid: bytes) -> None:
        """Catch up with the peer after an unanswered proposal or a lost (unsynced) one: adopt
        its latest state if it is newer and carries both signatures, else drop our proposal."""
        v = self.views[cid]
        resp = await self._request(v.peer, wire.Sync(0, cid), wire.Latest)
        theirs = wire.signed_from_wire(resp.latest)
        s = theirs.state
        await self._settled(cid)
        v = self.views[cid]  # the peer's updates may have landed while we waited
        if s.nonce <= v.latest.state.nonce:
            if v.pending is not None:
                await self._save(machine.drop_pending(v), durable=False)
            return
        if s.channel_id != cid or s.total() != v.latest.state.total():
            raise ChannelError("the peer's latest state does not belong to this channel")
        d = crypto.state_digest(self.domain, s)
        crypto.check_sig(d, theirs.sig_a, v.addr_a, "sync")
        crypto.check_sig(d, theirs.sig_b, v.addr_b, "sync")
        p = v.pending
        await self._save(replace(v, latest=theirs, pending=None))
        if p is not None and p.state == s:
            self._landed[cid] = (p, theirs)  # our proposal itself: its proposer must not retry
            for op in p.ops:
                self._after_applied(cid, Applied(op, v.me, theirs))

    # ---------------------------------------------------------------- receiving

    def _view_from(self, sender: str, cid: bytes) -> ChannelView:
        v = self.views.get(cid)
        if v is None:
            raise ChannelError(f"unknown channel {hx(cid)}", ErrorCode.UNKNOWN_CHANNEL)
        if v.peer.lower() != sender.lower():
            raise ChannelError(
                "the sender is not this channel's counterparty", ErrorCode.UNKNOWN_CHANNEL
            )
        return v

    async def _on_update(self, sender: str, msg: wire.Update) -> wire.Reply | bytes:
        cid = msg.channel_id
        await self._settled(cid)
        v = self._view_from(sender, cid)
        ops = tuple(op_from_wire(w) for w in msg.ops)
        for op in ops:
            if isinstance(op, AddLock):
                self._admit(op)
        if msg.nonce > v.latest.state.nonce + 1:
            if cid in self._in_flight:
                # The peer co-signed our update in flight and built on it: its ack is on the
                # way to us. Take that first (the peer retries); a sync now would adopt or drop
                # our proposal under its own proposer's feet (applied twice, or two different
                # co-signed states with one nonce).
                raise ChannelError(
                    "conflict: an update of ours is in flight; retry after it", ErrorCode.CONFLICT
                )
            # The peer is past our latest: it co-signed a state whose acknowledgement we lost
            # (a crash, a dropped reply). Adopt it from the peer instead of refusing its update.
            await self._resync(cid)
            v = self.views[cid]
        for op in ops:
            if isinstance(op, Expire):
                await self._check_release(v, op)
                v = self.views[cid]
        if v.pending is not None and v.me == 0:
            self._yield_to.setdefault(cid, asyncio.Event())
        new, events = machine.receive_update(
            v, ops, msg.nonce, msg.sig, self.signer, self.domain, self.clock()
        )
        turn = self._yield_to.get(cid)
        if turn is not None:
            turn.set()
            self._yield_to.pop(cid, None)
        # persisted before the ack is sent; a claim's secret in the same transaction, so no crash
        # leaves us having paid downstream without the secret to claim upstream with
        claimed = {
            e.op.hashlock: e.op.secret
            for e in events
            if isinstance(e, Applied) and isinstance(e.op, Claim)
        }
        # Locks we are to forward count as forwarded from now on, while the state is being
        # written: the lock rules must never take them for orphans (spec section 6, rule 3).
        forwards = [op.lock.hashlock for op in ops if isinstance(op, AddLock) and op.route]
        self._routing.update(forwards)
        try:
            saved = self._save(new, secrets=claimed)
        except BaseException:
            self._routing.difference_update(forwards)
            raise
        # A secret we just learnt is claimed upstream at once, while this state is being written
        # (Raiden's mediator does the same): it only gets us paid, and every write of that claim
        # is queued after this state and its secret, so it is never on disk without them.
        for h, secret in claimed.items():
            self._spawn(self._claim_upstream(h, secret))
        # the ack's frame is sealed while the state is being written; it is sent only after
        ack = next(e for e in events if isinstance(e, machine.SendAck))
        frame = seal(wire.Ack(msg.id, ack.nonce, ack.sig), self.signer)
        try:
            await saved
        except BaseException:
            self._routing.difference_update(forwards)
            raise
        hit("channels.update_saved")  # co-signed and on disk, the ack not yet sent
        if claimed:
            hit("channels.claim_saved")  # state and secret on disk, not yet acknowledged
        for e in events:
            if isinstance(e, Applied):
                self._after_applied(cid, e, upstream_claimed=True)
        return frame

    async def _check_release(self, v: ChannelView, op: Expire) -> None:
        """Refuse to co-sign the sender's Expire of a lock whose secret we know (and that the
        chain would pay us): see `recovery.may_release`."""
        lock = v.latest.state.lock(op.hashlock)
        if lock is None or lock.sender == v.me or self.store.secret(op.hashlock) is None:
            return
        revealed = 0
        if self.chain is not None:
            revealed = await asyncio.to_thread(self.chain.secret_revealed_at, op.hashlock)
        else:
            revealed = 1  # no chain to ask: assume the worst case for us and keep the lock
        recovery.may_release(lock, op, True, revealed)

    def _admit(self, op: AddLock) -> mediator.Admission:
        """The mediator's verdict on an incoming lock (raises LOCK_REFUSED before we co-sign)."""
        lock, route = op.lock, op.route
        key = hx(lock.hashlock)
        invoice = None
        amount = self.store.get("invoice:" + key)
        if amount is not None:
            invoice = mediator.Invoice(
                int(amount),
                self.store.secret(lock.hashlock) is not None,
                bool(self.store.get("paid:" + key)),
            )
        capacity = None
        if route:
            with contextlib.suppress(ChannelError):
                capacity = self.channel_with(route[0].node).my_balance()
        return mediator.admit_lock(lock, route, self.clock(), self.policy, invoice, capacity)

    def _after_applied(self, cid: bytes, e: Applied, upstream_claimed: bool = False) -> None:
        view = self.views[cid]
        if self.towerc is not None:
            self.towerc.on_state(view)
        op = e.op
        mine = e.actor == view.me
        if isinstance(op, AddLock) and not mine:
            hit("channels.lock_accepted")  # saved, not yet acknowledged
            if op.route:
                self._routing.add(op.lock.hashlock)  # not an orphan while we forward it
                self._spawn(self._forward(cid, op.lock, op.route))
            elif self.config.auto_claim:
                self._spawn(self._claim_as_payee(cid, op.lock))
        elif isinstance(op, AddLock) and mine:
            hit("channels.lock_forwarded")  # the next hop co-signed our lock
        elif isinstance(op, Claim) and not mine:
            # the secret was stored with the state (see _on_update)
            hit("channels.secret_returned")  # secret stored, downstream not yet acknowledged
            self._settle_payment(op.hashlock, True)
            if not upstream_claimed:  # (_on_update starts it before the state is on disk)
                self._spawn(self._claim_upstream(op.hashlock, op.secret))
        elif isinstance(op, Cancel) and not mine:
            self._settle_payment(op.hashlock, False)
            self._spawn(self._cancel_upstream(op.hashlock))

    def _settle_payment(self, hashlock: bytes, ok: bool) -> None:
        fut = self._payments.pop(hashlock, None)
        if fut is not None and not fut.done():
            fut.set_result(ok)

    def _incoming(self, hashlock: bytes, closed: bool = False) -> ChannelView | None:
        """The channel of our incoming lock with `hashlock`: an open one, else (with `closed`)
        a closed one, whose lock the chain still pays us with the secret."""
        found = None
        for v in self.views.values():
            lock = v.latest.state.lock(hashlock)
            if lock is not None and lock.sender != v.me:
                if not v.closed:
                    return v
                found = found or (v if closed else None)
        return found

    async def _forward(self, in_cid: bytes, lock: Lock, route: tuple[RouteHop, ...]) -> None:
        try:
            nxt = route[0]
            failure: mediator.ForwardFailure | None = None
            out = self.channel_with(nxt.node)
            out_lock = Lock(out.me, nxt.amount, lock.hashlock, nxt.expiry)
            try:
                await self._propose(out.channel_id, AddLock(out_lock, route[1:]))
            except PeerUnreachable:
                failure = mediator.ForwardFailure.UNREACHABLE  # nothing delivered downstream
            except TimeoutError:
                failure = mediator.ForwardFailure.NO_ANSWER  # it may have co-signed
            except ChannelError:
                failure = mediator.ForwardFailure.REFUSED
            if failure is not None:
                pending = self.views[out.channel_id].pending is not None
                verdict = mediator.after_forward_failure(failure, pending)
                if isinstance(verdict, mediator.CancelUpstream):
                    await self._cancel_upstream(lock.hashlock)
        finally:
            self._routing.discard(lock.hashlock)

    async def _claim_as_payee(self, cid: bytes, lock: Lock) -> None:
        secret = self.store.secret(lock.hashlock)
        if secret is None:
            return
        # an invoice is paid once; the mark is on disk no later than the claim's state is
        self.store.put_queued("paid:" + hx(lock.hashlock), True)
        if not self.config.reveal_offchain:
            await asyncio.to_thread(self._need_chain().register_secret, secret)
            return
        await self._claim(cid, lock.hashlock, secret)

    async def _claim(self, cid: bytes, hashlock: bytes, secret: bytes) -> None:
        """Claim an incoming lock off chain. A peer that is away (unknown address, unreachable,
        no answer) is retried by the timer, which goes on chain from expiry - reveal_margin on;
        a peer that refuses the claim is a peer that will not pay: enforce on chain now."""
        try:
            await self._propose(cid, Claim(hashlock, secret))
        except (PeerUnreachable, TimeoutError, Conflict):
            return
        except PeerRefused:
            v = self.views[cid]
            lock = v.latest.state.lock(hashlock)
            we_receive = lock is not None and lock.sender != v.me
            verdict = mediator.after_claim_refused(
                lock, we_receive, v.closed, self.chain is not None, self.clock()
            )
            if isinstance(verdict, mediator.GoOnChain):
                await self._enforce_on_chain(cid, secret)
        except ChannelError as e:  # our side cannot propose now (e.g. an adjustment): retry
            log.info("claim of %s deferred at %s on %s: %s", hx(hashlock), self.address, hx(cid), e)

    async def claim_incoming(self, hashlock: bytes) -> SignedState:
        """As payee, claim the incoming lock for one of our invoices off chain."""
        secret = self.store.secret(hashlock)
        v = self._incoming(hashlock)
        if secret is None or v is None:
            raise ChannelError("no incoming lock with a secret we know for this hashlock")
        self.store.put_queued("paid:" + hx(hashlock), True)
        return await self._propose(v.channel_id, Claim(hashlock, secret))

    async def _claim_upstream(self, hashlock: bytes, secret: bytes) -> None:
        v = self._incoming(hashlock, closed=True)
        if v is not None and v.closed:  # only the chain can pay it: register the secret now
            await self._reveal_on_chain(v.channel_id, hashlock, secret)
            return
        if v is None or not self.config.reveal_offchain:
            return
        # If the upstream peer will not co-sign, the secret is registered on chain before our
        # incoming lock expires (we keep hop_delta between expiries), the channel is closed with
        # our latest state and the lock unlocked after settlement.
        await self._claim(v.channel_id, hashlock, secret)

    async def _enforce_on_chain(self, cid: bytes, secret: bytes) -> None:
        chain = self._need_chain()
        h = crypto.keccak(secret)
        if await asyncio.to_thread(chain.secret_revealed_at, h) == 0:
            await asyncio.to_thread(chain.register_secret, secret)
        await self.close_channel(cid)

    async def _cancel_upstream(self, hashlock: bytes) -> None:
        v = self._incoming(hashlock)
        if v is not None:
            try:
                await self._propose(v.channel_id, Cancel(hashlock))
            except (ChannelError, TimeoutError) as e:
                log.info("cancel of %s upstream failed (%s): the timer retries", hx(hashlock), e)

    async def expire_locks(self) -> int:
        """Take back every expired outgoing lock whose channel is still open; returns how many
        were taken back off chain. If the peer cannot be reached, the channel is closed on chain
        instead (the lock is refunded by `unlock` after settlement)."""
        n = 0
        now = self.clock()
        for v in list(self.views.values()):
            for lock in v.latest.state.locks:
                if v.closed or lock.sender != v.me or now <= lock.expiry:
                    continue
                try:
                    await self._propose(v.channel_id, Expire(lock.hashlock))
                except (PeerUnreachable, TimeoutError):
                    if self.chain is not None and v.channel_id not in self._closing:
                        await self._refund_on_chain(v)
                    break
                except (PeerRefused, Conflict):
                    await self._expire_on_chain_if_due(v.channel_id, lock)
                    continue
                except ChannelError:
                    continue
                self._settle_payment(lock.hashlock, False)
                n += 1
                await self._cancel_upstream(lock.hashlock)
        return n

    # ---------------------------------------------------------------- the lock timer

    async def _lock_timer(self) -> None:
        """Start-up recovery, then the lock rules every `lock_timer` seconds."""
        while not self._stopping:
            try:
                await self.run_lock_rules()
            except Exception as e:  # a bug here must not stop the timer
                self._report(f"lock rules: {e!r}")
            task = asyncio.current_task()
            if self.config.lock_timer <= 0 or (task is not None and task.cancelling()):
                return  # (wait_for can turn our cancellation into the request's TimeoutError)
            await asyncio.sleep(self.config.lock_timer)

    async def run_lock_rules(self) -> list[recovery.Action]:
        """Resync channels not yet in sync since start, then start every action `recovery.plan`
        asks for (each at most once at a time); returns the actions started."""
        for cid in list(self._unsynced):
            v = self.views[cid]
            if v.closed:
                self._unsynced.discard(cid)
                continue
            try:
                async with self._lock_for(cid):
                    await self._resync(cid)
                self._unsynced.discard(cid)
            except (PeerUnreachable, TimeoutError):
                pass  # the peer is away: retried on the next run
            except ChannelError as e:
                self._report(f"resync of {hx(cid)}: {e}")
        busy = frozenset(c for c, lk in self._chan_locks.items() if lk.locked()) | frozenset(
            c for c, f in self._committing.items() if not f.done()
        )  # an update in flight either way, or a view not yet on disk: decided next run
        knowledge = recovery.Knowledge(
            secrets=self._claimable_secrets(),
            invoices=frozenset(
                unhx(k.removeprefix("invoice:"), 32) for k, _ in self.store.items("invoice:")
            ),
            routing=frozenset(self._routing),
            busy=busy,
            synced=not self._unsynced,
            registered=frozenset(
                unhx(k.removeprefix("onchain:"), 32) for k, _ in self.store.items("onchain:")
            ),
        )
        actions = recovery.plan(self.views.values(), knowledge, self.clock(), self.config.margin())
        started = []
        for a in actions:
            key = (type(a).__name__, getattr(a, "hashlock", a.channel_id))
            if key in self._acting:
                continue
            self._acting.add(key)
            started.append(a)
            self._spawn(self._act(a, key))
        return started

    def _claimable_secrets(self) -> dict[bytes, bytes]:
        """Secrets of incoming locks we are entitled to claim with now. Our own invoices count
        once we decided to take the payment (auto_claim, or a claim already started)."""
        out: dict[bytes, bytes] = {}
        for v in self.views.values():
            for lock in v.latest.state.locks:
                if lock.sender == v.me:
                    continue
                secret = self.store.secret(lock.hashlock)
                if secret is None:
                    continue
                key = hx(lock.hashlock)
                invoice = self.store.get("invoice:" + key) is not None
                if invoice and not (self.config.auto_claim or self.store.get("paid:" + key)):
                    continue
                out[lock.hashlock] = secret
        return out

    async def _act(self, a: recovery.Action, key: tuple[str, bytes]) -> None:
        try:
            match a:
                case recovery.Resync(cid):
                    async with self._lock_for(cid):
                        if self.views[cid].pending is not None:
                            await self._resync(cid)
                case recovery.ClaimOffchain(cid, h, secret):
                    if self.config.reveal_offchain:
                        self.store.put_queued("paid:" + hx(h), True)
                        await self._claim(cid, h, secret)
                case recovery.RevealOnChain(cid, h, secret):
                    await self._reveal_on_chain(cid, h, secret)
                case recovery.CancelOrphan(cid, h):
                    await self._propose(cid, Cancel(h))
                    self._settle_payment(h, False)
                case recovery.CancelRefunded(cid, h, expiry):
                    if await self._refunded_downstream(h, expiry):
                        await self._propose(cid, Cancel(h))
                        self._settle_payment(h, False)
                case recovery.ExpireOutgoing(cid, h):
                    await self._expire_one(cid, h)
        except (PeerUnreachable, TimeoutError, Conflict):
            pass  # the peer is away or busy: the next run retries
        except (ChannelError, TxFailed, OSError) as e:
            self._report(f"{type(a).__name__} {hx(key[1])}: {e}")
        finally:
            self._acting.discard(key)

    async def _reveal_on_chain(self, cid: bytes, h: bytes, secret: bytes) -> None:
        """Make the chain pay our incoming lock: it is close to (or past) expiry and still not
        claimed, or its channel is closed. Register the secret if it is not registered and there
        is still time, then close the channel (once, unless it is closed already) if the
        registration counts, i.e. happened by the lock's expiry."""
        if self.chain is None:
            return
        chain = self.chain
        v = self.views[cid]
        lock = v.latest.state.lock(h)
        if lock is None or lock.sender == v.me:
            return
        revealed = await asyncio.to_thread(chain.secret_revealed_at, h)
        if revealed == 0 and self.clock() <= lock.expiry:
            await asyncio.to_thread(chain.register_secret, secret)
            revealed = await asyncio.to_thread(chain.secret_revealed_at, h)
        if revealed:
            self.store.put("onchain:" + hx(h), revealed)
        if 0 < revealed <= lock.expiry and not self.views[cid].closed:
            await self.close_channel(cid)

    async def _refunded_downstream(self, h: bytes, expiry: int) -> bool:
        """True if our forward of `h` in a closed channel, which expired at `expiry`, goes back
        to us on chain: past its expiry with no secret registered (a secret registered at all,
        even too late, is one we claim upstream with instead)."""
        if self.chain is None or self.clock() <= expiry:
            return False
        return await asyncio.to_thread(self.chain.secret_revealed_at, h) == 0

    async def _expire_one(self, cid: bytes, h: bytes) -> None:
        """Take back one expired outgoing lock off chain; if the peer does not co-sign the
        Expire (away, refusing, or outrunning us) for hop_delta after expiry, close the channel
        instead (the lock is refunded after settlement)."""
        v = self.views[cid]
        lock = v.latest.state.lock(h)
        if lock is None or v.closed:
            return
        try:
            await self._propose(cid, Expire(h))
        except NO_COSIGNATURE as e:
            await self._expire_on_chain_if_due(cid, lock)
            if isinstance(e, PeerRefused):
                raise
            return
        self._settle_payment(h, False)
        await self._cancel_upstream(h)

    async def _expire_on_chain_if_due(self, cid: bytes, lock: Lock) -> None:
        """The peer did not co-sign the Expire of our `lock`: once hop_delta past its expiry, and
        unless the secret reached the chain by the expiry (then the peer is right: the lock is
        its own), close the channel so the adjudicator refunds the lock. Otherwise a peer that
        merely refuses would keep our funds locked for ever."""
        chain = self.chain
        if chain is None or cid in self._closing or self.views[cid].closed:
            return
        if self.clock() <= lock.expiry + self.config.hop_delta:
            return
        revealed = await asyncio.to_thread(chain.secret_revealed_at, lock.hashlock)
        if not 0 < revealed <= lock.expiry:
            await self._refund_on_chain(self.views[cid])

    async def _refund_on_chain(self, v: ChannelView) -> None:
        """Close a channel whose peer is gone; its expired outgoing locks whose secret never
        reached the chain are refunds, so the matching incoming locks are given back upstream."""
        chain = self._need_chain()
        await self.close_channel(v.channel_id)
        now = self.clock()
        for lock in v.latest.state.locks:
            if lock.sender != v.me or now <= lock.expiry:
                continue
            if await asyncio.to_thread(chain.secret_revealed_at, lock.hashlock) == 0:
                self._settle_payment(lock.hashlock, False)
                await self._cancel_upstream(lock.hashlock)

    async def _on_sync(self, sender: str, msg: wire.Sync) -> wire.Reply:
        await self._settled(msg.channel_id)  # never show the peer a state we could still lose
        v = self._view_from(sender, msg.channel_id)
        return wire.Latest(msg.id, wire.signed_to_wire(v.latest))

    # ---------------------------------------------------------------- watchtower client

    # ---------------------------------------------------------------- chain watching

    async def _watch_chain(self) -> None:
        """Follow the chain for ever. Any failure (an RPC error of any kind, a bug) is reported
        and the range scanned again after a bounded back-off: the watcher is what disputes a
        stale close, so it must outlive every error."""
        chain = self._need_chain()
        failures = 0
        while True:
            try:
                head = await asyncio.to_thread(chain.block_number)
                if head >= self._from_block:
                    await self._scan(self._from_block, head)
                    self._from_block = head + 1
                    self.store.put("from_block", self._from_block)
                failures = 0
            except Exception as e:  # reported; the loop must keep going
                failures += 1
                self._report(f"chain watch (failure {failures}, retrying): {e!r}")
            back_off = min(CHAIN_BACKOFF_MAX, self.config.chain_poll * 2 ** min(failures, 16))
            await asyncio.sleep(back_off if failures else self.config.chain_poll)

    async def _scan(self, lo: int, hi: int) -> None:
        chain = self._need_chain()
        for h, secret, ts in await asyncio.to_thread(chain.secret_events, lo, hi):
            self.store.put_secret(h, secret)
            self.store.put("onchain:" + hx(h), ts)
            self._settle_payment(h, True)
            self._spawn(self._claim_upstream(h, secret))  # the watch loop does not wait on peers
        for ev in await asyncio.to_thread(chain.closed_events, lo, hi):
            v = self.views.get(ev["channel_id"])
            if v is None or ev["closer"] == self.address:
                continue
            await self._save(machine.mark_closed(v))
            for lock in v.latest.state.locks:  # make our incoming locks payable on chain
                known = self.store.secret(lock.hashlock)
                if lock.sender != v.me and known is not None and self.clock() <= lock.expiry:
                    try:
                        if await asyncio.to_thread(chain.secret_revealed_at, lock.hashlock) == 0:
                            await asyncio.to_thread(chain.register_secret, known)
                    except Exception as e:  # reported; the dispute below still runs
                        self._report(f"registering the secret of {hx(lock.hashlock)}: {e!r}")
            if v.latest.state.nonce > ev["nonce"]:
                st = v.latest
                try:
                    await asyncio.to_thread(chain.dispute, st.state, st.sig_a, st.sig_b)
                except Exception as e:  # reported; the other events still count
                    self._report(f"disputing the close of {hx(v.channel_id)}: {e!r}")

    # ---------------------------------------------------------------- transport

    def _need_chain(self) -> ChainClient:
        if self.chain is None:
            raise ChannelError("this node has no chain client")
        return self.chain

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        # a handler answers a Reply, or the frame of one it sealed ahead (see _on_update)
        handlers: dict[type, Callable[[str, Any], Coroutine[Any, Any, wire.Reply | bytes]]] = {
            wire.Update: self._on_update,
            wire.Sync: self._on_sync,
            wire.Opened: self._on_opened,
            wire.Funded: self._on_funded,
            wire.AdjustReq: self._on_adjust,
            wire.Adjusted: self._on_adjusted,
            wire.CoopClose: self._on_coop_close,
        }
        self._inbound.add(writer)
        try:
            while True:
                try:
                    raw = await read_frame(reader)
                except ChannelError:
                    self.rejected += 1
                    break  # framing is lost: drop the connection, state is untouched
                rid = None
                reply: wire.Reply | bytes
                try:
                    sender, msg = open_envelope(raw)
                    rid = getattr(msg, "id", None)
                    handler = handlers.get(type(msg))
                    if handler is None:
                        raise ChannelError(
                            f"a node does not take {type(msg).__name__} requests",
                            ErrorCode.UNSUPPORTED,
                        )
                    reply = await handler(sender, msg)
                except ChannelError as e:
                    self.rejected += 1
                    reply = wire.error(rid, e)
                except Exception as e:  # a bug must not kill the connection loop
                    self.rejected += 1
                    reply = wire.error(
                        rid, ChannelError(f"internal error: {e!r}", ErrorCode.INTERNAL)
                    )
                writer.write(reply if isinstance(reply, bytes) else seal(reply, self.signer))
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            self._inbound.discard(writer)
            writer.close()

    async def _connect(self, peer: str) -> asyncio.StreamWriter:
        key = peer.lower()
        lock = self._conn_locks.setdefault(key, asyncio.Lock())
        async with lock:
            if key in self._conns and not self._conns[key][0].is_closing():
                return self._conns[key][0]
            if key not in self.directory:
                raise PeerUnreachable(f"no address known for {peer}")
            host, port = self.directory[key]
            try:
                reader, writer = await asyncio.wait_for(asyncio.open_connection(host, port), 2)
            except (OSError, TimeoutError) as e:
                raise PeerUnreachable(f"cannot connect to {peer} at {host}:{port}: {e}") from e
            task = self._spawn(self._read_replies(peer, reader))
            self._conns[key] = (writer, task)
            return writer

    async def _read_replies(self, peer: str, reader: asyncio.StreamReader) -> None:
        try:
            while True:
                raw = await read_frame(reader)
                try:
                    sender, msg = open_envelope(raw)
                except ChannelError:
                    self.rejected += 1
                    continue
                if sender.lower() != peer.lower():
                    self.rejected += 1
                    continue
                re_id = getattr(msg, "re", None)
                # a reply matches one request in flight; a replayed or unsolicited one matches
                # none and is dropped
                fut = self._waiters.pop(re_id, None) if isinstance(re_id, int) else None
                if fut is not None and not fut.done():
                    fut.set_result(msg)
                elif not isinstance(msg, wire.Error) or re_id is not None:
                    self.rejected += 1
        except (asyncio.IncompleteReadError, ConnectionError, ChannelError):
            pass
        finally:
            self._conns.pop(peer.lower(), None)
            for rid, fut in list(self._waiters.items()):
                if getattr(fut, "peer", None) == peer.lower() and not fut.done():
                    self._waiters.pop(rid, None)
                    fut.set_exception(TimeoutError(f"connection to {peer} lost mid-request"))

    async def _request(
        self,
        peer: str,
        msg: wire.Request,
        expect: type[R],
        sent: Callable[[], object] | None = None,
    ) -> R:
        """Send `msg` (its id replaced by a fresh one) and wait for the reply of type `expect`;
        an `Error` reply raises PeerRefused with its code."""
        writer = await self._connect(peer)
        rid = next(self._ids)
        fut = asyncio.get_running_loop().create_future()
        fut.peer = peer.lower()  # type: ignore[attr-defined]
        self._waiters[rid] = fut
        try:
            writer.write(seal(msgspec.structs.replace(msg, id=rid), self.signer))
            await writer.drain()
        except ConnectionError as e:
            self._waiters.pop(rid, None)
            raise PeerUnreachable(f"send to {peer} failed: {e}") from e
        if sent is not None:
            sent()
        try:
            reply = await asyncio.wait_for(fut, self.config.request_timeout)
        finally:
            self._waiters.pop(rid, None)
        if isinstance(reply, wire.Error):
            raise PeerRefused(f"{peer} refused: {reply.reason}", ErrorCode(reply.code))
        if not isinstance(reply, expect):
            raise ChannelError(
                f"{peer} answered {type(reply).__name__} to {type(msg).__name__}",
                ErrorCode.MALFORMED,
            )
        return reply
