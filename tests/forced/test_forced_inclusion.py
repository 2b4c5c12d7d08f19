"""Forced inclusion on Anvil: the queue, the honest batcher honouring it, invalid forced txs
skipped without fraud, every mishandling proven fraudulent, forced withdrawals paid."""

import ape
import pytest
from forced_helpers import BOND, CHALLENGE, CHALLENGER, CHEATER, FORCED_DELAY, Env
from web3.logs import DISCARD

from offchain.l1.sender import SendPolicy
from offchain.rollup import adversary as adv
from offchain.rollup.adversary import ForcedFraudKind
from offchain.rollup.codec import encode_batch, encode_tx
from offchain.rollup.exit import FreezeReason, freeze_status
from offchain.rollup.hashing import keccak
from offchain.rollup.replay import replay
from offchain.rollup.types import Commitment
from offchain.rollup.wallet import sign_transfer, sign_withdraw
from offchain.sequencer.optimistic import Batcher, BatcherSettings


def _funded(env: Env, users=(1, 2, 3)):
    """Batch 0 (honest): accounts 0.. owned by `users`, 1 ETH each."""
    env.bond(0)
    for i in users:
        env.deposit_eth(i, 10**18)
    op = env.operator()
    op.step([])
    return op


def test_force_transaction_queue(env: Env, accounts):
    t = sign_transfer(env.key(1), env.separator, 0, 1, 10**17, 0, 0)
    w = sign_withdraw(env.key(2), env.separator, 1, 10**16, 0, 0)
    for bad in (b"", encode_tx(t)[:-1], encode_tx(w) + b"\x00", b"\x01\x00\x00\x01", b"\x04\x01"):
        with ape.reverts(env.rollup.BadForcedTx):
            env.rollup.forceTransaction(bad, sender=accounts[5])
    receipt = env.rollup.forceTransaction(encode_tx(t), sender=accounts[5])
    env.rollup.forceTransaction(encode_tx(w), sender=accounts[6])
    ev = receipt.events[0]
    assert (ev.index, ev.sender, bytes(ev.l2tx)) == (0, 0, encode_tx(t))
    acc1 = keccak(b"\x00" * 32 + encode_tx(t))
    assert bytes(ev.accumulator) == acc1 == env.rollup.forcedAccAt(1)
    assert env.rollup.forcedAccAt(2) == keccak(acc1 + encode_tx(w))
    assert env.rollup.forcedAccAt(0) == b"\x00" * 32
    with ape.reverts(env.rollup.ForcedNotQueued):
        env.rollup.forcedAccAt(3)
    assert env.rollup.forcedCount() == 2
    q = env.l1.forced_queue()
    assert [(f.index, f.data) for f in q] == [(0, encode_tx(t)), (1, encode_tx(w))]


def test_batcher_honours_forced_tx_within_deadline(env: Env, tmp_path):
    _funded(env)
    b = Batcher(
        BatcherSettings(
            rpc="",
            rollup=env.rollup.address,
            bridge=env.bridge.address,
            proposer_key=env.key(0),
            store_path=tmp_path / "b.sqlite",
            max_batch_delay=3600,
            send_policy=SendPolicy(receipt_timeout=5, backoff=0.05, max_backoff=0.2),
        ),
        w3=env.w3,
    )
    try:
        b.recover()
        # a pending user tx that the forced tx (same nonce) will invalidate, and one after it
        first = sign_transfer(env.key(1), env.separator, 0, 1, 5, 0, 0)
        b.submit(first, 0)
        assert b.post_if_due() is None  # nothing due yet
        forced = sign_transfer(env.key(1), env.separator, 0, 2, 10**17, 0, 0)
        env.force(1, forced)
        # forced tx queued: a batch is due at once; the stale user tx is dropped first
        assert b.post_if_due() == 1
        assert env.rollup.head()[2] == 1
        assert b.pending.account(0).nonce == 1 and b.pending.forced_end == 1
        assert [t.status.value for t in b.store.txs()] == ["dropped"]
        # the user's next tx validates against the pending state (nonce after the forced tx)
        b.submit(sign_transfer(env.key(1), env.separator, 0, 1, 7, 0, 1), 1)
        assert b.post_if_due(force=True) == 2
    finally:
        b.stop()
    result = env.validator().check()
    assert result.fraud is None and result.batches_ok == 3
    assert result.state.account(0).balance == 10**18 - 10**17 - 7
    assert result.state.account(2).balance == 10**18 + 10**17
    env.advance(FORCED_DELAY + 1)
    assert freeze_status(env.l1).reason is FreezeReason.NONE
    with ape.reverts(env.rollup.NotFreezable):
        env.rollup.freeze(sender=env.accounts[5])


