"""End to end on Anvil: deposits, an honest batch, finality, withdrawal and claim."""

import ape
from rollup_helpers import BOND, CHALLENGE_PERIOD, ETH

from offchain.rollup.wallet import sign_transfer, sign_withdraw


def test_deposit_transfer_withdraw_claim(env):
    env.bond(0)
    for i in (1, 2):
        env.deposit_eth(i, 10**18)
    op = env.operator()
    _, _ = op.step([])
    sep = env.separator
    txs = [
        sign_transfer(env.key(1), sep, 0, 1, 3 * 10**17, 0, 0),
        sign_withdraw(env.key(2), sep, 1, 5 * 10**17, 0, 0),
    ]
    batch, _ = op.step(txs)
    assert batch.rejected == ()
    assert env.rollup.batchCount() == 2
    # a validator sees no fraud and rebuilds the operator's state from L1 alone
    result, receipt = env.validator().challenge()
    assert result.fraud is None and receipt is None
    assert result.state.root == op.state.root
    assert env.rollup.head()[0] == op.state.root
    claim = result.withdrawals[0]
    assert claim.amount == 5 * 10**17 and claim.owner == env.addr(2)
    with ape.reverts(env.rollup.BatchNotFinal):
        env.rollup.finalizeWithdrawal(claim.as_abi(), sender=env.accounts[5])
    env.advance(CHALLENGE_PERIOD)
    env.rollup.finalizeWithdrawal(claim.as_abi(), sender=env.accounts[5])
    assert env.bridge.claimable(env.addr(2), ETH) == 5 * 10**17
    with ape.reverts(env.bridge.AlreadyReleased):
        env.rollup.finalizeWithdrawal(claim.as_abi(), sender=env.accounts[5])
    before = env.accounts[2].balance
    env.bridge.claim(ETH, env.accounts[2], sender=env.accounts[2], gas_price=0)
    assert env.accounts[2].balance == before + 5 * 10**17
    assert env.rollup.lastFinalizedRoot() == op.state.root
    # the bond is unlocked once the proposer's last batch is final
    env.rollup.withdrawBond(BOND, env.accounts[0], sender=env.accounts[0])
    assert env.rollup.bondOf(env.accounts[0]) == 0
