"""Follow the rollup incrementally: the validator's verified state between heads, and its
persisted checkpoints (offchain/rollup/checkpoint.py).

A check starts from the newest verified point L1 still supports (in memory, else the newest valid
checkpoint file, else genesis), reads only the batches after it, replays them on its state, and
moves the point to the last verified live batch. A rollback or reorg that removed the point's
batch makes it invalid (logged), and the check falls back to an older checkpoint or genesis, so
what is verified is always exactly what a replay from genesis would verify.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field
from pathlib import Path

from offchain.rollup.blob_read import with_blob_fraud
from offchain.rollup.checkpoint import Checkpoint, CheckpointError, check_anchor, verify_from
from offchain.rollup.l1 import BatchReading, RollupL1
from offchain.rollup.validator import Inspection

log = logging.getLogger("l2kit.validator")

SUFFIX = ".ckpt"


@dataclass
class CheckpointFiles:
    """Checkpoints in one directory, `<batches>.ckpt`, each written atomically (temp file,
    fsync, rename); the newest `keep` are kept so a rollback can fall back to an older one."""

    directory: Path
    keep: int = 3

    def paths(self) -> list[Path]:
        """Checkpoint files, newest (most batches) first."""
        if not self.directory.is_dir():
            return []
        found = []
        for p in self.directory.iterdir():
            stem = p.name.removesuffix(SUFFIX)
            if p.name.endswith(SUFFIX) and stem.isdigit():
                found.append((int(stem), p))
        return [p for _, p in sorted(found, reverse=True)]

    def save(self, c: Checkpoint) -> Path:
        self.directory.mkdir(parents=True, exist_ok=True)
        path = self.directory / f"{c.batches}{SUFFIX}"
        tmp = path.with_name(path.name + ".tmp")
        with open(tmp, "wb") as f:
            f.write(c.to_bytes())
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
        for old in self.paths()[self.keep :]:
            old.unlink(missing_ok=True)
        return path

    def load(self, path: Path) -> Checkpoint | None:
        """The checkpoint in `path`, or None (logged) if the file is not a valid one."""
        try:
            return Checkpoint.from_bytes(path.read_bytes())
        except (OSError, CheckpointError) as exc:
            log.warning("checkpoint file %s ignored: %s", path, exc)
            return None


@dataclass
class Follower:
    """The validator's verified point and the batch hashes of its prefix (both in memory)."""

    l1: RollupL1
    files: CheckpointFiles | None = None
    #: Save a checkpoint once the point has moved this many batches past the last saved one.
    every: int = 1
    point: Checkpoint | None = None
    #: Live batch hash by index below the point (valid while the point is).
    hashes: dict[int, bytes] = field(default_factory=dict)
    saved: int = 0
    _dst: bytes | None = None

    @property
    def dst(self) -> bytes:
        if self._dst is None:  # read once, at the first check (not at construction)
            self._dst = self.l1.signing_dst()
        return self._dst

    def _start(self) -> Checkpoint | None:
        """The newest point L1 supports: the one in memory, else a file, else None (genesis).
        A file L1 refuses is renamed `*.refused` (its batch is gone for good; kept to look at)."""
        if self.point is not None:
            why = check_anchor(self.l1, self.point.anchor)
            if why is None:
                return self.point
            log.warning("verified point dropped: %s; falling back", why)
            self.point = None
            self.hashes = {}
        if self.files is None:
            return None
        for path in self.files.paths():
            c = self.files.load(path)
            why = "not a valid checkpoint file" if c is None else check_anchor(self.l1, c.anchor)
            if c is not None and why is None:
                log.info("resuming from %s (%s)", c.describe(), path)
                self.saved = c.batches
                return c
            log.warning("checkpoint %s refused: %s", path, why)
            os.replace(path, path.with_name(path.name + ".refused"))
        self.saved = 0
        return None

    def inspect(self, count: int, need_from: int) -> Inspection:
        """Read and replay the batches up to `count` (disputable_end) after the verified point;
        the reading's hashes start at min(need_from, point) (what the watch fold needs)."""
        start = self._start()
        n = start.batches if start else 0
        if start is not self.point:
            self.hashes = {}
        reading = self.l1.read_batches(count, n, start.anchor.block_number if start else 0)
        result, new = verify_from(self.l1, self.dst, start, reading)  # aggregates checked too
        result = with_blob_fraud(result, reading)  # a blob batch the blobs do not hold
        lo = min(need_from, n)
        for i in range(lo, n):
            if i not in self.hashes:
                self.hashes[i] = bytes(self.l1.rollup.functions.batches(i).call()[0])
        prefix = tuple(self.hashes[i] for i in range(lo, n))
        full = BatchReading(
            prefix + reading.hashes,
            reading.batches,
            reading.unreadable,
            lo,
            reading.postings,
            reading.blob_fraud,
        )
        if new is not None:
            for i in range(n, new.batches):
                self.hashes[i] = reading.hashes[i - n]
        self.hashes = {i: h for i, h in self.hashes.items() if i >= lo}
        self.point = new
        if new is not None and self.files is not None and new.batches - self.saved >= self.every:
            self.files.save(new)
            self.saved = new.batches
        return Inspection(full, result)
