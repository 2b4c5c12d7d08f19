"""Invariant B1 (contracts/bridge/L1Bridge.sol, docs/checks.md): for every token, the bridge's
balance is at least `liabilities(token)`, which is every amount received by a deposit minus every
amount paid out by `claim`, under seeded random sequences of deposits (ETH, a plain and a
fee-on-transfer ERC-20), withdrawals and refunds released by the rollup (over-releases included),
claims, and funds sent to the bridge outside a deposit.

Checked after every operation, per token: balance >= liabilities >= pendingClaims, liabilities
equals the model's received - claimed, and the claimable credits add up to pendingClaims.
"""

import random
import traceback

import ape
import pytest
from eth_utils import keccak

from offchain.bridge import ETH
from offchain.recipient import address_recipient

AMOUNTS = (1, 999, 10**15, 10**17)
USERS = (0, 1, 2)
TOKENS = ("eth", "plain", "fee")
SEEDS = (1, 2)
STEPS = 60  # operations per seed


pytestmark = pytest.mark.slow  # seeded random operation sequences on Anvil (two seeds, ~30 s each)


@pytest.mark.parametrize("seed", SEEDS)
def test_invariant_bridge_balance_covers_liabilities(
    seed, chain, project, deployer, alice, bob, carol, bridge, rollup
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

    class BridgeBalance:
        def __init__(self):
            self.snapshot = chain.snapshot()
            self.received = dict.fromkeys(TOKENS, 0)
            self.claimed = dict.fromkeys(TOKENS, 0)
            self.deposits: list[tuple[str, int, int]] = []  # (token, depositor, amount credited)
            self.refunded: set[int] = set()
            self.withdrawals = 0

        def first_deposit(self):
            self.deposit_eth(0, 10**17)

        def deposit_eth(self, user, amount):
            bridge.depositETH(
                address_recipient(users[user].address), value=amount, sender=users[user]
            )
            self.received["eth"] += amount
            self.deposits.append(("eth", user, amount))

        def deposit_erc20(self, kind, user, amount):
            token = contracts[kind]
            to = address_recipient(users[user].address)
            tx = bridge.depositERC20(token, amount, to, sender=users[user])
            credited = tx.events.filter(bridge.DepositQueued)[0].amount
            assert credited <= amount
            self.received[kind] += credited
            self.deposits.append((kind, user, credited))

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

        def refund_deposit(self, pick):
            if not self.deposits:
                return
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

        def claim(self, kind, user):
            token = address_of(kind)
            owed = bridge.claimable(users[user], token)
            if owed == 0:
                with ape.reverts(bridge.NothingToClaim):
                    bridge.claim(token, users[user], sender=users[user])
                return
            bridge.claim(token, users[user], sender=users[user])
            self.claimed[kind] += owed

        def send_outside_a_deposit(self, kind, amount):
            # a token transfer or a forced ETH send (selfdestruct, coinbase): balance, not liability
            if kind == "eth":
                w3 = chain.provider.web3
                w3.provider.make_request(
                    "anvil_setBalance", [bridge.address, hex(held("eth") + amount)]
                )
            else:
                contracts[kind].transfer(bridge, amount, sender=alice)

        def balance_covers_liabilities(self):
            for kind in TOKENS:
                token = address_of(kind)
                owed, pending = bridge.liabilities(token), bridge.pendingClaims(token)
                assert held(kind) >= owed >= pending, kind
                assert owed == self.received[kind] - self.claimed[kind], kind
                assert sum(bridge.claimable(u, token) for u in users) == pending, kind

        def teardown(self):
            chain.restore(self.snapshot)

    rng = random.Random(seed)
    user = lambda: rng.choice(USERS)  # noqa: E731
    amount = lambda: rng.choice(AMOUNTS)  # noqa: E731
    kind = lambda: rng.choice(TOKENS)  # noqa: E731
    # (weight, operation, its random arguments)
    operations = [
        (3, "deposit_eth", lambda: {"user": user(), "amount": amount()}),
        (
            3,
            "deposit_erc20",
            lambda: {"kind": rng.choice(("plain", "fee")), "user": user(), "amount": amount()},
        ),
        (
            3,
            "release_withdrawal",
            lambda: {
                "kind": kind(),
                "user": user(),
                "share": rng.choice((1, 2, 4)),
                "over": rng.random() < 0.2,
            },
        ),
        (2, "refund_deposit", lambda: {"pick": rng.randrange(10**6)}),
        (3, "claim", lambda: {"kind": kind(), "user": user()}),
        (1, "send_outside_a_deposit", lambda: {"kind": kind(), "amount": amount()}),
    ]
    weights = [w for w, _, _ in operations]
    machine = BridgeBalance()
    done: list[str] = []
    try:
        machine.first_deposit()
        for _ in range(STEPS):
            _, name, args = rng.choices(operations, weights)[0]
            kwargs = args()
            done.append(f"{name}({kwargs})")
            getattr(machine, name)(**kwargs)
            machine.balance_covers_liabilities()
    except Exception as exc:
        steps = "\n".join(done)
        where = "".join(traceback.format_exception(exc)[-4:])
        raise AssertionError(f"seed {seed}, operations so far:\n{steps}\n{where}") from exc
    finally:
        machine.teardown()
