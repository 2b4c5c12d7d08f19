"""Watchtower (tower protocol v2): stores its clients' justice states without being able to read
them, and disputes stale closes for them.

Clients send `blob` messages (signed envelopes of the node wire): a 16-byte hint and an encrypted
justice (offchain/channels/towerblob.py). The tower cannot decrypt a blob until a close appears:
it follows the chain's ChannelClosed events, reads the closed state's signatures from the close
transaction's calldata, derives the hint and the key, opens every blob stored under that hint,
checks what it finds (a co-signed state of this channel newer than the close, a delegation
signed by the closer's counterparty naming this tower) and calls `disputeFor` with the newest.
Blobs that do not open or do not check are garbage: counted, never acted on.

Payment: each stored blob costs `fee` (0: free), prepaid off chain. `paid(client)` says how much
the client has paid the tower in total (e.g. the tower's balance in its channel with the client,
`channel_income`); the tower keeps what it charged and refuses a blob the credit does not cover.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

from offchain.channels import crypto, towerblob, wire
from offchain.channels.chain import ChainClient, TxFailed
from offchain.channels.model import ChannelError, ErrorCode, hx
from offchain.channels.wire import open_envelope, read_frame, seal

log = logging.getLogger(__name__)

# Delegation.expiry is a uint64 on chain; a justice carries at most 2**63 - 1 (checked when it
# is opened, like everything else in it: the tower cannot see it before).
MAX_DELEGATION_EXPIRY = 2**63 - 1
MAX_BLOBS_PER_CLIENT = 1_000_000  # a free tower's bound on what one client can make it store


def channel_income(node: Any) -> Callable[[str], int]:
    """`paid` for a tower whose channel node (same key) never deposits: what a client paid is the
    tower's balance in its open channel with that client."""

    def paid(client: str) -> int:
        try:
            return int(node.channel_with(client).my_balance())
        except ChannelError:
            return 0

    return paid


