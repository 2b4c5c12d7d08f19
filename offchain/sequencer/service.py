"""The one sequencer service entry, both rollups:
`python -m offchain.sequencer.service --mode optimistic|zk` (`--help` for every setting).

`ape run batcher` wraps this with Ape's network selection; this module needs only an RPC URL.
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
import threading
import time
from pathlib import Path

from offchain.deployments import Deployment, load_deployment, network_slug
from offchain.errors import L2KitError
from offchain.sequencer.http_api import JsonApiServer
from offchain.sequencer.optimistic import Batcher, BatcherSettings
from offchain.sequencer.preflight import (
    PreflightError,
    check_deployment,
    check_funds,
    check_port,
    connect_once,
    parse_key,
    read_binding,
)
from offchain.sequencer.routes import routes
from offchain.sequencer.store import OperatorStore, TxStatus

log = logging.getLogger("l2kit.batcher")

#: Anvil's first well-known test key: used only on chain 31337 when no key is configured.
ANVIL_KEY_0 = "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80"


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="batcher", description="l2kit optimistic-rollup batcher")
    p.add_argument(
        "--rpc",
        default=os.environ.get("L2KIT_RPC"),
        help="L1 JSON-RPC URL (default: $L2KIT_RPC, else the deployment file's rpc)",
    )
    p.add_argument(
        "--network",
        default="ethereum:local",
        help="deployment to use, e.g. ethereum:sepolia (default ethereum:local)",
    )
    p.add_argument(
        "--mode",
        choices=("optimistic", "zk"),
        default="optimistic",
        help="which rollup to operate: the optimistic rollup (default) or the zk rollup "
        "(prove, verify locally, post; needs the optional zk extra)",
    )
    p.add_argument(
        "--zk-depth", type=int, default=4, help="zk mode: account tree depth of the circuit (4)"
    )
    p.add_argument(
        "--zk-state",
        type=Path,
        default=None,
        help="zk mode: the L2 state file (default var/<ecosystem>-<network>/zk-state.json)",
    )
    p.add_argument(
        "--store",
        type=Path,
        default=None,
        help="SQLite store, bound to the deployment it was first used with (default "
        "var/<ecosystem>-<network>/batcher.sqlite, .../zk-batcher.sqlite in zk mode)",
    )
    p.add_argument("--host", default="127.0.0.1", help="API listen address (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=8547, help="API port (default 8547, 0 = any)")
    p.add_argument(
        "--max-batch-txs",
        type=int,
        default=256,
        help="post once this many txs are pending (default 256)",
    )
    p.add_argument(
        "--max-batch-delay",
        type=float,
        default=5.0,
        help="...or once the oldest waited this many seconds (default 5)",
    )
    p.add_argument(
        "--key-env",
        default="L2KIT_PROPOSER_KEY",
        help="environment variable holding the proposer's private key",
    )
    p.add_argument("--bond", type=int, default=None, help="bond to hold, wei (default: required)")
    p.add_argument("--fee-account", type=int, default=0, help="L2 account receiving fees")
    p.add_argument(
        "--progress-every",
        type=float,
        default=10.0,
        help="seconds between progress lines (0 = off)",
    )
    return p


def settings_from(
    args: argparse.Namespace, deployment: Deployment, rpc: str, key: str
) -> BatcherSettings:
    return BatcherSettings(
        rpc=rpc,
        rollup=deployment.address("Rollup"),
        bridge=deployment.address("RollupBridge"),
        proposer_key=bytes.fromhex(key.strip().removeprefix("0x")),
        store_path=args.store,
        deployment_block=deployment.block,
        max_batch_txs=args.max_batch_txs,
        max_batch_delay=args.max_batch_delay,
        bond=args.bond,
        fee_account=args.fee_account,
    )


def run(settings: BatcherSettings, host: str, port: int, progress_every: float) -> None:
    """Start the batcher and its API; return when SIGINT/SIGTERM arrives."""
    batcher = Batcher(settings)  # refuses a store of another deployment
    try:
        api = listen(routes(batcher), host, port)  # before the (slow) recovery
        try:
            batcher.start()
        except BaseException:
            api.stop()
            raise
    except BaseException:
        batcher.store.close()
        raise
    api.start()
    log.info(
        "batcher %s serving %s (store %s)", batcher.account.address, api.url, settings.store_path
    )
    print(f"READY {api.url}", flush=True)  # machine-readable line for supervisors and tests
    done = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: done.set())
    while not done.wait(progress_every or None):
        c = batcher.store.counters()
        log.info(
            "progress: %d pending | %d batches, %d txs posted | %d L1 bytes, %d gas",
            batcher.store.count_txs(TxStatus.PENDING),
            c["batches_posted"],
            c["txs_posted"],
            c["l1_bytes"],
            c["l1_gas"],
        )
    log.info("stopping")
    api.stop()
    batcher.stop()


def listen(api_routes: list, host: str, port: int) -> JsonApiServer:
    """Bind the API, turning a taken or forbidden address into one clear line."""
    try:
        return JsonApiServer(api_routes, host, port)
    except OSError as exc:
        raise PreflightError(
            f"cannot listen on {host}:{port} ({exc.strerror}): stop the process using it or "
            "choose another --host/--port"
        ) from None


def state_dir(network: str) -> Path:
    """Where a network's store (and zk state file) live by default: one set per network."""
    return Path("var") / network_slug(network)


