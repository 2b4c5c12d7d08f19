# SPDX-License-Identifier: GPL-3.0-or-later
"""Idempotent submission in zk mode (issue #9 item 16): a resend whose answer was lost gets the
stored record back, not `bad_nonce`; it is stored once."""

from __future__ import annotations

from eth_account import Account
from test_zk_batcher import http, tx_json
from zk_helpers import ALICE_KEY, BOB_KEY, SMALL_PARAMS, deploy_system

from offchain.sequencer.config import SequencerConfig
from offchain.sequencer.http_server import serve
from offchain.zk.sequencer_backend import ZkBatcher
from offchain.zk.sequencer_routes import routes
from offchain.zk.txs import TxKind, recipient_bytes, sign_tx


def test_idempotent_submission_zk_resend_gets_the_stored_record(
    project, chain, deployer, alice, bob, small_rollup_keys, exit_keys, small_prover, tmp_path
):
    """One-slot circuit: nothing here is batched, only admitted."""
    zk = deploy_system(
        project, deployer, chain, SMALL_PARAMS, small_rollup_keys, exit_keys, 3600, 3600
    )
    zk.bridge.depositETH(recipient_bytes(ALICE_KEY.public_key), sender=alice, value=10**18)
    zk.bridge.depositETH(recipient_bytes(BOB_KEY.public_key), sender=bob, value=10**18)
    batcher = ZkBatcher(
        chain.provider.web3,
        Account.from_key(deployer.private_key),
        zk.rollup.address,
        zk.bridge.address,
        SMALL_PARAMS,
        small_prover,
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
