"""`l2kit rollup exit` after a freeze rebuilds the state through blob batches (their blobs read
from `--beacon-url`, by default the L1 RPC URL); an endpoint that is down is a clear error that
sends no exit."""

from __future__ import annotations

import json
import socket

from conftest import ONE, PARAMS, advance, key_of
from eth_account import Account

from offchain.blobs.tx import send_blobs
from offchain.l1.sender import L1Sender, SendPolicy
from offchain.rollup.adversary import blob_posting
from offchain.rollup.builder import build_batch
from offchain.rollup.l1 import RollupL1, Signer
from offchain.rollup.posting import POST_BLOB_BATCHES_SELECTOR, encode_posting
from offchain.rollup.state import L2State


def _closed_port_url() -> str:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return f"http://127.0.0.1:{port}"


def ok(result) -> dict:
    assert result.exit_code == 0, result.stderr + result.stdout
    return json.loads(result.stdout)


def test_exit_rebuilds_the_frozen_state_through_blob_batches(
    l2kit, w3, deployment, deployer, alice, bob
):
    ok(l2kit.run("rollup", "deposit", "1", "--yes", "--json", key=key_of(alice)))
    ok(l2kit.run("rollup", "deposit", "0.5", "--yes", "--json", key=key_of(bob)))
    l1 = RollupL1(w3, deployment.address("Rollup"), deployment.address("RollupBridge"))
    queue = l1.deposit_queue()
    first, state = build_batch(L2State(), queue[:1], [])
    second, state = build_batch(state, queue[1:], [])
    posting = blob_posting([[c.commitment for c in b.commitments] for b in (first, second)])
    proposer = Signer(w3, key_of(deployer))
    proposer.send(l1.rollup.functions.bond(), value=2 * ONE)
    sender = L1Sender(w3, Account.from_key(key_of(deployer)), SendPolicy(backoff=0.05))
    pre = bytes(l1.rollup.functions.head().call()[0])
    data = encode_posting(pre, posting.data, POST_BLOB_BATCHES_SELECTOR)
    send_blobs(sender, l1.rollup.address, data, posting.blobs())
    assert l1.rollup.functions.batchCount().call() == 2
    advance(w3, PARAMS.challenge_period + 1)  # final
    advance(w3, PARAMS.liveness_period + 1)  # the operator went silent: anyone may freeze

    down = _closed_port_url()
    failed = l2kit.run("rollup", "exit", "--beacon-url", down, "--yes", key=key_of(bob))
    assert failed.exit_code != 0
    assert "batch 0" in failed.stderr and down in failed.stderr, failed.stderr

    exited = ok(l2kit.run("rollup", "exit", "--yes", "--json", key=key_of(bob)))  # all of it
    assert [e["amount"] for e in exited["exits"]] == [str(ONE // 2)]
    via_env = l2kit.run("rollup", "exit", "--yes", key=key_of(alice), L2KIT_BEACON_URL=l2kit.rpc)
    assert via_env.exit_code == 0, via_env.stderr
    assert state.account(0).balance == ONE
