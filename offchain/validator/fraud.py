"""What the validator service remembers about a fraud it found while it is proving it (pure data,
no I/O): the commitment it sent (so a retry or a restart reveals that one instead of committing
again), the frauds it could not prove (alarms), and when to skip commit-then-reveal."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from offchain.rollup.proofs import FraudCommitment


@dataclass(frozen=True)
class SentCommitment:
    """A `commitFraud` that was mined: the commitment and its block. The salt is not a secret
    worth keeping (the commitment names our address, so it is useless to anyone else)."""

    commitment: FraudCommitment
    block: int

    def to_json(self) -> dict[str, Any]:
        c = self.commitment
        return {
            "batch": c.batch_index,
            "batch_hash": "0x" + c.batch_hash.hex(),
            "proof_hash": "0x" + c.proof_hash.hex(),
            "challenger": c.challenger,
            "salt": "0x" + c.salt.hex(),
            "block": self.block,
        }

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> SentCommitment:
        c = FraudCommitment(
            int(d["batch"]),
            bytes.fromhex(d["batch_hash"].removeprefix("0x")),
            bytes.fromhex(d["proof_hash"].removeprefix("0x")),
            str(d["challenger"]),
            bytes.fromhex(d["salt"].removeprefix("0x")),
        )
        return cls(c, int(d["block"]))


def reusable(
    sent: dict[str, SentCommitment], proof_hash: bytes, challenger: str
) -> SentCommitment | None:
    """The commitment already sent for this proof from this challenger, if any."""
    s = sent.get("0x" + proof_hash.hex())
    if s is None or s.commitment.challenger.lower() != challenger.lower():
        return None
    return s


def must_prove_now(window_end: int, now: int, margin: float) -> bool:
    """True when the batch's dispute window (ends at `window_end`, L1 seconds) closes within
    `margin` seconds: commit-then-reveal needs at least one more block, so prove directly
    (safety before the bounty; an earlier commitment can still claim the bounty)."""
    return window_end - now < margin


def unproven_alarm(batch: int, error: str) -> str:
    """The alarm text for a fraud the service found but could not prove."""
    return f"fraud in batch {batch} is not proven: {error}"


def cannot_check_alarm(last_error: str | None, since: float | None) -> str:
    """The alarm text for checks that keep failing (or have not succeeded for too long)."""
    why = last_error or (f"no successful check for {since:.0f} s" if since else "no check yet")
    return f"validator cannot check: {why}"
