# SPDX-License-Identifier: GPL-3.0-or-later
"""`python -m offchain.sequencer.service --mode zk`: the zk batcher with its HTTP API."""

from __future__ import annotations

import argparse
import logging
import os
import signal
import threading
from collections.abc import Callable

from eth_account import Account
from web3 import Web3

from offchain.chain import abi_of
from offchain.deployments import load_deployment
from offchain.errors import L2KitError
from offchain.sequencer.http_api import JsonApiServer
from offchain.zk.circuit import dev_keys, rollup_spec
from offchain.zk.params import CircuitParams
from offchain.zk.prover import Groth16Prover
from offchain.zk.sequencer_backend import ZkBatcher
from offchain.zk.sequencer_routes import routes

log = logging.getLogger("l2kit.zk-batcher")


def run_zk(args: argparse.Namespace, chain_id_of: Callable[[str], int], local_key: str) -> None:
    deployment = load_deployment(args.network)
    rpc = args.rpc or deployment.rpc
    key = os.environ.get(args.key_env)
    if not key:
        if chain_id_of(rpc) != 31337:
            raise L2KitError(f"set {args.key_env} to the proposer's private key (hex)")
        key = local_key
    w3 = Web3(Web3.HTTPProvider(rpc, request_kwargs={"timeout": 60}))
    rollup = w3.eth.contract(address=deployment.address("ZkRollup"), abi=abi_of("ZkRollup"))
    params = CircuitParams(
        rollup.functions.txSlots().call(), rollup.functions.depositSlots().call(), args.zk_depth
    )
    log.info("loading the development keys of circuit %s (cached in .cache/zk)", params.tag)
    prover = Groth16Prover(dev_keys(rollup_spec(params)))
    batcher = ZkBatcher(
        w3,
        Account.from_key(key),
        deployment.address("ZkRollup"),
        deployment.address("ZkBridge"),
        params,
        prover,
        args.store,
        args.zk_state,
        args.max_batch_delay,
    )
    batcher.start()
    api = JsonApiServer(routes(batcher), args.host, args.port)
    api.start()
    log.info("zk batcher %s serving %s", batcher.account.address, api.url)
    print(f"READY {api.url}", flush=True)
    done = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: done.set())
    done.wait()
    api.stop()
    batcher.stop()
