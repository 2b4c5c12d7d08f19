# SPDX-License-Identifier: GPL-3.0-or-later
"""circom 2 outside groth16py: the npm `circom2` compiler (circom 2.2.3 built for WebAssembly,
the version groth16py 0.2.0 bundles) and a reader of the `.r1cs` and `.sym` files it writes.

Used by the unused-signal check (`--O0`, every signal a wire) and the ceremony test (`--O2`, the
R1CS groth16py compiles). circom2 runs under WASI and only sees paths below its working
directory, so `compile_circom2` copies the project's circuits and circomlib into the build
directory and includes them by relative path."""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import groth16py

from offchain.zk.circuit import CIRCUITS_DIR, REPO_ROOT, CircuitSpec

NODE_BIN = REPO_ROOT / "node_modules" / ".bin"
CIRCOM2 = NODE_BIN / "circom2"
SNARKJS = NODE_BIN / "snarkjs"


def npm_tools_missing() -> str | None:
    """Why the npm zk tools cannot run here (None if they can)."""
    for tool in (CIRCOM2, SNARKJS):
        if not tool.exists():
            return f"{tool} is not installed: run `make setup` (npm ci installs it)"
    return None


def compile_circom2(spec: CircuitSpec, out: Path, optimisation: str) -> Path:
    """Compile `spec` with circom2 (`--O0`, `--O1` or `--O2`) to `out/main.r1cs` and
    `out/main.sym`; returns `out`."""
    # the main groth16py compiles, its include found through `-l circuits`
    main = spec.main_source.replace((CIRCUITS_DIR / spec.file).as_posix(), spec.file)
    return compile_source(main, out, optimisation, spec.name)


def compile_source(main: str, out: Path, optimisation: str, name: str = "main") -> Path:
    """Compile the circom source `main` (which may include the project's circuits and
    circomlib by file name) with circom2 into `out`; returns `out`."""
    if optimisation not in ("--O0", "--O1", "--O2"):
        raise ValueError(f"optimisation must be --O0, --O1 or --O2, got {optimisation!r}")
    out.mkdir(parents=True, exist_ok=True)
    for lib, source in (("circuits", CIRCUITS_DIR), ("circomlib", groth16py.circomlib_path(2))):
        shutil.rmtree(out / lib, ignore_errors=True)
        shutil.copytree(source, out / lib)
    (out / "main.circom").write_text(main)
    command = [str(CIRCOM2), "main.circom", optimisation, "--r1cs", "--sym"]
    command += ["-l", "circomlib", "-l", "circuits", "-o", "."]
    done = subprocess.run(command, cwd=out, capture_output=True, text=True, check=False)
    (out / "compile.log").write_text(done.stdout + done.stderr)
    if done.returncode != 0 or not (out / "main.r1cs").exists():
        raise RuntimeError(
            f"circom2 failed on {name} (exit {done.returncode}):\n{done.stdout}{done.stderr}"
        )
    return out


@dataclass(frozen=True)
class R1cs:
    """What the checks need of an `.r1cs` file: the header counts and, per wire, whether any
    constraint (A, B or C) has a term on it."""

    n_wires: int
    n_public_outputs: int
    n_public_inputs: int
    n_private_inputs: int
    n_constraints: int
    used: bytearray  # used[w] == 1 iff wire w has a term in some constraint


def read_r1cs(path: Path) -> R1cs:
    """Parse the circom R1CS binary format (iden3 `r1cs` version 1)."""
    data = memoryview(path.read_bytes())
    if bytes(data[:4]) != b"r1cs" or _u32(data, 4) != 1:
        raise ValueError(f"{path} is not an R1CS file of version 1")
    sections: dict[int, memoryview] = {}
    pos, count = 12, _u32(data, 8)
    for _ in range(count):
        kind, size = _u32(data, pos), int.from_bytes(data[pos + 4 : pos + 12], "little")
        sections[kind] = data[pos + 12 : pos + 12 + size]
        pos += 12 + size
    header, constraints = sections[1], sections[2]
    field_size = _u32(header, 0)
    h = 4 + field_size
    n_wires, n_out, n_pub, n_prv = (_u32(header, h + 4 * i) for i in range(4))
    n_constraints = _u32(header, h + 24)
    used = bytearray(n_wires)
    term = 4 + field_size
    pos = 0
    for _ in range(3 * n_constraints):
        n_terms = _u32(constraints, pos)
        pos += 4
        for t in range(pos, pos + n_terms * term, term):
            used[_u32(constraints, t)] = 1
        pos += n_terms * term
    if pos != len(constraints):
        raise ValueError(f"{path}: constraint section has {len(constraints) - pos} extra bytes")
    return R1cs(n_wires, n_out, n_pub, n_prv, n_constraints, used)


def _u32(data: memoryview, pos: int) -> int:
    return int.from_bytes(data[pos : pos + 4], "little")


def read_sym(path: Path) -> dict[int, str]:
    """Wire -> signal name (the first name circom lists for it) from a `.sym` file
    (`label,wire,component,name` per line; wire -1 for signals that are not wires)."""
    names: dict[int, str] = {}
    with path.open() as lines:
        for line in lines:
            _, wire, _, name = line.rstrip("\n").split(",", 3)
            names.setdefault(int(wire), name)
    return names


def free_signals(build: Path) -> list[str]:
    """Signals of the circuit compiled into `build` (with `--O0`, so that every signal is a
    wire) that no constraint has a term on: the prover may set them to anything."""
    r1cs = read_r1cs(build / "main.r1cs")
    names = read_sym(build / "main.sym")
    if len(names) != r1cs.n_wires - 1 or -1 in names:
        raise ValueError(f"{build}: not an --O0 build (some signals are not wires)")
    # wire 0 is the constant 1
    return [names[w] for w in range(1, r1cs.n_wires) if not r1cs.used[w]]
