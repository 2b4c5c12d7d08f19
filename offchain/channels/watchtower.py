"""Watchtower: holds its clients' newest co-signed states and disputes stale closes for them.

Clients send `watch` messages (signed by the client, over the node wire format) carrying their
latest co-signed state and an EIP-712 Delegation naming this tower. The tower follows the chain's
ChannelClosed events; when a channel of a client is closed by the other participant with an older
nonce, it calls `disputeFor` with the newest state. States are kept in SQLite.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import sqlite3
from pathlib import Path

from eth_utils import to_checksum_address

from offchain.channels import crypto, wire
from offchain.channels.chain import ChainClient, TxFailed
from offchain.channels.model import ChannelError, ErrorCode, SignedState, hx, unhx
from offchain.channels.wire import open_envelope, read_frame, seal

log = logging.getLogger(__name__)

# Delegation.expiry is a uint64 on chain; the store keeps it in an SQLite INTEGER (signed 64-bit).
# An expiry past 2**63 - 1 (year 292 billion) protects nothing more than 2**63 - 1 does, so the
# tower refuses it and tells the client, rather than storing something it cannot read back.
MAX_DELEGATION_EXPIRY = 2**63 - 1


class Watchtower:
    def __init__(
        self, private_key: str, db_path: str | Path, chain: ChainClient, poll: float = 0.05
    ) -> None:
        self.signer = crypto.Signer(private_key)
        self.address = self.signer.address
        self.chain = chain
        self.domain = chain.domain
        self.poll = poll
        self.disputes = 0
        self.failures: list[str] = []  # disputes that could not be sent (newest last)
        self._chain_now = 0  # the chain's latest timestamp seen by the follower (0: not yet)
        self.port = 0
        self._db = sqlite3.connect(str(db_path), isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS watched (channel_id TEXT PRIMARY KEY, client TEXT,"
            " nonce INTEGER, signed TEXT, dexpiry INTEGER, dsig TEXT)"
        )
        self._db.execute("CREATE TABLE IF NOT EXISTS kv (k TEXT PRIMARY KEY, v INTEGER)")
        self._server: asyncio.AbstractServer | None = None
        self._task: asyncio.Task | None = None

    async def start(self, port: int = 0) -> None:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", port)
        self.port = self._server.sockets[0].getsockname()[1]
        self._task = asyncio.get_running_loop().create_task(self._follow())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(BaseException):
                await self._task
        if self._server is not None:
            self._server.close()
        self._db.close()

    def newest(self, channel_id: bytes) -> int | None:
        row = self._db.execute(
            "SELECT nonce FROM watched WHERE channel_id = ?", (hx(channel_id),)
        ).fetchone()
        return None if row is None else row[0]

    # ---------------------------------------------------------------- intake

    def accept(self, client: str, msg: wire.Watch) -> None:
        """Validate and store a client's state; older ones than stored are ignored."""
        signed = wire.signed_from_wire(msg.signed)
        s = signed.state
        addr_a, addr_b = to_checksum_address(msg.addr_a), to_checksum_address(msg.addr_b)
        if client.lower() not in (addr_a.lower(), addr_b.lower()):
            raise ChannelError(
                "the client is not a participant of this channel", ErrorCode.TOWER_REFUSED
            )
        d = crypto.state_digest(self.domain, s)
        if signed.sig_a or signed.sig_b:
            crypto.check_sig(d, signed.sig_a, addr_a, "state (A)")
            crypto.check_sig(d, signed.sig_b, addr_b, "state (B)")
        expiry = msg.delegation_expiry
        if not 0 <= expiry <= MAX_DELEGATION_EXPIRY:
            raise ChannelError(
                f"delegation_expiry must be between 0 and {MAX_DELEGATION_EXPIRY}, got {expiry}:"
                " sign a delegation with a nearer expiry",
                ErrorCode.TOWER_REFUSED,
            )
        if self._chain_now and expiry < self._chain_now:
            raise ChannelError(
                f"the delegation expired at {expiry} (chain time {self._chain_now}): "
                "sign a new one",
                ErrorCode.TOWER_REFUSED,
            )
        dsig = msg.delegation_sig
        dd = crypto.delegation_digest(self.domain, s.channel_id, self.address, expiry)
        crypto.check_sig(dd, dsig, client, "delegation")
        cur = self.newest(s.channel_id)
        if cur is not None and cur >= s.nonce:
            return
        self._db.execute(
            "INSERT OR REPLACE INTO watched VALUES (?, ?, ?, ?, ?, ?)",
            (hx(s.channel_id), client, s.nonce, json.dumps(signed.to_json()), expiry, hx(dsig)),
        )

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                raw = await read_frame(reader)
                rid = None
                reply: wire.Reply
                try:
                    client, msg = open_envelope(raw)
                    rid = getattr(msg, "id", None)
                    if not isinstance(msg, wire.Watch):
                        raise ChannelError(
                            "a watchtower only takes 'watch' messages", ErrorCode.UNSUPPORTED
                        )
                    self.accept(client, msg)
                    reply = wire.Ok(msg.id)
                except ChannelError as e:
                    reply = wire.error(rid, e)
                except Exception:  # a bug must not drop the client silently: it must know
                    log.exception("watchtower: failed to take a watch request")
                    bug = ChannelError(
                        "the watchtower failed to store the state", ErrorCode.INTERNAL
                    )
                    reply = wire.error(rid, bug)
                writer.write(seal(reply, self.signer))
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError, ChannelError):
            pass
        finally:
            writer.close()

    # ---------------------------------------------------------------- chain

    async def _follow(self) -> None:
        row = self._db.execute("SELECT v FROM kv WHERE k = 'from_block'").fetchone()
        start = 0 if row is None else row[0]
        while True:
            try:
                self._chain_now = await asyncio.to_thread(self.chain.now)
                head = await asyncio.to_thread(self.chain.block_number)
                if head >= start:
                    for ev in await asyncio.to_thread(self.chain.closed_events, start, head):
                        await self._on_closed(ev)
                    start = head + 1
                    self._db.execute("INSERT OR REPLACE INTO kv VALUES ('from_block', ?)", (start,))
            except Exception as e:  # RPC down, a bad log: keep following, and say so
                log.warning("watchtower: following the chain failed: %s", e)
                self.failures.append(f"follow: {e}")
            del self.failures[:-50]
            await asyncio.sleep(self.poll)

    async def _on_closed(self, ev: dict) -> None:
        row = self._db.execute(
            "SELECT client, nonce, signed, dexpiry, dsig FROM watched WHERE channel_id = ?",
            (hx(ev["channel_id"]),),
        ).fetchone()
        if row is None:
            return
        client, nonce, signed_json, dexpiry, dsig = row
        if ev["closer"].lower() == client.lower() or nonce <= ev["nonce"]:
            return
        signed = SignedState.from_json(json.loads(signed_json))
        try:
            await asyncio.to_thread(
                self.chain.dispute_for,
                signed.state,
                signed.sig_a,
                signed.sig_b,
                dexpiry,
                unhx(dsig, 65),
            )
        except TxFailed as e:
            log.warning("watchtower: dispute of %s failed: %s", hx(ev["channel_id"]), e)
            self.failures.append(f"dispute of {hx(ev['channel_id'])}: {e}")
            return
        self.disputes += 1


