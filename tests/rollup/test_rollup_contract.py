"""Rollup contract: bonds, posting, finality, and every revert path of posting and proofs."""

import ape
import pytest
from rollup_helpers import BOND, CHALLENGE_PERIOD, assert_reverts

from offchain.rollup import adversary as adv
from offchain.rollup.codec import encode_batch
from offchain.rollup.hashing import keccak
from offchain.rollup.merkle import EMPTY_ROOT
from offchain.rollup.replay import replay
from offchain.rollup.types import Commitment, DepositTx
from offchain.rollup.wallet import sign_transfer, sign_withdraw

ZERO32 = b"\x00" * 32


def _reverts(env, fn, error, account):
    assert_reverts(env.l1.rollup, fn, error, account.address)


def _honest(env, txs_after=True):
    env.bond(0)
    env.register(1, 2)
    for i in (1, 2):
        env.deposit_eth(i, 10**18)
    op = env.operator()
    op.step([])
    if txs_after:
        op.step([sign_transfer(env.bls(1), env.dst, 0, 1, 10**17, 0, 0)])
    return op


def _honest_proof(env):
    """The fraud proof a challenger would build against the (honest) last batch."""
    batches = env.l1.posted_batches()
    queue = env.l1.deposit_queue()
    pre = replay(batches[:-1], queue, env.dst).state
    from offchain.rollup.codec import decode_batch
    from offchain.rollup.execute import execute
    from offchain.rollup.proofs import fraud_proof

    cs = decode_batch(batches[-1].data, pre.deposit_end, pre.forced_end)
    c = cs[0]
    deps = tuple(queue[pre.deposit_end : c.deposit_end])
    ex = execute(pre, c, deps)
    return fraud_proof(len(batches) - 1, cs, 0, deps, ex)


def test_constructor_rejects_bad_parameters(project, deployer):
    bridge = deployer.deploy(project.L1Bridge, b"\x01")
    reg = deployer.deploy(project.BLSKeyRegistry, 3)
    zero = "0x" + "00" * 20
    bad = (
        (bridge, 0, 1, 1, 1, reg),
        (bridge, 1, 0, 1, 1, reg),
        (bridge, 1, 1, 0, 1, reg),
        (bridge, 1, 1, 1, 0, reg),
        (zero, 1, 1, 1, 1, reg),
        (bridge, 1, 1, 1, 1, zero),
    )
    for args in bad:
        with ape.reverts(project.Rollup.BadParameter):
            deployer.deploy(project.Rollup, *args)


def test_genesis_and_views(env):
    assert env.rollup.genesisRoot() == EMPTY_ROOT
    assert env.rollup.head() == (EMPTY_ROOT, 0, 0)
    assert env.rollup.lastFinalizedRoot() == EMPTY_ROOT
    assert env.rollup.finalizedCount() == 0
    with ape.reverts(env.rollup.UnknownBatch):
        env.rollup.batches(0)
    c = Commitment(ZERO32, 1, 5, 2)
    expected = keccak(ZERO32 + (1).to_bytes(4, "big") + (5).to_bytes(4, "big") + keccak(c.rest()))
    assert env.rollup.commitmentHash(ZERO32, 1, 5, keccak(c.rest())) == expected == c.hash()


def test_bond_and_withdraw_bond(env, accounts):
    with ape.reverts(env.rollup.ZeroValue):
        env.rollup.bond(sender=accounts[0], value=0)
    env.rollup.bond(sender=accounts[0], value=BOND)
    with ape.reverts(env.rollup.ZeroDestination):
        env.rollup.withdrawBond(1, "0x" + "00" * 20, sender=accounts[0])
    with ape.reverts(env.rollup.NothingToWithdraw):
        env.rollup.withdrawBond(BOND + 1, accounts[0], sender=accounts[0])
    with ape.reverts(env.rollup.NothingToWithdraw):
        env.rollup.withdrawBond(0, accounts[0], sender=accounts[0])
    env.rollup.withdrawBond(BOND, accounts[0], sender=accounts[0])
    assert env.rollup.bondOf(accounts[0]) == 0


