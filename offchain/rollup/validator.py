"""Validator: rebuild the L2 state from L1 data alone and prove the first wrong commitment."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .l1 import BatchReading, RollupL1, Signer
from .replay import ReplayResult, replay


@dataclass(frozen=True)
class Inspection:
    """One look at the rollup: what L1 holds, and the replay of its readable prefix."""

    reading: BatchReading
    result: ReplayResult


@dataclass
class Validator:
    l1: RollupL1
    signer: Signer

    def check(self) -> ReplayResult:
        """Replay every live batch from its posting calldata, the bridge's deposit logs and the
        rollup's forced-queue logs."""
        return replay(
            self.l1.posted_batches(),
            self.l1.deposit_queue(),
            self.l1.separator(),
            self.l1.forced_queue(),
        )

    def inspect(self) -> Inspection:
        """Like `check`, but a batch that cannot be read from L1 is reported, not raised: the
        batches before it are replayed (a fraud among them can still be proven)."""
        reading = self.l1.read_batches()
        result = replay(
            reading.batches,
            self.l1.deposit_queue(),
            self.l1.separator(),
            self.l1.forced_queue(),
        )
        return Inspection(reading, result)

    def challenge(self) -> tuple[ReplayResult, Any | None]:
        """Check, and if a commitment is wrong submit its fraud proof; returns the receipt."""
        result = self.check()
        if result.fraud is None:
            return result, None
        fn = self.l1.rollup.functions.proveFraud(result.fraud.proof.as_abi())
        return result, self.signer.send(fn)
