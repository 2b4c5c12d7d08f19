"""Upgrades of the real bridges and zk rollup through the timelock: a benign one keeps every
balance, pending withdrawal and queue entry; a malicious one is seen by the watcher and every
user is out with all funds before it can execute (docs/governance.md §5)."""

import ape
import pytest
from eth_utils import to_checksum_address
from gov_helpers import ZERO32, advance, now
from wired_helpers import (
    BJJ,
    ETH,
    FORCED,
    FREEZE,
    PROOF,
    bjj_recipient,
    deploy_wired,
    deposit_struct,
    empty_batch,
    zk_constructor_args,
)

from offchain.governance.chain import TimelockReader
from offchain.governance.watch import Status, pending
from offchain.governance.wiring import IMPLEMENTATION_SLOT, read_slot_address
from offchain.recipient import address_recipient

E = 10**18


@pytest.fixture
def w(project, deployer, proposer):
    return deploy_wired(project, deployer, proposer)


def _bridge_state(bridge, accounts, tokens, ids, governed: bool) -> dict:
    n = bridge.depositCount()
    return {
        "rollup": bridge.rollup(),
        "depositCount": n,
        "acc": [bridge.accumulatorAt(i) for i in range(n + 1)],
        "depositors": [bridge.depositorOf(i) for i in range(n)],
        "liabilities": [bridge.liabilities(t) for t in tokens],
        "pending": [bridge.pendingClaims(t) for t in tokens],
        "claimable": [bridge.claimable(a, t) for a in accounts for t in tokens],
        "released": [bridge.isReleased(i) for i in ids],
        "exitTime": bridge.exitTime() if governed else None,  # the MockRollup has no exitTime
    }


def _zk_state(zk) -> dict:
    count = zk.batchCount()
    forced = zk.forcedCount()
    return {
        "root": zk.stateRoot(),
        "batchCount": count,
        "rootAt": [zk.rootAt(i) for i in range(count + 1)],
        "depositsProcessed": zk.depositsProcessed(),
        "lastBatchAt": zk.lastBatchAt(),
        "forced": [tuple(zk.forcedRequest(i)) for i in range(forced)],
        "forcedProcessed": zk.forcedProcessed(),
        "forcedPending": [zk.forcedPending(i) for i in range(3)],
        "forcedFloor": [zk.forcedFloor(i) for i in range(3)],
        "exited": [zk.exited(i) for i in range(3)],
        "checkpoint": tuple(zk.depositCheckpoint()),
        "params": (zk.freezePeriod(), zk.freezePeriodInForce(), zk.exitTime(), zk.forcedDelay()),
        "verifiers": (zk.batchVerifier(), zk.exitVerifier(), zk.timelock()),
        "shape": (zk.txSlots(), zk.depositSlots(), zk.treeDepth(), zk.slotBytes(), zk.bridge()),
        "frozen": (zk.frozen(), zk.freezeReason()),
        "domain": zk.domain(),
    }


