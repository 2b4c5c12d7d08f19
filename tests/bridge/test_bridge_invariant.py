"""Invariant B1 (contracts/bridge/L1Bridge.sol): for every token, the bridge's balance is at least
`liabilities(token)`, which is every amount received by a deposit minus every amount paid out by
`claim`, under random sequences of deposits (ETH, a plain and a fee-on-transfer ERC-20),
withdrawals and refunds released by the rollup (over-releases included), claims, and funds sent
to the bridge outside a deposit.

Checked after every operation, per token: balance >= liabilities >= pendingClaims, liabilities
equals the model's received - claimed, and the claimable credits add up to pendingClaims.
"""

import ape
import pytest
from eth_utils import keccak
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from offchain.bridge import ETH
from offchain.recipient import address_recipient

AMOUNTS = (1, 999, 10**15, 10**17)
USERS = (0, 1, 2)
TOKENS = ("eth", "plain", "fee")


pytestmark = pytest.mark.slow  # random operation sequences on Anvil (~30 s)


def test_invariant_bridge_balance_covers_liabilities(
    chain, project, deployer, alice, bob, carol, bridge, rollup
):
    users = (alice, bob, carol)
    plain = deployer.deploy(project.TestToken, "Plain", "PLN", 18)
    fee = deployer.deploy(project.FeeOnTransferToken, 100)  # keeps 1 % of every transfer
    for token in (plain, fee):
        for u in users:
            token.mint(u, 10**24, sender=deployer)
            token.approve(bridge, 10**24, sender=u)
    contracts = {"eth": None, "plain": plain, "fee": fee}

    def address_of(kind):
        return ETH if kind == "eth" else contracts[kind].address

    def held(kind):
        if kind == "eth":
            return chain.provider.web3.eth.get_balance(bridge.address)
        return contracts[kind].balanceOf(bridge)

    class BridgeBalance(RuleBasedStateMachine):
        def __init__(self):
            super().__init__()
            self.snapshot = chain.snapshot()
            self.received = dict.fromkeys(TOKENS, 0)
            self.claimed = dict.fromkeys(TOKENS, 0)
            self.deposits: list[tuple[str, int, int]] = []  # (token, depositor, amount credited)
            self.refunded: set[int] = set()
            self.withdrawals = 0

        @initialize()
        def first_deposit(self):
            self.deposit_eth(0, 10**17)

        @rule(user=st.sampled_from(USERS), amount=st.sampled_from(AMOUNTS))
        def deposit_eth(self, user, amount):
            bridge.depositETH(
                address_recipient(users[user].address), value=amount, sender=users[user]
            )
            self.received["eth"] += amount
            self.deposits.append(("eth", user, amount))

        @rule(
            kind=st.sampled_from(("plain", "fee")),
            user=st.sampled_from(USERS),
            amount=st.sampled_from(AMOUNTS),
        )
        def deposit_erc20(self, kind, user, amount):
            token = contracts[kind]
            to = address_recipient(users[user].address)
            tx = bridge.depositERC20(token, amount, to, sender=users[user])
            credited = tx.events.filter(bridge.DepositQueued)[0].amount
            assert credited <= amount
            self.received[kind] += credited
            self.deposits.append((kind, user, credited))

        @rule(
            kind=st.sampled_from(TOKENS),
            user=st.sampled_from(USERS),
            share=st.sampled_from((1, 2, 4)),
            over=st.booleans(),
        )
        def release_withdrawal(self, kind, user, share, over):
            token = address_of(kind)
            free = bridge.liabilities(token) - bridge.pendingClaims(token)
            amount = free + 1 if over else free // share
            self.withdrawals += 1
            wid = keccak(text=f"withdrawal-{self.withdrawals}")
            if over or amount == 0:
                error = bridge.InsufficientLiabilities if over else bridge.ZeroAmount
                with ape.reverts(error):
                    rollup.release(bridge, wid, token, users[user], amount, sender=deployer)
                return
            rollup.release(bridge, wid, token, users[user], amount, sender=deployer)

        @precondition(lambda self: self.deposits)
        @rule(pick=st.integers(min_value=0, max_value=10**6))
        def refund_deposit(self, pick):
            index = pick % len(self.deposits)
            kind, user, amount = self.deposits[index]
            token = address_of(kind)
            rid = keccak(text=f"refund-{index}")
            free = bridge.liabilities(token) - bridge.pendingClaims(token)
            if index in self.refunded:
                with ape.reverts(bridge.AlreadyReleased):
                    rollup.release(bridge, rid, token, users[user], amount, sender=deployer)
            elif amount > free:  # the funds were already released as withdrawals
                with ape.reverts(bridge.InsufficientLiabilities):
                    rollup.release(bridge, rid, token, users[user], amount, sender=deployer)
            else:
                rollup.release(bridge, rid, token, users[user], amount, sender=deployer)
                self.refunded.add(index)

        @rule(kind=st.sampled_from(TOKENS), user=st.sampled_from(USERS))
        def claim(self, kind, user):
            token = address_of(kind)
            owed = bridge.claimable(users[user], token)
            if owed == 0:
                with ape.reverts(bridge.NothingToClaim):
                    bridge.claim(token, users[user], sender=users[user])
                return
            bridge.claim(token, users[user], sender=users[user])
            self.claimed[kind] += owed

        @rule(kind=st.sampled_from(TOKENS), amount=st.sampled_from(AMOUNTS))
        def send_outside_a_deposit(self, kind, amount):
            # a token transfer or a forced ETH send (selfdestruct, coinbase): balance, not liability
            if kind == "eth":
                w3 = chain.provider.web3
                w3.provider.make_request(
                    "anvil_setBalance", [bridge.address, hex(held("eth") + amount)]
                )
            else:
                contracts[kind].transfer(bridge, amount, sender=alice)

        @invariant()
        def balance_covers_liabilities(self):
            for kind in TOKENS:
                token = address_of(kind)
                owed, pending = bridge.liabilities(token), bridge.pendingClaims(token)
                assert held(kind) >= owed >= pending, kind
                assert owed == self.received[kind] - self.claimed[kind], kind
                assert sum(bridge.claimable(u, token) for u in users) == pending, kind

        def teardown(self):
            chain.restore(self.snapshot)

    run_state_machine_as_test(
        BridgeBalance,
        settings=settings(
            max_examples=5,
            stateful_step_count=20,
            deadline=None,
            suppress_health_check=list(HealthCheck),
        ),
    )
