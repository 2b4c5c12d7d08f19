# SPDX-License-Identifier: GPL-3.0-or-later
"""The zk batcher end to end on Anvil (web3.py path): reads the bridge queue, proves, verifies
locally, posts; voided deposits, ERC-20 leaves, and state that survives a restart."""

from __future__ import annotations

import ape
import pytest
from eth_account import Account
from zk_helpers import ALICE_KEY, BOB_KEY, PARAMS, deposit_first_two, submit

from offchain.zk.batch_runner import ZkBatchRunner
from offchain.zk.state import L2State
from offchain.zk.txs import TxKind, recipient_bytes, sign_tx


@pytest.mark.slow  # proves and restarts
def test_operator_second_batch_and_restart(
    zk, batch0, prover, project, chain, alice, bob, carol, deployer, tmp_path
):
    deposit_first_two(zk, alice, bob)
    submit(zk, batch0, deployer)
    state_file = tmp_path / "zk-state.json"
    batch0.batch.new_state.save(state_file)

    # A recipient that is no curve point is refused by the bridge itself, so no deposit can
    # land on a key nobody can sign for (the rollup's voiding stays as defence in depth).
    bad_key = b"\x02" + (1).to_bytes(32, "big") + (2).to_bytes(32, "big")
    with ape.reverts(zk.bridge.InvalidBabyJubJubKey):
        zk.bridge.depositETH(bad_key, sender=carol, value=12345)
    # Queue 2: an ERC-20 deposit to Alice's key: a new leaf (one token per leaf).
    token = deployer.deploy(project.TestToken, "Token", "TKN", 18)
    token.mint(carol, 1000, sender=deployer)
    token.approve(zk.bridge, 1000, sender=carol)
    zk.bridge.depositERC20(token, 1000, recipient_bytes(ALICE_KEY.public_key), sender=carol)

    op = ZkBatchRunner(
        chain.provider.web3,
        Account.from_key(deployer.private_key),
        zk.rollup.address,
        zk.bridge.address,
        PARAMS,
        prover,
        state_path=state_file,
    )
    assert op.state.root == zk.rollup.stateRoot()
    tx = sign_tx(BOB_KEY, op.domain, TxKind.TRANSFER, 1, 0, 2 * 10**17, 1)
    result = op.run_batch((tx,))

    assert zk.rollup.stateRoot() == result.batch.new_state.root == op.state.root
    assert zk.rollup.batchCount() == 2
    assert zk.rollup.depositsProcessed() == 3
    assert result.batch.deposit_leaves == (2,)
    assert list(zk.rollup.DepositVoided.range(0, chain.blocks.head.number + 1)) == []
    assert op.state.account(0).balance == 7 * 10**17 + 2 * 10**17
    assert op.state.account(1).balance == 5 * 10**17
    token_leaf = op.state.account(2)
    assert (token_leaf.token, token_leaf.balance) == (int(token.address, 16), 1000)

    # A restarted operator continues from the file, identical state.
    again = ZkBatchRunner(
        chain.provider.web3,
        Account.from_key(deployer.private_key),
        zk.rollup.address,
        zk.bridge.address,
        PARAMS,
        prover,
        state_path=state_file,
    )
    assert again.state == op.state
    assert L2State.load(state_file).root == zk.rollup.stateRoot()
    assert again.pending_deposits() == ()
