"""Run one channel node as its own process, from a JSON config file.

    L2KIT_NODE_KEY=0x... python -m offchain.channels.runner --config node.json

Config keys: `db` (SQLite path), `rpc` (L1 JSON-RPC URL), `adjudicator` (address), `abi_file`
(Ape's `.build/__local__.json`, default `.build/__local__.json`), `port` (fixed, so peers find the
node again after a restart), `peers` ({address: [host, port]}), `open` (channels to open on the
first start only: [{"peer": address, "amount": wei}]), `clock_skew` (seconds added to the wall
clock, to follow a test chain whose time was moved), and `node` (NodeConfig fields).

Prints `node <address> listening on 127.0.0.1:<port>` once it serves and its channels are open,
then `status <json>` lines every `status_every` seconds (0: never). With `pay` ({"peer",
"amount", "count", "in_flight"}), SIGUSR1 starts that many direct payments to the peer,
`in_flight` at a time (the crash tests' load), and `paid <ok> <failed>` is printed at the end.
SIGTERM or SIGINT stop it cleanly; a SIGKILL (see `offchain.sequencer.failpoints`) leaves only
what is on disk, which is what the crash tests exercise.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import os
import signal
import sys
import time
from pathlib import Path

from offchain.chain import abi_of
from offchain.channels import crypto
from offchain.channels.chain import ChainClient
from offchain.channels.node import Node, NodeConfig


def load_config(path: str | Path) -> dict:
    try:
        cfg = json.loads(Path(path).read_text())
    except (OSError, ValueError) as e:
        raise SystemExit(f"cannot read the node config {path}: {e}") from e
    missing = [k for k in ("db", "rpc", "adjudicator", "port") if k not in cfg]
    if missing:
        raise SystemExit(f"the node config {path} lacks {', '.join(missing)}")
    return cfg


def make_node(cfg: dict, key: str) -> Node:
    """The node a config describes, its peers added, not yet started (also used by
    `offchain.channels.service`, which puts a REST API in front of it)."""
    abi = abi_of("ChannelAdjudicator", Path(cfg.get("abi_file", ".build/__local__.json")))
    chain = ChainClient(cfg["rpc"], cfg["adjudicator"], abi, key)
    skew = int(cfg.get("clock_skew", 0))
    node = Node(
        key,
        cfg["db"],
        crypto.Domain(chain.chain_id, chain.contract.address),
        chain=chain,
        clock=lambda: int(time.time()) + skew,
        config=NodeConfig(port=int(cfg["port"]), **cfg.get("node", {})),
    )
    for addr, (host, port) in cfg.get("peers", {}).items():
        node.add_peer(addr, host, int(port))
    return node


async def run(cfg: dict, key: str) -> None:
    node = make_node(cfg, key)
    await node.start()
    try:
        if not node.views:
            for spec in cfg.get("open", []):
                await node.open_channel(spec["peer"], int(spec["amount"]))
        print(f"node {node.address} listening on 127.0.0.1:{node.port}", flush=True)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        pay = cfg.get("pay")
        bursts: set[asyncio.Task] = set()
        if pay:
            loop.add_signal_handler(
                signal.SIGUSR1, lambda: bursts.add(loop.create_task(burst(node, pay)))
            )
        every = float(cfg.get("status_every", 0))
        while not stop.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), every or None)
            if every:
                print("status " + json.dumps(node.status()), flush=True)
    finally:
        await node.stop()


async def burst(node: Node, pay: dict) -> None:
    """`count` direct payments of `amount` to `peer`, `in_flight` outstanding at a time."""
    sem = asyncio.Semaphore(int(pay.get("in_flight", 1)))
    results: list[bool] = []

    async def one() -> None:
        async with sem:
            try:
                await node.pay_direct(pay["peer"], int(pay["amount"]))
                results.append(True)
            except Exception:  # counted: the test reads the channel's state for the truth
                results.append(False)

    await asyncio.gather(*(one() for _ in range(int(pay["count"]))))
    print(f"paid {sum(results)} {len(results) - sum(results)}", flush=True)


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description="l2kit payment-channel node")
    p.add_argument("--config", required=True, help="JSON config file (see the module doc)")
    args = p.parse_args(argv)
    key = os.environ.get("L2KIT_NODE_KEY")
    if not key:
        raise SystemExit("set L2KIT_NODE_KEY to the node account's private key")
    logging.basicConfig(stream=sys.stderr, level=logging.WARNING)
    asyncio.run(run(load_config(args.config), key))


if __name__ == "__main__":
    main()