def main(argv: list[str] | None = None) -> None:
    """Run a watchtower process: python -m offchain.channels.watchtower --rpc URL --adjudicator
    ADDR --db PATH [--port N]. The tower's private key is read from L2KIT_TOWER_KEY."""
    import argparse
    import os

    from offchain.channels.chain import load_abi

    p = argparse.ArgumentParser(description="l2kit payment-channel watchtower")
    p.add_argument("--rpc", required=True, help="JSON-RPC URL of the L1 node")
    p.add_argument("--adjudicator", required=True, help="ChannelAdjudicator address")
    p.add_argument("--db", required=True, help="SQLite file for the watched states")
    p.add_argument("--port", type=int, default=0, help="TCP port on 127.0.0.1 (0: any free)")
    p.add_argument("--build-dir", default=".build", help="where `ape compile` wrote the ABI")
    args = p.parse_args(argv)
    key = os.environ.get("L2KIT_TOWER_KEY")
    if not key:
        raise SystemExit("set L2KIT_TOWER_KEY to the watchtower account's private key")
    chain = ChainClient(args.rpc, args.adjudicator, load_abi(args.build_dir), key)

    async def run() -> None:
        tower = Watchtower(key, args.db, chain)
        await tower.start(args.port)
        print(f"watchtower {tower.address} listening on 127.0.0.1:{tower.port}", flush=True)
        try:
            await asyncio.Event().wait()
        finally:
            await tower.stop()

    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(run())


if __name__ == "__main__":
    main()
