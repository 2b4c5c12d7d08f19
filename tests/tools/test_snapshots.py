"""The committed ABI snapshots match the build: an interface change is always a reviewed diff."""

import importlib.util
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
_spec = importlib.util.spec_from_file_location("snapshots", ROOT / "tools" / "snapshots.py")
assert _spec is not None and _spec.loader is not None
snapshots = importlib.util.module_from_spec(_spec)
sys.modules["snapshots"] = snapshots
_spec.loader.exec_module(snapshots)


def test_abi_snapshots_match_the_build():
    assert snapshots.differences() == [], "run `make snapshots` and commit snapshots/abi/"


def test_abi_snapshot_check_sees_a_changed_interface(tmp_path):
    build = json.loads(snapshots.BUILD.read_text())
    snap = tmp_path / "abi"
    fake_build = tmp_path / "build.json"
    fake_build.write_text(json.dumps(build))
    snapshots.write(fake_build, snap)
    assert snapshots.differences(fake_build, snap) == []
    # a struct gains a field: the Python side reading it by position would break
    abi = build["contractTypes"]["Rollup"]["abi"]
    fn = next(e for e in abi if e.get("name") == "batches")
    fn["outputs"][0].setdefault("components", []).append(
        {"internalType": "uint256", "name": "extra", "type": "uint256"}
    )
    fake_build.write_text(json.dumps(build))
    assert snapshots.differences(fake_build, snap) == [
        "Rollup: ABI differs from snapshots/abi/Rollup.json"
    ]
    (snap / "Rollup.json").unlink()
    assert snapshots.differences(fake_build, snap) == [
        "Rollup: new contract without an ABI snapshot"
    ]
