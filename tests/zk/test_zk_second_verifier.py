# SPDX-License-Identifier: GPL-3.0-or-later
"""The project's Groth16 proofs checked by a second, independent verifier (py_ecc's BN254
pairing, tests/zk/zk_pairing_verifier.py), beside groth16py and Groth16Verifier.sol.

It reuses the session's batch-0 proof (no extra proving); each check is about 1 s."""

from __future__ import annotations

from py_ecc.optimized_bn128 import FQ, multiply, normalize
from zk_pairing_verifier import verify

from offchain.zk.field import SNARK_FIELD


def test_batch_proof_verifies_with_py_ecc(zk, batch0, rollup_keys):
    vk = rollup_keys.verifying_key_json()
    words = list(batch0.proof.words)
    public = list(batch0.batch.public_inputs)
    # the three verifiers agree on the valid proof
    assert verify(vk, words, public)
    assert zk.batch_verifier.verifyProof(words, public)

    # a tampered proof: C replaced by another point of G1 (2·C, still on the curve)
    c2 = normalize(multiply((FQ(words[6]), FQ(words[7]), FQ.one()), 2))
    tampered = [*words[:6], int(c2[0]), int(c2[1])]
    assert not verify(vk, tampered, public)
    assert not zk.batch_verifier.verifyProof(tampered, public)

    # a wrong public input: the new root one higher
    wrong = [public[0], (public[1] + 1) % SNARK_FIELD, public[2]]
    assert not verify(vk, words, wrong)
    assert not zk.batch_verifier.verifyProof(words, wrong)


def test_py_ecc_verifier_refuses_malformed(batch0, rollup_keys):
    """Cheap refusals (no pairing): input count, non-canonical input, point off the curve."""
    vk = rollup_keys.verifying_key_json()
    words = list(batch0.proof.words)
    public = list(batch0.batch.public_inputs)
    assert not verify(vk, words, public[:2])
    assert not verify(vk, words, [public[0] + SNARK_FIELD, *public[1:]])
    assert not verify(vk, [words[0], words[1] ^ 1, *words[2:]], public)
    assert not verify(vk, [*words[:2], words[2] ^ 1, *words[3:]], public)
