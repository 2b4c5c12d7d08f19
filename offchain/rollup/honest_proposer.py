"""The honest proposer of the optimistic rollup, as a library (tests, benchmarks, demo): keeps
the L2 state, builds batches and posts them. The operator service is offchain/sequencer/."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .builder import BuiltBatch, build_batch
from .l1 import RollupL1, Signer
from .state import L2State
from .store import load_state, save_state
from .types import SignedTx


@dataclass
class HonestProposer:
    l1: RollupL1
    signer: Signer
    fee_account: int = 0
    state: L2State = field(default_factory=L2State)
    store: Path | None = None  # where the state is saved after every posting

    @classmethod
    def resume(
        cls, l1: RollupL1, signer: Signer, store: Path, fee_account: int = 0
    ) -> HonestProposer:
        """An operator restarted from its saved state (a fresh one if nothing was saved)."""
        state = load_state(store) if store.exists() else L2State()
        return cls(l1, signer, fee_account, state, store)

    def build(self, txs: Sequence[SignedTx]) -> tuple[BuiltBatch, L2State]:
        """A batch of every deposit and forced tx not yet consumed plus `txs` (invalid ones
        dropped)."""
        queue = self.l1.deposit_queue()
        forced = self.l1.forced_queue()
        return build_batch(
            self.state,
            queue[self.state.deposit_end :],
            txs,
            fee_account=self.fee_account,
            forced=forced[self.state.forced_end :],
        )

    def post(self, batch: BuiltBatch, new_state: L2State) -> Any:
        """Post `batch` (topping the free bond up to the batch bond it locks); the operator's
        state moves on only once the posting is mined."""
        self.l1.ensure_free_bond(self.signer)
        receipt = self.signer.send(self.l1.rollup.functions.postBatch(batch.pre_root, batch.data))
        self.state = new_state
        if self.store is not None:
            save_state(new_state, self.store)
        return receipt

    def step(self, txs: Sequence[SignedTx]) -> tuple[BuiltBatch, Any]:
        batch, new_state = self.build(txs)
        return batch, self.post(batch, new_state)