def test_an_upgrade_keeps_every_balance_withdrawal_and_queue_entry(
    project, chain, deployer, proposer, accounts
):
    w = deploy_wired(project, deployer, proposer)
    alice, bob, carol = accounts[6:9]
    token = deployer.deploy(project.TestToken, "T", "T", 18)
    token.mint(alice, 10 * E, sender=deployer)
    token.approve(w.zk_bridge.contract, 10 * E, sender=alice)
    token.approve(w.bridge.contract, 10 * E, sender=alice)
    zkb, zk, ab = w.zk_bridge.contract, w.zk.contract, w.bridge.contract

    # zk side: three deposits, a checkpoint, a batch consuming two, a forced withdrawal queued
    zkb.depositETH(bjj_recipient(), value=1 * E, sender=alice)
    zkb.depositERC20(token, 2 * E, bjj_recipient(), sender=alice)
    zkb.depositETH(bjj_recipient(), value=3 * E, sender=bob)
    zk.requestDepositInclusion(sender=carol)
    empty_batch(zk, deployer, [deposit_struct(0, 1 * E), deposit_struct(1, 2 * E, token.address)])
    zk.requestForcedWithdrawal(0, ETH, 1 * E, alice, 1, PROOF, sender=alice)
    # address bridge: deposits, one withdrawal released (pending claim), one already claimed
    ab.depositETH(address_recipient(alice.address), value=5 * E, sender=alice)
    ab.depositERC20(token, 4 * E, address_recipient(bob.address), sender=alice)
    ids = [b"\x01" * 32, b"\x02" * 32, b"\x03" * 32]
    w.mock_rollup.release(ab, ids[0], ETH, bob, 2 * E, sender=deployer)
    w.mock_rollup.release(ab, ids[1], token, carol, 1 * E, sender=deployer)
    w.mock_rollup.release(ab, ids[2], ETH, carol, 1 * E, sender=deployer)
    ab.claim(ETH, carol, sender=carol)

    people, tokens = [alice, bob, carol], [ETH, token.address]
    balances = [(zkb.balance, token.balanceOf(zkb)), (ab.balance, token.balanceOf(ab))]

    v2_zk_bridge = deployer.deploy(project.L1BridgeV2, "0x02")
    v2_bridge = deployer.deploy(project.L1BridgeV2, "0x01")
    v2_zk = deployer.deploy(project.ZkRollupV2, *zk_constructor_args(zkb, w.verifier))
    init = v2_bridge.initializeV2.encode_input()
    targets = [w.zk_bridge.admin, w.bridge.admin, w.zk.admin]
    admin = project.IGovernedProxyAdmin.at(w.zk_bridge.admin)
    calls = [
        admin.upgradeAndCall.encode_input(zkb, v2_zk_bridge, init),
        admin.upgradeAndCall.encode_input(ab, v2_bridge, init),
        admin.upgradeAndCall.encode_input(zk, v2_zk, b""),
    ]
    delay = w.timelock.getMinDelay()
    w.timelock.scheduleBatch(targets, [0] * 3, calls, ZERO32, ZERO32, delay, sender=proposer)
    advance(chain, delay)
    before = (
        _bridge_state(zkb, people, tokens, ids, True),
        _bridge_state(ab, people, tokens, ids, False),
        _zk_state(zk),
    )
    w.timelock.executeBatch(targets, [0] * 3, calls, ZERO32, ZERO32, sender=proposer)

    new_zkb = project.L1BridgeV2.at(zkb.address)
    new_ab = project.L1BridgeV2.at(ab.address)
    new_zk = project.ZkRollupV2.at(zk.address)
    assert (new_zkb.version(), new_ab.version(), new_zk.version()) == (2, 2, 2)
    for proxy, impl in ((zkb, v2_zk_bridge), (ab, v2_bridge), (zk, v2_zk)):
        assert read_slot_address(chain.provider, proxy.address, IMPLEMENTATION_SLOT) == impl.address
    after = (
        _bridge_state(new_zkb, people, tokens, ids, True),
        _bridge_state(new_ab, people, tokens, ids, False),
        _zk_state(new_zk),
    )
    assert after == before
    assert before[2]["forced"] and before[2]["batchCount"] == 1  # the state was not empty
    assert before[1]["pending"] == [2 * E, 1 * E]
    assert [(zkb.balance, token.balanceOf(zkb)), (ab.balance, token.balanceOf(ab))] == balances
    assert new_ab.upgradedAt() == now(chain)
    with ape.reverts(new_ab.InvalidInitialization):
        new_ab.initializeV2(sender=bob)  # the reinitializer ran once

    # and the system keeps working on the new code: claims, deposits, exits
    bob_before = bob.balance
    tx = new_ab.claim(ETH, bob, sender=bob)
    assert bob.balance == bob_before + 2 * E - tx.total_fees_paid
    new_ab.depositETH(address_recipient(alice.address), value=E, sender=alice)
    assert new_ab.depositCount() == 3
    assert new_zk.frozen()  # the delay outlasted the freeze period: users exit
    new_zk.exit(1, token, 2 * E, alice, PROOF, sender=alice)
    assert new_zkb.claimable(alice, token) == 2 * E


