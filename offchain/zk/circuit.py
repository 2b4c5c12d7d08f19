# SPDX-License-Identifier: GPL-3.0-or-later
"""The rollup circuit's sources, build cache and keys (development setup or a multi-party one).

Keys live in `<cache>/<tag>-<hash>/` where the hash covers the circuit sources, the parameters
and the groth16py version, so a changed circuit never reuses stale keys."""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path

import groth16py

from offchain.zk.params import CircuitParams

REPO_ROOT = Path(__file__).resolve().parents[2]
CIRCUITS_DIR = REPO_ROOT / "circuits"
DEFAULT_CACHE = REPO_ROOT / ".cache" / "zk"


def main_source(params: CircuitParams) -> str:
    """The top-level circom file instantiating the rollup template with `params`."""
    return (
        "pragma circom 2.0.0;\n"
        f'include "{(CIRCUITS_DIR / "rollup.circom").as_posix()}";\n'
        "component main {public [oldRoot, newRoot, dataHash]} = "
        f"Rollup({params.n_txs}, {params.n_deposits}, {params.depth});\n"
    )


def source_hash(params: CircuitParams) -> str:
    """Hash of everything the keys depend on."""
    h = hashlib.sha256()
    h.update(groth16py.__version__.encode())
    h.update(repr((params.n_txs, params.n_deposits, params.depth)).encode())
    for path in sorted(CIRCUITS_DIR.glob("*.circom")):
        h.update(path.name.encode())
        h.update(path.read_bytes())
    return h.hexdigest()[:16]


def link_libraries() -> list[str]:
    return [groth16py.circomlib_path(2), str(CIRCUITS_DIR)]


@dataclass(frozen=True)
class CircuitKeys:
    """A proving key (opaque groth16py object) and its verifying key."""

    params: CircuitParams
    proving_key: groth16py.ProvingKey
    verifying_key: groth16py.VerifyingKey
    origin: str

    def verifying_key_json(self) -> dict:
        return json.loads(self.verifying_key.to_json())


def build_dir(params: CircuitParams, cache: Path = DEFAULT_CACHE) -> Path:
    return cache / f"{params.tag}-{source_hash(params)}"


def write_main(params: CircuitParams, cache: Path = DEFAULT_CACHE) -> Path:
    directory = build_dir(params, cache)
    directory.mkdir(parents=True, exist_ok=True)
    main = directory / "main.circom"
    main.write_text(main_source(params))
    return main


def dev_keys(params: CircuitParams, cache: Path = DEFAULT_CACHE) -> CircuitKeys:
    """Development keys: loaded from the cache, or made by a single-party setup and cached.

    A single-party setup knows the toxic waste: never hold real funds behind these keys."""
    directory = build_dir(params, cache)
    pk_path, vk_path = directory / "dev.pk", directory / "dev.vk"
    if pk_path.exists() and vk_path.exists():
        return CircuitKeys(
            params,
            groth16py.ProvingKey.load(str(pk_path)),
            groth16py.VerifyingKey.load(str(vk_path)),
            f"dev cache {directory}",
        )
    main = write_main(params, cache)
    pk, vk = groth16py.setup_circom(str(main), link_libraries())
    # Write under temporary names then rename: a killed run never leaves a half key.
    for key, path in ((pk, pk_path), (vk, vk_path)):
        tmp = path.with_suffix(".tmp")
        key.save(str(tmp))
        os.replace(tmp, path)
    return CircuitKeys(params, pk, vk, f"dev setup {directory}")


def ceremony_keys(
    params: CircuitParams, zkey_path: Path, cache: Path = DEFAULT_CACHE
) -> CircuitKeys:
    """Keys from a multi-party setup: a snarkjs Groth16 `.zkey` made (with snarkjs and a
    powers-of-tau file) for the circuit `write_main(params)` writes. The circuit is compiled
    here too so proving works in-process; it must be the one the ceremony used."""
    if not zkey_path.exists():
        raise FileNotFoundError(f"no zkey at {zkey_path}: run the ceremony first (docs/zk.md)")
    main = write_main(params, cache)
    pk, vk = groth16py.import_zkey(str(zkey_path), str(main), link_libraries())
    return CircuitKeys(params, pk, vk, f"ceremony {zkey_path}")
