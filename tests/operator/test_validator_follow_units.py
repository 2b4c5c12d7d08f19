"""Checkpoint files of the validator (pure, no node): atomic saves, the newest kept, a corrupt
file ignored; the --checkpoint-every setting refuses bad values with one line."""

import argparse
from pathlib import Path

import pytest

from offchain.rollup.checkpoint import Anchor, Checkpoint
from offchain.rollup.hashing import keccak
from offchain.rollup.l1 import BatchRecord
from offchain.rollup.state import L2State
from offchain.rollup.types import Account
from offchain.validator.follow import CheckpointFiles
from offchain.validator.service import _positive, default_checkpoint_dir

OWNER = "0x" + "11" * 20
ETH = "0x" + "00" * 20


def _ck(index: int) -> Checkpoint:
    state = L2State()
    state.accounts[0] = Account(OWNER, ETH, index + 1, 0)
    state.tree.set_leaf(0, state.accounts[0].leaf_hash())
    record = BatchRecord(keccak(b"%d" % index), state.root, OWNER, index, 0, 0)
    anchor = Anchor(31337, "0x" + "ab" * 20, index, record, index, keccak(b"b"), keccak(b"t"))
    return Checkpoint.of(anchor, state, 0, 0)


def test_saves_are_atomic_and_only_the_newest_are_kept(tmp_path):
    files = CheckpointFiles(tmp_path / "ck", keep=3)
    for i in range(5):
        files.save(_ck(i))
    assert [p.name for p in files.paths()] == ["5.ckpt", "4.ckpt", "3.ckpt"]
    assert not list((tmp_path / "ck").glob("*.tmp"))
    assert files.load(files.paths()[0]) == _ck(4)


def test_a_corrupt_file_is_ignored_not_used(tmp_path, caplog):
    files = CheckpointFiles(tmp_path)
    path = files.save(_ck(2))
    path.write_bytes(path.read_bytes()[:-1])
    assert files.load(path) is None
    assert "ignored" in caplog.text and "truncated" in caplog.text
    (tmp_path / "notes.txt").write_text("x")  # other files are not checkpoints
    assert files.paths() == [path]


def test_checkpoint_settings():
    assert _positive("4") == 4
    for bad in ("0", "-1", "two"):
        with pytest.raises(argparse.ArgumentTypeError, match="not a positive whole number"):
            _positive(bad)
    assert default_checkpoint_dir(Path("/v/status.json")) == Path("/v/status.json.checkpoints")
