# SPDX-License-Identifier: GPL-3.0-or-later
"""The zk state rebuilt from L1 alone (offchain/zk/recovery.py, what `l2kit zk force|exit` use
when the operator is gone): the circuit parameters read from the contract (depth from the
genesis root), the state after the accepted batches equal to the builder's, from the genesis or
from a trusted state, and a state that is not this rollup's refused."""

from __future__ import annotations

from dataclasses import replace

import pytest
from zk_helpers import PARAMS, deposit_first_two, submit

from offchain.errors import L2KitError
from offchain.zk.recovery import depth_of_genesis, params_from_l1, rebuild_from_l1
from offchain.zk.state import L2State
from offchain.zk.tree import zero_hashes


def test_depth_of_genesis():
    for depth in (1, 4, 20, 32):
        assert depth_of_genesis(zero_hashes(depth)[depth]) == depth
    assert depth_of_genesis(12345) is None


@pytest.mark.slow  # proves a batch (the session's batch 0)
def test_rebuild_from_l1_matches_the_builder(zk, batch0, alice, bob, deployer, chain):
    w3 = chain.provider.web3
    assert params_from_l1(w3, zk.rollup.address) == PARAMS
    genesis = rebuild_from_l1(w3, zk.rollup.address, PARAMS)
    assert genesis.batches_done == 0 and genesis.root == L2State.empty(PARAMS.depth).root
    deposit_first_two(zk, alice, bob)
    submit(zk, batch0, deployer)
    want = batch0.batch.new_state
    for start in (None, L2State.empty(PARAMS.depth), want):
        got = rebuild_from_l1(w3, zk.rollup.address, PARAMS, start)
        assert (got.root, dict(got.accounts)) == (want.root, dict(want.accounts))
        assert (got.batches_done, got.deposits_done) == (1, 2)
    forged = replace(L2State.empty(PARAMS.depth), batches_done=1)
    with pytest.raises(L2KitError, match="not a state of this rollup"):
        rebuild_from_l1(w3, zk.rollup.address, PARAMS, forged)
    with pytest.raises(L2KitError, match="depth"):
        rebuild_from_l1(w3, zk.rollup.address, PARAMS, L2State.empty(PARAMS.depth + 1))
