# SPDX-License-Identifier: GPL-3.0-or-later
"""Deploy the zk rollup with Ape: its bridge (BabyJubJub recipients), the two Groth16 verifiers
(batch and exit circuits, keys from the cached development setup) and the rollup, wired."""

from __future__ import annotations

from typing import Any

from ape import project

from offchain.zk.circuit import dev_keys, exit_spec, rollup_spec, verifier_args
from offchain.zk.params import CircuitParams
from offchain.zk.tree import zero_hashes


def deploy_zk(
    deployer: Any, n_txs: int, n_deposits: int, depth: int, freeze_period: int, forced_delay: int
) -> dict[str, str]:
    """Deploy and wire; returns the addresses by deployment-file name.

    Development keys come from a single-party setup: test funds only (docs/zk.md explains how
    to use keys from a multi-party setup instead)."""
    circuit = CircuitParams(n_txs, n_deposits, depth)
    bridge = deployer.deploy(project.L1Bridge, "0x02")
    batch_verifier = deployer.deploy(
        project.Groth16Verifier, *verifier_args(dev_keys(rollup_spec(circuit)))
    )
    exit_verifier = deployer.deploy(
        project.Groth16Verifier, *verifier_args(dev_keys(exit_spec(circuit.depth)))
    )
    rollup = deployer.deploy(
        project.ZkRollup,
        bridge,
        batch_verifier,
        exit_verifier,
        zero_hashes(circuit.depth)[circuit.depth],
        circuit.n_txs,
        circuit.n_deposits,
        freeze_period,
        forced_delay,
        circuit.depth,
    )
    bridge.setRollup(rollup, sender=deployer)
    return {
        "ZkBridge": bridge.address,
        "ZkBatchVerifier": batch_verifier.address,
        "ZkExitVerifier": exit_verifier.address,
        "ZkRollup": rollup.address,
    }
