# SPDX-License-Identifier: GPL-3.0-or-later
"""Valid batches on Anvil: accepted and final at once, withdrawals payable immediately."""

from __future__ import annotations

from zk_helpers import BOB_DEPOSIT, deposit_first_two, submit


def test_batch_accepted_and_withdrawal_payable_at_once(zk, batch0, alice, bob, carol, deployer):
    deposit_first_two(zk, alice, bob)
    receipt = submit(zk, batch0, deployer)
    old_root, new_root, data_hash = batch0.batch.public_inputs
    assert zk.rollup.stateRoot() == new_root
    assert zk.rollup.batchCount() == 1
    assert zk.rollup.depositsProcessed() == 2
    events = receipt.decode_logs(zk.rollup.BatchVerified)
    assert len(events) == 1
    ev = events[0]
    assert (ev.batchIndex, ev.oldRoot, ev.newRoot, ev.dataHash) == (
        0,
        old_root,
        new_root,
        data_hash,
    )
    assert (ev.firstDeposit, ev.depositCount) == (0, 2)
    # Final at once: Carol claims Bob's withdrawal in the very next transaction.
    assert zk.bridge.claimable(carol, "0x" + "00" * 20) == 10**17
    before = carol.balance
    zk.bridge.claim("0x" + "00" * 20, carol, sender=carol)
    assert carol.balance > before + 10**17 - 10**16  # minus gas
    assert zk.bridge.liabilities("0x" + "00" * 20) == 10**18 + BOB_DEPOSIT - 10**17
    print("gas submitBatch", receipt.gas_used)
