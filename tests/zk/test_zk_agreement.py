# SPDX-License-Identifier: GPL-3.0-or-later
"""The Python Poseidon tree, leaf hash and EdDSA signer agree with the circuits: random small
trees, a random leaf, proven by the exit circuit (leaf hash + Merkle path + EdDSA-Poseidon)."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from offchain.zk.babyjub import PrivateKey
from offchain.zk.exit import build_exit, sign_exit
from offchain.zk.state import Account, L2State

DEPTH = 4


@settings(
    max_examples=4,
    deadline=None,
    # Each example proves; shrinking would re-prove dozens of times.
    phases=[Phase.explicit, Phase.reuse, Phase.generate],
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    accounts=st.dictionaries(
        st.integers(0, 2**DEPTH - 1),
        st.tuples(
            st.binary(min_size=32, max_size=32),
            st.integers(0, 2**160 - 1),
            st.integers(1, 2**192 - 1),
            st.integers(0, 2**32),
        ),
        min_size=1,
        max_size=4,
    ),
    pick=st.integers(0, 3),
    recipient=st.integers(1, 2**160 - 1),
    domain=st.integers(0, 2**224 - 1),
)
@pytest.mark.slow  # computes a circuit witness
def test_python_state_and_signer_agree_with_circuit(exit_prover, accounts, pick, recipient, domain):
    state = L2State.empty(DEPTH)
    keys = {}
    for idx, (seed, token, balance, nonce) in accounts.items():
        key = PrivateKey(seed)
        keys[idx] = key
        state = state.with_account(idx, Account(*key.public_key, token, balance, nonce))
    leaf = sorted(accounts)[pick % len(accounts)]
    sig = sign_exit(keys[leaf], state, domain, leaf, recipient)
    claim = build_exit(state, domain, leaf, recipient, sig)
    proof = exit_prover.prove(claim.inputs)
    assert exit_prover.verify(proof, claim.public_inputs)
    # The same proof against another root (one leaf changed) fails: the root is really bound.
    before = state.account(leaf)
    other = state.with_account(leaf, Account(*before.pubkey, before.token, before.balance + 1, 0))
    public = list(claim.public_inputs)
    public[0] = other.root
    assert not exit_prover.verify(proof, public)
