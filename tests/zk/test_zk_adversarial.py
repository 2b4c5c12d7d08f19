# SPDX-License-Identifier: GPL-3.0-or-later
"""Every kind of invalid batch is rejected on chain (Anvil), and the state does not move."""

from __future__ import annotations

import ape
import pytest
from zk_helpers import BOB_KEY, deposit_first_two, submit

from offchain.zk.batch import BatchError, build_batch
from offchain.zk.prover import ProofRejected, prove_checked
from offchain.zk.txs import TxKind, sign_tx

pytestmark = pytest.mark.slow  # every test proves (or fails to prove) a zk batch


def _assert_unchanged(zk, root) -> None:
    assert zk.rollup.stateRoot() == root
    assert zk.rollup.batchCount() == 0
    assert zk.rollup.depositsProcessed() == 0


@pytest.mark.parametrize("which", ["bad_signature_batch", "overspend_batch"])
def test_invalid_witness_proof_rejected(zk, which, request, alice, bob, deployer):
    proven = request.getfixturevalue(which)
    deposit_first_two(zk, alice, bob)
    root = zk.rollup.stateRoot()
    with ape.reverts(zk.rollup.InvalidProof):
        submit(zk, proven, deployer)
    _assert_unchanged(zk, root)


def test_replayed_l2_transaction_wrong_nonce_rejected(
    zk, batch0, replayed_nonce_batch, alice, bob, deployer
):
    deposit_first_two(zk, alice, bob)
    submit(zk, batch0, deployer)
    root = zk.rollup.stateRoot()
    with ape.reverts(zk.rollup.InvalidProof):
        submit(zk, replayed_nonce_batch, deployer)
    assert zk.rollup.stateRoot() == root
    assert zk.rollup.batchCount() == 1


def test_strict_builder_and_local_verification_refuse_invalid_batches(
    zk, prover, batch0, bad_signature_batch, overspend_batch, replayed_nonce_batch
):
    # The batcher never gets that far: the strict builder names the problem...
    state0 = bad_signature_batch.batch.old_state
    with pytest.raises(BatchError, match="signature"):
        build_batch(
            batch0.batch.params,
            state0,
            zk.chain_id,
            zk.rollup_int,
            bad_signature_batch.batch.deposits,
            bad_signature_batch.batch.txs,
        )
    with pytest.raises(BatchError, match="spends"):
        build_batch(
            batch0.batch.params,
            state0,
            zk.chain_id,
            zk.rollup_int,
            overspend_batch.batch.deposits,
            overspend_batch.batch.txs,
        )
    with pytest.raises(BatchError, match="nonce"):
        build_batch(
            batch0.batch.params,
            batch0.batch.new_state,
            zk.chain_id,
            zk.rollup_int,
            (),
            replayed_nonce_batch.batch.txs,
        )
    # ...and the local verifier refuses a proof of an unsatisfied witness.
    with pytest.raises(ProofRejected):
        prove_checked(
            _ReplayProver(overspend_batch.proof, prover),
            overspend_batch.batch.inputs,
            overspend_batch.batch.public_inputs,
        )


class _ReplayProver:
    """Returns a fixed proof (the one groth16py made for an invalid witness)."""

    def __init__(self, proof, inner) -> None:
        self._proof = proof
        self._inner = inner

    def prove(self, inputs):
        return self._proof

    def verify(self, proof, public_inputs):
        return self._inner.verify(proof, public_inputs)


def test_wrong_new_root_rejected(zk, batch0, alice, bob, deployer):
    deposit_first_two(zk, alice, bob)
    root = zk.rollup.stateRoot()
    with ape.reverts(zk.rollup.InvalidProof):
        submit(zk, batch0, deployer, new_root=batch0.batch.new_state.root ^ 1)
    _assert_unchanged(zk, root)


def test_replayed_proof_rejected(zk, batch0, alice, bob, deployer):
    deposit_first_two(zk, alice, bob)
    submit(zk, batch0, deployer)
    # The same deposits are queued again, so the queue check passes and only the proof decides:
    # the contract now asks for the new root as old root and batch index 1 in the header.
    deposit_first_two(zk, alice, bob)
    with ape.reverts(zk.rollup.InvalidProof):
        submit(zk, batch0, deployer)
    assert zk.rollup.batchCount() == 1


