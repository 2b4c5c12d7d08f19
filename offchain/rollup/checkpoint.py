"""Verified L2-state checkpoints of the optimistic rollup (format: docs/checkpoints.md).

A `Checkpoint` is the L2 state after the first `batches` live batches, bound to the deployment
(chain id, rollup address) and to the on-chain record and posting of its last batch (the anchor).
It is valid while that very posting is still the live batch at its index on the canonical chain
(`check_anchor`): a rollback at or below it, a freeze that discarded it, a repost at its index or
an L1 reorg that removed its block all invalidate it. `resume` replays only the batches after the
newest valid checkpoint it is given, or everything from genesis (logged) if none is valid.

Pure: the format (`to_bytes` / `from_bytes`). The L1 edge: `check_anchor`, `resume`.

Wiring for a service restart (one call): `result, ckpt = resume(l1, l1.signing_dst(), saved, ...)`,
then
persist `ckpt.to_bytes()` (e.g. `store.save_checkpoint("optimistic", ...)`).
"""

from __future__ import annotations

import json
import logging
import struct
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from .hashing import keccak
from .l1 import BatchReading, BatchRecord, QueueReading, RollupL1, UnreadableBatch
from .merkle import SparseMerkleTree
from .params import MAX_ACCOUNTS
from .replay import ReplayResult, replay
from .state import L2State
from .types import Account, QueuedDeposit, QueuedForced, norm_address

log = logging.getLogger("l2kit.checkpoint")

MAGIC = b"L2KITCKP"
#: The format version written by `to_bytes`; `from_bytes` refuses every other one.
VERSION = 2
_HEAD = struct.Struct(">8sHQ20sQ32s32s20sQIIQ32s32sQQIQ")
_ACCOUNT = struct.Struct(">I60s")
_DIGEST_LEN = 32


class CheckpointError(ValueError):
    """Bytes that are not a checkpoint of this format, or a checkpoint L1 does not support."""


@dataclass(frozen=True)
class Anchor:
    """The last batch a checkpoint covers, as L1 shows it."""

    chain_id: int
    rollup: str  # lower-case 0x address
    index: int
    record: BatchRecord
    #: The posting: its tx, and the block (number and hash) that holds it.
    block_number: int
    block_hash: bytes
    tx_hash: bytes


