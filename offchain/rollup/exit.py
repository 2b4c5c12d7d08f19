"""Emergency exit: after a freeze, every user leaves with the balance of the last final state.

Pure core: `exit_state` replays the frozen (final) batches from their posting calldata, the
bridge's deposit logs and the forced-queue logs, and checks the result against the contract's
`frozenRoot`; `exit_claims` and `refund_claims` turn it into the arguments of
`Rollup.exitFrozen` and `Rollup.refundDeposit`. The L1 reads are in `read_frozen` / `exit_plan`
and `freeze_status` (the edges): nothing here needs the operator.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import IntEnum

from eth_abi import encode as abi_encode
from eth_utils import to_checksum_address

from .checkpoint import Checkpoint, check_anchor, verify_from
from .hashing import keccak
from .l1 import RollupL1, UnreadableBatch
from .replay import PostedBatch, replay
from .state import L2State
from .types import QueuedDeposit, QueuedForced, norm_address


class FreezeReason(IntEnum):
    """Why the rollup can be (or was) frozen: RollupTypes.FreezeReason."""

    NONE = 0
    FORCED_TX_EXPIRED = 1
    DEPOSITS_CENSORED = 2
    NO_FINALIZATION = 3


class ExitError(ValueError):
    """The L1 data does not give a usable exit state (see the message for what to do)."""


@dataclass(frozen=True)
class FrozenView:
    """What the contract fixed at freeze time."""

    root: bytes
    batch_count: int
    deposit_end: int
    forced_end: int


@dataclass(frozen=True)
class ExitClaim:
    """Arguments of `Rollup.exitFrozen` for one account."""

    account_index: int
    owner: str
    token: str
    amount: int
    leaf: bytes
    siblings: tuple[bytes, ...]

    @property
    def withdrawal_id(self) -> bytes:
        return keccak(abi_encode(["string", "uint256"], ["exit", self.account_index]))

    def as_args(self) -> tuple[int, bytes, bytes]:
        return (self.account_index, self.leaf, b"".join(self.siblings))


@dataclass(frozen=True)
class RefundClaim:
    """Arguments of `Rollup.refundDeposit` for one deposit the frozen state never credited."""

    index: int
    token: str
    amount: int
    owner: str

    @property
    def recipient(self) -> bytes:
        return b"\x01" + bytes.fromhex(self.owner[2:])

    @property
    def withdrawal_id(self) -> bytes:
        return keccak(abi_encode(["string", "uint256"], ["refund", self.index]))

    def as_args(self) -> tuple[int, str, int, bytes]:
        return (self.index, to_checksum_address(self.token), self.amount, self.recipient)


@dataclass(frozen=True)
class ExitPlan:
    """Everything one owner can claim after a freeze (already-paid claims filtered out)."""

    frozen: FrozenView
    exits: tuple[ExitClaim, ...]
    refunds: tuple[RefundClaim, ...]


def exit_state(
    batches: Sequence[PostedBatch],
    deposits: Sequence[QueuedDeposit],
    forced: Sequence[QueuedForced],
    dst: bytes,
    frozen: FrozenView,
) -> L2State:
    """Replay the frozen batches and check the result is the contract's exit state. Only state
    transitions are replayed: the batches that survive a freeze are final, their aggregates
    stand whatever they are (`dst`, the rollup's BLS tag, goes to replay unused)."""
    if len(batches) != frozen.batch_count:
        raise ExitError(
            f"{len(batches)} batches given but {frozen.batch_count} survived the freeze: "
            "pass exactly the live batches (RollupL1.posted_batches)"
        )
    result = replay(batches, deposits, dst, forced)
    if result.fraud is not None:  # cannot happen for final batches unless the data is wrong
        raise ExitError(
            f"batch {result.fraud.batch_index} does not re-execute ({result.fraud.fault.name}): "
            "the L1 data read is not the posted data"
        )
    state = result.state
    if state.root != frozen.root or state.deposit_end != frozen.deposit_end:
        raise ExitError(
            f"replayed root 0x{state.root.hex()} (deposits {state.deposit_end}) is not the frozen "
            f"root 0x{frozen.root.hex()} (deposits {frozen.deposit_end}): wrong contract or logs"
        )
    return state


def exit_claims(state: L2State, owner: str | None = None) -> list[ExitClaim]:
    """One claim per non-empty account (of `owner`, or of everyone), in index order."""
    want = norm_address(owner) if owner is not None else None
    out = []
    for index in sorted(state.accounts):
        acc = state.accounts[index]
        if acc.is_empty or acc.balance == 0 or (want is not None and acc.owner != want):
            continue
        out.append(
            ExitClaim(
                index,
                acc.owner,
                acc.token,
                acc.balance,
                acc.packed(),
                tuple(state.tree.proof(index)),
            )
        )
    return out


def refund_claims(
    deposits: Sequence[QueuedDeposit], frozen_deposit_end: int, owner: str | None = None
) -> list[RefundClaim]:
    """One claim per deposit at or after the frozen deposit position (of `owner`, or all)."""
    want = norm_address(owner) if owner is not None else None
    return [
        RefundClaim(d.index, d.token, d.amount, d.owner)
        for d in deposits[frozen_deposit_end:]
        if want is None or d.owner == want
    ]


# ------------------------------------------------------------------------ L1 edges


def read_frozen(l1: RollupL1) -> FrozenView:
    """The frozen snapshot, or ExitError if the rollup is not frozen."""
    r = l1.rollup.functions
    if not r.frozen().call():
        raise ExitError(
            "the rollup is not frozen: exits open only after `freeze()` (see freeze_status)"
        )
    return FrozenView(
        root=bytes(r.frozenRoot().call()),
        batch_count=r.batchCount().call(),
        deposit_end=r.frozenDepositEnd().call(),
        forced_end=r.frozenForcedEnd().call(),
    )


def exit_state_from_checkpoint(l1: RollupL1, frozen: FrozenView, checkpoint: Checkpoint) -> L2State:
    """The exit state rebuilt from a checkpoint the user chose to trust (their own, or a
    validator's): it must be of this deployment and anchored at a live batch at or below the
    frozen head on the canonical chain (so its state is the one L1 recorded for a final batch);
    only the batches after it are replayed, and the result must still be `frozenRoot`."""
    why = check_anchor(l1, checkpoint.anchor)
    if why is not None:
        raise ExitError(
            f"{checkpoint.describe()} refused: {why}; use another checkpoint or --from-genesis"
        )
    if checkpoint.batches > frozen.batch_count:  # check_anchor's liveness implies it: belt
        raise ExitError(
            f"{checkpoint.describe()} is past the {frozen.batch_count} batches that survived "
            "the freeze: use --from-genesis"
        )
    reading = l1.read_batches(None, checkpoint.batches, checkpoint.anchor.block_number)
    if reading.unreadable is not None:
        raise ExitError(str(reading.unreadable))
    if reading.blob_fraud is not None:  # a final batch the blobs do not hold: nobody proved it
        raise ExitError(str(reading.blob_fraud))
    result, _ = verify_from(l1, l1.signing_dst(), checkpoint, reading, signatures=False)
    if result.fraud is not None:
        raise ExitError(
            f"batch {result.fraud.batch_index} does not re-execute ({result.fraud.fault.name}) "
            "from the checkpoint: the L1 data read is not the posted data"
        )
    state = result.state
    if state.root != frozen.root or state.deposit_end != frozen.deposit_end:
        raise ExitError(
            f"the checkpoint's replay ends at root 0x{state.root.hex()} (deposits "
            f"{state.deposit_end}), not the frozen root 0x{frozen.root.hex()} (deposits "
            f"{frozen.deposit_end}): use --from-genesis"
        )
    return state


def exit_plan(
    l1: RollupL1, owner: str | None = None, checkpoint: Checkpoint | None = None
) -> ExitPlan:
    """Build the exit and refund claims of `owner` (or everyone) from L1 data alone: from
    genesis, or from `checkpoint` (checked against L1 and the frozen root)."""
    frozen = read_frozen(l1)
    deposits = l1.deposit_queue()
    if checkpoint is None:
        try:
            batches = l1.posted_batches()  # blob batches through l1.beacon
        except UnreadableBatch as e:  # a blob endpoint down or pruned, say
            raise ExitError(str(e)) from e
        state = exit_state(batches, deposits, l1.forced_queue(), l1.signing_dst(), frozen)
    else:
        state = exit_state_from_checkpoint(l1, frozen, checkpoint)
    released = l1.bridge.functions.isReleased
    exits = [c for c in exit_claims(state, owner) if not released(c.withdrawal_id).call()]
    refunds = [
        c
        for c in refund_claims(deposits, frozen.deposit_end, owner)
        if not released(c.withdrawal_id).call()
    ]
    return ExitPlan(frozen, tuple(exits), tuple(refunds))


@dataclass(frozen=True)
class FreezeStatus:
    """Whether `freeze()` would succeed now, and why (or when it could)."""

    frozen: bool
    reason: FreezeReason
    detail: str

    @property
    def can_freeze(self) -> bool:
        return not self.frozen and self.reason is not FreezeReason.NONE


def freeze_status(l1: RollupL1) -> FreezeStatus:
    """Read the rollup's freeze conditions and explain them."""
    r = l1.rollup.functions
    if r.frozen().call():
        return FreezeStatus(True, FreezeReason.NONE, "already frozen: use the exit command")
    now = l1.w3.eth.get_block("latest")["timestamp"]
    reason = FreezeReason(r.freezeReason().call())
    delay = r.forcedInclusionDelay().call()
    _, deposit_end, forced_end = r.head().call()
    forced_count = r.forcedCount().call()
    notes = []
    if forced_end < forced_count:
        deadline = r.forcedAt(forced_end).call() + delay
        notes.append(f"forced tx {forced_end} not included; freezable after {deadline} (now {now})")
    checkpoint = r.depositCheckpointCount().call()
    if deposit_end < checkpoint:
        deadline = r.depositCheckpointTime().call() + delay
        notes.append(
            f"deposits up to {checkpoint} requested at inclusion but consumed only to "
            f"{deposit_end}; freezable after {deadline}"
        )
    liveness = r.lastFinalizationTime().call() + r.livenessPeriod().call()
    notes.append(f"no-finalization freeze possible after {liveness}")
    if reason is FreezeReason.NONE:
        detail = "cannot freeze now: " + "; ".join(notes)
    else:
        detail = f"freezable now ({reason.name}): " + "; ".join(notes)
    return FreezeStatus(False, reason, detail)
