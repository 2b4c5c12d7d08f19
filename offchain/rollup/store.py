"""Persist an L2State to a JSON file (atomic replace) and load it back, checking its root."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

from .merkle import SparseMerkleTree
from .state import L2State
from .types import Account

FORMAT_VERSION = 1


class CorruptState(ValueError):
    """The saved state does not rebuild to the root it was saved with."""


def save_state(state: L2State, path: Path) -> None:
    """Write `state` to `path` atomically (a crash leaves the previous file intact)."""
    body = {
        "version": FORMAT_VERSION,
        "root": state.root.hex(),
        "depositEnd": state.deposit_end,
        "forcedEnd": state.forced_end,
        "accounts": {str(i): a.packed().hex() for i, a in sorted(state.accounts.items())},
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name, suffix=".tmp")
    try:
        with os.fdopen(fd, "w") as f:
            json.dump(body, f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def load_state(path: Path) -> L2State:
    """Load a saved state; CorruptState if it does not rebuild to its recorded root."""
    body = json.loads(path.read_text())
    if body.get("version") != FORMAT_VERSION:
        raise CorruptState(f"{path}: unknown format version {body.get('version')!r}")
    state = L2State(
        tree=SparseMerkleTree(),
        accounts={},
        deposit_end=int(body["depositEnd"]),
        forced_end=int(body.get("forcedEnd", 0)),  # files written before forced inclusion: 0
    )
    for key, packed in body["accounts"].items():
        acc = Account.unpack(bytes.fromhex(packed))
        state.accounts[int(key)] = acc
        state.tree.set_leaf(int(key), acc.leaf_hash())
    if state.root.hex() != body["root"]:
        raise CorruptState(
            f"{path}: accounts rebuild to root {state.root.hex()}, file says {body['root']}; "
            "delete the file and let the operator resync from L1 (validator replay)"
        )
    return state
