"""Group commit under concurrent clients: SIGKILL the server mid-load, then every acknowledged
transaction is in the store (nothing acknowledged before its group was durable)."""

from __future__ import annotations

import asyncio
import os
import random
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

import aiohttp
import pytest

HERE = Path(__file__).resolve().parent


def start(db: Path) -> tuple[subprocess.Popen, str]:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(HERE.parents[1]), str(HERE)])}
    proc = subprocess.Popen(
        [sys.executable, str(HERE / "http_front_proc.py"), str(db)],
        stdout=subprocess.PIPE,
        text=True,
        env=env,
    )
    assert proc.stdout is not None
    line = proc.stdout.readline()
    assert line.startswith("READY "), line
    return proc, line.split()[1]


async def load_then_kill(url: str, proc: subprocess.Popen, kill_after: float) -> set[int]:
    """Submit from 32 connections (singles and batches of 20) until SIGKILL; the acked ids."""
    acked: set[int] = set()
    next_id = iter(range(10**9))
    stop = asyncio.Event()
    conn = aiohttp.TCPConnector(limit=64)
    async with aiohttp.ClientSession(connector=conn) as session:

        async def client(k: int) -> None:
            while not stop.is_set():
                try:
                    if k % 2:
                        body = {"id": next(next_id)}
                        async with session.post(url + "/tx", json=body) as r:
                            if r.status == 200:
                                acked.add((await r.json())["id"])
                    else:
                        batch = [{"id": next(next_id)} for _ in range(20)]
                        async with session.post(url + "/txs", json={"txs": batch}) as r:
                            if r.status == 200:
                                for res in (await r.json())["results"]:
                                    if "id" in res:
                                        acked.add(res["id"])
                except (TimeoutError, aiohttp.ClientError, ValueError):
                    return  # the server died: this answer was never acknowledged

        async def killer() -> None:
            await asyncio.sleep(kill_after)
            proc.send_signal(signal.SIGKILL)
            stop.set()

        await asyncio.gather(killer(), *(client(k) for k in range(32)))
    return acked


@pytest.mark.slow  # processes and SIGKILL
@pytest.mark.parametrize("round_", range(3))
def test_sigkill_mid_group_loses_nothing_acknowledged(tmp_path, round_):
    db = tmp_path / "intake.sqlite"
    proc, url = start(db)
    try:
        acked = asyncio.run(load_then_kill(url, proc, random.uniform(0.5, 1.5)))
    finally:
        proc.kill()
        proc.wait(10)
    stored = {row[0] for row in sqlite3.connect(db).execute("SELECT id FROM txs")}
    assert len(acked) > 50, "the load never got going"
    assert acked <= stored, f"acknowledged but lost: {sorted(acked - stored)[:10]}"