@pytest.mark.slow  # batches past the forced deadline
def test_invalid_forced_txs_are_skipped_not_fraud(env: Env, accounts):
    op = _funded(env)
    sep = env.separator
    env.force(5, sign_transfer(env.key(5), sep, 0, 1, 10**17, 0, 0))  # bad signature
    env.force(1, sign_transfer(env.key(1), sep, 0, 1, 5 * 10**18, 0, 0))  # overspend
    env.force(2, sign_transfer(env.key(2), sep, 1, 0, 10**17, 0, 0))  # valid
    batch, new_state = op.build([])
    assert batch.commitments[0].commitment.tx_data == b"\x04\x00\x04\x00\x04\x01"
    op.post(batch, new_state)
    result = env.validator().check()
    assert result.fraud is None
    assert result.state.account(0).balance == 10**18 + 10**17
    # the honest batch cannot be disputed
    queue, forced = env.l1.deposit_queue(), env.l1.forced_queue()
    batches = env.l1.posted_batches()
    pre = replay(batches[:1], queue, sep, forced).state
    from offchain.rollup.codec import decode_batch
    from offchain.rollup.execute import execute
    from offchain.rollup.proofs import fraud_proof

    cs = decode_batch(batches[1].data)
    frc = tuple(forced[0:3])
    ex = execute(pre, cs[0].tx_data, 0, (), sep, frc)
    args = list(fraud_proof(1, cs, 0, (), ex, frc).as_abi())
    with ape.reverts(env.rollup.NotFraudulent):
        env.rollup.proveFraud(args, sender=accounts[CHALLENGER])
    wrong = list(args)
    wrong[11] = [args[11][1], args[11][0], args[11][2]]
    with ape.reverts(env.rollup.ForcedEvidenceMismatch):
        env.rollup.proveFraud(wrong, sender=accounts[CHALLENGER])
    fewer = list(args)
    fewer[11] = args[11][:2]
    with ape.reverts(env.rollup.ForcedEvidenceMismatch):
        env.rollup.proveFraud(fewer, sender=accounts[CHALLENGER])


def _cheat(env: Env, kind: ForcedFraudKind, state):
    sep = env.separator
    t1 = sign_transfer(env.key(1), sep, 0, 1, 10**17, 0, 0)
    t2 = sign_transfer(env.key(2), sep, 1, 0, 105 * 10**16, 0, 0)  # needs t1 first
    env.force(1, t1)
    env.force(2, t2)
    forced = env.l1.forced_queue()
    if kind is ForcedFraudKind.SKIPPED:
        return adv.skip_forced(state, forced)
    if kind is ForcedFraudKind.OUTCOME_FLIPPED:
        return adv.flip_forced_outcome(state, forced, sep)
    if kind is ForcedFraudKind.REORDERED:
        return adv.misapply_forced(state, forced, [forced[1].data, forced[0].data], sep)
    altered = sign_transfer(env.key(1), sep, 0, 1, 2 * 10**17, 0, 0)  # t2 stays valid
    return adv.misapply_forced(state, forced, [encode_tx(altered), forced[1].data], sep)


