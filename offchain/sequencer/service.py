"""The one sequencer service entry, both rollups:
`python -m offchain.sequencer.service --mode optimistic|zk` (`--help` for every setting).

Every setting comes from a flag, `$L2KIT_<NAME>` or a TOML file (offchain/sequencer/config.py);
the API is the aiohttp front (offchain/sequencer/http_server.py: POST /tx and /txs through the
group-commit intake, /health, /ready, /metrics) over the mode's query routes; the store is an
SQLite file or a postgresql:// URL, opened as the sequencer leader (store_open.py).

`ape run batcher` wraps this with Ape's network selection; this module needs only an RPC URL.
"""

from __future__ import annotations

import logging
import os
import signal
import sys
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Protocol

from eth_account.signers.local import LocalAccount

from offchain.deployments import Deployment, load_deployment, network_slug
from offchain.errors import L2KitError
from offchain.sequencer.config import SequencerConfig, load_config
from offchain.sequencer.core import Sequencer
from offchain.sequencer.http_api import Route
from offchain.sequencer.http_server import HttpServer, Service, serve
from offchain.sequencer.keys import proposer_account
from offchain.sequencer.logs import configure_logging
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
from offchain.sequencer.store_open import store_kind

log = logging.getLogger("l2kit.batcher")


def settings_from(
    config: SequencerConfig, deployment: Deployment, rpc: str, account: LocalAccount, store: str
) -> BatcherSettings:
    return BatcherSettings(
        rpc=rpc,
        rollup=deployment.address("Rollup"),
        bridge=deployment.address("RollupBridge"),
        proposer_key=bytes(account.key),
        store_path=store,
        deployment_block=deployment.block,
        beacon_url=config.beacon_url,
        max_batch_txs=config.max_batch_txs,
        max_batch_delay=config.max_batch_delay,
        poll_interval=config.poll_interval,
        heartbeat=config.heartbeat,
        bond=config.bond,
        fee_account=config.fee_account,
        da=config.da,
        blob_max_batches=config.blob_max_batches,
        cell_proofs=config.cell_proofs,
    )


def listen(config: SequencerConfig, service: Service, api_routes: Sequence[Route]) -> HttpServer:
    """Bind and serve the API, turning a taken or forbidden address into one clear line."""
    try:
        return serve(config, service, api_routes)
    except OSError as exc:
        raise PreflightError(
            f"cannot listen on {config.host}:{config.port} ({exc.strerror}): stop the process "
            "using it or choose another --host/--port"
        ) from None


def run(config: SequencerConfig, settings: BatcherSettings) -> None:
    """Start the optimistic batcher and its API; return when SIGINT/SIGTERM arrives."""
    batcher = Batcher(settings)  # refuses a store of another deployment (or a held leader lock)
    try:
        # Bound before the (slow) recovery: /health answers, /ready says "recovering".
        api = listen(config, batcher.core, routes(batcher))
        try:
            batcher.start()
        except BaseException:
            api.close()
            raise
    except BaseException:
        batcher.store.close()
        raise
    log.info(
        "batcher %s serving %s (store %s)",
        batcher.account.address,
        api.url,
        describe_store(settings.store_path),
    )
    serve_until_signal(api, batcher, config.progress_every)


class _Backend(Protocol):
    core: Sequencer

    def stop(self) -> None: ...


def serve_until_signal(api: HttpServer, backend: _Backend, progress_every: float) -> None:
    """Print the READY line, log progress until SIGINT/SIGTERM, then stop API and backend."""
    print(f"READY {api.url}", flush=True)  # machine-readable line for supervisors and tests
    core = backend.core
    done = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: done.set())
    while not done.wait(progress_every or None):
        status = core.status()
        c = status.get("counters", {})
        log.info(
            "progress: %s pending | %s batches, %s txs posted | %s L1 bytes, %s gas",
            status.get("l2", {}).get("pending_txs"),
            c.get("batches_posted"),
            c.get("txs_posted"),
            c.get("l1_bytes"),
            c.get("l1_gas"),
        )
    log.info("stopping")
    api.close()
    backend.stop()


def describe_store(location: str | Path) -> str:
    """The store for a log line: a PostgreSQL URL without its password."""
    text = str(location)
    if store_kind(text) != "postgres":
        return text
    scheme, rest = text.split("://", 1)
    rest = rest.split("?", 1)[0]  # query parameters may carry a password too
    if "@" in rest:
        creds, host = rest.rsplit("@", 1)
        rest = f"{creds.split(':', 1)[0]}@{host}"
    return f"{scheme}://{rest}"


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


def proposer(config: SequencerConfig, chain_id: int) -> LocalAccount:
    """The proposer's account: Ape alias, keyfile, or the hex key in `$<key_env>` (checked,
    never echoed); Anvil's first test key on chain 31337 only when none is configured."""
    raw = os.environ.get(config.key_env)
    if raw and not config.account and not config.keyfile:
        return parse_key(raw, config.key_env)
    return proposer_account(config, chain_id)


def main(argv: list[str] | None = None) -> int:
    try:
        config = load_config(argv)
    except L2KitError as exc:
        print(f"batcher: {exc}", file=sys.stderr)
        return 2
    configure_logging(config.log_format, config.log_level)
    zk = config.mode == "zk"
    try:
        # Fail fast: every check reads a setting or the node once, before any slow work.
        check_port(config.host, config.port)
        deployment = load_deployment(config.network)
        rpc = config.rpc or deployment.rpc
        if not rpc:
            raise PreflightError("no RPC URL: pass --rpc or set L2KIT_RPC")
        w3 = connect_once(rpc)
        rollup_name = "ZkRollup" if zk else "Rollup"
        check_deployment(w3, deployment, (rollup_name, "ZkBridge" if zk else "RollupBridge"), rpc)
        account = proposer(config, int(w3.eth.chain_id))
        home = state_dir(deployment.network)
        default = home / ("zk-batcher.sqlite" if zk else "batcher.sqlite")
        if config.store is None:
            check_no_legacy_store(default)
        store = config.store or str(default)
        store_kind(store)  # an unknown URL scheme: one line, before anything is created
        if zk:
            check_funds(w3, account.address, 0)
            # offchain.zk is GPL-3.0 and optional: imported only in zk mode.
            from offchain.zk.sequencer_service import run_zk

            binding = read_binding(w3, deployment.address(rollup_name), deployment.block)
            run_zk(config, deployment, rpc, account, store, binding)
            return 0
        run(config, settings_from(config, deployment, rpc, account, store))
    except L2KitError as exc:
        print(f"batcher: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    time.tzset()
    sys.exit(main())
