"""Deposits into a frozen optimistic rollup: once `freeze()` ran, the bridge refuses new
deposits (the frozen state would never credit them), while every deposit queued before the
freeze and not in the frozen state keeps its refund path (`Rollup.refundDeposit`)."""

import ape
from forced_helpers import LIVENESS, Env, recipient

from offchain.rollup.exit import exit_plan

FREEZER = 8


def test_bridge_refuses_deposits_when_frozen_optimistic_rollup(env: Env, accounts):
    env.deposit_eth(1, 10**18)
    env.advance(LIVENESS + 1)
    # Freezable but not frozen yet: deposits still enter, and are refunded after the freeze.
    env.deposit_eth(2, 2 * 10**18)
    env.rollup.freeze(sender=accounts[FREEZER])
    assert env.rollup.frozen()
    with ape.reverts(env.bridge.RollupIsFrozen, rollup=env.rollup.address):
        env.bridge.depositETH(recipient(env.addr(3)), value=10**18, sender=accounts[3])
    assert env.bridge.depositCount() == 2
    for u, amount in ((1, 10**18), (2, 2 * 10**18)):
        plan = exit_plan(env.l1, env.addr(u))
        assert [r.amount for r in plan.refunds] == [amount]
        env.signer(u).send(env.l1.rollup.functions.refundDeposit(*plan.refunds[0].as_args()))
        assert env.eth_claimable(u) == amount
