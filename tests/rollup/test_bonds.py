"""Adversarial tests of the class "a disputable batch not fully backed by a bond" (issue #9,
item 3): every batch locks its own bond at posting, a proof slashes that batch's bond, rollbacks
release (never slash) the bonds of the batches built on top, and only the free bond leaves."""

from rollup_helpers import (
    BOND,
    CHALLENGE_PERIOD,
    assert_reverts,
    bounty_of,
    empty_proof,
    lie,
    post_empty,
)

P, Q, SOCK, CHALLENGER = 1, 2, 3, 9
SHARE = BOND * 2500 // 10_000


def _a(env, i):
    return env.accounts[i].address


def _prove(env, index, claimed, i=CHALLENGER):
    return env.signer(i).send(
        env.l1.rollup.functions.proveFraud(empty_proof(env, index, claimed).as_abi())
    )


def test_unbacked_batch_class_rollback_of_a_later_batch_keeps_earlier_bond_locked(env):
    """P's batch 0 is a lie; Q's later batch 1 is proven and rolled back with P's batch 2 on top.
    P must not get batch 0's bond out, and proving batch 0 afterwards must slash a full bond."""
    env.bond(P, 2 * BOND)
    env.bond(Q)
    post_empty(env, P, lie(0))
    post_empty(env, Q, lie(1))
    post_empty(env, P)
    _prove(env, 1, lie(1))
    assert env.rollup.batchCount() == 1
    f = env.l1.rollup.functions
    # P's whole deposit is not withdrawable: batch 0 is still disputable
    assert_reverts(env.l1.rollup, f.withdrawBond(2 * BOND, _a(env, P)), "BondLocked", _a(env, P))
    # batch 2 was rolled back: its bond comes back (honest or not, it backs nothing any more)
    assert env.rollup.isDisputable(0) and not env.rollup.isDisputable(2)
    env.rollup.releaseBond(2, sender=env.accounts[CHALLENGER])
    assert env.rollup.bondOf(env.accounts[P]) == BOND
    assert_reverts(env.l1.rollup, f.releaseBond(0), "BatchBondLocked", _a(env, P))
    env.rollup.withdrawBond(BOND, env.accounts[P], sender=env.accounts[P])
    assert_reverts(env.l1.rollup, f.withdrawBond(1, _a(env, P)), "BondLocked", _a(env, P))
    burned = env.rollup.burned()
    receipt = _prove(env, 0, lie(0))
    bounty = env.rollup.bounties(bounty_of(env, receipt))
    assert bounty.amount == SHARE
    assert env.rollup.burned() - burned == BOND - SHARE
    assert env.rollup.lockedBondOf(env.accounts[P]) == 0


def test_unbacked_batch_class_each_pending_batch_of_a_proposer_pays(env):
    """P posts two lies; after the later one is slashed the earlier one still carries its own
    bond (per-proposer bonds paid nothing the second time)."""
    env.bond(P, 2 * BOND)
    post_empty(env, P, lie(0))
    post_empty(env, P, lie(1))
    first = env.rollup.bounties(bounty_of(env, _prove(env, 1, lie(1))))
    second = env.rollup.bounties(bounty_of(env, _prove(env, 0, lie(0))))
    assert first.amount == second.amount == SHARE
    assert env.rollup.burned() == 2 * (BOND - SHARE)
    assert env.rollup.bondOf(env.accounts[P]) == 0
    assert env.rollup.lockedBondOf(env.accounts[P]) == 0


def test_self_challenge_class_recovers_at_most_the_challenger_share(env):
    """P front-runs its own slashing from a second account: it gets back only the challenger's
    share (a quarter), the rest is burned."""
    env.bond(P)
    before = env.rollup.bondOf(env.accounts[P]) + env.rollup.rewardOf(env.accounts[SOCK])
    post_empty(env, P, lie(0))
    receipt = _prove(env, 0, lie(0), i=SOCK)
    env.advance(CHALLENGE_PERIOD)
    env.rollup.settleBounty(bounty_of(env, receipt), sender=env.accounts[SOCK])
    recovered = env.rollup.bondOf(env.accounts[P]) + env.rollup.rewardOf(env.accounts[SOCK])
    assert before == BOND and recovered == SHARE
    assert env.rollup.burned() == BOND - SHARE >= 3 * BOND // 4