class Watchtower:
    def __init__(
        self,
        private_key: str,
        db_path: str | Path,
        chain: ChainClient,
        poll: float = 0.05,
        fee: int = 0,
        paid: Callable[[str], int] | None = None,
    ) -> None:
        if fee < 0 or (fee > 0 and paid is None):
            raise ValueError("a tower with a fee needs `paid`, the client's payments so far")
        self.signer = crypto.Signer(private_key)
        self.address = self.signer.address
        self.chain = chain
        self.domain = chain.domain
        self.poll = poll
        self.fee = fee
        self.paid = paid
        self.disputes = 0
        self.garbage = 0  # blobs that did not open, or opened to something that does not check
        self.failures: list[str] = []  # disputes that could not be sent (newest last)
        self._chain_now = 0  # the chain's latest timestamp seen by the follower (0: not yet)
        self.port = 0
        self._db = sqlite3.connect(str(db_path), isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS blobs (client TEXT, hint BLOB, blob BLOB,"
            " PRIMARY KEY (client, hint))"
        )
        self._db.execute("CREATE INDEX IF NOT EXISTS blobs_hint ON blobs (hint)")
        self._db.execute("CREATE TABLE IF NOT EXISTS charged (client TEXT PRIMARY KEY, v TEXT)")
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

    def blob_count(self, client: str | None = None) -> int:
        if client is None:
            return int(self._db.execute("SELECT COUNT(*) FROM blobs").fetchone()[0])
        q = "SELECT COUNT(*) FROM blobs WHERE client = ?"
        return int(self._db.execute(q, (client.lower(),)).fetchone()[0])

    def charged(self, client: str) -> int:
        row = self._db.execute("SELECT v FROM charged WHERE client = ?", (client.lower(),))
        got = row.fetchone()
        return 0 if got is None else int(got[0])

    def credit(self, client: str) -> int:
        if self.fee == 0 or self.paid is None:
            return 0
        return max(0, self.paid(client) - self.charged(client))

    # ---------------------------------------------------------------- intake

    def held(self, client: str, hint: bytes) -> bytes:
        row = self._db.execute(
            "SELECT blob FROM blobs WHERE client = ? AND hint = ?", (client.lower(), hint)
        ).fetchone()
        return b"" if row is None else crypto.keccak(row[0])

    def accept(self, client: str, msg: wire.BlobReq) -> wire.BlobHeld:
        """Store a client's blob (charging the fee); all or nothing."""
        c = client.lower()
        if self.fee:
            credit = self.credit(c)
            if credit < self.fee:
                raise ChannelError(
                    f"storing a state costs {self.fee}; your credit is {credit}: pay the tower"
                    f" at least {self.fee - credit} more over your channel with it",
                    ErrorCode.TOWER_REFUSED,
                )
        if not self.held(c, msg.hint) and self.blob_count(c) >= MAX_BLOBS_PER_CLIENT:
            raise ChannelError(
                f"this tower holds at most {MAX_BLOBS_PER_CLIENT} blobs per client",
                ErrorCode.TOWER_REFUSED,
            )
        with self._db:  # one transaction: the blob and its charge, or neither
            self._db.execute("BEGIN")
            self._db.execute(
                "INSERT OR REPLACE INTO blobs VALUES (?, ?, ?)", (c, msg.hint, msg.blob)
            )
            if self.fee:
                self._db.execute(
                    "INSERT OR REPLACE INTO charged VALUES (?, ?)",
                    (c, str(self.charged(c) + self.fee)),
                )
        return wire.BlobHeld(msg.id, crypto.keccak(msg.blob), wire.u256(self.credit(c)))

    def _handle(self, client: str, msg: wire.Message) -> wire.Reply:
        if isinstance(msg, wire.BlobReq):
            return self.accept(client, msg)
        if isinstance(msg, wire.BlobQuery):
            credit = wire.u256(self.credit(client))
            return wire.BlobHeld(msg.id, self.held(client, msg.hint), credit)
        if isinstance(msg, wire.Watch):
            raise ChannelError(
                f"this watchtower speaks tower protocol v{towerblob.TOWER_PROTOCOL}: send"
                " encrypted 'blob' messages, not plaintext 'watch'",
                ErrorCode.UNSUPPORTED,
            )
        raise ChannelError(
            "a watchtower only takes 'blob' and 'blob_query' messages", ErrorCode.UNSUPPORTED
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
                    reply = self._handle(client, msg)
                except ChannelError as e:
                    reply = wire.error(rid, e)
                except Exception:  # a bug must not drop the client silently: it must know
                    log.exception("watchtower: failed to take a request")
                    bug = ChannelError("the watchtower failed on a request", ErrorCode.INTERNAL)
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

    def justices(self, close: towerblob.CloseData, closer: str, a: str, b: str) -> list[tuple]:
        """Every stored blob that opens for this close and checks: (signed, expiry, dsig), newest
        state first. Pure over the store; garbage is counted."""
        victim = b if closer.lower() == a.lower() else a
        rows = self._db.execute(
            "SELECT client, blob FROM blobs WHERE hint = ?", (towerblob.hint(close),)
        ).fetchall()
        found = []
        for client, blob in rows:
            try:
                j = towerblob.open_justice(close, blob)
                if client != victim.lower():
                    raise ChannelError("the blob's owner is not the closer's counterparty")
                d = crypto.state_digest(self.domain, j.signed.state)
                crypto.check_sig(d, j.signed.sig_a, a, "justice (A)")
                crypto.check_sig(d, j.signed.sig_b, b, "justice (B)")
                if self._chain_now and j.delegation_expiry < self._chain_now:
                    raise ChannelError("the delegation has expired")
                dd = crypto.delegation_digest(
                    self.domain, close.channel_id, self.address, j.delegation_expiry
                )
                crypto.check_sig(dd, j.delegation_sig, victim, "delegation")
            except ChannelError as e:
                self.garbage += 1
                log.info("watchtower: a blob under a close's hint is garbage: %s", e)
                continue
            found.append((j.signed, j.delegation_expiry, j.delegation_sig))
        found.sort(key=lambda x: -x[0].state.nonce)
        return found

    async def _on_closed(self, ev: dict) -> None:
        cid = ev["channel_id"]
        got = await asyncio.to_thread(self.chain.close_data, ev["tx"])
        if got is None or got[0] != cid or got[1] != ev["nonce"]:
            self.failures.append(f"close of {hx(cid)}: its calldata is not a direct close call")
            return
        close = towerblob.CloseData(cid, got[1], got[2], got[3])
        if not self._db.execute(
            "SELECT 1 FROM blobs WHERE hint = ? LIMIT 1", (towerblob.hint(close),)
        ).fetchone():
            return  # not a close any client of ours asked us to watch
        on = await asyncio.to_thread(self.chain.channel, cid)
        found = self.justices(close, ev["closer"], on.a, on.b)
        if not found:
            return
        signed, dexpiry, dsig = found[0]
        try:
            await asyncio.to_thread(
                self.chain.dispute_for, signed.state, signed.sig_a, signed.sig_b, dexpiry, dsig
            )
        except TxFailed as e:
            log.warning("watchtower: dispute of %s failed: %s", hx(cid), e)
            self.failures.append(f"dispute of {hx(cid)}: {e}")
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
