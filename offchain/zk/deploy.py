# SPDX-License-Identifier: GPL-3.0-or-later
"""Deploy the zk rollup with Ape: its bridge (BabyJubJub recipients), the two Groth16 verifiers
(batch and exit circuits, keys from the cached development setup) and the rollup, wired. The
bridge and the rollup sit behind GovernedProxy proxies whose ProxyAdmins the timelock owns, and
the rollup's setters answer to the timelock (docs/governance.md §5)."""

from __future__ import annotations

from typing import Any

from ape import project

from offchain.governance.wiring import deploy_proxied
from offchain.zk.circuit import dev_keys, exit_spec, rollup_spec, verifier_args
from offchain.zk.params import CircuitParams
from offchain.zk.tree import zero_hashes

#: Transactions `deploy_zk` sends (callers predict the timelock's address from it).
DEPLOY_ZK_TXS = 7


def deploy_zk(
    deployer: Any,
    n_txs: int,
    n_deposits: int,
    depth: int,
    freeze_period: int,
    forced_delay: int,
    timelock: str,
    pause: tuple[str, int, bool],
) -> dict[str, str]:
    """Deploy and wire (DEPLOY_ZK_TXS transactions); returns the addresses by deployment-file
    name. `timelock` (possibly not deployed yet) owns both ProxyAdmins and calls the setters;
    `pause` is the council's posting pause (pauser, longest pause, Stage 2 mode; see
    `offchain.deploy.zk_max_pause`).

    Development keys come from a single-party setup: test funds only (docs/zk.md explains how
    to use keys from a multi-party setup instead)."""
    circuit = CircuitParams(n_txs, n_deposits, depth)
    bridge = deploy_proxied(project, deployer, project.L1Bridge, timelock, ("0x02",), ())
    batch_verifier = deployer.deploy(
        project.Groth16Verifier, *verifier_args(dev_keys(rollup_spec(circuit)))
    )
    exit_verifier = deployer.deploy(
        project.Groth16Verifier, *verifier_args(dev_keys(exit_spec(circuit.depth)))
    )
    genesis = zero_hashes(circuit.depth)[circuit.depth]
    rollup = deploy_proxied(
        project,
        deployer,
        project.ZkRollup,
        timelock,
        (
            bridge.contract,
            batch_verifier,
            exit_verifier,
            genesis,
            circuit.n_txs,
            circuit.n_deposits,
            freeze_period,
            forced_delay,
            circuit.depth,
        ),
        (timelock, batch_verifier, exit_verifier, genesis, freeze_period, pause),
    )
    bridge.contract.setRollup(rollup.contract, sender=deployer)
    return {
        **bridge.entries("ZkBridge"),
        "ZkBatchVerifier": batch_verifier.address,
        "ZkExitVerifier": exit_verifier.address,
        **rollup.entries("ZkRollup"),
    }
