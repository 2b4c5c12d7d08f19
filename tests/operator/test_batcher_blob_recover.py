"""The batcher's recovery rebuilds its confirmed state through blob batches (read from the beacon
URL setting), and refuses to start from a guess while the blobs cannot be read."""

import socket

import pytest
from eth_account import Account
from operator_helpers import BOND, fund, key_of, private_key_of, settings_for

from offchain.blobs.tx import send_blobs
from offchain.l1.sender import L1Sender, SendPolicy
from offchain.rollup.adversary import blob_posting
from offchain.rollup.blob_read import BlobsUnavailable
from offchain.rollup.builder import build_batch
from offchain.rollup.l1 import RollupL1
from offchain.rollup.posting import POST_BLOB_BATCHES_SELECTOR, encode_posting
from offchain.rollup.state import L2State
from offchain.rollup.wallet import sign_transfer
from offchain.sequencer.optimistic import Batcher

ONE = 10**18


def _closed_port_url() -> str:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return f"http://127.0.0.1:{port}"


def _post_blob_batches(chain, contracts, deployer, alice) -> L2State:
    """Two honest batches in one blob posting from the proposer's account (as a batcher in blob
    mode would have posted them before a restart); returns the state after them."""
    bridge, rollup = contracts
    w3 = chain.provider.web3
    l1 = RollupL1(w3, rollup.address, bridge.address)
    first, state = build_batch(L2State(), l1.deposit_queue(), [])
    t = sign_transfer(key_of(alice), l1.signing_dst(), 0, 1, ONE // 4, 0, 0)
    second, state = build_batch(state, [], [t])
    assert not second.rejected
    posting = blob_posting([[c.commitment for c in b.commitments] for b in (first, second)])
    rollup.bond(sender=deployer, value=2 * BOND)
    sender = L1Sender(w3, Account.from_key(private_key_of(deployer)), SendPolicy(backoff=0.05))
    data = encode_posting(bytes(rollup.head()[0]), posting.data, POST_BLOB_BATCHES_SELECTOR)
    send_blobs(sender, rollup.address, data, posting.blobs())
    assert rollup.batchCount() == 2
    return state


def test_recover_rebuilds_state_through_blob_batches(
    chain, contracts, deployer, make_batcher, alice, bob
):
    bridge, rollup = contracts
    fund(bridge, alice, ONE)
    fund(bridge, bob, ONE)
    state = _post_blob_batches(chain, contracts, deployer, alice)
    batcher = make_batcher(beacon_url=chain.provider.uri)
    assert batcher.l1.beacon.settings.url == chain.provider.uri
    assert batcher.confirmed.root == state.root == bytes(rollup.head()[0])
    assert batcher.confirmed.account(0).balance == ONE - ONE // 4
    assert batcher.confirmed.account(1).balance == ONE + ONE // 4
    # it goes on building on the blob batches: its next batch is batch 2
    fund(bridge, alice, ONE)
    assert batcher.post_if_due(force=True) == 2


def test_recover_with_the_blobs_unavailable_refuses_to_start(
    chain, deployment, contracts, deployer, make_batcher, alice, bob, tmp_path
):
    bridge, rollup = contracts
    fund(bridge, alice, ONE)
    fund(bridge, bob, ONE)
    _post_blob_batches(chain, contracts, deployer, alice)
    down = _closed_port_url()
    settings = settings_for(chain, deployment, deployer, tmp_path / "b.sqlite", beacon_url=down)
    stuck = Batcher(settings)
    try:
        with pytest.raises(BlobsUnavailable) as err:
            stuck.recover()
    finally:
        stuck.store.close()
    text = str(err.value)
    assert "batch 0" in text and down in text and "unreachable" in text
    # once the endpoint is back (here: the default, the RPC URL), the same store recovers
    batcher = make_batcher()
    assert batcher.confirmed.root == bytes(rollup.head()[0])