def test_unbacked_batch_class_honest_batch_on_a_lie_gets_its_bond_back(env):
    """Q's honest batch built on P's lie is rolled back with it: Q's bond is released, not
    slashed; Q's own earlier batch stays locked until final."""
    env.bond(Q, 2 * BOND)
    env.bond(P)
    post_empty(env, Q)
    post_empty(env, P, lie(0))
    post_empty(env, Q)
    _prove(env, 1, lie(0))
    assert env.rollup.batchCount() == 1
    assert env.rollup.lockedBondOf(env.accounts[Q]) == 2 * BOND  # released lazily
    # the postings that reuse indexes 1 and 2 release the rolled-back slots' bonds first
    env.bond(P, 2 * BOND)
    post_empty(env, P)
    assert env.rollup.bondOf(env.accounts[Q]) == 0
    post_empty(env, P)
    assert env.rollup.bondOf(env.accounts[Q]) == BOND
    assert env.rollup.lockedBondOf(env.accounts[Q]) == BOND
    assert_reverts(
        env.l1.rollup,
        env.l1.rollup.functions.withdrawBond(2 * BOND, _a(env, Q)),
        "BondLocked",
        _a(env, Q),
    )
    env.advance(CHALLENGE_PERIOD)
    env.rollup.withdrawBond(2 * BOND, env.accounts[Q], sender=env.accounts[Q])
    assert env.rollup.lockedBondOf(env.accounts[Q]) == 0


def test_unbacked_batch_class_post_needs_a_free_bond_per_batch(env):
    """One bond backs one batch: a second pending batch needs a second bond; a final batch's bond
    is recycled by the next posting."""
    env.bond(P)
    post_empty(env, P)
    f = env.l1.rollup.functions
    root = bytes(f.head().call()[0])
    from offchain.rollup.codec import encode_batch
    from offchain.rollup.types import Commitment

    data = encode_batch([Commitment(root, 0, 0, 0)])
    assert_reverts(env.l1.rollup, f.postBatch(root, data), "InsufficientBond", _a(env, P))
    env.advance(CHALLENGE_PERIOD)
    post_empty(env, P)  # batch 0 is final: its bond is released and locked again for batch 1
    assert env.rollup.bondCursor() == 1
    assert env.rollup.lockedBondOf(env.accounts[P]) == BOND
    assert env.rollup.batches(1).bond == BOND and env.rollup.batchBond(0) == 0


def test_bond_release_reverts(env):
    f = env.l1.rollup.functions
    assert_reverts(env.l1.rollup, f.releaseBond(0), "NothingToWithdraw", _a(env, 0))
    env.bond(P)
    post_empty(env, P)
    assert_reverts(env.l1.rollup, f.releaseBond(0), "BatchBondLocked", _a(env, 0))
    env.advance(CHALLENGE_PERIOD)
    env.rollup.releaseBonds(100, sender=env.accounts[0])  # capped at MAX_RELEASES
    assert env.rollup.bondOf(env.accounts[P]) == BOND
    assert_reverts(env.l1.rollup, f.releaseBond(0), "NothingToWithdraw", _a(env, 0))


def test_constructor_rejects_a_bond_above_uint96(project, deployer):
    import ape

    bridge = deployer.deploy(project.L1Bridge, b"\x01")
    with ape.reverts(project.Rollup.BadParameter):
        registry = deployer.deploy(project.BLSKeyRegistry, 3)
        deployer.deploy(project.Rollup, bridge, 2**96, 1, 1, 1, registry)
