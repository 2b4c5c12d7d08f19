"""The batcher restarts from the checkpoint kept in its store (issue #10: a restart costs work
since the last checkpoint): only later batches are read from L1, the state equals a replay from
genesis, a fraud-proof rollback above the checkpoint keeps it, a reorg that removed it falls back
to an older one, and a withdrawal proof replays only from the checkpoint below its batch."""

import logging

from operator_helpers import BOND, fund
from operator_helpers import key_of as bls_key

from offchain.rollup import adversary
from offchain.rollup.checkpoint import Checkpoint
from offchain.rollup.codec import encode_batch
from offchain.rollup.l1 import RollupL1, Signer
from offchain.rollup.replay import replay
from offchain.rollup.wallet import sign_withdraw
from offchain.sequencer.optimistic import CHECKPOINT, Batcher
from offchain.sequencer.store import BatchStatus
from offchain.validator.service import ValidatorService

ONE = 10**18


def key_of(account) -> bytes:
    return bytes.fromhex(account.private_key.removeprefix("0x"))


def _post(batcher, bridge, user, n):
    for _ in range(n):
        fund(bridge, user, ONE // 10)
        assert batcher.post_if_due(force=True) is not None


def _spy_reads(monkeypatch):
    """Record the `start` of every read of batches from L1 (all RollupL1 instances)."""
    starts = []
    real = RollupL1.read_batches

    def spy(self, count=None, start=0, from_block=0):
        starts.append(start)
        return real(self, count, start, from_block)

    monkeypatch.setattr(RollupL1, "read_batches", spy)
    return starts


def _restart(batcher):
    """The same store and settings in a new process-like object (the old one closed)."""
    batcher.store.close()
    again = Batcher(batcher.settings)
    again.recover()
    return again


def _genesis_root(batcher):
    l1 = batcher.l1
    full = replay(l1.posted_batches(), l1.deposit_queue(), batcher.dst, l1.forced_queue())
    assert full.fraud is None
    return full.state.root, full.state.accounts


def _newest(batcher):
    return Checkpoint.from_bytes(batcher.store.load_checkpoint(CHECKPOINT))


def test_restart_reads_only_the_batches_after_the_stored_checkpoint(
    contracts, make_batcher, alice, monkeypatch
):
    bridge, _rollup = contracts
    batcher = make_batcher(checkpoint_every=2)
    _post(batcher, bridge, alice, 5)
    assert _newest(batcher).batches == 4  # every 2 posted batches
    fund(bridge, alice, ONE)  # queued, not consumed: the tail the restart must read again
    starts = _spy_reads(monkeypatch)
    again = _restart(batcher)
    assert starts == [4]  # batches 0..3 are not read again
    root, accounts = _genesis_root(again)
    assert again.confirmed.root == root and again.confirmed.accounts == accounts
    assert _newest(again).batches == 5  # the recovery checkpointed where it got to
    # only the unconsumed tail of the deposit queue is held, and it is the right one
    assert again._deposits.base == again.confirmed.deposit_end == 5
    assert [d.index for d in again._deposits.entries] == [5]
    assert again.post_if_due(force=True) == 5  # posts the queued deposit on the right state
    assert _genesis_root(again)[0] == again.confirmed.root
    assert again.confirmed.deposit_end == 6
    starts.clear()
    restarted = _restart(again)
    assert starts == [5] and restarted.confirmed.root == again.confirmed.root
    restarted.store.close()


def test_restart_after_a_fraud_proof_above_the_checkpoint_keeps_it(
    chain, contracts, make_batcher, accounts, alice, bob, carol, monkeypatch
):
    bridge, rollup = contracts
    fund(bridge, alice, 3 * ONE)
    fund(bridge, bob, ONE)
    batcher = make_batcher(checkpoint_every=1)
    assert batcher.post_if_due(force=True) == 0
    _post(batcher, bridge, alice, 1)
    assert _newest(batcher).batches == 2
    cheat = accounts[4]
    rollup.bond(value=BOND, sender=cheat)
    state = batcher.confirmed
    stolen = adversary.steal(state, batcher.dst, bls_key(bob), 0, 1, 2 * ONE)
    Signer(batcher.w3, key_of(cheat)).send(
        batcher.l1.rollup.functions.postBatch(state.root, encode_batch(stolen))
    )
    watcher = ValidatorService(chain.provider.uri, rollup.address, bridge.address, key_of(carol))
    assert watcher.check_once() is not None and rollup.batchCount() == 2  # rolled back
    starts = _spy_reads(monkeypatch)
    again = _restart(batcher)
    assert starts == [2]  # the rollback was above the checkpoint: still valid
    assert again.confirmed.root == _genesis_root(again)[0] == state.root
    _post(again, bridge, alice, 1)  # and it posts at the index the cheat's batch had
    assert rollup.batchCount() == 3 and _genesis_root(again)[0] == again.confirmed.root
    again.store.close()


def test_a_reorg_that_removed_the_newest_checkpoint_falls_back_to_an_older_one(
    contracts, make_batcher, alice, monkeypatch, caplog
):
    bridge, _rollup = contracts
    batcher = make_batcher(checkpoint_every=1, checkpoints_kept=3)
    _post(batcher, bridge, alice, 2)
    w3 = batcher.w3
    snap = w3.provider.make_request("evm_snapshot", [])["result"]
    _post(batcher, bridge, alice, 2)
    assert _newest(batcher).batches == 4
    assert w3.provider.make_request("evm_revert", [snap])["result"]  # batches 2 and 3 are gone
    starts = _spy_reads(monkeypatch)
    with caplog.at_level(logging.WARNING):
        again = _restart(batcher)
    assert starts == [2]  # checkpoints of 4 and 3 batches refused, the one of 2 is valid
    refused = [r.getMessage() for r in caplog.records if "refused" in r.getMessage()]
    assert len(refused) == 2 and all("no longer live" in m for m in refused)
    assert again.confirmed.root == _genesis_root(again)[0]
    assert again.store.batch_indexes(BatchStatus.POSTED) == [0, 1]  # 2 and 3 rolled back
    again.store.close()


def test_a_withdrawal_proof_replays_from_the_checkpoint_below_its_batch(
    contracts, make_batcher, alice, bob, monkeypatch
):
    bridge, _rollup = contracts
    fund(bridge, bob, 2 * ONE)
    batcher = make_batcher(checkpoint_every=1)
    _post(batcher, bridge, alice, 3)  # batches 0..2; checkpoints of 1, 2, 3 batches
    w = sign_withdraw(bls_key(bob), batcher.dst, 0, ONE, 0, 0)
    stored = batcher.submit(w, 0)
    assert batcher.post_if_due(force=True) == 3
    _post(batcher, bridge, alice, 1)  # batch 4 after it
    starts = _spy_reads(monkeypatch)
    claim = batcher.withdrawal_claim(stored.tx_hash)
    assert starts == [3] and claim.batch_index == 3  # batches 0..2 not replayed
    # the same claim as a replay from genesis gives
    l1 = batcher.l1
    full = replay(l1.posted_batches(), l1.deposit_queue(), batcher.dst, l1.forced_queue())
    (expected,) = [c for c in full.withdrawals if c.batch_index == 3]
    assert claim == expected