def test_bond_locked_until_last_batch_final(env, accounts, project):
    _honest(env)
    with ape.reverts(env.rollup.BondLocked):
        env.rollup.withdrawBond(1, accounts[0], sender=accounts[0])
    env.advance(CHALLENGE_PERIOD)
    rejecter = accounts[0].deploy(project.EthRejecter)
    with ape.reverts(env.rollup.EthTransferFailed):
        env.rollup.withdrawBond(1, rejecter, sender=accounts[0])
    env.rollup.withdrawBond(BOND, accounts[0], sender=accounts[0])


def test_post_requires_bond_and_expected_root(env, accounts):
    data = encode_batch([Commitment(EMPTY_ROOT, 0, 0, 0)])
    _reverts(
        env, env.l1.rollup.functions.postBatch(EMPTY_ROOT, data), "InsufficientBond", accounts[0]
    )
    env.bond(0)
    _reverts(env, env.l1.rollup.functions.postBatch(ZERO32, data), "UnexpectedPreRoot", accounts[0])
    tx = env.rollup.postBatch(EMPTY_ROOT, data, sender=accounts[0])
    ev = tx.events[0]
    assert ev.index == 0 and ev.postRoot == EMPTY_ROOT and ev.commitments == 1


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"\x00" * 40,
        EMPTY_ROOT + bytes([0, 33, 0, 0]) + b"\x00" * 3 + b"\x00" * (48 + 33 * 12),
        EMPTY_ROOT + bytes([0, 0, 0, 2]) + b"\x00" * 3 + b"\x01",
        EMPTY_ROOT + bytes([0, 1, 0, 0]) + b"\x00" * 3 + b"\x00" * 48 + b"\x00" * 13,
        encode_batch([Commitment(EMPTY_ROOT, 0, 0, 0)] * 64) + EMPTY_ROOT + b"\x00" * 7,
    ],
    ids=["empty", "short-header", "counts-over-32", "past-end", "trailing", "65-commitments"],
)
def test_post_rejects_malformed_batches(env, accounts, data):
    env.bond(0)
    _reverts(
        env, env.l1.rollup.functions.postBatch(EMPTY_ROOT, data), "MalformedBatch", accounts[0]
    )


def test_post_rejects_bad_deposit_ranges(env, accounts):
    env.bond(0)
    for _ in range(34):
        env.deposit_eth(1, 10**15)

    def deps(n: int, end: int) -> Commitment:
        return Commitment(EMPTY_ROOT, end, 0, 0, deposits=[DepositTx(i) for i in range(n)])

    unqueued = encode_batch([deps(32, 32), deps(3, 35)])
    _reverts(
        env,
        env.l1.rollup.functions.postBatch(EMPTY_ROOT, unqueued),
        "DepositsNotQueued",
        accounts[0],
    )


def test_honest_batch_cannot_be_knocked_out(env, accounts):
    _honest(env)
    proof = _honest_proof(env)
    args = list(proof.as_abi())
    _reverts(env, env.l1.rollup.functions.proveFraud(args), "NotFraudulent", accounts[9])
    # forged evidence proves nothing either
    w = bytearray(args[9])
    w[100] ^= 1
    _reverts(
        env,
        env.l1.rollup.functions.proveFraud([*args[:9], bytes(w), *args[10:]]),
        "BadWitness",
        accounts[9],
    )
    _reverts(
        env,
        env.l1.rollup.functions.proveFraud([*args[:9], args[9][:-1], *args[10:]]),
        "MissingWitness",
        accounts[9],
    )
    bad_hashes = list(args)
    bad_hashes[1] = [keccak(b"x")]
    _reverts(env, env.l1.rollup.functions.proveFraud(bad_hashes), "BatchHashMismatch", accounts[9])
    bad_index = list(args)
    bad_index[2] = 1
    _reverts(env, env.l1.rollup.functions.proveFraud(bad_index), "CommitmentMismatch", accounts[9])
    bad_root = list(args)
    bad_root[4] = keccak(b"other")
    _reverts(env, env.l1.rollup.functions.proveFraud(bad_root), "CommitmentMismatch", accounts[9])
    bad_batch = list(args)
    bad_batch[0] = 7
    _reverts(env, env.l1.rollup.functions.proveFraud(bad_batch), "UnknownBatch", accounts[9])
    env.advance(CHALLENGE_PERIOD)
    _reverts(env, env.l1.rollup.functions.proveFraud(args), "BatchFinal", accounts[9])
    assert env.rollup.batchCount() == 2


