# SPDX-License-Identifier: GPL-3.0-or-later
"""Every kind of invalid batch is rejected on chain (Anvil), and the state does not move."""

from __future__ import annotations

import ape
import pytest
from zk_helpers import BOB_KEY, FIXED_GAS, PARAMS, deposit_first_two, submit

from offchain.zk import pubdata
from offchain.zk.batch import BatchError, build_batch
from offchain.zk.prover import ProofRejected, prove_checked
from offchain.zk.tree import zero_hashes
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


# Batch 0's txData (format v2, depth 4): slot 0 = transfer 0 -> 1 of 0.3 ETH, slot 1 = Bob's
# withdrawal, then its payout record (Carol 20 | token 20 | amount 16).
_SLOT = PARAMS.slot_bytes
_REC = PARAMS.n_txs * _SLOT


def _slot(kind: int, from_index: int, to: int, amount: int) -> bytes:
    return pubdata.compact_slot(kind, from_index, to, amount, PARAMS.depth)


@pytest.mark.parametrize(
    ("what", "tamper"),
    [
        ("withdrawal recipient", lambda d: _replace(d, _REC, bytes.fromhex("00" * 18 + "BAD1"))),
        ("withdrawal token", lambda d: _replace(d, _REC + 20, bytes.fromhex("00" * 19 + "01"))),
        ("withdrawal amount", lambda d: _replace(d, _REC + 40, (10**18).to_bytes(16, "big"))),
        ("transfer receiver", lambda d: _replace(d, 0, _slot(1, 0, 2, 3 * 10**17))),
        ("transfer amount", lambda d: _replace(d, 0, _slot(1, 0, 1, 4 * 10**17))),
        ("transfer sender", lambda d: _replace(d, 0, _slot(1, 1, 1, 3 * 10**17))),
        # The withdrawal posted as a transfer (no record then, so the length still matches).
        ("transaction type", lambda d: d[:_SLOT] + _slot(1, 1, 0, 10**17)),
        # The same amount as a non-canonical float (mantissa 30, exponent 16).
        ("float encoding", lambda d: _replace(d, 0, _noncanonical_transfer())),
    ],
)
def test_tampered_transaction_data_rejected(zk, batch0, alice, bob, deployer, what, tamper):
    deposit_first_two(zk, alice, bob)
    _, _, tx_data, _ = batch0.args()
    tampered = tamper(tx_data)
    assert tampered != tx_data and len(tampered) == len(tx_data) - (what == "transaction type") * 56
    with ape.reverts(zk.rollup.InvalidProof):
        submit(zk, batch0, deployer, tx_data=tampered)


def _noncanonical_transfer() -> bytes:
    depth = PARAMS.depth
    value = (1 << (2 * depth)) | (0 << depth) | 1
    value = (value << pubdata.FLOAT_BITS) | (30 << pubdata.EXPONENT_BITS) | 16
    pad = PARAMS.slot_bytes * 8 - pubdata.slot_bits(depth)
    raw = (value << pad).to_bytes(PARAMS.slot_bytes, "big")
    with pytest.raises(pubdata.PubdataError, match="canonical"):
        pubdata.decode_tx_data(raw + _slot(0, 0, 0, 0), PARAMS.n_txs, depth)
    return raw


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
    # A record no payout slot uses (the zero records are the contract's to write).
    extra = tx_data + bytes(pubdata.RECORD_BYTES)
    with ape.reverts(zk.rollup.BadTxDataLength, length=len(extra), expected=len(tx_data)):
        submit(zk, batch0, deployer, tx_data=extra)
    # Shorter than the compact slots.
    with ape.reverts(zk.rollup.BadTxDataLength, length=3, expected=_REC):
        submit(zk, batch0, deployer, tx_data=tx_data[:3])


def test_too_many_payouts(project, zk, deployer):
    """A batch has W payout records (W = 2 for N = 3): a third withdrawal slot is refused before
    any proof is checked."""
    rollup = deployer.deploy(
        project.ZkRollup,
        zk.bridge,
        zk.batch_verifier,
        zk.exit_verifier,
        zero_hashes(PARAMS.depth)[PARAMS.depth],
        3,
        2,
        3600,
        600,
        PARAMS.depth,
    )
    assert rollup.payoutSlots() == 2 == pubdata.payout_slots(3)
    data = _slot(2, 0, 0, 0) * 3 + bytes(3 * pubdata.RECORD_BYTES)
    with ape.reverts(rollup.TooManyPayouts, count=3, records=2):
        rollup.submitBatch(0, [], data, [0] * 8, sender=deployer, gas=FIXED_GAS)


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
