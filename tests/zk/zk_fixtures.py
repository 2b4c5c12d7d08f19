# SPDX-License-Identifier: GPL-3.0-or-later
"""Fixtures of the zk rollup tests (loaded by conftest.py only when the zk extra is installed):
one development setup per session (cached under .cache/zk, reused across runs while the
circuits are unchanged), the deployed bridge + verifiers + rollup, and the proofs of the scenario
batches, each made once per session.

The in-process provers reuse a proof made in an earlier test for the very same witness (see
`zk_proof_reuse.ReusingProver`): a proof takes ~10 s here, and many tests start by proving the
same deposit-only batch 0 of a freshly deployed system (same snapshot, same addresses)."""

from __future__ import annotations

import pytest
from zk_helpers import (
    ALICE_KEY,
    BOB_KEY,
    GENESIS_DEPOSITS,
    MALLORY_KEY,
    PARAMS,
    SMALL_PARAMS,
    Proven,
    ZkSystem,
    deploy_system,
)
from zk_proof_reuse import ProofLog, ReusingProver

from offchain.zk.batch import build_batch
from offchain.zk.circuit import dev_keys, exit_spec, rollup_spec
from offchain.zk.prover import Groth16Prover, prove_checked
from offchain.zk.state import L2State
from offchain.zk.txs import TxKind, sign_tx


@pytest.fixture(scope="session")
def rollup_keys():
    return dev_keys(rollup_spec(PARAMS))


@pytest.fixture(scope="session")
def small_rollup_keys():
    """Keys of the one-slot circuit (SMALL_PARAMS); made by the first run, cached like the rest."""
    return dev_keys(rollup_spec(SMALL_PARAMS))


@pytest.fixture(scope="session")
def exit_keys():
    assert SMALL_PARAMS.depth == PARAMS.depth  # one exit circuit serves both sizes
    return dev_keys(exit_spec(PARAMS.depth))


@pytest.fixture(scope="session")
def proof_log() -> ProofLog:
    """Which test is running, for the provers' reuse rule (set by `_proof_owner`)."""
    return ProofLog()


@pytest.fixture(autouse=True)
def _proof_owner(proof_log: ProofLog, request: pytest.FixtureRequest):
    proof_log.test = request.node.nodeid
    yield
    proof_log.test = ""


@pytest.fixture(scope="session")
def prover(rollup_keys, proof_log) -> ReusingProver:
    return ReusingProver(Groth16Prover(rollup_keys), proof_log)


@pytest.fixture(scope="session")
def small_prover(small_rollup_keys, proof_log) -> ReusingProver:
    return ReusingProver(Groth16Prover(small_rollup_keys), proof_log)


@pytest.fixture(scope="session")
def exit_prover(exit_keys, proof_log) -> ReusingProver:
    return ReusingProver(Groth16Prover(exit_keys), proof_log)


@pytest.fixture(scope="session")
def zk(project, deployer, chain, rollup_keys, exit_keys) -> ZkSystem:
    return deploy_system(project, deployer, chain, PARAMS, rollup_keys, exit_keys)


@pytest.fixture(scope="session")
def batch0(zk, prover, carol) -> Proven:
    """Batch 0: both deposits, Alice pays Bob 0.3 ETH, Bob withdraws 0.1 ETH to Carol on L1."""
    dom = zk.domain
    txs = (
        sign_tx(ALICE_KEY, dom, TxKind.TRANSFER, 0, 1, 3 * 10**17, 0),
        sign_tx(BOB_KEY, dom, TxKind.WITHDRAW, 1, int(carol.address, 16), 10**17, 0),
    )
    batch = build_batch(
        PARAMS, L2State.empty(PARAMS.depth), zk.chain_id, zk.rollup_int, GENESIS_DEPOSITS, txs
    )
    return Proven(batch, prove_checked(prover, batch.inputs, batch.public_inputs))


def _unchecked(prover, zk, state, deposits, txs) -> Proven:
    """Prove an invalid batch without the local check (groth16py still returns a proof)."""
    batch = build_batch(PARAMS, state, zk.chain_id, zk.rollup_int, deposits, txs, strict=False)
    proof = prover.prove(batch.inputs)
    assert not prover.verify(proof, batch.public_inputs), "an invalid batch verified locally"
    return Proven(batch, proof)


@pytest.fixture(scope="session")
def bad_signature_batch(zk, prover) -> Proven:
    """Mallory signs a withdrawal of Alice's leaf to herself."""
    mallory_l1 = 0x00000000000000000000000000000000000BAD01
    tx = sign_tx(MALLORY_KEY, zk.domain, TxKind.WITHDRAW, 0, mallory_l1, 10**17, 0)
    return _unchecked(prover, zk, L2State.empty(PARAMS.depth), GENESIS_DEPOSITS, (tx,))


@pytest.fixture(scope="session")
def overspend_batch(zk, prover) -> Proven:
    """Bob (0.5 ETH) signs a withdrawal of 2 ETH."""
    tx = sign_tx(BOB_KEY, zk.domain, TxKind.WITHDRAW, 1, 0xB0B, 2 * 10**18, 0)
    return _unchecked(prover, zk, L2State.empty(PARAMS.depth), GENESIS_DEPOSITS, (tx,))


@pytest.fixture(scope="session")
def replayed_nonce_batch(zk, prover, batch0) -> Proven:
    """After batch 0, Alice's nonce-0 transfer to Bob is posted again (her nonce is 1)."""
    replay = batch0.batch.txs[0]
    return _unchecked(prover, zk, batch0.batch.new_state, (), (replay,))