def test_deposit_evidence_must_match_the_queue(env, accounts):
    _honest(env, txs_after=False)
    proof = _honest_proof(env)
    args = list(proof.as_abi())
    assert len(args[8]) == 2
    fewer = list(args)
    fewer[8] = args[8][:1]
    _reverts(env, env.l1.rollup.functions.proveFraud(fewer), "DepositEvidenceMismatch", accounts[9])
    altered = list(args)
    altered[8] = [args[8][0], (args[8][1][0], args[8][1][1] + 1, args[8][1][2])]
    _reverts(
        env, env.l1.rollup.functions.proveFraud(altered), "DepositEvidenceMismatch", accounts[9]
    )
    swapped = list(args)
    swapped[8] = [args[8][1], args[8][0]]
    _reverts(
        env, env.l1.rollup.functions.proveFraud(swapped), "DepositEvidenceMismatch", accounts[9]
    )
    _reverts(env, env.l1.rollup.functions.proveFraud(args), "NotFraudulent", accounts[9])


def test_non_canonical_empty_leaf_is_rejected(env, accounts):
    _honest(env, txs_after=False)
    args = list(_honest_proof(env).as_abi())
    w = bytearray(args[9])
    w[20:40] = b"\x11" * 20  # first access is an empty leaf: give it a token
    _reverts(
        env,
        env.l1.rollup.functions.proveFraud([*args[:9], bytes(w), *args[10:]]),
        "NonCanonicalEmptyLeaf",
        accounts[9],
    )


def test_prev_commitment_must_match(env, accounts):
    env.bond(0)
    env.bond(4)
    for i in (1, 2):
        env.deposit_eth(i, 10**18)
    op = env.operator()
    op.step([])
    env.register(1)
    good = Commitment(op.state.root, op.state.deposit_end, op.state.forced_end, 0)
    bad = adv.wrong_root(op.state, [sign_transfer(env.bls(1), env.dst, 0, 1, 1, 0, 0)])
    env.signer(4).send(env.l1.rollup.functions.postBatch(op.state.root, encode_batch([good, *bad])))
    result = env.validator().check()
    assert (result.fraud.batch_index, result.fraud.commitment_index) == (1, 1)
    args = list(result.fraud.proof.as_abi())
    args[3] = (keccak(b"no"), *args[3][1:])
    _reverts(env, env.l1.rollup.functions.proveFraud(args), "CommitmentMismatch", accounts[9])
    env.validator().challenge()
    assert env.rollup.batchCount() == 1


