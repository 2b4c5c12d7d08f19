"""Validator: rebuild the L2 state from L1 data alone and prove the first wrong commitment."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .l1 import RollupL1, Signer
from .replay import ReplayResult, replay


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

    def challenge(self) -> tuple[ReplayResult, Any | None]:
        """Check, and if a commitment is wrong submit its fraud proof; returns the receipt."""
        result = self.check()
        if result.fraud is None:
            return result, None
        fn = self.l1.rollup.functions.proveFraud(result.fraud.proof.as_abi())
        return result, self.signer.send(fn)
