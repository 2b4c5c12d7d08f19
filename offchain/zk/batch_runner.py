# SPDX-License-Identifier: GPL-3.0-or-later
"""The zk batcher: take the next bridge deposits, the next forced withdrawals of the rollup's L1
queue (first, so none waits for its deadline) and pending L2 transactions, build the witness,
prove, verify locally, post public data plus proof, and persist the new state once accepted."""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from eth_utils import to_checksum_address
from hexbytes import HexBytes
from web3 import Web3

from offchain.chain import abi_of
from offchain.l1.sender import L1Sender, Reverted, SendPolicy, WouldRevert
from offchain.zk.batch import Batch, build_batch
from offchain.zk.chain import read_deposits, read_forced, submit_calldata
from offchain.zk.params import CircuitParams
from offchain.zk.prover import Proof, Prover, prove_checked
from offchain.zk.state import L2State
from offchain.zk.txs import ForcedWithdrawal, Tx


class SubmitFailed(RuntimeError):
    """L1 rejected the batch; the operator state is unchanged."""


@dataclass(frozen=True)
class BatchReceipt:
    batch: Batch
    proof: Proof
    tx_hash: bytes
    gas_used: int
    calldata_bytes: int
    prove_seconds: float


class ZkBatchRunner:
    """Runs batches for one ZkRollup. The state file (if given) is rewritten after every accepted
    batch and read back on start, so a restart continues where it stopped."""

    def __init__(
        self,
        web3: Any,
        account: Any,
        rollup: str,
        bridge: str,
        params: CircuitParams,
        prover: Prover,
        state_path: Path | None = None,
        policy: SendPolicy | None = None,
    ) -> None:
        self.web3 = web3
        self.account = account
        self.sender = L1Sender(web3, account, policy)
        self.rollup = to_checksum_address(rollup)
        self.bridge = to_checksum_address(bridge)
        # read through the compiled ABIs (no hand-written selectors to drift from the contracts)
        self._rollup = web3.eth.contract(address=self.rollup, abi=abi_of("ZkRollup"))
        self._bridge = web3.eth.contract(address=self.bridge, abi=abi_of("L1Bridge"))
        self.params = params
        self.prover = prover
        self.state_path = state_path
        self.chain_id = int(web3.eth.chain_id)
        if state_path is not None and state_path.exists():
            self.state = L2State.load(state_path)
        else:
            self.state = L2State.empty(params.depth)

    @property
    def domain(self) -> int:
        return (self.chain_id << 160) | int(self.rollup, 16)

    def pending_deposits(self) -> tuple:
        """The next deposits of the queue, as many as fit one batch."""
        queued = self._deposit_count()
        count = min(self.params.n_deposits, queued - self.state.deposits_done)
        return read_deposits(self.web3, self.bridge, self.state.deposits_done, count)

    def pending_forced(self, room: int | None = None) -> tuple[ForcedWithdrawal, ...]:
        """The oldest forced withdrawals the rollup has queued and no batch processed yet, at
        most `room` (default: every transaction slot)."""
        queued = int(self._rollup.functions.forcedCount().call())
        room = self.params.n_txs if room is None else room
        count = min(room, queued - self.state.forced_done)
        return read_forced(self.web3, self.rollup, self.state.forced_done, count)

    def build(
        self,
        txs: tuple[Tx, ...],
        deposits: tuple | None = None,
        forced: tuple[ForcedWithdrawal, ...] | None = None,
    ) -> Batch:
        if deposits is None:
            deposits = self.pending_deposits()
        if forced is None:
            # Forced withdrawals first: the slots left over go to the L2 transactions.
            forced = self.pending_forced(self.params.n_txs - len(txs))
        return build_batch(
            self.params,
            self.state,
            self.chain_id,
            int(self.rollup, 16),
            deposits,
            txs,
            forced=forced,
        )

    def run_batch(
        self, txs: tuple[Tx, ...] = (), forced: tuple[ForcedWithdrawal, ...] | None = None
    ) -> BatchReceipt:
        """Build, prove (verified locally first), post, then adopt and persist the new state.
        Queued forced withdrawals take the slots `txs` leaves free (pass `forced` to choose)."""
        batch = self.build(txs, forced=forced)
        started = time.perf_counter()
        proof = prove_checked(self.prover, batch.inputs, batch.public_inputs)
        prove_seconds = time.perf_counter() - started
        data = submit_calldata(batch, proof)
        tx_hash, gas_used = self._send(data)
        self.state = batch.new_state
        if self.state_path is not None:
            self.state.save(self.state_path)
        return BatchReceipt(batch, proof, tx_hash, gas_used, len(data), prove_seconds)

    def _deposit_count(self) -> int:
        return int(self._bridge.functions.depositCount().call())

    def _send(self, data: bytes) -> tuple[bytes, int]:
        """Post through the one L1 sender (fees and gas from the node, replacement on a stall)."""
        try:
            sent = self.sender.send({"to": self.rollup, "data": Web3.to_hex(data)})
        except WouldRevert as exc:  # the node explains the revert; nothing was sent
            raise SubmitFailed(
                f"submitBatch would revert ({exc}): the L1 state moved (another batch landed, or "
                "the deposit queue differs from the state file); rebuild from the chain and retry"
            ) from exc
        except Reverted as exc:
            raise SubmitFailed(
                f"submitBatch reverted in tx {exc.tx_hash}: the L1 state moved (another batch "
                "landed, or deposits changed); rebuild the batch from the chain and retry"
            ) from exc
        return bytes(HexBytes(sent.tx_hash)), int(sent.receipt["gasUsed"])