def test_withdrawal_rules(env, accounts, project):
    op = _honest(env)
    op.step([sign_withdraw(env.bls(2), env.dst, 1, 4 * 10**17, 0, 0)])
    claim = env.validator().check().withdrawals[0]
    args = list(claim.as_abi())
    _reverts(env, env.l1.rollup.functions.finalizeWithdrawal(args), "BatchNotFinal", accounts[5])
    env.advance(CHALLENGE_PERIOD)
    not_w = list(args)
    not_w[7] = 1  # past the commitment's one withdraw
    _reverts(env, env.l1.rollup.functions.finalizeWithdrawal(not_w), "NotAWithdrawal", accounts[5])
    bad_leaf = list(args)
    bad_leaf[8] = bytes(60)
    _reverts(
        env, env.l1.rollup.functions.finalizeWithdrawal(bad_leaf), "BadAccountProof", accounts[5]
    )
    short = list(args)
    short[9] = args[9][:-32]
    _reverts(env, env.l1.rollup.functions.finalizeWithdrawal(short), "BadAccountProof", accounts[5])
    other = list(args)
    other[8] = args[8][:40] + (10**30).to_bytes(16, "big") + args[8][56:]
    _reverts(env, env.l1.rollup.functions.finalizeWithdrawal(other), "BadAccountProof", accounts[5])
    wrong_c = list(args)
    wrong_c[5] = 9
    _reverts(
        env, env.l1.rollup.functions.finalizeWithdrawal(wrong_c), "CommitmentMismatch", accounts[5]
    )
    wrong_h = list(args)
    wrong_h[1] = [keccak(b"h")]
    _reverts(
        env, env.l1.rollup.functions.finalizeWithdrawal(wrong_h), "BatchHashMismatch", accounts[5]
    )
    env.rollup.finalizeWithdrawal(args, sender=accounts[5])
    assert env.bridge.isReleased(claim.withdrawal_id)
    fn = env.l1.rollup.functions.finalizeWithdrawal(args)
    assert_reverts(env.l1.bridge, fn, "AlreadyReleased", accounts[5].address)


def test_withdrawal_from_rolled_back_batch_is_rejected(env, accounts):
    env.bond(0)
    env.bond(4)
    env.register(1)
    env.deposit_eth(1, 10**18)
    op = env.operator()
    op.step([])
    # the cheater posts a real withdraw next to a lie, then the lie is proven
    w = sign_withdraw(env.bls(1), env.dst, 0, 10**17, 0, 0)
    cs = adv.wrong_root(op.state, [w])
    env.signer(4).send(env.l1.rollup.functions.postBatch(op.state.root, encode_batch(cs)))
    env.validator().challenge()
    env.advance(CHALLENGE_PERIOD)
    c = cs[0]
    args = [1, [x.hash() for x in cs], 0, c.post_root, c.deposit_end, c.forced_end, c.rest()]
    args += [0, bytes(60), bytes(768), "0x" + "00" * 20, b""]
    _reverts(env, env.l1.rollup.functions.finalizeWithdrawal(args), "UnknownBatch", accounts[5])


def test_rewards_pull_reverts(env, accounts, project):
    with ape.reverts(env.rollup.NothingToWithdraw):
        env.rollup.claimReward(accounts[1], sender=accounts[1])
    with ape.reverts(env.rollup.ZeroDestination):
        env.rollup.claimReward("0x" + "00" * 20, sender=accounts[1])


def test_finality_is_monotone(env, accounts):
    op = _honest(env)
    assert env.rollup.finalizedCount() == 0
    env.advance(CHALLENGE_PERIOD)
    op.step([sign_transfer(env.bls(2), env.dst, 1, 0, 1, 0, 0)])
    assert env.rollup.finalizedCount() == 2
    assert not env.rollup.isFinal(2)
    assert env.rollup.lastFinalizedRoot() == env.rollup.batches(1).postRoot


def test_honest_multi_commitment_batch_resists_proofs_on_each_commitment(env, accounts):
    from offchain.rollup.codec import decode_batch
    from offchain.rollup.execute import commit, execute
    from offchain.rollup.proofs import fraud_proof

    env.bond(0)
    env.register(1)
    env.deposit_eth(1, 10**18)
    env.deposit_eth(2, 10**18)
    op = env.operator()
    op.step([])
    pre = op.state.copy()
    txs = [sign_transfer(env.bls(1), env.dst, 0, 1, 10**12, 0, n) for n in range(40)]
    batch, _ = op.step(txs)
    assert len(batch.commitments) == 2
    cs = decode_batch(batch.data, pre.deposit_end, pre.forced_end)
    state = pre
    for ci, c in enumerate(cs):
        ex = execute(state, c, ())
        proof = fraud_proof(1, cs, ci, (), ex)
        fn = env.l1.rollup.functions.proveFraud(proof.as_abi())
        _reverts(env, fn, "NotFraudulent", accounts[9])
        commit(state, ex, c.deposit_end)
    assert env.validator().check().fraud is None
