# SPDX-License-Identifier: GPL-3.0-or-later
"""The zk batcher against L1 it did not write: batches posted by someone else (any prover can
post: the proving key of a ceremony is public), directly or through a contract, and restarts
while its own batch transaction is still pending. In every case the operator reads what L1
accepted, replays it from the public data, and keeps posting from L1's root, batch index and
deposit cursor; nothing acknowledged is lost or posted twice."""

from __future__ import annotations

import threading

import pytest
from eth_account import Account
from eth_utils import keccak
from zk_helpers import ALICE_KEY, BOB_KEY, FIXED_GAS, MALLORY_KEY, PARAMS, deploy_system

from offchain.l1.sender import SendError, SendPolicy
from offchain.sequencer.store import BatchStatus, TxStatus
from offchain.zk.batch import build_batch
from offchain.zk.chain import read_deposits, submit_args, submit_calldata
from offchain.zk.prover import prove_checked
from offchain.zk.sequencer_backend import ZkBatcher, encode_tx
from offchain.zk.txs import TxKind, recipient_bytes, sign_tx

pytestmark = pytest.mark.slow  # proves several zk batches across restarts

E17 = 10**17


@pytest.fixture
def system(project, deployer, chain, alice, bob, rollup_keys, exit_keys):
    zk = deploy_system(project, deployer, chain, PARAMS, rollup_keys, exit_keys, 3600, 3600)
    bridge, rollup = zk.bridge, zk.rollup
    bridge.depositETH(recipient_bytes(ALICE_KEY.public_key), sender=alice, value=10 * E17)
    bridge.depositETH(recipient_bytes(BOB_KEY.public_key), sender=bob, value=5 * E17)
    return bridge, rollup


@pytest.fixture
def make(system, chain, deployer, prover, tmp_path):
    bridge, rollup = system
    made = []

    def make(policy=None):
        b = ZkBatcher(
            chain.provider.web3,
            Account.from_key(deployer.private_key),
            rollup.address,
            bridge.address,
            PARAMS,
            prover,
            tmp_path / "zk.sqlite",
            tmp_path / "zk-state.json",
            max_batch_delay=3600,
            policy=policy or SendPolicy(receipt_timeout=10, backoff=0.05, max_backoff=0.2),
        )
        b.recover()
        made.append(b)
        return b

    yield make
    for b in made:
        b.store.close()


def _foreign(prover, state, chain_id, rollup, deposits, txs):
    """A second prover with the same public keys builds and proves its own batch."""
    batch = build_batch(PARAMS, state, chain_id, int(rollup.address, 16), deposits, txs)
    return batch, prove_checked(prover, batch.inputs, batch.public_inputs)


def _status(batcher, tx):
    return batcher.store.tx(keccak(encode_tx(tx)))


