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
    # each batch locked its own bond (the operator topped up before the second); both are
    # released once final, and the whole bond comes out
    with ape.reverts(env.rollup.NothingToWithdraw):
        env.rollup.withdrawBond(2 * BOND + 1, env.accounts[0], sender=env.accounts[0])
    env.rollup.withdrawBond(2 * BOND, env.accounts[0], sender=env.accounts[0])
    assert env.rollup.bondOf(env.accounts[0]) == 0
    assert env.rollup.lockedBondOf(env.accounts[0]) == 0


def test_erc20_round_trip_and_operator_restart(env, tmp_path):
    """Token deposits, a transfer and a withdrawal; the operator restarts from its saved state."""
    from offchain.rollup.honest_proposer import HonestProposer

    env.bond(0)
    env.deposit_token(1, 5 * 10**18)
    env.deposit_token(2, 10**18)
    store = tmp_path / "l2state.json"
    op = HonestProposer.resume(env.l1, env.signer(0), store)
    op.step([])
    token = env.token.address.lower()
    assert op.state.account(0).token == token
    # restart: the state comes back from disk, root checked
    op = HonestProposer.resume(env.l1, env.signer(0), store)
    assert op.state.root == env.rollup.head()[0]
    sep = env.separator
    op.step(
        [
            sign_transfer(env.key(1), sep, 0, 1, 2 * 10**18, 0, 0),
            sign_withdraw(env.key(2), sep, 1, 3 * 10**18, 0, 0),
        ]
    )
    result = env.validator().check()
    assert result.fraud is None and result.state.root == op.state.root
    env.advance(CHALLENGE_PERIOD)
    env.rollup.finalizeWithdrawal(result.withdrawals[0].as_abi(), sender=env.accounts[5])
    env.bridge.claim(env.token, env.accounts[2], sender=env.accounts[2])
    assert env.token.balanceOf(env.accounts[2]) == 3 * 10**18
    assert env.bridge.liabilities(env.token) == 3 * 10**18 == op.state.total_balance(token)


def test_corrupt_saved_state_is_refused(tmp_path):
    import json

    import pytest

    from offchain.rollup.state import L2State
    from offchain.rollup.store import CorruptState, load_state, save_state
    from offchain.rollup.types import Account

    state = L2State()
    acc = Account("0x" + "11" * 20, ETH, 5, 0)
    state.accounts[0] = acc
    state.tree.set_leaf(0, acc.leaf_hash())
    path = tmp_path / "s.json"
    save_state(state, path)
    assert load_state(path).root == state.root
    body = json.loads(path.read_text())
    body["accounts"]["0"] = Account("0x" + "11" * 20, ETH, 6, 0).packed().hex()
    path.write_text(json.dumps(body))
    with pytest.raises(CorruptState, match="resync"):
        load_state(path)