def test_every_user_exits_before_a_malicious_upgrade_executes(
    project, chain, deployer, proposer, attacker, accounts
):
    w = deploy_wired(project, deployer, proposer)
    alice, bob, carol, dave = accounts[6:10]
    zkb, zk, ab = w.zk_bridge.contract, w.zk.contract, w.bridge.contract
    amounts = {alice: 1 * E, bob: 2 * E, carol: 3 * E}
    for u, a in amounts.items():
        zkb.depositETH(bjj_recipient(), value=a, sender=u)
    # the operator credits alice and bob (leaves 0 and 1); carol's deposit is still queued
    empty_batch(zk, deployer, [deposit_struct(0, amounts[alice]), deposit_struct(1, amounts[bob])])
    ab.depositETH(address_recipient(dave.address), value=4 * E, sender=dave)
    assert zkb.balance == 6 * E and ab.balance == 4 * E

    # the malicious upgrade: both bridges to code that lets anyone take everything
    drain_zk = deployer.deploy(project.L1BridgeDrain, "0x02")
    drain_ab = deployer.deploy(project.L1BridgeDrain, "0x01")
    admin = project.IGovernedProxyAdmin.at(w.zk_bridge.admin)
    targets = [w.zk_bridge.admin, w.bridge.admin]
    calls = [
        admin.upgradeAndCall.encode_input(zkb, drain_zk, b""),
        admin.upgradeAndCall.encode_input(ab, drain_ab, b""),
    ]
    delay = w.timelock.getMinDelay()
    w.timelock.scheduleBatch(targets, [0, 0], calls, ZERO32, ZERO32, delay, sender=proposer)
    scheduled_at = now(chain)

    # the watcher shows it, decoded, with the time users have left to start an exit
    advance(chain, 3600)
    report = TimelockReader(chain.provider.web3, w.timelock.address).report()
    assert report.exit_time == FREEZE
    [change] = pending(report.changes)
    assert change.status is Status.WAITING
    assert [d.signature for d in change.decoded] == ["upgradeAndCall(address,address,bytes)"] * 2
    assert change.decoded[0].args[:2] == (
        to_checksum_address(zkb.address),
        to_checksum_address(drain_zk.address),
    )
    assert change.ready_at == scheduled_at + delay
    assert change.time_left_to_exit == scheduled_at + delay - report.now - FREEZE > 0

    # everyone leaves: alice forces a withdrawal the operator ignores, which freezes the rollup;
    # then alice and bob exit with their proven balances, carol gets her queued deposit back
    zk.requestForcedWithdrawal(0, ETH, amounts[alice], alice, 1, PROOF, sender=alice)
    advance(chain, FORCED + 1)
    assert zk.frozen()
    zk.exit(0, ETH, amounts[alice], alice, PROOF, sender=alice)
    zk.exit(1, ETH, amounts[bob], bob, PROOF, sender=bob)
    zk.refundDeposit(2, ETH, amounts[carol], BJJ[0], BJJ[1], sender=carol)
    # dave's rollup pays him out on the address bridge (the mock plays the rollup's exit)
    w.mock_rollup.release(ab, b"\x09" * 32, ETH, dave, 4 * E, sender=deployer)
    for u, a in {**amounts, dave: 4 * E}.items():
        bridge = ab if u == dave else zkb
        before = u.balance
        tx = bridge.claim(ETH, u, sender=u)
        assert u.balance == before + a - tx.total_fees_paid
    assert zkb.balance == 0 and ab.balance == 0
    assert now(chain) < change.ready_at  # all out before the upgrade can execute

    # it executes when the delay is over, and finds nothing to take
    with ape.reverts(w.timelock.TimelockUnexpectedOperationState):
        w.timelock.executeBatch(targets, [0, 0], calls, ZERO32, ZERO32, sender=attacker)
    advance(chain, change.ready_at - now(chain))
    w.timelock.executeBatch(targets, [0, 0], calls, ZERO32, ZERO32, sender=attacker)
    thief_before = attacker.balance
    for bridge in (zkb, ab):
        tx = project.L1BridgeDrain.at(bridge.address).drain(attacker, sender=attacker)
        thief_before -= tx.total_fees_paid
    assert attacker.balance == thief_before  # 0 wei taken: every user was already out
