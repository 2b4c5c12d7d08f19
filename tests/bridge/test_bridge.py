"""L1Bridge: every deposit, release and claim path, and every revert."""

import ape
import pytest
from eth_utils import keccak
from hypothesis import given, settings
from hypothesis import strategies as st

from offchain.bridge import ETH, ZERO_ACCUMULATOR, next_accumulator, read_deposits
from offchain.recipient import babyjubjub_key_problem, babyjubjub_recipient

ONE = 10**18
ZERO_ADDRESS = "0x0000000000000000000000000000000000000000"
BN254_R = 21888242871839275222246405745257275088548364400416034343698204186575808495617
# circomlib's Base8, a point of the BabyJubJub curve
BASE8 = (
    5299619240641551281634865583518297030282874472190772894086521144482721001553,
    16950150798460657717958625567821834550301663161624707787222815936182638968203,
)


def test_constructor_rejects_unknown_tag(project, deployer):
    with ape.reverts(project.L1Bridge.UnsupportedRecipientTag):
        deployer.deploy(project.L1Bridge, "0x03")


def test_deposit_eth_queues_and_links_accumulator(bridge, alice, to_bob):
    tx = bridge.depositETH(to_bob, value=3 * ONE, sender=alice)
    expected = next_accumulator(ZERO_ACCUMULATOR, ETH, 3 * ONE, to_bob)
    event = tx.events[0]
    assert event.event_name == "DepositQueued"
    assert event.index == 0 and event.depositor == alice.address and event.amount == 3 * ONE
    assert bytes(event.recipient) == to_bob and bytes(event.accumulator) == expected
    assert bridge.depositCount() == 1
    assert bytes(bridge.accumulatorAt(0)) == ZERO_ACCUMULATOR
    assert bytes(bridge.accumulatorAt(1)) == expected
    assert bridge.liabilities(ETH) == 3 * ONE
    assert bridge.balance == 3 * ONE


def test_deposit_erc20_records_amount(bridge, token, alice, to_bob):
    token.approve(bridge, 5 * ONE, sender=alice)
    bridge.depositERC20(token, 5 * ONE, to_bob, sender=alice)
    assert token.balanceOf(bridge) == 5 * ONE
    assert bridge.liabilities(token) == 5 * ONE
    expected = next_accumulator(ZERO_ACCUMULATOR, token.address, 5 * ONE, to_bob)
    assert bytes(bridge.accumulatorAt(1)) == expected


def test_fee_on_transfer_token_credits_what_arrived(project, deployer, bridge, alice, to_bob):
    fee_token = deployer.deploy(project.FeeOnTransferToken, 100)  # 1 %
    fee_token.mint(alice, 1000, sender=deployer)
    fee_token.approve(bridge, 1000, sender=alice)
    tx = bridge.depositERC20(fee_token, 1000, to_bob, sender=alice)
    assert tx.events[-1].amount == 990
    assert bridge.liabilities(fee_token) == 990 == fee_token.balanceOf(bridge)


def test_token_taking_everything_is_refused(project, deployer, bridge, alice, to_bob):
    greedy = deployer.deploy(project.FeeOnTransferToken, 10_000)  # 100 %
    greedy.mint(alice, 1000, sender=deployer)
    greedy.approve(bridge, 1000, sender=alice)
    with ape.reverts(bridge.NothingReceived):
        bridge.depositERC20(greedy, 1000, to_bob, sender=alice)


def test_token_without_bool_return_works(project, deployer, bridge, alice, to_bob):
    usdt_like = deployer.deploy(project.NoBoolToken)
    usdt_like.mint(alice, 777, sender=deployer)
    usdt_like.approve(bridge, 777, sender=alice)
    bridge.depositERC20(usdt_like, 777, to_bob, sender=alice)
    assert usdt_like.balanceOf(bridge) == 777 == bridge.liabilities(usdt_like)


def test_token_returning_false_is_refused(project, deployer, bridge, alice, to_bob):
    liar = deployer.deploy(project.ReturnsFalseToken)
    liar.mint(alice, 100, sender=deployer)
    with ape.reverts(bridge.SafeERC20FailedOperation):
        bridge.depositERC20(liar, 100, to_bob, sender=alice)
    assert bridge.depositCount() == 0


