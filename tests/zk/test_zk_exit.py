# SPDX-License-Identifier: GPL-3.0-or-later
"""Emergency exit: with no batch for `freezePeriod` the rollup freezes, batches stop, and every
account exits with its balance in the last proven root (exit-circuit proof), once."""

from __future__ import annotations

from dataclasses import replace

import ape
import pytest
from zk_helpers import (
    ALICE_KEY,
    BOB_KEY,
    FIXED_GAS,
    FREEZE_PERIOD,
    MALLORY_KEY,
    deposit_first_two,
    submit,
)

from offchain.zk.chain import exit_args
from offchain.zk.exit import build_exit, exit_message, sign_exit
from offchain.zk.prover import prove_checked

ETH = "0x" + "00" * 20


def _freeze(chain) -> None:
    chain.mine(1, timestamp=chain.pending_timestamp + FREEZE_PERIOD + 1)


@pytest.fixture
def proven_and_frozen(zk, batch0, alice, bob, deployer, chain):
    deposit_first_two(zk, alice, bob)
    submit(zk, batch0, deployer)
    assert not zk.rollup.frozen()
    _freeze(chain)
    assert zk.rollup.frozen()
    return batch0.batch.new_state


def _exit_proof(zk, exit_prover, state, key, leaf, recipient):
    sig = sign_exit(key, state, zk.domain, leaf, int(recipient.address, 16))
    claim = build_exit(state, zk.domain, leaf, int(recipient.address, 16), sig)
    return claim, prove_checked(exit_prover, claim.inputs, claim.public_inputs)


def test_everyone_exits_with_last_proven_balance(
    zk, exit_prover, proven_and_frozen, alice, bob, carol
):
    state = proven_and_frozen
    for key, leaf, who in ((ALICE_KEY, 0, alice), (BOB_KEY, 1, bob)):
        claim, proof = _exit_proof(zk, exit_prover, state, key, leaf, who)
        receipt = zk.rollup.exit(*exit_args(claim, proof), sender=who, gas=FIXED_GAS)
        ev = receipt.decode_logs(zk.rollup.Exited)[0]
        assert (ev.leafIndex, ev.recipient, ev.amount) == (leaf, who.address, claim.balance)
        assert zk.rollup.exited(leaf)
        assert zk.bridge.claimable(who, ETH) == state.account(leaf).balance
    assert zk.bridge.claimable(alice, ETH) == 7 * 10**17
    assert zk.bridge.claimable(bob, ETH) == 7 * 10**17
    for who in (alice, bob, carol):
        zk.bridge.claim(ETH, who, sender=who, gas=FIXED_GAS)
    # Every wei deposited is paid back out: nothing stuck in the bridge.
    assert zk.bridge.liabilities(ETH) == 0


def test_exit_only_once(zk, exit_prover, proven_and_frozen, alice):
    claim, proof = _exit_proof(zk, exit_prover, proven_and_frozen, ALICE_KEY, 0, alice)
    zk.rollup.exit(*exit_args(claim, proof), sender=alice, gas=FIXED_GAS)
    with ape.reverts(zk.rollup.AlreadyExited, leafIndex=0):
        zk.rollup.exit(*exit_args(claim, proof), sender=alice, gas=FIXED_GAS)


def test_exit_needs_the_owners_signature(zk, exit_prover, proven_and_frozen, alice):
    state = proven_and_frozen
    mallory_l1 = 0xBAD
    acct = state.account(0)
    sig = MALLORY_KEY.sign(exit_message(zk.domain, 0, mallory_l1, acct.balance, acct.nonce))
    with pytest.raises(ValueError, match="signature"):
        build_exit(state, zk.domain, 0, mallory_l1, sig)
    # Forced past the Python check, the proof does not verify on chain either.
    honest_sig = sign_exit(ALICE_KEY, state, zk.domain, 0, mallory_l1)
    claim = build_exit(state, zk.domain, 0, mallory_l1, honest_sig)
    forged = replace(
        claim, inputs={**claim.inputs, "sigR8x": sig.r8[0], "sigR8y": sig.r8[1], "sigS": sig.s}
    )
    proof = exit_prover.prove(forged.inputs)
    assert not exit_prover.verify(proof, forged.public_inputs)
    with ape.reverts(zk.rollup.InvalidProof):
        zk.rollup.exit(*exit_args(forged, proof), sender=alice, gas=FIXED_GAS)


def test_exit_amount_and_recipient_bound_to_proof(zk, exit_prover, proven_and_frozen, alice, bob):
    claim, proof = _exit_proof(zk, exit_prover, proven_and_frozen, ALICE_KEY, 0, alice)
    leaf, token, balance, recipient, words = exit_args(claim, proof)
    with ape.reverts(zk.rollup.InvalidProof):
        zk.rollup.exit(leaf, token, balance + 1, recipient, words, sender=alice, gas=FIXED_GAS)
    with ape.reverts(zk.rollup.InvalidProof):
        zk.rollup.exit(leaf, token, balance, bob.address, words, sender=bob, gas=FIXED_GAS)
    with ape.reverts(zk.rollup.InvalidProof):
        zk.rollup.exit(1, token, balance, recipient, words, sender=alice, gas=FIXED_GAS)


def test_exit_nothing(zk, proven_and_frozen, alice):
    words = [0] * 8
    with ape.reverts(zk.rollup.NothingToExit):
        zk.rollup.exit(0, ETH, 0, alice, words, sender=alice, gas=FIXED_GAS)
    with ape.reverts(zk.rollup.NothingToExit):
        zk.rollup.exit(0, ETH, 1, ETH, words, sender=alice, gas=FIXED_GAS)


def test_no_exit_before_freeze(zk, batch0, alice, bob, deployer):
    deposit_first_two(zk, alice, bob)
    submit(zk, batch0, deployer)
    with ape.reverts(zk.rollup.NotFrozen):
        zk.rollup.exit(0, ETH, 1, alice, [0] * 8, sender=alice, gas=FIXED_GAS)


def test_no_batch_after_freeze(zk, batch0, alice, bob, deployer, chain):
    deposit_first_two(zk, alice, bob)
    _freeze(chain)
    with ape.reverts(zk.rollup.RollupFrozen):
        submit(zk, batch0, deployer)
