# SPDX-License-Identifier: GPL-3.0-or-later
"""Deposits and a frozen zk rollup: the bridge refuses new deposits once the rollup is frozen,
and every deposit the frozen rollup never consumed is refunded to the L1 account that paid it
(the queue commits a BabyJubJub key, which has no L1 address), once, and only such deposits."""

from __future__ import annotations

import ape
import pytest
from zk_helpers import (
    ALICE_DEPOSIT,
    ALICE_KEY,
    BOB_DEPOSIT,
    BOB_KEY,
    FIXED_GAS,
    FREEZE_PERIOD,
    deposit_first_two,
    submit,
)

from offchain.zk.chain import read_deposits, refund_args
from offchain.zk.txs import recipient_bytes

ETH = "0x" + "00" * 20
LATE = 2 * 10**17


@pytest.fixture(scope="session")
def mallory(accounts):
    return accounts[5]


def _freeze(chain) -> None:
    chain.mine(1, timestamp=chain.pending_timestamp + FREEZE_PERIOD + 1)


@pytest.fixture
def late_deposit_then_frozen(zk, batch0, alice, bob, carol, deployer, chain):
    """Batch 0 consumes deposits 0 and 1; Carol's deposit 2 (to Alice's key) waits; freeze."""
    deposit_first_two(zk, alice, bob)
    submit(zk, batch0, deployer)
    zk.bridge.depositETH(
        recipient_bytes(ALICE_KEY.public_key), sender=carol, value=LATE, gas=FIXED_GAS
    )
    _freeze(chain)
    assert zk.rollup.frozen() and zk.rollup.depositsProcessed() == 2
    return read_deposits(chain.provider.web3, zk.bridge.address, 2, 1)[0]


def test_bridge_refuses_deposits_when_frozen_zk_rollup(zk, late_deposit_then_frozen, alice):
    with ape.reverts(zk.bridge.RollupIsFrozen, rollup=zk.rollup.address):
        zk.bridge.depositETH(
            recipient_bytes(BOB_KEY.public_key), sender=alice, value=LATE, gas=FIXED_GAS
        )
    assert zk.bridge.depositCount() == 3


def test_refund_unconsumed_deposit_goes_to_depositor_once(
    zk, late_deposit_then_frozen, carol, mallory
):
    dep = late_deposit_then_frozen
    # Anyone may trigger the refund; the money only goes to who paid (Carol), not the caller.
    receipt = zk.rollup.refundDeposit(*refund_args(dep), sender=mallory, gas=FIXED_GAS)
    ev = receipt.decode_logs(zk.rollup.DepositRefunded)[0]
    assert (ev.index, ev.to, ev.token, ev.amount) == (2, carol.address, ETH, LATE)
    # (Carol also holds batch 0's 0.1 ETH withdrawal.)
    assert zk.bridge.claimable(carol, ETH) == LATE + 10**17
    assert zk.bridge.claimable(mallory, ETH) == 0
    with ape.reverts(zk.bridge.AlreadyReleased):
        zk.rollup.refundDeposit(*refund_args(dep), sender=mallory, gas=FIXED_GAS)
    zk.bridge.claim(ETH, carol, sender=carol, gas=FIXED_GAS)
    # What stays in the bridge is exactly what the proven state holds (exits pay it).
    assert zk.bridge.liabilities(ETH) == ALICE_DEPOSIT + BOB_DEPOSIT - 10**17


def test_refund_refuses_consumed_deposits(zk, late_deposit_then_frozen, chain, mallory):
    first = read_deposits(chain.provider.web3, zk.bridge.address, 0, 1)[0]
    with ape.reverts(zk.rollup.DepositConsumed, index=0, depositsProcessed=2):
        zk.rollup.refundDeposit(*refund_args(first), sender=mallory, gas=FIXED_GAS)


def test_refund_refuses_forged_evidence(zk, late_deposit_then_frozen, mallory):
    index, token, amount, ax, ay = refund_args(late_deposit_then_frozen)
    for forged in (
        (index, token, amount + 1, ax, ay),
        (index, token, amount, ay, ax),
        (index, mallory.address, amount, ax, ay),
        (index + 1, token, amount, ax, ay),  # past the end of the queue
    ):
        with ape.reverts(zk.rollup.DepositEvidenceMismatch):
            zk.rollup.refundDeposit(*forged, sender=mallory, gas=FIXED_GAS)


def test_refund_only_when_frozen(zk, batch0, alice, bob, carol, deployer, chain):
    deposit_first_two(zk, alice, bob)
    zk.bridge.depositETH(
        recipient_bytes(ALICE_KEY.public_key), sender=carol, value=LATE, gas=FIXED_GAS
    )
    dep = read_deposits(chain.provider.web3, zk.bridge.address, 2, 1)[0]
    with ape.reverts(zk.rollup.NotFrozen):
        zk.rollup.refundDeposit(*refund_args(dep), sender=carol, gas=FIXED_GAS)
