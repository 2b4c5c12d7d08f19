# SPDX-License-Identifier: GPL-3.0-or-later
"""A multi-party Groth16 setup with the npm snarkjs (0.7.6), as docs/zk.md ("Keys from a
multi-party setup") tells participants to run it, for the tests.

Phase 1 (powers of tau, any circuit up to 2^power constraints): `powersoftau new`, one
`powersoftau contribute` per participant, a `powersoftau beacon`, `powersoftau prepare phase2`.
Phase 2 (this circuit): `groth16 setup` over the circom2 `--O2` R1CS, one `zkey contribute` per
participant, a `zkey beacon`, then `zkey verify` of the whole chain. Each contribution's
entropy is given on the command line (`-e`) so no prompt waits; a real participant types or
pipes their own, and keeps nothing of it."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from zk_circom2 import SNARKJS

BEACON = "0102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f20"
"""The random beacon's value: in a real ceremony a public value fixed after the last
contribution (a future block hash, say); here a constant. 2^10 hash iterations."""
BEACON_ITERATIONS_EXP = "10"


def snarkjs(*args: str, cwd: Path) -> str:
    """Run one snarkjs command in `cwd`; its stdout, or an error naming the step."""
    done = subprocess.run(
        [str(SNARKJS), *args], cwd=cwd, capture_output=True, text=True, check=False
    )
    # a failed check exits non-zero (seen for `zkey verify`); an `[ERROR]` log line counts too
    if done.returncode != 0 or "[ERROR]" in done.stdout:
        raise RuntimeError(
            f"snarkjs {' '.join(args)} failed (exit {done.returncode}):\n{done.stdout}{done.stderr}"
        )
    return done.stdout


def phase1(workdir: Path, power: int, entropies: Sequence[str]) -> Path:
    """Powers of tau for up to 2^power constraints, one contribution per entropy, a beacon,
    prepared for phase 2; returns the final `.ptau`."""
    workdir.mkdir(parents=True, exist_ok=True)
    snarkjs("powersoftau", "new", "bn128", str(power), "pot_0.ptau", cwd=workdir)
    for i, entropy in enumerate(entropies):
        snarkjs(
            "powersoftau", "contribute", f"pot_{i}.ptau", f"pot_{i + 1}.ptau",
            f"--name=participant {i + 1}", f"-e={entropy}", cwd=workdir,
        )  # fmt: skip
    last = f"pot_{len(entropies)}.ptau"
    snarkjs(
        "powersoftau", "beacon", last, "pot_beacon.ptau", BEACON, BEACON_ITERATIONS_EXP,
        "-n=final beacon", cwd=workdir,
    )  # fmt: skip
    snarkjs("powersoftau", "prepare", "phase2", "pot_beacon.ptau", "pot_final.ptau", cwd=workdir)
    return workdir / "pot_final.ptau"


@dataclass(frozen=True)
class Phase2:
    zkey: Path
    verification_key: dict  # `snarkjs zkey export verificationkey`, snarkjs JSON


def phase2(
    r1cs: Path, ptau: Path, workdir: Path, entropies: Sequence[str], complete: bool = True
) -> Phase2:
    """The circuit-specific setup over `ptau`, one contribution per entropy, then (if
    `complete`) the beacon and `zkey verify` of the result against the R1CS and the powers of
    tau."""
    workdir.mkdir(parents=True, exist_ok=True)
    snarkjs("groth16", "setup", str(r1cs), str(ptau), "c_0.zkey", cwd=workdir)
    for i, entropy in enumerate(entropies):
        snarkjs(
            "zkey", "contribute", f"c_{i}.zkey", f"c_{i + 1}.zkey",
            f"--name=participant {i + 1}", f"-e={entropy}", cwd=workdir,
        )  # fmt: skip
    final = f"c_{len(entropies)}.zkey"
    if complete:
        snarkjs(
            "zkey", "beacon", final, "final.zkey", BEACON, BEACON_ITERATIONS_EXP,
            "-n=final beacon", cwd=workdir,
        )  # fmt: skip
        final = "final.zkey"
        snarkjs("zkey", "verify", str(r1cs), str(ptau), final, cwd=workdir)
    snarkjs("zkey", "export", "verificationkey", final, "vk.json", cwd=workdir)
    return Phase2(workdir / final, json.loads((workdir / "vk.json").read_text()))


def snarkjs_verify(
    verification_key: dict, proof_words: Sequence[int], public: Sequence[int], workdir: Path
) -> bool:
    """`snarkjs groth16 verify` of a proof given as the rollup's 8 words (A, B with the
    precompile's c1-first order, C) for `public`: a third verifier (JavaScript, ffjavascript)."""
    a_x, a_y, b_x1, b_x0, b_y1, b_y0, c_x, c_y = (str(w) for w in proof_words)
    proof = {
        "pi_a": [a_x, a_y, "1"],
        "pi_b": [[b_x0, b_x1], [b_y0, b_y1], ["1", "0"]],
        "pi_c": [c_x, c_y, "1"],
        "protocol": "groth16",
        "curve": "bn128",
    }
    workdir.mkdir(parents=True, exist_ok=True)
    for name, content in (
        ("verification_key.json", verification_key),
        ("proof.json", proof),
        ("public.json", [str(x) for x in public]),
    ):
        (workdir / name).write_text(json.dumps(content))
    command = ["groth16", "verify", "verification_key.json", "public.json", "proof.json"]
    done = subprocess.run(
        [str(SNARKJS), *command], cwd=workdir, capture_output=True, text=True, check=False
    )
    return done.returncode == 0 and "OK!" in done.stdout
