"""`l2kit operator ...` on Anvil: bond what is required, see it in status, unbond it back; a bond
locked by a batch still in its challenge window cannot be withdrawn."""

from __future__ import annotations

import json

from conftest import ONE, PARAMS, advance, key_of


def ok(result) -> dict:
    assert result.exit_code == 0, result.stderr + result.stdout
    return json.loads(result.stdout)


def test_bond_status_unbond(l2kit, w3, bob):
    b = key_of(bob)
    status = ok(l2kit.run("operator", "bond", "--yes", "--json", key=b))
    assert status["bond"] == status["required_bond"] == str(ONE)
    again = l2kit.run("operator", "bond", "--yes", key=b)
    assert again.exit_code == 1 and "already covers" in again.stderr
    ok(l2kit.run("operator", "bond", "0.5", "--yes", "--json", key=b))
    shown = ok(l2kit.run("operator", "status", bob.address, "--json"))
    assert shown["bond"] == str(15 * 10**17) and shown["bond_locked"] == "0"
    before = w3.eth.get_balance(bob.address)
    out = ok(l2kit.run("operator", "unbond", "all", "--json", key=b))
    assert out["bond"] == "0"
    assert w3.eth.get_balance(bob.address) > before + 14 * 10**17  # back, minus gas


def test_bond_locked_until_its_batch_is_final(l2kit, w3, project, deployment, bob):
    b = key_of(bob)
    ok(l2kit.run("operator", "bond", "--yes", "--json", key=b))
    rollup = project.Rollup.at(deployment.address("Rollup"))
    # An empty batch on the genesis root: one commitment with no txs (postRoot = preRoot).
    root = bytes(rollup.head()[0])
    commitment = root + bytes(4) + bytes(3)  # v2: postRoot, four zero counts, feeAccount
    rollup.postBatch(root, commitment, sender=bob)
    locked = ok(l2kit.run("operator", "status", bob.address, "--json"))
    # The posting locked one batch's bond: nothing is free while the batch can be disputed.
    assert locked["bond_locked"] == str(ONE) and locked["bond"] == "0"
    refused = l2kit.run("operator", "unbond", "all", key=b)
    assert refused.exit_code == 1 and "still in their challenge window" in refused.stderr
    advance(w3, PARAMS.challenge_period + 1)
    assert ok(l2kit.run("operator", "unbond", "all", "--json", key=b))["bond"] == "0"


def test_stranded_bond_class_unbond_releases_rolled_back_slots(
    l2kit, w3, project, deployment, accounts, bob
):
    """Bob's honest batch sits on a lie that is then proven: the rollback leaves his bond in the
    rolled-back slot, which `releaseBonds` (final batches only) never reaches; `unbond` finds the
    slot and releases it (on main: refused as "still in their challenge window", forever)."""
    from eth_utils import keccak as _keccak

    from offchain.rollup.codec import encode_batch
    from offchain.rollup.execute import execute
    from offchain.rollup.proofs import fraud_proof
    from offchain.rollup.state import L2State
    from offchain.rollup.types import Commitment

    rollup = project.Rollup.at(deployment.address("Rollup"))
    cheat, prover = accounts[4], accounts[5]
    rollup.bond(value=ONE, sender=cheat)
    ok(l2kit.run("operator", "bond", "--yes", "--json", key=key_of(bob)))
    root = bytes(rollup.head()[0])
    lie = _keccak(b"lie")
    empty_lie = Commitment(lie, 0, 0, 0)  # v2: post_root, depositEnd, forcedEnd, feeAccount
    rollup.postBatch(root, encode_batch([empty_lie]), sender=cheat)
    rollup.postBatch(lie, encode_batch([empty_lie]), sender=bob)
    proof = fraud_proof(0, [empty_lie], 0, (), execute(L2State(), empty_lie, ()))
    rollup.proveFraud(proof.as_abi(), sender=prover)
    assert rollup.batchCount() == 0 and rollup.batchBond(1) == ONE
    out = ok(l2kit.run("operator", "unbond", "all", "--json", key=key_of(bob)))
    assert out["bond"] == "0" and out["bond_locked"] == "0"
    assert rollup.batchBond(1) == 0