def test_token_without_allowance_reverts(bridge, token, alice, to_bob):
    with ape.reverts(token.ERC20InsufficientAllowance):
        bridge.depositERC20(token, ONE, to_bob, sender=alice)


def test_not_a_token_is_refused(bridge, alice, bob, to_bob):
    with ape.reverts(bridge.NotAToken):
        bridge.depositERC20(bob.address, ONE, to_bob, sender=alice)


def test_zero_amounts_are_refused(bridge, token, alice, to_bob):
    with ape.reverts(bridge.ZeroAmount):
        bridge.depositETH(to_bob, value=0, sender=alice)
    with ape.reverts(bridge.ZeroAmount):
        bridge.depositERC20(token, 0, to_bob, sender=alice)


def test_amount_above_l2_range_is_refused(bridge, token, deployer, alice, to_bob):
    token.mint(alice, 2**129, sender=deployer)
    token.approve(bridge, 2**129, sender=alice)
    with ape.reverts(bridge.AmountTooLarge):
        bridge.depositERC20(token, 2**128, to_bob, sender=alice)
    bridge.depositERC20(token, 2**128 - 1, to_bob, sender=alice)


@pytest.mark.parametrize(
    "recipient",
    [
        b"",
        b"\x01",
        b"\x01" + b"\x11" * 19,
        b"\x01" + b"\x11" * 21,
        b"\x03" + b"\x11" * 20,
        b"\x11" * 20,
        # a well-formed BabyJubJub recipient, but this bridge serves address accounts only
        babyjubjub_recipient(5, 7),
    ],
)
def test_unknown_recipient_encoding_is_refused(bridge, alice, recipient):
    with ape.reverts(bridge.UnknownRecipientEncoding):
        bridge.depositETH(recipient, value=ONE, sender=alice)


def test_zero_recipient_is_refused(project, deployer, bridge, alice):
    with ape.reverts(bridge.ZeroRecipient):
        bridge.depositETH(b"\x01" + b"\x00" * 20, value=ONE, sender=alice)
    zk_bridge = deployer.deploy(project.L1Bridge, "0x02")
    with ape.reverts(zk_bridge.ZeroRecipient):
        zk_bridge.depositETH(b"\x02" + b"\x00" * 64, value=ONE, sender=alice)
    zk_bridge.depositETH(babyjubjub_recipient(*BASE8), value=ONE, sender=alice)
    assert zk_bridge.depositCount() == 1


@pytest.mark.parametrize(
    "point",
    [
        (5, 7),  # not on the curve
        (BASE8[0], BASE8[1] + 1),
        (BASE8[0] + BN254_R, BASE8[1]),  # same point mod r, but not reduced
    ],
)
def test_babyjubjub_recipient_must_be_a_curve_point(project, deployer, alice, point):
    zk_bridge = deployer.deploy(project.L1Bridge, "0x02")
    with ape.reverts(zk_bridge.InvalidBabyJubJubKey):
        zk_bridge.depositETH(babyjubjub_recipient(*point), value=ONE, sender=alice)


def test_bare_eth_is_refused(bridge, alice):
    with ape.reverts(bridge.UseDepositETH):
        alice.transfer(bridge, ONE)
    with ape.reverts():
        alice.transfer(bridge, ONE, data="0x12345678")


def test_reentrant_deposit_through_malicious_token_is_stopped(
    project, deployer, bridge, alice, to_bob
):
    evil = deployer.deploy(project.ReentrantToken)
    evil.mint(alice, 10 * ONE, sender=deployer)
    evil.approve(bridge, 10 * ONE, sender=alice)
    inner = bridge.depositERC20.encode_input(evil, ONE, to_bob)
    evil.arm(bridge, inner, sender=alice)
    with ape.reverts(bridge.ReentrancyGuardReentrantCall):
        bridge.depositERC20(evil, ONE, to_bob, sender=alice)
    assert bridge.depositCount() == 0


