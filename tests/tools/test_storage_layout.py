"""Storage layout snapshots of the upgradeable contracts: the build matches them, and the check
refuses any change a live proxy's storage cannot survive (append-only)."""

import copy
import importlib.util
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
_spec = importlib.util.spec_from_file_location(
    "storage_layout", ROOT / "tools" / "storage_layout.py"
)
assert _spec is not None and _spec.loader is not None
sl = importlib.util.module_from_spec(_spec)
sys.modules["storage_layout"] = sl
_spec.loader.exec_module(sl)

ZK_NS = "erc7201:l2kit.storage.ZkRollup"


@pytest.fixture(scope="module")
def zk_layout():
    return sl.committed("ZkRollup")


def _fields(layout):
    return layout["namespaces"][ZK_NS]["fields"]


def test_storage_layouts_match_the_snapshots():
    assert sl.check() == [], "incompatible storage change, or run `make snapshots`"


def test_erc7201_slots_follow_the_formula():
    # the value docs/governance.md gives for GovernancePausable's namespace
    assert sl.erc7201_slot("l2kit.storage.GovernancePausable") == int(
        "0x3a47d3dfd6efff2dfb7e8bf6acf7a13a4825ef4f8621c3d5fb2ec87b5a5c8a00", 16
    )
    for name in sl.UPGRADEABLE:
        layout = sl.committed(name)
        [(ns, entry)] = layout["namespaces"].items()
        assert entry["slot"] == f"0x{sl.erc7201_slot(ns.removeprefix('erc7201:')):064x}"


def test_the_snapshot_holds_every_field(zk_layout):
    labels = [f["label"] for f in _fields(zk_layout)]
    assert labels[:4] == ["timelock", "batchVerifier", "exitVerifier", "freezePeriod"]
    assert "forced" in labels and "depositCheckpoint" in labels
    assert labels[-2:] == ["conflictBatchVerifier", "conflictExitVerifier"]
    forced = next(f for f in _fields(zk_layout) if f["label"] == "forced")
    assert [m["label"] for m in forced["type"]["value"]["members"]] == [
        "leafIndex",
        "token",
        "recipient",
        "deadline",
    ]


def test_appending_is_allowed(zk_layout):
    new = copy.deepcopy(zk_layout)
    last = _fields(new)[-1]
    _fields(new).append(
        {"label": "extra", "slot": last["slot"] + 2, "offset": 0, "type": _fields(new)[3]["type"]}
    )
    forced = next(f for f in _fields(new) if f["label"] == "forced")
    members = forced["type"]["value"]["members"]
    members.append({**members[0], "label": "more", "slot": 2})  # a mapped struct grows
    assert sl.problems(zk_layout, new) == []


def test_removed_reordered_retyped_or_moved_fields_are_refused(zk_layout):
    removed = copy.deepcopy(zk_layout)
    del _fields(removed)[-1]
    assert sl.problems(zk_layout, removed) == [
        f"ZkRollup {ZK_NS}: field 'conflictExitVerifier' (slot 20) removed"
    ]

    reordered = copy.deepcopy(zk_layout)
    f = _fields(reordered)
    f[5], f[6] = {**f[6], "slot": 5}, {**f[5], "slot": 6}
    got = sl.problems(zk_layout, reordered)
    assert len(got) == 2 and all("removed or reordered" in g for g in got)

    retyped = copy.deepcopy(zk_layout)
    _fields(retyped)[3]["type"] = {"label": "uint128", "encoding": "inplace", "bytes": 16}
    assert sl.problems(zk_layout, retyped) == [
        f"ZkRollup {ZK_NS}.freezePeriod: retyped from uint256 to uint128"
    ]

    inner = copy.deepcopy(zk_layout)
    forced = next(x for x in _fields(inner) if x["label"] == "forced")
    forced["type"]["value"]["members"][3]["type"]["label"] = "uint32"
    assert sl.problems(zk_layout, inner) == [
        f"ZkRollup {ZK_NS}.forced.<value>.deadline: retyped from uint64 to uint32"
    ]

    moved = copy.deepcopy(zk_layout)
    for x in _fields(moved)[4:]:
        x["slot"] += 1  # a field inserted before idleLimit
    assert len(sl.problems(zk_layout, moved)) == len(_fields(zk_layout)) - 4

    renamespaced = copy.deepcopy(zk_layout)
    renamespaced["namespaces"][ZK_NS]["slot"] = "0x" + "00" * 32
    assert sl.problems(zk_layout, renamespaced) == [
        f"ZkRollup: namespace {ZK_NS} moved from {zk_layout['namespaces'][ZK_NS]['slot']} to "
        "0x" + "00" * 32
    ]
    gone = copy.deepcopy(zk_layout)
    gone["namespaces"] = {}
    assert sl.problems(zk_layout, gone) == [f"ZkRollup: namespace {ZK_NS} removed"]


def test_a_reordered_source_is_caught_from_the_compiler(tmp_path):
    """End to end through solc: swapping two fields of the bridge's namespace is refused, adding
    one at the end is not."""
    unit = "contracts/bridge/_layout_test_L1Bridge.sol"
    path = ROOT / unit
    source = (ROOT / "contracts/bridge/L1Bridge.sol").read_text()
    source = source.replace("contract L1Bridge is", "contract L1BridgeLayoutTest is")
    assert "        address rollup;\n        uint256 depositCount;\n" in source
    swapped = source.replace(
        "        address rollup;\n        uint256 depositCount;\n",
        "        uint256 depositCount;\n        address rollup;\n",
    )
    appended = source.replace(
        "        mapping(uint256 index => address depositor) depositors;\n",
        "        mapping(uint256 index => address depositor) depositors;\n        uint256 extra;\n",
    )
    wrong_slot = source.replace("0xa23eccaf", "0xb23eccaf")
    old = sl.committed("L1Bridge")
    old["contract"] = "L1BridgeLayoutTest"
    try:
        path.write_text(wrong_slot)
        with pytest.raises(SystemExit, match="has no constant 0xa23eccaf"):
            sl.layout("L1BridgeLayoutTest", unit)
        path.write_text(swapped)
        bad = sl.problems(old, sl.layout("L1BridgeLayoutTest", unit))
        path.write_text(appended)
        good = sl.problems(old, sl.layout("L1BridgeLayoutTest", unit))
    finally:
        path.unlink()
    assert any("slot 0 now holds 'depositCount'" in b for b in bad)
    assert good == []


def test_write_refuses_an_incompatible_change_unless_forced(tmp_path, zk_layout):
    snaps = tmp_path / "layouts"
    snaps.mkdir()
    stale = copy.deepcopy(zk_layout)
    _fields(stale).insert(0, {**_fields(stale)[0], "label": "ghost"})
    (snaps / "ZkRollup.json").write_text(sl.render(stale))
    refused = sl.write(snapshots=snaps)
    assert refused and "ghost" in refused[0]
    assert sl.committed("ZkRollup", snaps) == stale  # not overwritten
    assert sl.write(force=True, snapshots=snaps) == []
    assert sl.committed("ZkRollup", snaps) == zk_layout
