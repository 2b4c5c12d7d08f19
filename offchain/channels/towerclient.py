"""A node's client of a private watchtower (tower protocol v2; towerblob.py has the format).

For every new co-signed state S_m of a channel, the node uploads the blobs `which_blobs` names
(close nonces m-1 and m-2, under the anchor rule), each holding S_m and the channel's delegation,
in order, over its own connection to the tower. It keeps the close data (nonce and signatures) of
the last two states per channel in its store, so a restart loses none. It checks every answer
(the tower returns keccak256 of what it stored) and can ask again later (`check`), so it knows
whether the tower holds its latest justice without the tower ever reading it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from offchain.channels import crypto, towerblob, wire
from offchain.channels.machine import ChannelView
from offchain.channels.model import ChannelError, ErrorCode, SignedState, hx
from offchain.channels.store import Store
from offchain.channels.wire import open_envelope, read_frame, seal

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Tower:
    address: str
    host: str
    port: int
    delegation_expiry: int
    # fees: when the tower's credit for us falls below `fee * 2`, pay it `prepay` over our
    # channel with it (0: never pay; a tower with a fee then refuses once the credit is spent)
    fee: int = 0
    prepay: int = 0


@dataclass(frozen=True)
class Upload:
    close: towerblob.CloseData
    justice: SignedState


class TowerClient:
    def __init__(
        self,
        signer: crypto.Signer,
        domain: crypto.Domain,
        tower: Tower,
        store: Store,
        report: Callable[[str], None],
        pay: Callable[[str, int], Awaitable[object]],
        timeout: float = 5.0,
    ) -> None:
        self.signer, self.domain, self.tower, self.store = signer, domain, tower, store
        self._report, self._pay, self.timeout = report, pay, timeout
        self.status: dict = {"ok": None, "error": None, "nonce": None, "blobs": 0, "credit": None}
        self._queue: asyncio.Queue[Upload] = asyncio.Queue()
        self._anchors: dict[bytes, int] = {}
        self._held: dict[bytes, bytes] = {}  # hint -> keccak256 of the blob we sent (recent)
        self._conn: tuple[asyncio.StreamReader, asyncio.StreamWriter] | None = None
        self._ids = 0
        self._paying = False
        self._lock = asyncio.Lock()

    # ------------------------------------------------------------ what to upload (sync)

    def _anchor(self, cid: bytes) -> int:
        if cid not in self._anchors:
            self._anchors[cid] = int(self.store.get("tower:anchor:" + hx(cid), 0))
        return self._anchors[cid]

    def on_view(self, v: ChannelView) -> None:
        """Called for every saved view: an unsigned latest state is the channel's anchor."""
        s = v.latest
        if not s.sig_a and not s.sig_b and self._anchor(v.channel_id) != s.state.nonce:
            self._anchors[v.channel_id] = s.state.nonce
            self.store.put("tower:anchor:" + hx(v.channel_id), s.state.nonce)

    def _history(self, cid: bytes) -> list[towerblob.CloseData]:
        raw = self.store.get("tower:last:" + hx(cid), [])
        return [
            towerblob.CloseData(cid, int(n), bytes.fromhex(a), bytes.fromhex(b))
            for n, a, b in (raw if isinstance(raw, list) else [])
        ]

    def _keep(self, cid: bytes, hist: list[towerblob.CloseData]) -> None:
        rows = [[c.nonce, c.sig_a.hex(), c.sig_b.hex()] for c in hist]
        self.store.put("tower:last:" + hx(cid), rows)

    def on_state(self, v: ChannelView) -> None:
        """Called for every new co-signed state: queue its blobs, remember its close data."""
        s, cid = v.latest, v.channel_id
        if not s.sig_a or not s.sig_b:
            return
        m, a = s.state.nonce, self._anchor(cid)
        hist = self._history(cid)
        for k in towerblob.which_blobs(m, a):
            if k == a:
                close = towerblob.CloseData(cid, a, b"", b"")
            else:
                found = [c for c in hist if c.nonce == k]
                if not found:
                    self._report(f"watchtower: no close data for nonce {k} of {hx(cid)}")
                    continue
                close = found[0]
            self._queue.put_nowait(Upload(close, s))
        hist = [*[c for c in hist if c.nonce >= a and c.nonce != m][-1:], towerblob.CloseData.of(s)]
        self._keep(cid, hist)

    # ------------------------------------------------------------ sending (async)

    async def probe(self) -> str | None:
        """None if the tower answers as a v2 tower, else why not (delegating to it is refused)."""
        try:
            await self._request(wire.BlobQuery(self._next_id(), b"\0" * towerblob.HINT_LEN))
        except (ChannelError, OSError, TimeoutError) as e:
            return str(e) or type(e).__name__
        return None

    async def push_latest(self, v: ChannelView) -> None:
        """Queue the blobs of a channel's latest state again (a new tower) and wait for them."""
        s, cid = v.latest, v.channel_id
        if s.sig_a and s.sig_b:
            self._keep(cid, [c for c in self._history(cid) if c.nonce != s.state.nonce])
            self.on_state(v)
        await self._queue.join()

    async def run(self) -> None:
        """The uploader: one blob at a time, in order, for ever (a task of the node)."""
        try:
            while True:
                up = await self._queue.get()
                await self._upload(up)
        finally:
            if self._conn is not None:
                self._conn[1].close()

    async def drain(self) -> None:
        """Wait until everything queued was answered (tests)."""
        await self._queue.join()

    async def _request(self, msg: wire.Request) -> wire.BlobHeld:
        async with self._lock:  # one request at a time on the one connection
            return await self._request_locked(msg)

    async def _request_locked(self, msg: wire.Request) -> wire.BlobHeld:
        if self._conn is None or self._conn[1].is_closing():
            t = self.tower
            self._conn = await asyncio.wait_for(asyncio.open_connection(t.host, t.port), 2)
        reader, writer = self._conn
        try:
            writer.write(seal(msg, self.signer))
            await writer.drain()
            sender, reply = open_envelope(await asyncio.wait_for(read_frame(reader), self.timeout))
        except BaseException:
            writer.close()
            self._conn = None
            raise
        if sender.lower() != self.tower.address.lower():
            raise ChannelError(f"the tower's reply is signed by {sender}", ErrorCode.BAD_SIGNATURE)
        if isinstance(reply, wire.Error):
            raise ChannelError(f"the watchtower refused: {reply.reason}", ErrorCode(reply.code))
        if not isinstance(reply, wire.BlobHeld):
            what = type(reply).__name__
            raise ChannelError(f"the watchtower answered {what}", ErrorCode.MALFORMED)
        return reply

    def _next_id(self) -> int:
        self._ids += 1
        return self._ids

    async def _upload(self, up: Upload) -> None:
        t = self.tower
        cid = up.justice.state.channel_id
        if not 0 <= t.delegation_expiry <= 2**63 - 1:
            self._queue.task_done()
            reason = (
                f"delegation_expiry {t.delegation_expiry} is outside 0 .. 2**63-1:"
                " delegate with a nearer expiry"
            )
            self.status = {**self.status, "ok": False, "error": reason}
            self._report(f"watchtower did not store state {up.justice.state.nonce}: {reason}")
            return
        dd = crypto.delegation_digest(self.domain, cid, t.address, t.delegation_expiry)
        h, blob = towerblob.seal_justice(
            up.close, up.justice, t.delegation_expiry, self.signer.sign(dd)
        )
        nonce = up.justice.state.nonce
        try:
            reply = await self._request(wire.BlobReq(self._next_id(), h, blob))
            if reply.digest != crypto.keccak(blob):
                raise ChannelError("the watchtower acknowledged another blob than ours")
        except (ChannelError, OSError, TimeoutError) as e:
            # the client must know it is not protected: surfaced in status() and the log
            reason = str(e) or type(e).__name__
            self.status = {**self.status, "ok": False, "error": reason}
            self._report(f"watchtower did not store state {nonce}: {reason}")
            return
        finally:
            self._queue.task_done()
        self._held[h] = reply.digest
        if len(self._held) > 4096:
            self._held.pop(next(iter(self._held)))
        credit = wire.from_u256(reply.credit)
        self.status = {
            "ok": True,
            "error": None,
            "nonce": nonce,
            "blobs": self.status["blobs"] + 1,
            "credit": credit,
            "last_hint": h.hex(),
        }
        if t.fee and t.prepay and credit < 2 * t.fee and not self._paying:
            self._paying = True
            try:
                await self._pay(t.address, t.prepay)
            except Exception as e:  # not paid: the tower will refuse once the credit is spent
                self._report(f"watchtower: paying {t.prepay} in advance failed: {e}")
            finally:
                self._paying = False

    async def check(self, hint: bytes | None = None) -> bool:
        """Does the tower still hold, under `hint` (default: the last uploaded), exactly the blob
        we sent? It answers with the blob's hash, so it never needs to read it."""
        if hint is None:
            if not self.status.get("last_hint"):
                return False
            hint = bytes.fromhex(self.status["last_hint"])
        want = self._held.get(hint)
        with contextlib.suppress(ChannelError, OSError, TimeoutError):
            reply = await self._request(wire.BlobQuery(self._next_id(), hint))
            return want is not None and reply.digest == want
        return False
