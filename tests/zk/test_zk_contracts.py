# SPDX-License-Identifier: GPL-3.0-or-later
"""Deployment checks of the zk contracts and the verifier's refusal paths."""

from __future__ import annotations

import ape
from zk_helpers import FREEZE_PERIOD, PARAMS, deposit_first_two

from offchain.zk.circuit import verifier_args
from offchain.zk.field import SNARK_FIELD
from offchain.zk.tree import zero_hashes

Q = 21888242871839275222246405745257275088696311157297823662689037894645226208583


def test_verifier_accepts_valid_and_refuses_malformed(zk, batch0):
    proof = list(batch0.proof.words)
    inputs = list(batch0.batch.public_inputs)
    assert zk.batch_verifier.inputCount() == 3
    assert zk.exit_verifier.inputCount() == 5
    assert zk.batch_verifier.verifyProof(proof, inputs)
    # An input shifted by the field modulus is the same statement mod r: refused, not accepted.
    assert not zk.batch_verifier.verifyProof(proof, [inputs[0] + SNARK_FIELD, *inputs[1:]])
    assert not zk.batch_verifier.verifyProof([proof[0] + Q, *proof[1:]], inputs)
    assert not zk.batch_verifier.verifyProof(proof, inputs[:2])
    assert not zk.exit_verifier.verifyProof(proof, [*inputs, 0, 0])


def test_verifier_constructor_checks(project, deployer, rollup_keys):
    alpha, beta, gamma, delta, ic = verifier_args(rollup_keys)
    with ape.reverts(project.Groth16Verifier.InvalidVerifyingKey):
        deployer.deploy(project.Groth16Verifier, alpha, [Q, *beta[1:]], gamma, delta, ic)
    with ape.reverts(project.Groth16Verifier.InvalidVerifyingKey):
        deployer.deploy(project.Groth16Verifier, alpha, beta, gamma, delta, [Q, *ic[1:]])
    with ape.reverts(project.Groth16Verifier.InvalidVerifyingKey):
        deployer.deploy(project.Groth16Verifier, [Q, alpha[1]], beta, gamma, delta, ic)
    for bad in (ic[:2], ic[:3], ic + ic[:6]):
        with ape.reverts(project.Groth16Verifier.UnsupportedInputCount):
            deployer.deploy(project.Groth16Verifier, alpha, beta, gamma, delta, bad)


def test_rollup_constructor_checks(project, deployer, zk):
    genesis = zero_hashes(PARAMS.depth)[PARAMS.depth]
    good = [zk.bridge, zk.batch_verifier, zk.exit_verifier, genesis, 2, 2, FREEZE_PERIOD, 600, 4]
    bad_variants = [
        (deployer.address, *good[1:]),  # bridge without code
        (good[0], deployer.address, *good[2:]),
        (*good[:2], deployer.address, *good[3:]),
        (*good[:3], SNARK_FIELD, *good[4:]),
        (*good[:4], 0, *good[5:]),
        (*good[:5], 0, *good[6:]),
        (*good[:6], 0, *good[7:]),
        (*good[:7], 0, good[8]),
        (*good[:7], 2**32, good[8]),
        (*good[:8], 0),  # tree depth
        (*good[:8], 33),
    ]
    for args in bad_variants:
        with ape.reverts(project.ZkRollup.InvalidConfig):
            deployer.deploy(project.ZkRollup, *args)


def test_initial_state_and_domain(zk, chain):
    assert zk.rollup.stateRoot() == zero_hashes(PARAMS.depth)[PARAMS.depth]
    assert zk.rollup.domain() == zk.domain
    assert (zk.rollup.txSlots(), zk.rollup.depositSlots()) == (PARAMS.n_txs, PARAMS.n_deposits)
    assert (zk.rollup.payoutSlots(), zk.rollup.treeDepth()) == (PARAMS.n_payouts, PARAMS.depth)
    assert zk.rollup.slotBytes() == PARAMS.slot_bytes
    assert zk.bridge.rollup() == zk.rollup.address


def test_only_the_rollup_releases(zk, alice, bob):
    deposit_first_two(zk, alice, bob)
    with ape.reverts(zk.bridge.NotRollup):
        zk.bridge.releaseWithdrawal(b"\x01" * 32, "0x" + "00" * 20, alice, 1, sender=alice)