def test_reentrant_claim_through_malicious_token_is_stopped(
    project, deployer, bridge, rollup, alice, to_bob
):
    evil = deployer.deploy(project.ReentrantToken)
    evil.mint(alice, 10 * ONE, sender=deployer)
    evil.approve(bridge, 10 * ONE, sender=alice)
    bridge.depositERC20(evil, 4 * ONE, to_bob, sender=alice)
    rollup.release(bridge, b"\x01" * 32, evil, alice, 2 * ONE, sender=deployer)
    rollup.release(bridge, b"\x02" * 32, evil, alice, 2 * ONE, sender=deployer)
    # While the first claim pays out, the token tries to claim again for the same account.
    evil.arm(bridge, bridge.claim.encode_input(evil, alice), sender=alice)
    with ape.reverts(bridge.ReentrancyGuardReentrantCall):
        bridge.claim(evil, alice, sender=alice)
    assert bridge.claimable(alice, evil) == 4 * ONE


def test_wiring_rules(project, deployer, bridge, alice):
    mock = deployer.deploy(project.MockRollup)
    with ape.reverts(bridge.NotDeployer):
        bridge.setRollup(mock, sender=alice)
    with ape.reverts(bridge.InvalidRollup):
        bridge.setRollup(alice.address, sender=deployer)
    tx = bridge.setRollup(mock, sender=deployer)
    assert tx.events[0].rollup == mock.address
    with ape.reverts(bridge.RollupAlreadySet):
        bridge.setRollup(mock, sender=deployer)


def test_release_requires_the_wired_rollup(project, deployer, bridge, alice, to_bob):
    bridge.depositETH(to_bob, value=ONE, sender=alice)
    impostor = deployer.deploy(project.MockRollup)
    with ape.reverts(bridge.NotRollup):  # not wired yet
        impostor.release(bridge, b"\x01" * 32, ETH, alice, ONE, sender=alice)
    with ape.reverts(bridge.NotRollup):
        bridge.releaseWithdrawal(b"\x01" * 32, ETH, alice, ONE, sender=alice)
    wired = deployer.deploy(project.MockRollup)
    bridge.setRollup(wired, sender=deployer)
    with ape.reverts(bridge.NotRollup):
        impostor.release(bridge, b"\x01" * 32, ETH, alice, ONE, sender=alice)


def test_release_then_claim_eth_once(bridge, rollup, deployer, alice, bob, carol, to_bob):
    bridge.depositETH(to_bob, value=3 * ONE, sender=alice)
    wid = keccak(b"withdrawal-1")
    tx = rollup.release(bridge, wid, ETH, bob, 2 * ONE, sender=carol)
    assert tx.events[0].event_name == "WithdrawalReleased" and tx.events[0].amount == 2 * ONE
    assert bridge.isReleased(wid) and bridge.claimable(bob, ETH) == 2 * ONE
    with ape.reverts(bridge.AlreadyReleased):
        rollup.release(bridge, wid, ETH, bob, 2 * ONE, sender=carol)
    before = carol.balance
    claim = bridge.claim(ETH, carol, sender=bob)
    assert claim.events[0].amount == 2 * ONE
    assert carol.balance == before + 2 * ONE
    assert bridge.liabilities(ETH) == ONE == bridge.balance
    with ape.reverts(bridge.NothingToClaim):
        bridge.claim(ETH, carol, sender=bob)


def test_release_and_claim_erc20(bridge, rollup, token, deployer, alice, bob, to_bob):
    token.approve(bridge, 5 * ONE, sender=alice)
    bridge.depositERC20(token, 5 * ONE, to_bob, sender=alice)
    rollup.release(bridge, b"\x07" * 32, token, bob, 5 * ONE, sender=deployer)
    bridge.claim(token, bob, sender=bob)
    assert token.balanceOf(bob) == 5 * ONE and bridge.liabilities(token) == 0


def test_release_input_checks(bridge, rollup, deployer, alice, to_bob):
    bridge.depositETH(to_bob, value=ONE, sender=alice)
    with ape.reverts(bridge.ZeroDestination):
        rollup.release(bridge, b"\x01" * 32, ETH, "0x" + "00" * 20, ONE, sender=deployer)
    with ape.reverts(bridge.ZeroAmount):
        rollup.release(bridge, b"\x01" * 32, ETH, alice, 0, sender=deployer)
    with ape.reverts(bridge.InsufficientLiabilities):
        rollup.release(bridge, b"\x01" * 32, ETH, alice, ONE + 1, sender=deployer)
    rollup.release(bridge, b"\x01" * 32, ETH, alice, ONE, sender=deployer)
    # Released-but-unclaimed funds are owed already: nothing more can be released against them.
    with ape.reverts(bridge.InsufficientLiabilities):
        rollup.release(bridge, b"\x02" * 32, ETH, alice, 1, sender=deployer)