def _replace(data: bytes, offset: int, new: bytes) -> bytes:
    return data[:offset] + new + data[offset + len(new) :]


@pytest.mark.parametrize(
    ("what", "offset", "new"),
    [
        ("withdrawal recipient", 61 + 5, bytes.fromhex("000000000000000000000000000000000000BAD1")),
        ("withdrawal amount", 61 + 25, (10**18).to_bytes(16, "big")),
        ("transfer receiver", 5, (2).to_bytes(20, "big")),
        ("transaction type", 61, b"\x01"),
    ],
)
def test_tampered_transaction_data_rejected(zk, batch0, alice, bob, deployer, what, offset, new):
    deposit_first_two(zk, alice, bob)
    _, _, tx_data, _ = batch0.args()
    tampered = _replace(tx_data, offset, new)
    assert tampered != tx_data, what
    with ape.reverts(zk.rollup.InvalidProof):
        submit(zk, batch0, deployer, tx_data=tampered)


def test_tampered_deposit_leaf_rejected(zk, batch0, alice, bob, deployer):
    deposit_first_two(zk, alice, bob)
    _, deposits, _, _ = batch0.args()
    moved = [list(d) for d in deposits]
    moved[0][4] = 5  # credit Alice's deposit to another leaf than the one proven
    with ape.reverts(zk.rollup.InvalidProof):
        submit(zk, batch0, deployer, deposits=[tuple(d) for d in moved])


def test_tampered_proof_rejected(zk, batch0, alice, bob, deployer):
    deposit_first_two(zk, alice, bob)
    proof = list(batch0.args()[3])
    proof[6], proof[7] = proof[0], proof[1]  # C := A, still a curve point
    with ape.reverts(zk.rollup.InvalidProof):
        submit(zk, batch0, deployer, proof=proof)
    garbage = [1, 3, *proof[2:]]  # A not on the curve: the precompile fails, still InvalidProof
    with ape.reverts(zk.rollup.InvalidProof):
        submit(zk, batch0, deployer, proof=garbage)


def test_deposits_must_match_the_bridge_queue(zk, batch0, alice, bob, deployer):
    deposit_first_two(zk, alice, bob)
    _, deposits, _, _ = batch0.args()
    changed = [list(d) for d in deposits]
    changed[1][1] += 1  # claim Bob deposited one wei more
    with ape.reverts(zk.rollup.DepositsMismatch):
        submit(zk, batch0, deployer, deposits=[tuple(d) for d in changed])
    with ape.reverts(zk.rollup.DepositsMismatch):
        submit(zk, batch0, deployer, deposits=[deposits[1], deposits[0]])  # out of order


def test_deposits_not_yet_queued(zk, batch0, alice, deployer):
    with ape.reverts(zk.rollup.DepositsNotQueued, end=2, queued=0):
        submit(zk, batch0, deployer)


def test_bad_tx_data_length(zk, batch0, alice, bob, deployer):
    deposit_first_two(zk, alice, bob)
    _, _, tx_data, _ = batch0.args()
    with ape.reverts(zk.rollup.BadTxDataLength, length=len(tx_data) - 1, expected=len(tx_data)):
        submit(zk, batch0, deployer, tx_data=tx_data[:-1])


def test_too_many_deposits(zk, batch0, alice, bob, deployer):
    deposit_first_two(zk, alice, bob)
    _, deposits, _, _ = batch0.args()
    with ape.reverts(zk.rollup.TooManyDeposits, count=3, slots=2):
        submit(zk, batch0, deployer, deposits=[*deposits, deposits[0]])


def test_signature_bound_to_rollup_domain(zk, batch0):
    # A signature for another deployment (different domain) does not verify for this one.
    other = sign_tx(BOB_KEY, zk.domain ^ 1, TxKind.WITHDRAW, 1, 0xB0B, 1, 1)
    with pytest.raises(BatchError, match="signature"):
        build_batch(
            batch0.batch.params,
            batch0.batch.new_state,
            zk.chain_id,
            zk.rollup_int,
            (),
            (other,),
        )
