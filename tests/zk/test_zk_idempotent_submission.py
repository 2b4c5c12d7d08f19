# SPDX-License-Identifier: GPL-3.0-or-later
"""Idempotent submission in zk mode (issue #9 item 16): a resend whose answer was lost gets the
stored record back, not `bad_nonce`; it is stored once."""

from __future__ import annotations

from eth_account import Account
from test_zk_batcher import http, tx_json
from zk_helpers import ALICE_KEY, BOB_KEY, PARAMS

from offchain.sequencer.config import SequencerConfig
from offchain.sequencer.http_server import serve
from offchain.zk.circuit import verifier_args
from offchain.zk.sequencer_backend import ZkBatcher
from offchain.zk.sequencer_routes import routes
from offchain.zk.tree import zero_hashes
from offchain.zk.txs import TxKind, recipient_bytes, sign_tx


def test_idempotent_submission_zk_resend_gets_the_stored_record(
    project, chain, deployer, alice, bob, rollup_keys, exit_keys, prover, tmp_path
):
    bridge = deployer.deploy(project.L1Bridge, "0x02")
    bv = deployer.deploy(project.Groth16Verifier, *verifier_args(rollup_keys))
    ev = deployer.deploy(project.Groth16Verifier, *verifier_args(exit_keys))
    rollup = deployer.deploy(
        project.ZkRollup,
        bridge,
        bv,
        ev,
        zero_hashes(PARAMS.depth)[PARAMS.depth],
        PARAMS.n_txs,
        PARAMS.n_deposits,
        3600,
        3600,  # forced-withdrawal delay
        PARAMS.depth,
    )
    bridge.setRollup(rollup, sender=deployer)
    bridge.depositETH(recipient_bytes(ALICE_KEY.public_key), sender=alice, value=10**18)
    bridge.depositETH(recipient_bytes(BOB_KEY.public_key), sender=bob, value=10**18)
    batcher = ZkBatcher(
        chain.provider.web3,
        Account.from_key(deployer.private_key),
        rollup.address,
        bridge.address,
        PARAMS,
        prover,
        tmp_path / "zk.sqlite",
        tmp_path / "zk-state.json",
        max_batch_delay=3600,
    )
    batcher.recover()
    server = serve(SequencerConfig(port=0), batcher.core, routes(batcher))
    try:
        pay = sign_tx(ALICE_KEY, batcher.domain, TxKind.TRANSFER, 0, 1, 10**17, 0)
        first = http(f"{server.url}/tx", "POST", tx_json(pay))
        assert first[0] == 200, first
        assert http(f"{server.url}/tx", "POST", tx_json(pay)) == first  # not bad_nonce
        assert batcher.store.count_txs() == 1
    finally:
        server.close()
        batcher.store.close()
