"""Every way a batch can be wrong: a dishonest proposer posts it, the validator finds it from L1
data alone, its proof succeeds; rollback, slashing and challenger payout are checked."""

import ape
import pytest
from rollup_helpers import BOND, CHALLENGE_PERIOD, bounty_of

from offchain.rollup import adversary as adv
from offchain.rollup.adversary import FraudKind
from offchain.rollup.codec import encode_batch
from offchain.rollup.execute import Fault
from offchain.rollup.types import QueuedDeposit
from offchain.rollup.wallet import sign_transfer

CHEATER = 4
CHALLENGER = 9


def _setup(env):
    """Honest batch 0: accounts 0, 1, 2 owned by accounts[1..3] with 1 ETH each (their derived
    BLS keys registered, account 3's owner accounts[6] has none); a transfer."""
    env.bond(0)
    env.bond(CHEATER, 2 * BOND)  # one bond per batch it posts
    env.register(1, 2, 3)
    for i in (1, 2, 3, 6):
        env.deposit_eth(i, 10**18)
    op = env.operator()
    first = sign_transfer(env.bls(1), env.dst, 0, 1, 10**17, 0, 0)
    op.step([first])
    return op, first


def _fraud(env, kind, state, first):
    dst = env.dst
    if kind is FraudKind.WRONG_ROOT:
        return adv.wrong_root(state, [sign_transfer(env.bls(2), dst, 1, 2, 10**16, 0, 0)])
    if kind is FraudKind.BAD_SIGNATURE:
        return adv.steal(state, dst, env.bls(CHEATER), 0, 2, 10**17)
    if kind is FraudKind.BAD_AGGREGATE:
        return adv.bad_aggregate(state, [sign_transfer(env.bls(2), dst, 1, 2, 10**16, 0, 0)], dst)
    if kind is FraudKind.SWAPPED:
        txs = [
            sign_transfer(env.bls(2), dst, 1, 2, 10**16, 0, 0),
            sign_transfer(env.bls(2), dst, 1, 0, 2 * 10**16, 0, 1),
        ]
        return adv.swapped_recipients(state, txs)
    if kind is FraudKind.UNDECODABLE_SIGNATURE:
        return adv.undecodable_signature(state, [sign_transfer(env.bls(2), dst, 1, 2, 1, 0, 0)])
    if kind is FraudKind.NO_KEY:
        return adv.missing_key_signer(state, 3, 0, 10**16, dst)
    if kind is FraudKind.WRONG_NONCE:
        return adv.replay_nonce(state, first)
    if kind is FraudKind.OVERSPEND:
        return adv.overspend(state, dst, env.bls(1), 0, 1)
    if kind is FraudKind.NO_ACCOUNT:
        return adv.to_nowhere(state, dst, env.bls(1), 0, 77, 10**16)
    queue = env.l1.deposit_queue()
    if kind is FraudKind.DEPOSIT_SKIPPED:
        env.deposit_eth(5, 10**18)
        return adv.skip_deposit(state, 1)
    if kind is FraudKind.DEPOSIT_REORDERED:
        env.deposit_eth(5, 2 * 10**18)
        env.deposit_eth(7, 3 * 10**18)
        d = env.l1.deposit_queue()[len(queue) :]
        return adv.misapply_deposits(state, d, [d[1], d[0]])
    if kind is FraudKind.DEPOSIT_ALTERED:
        env.deposit_eth(5, 10**18)
        d = env.l1.deposit_queue()[len(queue) :]
        forged = QueuedDeposit(d[0].index, d[0].token, 10 * d[0].amount, d[0].owner)
        return adv.misapply_deposits(state, d, [forged])
    if kind is FraudKind.DEPOSIT_FOREIGN:
        env.deposit_eth(CHEATER, 10**18)
        d = env.l1.deposit_queue()[len(queue) :]
        return adv.deposit_into_foreign(state, d[0], 0)
    tx = sign_transfer(env.bls(2), dst, 1, 2, 10**16, 0, 0)
    return adv.malformed(state, [tx])


@pytest.mark.parametrize("kind", list(FraudKind), ids=lambda k: k.name)
def test_fraud_is_proven_and_slashed(env, project, kind):
    op, first = _setup(env)
    commitments = _fraud(env, kind, op.state, first)
    cheater = env.signer(CHEATER)
    cheater.send(env.l1.rollup.functions.postBatch(op.state.root, encode_batch(commitments)))
    # the cheater keeps building on its lie: that batch must go too
    last = commitments[-1]
    cheater.send(
        env.l1.rollup.functions.postBatch(
            last.post_root,
            encode_batch(adv.empty_on_top(last.post_root, last.deposit_end, last.forced_end)),
        )
    )
    assert env.rollup.batchCount() == 3

    result, receipt = env.validator(CHALLENGER).challenge()
    fraud = result.fraud
    assert fraud is not None
    assert (fraud.batch_index, fraud.commitment_index, fraud.fault) == (1, 0, kind.fault)
    assert receipt["gasUsed"] < 3_000_000
    assert fraud.is_signature_fraud == kind.signature_dispute

    logs = env.l1.rollup.events.FraudProven().process_receipt(receipt)
    assert logs[0]["args"]["fault"] == kind.fault.value
    assert logs[0]["args"]["challenger"] == env.accounts[CHALLENGER].address
    assert env.rollup.batchCount() == 1  # the fraudulent batch and the one on top are gone
    assert env.rollup.head()[0] == op.state.root
    # the fraudulent batch's bond is slashed; the one on top is released, not slashed
    share = BOND * env.rollup.CHALLENGER_SHARE_BPS() // 10_000
    assert env.rollup.lockedBondOf(env.accounts[CHEATER]) == BOND
    env.rollup.releaseBond(2, sender=env.accounts[CHALLENGER])
    assert env.rollup.bondOf(env.accounts[CHEATER]) == BOND
    assert env.rollup.lockedBondOf(env.accounts[CHEATER]) == 0
    assert env.rollup.burned() == BOND - share
    # the validator committed before revealing: the bounty is its own, paid after the window
    bounty = env.rollup.bounties(bounty_of(env, receipt))
    assert bounty.recipient == env.accounts[CHALLENGER].address and bounty.amount == share
    env.advance(CHALLENGE_PERIOD)
    env.rollup.settleBounty(bounty_of(env, receipt), sender=env.accounts[8])
    assert env.rollup.rewardOf(env.accounts[CHALLENGER]) == share
    if kind is FraudKind.WRONG_ROOT:  # a destination refusing ETH: the reward stays credited
        rejecter = env.accounts[0].deploy(project.EthRejecter)
        with ape.reverts(env.rollup.EthTransferFailed):
            env.rollup.claimReward(rejecter, sender=env.accounts[CHALLENGER])
    before = env.accounts[8].balance
    env.rollup.claimReward(env.accounts[8], sender=env.accounts[CHALLENGER])
    assert env.accounts[8].balance == before + share

    # after the rollback the honest operator goes on and the validator finds nothing
    op.step([sign_transfer(env.bls(2), env.dst, 1, 0, 10**16, 0, 0)])
    again, none = env.validator(CHALLENGER).challenge()
    assert again.fraud is None and none is None
    assert again.state.root == op.state.root


def test_fault_codes_match_contract_enum(env):
    assert [f.value for f in Fault] == list(range(len(Fault)))
    assert Fault.NONCE_EXHAUSTED.value == 10
