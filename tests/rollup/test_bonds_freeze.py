"""Issue #9 item 5, class "a freeze lets a pending fraudulent batch escape its bond": batches
still in their window at a freeze are discarded (never final, exits use the last final root), but
their bonds stay locked and they stay provable until their own windows end."""

from rollup_helpers import (
    BOND,
    CHALLENGE_PERIOD,
    LIVENESS_PERIOD,
    assert_reverts,
    bounty_of,
    empty_proof,
    lie,
    post_empty,
)

from offchain.rollup.merkle import EMPTY_ROOT

P, Q, FREEZER, CHALLENGER = 1, 2, 6, 9
SHARE = BOND * 2500 // 10_000


def _a(env, i):
    return env.accounts[i].address


def _freeze_with_pending(env):
    """No batch final for the liveness period; then P posts a lie and Q an (honest) batch on it;
    then anyone freezes."""
    env.bond(P)
    env.bond(Q)
    env.advance(LIVENESS_PERIOD + 1)
    post_empty(env, P, lie(0))
    post_empty(env, Q)
    env.rollup.freeze(sender=env.accounts[FREEZER])
    assert env.rollup.frozen() and env.rollup.batchCount() == 0
    assert env.rollup.discardedEnd() == 2 and env.rollup.frozenRoot() == EMPTY_ROOT


def test_freeze_escape_class_pending_fraud_is_still_slashed_and_paid(env):
    _freeze_with_pending(env)
    f = env.l1.rollup.functions
    # neither proposer gets a pending batch's bond out at the freeze
    assert_reverts(env.l1.rollup, f.withdrawBond(BOND, _a(env, P)), "BondLocked", _a(env, P))
    assert_reverts(env.l1.rollup, f.withdrawBond(BOND, _a(env, Q)), "BondLocked", _a(env, Q))
    # the honest discarded batch cannot be knocked out
    assert_reverts(
        env.l1.rollup,
        f.proveFraud(empty_proof(env, 1, lie(0)).as_abi()),
        "NotFraudulent",
        _a(env, CHALLENGER),
    )
    # the validator follows the discarded batches too: it finds the lie and commits, then reveals
    result, receipt = env.validator(CHALLENGER).challenge()
    assert result.fraud is not None and result.fraud.batch_index == 0
    bounty = env.rollup.bounties(bounty_of(env, receipt))
    assert bounty.recipient == _a(env, CHALLENGER) and bounty.amount == SHARE
    assert env.rollup.burned() == BOND - SHARE
    assert env.rollup.lockedBondOf(env.accounts[P]) == 0
    # what was built on the lie is no longer disputable: Q's bond comes back at once
    assert env.rollup.discardedEnd() == 0 and not env.rollup.isDisputable(1)
    env.rollup.releaseBond(1, sender=env.accounts[CHALLENGER])
    env.rollup.withdrawBond(BOND, env.accounts[Q], sender=env.accounts[Q])
    # nothing disputable is left for the validator; the exit state did not move; the challenger
    # is paid after the claim window
    again, none = env.validator(CHALLENGER).challenge()
    assert again.fraud is None and none is None
    assert env.rollup.frozenRoot() == EMPTY_ROOT and env.rollup.batchCount() == 0
    env.advance(CHALLENGE_PERIOD)
    env.rollup.settleBounty(bounty_of(env, receipt), sender=env.accounts[CHALLENGER])
    assert env.rollup.rewardOf(env.accounts[CHALLENGER]) == SHARE


def test_freeze_escape_class_bonds_release_when_the_window_ends(env):
    _freeze_with_pending(env)
    f = env.l1.rollup.functions
    assert_reverts(env.l1.rollup, f.releaseBond(0), "BatchBondLocked", _a(env, P))
    env.advance(CHALLENGE_PERIOD)
    # past its window a discarded batch can no longer be proven, and its bond is released
    assert_reverts(
        env.l1.rollup,
        f.proveFraud(empty_proof(env, 0, lie(0)).as_abi()),
        "UnknownBatch",
        _a(env, CHALLENGER),
    )
    env.rollup.releaseBond(0, sender=env.accounts[CHALLENGER])
    env.rollup.releaseBond(1, sender=env.accounts[CHALLENGER])
    for i in (P, Q):
        env.rollup.withdrawBond(BOND, env.accounts[i], sender=env.accounts[i])
        assert env.rollup.lockedBondOf(env.accounts[i]) == 0
