"""Helpers shared by the benchmarks: a local Anvil node through Ape, tables, JSON results."""

from __future__ import annotations

import json
import platform
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results"


@contextmanager
def local_node() -> Iterator[None]:
    """Connect Ape to a fresh local Anvil node (started and stopped by ape-foundry)."""
    from ape import networks
    from ape.logging import logger

    logger.set_level("WARNING")
    with networks.parse_network_choice("ethereum:local:foundry"):
        yield


def print_table(title: str, header: Sequence[str], rows: Sequence[Sequence[object]]) -> None:
    """Print a fixed-width table (also valid Markdown, to paste into the README)."""
    cells = [[str(c) for c in header]] + [[_fmt(c) for c in row] for row in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(header))]
    print(f"\n{title}\n")
    for n, row in enumerate(cells):
        print("| " + " | ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)) + " |")
        if n == 0:
            print("|" + "|".join("-" * (w + 2) for w in widths) + "|")


def write_results(name: str, figures: dict) -> Path:
    """Write bench/results/<name>.json with the figures and where they were measured."""
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"{name}.json"
    body = {
        "benchmark": name,
        "measured_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "machine": f"{platform.machine()} {platform.processor() or ''}".strip(),
        "python": platform.python_version(),
        **figures,
    }
    path.write_text(json.dumps(body, indent=2, sort_keys=False) + "\n")
    print(f"\nwrote {path}")
    return path


def _fmt(value: object) -> str:
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        return f"{value:,.1f}"
    return str(value)