@pytest.mark.parametrize("kind", list(ForcedFraudKind), ids=lambda k: k.name)
def test_forced_mishandling_is_proven(env: Env, accounts, kind):
    op = _funded(env)
    env.bond(CHEATER)
    cs = _cheat(env, kind, op.state)
    env.signer(CHEATER).send(
        env.l1.rollup.functions.postBatch(op.state.root, encode_batch(cs)), gas=1_000_000
    )
    result, receipt = env.validator().challenge()
    assert result.fraud is not None and result.fraud.fault == kind.fault
    assert receipt is not None
    logs = env.l1.rollup.events.FraudProven().process_receipt(receipt, errors=DISCARD)
    assert logs[0]["args"]["fault"] == kind.fault.value
    assert env.rollup.batchCount() == 1
    bounty = env.l1.rollup.events.BountyOpened().process_receipt(receipt, errors=DISCARD)[0]
    assert bounty["args"]["recipient"] == accounts[CHALLENGER].address
    assert bounty["args"]["amount"] == BOND * env.rollup.CHALLENGER_SHARE_BPS() // 10_000


def test_post_checks_forced_ranges(env: Env, accounts):
    op = _funded(env)
    env.bond(0)  # batch 0 holds the first bond: a free one for the next posting
    root = op.state.root
    with ape.reverts(env.rollup.ForcedNotQueued):
        env.rollup.postBatch(
            root, encode_batch([Commitment(root, 3, 0, b"", 1)]), sender=accounts[0]
        )
    for _ in range(33):
        env.force(5, sign_transfer(env.key(5), env.separator, 0, 1, 1, 0, 0))
    jump = encode_batch([Commitment(root, 3, 0, b"", 33)])
    with ape.reverts(env.rollup.BadForcedRange):
        env.rollup.postBatch(root, jump, sender=accounts[0])
    back = encode_batch([Commitment(root, 3, 0, b"", 2), Commitment(root, 3, 0, b"", 1)])
    with ape.reverts(env.rollup.BadForcedRange):
        env.rollup.postBatch(root, back, sender=accounts[0])


def test_forced_withdraw_is_paid_once_final(env: Env, accounts):
    op = _funded(env)
    sep = env.separator
    env.force(2, sign_withdraw(env.key(2), sep, 1, 4 * 10**17, 5, 0))
    env.force(3, sign_withdraw(env.key(3), sep, 2, 9 * 10**18, 0, 0))  # overspend: skipped
    op.step([sign_withdraw(env.key(1), sep, 0, 10**17, 0, 0)])  # plus a normal withdraw
    result = env.validator().check()
    claims = [c for c in result.withdrawals if c.batch_index == 1]
    assert [bool(c.forced_tx) for c in claims] == [True, False]
    assert [c.amount for c in claims] == [4 * 10**17, 10**17]
    args = list(claims[0].as_abi())
    normal = list(claims[1].as_abi())
    assert normal[7] == 2 and normal[11] == b""
    with ape.reverts(env.rollup.BatchNotFinal):
        env.rollup.finalizeWithdrawal(args, sender=accounts[7])
    env.advance(CHALLENGE)
    skipped = list(args)
    skipped[7] = 1  # the skipped slot pays nothing
    with ape.reverts(env.rollup.NotAWithdrawal):
        env.rollup.finalizeWithdrawal(skipped, sender=accounts[7])
    other = list(args)
    other[11] = env.l1.forced_queue()[1].data
    with ape.reverts(env.rollup.NotAWithdrawal):
        env.rollup.finalizeWithdrawal(other, sender=accounts[7])
    normal_with_forced = list(normal)
    normal_with_forced[11] = args[11]  # a normal withdraw slot never takes a forced tx
    with ape.reverts(env.rollup.NotAWithdrawal):
        env.rollup.finalizeWithdrawal(normal_with_forced, sender=accounts[7])
    env.rollup.finalizeWithdrawal(args, sender=accounts[7])
    env.rollup.finalizeWithdrawal(normal, sender=accounts[7])
    assert env.eth_claimable(2) == 4 * 10**17  # the signed fee is not charged
    assert env.eth_claimable(1) == 10**17
    with ape.reverts(env.bridge.AlreadyReleased):
        env.rollup.finalizeWithdrawal(args, sender=accounts[7])
