"""The store's group commit: many views in one transaction, in order, secrets known at once."""

from __future__ import annotations

import asyncio
import sqlite3

from offchain.channels import crypto
from offchain.channels.machine import ChannelView
from offchain.channels.model import SignedState, State
from offchain.channels.store import Store

SA, SB = crypto.Signer("0x" + "a1" * 32), crypto.Signer("0x" + "b2" * 32)


def view(i: int, nonce: int = 0) -> ChannelView:
    s = State(bytes([i]) * 32, nonce, 100, 0)
    return ChannelView(s.channel_id, 0, SA.address, SB.address, "0x0", SignedState(s, b"", b""))


def test_group_commit_many_views_few_fsyncs_newest_wins(tmp_path):
    async def run():
        st = Store(tmp_path / "n.db")
        try:
            # 50 channels, each written three times, all queued before the first write ends
            futs = [st.write_view(view(i, n)) for n in range(3) for i in range(1, 51)]
            secret = b"\x55" * 32
            futs.append(st.write_view(view(1, 3), secrets={b"\x66" * 32: secret}))
            assert st.secret(b"\x66" * 32) == secret  # known before its transaction commits
            await asyncio.gather(*futs)
            assert st.commits <= 3  # one transaction for everything queued meanwhile
            on_disk = {v.channel_id: v.latest.state.nonce for v in st.views()}
            assert len(on_disk) == 50
            assert on_disk[bytes([1]) * 32] == 3  # in queue order: the newest view wins
            assert all(on_disk[bytes([i]) * 32] == 2 for i in range(2, 51))
            raw = sqlite3.connect(str(tmp_path / "n.db")).execute("SELECT secret FROM secrets")
            assert raw.fetchall() == [("0x" + secret.hex(),)]  # and the secret with its view
        finally:
            await st.drain()
            st.close()

    asyncio.run(run())


def test_group_commit_failure_reaches_every_waiter(tmp_path):
    async def run():
        st = Store(tmp_path / "n.db")
        st._db.execute("DROP TABLE channels")  # the next transaction fails
        futs = [st.write_view(view(i)) for i in range(1, 4)]
        results = await asyncio.gather(*futs, return_exceptions=True)
        assert all(isinstance(r, sqlite3.Error) for r in results)
        st.close()

    asyncio.run(run())
