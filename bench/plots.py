"""Draw what users compare, from the benchmark results: PNG files beside the JSON.

Run after the benchmarks (``make bench`` does):  python bench/plots.py
Reads bench/results/*.json and writes bench/results/*.png; a figure whose results are missing is
skipped with one line saying which benchmark to run. Nothing is measured here.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).resolve().parent / "results"


def _load(name: str) -> dict[str, Any] | None:
    path = RESULTS / f"{name}.json"
    if not path.exists():
        print(f"skip: no {path.name} (run `python bench/{name}.py`)")
        return None
    return json.loads(path.read_text())


def _dig(d: Any, *keys: str) -> Any:
    for k in keys:
        if not isinstance(d, dict) or k not in d:
            return None
        d = d[k]
    return d


def cost_per_transfer(plt: Any) -> Path | None:
    """L1 bytes and gas per transfer against batch size: optimistic calldata, zk calldata."""
    rollup, zk = _load("rollup"), _load("zk")
    series: list[tuple[str, list[int], list[float], list[float]]] = []
    if rollup and isinstance(rollup.get("posting"), dict):
        rows = sorted((int(n), r) for n, r in rollup["posting"].items())
        series.append(
            (
                "optimistic, calldata",
                [n for n, _ in rows],
                [r["bytes_per_transfer"] for _, r in rows],
                [r["gas_per_transfer"] for _, r in rows],
            )
        )
    if zk and isinstance(zk.get("rows"), list):
        pts = [
            (r["n_txs"], r["batch_transfers"])
            for r in zk["rows"]
            if "l1_bytes_per_transfer" in r.get("batch_transfers", {})
        ]
        if pts:
            series.append(
                (
                    "zk, calldata",
                    [n for n, _ in pts],
                    [b["l1_bytes_per_transfer"] for _, b in pts],
                    [b["gas_per_transfer"] for _, b in pts],
                )
            )
    if not series:
        return None
    fig, (ax_b, ax_g) = plt.subplots(1, 2, figsize=(10, 4))
    for label, ns, by, gas in series:
        ax_b.plot(ns, by, marker="o", label=label)
        ax_g.plot(ns, gas, marker="o", label=label)
    for ax, what in ((ax_b, "L1 bytes per transfer"), (ax_g, "L1 gas per transfer")):
        ax.set_xscale("log", base=2)
        ax.set_yscale("log")
        ax.set_xlabel("transfers per batch")
        ax.set_ylabel(what)
        ax.grid(True, which="both", alpha=0.3)
        ax.legend()
    fig.suptitle("What a transfer costs on L1 (bench/rollup.py, bench/zk.py)")
    return _save(plt, fig, "cost_per_transfer")


def intake(plt: Any) -> Path | None:
    """Operator intake: throughput against acknowledgement latency, single vs batched."""
    op = _load("operator")
    if not op:
        return None
    points = []
    for label, key in (("one tx per request", "single"), ("batched requests", "batched")):
        d = op.get(key)
        if isinstance(d, dict) and "tx_per_s" in d and "p99_ms" in d:
            points.append((label, d["tx_per_s"], d.get("p50_ms"), d["p99_ms"]))
    if not points and "http_tx_per_s" in op:
        points.append(("HTTP API", op["http_tx_per_s"], op.get("p50_ms"), op["p99_ms"]))
    if not points:
        print("skip: operator.json has no throughput figures")
        return None
    fig, ax = plt.subplots(figsize=(6, 4))
    for label, tps, p50, p99 in points:
        ax.scatter([tps], [p99], s=60, label=f"{label}: p99")
        if p50 is not None:
            ax.scatter([tps], [p50], s=30, marker="x", label=f"{label}: p50")
    ax.axvline(5000, color="grey", linestyle="--", linewidth=1, label="target 5,000 tx/s")
    ax.axhline(50, color="grey", linestyle=":", linewidth=1, label="target p99 50 ms")
    ax.set_xlabel("signed transfers acknowledged per second")
    ax.set_ylabel("acknowledgement latency (ms)")
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=8)
    ax.set_title("Batcher intake over HTTP (bench/operator.py)")
    return _save(plt, fig, "operator_intake")


def payments(plt: Any) -> Path | None:
    """Channel payment latency: p50 and p99 per scenario."""
    ch = _load("channels")
    off = _dig(ch, "offchain") if ch else None
    if not isinstance(off, dict):
        return None
    rows = [
        (name, d["p50_ms"], d["p99_ms"])
        for name, d in off.items()
        if isinstance(d, dict) and "p50_ms" in d and "p99_ms" in d
    ]
    if not rows:
        return None
    fig, ax = plt.subplots(figsize=(7, 4))
    xs = range(len(rows))
    ax.bar([x - 0.2 for x in xs], [r[1] for r in rows], width=0.4, label="p50")
    ax.bar([x + 0.2 for x in xs], [r[2] for r in rows], width=0.4, label="p99")
    ax.set_xticks(list(xs), [r[0].replace("_", " ") for r in rows])
    ax.set_ylabel("latency per payment (ms)")
    ax.set_yscale("log")
    ax.grid(True, axis="y", alpha=0.3)
    ax.legend()
    ax.set_title("Payment channels on loopback (bench/channels.py)")
    return _save(plt, fig, "channel_latency")


def _save(plt: Any, fig: Any, name: str) -> Path:
    path = RESULTS / f"{name}.png"
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    print(f"wrote {path.relative_to(RESULTS.parent.parent)}")
    return path


def main() -> int:
    try:
        import matplotlib
    except ImportError:
        print("matplotlib is missing: run `make setup` (it is in requirements.lock)")
        return 1
    matplotlib.use("Agg")  # files only, no display
    import matplotlib.pyplot as plt

    for draw in (cost_per_transfer, intake, payments):
        draw(plt)
    return 0


if __name__ == "__main__":
    sys.exit(main())
