"""Storage layout snapshots of the upgradeable contracts (snapshots/storageLayout/<Contract>.json).

A proxy keeps its storage across upgrades, so a new implementation may only *append* to the
layout: a field removed, moved or retyped would make the new code read the old bytes as something
else. Every upgradeable contract keeps its state in ERC-7201 namespaces
(`@custom:storage-location erc7201:<id>` on a struct); solc's storageLayout output lists only
ordinary state variables, so the tool also compiles a probe contract declaring one variable of each
namespace struct and records the struct's fields (slot relative to the namespace root, offset, type,
nested structs and mapping values included).

    python tools/storage_layout.py write          # after an intended, compatible change
    python tools/storage_layout.py write --force  # accept an incompatible one (a new deployment)
    python tools/storage_layout.py check          # exit 1 naming every incompatible change

Pure parts (`namespaces`, `erc7201_slot`, `describe`, `problems`) are separate from the compiler run
(`layout`, which calls solc through the shim in .toolchain, as Ape does).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
SNAPSHOTS = ROOT / "snapshots" / "storageLayout"
#: Every contract deployed behind a proxy, with its source (append here when one is wired).
UPGRADEABLE = {
    "L1Bridge": "contracts/bridge/L1Bridge.sol",
    "ZkRollup": "contracts/zk/ZkRollup.sol",
}
_NAMESPACE = re.compile(
    r"@custom:storage-location\s+erc7201:(?P<id>[\w.\-]+)\s*\n\s*struct\s+(?P<struct>\w+)"
)


def erc7201_slot(namespace: str) -> int:
    """keccak256(abi.encode(uint256(keccak256(id)) - 1)) & ~bytes32(uint256(0xff))."""
    from eth_utils import keccak

    inner = int.from_bytes(keccak(text=namespace), "big") - 1
    return int.from_bytes(keccak(inner.to_bytes(32, "big")), "big") & ~0xFF


def namespaces(source: str) -> list[tuple[str, str]]:
    """(namespace id, struct name) of every ERC-7201 struct declared in `source`."""
    return [(m["id"], m["struct"]) for m in _NAMESPACE.finditer(source)]


def describe(type_id: str, types: dict[str, Any]) -> dict[str, Any]:
    """A type of solc's storageLayout `types`, self-contained (no type ids), recursively."""
    t = types[type_id]
    out: dict[str, Any] = {
        "label": t["label"],
        "encoding": t["encoding"],
        "bytes": int(t["numberOfBytes"]),
    }
    if "members" in t:
        out["members"] = [_field(m, types) for m in t["members"]]
    for part in ("key", "value", "base"):
        if part in t:
            out[part] = describe(t[part], types)
    return out


def _field(entry: dict[str, Any], types: dict[str, Any]) -> dict[str, Any]:
    return {
        "label": entry["label"],
        "slot": int(entry["slot"]),
        "offset": int(entry["offset"]),
        "type": describe(entry["type"], types),
    }


def _type_problems(where: str, old: dict[str, Any], new: dict[str, Any]) -> list[str]:
    if (old["label"], old["encoding"]) != (new["label"], new["encoding"]):
        return [f"{where}: retyped from {old['label']} to {new['label']}"]
    out: list[str] = []
    if "members" in old:
        # a struct may gain members at its end (a following field then moves, which is caught
        # at that field); its existing members must stay where they are
        out += _fields_problems(where, old["members"], new.get("members", []))
    elif old["bytes"] != new["bytes"]:
        out.append(f"{where}: size changed from {old['bytes']} to {new['bytes']} bytes")
    for part in ("key", "value", "base"):
        if part in old:
            out += _type_problems(f"{where}.<{part}>", old[part], new[part])
    return out


def _fields_problems(where: str, old: list[dict], new: list[dict]) -> list[str]:
    out: list[str] = []
    for i, o in enumerate(old):
        if i >= len(new):
            out.append(f"{where}: field {o['label']!r} (slot {o['slot']}) removed")
            continue
        n = new[i]
        at = f"{where}.{o['label']}"
        if n["label"] != o["label"]:
            out.append(f"{at}: slot {o['slot']} now holds {n['label']!r} (removed or reordered)")
            continue
        if (n["slot"], n["offset"]) != (o["slot"], o["offset"]):
            out.append(
                f"{at}: moved from slot {o['slot']}+{o['offset']} to {n['slot']}+{n['offset']}"
            )
        out += _type_problems(at, o["type"], n["type"])
    return out


def problems(old: dict[str, Any], new: dict[str, Any]) -> list[str]:
    """Every change from `old` to `new` a proxy's storage cannot survive (appending is fine)."""
    name = old.get("contract", "?")
    out = _fields_problems(f"{name} storage", old.get("storage", []), new.get("storage", []))
    for ns, o in old.get("namespaces", {}).items():
        n = new.get("namespaces", {}).get(ns)
        if n is None:
            out.append(f"{name}: namespace {ns} removed")
            continue
        if n["slot"] != o["slot"]:
            out.append(f"{name}: namespace {ns} moved from {o['slot']} to {n['slot']}")
        out += _fields_problems(f"{name} {ns}", o["fields"], n["fields"])
    return out