#: Where every network's store lived before stores were per network.
LEGACY_STORES = (Path("var") / "batcher.sqlite", Path("var") / "zk-batcher.sqlite")


def check_no_legacy_store(default: Path) -> None:
    """Refuse to start a fresh default store beside an old shared one: its acknowledged
    transactions would be silently left behind."""
    legacy = next((p for p in LEGACY_STORES if p.name == default.name and p.exists()), None)
    if legacy is not None and not default.exists():
        raise PreflightError(
            f"found a store at {legacy} from before stores were kept per network: move it to "
            f"{default} (it is refused there if it belongs to another deployment), or pass "
            "--store to choose one"
        )


def proposer_key(env_name: str, chain_id: int) -> str:
    """The proposer's key from `env_name`, checked; Anvil's first test key on chain 31337 only."""
    key = os.environ.get(env_name)
    if not key:
        if chain_id != 31337:
            raise PreflightError(f"set {env_name} to the proposer's private key (hex)")
        key = ANVIL_KEY_0
    parse_key(key, env_name)
    return key


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(name)s %(message)s", stream=sys.stderr
    )
    zk = args.mode == "zk"
    try:
        # Fail fast: every check reads a setting or the node once, before any slow work.
        check_port(args.host, args.port)
        deployment = load_deployment(args.network)
        rpc = args.rpc or deployment.rpc
        if not rpc:
            raise PreflightError("no RPC URL: pass --rpc or set L2KIT_RPC")
        w3 = connect_once(rpc)
        rollup_name = "ZkRollup" if zk else "Rollup"
        check_deployment(w3, deployment, (rollup_name, "ZkBridge" if zk else "RollupBridge"), rpc)
        key = proposer_key(args.key_env, int(w3.eth.chain_id))
        home = state_dir(deployment.network)
        if args.store is None:
            check_no_legacy_store(home / ("zk-batcher.sqlite" if zk else "batcher.sqlite"))
        if zk:
            args.store = args.store or home / "zk-batcher.sqlite"
            args.zk_state = args.zk_state or home / "zk-state.json"
            store = OperatorStore(args.store)
            try:
                store.bind(read_binding(w3, deployment.address(rollup_name), deployment.block))
            finally:
                store.close()
            check_funds(w3, parse_key(key, args.key_env).address, 0)
            # offchain.zk is GPL-3.0 and optional: imported only in zk mode.
            from offchain.zk.sequencer_service import run_zk

            run_zk(args, lambda _rpc: int(w3.eth.chain_id), ANVIL_KEY_0)
            return 0
        args.store = args.store or home / "batcher.sqlite"
        run(settings_from(args, deployment, rpc, key), args.host, args.port, args.progress_every)
    except L2KitError as exc:
        print(f"batcher: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    time.tzset()
    sys.exit(main())