@dataclass(frozen=True)
class Checkpoint:
    """The verified L2 state after batches 0..anchor.index; build with `Checkpoint.of`."""

    anchor: Anchor
    #: Every created account (index -> leaf); the state is rebuilt from these.
    accounts: Mapping[int, Account]
    #: At or before the block of the first deposit / forced tx the state has not consumed.
    deposit_from_block: int
    forced_from_block: int
    _state: L2State = field(repr=False, compare=False)

    @classmethod
    def of(
        cls,
        anchor: Anchor,
        state: L2State,
        deposit_from_block: int,
        forced_from_block: int,
    ) -> Checkpoint:
        """A checkpoint of `state` (taken as is; copy it first if it will change). Refuses a
        state that is not the one the anchor's record names (root and queue positions)."""
        r = anchor.record
        for i, a in state.accounts.items():
            if not 0 <= i < MAX_ACCOUNTS or a.is_empty:
                raise CheckpointError(f"account {i} is outside the tree or empty")
        if state.root != r.post_root:
            raise CheckpointError(
                f"the accounts hash to root 0x{state.root.hex()}, but batch {anchor.index} "
                f"records 0x{r.post_root.hex()}: not the state after that batch"
            )
        if (state.deposit_end, state.forced_end) != (r.deposit_end, r.forced_end):
            raise CheckpointError(
                f"the state has consumed deposits to {state.deposit_end} and forced txs to "
                f"{state.forced_end}, batch {anchor.index} records {r.deposit_end} and "
                f"{r.forced_end}"
            )
        return cls(anchor, dict(state.accounts), deposit_from_block, forced_from_block, state)

    @property
    def batches(self) -> int:
        """Live batches covered (0..batches-1)."""
        return self.anchor.index + 1

    @property
    def root(self) -> bytes:
        return self.anchor.record.post_root

    def state(self) -> L2State:
        """A copy of the state (callers may mutate it)."""
        return self._state.copy()

    def describe(self) -> str:
        a = self.anchor
        return (
            f"checkpoint of batches 0..{a.index} (root 0x{self.root.hex()[:16]}.., L1 block "
            f"{a.block_number}, {len(self.accounts)} accounts)"
        )

    # ---------------------------------------------------------------- format (pure)

    def to_bytes(self) -> bytes:
        """The version-2 encoding (docs/checkpoints.md): header, accounts in index order, digest
        (version 2 adds the anchor batch's postedBlock at the end of the header)."""
        a, r = self.anchor, self.anchor.record
        head = _HEAD.pack(
            MAGIC,
            VERSION,
            a.chain_id,
            bytes.fromhex(a.rollup[2:]),
            a.index,
            r.batch_hash,
            r.post_root,
            bytes.fromhex(norm_address(r.proposer)[2:]),
            r.posted_at,
            r.deposit_end,
            r.forced_end,
            a.block_number,
            a.block_hash,
            a.tx_hash,
            self.deposit_from_block,
            self.forced_from_block,
            len(self.accounts),
            r.posted_block,
        )
        body = b"".join(_ACCOUNT.pack(i, self.accounts[i].packed()) for i in sorted(self.accounts))
        return head + body + keccak(head + body)

    @classmethod
    def from_bytes(cls, raw: bytes) -> Checkpoint:
        """Decode and check a checkpoint: magic, version, exact length, digest, strictly
        increasing account indexes, valid leaves, and the rebuilt root equal to the recorded one.
        CheckpointError says which rule failed."""
        if len(raw) < _HEAD.size + _DIGEST_LEN:
            raise CheckpointError(f"{len(raw)} bytes is too short for a checkpoint")
        if raw[:8] != MAGIC:
            raise CheckpointError("not an l2kit checkpoint (bad magic)")
        version = int.from_bytes(raw[8:10], "big")
        if version != VERSION:
            raise CheckpointError(
                f"checkpoint format version {version} is not supported (this l2kit reads "
                f"version {VERSION}): make a new checkpoint"
            )
        f = _HEAD.unpack_from(raw)
        n = f[16]
        expected = _HEAD.size + n * _ACCOUNT.size + _DIGEST_LEN
        if len(raw) != expected:
            raise CheckpointError(
                f"a checkpoint of {n} accounts is {expected} bytes, got {len(raw)} "
                "(truncated, or trailing bytes)"
            )
        if keccak(raw[:-_DIGEST_LEN]) != raw[-_DIGEST_LEN:]:
            raise CheckpointError("checkpoint digest mismatch: the file is corrupt")
        record = BatchRecord(f[5], f[6], "0x" + f[7].hex(), f[8], f[9], f[10], f[17])
        anchor = Anchor(f[2], "0x" + f[3].hex(), f[4], record, f[11], f[12], f[13])
        accounts: dict[int, Account] = {}
        last = -1
        for k in range(n):
            index, leaf = _ACCOUNT.unpack_from(raw, _HEAD.size + k * _ACCOUNT.size)
            if index <= last or index >= MAX_ACCOUNTS:
                raise CheckpointError(
                    f"account index {index} out of order or outside the tree (entry {k})"
                )
            try:
                acc = Account.unpack(leaf)
            except ValueError as e:
                raise CheckpointError(f"account {index}: {e}") from e
            accounts[index] = acc
            last = index
        tree = SparseMerkleTree.from_leaves({i: a.leaf_hash() for i, a in accounts.items()})
        state = L2State(tree, accounts, record.deposit_end, record.forced_end)
        return cls.of(anchor, state, f[14], f[15])