def _solc() -> Path:
    config = (ROOT / "ape-config.yaml").read_text()
    m = re.search(r"^\s*version:\s*([0-9.]+)\s*$", config, re.M)
    if m is None:
        raise SystemExit("ape-config.yaml pins no solidity version")
    base = Path(os.environ.get("SOLCX_BINARY_PATH", ROOT / ".toolchain" / "solc"))
    path = base / f"solc-v{m.group(1)}"
    if not path.exists():
        raise SystemExit(f"no solc at {path}: run `make setup` (it builds the shim)")
    return path


def _compile(unit: str, probe: str) -> dict[str, Any]:
    request = {
        "language": "Solidity",
        "sources": {"storage_layout_probe.sol": {"content": probe}},
        "settings": {
            "remappings": ["@openzeppelin/contracts/=node_modules/@openzeppelin/contracts/"],
            "evmVersion": "osaka",
            "outputSelection": {
                "storage_layout_probe.sol": {"*": ["storageLayout"]},
                unit: {"*": ["storageLayout"]},
            },
        },
    }
    done = subprocess.run(
        [str(_solc()), "--standard-json", "--base-path", str(ROOT)],
        input=json.dumps(request),
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=False,
    )
    if done.returncode != 0:
        raise SystemExit(f"solc failed: {done.stderr.strip()}")
    out = json.loads(done.stdout)
    errors = [e for e in out.get("errors", []) if e.get("severity") == "error"]
    if errors:
        raise SystemExit("\n".join(e.get("formattedMessage", e["message"]) for e in errors))
    return out["contracts"]


def layout(name: str, unit: str) -> dict[str, Any]:
    """The storage layout of contract `name` in `unit`, namespaces included."""
    source = (ROOT / unit).read_text()
    found = namespaces(source)
    fields = "\n".join(
        f"    {name}.{struct} internal ns{i};" for i, (_, struct) in enumerate(found)
    )
    probe = (
        "// SPDX-License-Identifier: MIT\npragma solidity ^0.8.28;\n"
        f'import {{{name}}} from "{unit}";\n'
        f"contract StorageLayoutProbe {{\n{fields}\n}}\n"
    )
    for ns, _ in found:
        slot = erc7201_slot(ns)
        if f"0x{slot:064x}" not in source.lower():
            raise SystemExit(
                f"{unit}: namespace {ns} has no constant 0x{slot:064x} (its ERC-7201 slot)"
            )
    built = _compile(unit, probe)
    own = built[unit][name]["storageLayout"]
    probe_layout = built["storage_layout_probe.sol"]["StorageLayoutProbe"]["storageLayout"]
    result: dict[str, Any] = {
        "contract": name,
        "source": unit,
        "storage": [_field(e, own.get("types") or {}) for e in own["storage"]],
        "namespaces": {},
    }
    for i, (ns, struct) in enumerate(found):
        slot = erc7201_slot(ns)
        entry = next(e for e in probe_layout["storage"] if e["label"] == f"ns{i}")
        struct_type = probe_layout["types"][entry["type"]]
        result["namespaces"][f"erc7201:{ns}"] = {
            "slot": f"0x{slot:064x}",
            "struct": struct,
            "fields": [_field(m, probe_layout["types"]) for m in struct_type["members"]],
        }
    return result


def render(data: dict[str, Any]) -> str:
    return json.dumps(data, indent=1, sort_keys=True) + "\n"


def committed(name: str, snapshots: Path = SNAPSHOTS) -> dict[str, Any] | None:
    path = snapshots / f"{name}.json"
    return json.loads(path.read_text()) if path.exists() else None


def check(snapshots: Path = SNAPSHOTS) -> list[str]:
    """Incompatible changes and stale or missing snapshots, one line each."""
    out: list[str] = []
    for name, unit in UPGRADEABLE.items():
        old = committed(name, snapshots)
        new = layout(name, unit)
        if old is None:
            out.append(f"{name}: no storage layout snapshot (run `make snapshots`)")
            continue
        out += problems(old, new)
        if not out and render(old) != render(new):
            out.append(f"{name}: layout grew (compatible): run `make snapshots` and commit it")
    return out


def write(force: bool = False, snapshots: Path = SNAPSHOTS) -> list[str]:
    """Rewrite the snapshots; refuses an incompatible change unless `force`."""
    snapshots.mkdir(parents=True, exist_ok=True)
    refused: list[str] = []
    for name, unit in UPGRADEABLE.items():
        new = layout(name, unit)
        old = committed(name, snapshots)
        bad = problems(old, new) if old is not None else []
        if bad and not force:
            refused += bad
            continue
        (snapshots / f"{name}.json").write_text(render(new))
    return refused


def main(argv: list[str]) -> int:
    if argv[:1] == ["write"]:
        refused = write(force="--force" in argv[1:])
        for line in refused:
            print(line)
        if refused:
            print(
                "storage layout change a live proxy cannot survive: not written. Append fields "
                "instead, or pass --force for a fresh deployment"
            )
            return 1
        print(f"storage layout snapshots written to {SNAPSHOTS.relative_to(ROOT)}")
        return 0
    if argv == ["check"]:
        found = check()
        for line in found:
            print(line)
        return 1 if found else 0
    print(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
