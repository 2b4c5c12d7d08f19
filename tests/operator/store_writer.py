"""A process that appends transactions to a store and reports each acknowledged group on stdout,
for the store's concurrency and crash tests:

    python store_writer.py <store> <writer id> <groups> [front|hold-leader]

Group g of writer w has between 1 and 8 transactions; the payload of each names its writer, group,
position and group size, and its hash is the SHA-256 of the payload, so a reader can check from
the store alone that no group was half-written and no row was damaged. After each append returns
the writer prints `ACK <w> <g> <seq>,<seq>,...`; it appends until killed or `groups` are done.
`hold-leader` opens the store as the sequencer (taking its leader lock), prints READY and waits
to be killed.
"""

from __future__ import annotations

import hashlib
import json
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from offchain.sequencer.store_open import open_store


def group(writer: int, index: int, size: int) -> list[tuple[bytes, str, bytes]]:
    """The transactions of group `index` of `writer`."""
    rows = []
    for i in range(size):
        payload = json.dumps({"w": writer, "g": index, "i": i, "n": size}).encode()
        rows.append((hashlib.sha256(payload).digest(), "transfer", payload))
    return rows


def main(argv: list[str]) -> int:
    store_url, writer, groups = argv[0], int(argv[1]), int(argv[2])
    mode = argv[3] if len(argv) > 3 else "front"
    store = open_store(store_url, leader=mode == "hold-leader")
    if mode == "hold-leader":
        print("READY", flush=True)
        time.sleep(3600)
    rng = random.Random(writer)
    grouped = hasattr(store, "append_txs")  # the SQLite store gains it with issue #10's core
    print("READY", flush=True)
    for index in range(groups):
        items = group(writer, index, rng.randint(1, 8) if grouped else 1)
        seqs = store.append_txs(items) if grouped else [store.append_tx(*items[0])]
        print(f"ACK {writer} {index} {','.join(map(str, seqs))}", flush=True)
    store.close()
    print("DONE", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
