"""Benchmark of the operator stores: durable appends per second, SQLite and PostgreSQL.

    python bench/store.py        (env: PYTHONPATH as for the tests)

Every append is committed (SQLite: WAL, synchronous=FULL; PostgreSQL: synchronous commit) before
it returns, as the API needs before it acknowledges. Measures one transaction per commit, groups
of 64 per commit (`append_txs`, the group commit of the HTTP front) and, on PostgreSQL, four
front-end processes appending groups of 16 at once. Starts its own PostgreSQL server (pgserver).
Prints a table and writes bench/results/store.json.
"""

from __future__ import annotations

import hashlib
import multiprocessing
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import print_table, write_results
from offchain.sequencer.store_open import open_store

SINGLE = 400  # appends of one transaction
GROUPS = 60  # groups of GROUP transactions
GROUP = 64
FRONT_ENDS = 4
FRONT_END_GROUPS = 40
FRONT_END_GROUP = 16


def rows(tag: str, start: int, n: int) -> list[tuple[bytes, str, bytes]]:
    return [
        (hashlib.sha256(f"{tag}:{i}".encode()).digest(), "transfer", b"\x01" * 100)
        for i in range(start, start + n)
    ]


def timed(n_txs: int, step: Callable[[], None], steps: int) -> dict[str, float]:
    """Run `step` `steps` times; txs per second and per-commit latency percentiles."""
    latencies = []
    began = time.perf_counter()
    for _ in range(steps):
        t = time.perf_counter()
        step()
        latencies.append(time.perf_counter() - t)
    elapsed = time.perf_counter() - began
    cuts = statistics.quantiles(latencies, n=100)
    return {
        "tx_per_s": round(n_txs / elapsed, 1),
        "commit_p50_ms": round(cuts[49] * 1000, 2),
        "commit_p99_ms": round(cuts[98] * 1000, 2),
    }


def measure(location: str) -> dict[str, Any]:
    store = open_store(location)
    tag = uuid.uuid4().hex
    counter = iter(range(10**9))
    figures: dict[str, Any] = {
        "single": timed(SINGLE, lambda: store.append_tx(*rows(tag, next(counter), 1)[0]), SINGLE)
    }
    if hasattr(store, "append_txs"):
        figures[f"group{GROUP}"] = timed(
            GROUPS * GROUP,
            lambda: store.append_txs(rows(tag, next(counter) * GROUP + 10**6, GROUP)),
            GROUPS,
        )
    store.close()
    return figures


def front_end(url: str, index: int, ready: Any, start: Any, out: Any) -> None:
    """One front-end process: connect, wait for the start signal, append its groups, report."""
    store = open_store(url)
    ready.put(index)
    start.wait()
    for g in range(FRONT_END_GROUPS):
        store.append_txs(rows(f"fe{index}", g * FRONT_END_GROUP, FRONT_END_GROUP))
    out.put(time.perf_counter())
    store.close()


def front_ends(url: str) -> dict[str, float]:
    ctx = multiprocessing.get_context("spawn")
    ready, start, out = ctx.Queue(), ctx.Event(), ctx.Queue()
    procs = [
        ctx.Process(target=front_end, args=(url, i, ready, start, out)) for i in range(FRONT_ENDS)
    ]
    for p in procs:
        p.start()
    for _ in procs:  # every process imported and connected
        ready.get(timeout=120)
    began = time.perf_counter()
    start.set()
    ends = [out.get(timeout=300) for _ in procs]
    for p in procs:
        p.join(timeout=30)
    total = FRONT_ENDS * FRONT_END_GROUPS * FRONT_END_GROUP
    return {"tx_per_s": round(total / (max(ends) - began), 1)}


def postgres_server() -> tuple[Any, str, Path]:
    import pgserver
    import psycopg

    data = Path(tempfile.mkdtemp(prefix="l2kit-pgbench-"))
    server = pgserver.get_server(data / "data", cleanup_mode="stop")
    with psycopg.connect(server.get_uri(), autocommit=True) as db:
        db.execute("CREATE DATABASE l2kit_bench")
    return server, server.get_uri("l2kit_bench"), data


def main() -> None:
    results: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="l2kit-sqlite-bench-") as tmp:
        results["sqlite"] = measure(str(Path(tmp) / "op.sqlite"))
    try:
        server, url, data = postgres_server()
    except ImportError as exc:
        print(f"PostgreSQL not measured: {exc} (`make setup` installs pgserver and psycopg)")
    else:
        try:
            results["postgres"] = measure(url)
            results["postgres"][f"front_ends{FRONT_ENDS}_group{FRONT_END_GROUP}"] = front_ends(url)
        finally:
            server.cleanup()
            subprocess.run(["rm", "-rf", str(data)], check=False)
    table = []
    for kind, figures in results.items():
        for mode, f in figures.items():
            table.append(
                (
                    kind,
                    mode,
                    f["tx_per_s"],
                    f.get("commit_p50_ms", "-"),
                    f.get("commit_p99_ms", "-"),
                )
            )
    print_table(
        "Durable appends (committed before returning)",
        ("store", "mode", "tx/s", "commit p50 ms", "commit p99 ms"),
        table,
    )
    write_results("store", results)


if __name__ == "__main__":
    main()
