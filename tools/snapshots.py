"""Committed ABI snapshots of the deployable contracts (snapshots/abi/<Contract>.json).

The off-chain side reads contract structs by position (`batches(i).call()[3]`), so an interface
change must be a visible diff in review, as contracts-bedrock does with `snapshots/abi/`.

    python tools/snapshots.py write   # after an intended change: rewrite the ABI and gas snapshots
    python tools/snapshots.py check   # exit 1 and name every contract whose ABI differs

Both read Ape's build (`.build/__local__.json`): run `make compile` first. Test-only contracts
(contracts/test/) are not snapshotted. `write` also re-measures the gas snapshots
(snapshots/gas/, tools/gas_snapshot.py) on a fresh Anvil; `ape test tests/tools` compares them.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
BUILD = ROOT / ".build" / "__local__.json"
SNAPSHOTS = ROOT / "snapshots" / "abi"


def _key(entry: dict) -> tuple[str, str, str]:
    inputs = ",".join(i.get("type", "") for i in entry.get("inputs", []))
    return (entry.get("type", ""), entry.get("name", ""), inputs)


def render(abi: list[dict]) -> str:
    """One ABI entry per line, in a stable order, so a change is a one-line diff."""
    lines = [json.dumps(e, sort_keys=True, separators=(",", ":")) for e in sorted(abi, key=_key)]
    return "[\n" + ",\n".join(lines) + "\n]\n"


def built_abis(build: Path = BUILD) -> dict[str, str]:
    if not build.exists():
        raise SystemExit(f"no build at {build}: run `make compile` first")
    types = json.loads(build.read_text())["contractTypes"]
    return {
        name: render(ct["abi"])
        for name, ct in sorted(types.items())
        if not str(ct.get("sourceId", "")).startswith("contracts/test/")
    }


def differences(build: Path = BUILD, snapshots: Path = SNAPSHOTS) -> list[str]:
    built = built_abis(build)
    committed = {p.stem: p.read_text() for p in sorted(snapshots.glob("*.json"))}
    out = []
    for name in sorted(set(built) | set(committed)):
        if name not in committed:
            out.append(f"{name}: new contract without an ABI snapshot")
        elif name not in built:
            out.append(f"{name}: snapshot of a contract that is no longer built")
        elif built[name] != committed[name]:
            out.append(f"{name}: ABI differs from snapshots/abi/{name}.json")
    return out


def write(build: Path = BUILD, snapshots: Path = SNAPSHOTS) -> None:
    snapshots.mkdir(parents=True, exist_ok=True)
    built = built_abis(build)
    for stale in snapshots.glob("*.json"):
        if stale.stem not in built:
            stale.unlink()
    for name, text in built.items():
        (snapshots / f"{name}.json").write_text(text)


def write_gas() -> None:
    """Re-measure every gas snapshot on a fresh local Anvil node."""
    from bench.common import local_node
    from tools import gas_snapshot

    with local_node():
        for path in gas_snapshot.write():
            print(f"gas snapshot written to {path.relative_to(ROOT)}")


def main(argv: list[str]) -> int:
    if argv == ["write"]:
        write()
        print(f"ABI snapshots written to {SNAPSHOTS.relative_to(ROOT)}")
        write_gas()
        return 0
    if argv == ["check"]:
        diffs = differences()
        for d in diffs:
            print(d)
        if diffs:
            print("ABI changed: if intended, run `make snapshots` and commit snapshots/abi/")
            return 1
        print("ABI snapshots: up to date")
        return 0
    print(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
