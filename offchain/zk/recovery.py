# SPDX-License-Identifier: GPL-3.0-or-later
"""The zk rollup's state from L1 data alone: what a user whose operator censors or disappears
needs to force a withdrawal, exit or get a deposit refunded (`l2kit zk force|exit|refund`).

The genesis (the empty tree) plus every accepted batch read back from L1
(offchain/zk/l1_batches.py) and replayed from its public data (offchain/zk/replay.py), exactly
as the zk batcher recovers when it has lost its state file."""

from __future__ import annotations

from typing import Any

from eth_utils import to_checksum_address

from offchain.chain import abi_of
from offchain.errors import L2KitError
from offchain.zk.l1_batches import read_posted_batches
from offchain.zk.params import CircuitParams
from offchain.zk.replay import ReplayError, replay_batch
from offchain.zk.state import L2State
from offchain.zk.tree import zero_hashes

MAX_DEPTH = 32


def depth_of_genesis(genesis_root: int) -> int | None:
    """The tree depth whose empty root is `genesis_root` (`rootAt(0)`), if any (1..32)."""
    zs = zero_hashes(MAX_DEPTH)
    for depth in range(1, MAX_DEPTH + 1):
        if zs[depth] == genesis_root:
            return depth
    return None


def rollup_contract(w3: Any, rollup: str) -> Any:
    return w3.eth.contract(address=to_checksum_address(rollup), abi=abi_of("ZkRollup"))


def params_from_l1(w3: Any, rollup: str) -> CircuitParams:
    """The circuit parameters of a deployed ZkRollup: its `txSlots` and `depositSlots`, and the
    depth whose empty tree is its genesis root (which must be its declared `treeDepth`)."""
    c = rollup_contract(w3, rollup)
    genesis = int(c.functions.rootAt(0).call())
    depth = depth_of_genesis(genesis)
    if depth is None:
        raise L2KitError(
            f"the genesis root {genesis:#x} of {rollup} is not an empty tree of depth 1..32"
        )
    declared = int(c.functions.treeDepth().call())
    if declared != depth:
        raise L2KitError(
            f"{rollup} declares tree depth {declared} but its genesis root is the empty tree of "
            f"depth {depth}: its compact slots cannot be read"
        )
    return CircuitParams(
        int(c.functions.txSlots().call()), int(c.functions.depositSlots().call()), depth
    )


def rebuild_from_l1(
    w3: Any, rollup: str, params: CircuitParams, start: L2State | None = None
) -> L2State:
    """The state after every batch L1 accepted: from `start` (a state the caller trusts, e.g. a
    state file) or the genesis, replaying each later batch; checked against L1's root."""
    c = rollup_contract(w3, rollup)
    head = int(w3.eth.block_number)  # one block: count and root agree
    count = int(c.functions.batchCount().call(block_identifier=head))
    l1_root = int(c.functions.stateRoot().call(block_identifier=head))
    state = L2State.empty(params.depth) if start is None else start
    if state.tree.depth != params.depth:
        raise L2KitError(f"the state has depth {state.tree.depth}, the rollup {params.depth}")
    if state.batches_done > count:
        raise L2KitError(
            f"the state is at batch {state.batches_done}, L1 has accepted only {count} batches"
        )
    if state.root != int(c.functions.rootAt(state.batches_done).call(block_identifier=head)):
        raise L2KitError(
            f"the state (batch {state.batches_done}, root {state.root:#x}) is not a state of this "
            "rollup: drop --state to rebuild from L1 alone"
        )
    for batch in read_posted_batches(w3, rollup, state.batches_done, count):
        try:
            state = replay_batch(state, batch)
        except ReplayError as exc:
            raise L2KitError(f"cannot replay batch {batch.batch_index} from L1: {exc}") from exc
    if state.root != l1_root:
        raise L2KitError(f"the rebuilt root {state.root:#x} is not L1's {l1_root:#x}")
    return state
