"""The honest proposer of the optimistic rollup, as a library (tests, benchmarks, demo): keeps
the L2 state, builds batches and posts them. The operator service is offchain/sequencer/."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from offchain.blobs.cost import PostingMode
from offchain.l1.sender import Reverted, WouldRevert

from . import blob_post
from .builder import BuiltBatch, build_batch
from .l1 import RollupL1, Signer, TxFailed
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
    #: Where batch data goes (`blob_post.DaSetting`): calldata (the library's default, one
    #: postBatch per batch), blobs, or auto (the cheaper per posting at the node's fees).
    da: blob_post.DaSetting = blob_post.DaSetting.CALLDATA
    #: Fees for the auto choice (None: the node's); blob wrapper form (None: ask the node).
    fee_source: blob_post.FeeSource | None = None
    cell_proofs: bool | None = None
    #: The DA choice of the last posting, and the last posting's receipt.
    last_choice: blob_post.DaChoice | None = None
    last_receipt: Any = None

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

    def build_on(self, state: L2State, txs: Sequence[SignedTx]) -> tuple[BuiltBatch, L2State]:
        """`build` on `state` instead of the posted state: the next of several batches posted
        together (`post_all`)."""
        queue = self.l1.deposit_queue()
        forced = self.l1.forced_queue()
        return build_batch(
            state,
            queue[state.deposit_end :],
            txs,
            fee_account=self.fee_account,
            forced=forced[state.forced_end :],
        )

    def post_all(self, built: Sequence[tuple[BuiltBatch, L2State]]) -> list[int]:
        """Post batches built one on another (`build`, then `build_on` the state before):
        grouped into postings (`blob_post.group_batches`), each sent as the DA setting (and in
        auto mode the fees) choose. Returns the batch indexes posted; TxFailed if L1 refuses."""
        out: list[int] = []
        rest = list(built)
        groups = blob_post.group_batches(
            [blob_post.commitment_pairs([c.commitment for c in b.commitments]) for b, _ in rest]
        )
        for group in groups:
            chunk, rest = rest[: len(group)], rest[len(group) :]
            pre_root = chunk[0][0].pre_root
            fees = (self.fee_source or blob_post.node_fees_source(self.l1.w3))()
            self.last_choice = blob_post.choose_da(self.da, pre_root, group, fees)
            if self.last_choice.mode is PostingMode.CALLDATA:
                for batch, state in chunk:
                    out.append(int(self.l1.rollup.functions.batchCount().call()))
                    self._post_calldata(batch, state)
                continue
            out.extend(self._post_blobs(chunk, group))
        return out

    def _post_blobs(
        self, chunk: Sequence[tuple[BuiltBatch, L2State]], group: Sequence[blob_post.Pairs]
    ) -> tuple[int, ...]:
        self.l1.ensure_free_bond(self.signer, len(chunk))
        if self.cell_proofs is None:
            self.cell_proofs = blob_post.detect_cell_proofs(self.l1.w3)
        try:
            posted = blob_post.post_blob_batches(
                self.signer.sender,
                self.l1.rollup.address,
                chunk[0][0].pre_root,
                blob_post.lay_out(group),
                first_index=int(self.l1.rollup.functions.batchCount().call()),
                cell_proofs=self.cell_proofs,
            )
        except (Reverted, WouldRevert) as exc:
            raise TxFailed(str(exc)) from exc
        self.last_receipt = posted.receipt
        self._moved_to(chunk[-1][1])
        return posted.indexes

    def _moved_to(self, new_state: L2State) -> None:
        self.state = new_state
        if self.store is not None:
            save_state(new_state, self.store)

    def post(self, batch: BuiltBatch, new_state: L2State) -> Any:
        """Post `batch` (topping the free bond up to the batch bond it locks) as the DA setting
        says; the operator's state moves on only once the posting is mined. Returns the
        posting's receipt."""
        if self.da is not blob_post.DaSetting.CALLDATA:
            self.post_all([(batch, new_state)])
            return self.last_receipt
        return self._post_calldata(batch, new_state)

    def _post_calldata(self, batch: BuiltBatch, new_state: L2State) -> Any:
        self.l1.ensure_free_bond(self.signer)
        receipt = self.signer.send(self.l1.rollup.functions.postBatch(batch.pre_root, batch.data))
        self.last_receipt = receipt
        self._moved_to(new_state)
        return receipt

    def step(self, txs: Sequence[SignedTx]) -> tuple[BuiltBatch, Any]:
        batch, new_state = self.build(txs)
        return batch, self.post(batch, new_state)
