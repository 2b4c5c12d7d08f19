# SPDX-License-Identifier: GPL-3.0-or-later
"""A test prover that reuses, in a later test, a proof made for the very same witness.

A Groth16 proof of the test circuit takes ~10 s on the shared machine, and many tests prove the
same statement: each deploys a fresh system from the same chain snapshot (so the same addresses)
and starts with the deposit-only batch 0 of the same two deposits. Any valid proof of a statement
is as good as another, so a proof made once can serve the later tests; nothing else changes: the
code under test still calls `prove`, still verifies the proof locally (`prove_checked`), and L1
still verifies it on chain.

The one thing a reused proof could hide is a re-proof where the code should have reused what it
recorded (after a restart the operator must resend its recorded batch, not prove it again: a
fresh proof would differ, and a second transaction would follow). So a proof is reused only
across tests, never within one: the second request for the same witness in one test gets a fresh
proof, as without this class."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from offchain.zk.prover import Proof, Prover


@dataclass
class ProofLog:
    """The running test's id (set per test by the fixtures) and how often a proof was reused."""

    test: str = ""
    reused: int = 0
    made: int = 0


def witness_key(inputs: Mapping[str, Any]) -> str:
    """A digest of the exact witness inputs (every signal, in a canonical encoding)."""
    canonical = json.dumps(inputs, sort_keys=True, default=str, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


@dataclass
class _Entry:
    proof: Proof
    served: set[str] = field(default_factory=set)


class ReusingProver:
    """`inner` behind the Prover interface, reusing proofs across tests (see the module doc)."""

    def __init__(self, inner: Prover, log: ProofLog) -> None:
        self._inner = inner
        self._log = log
        self._proofs: dict[str, _Entry] = {}

    def prove(self, inputs: Mapping[str, Any]) -> Proof:
        key = witness_key(inputs)
        test = self._log.test
        entry = self._proofs.get(key)
        if entry is not None and test and test not in entry.served:
            entry.served.add(test)
            self._log.reused += 1
            return entry.proof
        proof = self._inner.prove(inputs)
        self._proofs[key] = _Entry(proof, {test})
        self._log.made += 1
        return proof

    def verify(self, proof: Proof, public_inputs: Sequence[int]) -> bool:
        return self._inner.verify(proof, public_inputs)
