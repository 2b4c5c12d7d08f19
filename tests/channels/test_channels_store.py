"""The store's group commit: many views in one transaction, in order, secrets known at once."""

from __future__ import annotations

import asyncio
import sqlite3

import pytest

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


def test_put_queued_seen_at_once_and_written_with_the_next_commit(tmp_path):
    async def run():
        st = Store(tmp_path / "n.db")
        try:
            fut = st.put_queued("paid:x", True)
            assert st.get("paid:x") is True  # known before its transaction commits
            assert st.items("paid:") == [("paid:x", True)]
            await asyncio.gather(fut, st.write_view(view(1)))
            raw = sqlite3.connect(str(tmp_path / "n.db")).execute("SELECT v FROM kv")
            assert [r[0] for r in raw.fetchall()] == ["true"]
            st.put("paid:x", False)  # a later plain put wins over the queued value
            assert st.get("paid:x") is False
        finally:
            await st.drain()
            st.close()
        again = Store(tmp_path / "n.db")
        assert again.get("paid:x") is False
        again.close()

    asyncio.run(run())


def test_close_writes_everything_queued_first(tmp_path):
    async def run():
        st = Store(tmp_path / "n.db")
        futs = [st.write_view(view(i, 5)) for i in range(1, 20)]
        await st.drain()
        assert all(f.done() for f in futs)
        st.close()
        with pytest.raises(RuntimeError, match="closed"):
            st.write_view(view(1, 6))
        again = Store(tmp_path / "n.db")
        assert {v.latest.state.nonce for v in again.views()} == {5}
        again.close()

    asyncio.run(run())


def test_put_invoice_writes_secret_and_amount_together(tmp_path):
    st = Store(tmp_path / "n.db")
    h, secret = b"\x01" * 32, b"\x02" * 32
    st.put_invoice(h, secret, 1234)
    st.close()
    again = Store(tmp_path / "n.db")
    assert again.secret(h) == secret
    assert again.get("invoice:0x" + h.hex()) == 1234
    again.close()