def test_zk_recovery_foreign_batch_replayed_direct_and_through_contract(
    project, system, make, chain, deployer, carol, prover
):
    bridge, rollup = system
    op = make()
    assert op.post_if_due(force=True) == 0  # deposits 0 and 1: Alice leaf 0, Bob leaf 1
    dom = op.domain
    # Acknowledged by the operator, not yet posted:
    mine_alice = sign_tx(ALICE_KEY, dom, TxKind.TRANSFER, 0, 1, 1 * E17, 0)  # nonce 0 of leaf 0
    mine_bob = sign_tx(BOB_KEY, dom, TxKind.TRANSFER, 1, 0, E17 // 2, 0)
    op.submit(mine_alice)
    op.submit(mine_bob)

    # Someone else posts two batches: Alice's *other* nonce-0 transfer plus a new deposit
    # (direct call), then Mallory's withdrawal through a relaying contract that also makes a
    # failing submitBatch call first.
    bridge.depositETH(recipient_bytes(MALLORY_KEY.public_key), sender=carol, value=3 * E17)
    theirs = sign_tx(ALICE_KEY, dom, TxKind.TRANSFER, 0, 1, 2 * E17, 0)
    deposits = read_deposits(chain.provider.web3, bridge.address, 2, 1)
    b1, p1 = _foreign(prover, op.confirmed, chain.chain_id, rollup, deposits, (theirs,))
    rollup.submitBatch(*submit_args(b1, p1), sender=carol, gas=FIXED_GAS)
    out = sign_tx(MALLORY_KEY, dom, TxKind.WITHDRAW, 2, int(carol.address, 16), E17, 0)
    b2, p2 = _foreign(prover, b1.new_state, chain.chain_id, rollup, (), (out,))
    relay = deployer.deploy(project.RelayMulticall)
    bad = submit_calldata(b2, p1)  # a wrong proof: this call reverts inside the relay
    relay.forwardAll(rollup, [bad, submit_calldata(b2, p2)], sender=carol, gas=FIXED_GAS)
    assert rollup.batchCount() == 3

    # The operator notices, replays both from L1 data, drops its conflicting Alice tx with the
    # reason, and posts Bob's at batch index 3 on top of L1's root.
    assert op.post_if_due(force=True) == 3
    assert rollup.stateRoot() == op.confirmed.root
    assert op.confirmed.deposits_done == 3 == rollup.depositsProcessed()
    dropped = _status(op, mine_alice)
    assert dropped.status is TxStatus.DROPPED and "nonce" in dropped.note
    assert _status(op, mine_bob).status is TxStatus.FINAL
    assert op.confirmed.account(2).balance == 2 * E17  # Mallory's deposit minus her withdrawal
    assert op.confirmed.account(0).nonce == 1 and op.confirmed.account(1).nonce == 1

    again = make()  # and a restart starts cleanly from the saved state
    assert again.confirmed.root == rollup.stateRoot()
    nxt = sign_tx(ALICE_KEY, dom, TxKind.TRANSFER, 0, 1, E17, 1)
    again.submit(nxt)
    assert again.post_if_due(force=True) == 4
    assert rollup.stateRoot() == again.confirmed.root


def test_zk_recovery_foreign_batch_overtakes_our_recorded_intent(
    system, make, chain, carol, prover
):
    _bridge, rollup = system
    op = make()
    assert op.post_if_due(force=True) == 0
    dom = op.domain
    mine = sign_tx(BOB_KEY, dom, TxKind.TRANSFER, 1, 0, E17, 0)
    op.submit(mine)
    op._send = lambda intent: None  # crash right after the intent is recorded, before sending
    op.post_if_due(force=True)
    assert op.store.batches(BatchStatus.INTENT)
    op.store.close()

    # Meanwhile another prover posts batch 1 with Bob's same transaction and one more.
    extra = sign_tx(ALICE_KEY, dom, TxKind.WITHDRAW, 0, int(carol.address, 16), E17, 0)
    state = make().confirmed  # what L1 shows after batch 0 (read by a fresh operator)
    b1, p1 = _foreign(prover, state, chain.chain_id, rollup, (), (mine, extra))
    rollup.submitBatch(*submit_args(b1, p1), sender=carol, gas=FIXED_GAS)

    op = make()  # restart: the intent at index 1 was overtaken, its tx is already on L1
    assert not op.store.batches(BatchStatus.INTENT)
    landed = _status(op, mine)  # executed on L1 by the other batch, and said so
    assert landed.status is TxStatus.DROPPED and "executed on L1 in batch 1" in landed.note
    assert op.confirmed.root == rollup.stateRoot() and op.confirmed.batches_done == 2
    follow = sign_tx(BOB_KEY, dom, TxKind.TRANSFER, 1, 0, E17, 1)
    op.submit(follow)
    assert op.post_if_due(force=True) == 2
    assert rollup.stateRoot() == op.confirmed.root


def _automine(w3, on: bool) -> None:
    w3.provider.make_request("evm_setAutomine", [on])


@pytest.mark.parametrize("outcome", ["mined_before_restart", "still_pending_at_resend"])
def test_zk_crash_restart_while_batch_tx_pending(system, make, chain, deployer, outcome):
    _bridge, rollup = system
    w3 = chain.provider.web3
    op = make()
    assert op.post_if_due(force=True) == 0
    dom = op.domain
    acked = [
        sign_tx(ALICE_KEY, dom, TxKind.TRANSFER, 0, 1, E17, 0),
        sign_tx(BOB_KEY, dom, TxKind.TRANSFER, 1, 0, E17, 0),
    ]
    for tx in acked:
        op.submit(tx)
    nonce_before = w3.eth.get_transaction_count(deployer.address)
    _automine(w3, False)
    try:
        # The batch transaction reaches the mempool, then the process is gone.
        op.policy = SendPolicy(max_attempts=1, receipt_timeout=1)
        with pytest.raises(SendError):
            op.post_if_due(force=True)
        op.store.close()
        assert w3.eth.get_transaction_count(deployer.address, "pending") == nonce_before + 1

        restarted = make()  # restart before it is mined: the intent and `.next` are kept
        assert restarted.store.batches(BatchStatus.INTENT)
        assert restarted.next_path.exists()
        assert {_status(restarted, t).status for t in acked} == {TxStatus.BATCHED}
        if outcome == "mined_before_restart":
            w3.provider.make_request("evm_mine", [])
            restarted.store.close()
            restarted = make()  # L1 shows the batch: its post-state is adopted
        else:
            # Still in the mempool when the restarted batcher resends: it resends with the
            # recorded nonce (same or replacement version), and a block mines exactly one.
            restarted.policy = SendPolicy(
                max_attempts=4, receipt_timeout=3, backoff=0.05, max_backoff=0.2
            )
            miner = threading.Timer(1.0, lambda: w3.provider.make_request("evm_mine", []))
            miner.start()
            assert restarted.post_if_due() == 1
            miner.join()
    finally:
        _automine(w3, True)
    assert rollup.batchCount() == 2
    # One transaction with the recorded nonce landed; no second batch transaction exists.
    assert w3.eth.get_transaction_count(deployer.address) == nonce_before + 1
    assert restarted.confirmed.root == rollup.stateRoot()
    assert {_status(restarted, t).status for t in acked} == {TxStatus.FINAL}
    assert {_status(restarted, t).batch_index for t in acked} == {1}
    assert restarted.store.batch(1).status is BatchStatus.FINAL
    restarted.store.close()
    clean = make()  # another restart starts cleanly
    assert clean.confirmed.root == rollup.stateRoot() and not clean.next_path.exists()
    assert not clean.store.batches(BatchStatus.INTENT)


def _revert_data(w3, tx) -> bytes:
    try:
        w3.eth.call(tx)
    except Exception as exc:  # web3 raises the custom error with its data
        data = getattr(exc, "data", None) or (exc.args[1] if len(exc.args) > 1 else "")
        return bytes.fromhex(str(data).removeprefix("0x")) if data else b""
    return b"accepted"


def test_zk_noncanonical_submission_class_is_refused_on_chain(system, make, chain, carol, prover):
    """A valid batch whose calldata is re-encoded (dirty padding, cut padding, trailing bytes)
    would stop every strict reader of L1 (the operator, an exit tool): the rollup refuses every
    encoding but the canonical one, so what it accepts is what they read."""
    bridge, rollup = system
    op = make()
    w3 = chain.provider.web3
    deposits = read_deposits(w3, bridge.address, 0, 2)
    batch, proof = _foreign(prover, op.confirmed, chain.chain_id, rollup, deposits, ())
    canonical = submit_calldata(batch, proof)
    pad = (32 - len(batch.tx_data) % 32) % 32  # txData is the last dynamic argument
    variants = {"trailing bytes": canonical + bytes(32)}
    if pad:
        variants["dirty padding"] = canonical[:-1] + b"\x01"
        variants["cut padding"] = canonical[:-pad]
    want = keccak(text="NonCanonicalCalldata()")[:4]
    base = {"from": carol.address, "to": rollup.address, "gas": FIXED_GAS}
    for name, data in variants.items():
        assert _revert_data(w3, {**base, "data": "0x" + data.hex()})[:4] == want, name
    assert _revert_data(w3, {**base, "data": "0x" + canonical.hex()}) == b"accepted"
    # the operator, meanwhile, posts as usual (batch 0)
    assert op.post_if_due(force=True) == 0
    assert rollup.stateRoot() == op.confirmed.root