def test_claim_checks(project, deployer, bridge, rollup, alice, to_bob):
    bridge.depositETH(to_bob, value=ONE, sender=alice)
    rejecter = deployer.deploy(project.EthRejecter)
    rollup.release(bridge, b"\x01" * 32, ETH, alice, ONE, sender=deployer)
    with ape.reverts(bridge.ZeroDestination):
        bridge.claim(ETH, "0x" + "00" * 20, sender=alice)
    with ape.reverts(bridge.EthTransferFailed):
        bridge.claim(ETH, rejecter, sender=alice)
    # The failed claim changed nothing: the credit can still go elsewhere.
    assert bridge.claimable(alice, ETH) == ONE
    bridge.claim(ETH, alice, sender=alice)


def test_accumulator_out_of_range(bridge):
    with ape.reverts(bridge.DepositIndexOutOfRange):
        bridge.accumulatorAt(1)


def test_python_reader_rebuilds_the_queue(chain, bridge, token, alice, bob, to_alice, to_bob):
    token.approve(bridge, 10 * ONE, sender=alice)
    bridge.depositETH(to_bob, value=ONE, sender=alice)
    bridge.depositERC20(token, 2 * ONE, to_alice, sender=alice)
    bridge.depositETH(to_alice, value=3, sender=bob)
    w3 = chain.provider.web3
    deposits = read_deposits(w3, bridge.address)  # verifies every link from the start
    assert [d.index for d in deposits] == [0, 1, 2]
    assert [d.amount for d in deposits] == [ONE, 2 * ONE, 3]
    assert deposits[1].token == token.address and deposits[2].depositor == bob.address
    assert deposits[-1].accumulator == bytes(bridge.accumulatorAt(3))


# ------------------------------------------------------------------ small-order keys (item 14)

# circomlib's Generator (order 8·l) and the prime order l of the subgroup Base8 generates.
GENERATOR = (
    995203441582195749578291179787384436505546430278305826713579947235728471134,
    5472060717959818805561601436314318772137091100104008585924551046643952123905,
)
SUBORDER = 2736030358979909402780800718157159386076813972158567259200215660948447373041


def _bjj_add(p, q):
    """Affine twisted Edwards addition, written here so the bridge tests need no GPL code."""
    (x1, y1), (x2, y2), r = p, q, BN254_R
    t = 168696 * x1 * x2 * y1 * y2 % r
    return (
        (x1 * y2 + y1 * x2) * pow(1 + t, -1, r) % r,
        (y1 * y2 - 168700 * x1 * x2) * pow(1 - t, -1, r) % r,
    )


def _bjj_mul(p, k):
    acc = (0, 1)
    while k:
        if k & 1:
            acc = _bjj_add(acc, p)
        p, k = _bjj_add(p, p), k >> 1
    return acc


TORSION8 = _bjj_mul(GENERATOR, SUBORDER)  # a point of order exactly 8
SMALL_ORDER = [_bjj_mul(TORSION8, k) for k in range(8)]  # the whole 8-torsion subgroup


def test_the_small_order_points_are_eight_distinct_curve_points():
    assert len(set(SMALL_ORDER)) == 8 and SMALL_ORDER[0] == (0, 1)
    assert _bjj_mul(TORSION8, 4) == (0, BN254_R - 1)  # the order-2 point
    for x, y in SMALL_ORDER:
        x2, y2 = x * x % BN254_R, y * y % BN254_R
        assert (168700 * x2 + y2 - 1 - 168696 * x2 * y2) % BN254_R == 0


@pytest.mark.parametrize("k", range(8))
def test_small_order_keys_are_refused_every_torsion_point(project, deployer, alice, k):
    zk_bridge = deployer.deploy(project.L1Bridge, "0x02")
    with ape.reverts(zk_bridge.SmallOrderBabyJubJubKey):
        zk_bridge.depositETH(babyjubjub_recipient(*SMALL_ORDER[k]), value=ONE, sender=alice)
    assert zk_bridge.depositCount() == 0


