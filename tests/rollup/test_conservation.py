"""Invariant R1 (docs/checks.md), "funds conservation": a stateful property test on Anvil.
After every step (deposit, transfer, withdraw, post, finalize + claim) what the bridge holds
equals L2 balances + queued deposits not yet consumed + withdrawals executed on L2 but not yet
claimed on L1."""

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    rule,
    run_state_machine_as_test,
)
from rollup_helpers import CHALLENGE_PERIOD, ETH
from web3 import Web3

from offchain.rollup.wallet import sign_transfer, sign_withdraw

USERS = (1, 2, 3, 4)
AMOUNTS = (10**15, 10**16, 10**17, 10**18)


@pytest.mark.slow  # hypothesis on Anvil
def test_invariant_funds_are_conserved(env, chain):
    env.bond(0)
    env.register(*USERS)  # before the snapshot: every example starts with the keys active

    class Conservation(RuleBasedStateMachine):
        def __init__(self):
            super().__init__()
            self.snapshot = chain.snapshot()
            self.op = env.operator()
            self.pending = []
            self.nonces: dict[int, int] = {}
            self.withdrawn = 0
            self.claimed = 0
            self.released: set[bytes] = set()

        def _index(self, user):
            owner = env.addr(user)
            for i, a in self.op.state.accounts.items():
                if a.owner == owner:
                    return i
            return None

        def _nonce(self, i):
            return self.nonces.get(i, self.op.state.account(i).nonce)

        @initialize()
        def open_accounts(self):
            for user in USERS:
                env.deposit_eth(user, 10**18)
            self.post()

        @rule(user=st.sampled_from(USERS), amount=st.sampled_from(AMOUNTS))
        def deposit(self, user, amount):
            env.deposit_eth(user, amount)

        @rule(a=st.sampled_from(USERS), b=st.sampled_from(USERS), amount=st.sampled_from(AMOUNTS))
        def transfer(self, a, b, amount):
            i, j = self._index(a), self._index(b)
            if i is None or j is None:
                return
            n = self._nonce(i)
            self.pending.append(sign_transfer(env.bls(a), env.dst, i, j, amount, 0, n))
            self.nonces[i] = n + 1

        @rule(user=st.sampled_from(USERS), amount=st.sampled_from(AMOUNTS))
        def withdraw(self, user, amount):
            i = self._index(user)
            if i is None:
                return
            n = self._nonce(i)
            self.pending.append(sign_withdraw(env.bls(user), env.dst, i, amount, 0, n))
            self.nonces[i] = n + 1

        @rule()
        def post(self):
            queued = env.bridge.depositCount()
            if not self.pending and queued == self.op.state.deposit_end:
                return
            try:
                batch, _ = self.op.step(self.pending)
            except ValueError as e:  # every pending tx was invalid (e.g. overspend): none posted
                assert "nothing to post" in str(e)
                self.pending, self.nonces = [], {}
                return
            self.withdrawn += sum(
                w.amount for c in batch.commitments for w in c.execution.withdrawals
            )
            self.pending = []
            self.nonces = {}

        @rule()
        def finalize_and_claim(self):
            env.advance(CHALLENGE_PERIOD)
            result = env.validator().check()
            assert result.fraud is None
            assert result.state.root == self.op.state.root
            owners = set()
            for claim in result.withdrawals:
                if claim.withdrawal_id in self.released:
                    continue
                env.signer(5).send(env.l1.rollup.functions.finalizeWithdrawal(claim.as_abi()))
                self.released.add(claim.withdrawal_id)
                owners.add(claim.owner)
            for owner in owners:
                user = next(u for u in USERS if env.addr(u) == owner)
                amount = env.bridge.claimable(owner, ETH)
                env.signer(user).send(
                    env.l1.bridge.functions.claim(ETH, Web3.to_checksum_address(owner))
                )
                self.claimed += amount

        def teardown(self):
            chain.restore(self.snapshot)

        @invariant()
        def conserved(self):
            queue = env.l1.deposit_queue()
            unconsumed = sum(d.amount for d in queue[self.op.state.deposit_end :])
            l2 = self.op.state.total_balance(ETH)
            held = env.w3.eth.get_balance(env.bridge.address)
            assert env.bridge.liabilities(ETH) == held
            assert held == l2 + unconsumed + (self.withdrawn - self.claimed)

    run_state_machine_as_test(
        Conservation,
        settings=settings(
            max_examples=8,
            stateful_step_count=20,
            deadline=None,
            suppress_health_check=list(HealthCheck),
        ),
    )