def read_checkpoint_file(path: str) -> Checkpoint:
    """A checkpoint from a file: the binary format, or the JSON answer of a validator's
    `GET /checkpoint` (`{"checkpoint": "0x.."}`). CheckpointError (one line) otherwise."""
    try:
        with open(path, "rb") as f:
            raw = f.read()
    except OSError as e:
        raise CheckpointError(f"cannot read checkpoint file {path}: {e.strerror}") from e
    if not raw.startswith(MAGIC):
        try:
            text = json.loads(raw)["checkpoint"]
            raw = bytes.fromhex(text.removeprefix("0x"))
        except (ValueError, KeyError, TypeError, AttributeError) as e:
            raise CheckpointError(
                f"{path} is neither a checkpoint file nor a validator's GET /checkpoint answer"
            ) from e
    try:
        return Checkpoint.from_bytes(raw)
    except CheckpointError as e:
        raise CheckpointError(f"{path}: {e}") from e


# -------------------------------------------------------------------- L1 edge


def anchor_of(l1: RollupL1, reading: BatchReading, index: int) -> Anchor:
    """The anchor of live batch `index`, which `reading` has read (and replayed)."""
    posting = reading.postings[index - reading.start]
    return Anchor(
        int(l1.w3.eth.chain_id),
        l1.rollup.address.lower(),
        index,
        l1.batch_record(index),
        posting.block_number,
        posting.block_hash,
        posting.tx_hash,
    )


def check_anchor(l1: RollupL1, anchor: Anchor) -> str | None:
    """None if the anchor's posting is still the live batch at its index on the canonical
    chain of this deployment; else why not (one line)."""
    chain_id = int(l1.w3.eth.chain_id)
    if anchor.chain_id != chain_id or anchor.rollup != l1.rollup.address.lower():
        return (
            f"it is for rollup {anchor.rollup} on chain {anchor.chain_id}, not "
            f"{l1.rollup.address.lower()} on chain {chain_id}"
        )
    live = l1.rollup.functions.batchCount().call()
    if anchor.index >= live:
        return f"batch {anchor.index} is no longer live ({live} live: rolled back or frozen)"
    if l1.batch_record(anchor.index) != anchor.record:
        return f"batch {anchor.index} on L1 is not the checkpoint's (reposted or reorganised)"
    block = l1.w3.eth.get_block(anchor.block_number)
    if bytes(block["hash"]) != anchor.block_hash:
        return f"L1 block {anchor.block_number} holding its posting was reorganised away"
    logs = l1.rollup.events.BatchPosted.get_logs(
        from_block=anchor.block_number, argument_filters={"index": anchor.index}
    )
    if not logs or bytes(logs[-1]["transactionHash"]) != anchor.tx_hash:
        return f"batch {anchor.index} was posted again after the checkpoint's posting"
    return None


def newest_valid(
    l1: RollupL1, candidates: Sequence[Checkpoint | None]
) -> tuple[Checkpoint | None, list[str]]:
    """The checkpoint covering the most batches among `candidates` that L1 still supports, and
    one line per candidate refused (newer ones first)."""
    refused: list[str] = []
    for c in sorted((c for c in candidates if c is not None), key=lambda c: -c.batches):
        why = check_anchor(l1, c.anchor)
        if why is None:
            return c, refused
        refused.append(f"{c.describe()} refused: {why}")
    return None, refused


def _slice_from(queue: Sequence, end: int) -> Sequence:
    """The entries of a queue (whole, or starting at some index) from index `end` on."""
    if not queue:
        return queue
    base = queue[0].index
    return queue[max(end - base, 0) :]


def _from_block(reading: QueueReading | None, end: int, fallback: int) -> int:
    """A block at or before the one that queued entry `end` (or any later one): its block if
    read, else `fallback` (the new anchor's block, or the old bound)."""
    if reading is not None:
        for entry, block in zip(reading.entries, reading.blocks, strict=True):
            if entry.index == end:
                return min(block, fallback)
    return fallback


