# SPDX-License-Identifier: GPL-3.0-or-later
"""The batcher service in zk mode: HTTP submissions, proven batches accepted on L1, immediate
withdrawals, clear errors for bad input, and a restart that continues from the store."""

from __future__ import annotations

import json
import urllib.error
import urllib.request

import pytest
from eth_account import Account
from zk_helpers import ALICE_KEY, BOB_KEY, MALLORY_KEY, SMALL_PARAMS, deploy_system

from offchain.l1.sender import SendPolicy
from offchain.sequencer.config import SequencerConfig
from offchain.sequencer.http_server import serve
from offchain.zk.sequencer_backend import ZkBatcher
from offchain.zk.sequencer_routes import routes
from offchain.zk.txs import TxKind, recipient_bytes, sign_tx

ETH = "0x0000000000000000000000000000000000000000"


def http(url, method="GET", body=None):
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(url, data=data, method=method)
    try:
        with urllib.request.urlopen(req, timeout=30) as resp:
            return resp.status, json.loads(resp.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def tx_json(tx, to=None):
    return {
        "type": "transfer" if tx.kind == TxKind.TRANSFER else "withdraw",
        "from": tx.from_index,
        "to": str(tx.to if to is None else to),
        "amount": str(tx.amount),
        "nonce": tx.nonce,
        "signature": {
            "r8x": str(tx.signature.r8[0]),
            "r8y": str(tx.signature.r8[1]),
            "s": str(tx.signature.s),
        },
    }


@pytest.mark.slow  # zk batcher service end to end
def test_zk_mode_end_to_end(
    project,
    chain,
    deployer,
    alice,
    bob,
    carol,
    small_rollup_keys,
    exit_keys,
    small_prover,
    tmp_path,
):
    """One-slot circuit (a batch is due at one pending tx): batch 0 credits Alice's deposit,
    batch 1 Bob's with Alice's transfer, batch 2 Bob's withdrawal, paid at once."""
    zk = deploy_system(project, deployer, chain, SMALL_PARAMS, small_rollup_keys, exit_keys)
    bridge, rollup = zk.bridge, zk.rollup
    bridge.depositETH(recipient_bytes(ALICE_KEY.public_key), sender=alice, value=10**18)
    bridge.depositETH(recipient_bytes(BOB_KEY.public_key), sender=bob, value=5 * 10**17)

    def make():
        b = ZkBatcher(
            chain.provider.web3,
            Account.from_key(deployer.private_key),
            rollup.address,
            bridge.address,
            SMALL_PARAMS,
            small_prover,
            tmp_path / "zk.sqlite",
            tmp_path / "zk-state.json",
            max_batch_delay=3600,
            policy=SendPolicy(receipt_timeout=10, backoff=0.05, max_backoff=0.2),
        )
        b.recover()
        return b

    batcher = make()
    server = serve(SequencerConfig(port=0), batcher.core, routes(batcher))
    url = server.url
    try:
        assert batcher.post_if_due(force=True) == 0  # the first deposit: leaf 0
        assert rollup.stateRoot() == batcher.confirmed.root

        dom = batcher.domain
        pay = sign_tx(ALICE_KEY, dom, TxKind.TRANSFER, 0, 1, 3 * 10**17, 0)
        out = sign_tx(BOB_KEY, dom, TxKind.WITHDRAW, 1, int(carol.address, 16), 10**17, 0)
        # bad input: clear errors, nothing stored
        assert (
            http(
                f"{url}/tx", "POST", tx_json(sign_tx(ALICE_KEY, dom, TxKind.TRANSFER, 0, 1, 1, 5))
            )[1]["error"]["code"]
            == "bad_nonce"
        )
        forged = sign_tx(MALLORY_KEY, dom, TxKind.TRANSFER, 0, 1, 1, 0)
        assert http(f"{url}/tx", "POST", tx_json(forged))[1]["error"]["code"] == "invalid"
        too_much = sign_tx(BOB_KEY, dom, TxKind.TRANSFER, 1, 0, 10**19, 0)
        assert http(f"{url}/tx", "POST", tx_json(too_much))[1]["error"]["code"] == "invalid"
        assert http(f"{url}/tx", "POST", {"type": "transfer"})[1]["error"]["code"] == (
            "missing_field"
        )
        assert http(f"{url}/status")[1]["txs"]["pending"] == 0

        status, body = http(f"{url}/tx", "POST", tx_json(pay))
        assert status == 200 and body["status"] == "pending", body
        # Bob's leaf is still a queued deposit: the pending view adds the transfer to it
        assert http(f"{url}/account/1")[1]["balance"] == str(5 * 10**17 + 3 * 10**17)
        assert batcher.post_if_due() == 1  # N = 1 pending: due; Bob's deposit, then the transfer
        assert rollup.depositsProcessed() == 2
        status, body = http(f"{url}/tx", "POST", tx_json(out))
        assert status == 200 and body["status"] == "pending", body
        assert batcher.post_if_due() == 2  # proven, checked, accepted
        assert rollup.stateRoot() == batcher.confirmed.root
        assert http(f"{url}/tx/{body['tx_hash']}")[1]["status"] == "final"
        assert bridge.claimable(carol, ETH) == 10**17  # no challenge window
    finally:
        server.close()
        batcher.store.close()

    again = make()  # a restart continues from the state file and the store
    try:
        assert again.confirmed.root == rollup.stateRoot()
        nxt = sign_tx(ALICE_KEY, again.domain, TxKind.TRANSFER, 0, 1, 10**17, 1)
        assert again.submit(nxt).status.value == "pending"
        assert again.post_if_due(force=True) == 3
        assert again.confirmed.account(1).balance == 8 * 10**17
    finally:
        again.store.close()


def test_zk_account_view_queued_and_credited_deposits(
    project, chain, deployer, alice, bob, small_rollup_keys, exit_keys, small_prover, tmp_path
):
    """GET /account/<leaf> shows a deposit as soon as it is queued on L1 (pending) and once a
    deposit-only batch credited it (confirmed), with no submission or restart in between, while
    a deposit the batch had no slot for stays pending; a leaf no deposit created is a 404
    "no_such_account", not a 500. One-slot circuit: batch 0 credits Alice's deposit only."""
    zk = deploy_system(project, deployer, chain, SMALL_PARAMS, small_rollup_keys, exit_keys)
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
        policy=SendPolicy(receipt_timeout=10, backoff=0.05, max_backoff=0.2),
    )
    batcher.recover()  # before any deposit: an empty pending state
    server = serve(SequencerConfig(port=0), batcher.core, routes(batcher))
    url = server.url
    try:
        status, body = http(f"{url}/account/0")
        assert status == 404 and body["error"]["code"] == "no_such_account", body
        zk.bridge.depositETH(recipient_bytes(ALICE_KEY.public_key), sender=alice, value=10**18)
        status, body = http(f"{url}/account/0")  # queued, not yet batched
        assert status == 200, body
        assert body["balance"] == str(10**18) and body["confirmed_balance"] == "0"
        zk.bridge.depositETH(recipient_bytes(BOB_KEY.public_key), sender=bob, value=5 * 10**17)
        assert batcher.post_if_due(force=True) == 0  # deposit-only batch 0: leaf 0 (one slot)
        assert zk.rollup.depositsProcessed() == 1
        status, body = http(f"{url}/account/0")  # credited; no submit or restart since
        assert status == 200, body
        assert body["balance"] == body["confirmed_balance"] == str(10**18)
        assert body["nonce"] == body["confirmed_nonce"] == 0
        status, body = http(f"{url}/account/1")  # still queued: no deposit slot left in batch 0
        assert status == 200, body
        assert body["balance"] == str(5 * 10**17) and body["confirmed_balance"] == "0"
        status, body = http(f"{url}/account/7")
        assert status == 404 and body["error"]["code"] == "no_such_account", body
    finally:
        server.close()
        batcher.store.close()
