# SPDX-License-Identifier: GPL-3.0-or-later
"""Build parameters of the rollup circuit."""

from __future__ import annotations

from dataclasses import dataclass

from offchain.zk.pubdata import payout_slots, slot_bytes, total_bytes


@dataclass(frozen=True)
class CircuitParams:
    """N transaction slots, D deposit slots per batch, account tree depth."""

    n_txs: int
    n_deposits: int
    depth: int

    def __post_init__(self) -> None:
        if self.n_txs < 1 or self.n_deposits < 1:
            raise ValueError("a batch needs at least one transaction and one deposit slot")
        if not 1 <= self.depth <= 32:
            raise ValueError(
                f"tree depth must be 1..32 (leaf indices are 4 bytes), got {self.depth}"
            )

    @property
    def n_payouts(self) -> int:
        """W, the payout records per batch (withdrawals and forced withdrawals it can carry)."""
        return payout_slots(self.n_txs)

    @property
    def slot_bytes(self) -> int:
        """Bytes of one compact transaction slot at this depth."""
        return slot_bytes(self.depth)

    @property
    def pubdata_bytes(self) -> int:
        """Bytes the circuit hashes."""
        return total_bytes(self.n_txs, self.n_deposits, self.depth)

    @property
    def tag(self) -> str:
        return f"n{self.n_txs}-d{self.n_deposits}-h{self.depth}"