def test_small_order_keys_class_leaves_signable_keys_alone(project, deployer, alice):
    zk_bridge = deployer.deploy(project.L1Bridge, "0x02")
    with ape.reverts(zk_bridge.InvalidBabyJubJubKey):  # not a curve point
        zk_bridge.depositETH(babyjubjub_recipient(1, 1), value=ONE, sender=alice)
    zk_bridge.depositETH(babyjubjub_recipient(*BASE8), value=ONE, sender=alice)
    # a key of mixed order (prime-order part plus torsion) still signs: 8·A is not the identity
    zk_bridge.depositETH(babyjubjub_recipient(*GENERATOR), value=ONE, sender=alice)
    assert zk_bridge.depositCount() == 2


@pytest.fixture(scope="module")
def key_bridge(project, accounts):
    return accounts[0].deploy(project.L1Bridge, "0x02")


@settings(max_examples=40, deadline=None)
@given(st.integers(0, SUBORDER - 1), st.integers(0, 7), st.booleans())
def test_small_order_keys_bridge_agrees_with_python(key_bridge, alice, k, t, off_curve):
    """Differential: the bridge accepts exactly the keys offchain.recipient accepts."""
    point = _bjj_add(_bjj_mul(BASE8, k), SMALL_ORDER[t])
    if off_curve:
        point = (point[0], (point[1] + 1) % BN254_R)
    problem = babyjubjub_key_problem(*point)
    recipient = babyjubjub_recipient(*point)
    if problem is None:
        key_bridge.depositETH.call(recipient, value=ONE, sender=alice)
    else:
        with ape.reverts():
            key_bridge.depositETH.call(recipient, value=ONE, sender=alice)
    assert (problem is not None and "small order" in problem) == (
        not off_curve and k == 0 and point != (0, 0)
    )


# ------------------------------------------------------- deposits into a frozen rollup (item 13)


def test_bridge_refuses_deposits_when_frozen_eth_and_erc20(bridge, rollup, token, alice, to_bob):
    bridge.depositETH(to_bob, value=ONE, sender=alice)
    token.approve(bridge, 2 * ONE, sender=alice)
    bridge.depositERC20(token, ONE, to_bob, sender=alice)
    rollup.setFrozen(True, sender=alice)
    with ape.reverts(bridge.RollupIsFrozen, rollup=rollup.address):
        bridge.depositETH(to_bob, value=ONE, sender=alice)
    with ape.reverts(bridge.RollupIsFrozen):
        bridge.depositERC20(token, ONE, to_bob, sender=alice)
    assert bridge.depositCount() == 2 and bridge.liabilities(ETH) == ONE
    assert token.balanceOf(bridge) == ONE


def test_bridge_refuses_deposits_when_frozen_babyjubjub_bridge(project, deployer, alice):
    zk_bridge = deployer.deploy(project.L1Bridge, "0x02")
    zk_bridge.depositETH(babyjubjub_recipient(*BASE8), value=ONE, sender=alice)  # before wiring
    mock = deployer.deploy(project.MockRollup)
    zk_bridge.setRollup(mock, sender=deployer)
    mock.setFrozen(True, sender=alice)
    with ape.reverts(zk_bridge.RollupIsFrozen):
        zk_bridge.depositETH(babyjubjub_recipient(*BASE8), value=ONE, sender=alice)
    assert zk_bridge.depositCount() == 1


def test_refund_evidence_depositor_recorded_on_babyjubjub_bridge_only(
    project, deployer, bridge, alice, bob, to_bob
):
    bridge.depositETH(to_bob, value=ONE, sender=alice)
    assert bridge.depositorOf(0) == ZERO_ADDRESS  # address recipients are refunded to themselves
    zk_bridge = deployer.deploy(project.L1Bridge, "0x02")
    zk_bridge.depositETH(babyjubjub_recipient(*BASE8), value=ONE, sender=bob)
    assert zk_bridge.depositorOf(0) == bob.address
    with ape.reverts(zk_bridge.DepositIndexOutOfRange):
        zk_bridge.depositorOf(1)
