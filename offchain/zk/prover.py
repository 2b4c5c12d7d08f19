# SPDX-License-Identifier: GPL-3.0-or-later
"""The prover interface of the zk batcher, and its groth16py implementation."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import groth16py

from offchain.zk.circuit import CircuitKeys

PROOF_BYTES = 256


@dataclass(frozen=True)
class Proof:
    """A Groth16 proof as 8 words: A (x, y), B (x.c1, x.c0, y.c1, y.c0), C (x, y) - the word
    order of the BN254 pairing precompile."""

    blob: bytes

    def __post_init__(self) -> None:
        if len(self.blob) != PROOF_BYTES:
            raise ValueError(f"a proof is {PROOF_BYTES} bytes, got {len(self.blob)}")

    @property
    def words(self) -> tuple[int, ...]:
        return tuple(int.from_bytes(self.blob[i : i + 32], "big") for i in range(0, 256, 32))


class ProofRejected(RuntimeError):
    """The local verifier refused a proof: the witness does not satisfy the circuit."""


class Prover(Protocol):
    """What the zk batcher needs from a proof system."""

    def prove(self, inputs: Mapping[str, Any]) -> Proof: ...

    def verify(self, proof: Proof, public_inputs: Sequence[int]) -> bool: ...


class Groth16Prover:
    """groth16py behind the Prover interface (witness generation and proving in-process)."""

    def __init__(self, keys: CircuitKeys) -> None:
        self._keys = keys
        self._verifier = groth16py.Verifier(keys.verifying_key)

    def prove(self, inputs: Mapping[str, Any]) -> Proof:
        return Proof(groth16py.prove(self._keys.proving_key, dict(inputs)))

    def verify(self, proof: Proof, public_inputs: Sequence[int]) -> bool:
        return bool(self._verifier.verify(proof.blob, list(public_inputs)))


def prove_checked(prover: Prover, inputs: Mapping[str, Any], public: Sequence[int]) -> Proof:
    """Prove and verify locally. groth16py returns a proof even for an unsatisfied witness, so
    nothing may be posted before this check passes."""
    proof = prover.prove(inputs)
    if not prover.verify(proof, public):
        raise ProofRejected(
            "the local verifier rejected the proof: the batch witness does not satisfy the "
            "circuit (check signatures, nonces, balances and the state root)"
        )
    return proof
