"""Invariant R2 (docs/checks.md), "bonds back every disputable batch": a stateful property test
on Anvil (issue #9 item 3): under random sequences of bonding, honest
and fraudulent postings, fraud proofs (rollbacks), releases, withdrawals, time passing, freezes
and bounty settlements, every disputable batch is backed by its own full bond, and the rollup's
ETH is exactly free bonds + locked bonds + rewards + open bounties + burned."""

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
from rollup_helpers import BOND, CHALLENGE_PERIOD, LIVENESS_PERIOD, empty_proof, lie, post_empty

from offchain.chain import abi_of
from offchain.rollup.l1 import TxFailed

#: RollupTypes.Bounty's field names, in ABI order (read by name: the struct grows).
BOUNTY_FIELDS = [
    c["name"]
    for c in next(e for e in abi_of("Rollup") if e.get("name") == "bounties")["outputs"][0][
        "components"
    ]
]

pytestmark = pytest.mark.slow  # random operation sequences on Anvil

PROPOSERS = (1, 2, 3)
CHALLENGER = 9
GAS = 3_000_000


def test_invariant_every_disputable_batch_is_backed_by_a_bond(env, chain):
    f = env.l1.rollup.functions

    def bounty(b: int) -> dict:
        return dict(zip(BOUNTY_FIELDS, f.bounties(b).call(), strict=True))

    addr = {i: env.accounts[i].address for i in (*PROPOSERS, CHALLENGER)}

    class Bonds(RuleBasedStateMachine):
        def __init__(self):
            super().__init__()
            self.snapshot = chain.snapshot()
            self.claims: dict[int, bytes] = {}  # live batch index -> claimed root if a lie
            self.slots = 0  # highest batch index ever posted + 1
            self.lies = 0
            self.bounties: list[int] = []

        def teardown(self):
            chain.restore(self.snapshot)

        def _send(self, i, fn):
            env.signer(i).send(fn, gas=GAS)

        @initialize()
        def bond_everyone(self):
            for p in PROPOSERS:
                env.bond(p, 2 * BOND)

        @rule(p=st.sampled_from(PROPOSERS), n=st.integers(1, 2))
        def bond(self, p, n):
            env.bond(p, n * BOND)

        @rule(p=st.sampled_from(PROPOSERS), honest=st.booleans())
        def post(self, p, honest):
            if f.frozen().call():
                return
            self.lies += 1
            claimed = None if honest else lie(self.lies)
            try:
                index = post_empty(env, p, claimed)
            except TxFailed:  # InsufficientBond: nothing changed
                assert f.bondOf(addr[p]).call() < BOND
                return
            self.claims = {k: v for k, v in self.claims.items() if k < index}
            if claimed is not None:
                self.claims[index] = claimed
            self.slots = max(self.slots, index + 1)

        @rule(data=st.data())
        def prove(self, data):
            open_lies = [i for i, r in self.claims.items() if f.isDisputable(i).call()]
            if not open_lies:
                return
            i = data.draw(st.sampled_from(sorted(open_lies)))
            proof = empty_proof(env, i, self.claims[i])
            receipt = env.signer(CHALLENGER).send(f.proveFraud(proof.as_abi()), gas=GAS)
            logs = env.l1.rollup.events.BountyOpened().process_receipt(receipt)
            self.bounties.append(logs[0]["args"]["id"])
            self.claims = {k: v for k, v in self.claims.items() if k < i}

        @rule(p=st.sampled_from(PROPOSERS))
        def withdraw_all(self, p):
            free = f.bondOf(addr[p]).call()
            if free:
                self._send(p, f.withdrawBond(free, addr[p]))
            assert f.bondOf(addr[p]).call() == 0 or f.lockedBondOf(addr[p]).call() >= 0

        @rule(data=st.data())
        def release(self, data):
            if not self.slots:
                return
            i = data.draw(st.integers(0, self.slots - 1))
            if f.batchBond(i).call() and not f.isDisputable(i).call():
                self._send(CHALLENGER, f.releaseBond(i))

        @rule(seconds=st.sampled_from((CHALLENGE_PERIOD // 2, CHALLENGE_PERIOD)))
        def advance(self, seconds):
            env.advance(seconds)

        @rule()
        def stall_and_freeze(self):
            """Nothing final for the liveness period, one more posting, then a freeze."""
            if f.frozen().call() or self.slots < 3:
                return
            env.advance(LIVENESS_PERIOD + 1)
            if f.freezeReason().call():
                self._send(CHALLENGER, f.freeze())

        @rule()
        def settle(self):
            now = env.w3.eth.get_block("latest")["timestamp"]
            for b in self.bounties:
                stored = bounty(b)
                if stored["amount"] and now >= stored["claimUntil"]:
                    self._send(CHALLENGER, f.settleBounty(b))

        @invariant()
        def every_disputable_batch_is_backed(self):
            locked = 0
            for i in range(self.slots):
                bond = f.batchBond(i).call()
                locked += bond
                if f.isDisputable(i).call():
                    assert bond == BOND, f"disputable batch {i} holds {bond}"
            assert locked == sum(f.lockedBondOf(addr[p]).call() for p in PROPOSERS)

        @invariant()
        def every_wei_is_accounted_for(self):
            held = env.w3.eth.get_balance(env.rollup.address)
            owed = sum(f.bondOf(addr[p]).call() + f.lockedBondOf(addr[p]).call() for p in PROPOSERS)
            owed += sum(f.rewardOf(addr[i]).call() for i in addr)
            owed += sum(bounty(b)["amount"] for b in self.bounties)
            assert held == owed + f.burned().call()

    run_state_machine_as_test(
        Bonds,
        settings=settings(
            max_examples=8,
            stateful_step_count=18,
            deadline=None,
            suppress_health_check=list(HealthCheck),
        ),
    )
