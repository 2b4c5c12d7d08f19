# SPDX-License-Identifier: GPL-3.0-or-later
"""The rollup circuit's sources, build cache and keys (development setup or a multi-party one).

Keys live in `<cache>/<tag>-<hash>/` where the hash covers the circuit sources, the parameters
and the groth16py version, so a changed circuit never reuses stale keys."""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import groth16py

from offchain.zk.params import CircuitParams

REPO_ROOT = Path(__file__).resolve().parents[2]
CIRCUITS_DIR = REPO_ROOT / "circuits"
DEFAULT_CACHE = REPO_ROOT / ".cache" / "zk"


@dataclass(frozen=True)
class CircuitSpec:
    """One circuit to build: a template of circuits/<file> with its arguments and public inputs."""

    name: str
    file: str
    template_call: str
    public: tuple[str, ...]

    @property
    def main_source(self) -> str:
        """The top-level circom file instantiating the template."""
        return (
            "pragma circom 2.0.0;\n"
            f'include "{(CIRCUITS_DIR / self.file).as_posix()}";\n'
            f"component main {{public [{', '.join(self.public)}]}} = {self.template_call};\n"
        )

    def source_hash(self) -> str:
        """Hash of everything the keys depend on: sources, arguments, groth16py version."""
        h = hashlib.sha256()
        h.update(groth16py.__version__.encode())
        h.update(self.main_source.replace(str(CIRCUITS_DIR), "").encode())
        for path in sorted(CIRCUITS_DIR.glob("*.circom")):
            h.update(path.name.encode())
            h.update(path.read_bytes())
        return h.hexdigest()[:16]


def rollup_spec(params: CircuitParams) -> CircuitSpec:
    """The batch circuit: N transactions, D deposits, tree depth."""
    return CircuitSpec(
        name=f"rollup-{params.tag}",
        file="rollup.circom",
        template_call=(
            f"Rollup({params.n_txs}, {params.n_deposits}, {params.n_payouts}, {params.depth})"
        ),
        public=("oldRoot", "newRoot", "dataHash"),
    )


def exit_spec(depth: int) -> CircuitSpec:
    """The emergency-exit circuit for a tree of `depth`."""
    return CircuitSpec(
        name=f"exit-h{depth}",
        file="exit.circom",
        template_call=f"Exit({depth})",
        public=("root", "domain", "leafToken", "balance", "recipient"),
    )


def link_libraries() -> list[str]:
    return [groth16py.circomlib_path(2), str(CIRCUITS_DIR)]


@dataclass(frozen=True)
class CircuitKeys:
    """A proving key (opaque groth16py object) and its verifying key."""

    spec: CircuitSpec
    proving_key: groth16py.ProvingKey
    verifying_key: groth16py.VerifyingKey
    origin: str

    def verifying_key_json(self) -> dict:
        return json.loads(self.verifying_key.to_json())


def build_dir(spec: CircuitSpec, cache: Path = DEFAULT_CACHE) -> Path:
    return cache / f"{spec.name}-{spec.source_hash()}"


def write_main(spec: CircuitSpec, cache: Path = DEFAULT_CACHE) -> Path:
    directory = build_dir(spec, cache)
    directory.mkdir(parents=True, exist_ok=True)
    main = directory / "main.circom"
    main.write_text(spec.main_source)
    return main


def dev_keys(spec: CircuitSpec, cache: Path = DEFAULT_CACHE) -> CircuitKeys:
    """Development keys: loaded from the cache, or made by a single-party setup and cached.

    A single-party setup knows the toxic waste: never hold real funds behind these keys."""
    directory = build_dir(spec, cache)
    pk_path, vk_path = directory / "dev.pk", directory / "dev.vk"
    if pk_path.exists() and vk_path.exists():
        return CircuitKeys(
            spec,
            groth16py.ProvingKey.load(str(pk_path)),
            groth16py.VerifyingKey.load(str(vk_path)),
            f"dev cache {directory}",
        )
    main = write_main(spec, cache)
    started = time.perf_counter()
    with _capture_fd1(directory / "compile.log"):
        pk, vk = groth16py.setup_circom(str(main), link_libraries())
    info = {
        "constraints": _constraints(directory / "compile.log"),
        "setup_seconds": round(time.perf_counter() - started, 1),
    }
    (directory / "info.json").write_text(json.dumps(info))
    # Write under temporary names then rename: a killed run never leaves a half key.
    for key, path in ((pk, pk_path), (vk, vk_path)):
        tmp = path.with_suffix(".tmp")
        key.save(str(tmp))
        os.replace(tmp, path)
    return CircuitKeys(spec, pk, vk, f"dev setup {directory}")


def build_info(spec: CircuitSpec, cache: Path = DEFAULT_CACHE) -> dict:
    """Constraint count and setup time recorded by the development setup (empty if unknown)."""
    path = build_dir(spec, cache) / "info.json"
    return json.loads(path.read_text()) if path.exists() else {}


@contextlib.contextmanager
def _capture_fd1(path: Path) -> Iterator[None]:
    """Send the compiler's stdout (written by native code to fd 1) to `path`."""
    sys.stdout.flush()
    saved = os.dup(1)
    with path.open("wb") as out:
        os.dup2(out.fileno(), 1)
        try:
            yield
        finally:
            os.dup2(saved, 1)
            os.close(saved)


def _constraints(log: Path) -> int | None:
    text = re.sub(r"\x1b\[[0-9;]*m", "", log.read_text(errors="replace"))
    found = re.search(r"non-linear constraints:\s*(\d+)", text)
    return int(found.group(1)) if found else None


def ceremony_keys(spec: CircuitSpec, zkey_path: Path, cache: Path = DEFAULT_CACHE) -> CircuitKeys:
    """Keys from a multi-party setup: a snarkjs Groth16 `.zkey` made (with snarkjs and a
    powers-of-tau file) for the circuit `write_main(spec)` writes. The circuit is compiled here
    too so proving works in-process; it must be exactly the one the ceremony used."""
    if not zkey_path.exists():
        raise FileNotFoundError(f"no zkey at {zkey_path}: run the ceremony first (docs/zk.md)")
    main = write_main(spec, cache)
    pk, vk = groth16py.import_zkey(str(zkey_path), str(main), link_libraries())
    return CircuitKeys(spec, pk, vk, f"ceremony {zkey_path}")


def verifier_args(
    keys: CircuitKeys,
) -> tuple[list[int], list[int], list[int], list[int], list[int]]:
    """Constructor arguments of contracts/zk/Groth16Verifier.sol for this verifying key
    (snarkjs JSON order [c0, c1] swapped into the precompile's [c1, c0])."""
    vk = keys.verifying_key_json()

    def g2(point: list[list[str]]) -> list[int]:
        return [int(point[0][1]), int(point[0][0]), int(point[1][1]), int(point[1][0])]

    alpha = [int(vk["vk_alpha_1"][0]), int(vk["vk_alpha_1"][1])]
    ic = [int(c) for pt in vk["IC"] for c in pt[:2]]
    return alpha, g2(vk["vk_beta_2"]), g2(vk["vk_gamma_2"]), g2(vk["vk_delta_2"]), ic
