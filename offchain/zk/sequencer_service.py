# SPDX-License-Identifier: GPL-3.0-or-later
"""`python -m offchain.sequencer.service --mode zk`: the zk batcher behind the HTTP front."""

from __future__ import annotations

import logging

from eth_account.signers.local import LocalAccount
from web3 import Web3

from offchain.chain import abi_of
from offchain.deployments import Deployment
from offchain.sequencer.config import SequencerConfig
from offchain.sequencer.service import describe_store, listen, serve_until_signal, state_dir
from offchain.sequencer.store import DeploymentBinding
from offchain.sequencer.store_open import open_store
from offchain.zk.circuit import dev_keys, rollup_spec
from offchain.zk.params import CircuitParams
from offchain.zk.prover import Groth16Prover
from offchain.zk.sequencer_backend import ZkBatcher
from offchain.zk.sequencer_routes import routes

log = logging.getLogger("l2kit.zk-batcher")


def run_zk(
    config: SequencerConfig,
    deployment: Deployment,
    rpc: str,
    account: LocalAccount,
    store_location: str,
    binding: DeploymentBinding,
) -> None:
    """Open the store (bound to the deployment, as the leader), load the prover, recover, serve
    until SIGINT/SIGTERM."""
    w3 = Web3(Web3.HTTPProvider(rpc, request_kwargs={"timeout": 60}))
    store = open_store(store_location, leader=True)
    try:
        store.bind(binding)  # a store of another deployment is refused before any work
        rollup = w3.eth.contract(address=deployment.address("ZkRollup"), abi=abi_of("ZkRollup"))
        params = CircuitParams(
            rollup.functions.txSlots().call(),
            rollup.functions.depositSlots().call(),
            config.zk_depth,
        )
        log.info("loading the development keys of circuit %s (cached in .cache/zk)", params.tag)
        prover = Groth16Prover(dev_keys(rollup_spec(params)))
        batcher = ZkBatcher(
            w3,
            account,
            deployment.address("ZkRollup"),
            deployment.address("ZkBridge"),
            params,
            prover,
            store,
            config.zk_state or state_dir(deployment.network) / "zk-state.json",
            config.max_batch_delay,
        )
        api = listen(config, batcher.core, routes(batcher))
        try:
            batcher.start()
        except BaseException:
            api.close()
            raise
    except BaseException:
        store.close()
        raise
    log.info(
        "zk batcher %s serving %s (store %s)",
        batcher.account.address,
        api.url,
        describe_store(store_location),
    )
    serve_until_signal(api, batcher, config.progress_every)