def resume(
    l1: RollupL1,
    dst: bytes,
    checkpoint: Checkpoint | None,
    deposits: Sequence[QueuedDeposit] | None = None,
    forced: Sequence[QueuedForced] | None = None,
    *,
    older: Sequence[Checkpoint] = (),
    count: int | None = None,
) -> tuple[ReplayResult, Checkpoint | None]:
    """Replay the live batches (or the first `count`) after the newest valid checkpoint among
    `checkpoint` and `older` (from genesis if none is valid: logged), and return the result
    (`batches_ok` counts from batch 0; withdrawal claims only for the replayed batches) and the
    checkpoint after the last verified live batch (the starting one if nothing new was verified,
    None if there is none).

    `deposits` / `forced`: the queues if the caller has them (whole, or from any index up to the
    state's positions); read from L1 incrementally otherwise. UnreadableBatch if a batch cannot
    be read from L1 (the validator service handles that case itself, offchain/validator)."""
    start, refused = newest_valid(l1, [checkpoint, *older])
    for line in refused:
        log.warning("%s", line)
    if start is None and (checkpoint is not None or older):
        log.warning("no checkpoint is valid: replaying from genesis")
    reading = l1.read_batches(
        count, start.batches if start else 0, start.anchor.block_number if start else 0
    )
    if reading.unreadable is not None:
        raise reading.unreadable
    return verify_from(l1, dst, start, reading, deposits, forced)


def verify_from(
    l1: RollupL1,
    dst: bytes,
    start: Checkpoint | None,
    reading: BatchReading,
    deposits: Sequence[QueuedDeposit] | None = None,
    forced: Sequence[QueuedForced] | None = None,
    *,
    signatures: bool = True,
) -> tuple[ReplayResult, Checkpoint | None]:
    """Replay `reading` (batches from `start.batches`, or from 0) on the checkpoint's state,
    state transitions and aggregate signatures (keys from the registry's history; `dst` the
    rollup's BLS tag, RollupL1.signing_dst), and return the result and the checkpoint after the
    last verified live batch. `signatures=False` replays state transitions only (an exit from
    final batches, whose aggregates stand)."""
    keys = l1.key_history() if signatures else None
    state = start.state() if start else L2State()
    first = start.batches if start else 0
    if reading.start != first:
        raise ValueError(f"the reading starts at batch {reading.start}, the state after {first}")
    dq_read = fq_read = None
    if deposits is None:
        dq_read = l1.read_deposit_queue(state.deposit_end, start.deposit_from_block if start else 0)
        deposits = dq_read.entries
    if forced is None:
        fq_read = l1.read_forced_queue(state.forced_end, start.forced_from_block if start else 0)
        forced = fq_read.entries
    dq = _slice_from(deposits, state.deposit_end)
    fq = _slice_from(forced, state.forced_end)
    result = replay(reading.batches, dq, dst, fq, start=state, first=first, keys=keys)
    live = l1.rollup.functions.batchCount().call()
    last = min(result.batches_ok, live)  # discarded batches (after a freeze) are never anchors
    if last <= first:
        return result, start
    if result.fraud is None and last == result.batches_ok:
        end_state = result.state
    else:  # stopped inside a batch, or past the live ones: the state at the boundary again
        again = replay(
            reading.batches[: last - first],
            dq,
            dst,
            fq,
            start=start.state() if start else L2State(),
            first=first,
            keys=keys,
        )
        end_state = again.state
    anchor = anchor_of(l1, reading, last - 1)
    old_d = start.deposit_from_block if start else 0
    old_f = start.forced_from_block if start else 0
    d_from = _from_block(dq_read, end_state.deposit_end, anchor.block_number)
    f_from = _from_block(fq_read, end_state.forced_end, anchor.block_number)
    if dq_read is None:
        d_from = old_d
    if fq_read is None:
        f_from = old_f
    return result, Checkpoint.of(anchor, end_state.copy(), d_from, f_from)


__all__ = [
    "Anchor",
    "Checkpoint",
    "CheckpointError",
    "UnreadableBatch",
    "check_anchor",
    "newest_valid",
    "read_checkpoint_file",
    "resume",
    "verify_from",
]
