"""Per-network deployment files: where each contract lives, written by `ape run deploy`.

A deployment file is ``deployments/<ecosystem>-<network>.json``::

    {"chain_id": 31337, "network": "ethereum:local", "block": 1,
     "contracts": {"L1Bridge": "0x...", ...}, "rpc": "http://127.0.0.1:8545"}

``rpc`` is written only for a node on this machine (and without userinfo or query); for any
other network it is empty, and the services take the URL from ``--rpc`` / ``L2KIT_RPC`` (or Ape's
provider), so a committed deployment file never carries a provider's API key.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path

from eth_typing import ChecksumAddress
from eth_utils import is_checksum_address, to_checksum_address

from offchain.errors import DeploymentNotFound, L2KitError
from offchain.rpc_url import rpc_for_deployment_file

DEFAULT_DIR = Path(__file__).resolve().parent.parent / "deployments"


@dataclass(frozen=True)
class Deployment:
    """Where a set of wired l2kit contracts lives on one chain."""

    chain_id: int
    network: str
    block: int
    contracts: dict[str, str] = field(default_factory=dict)
    rpc: str = ""

    def address(self, name: str) -> ChecksumAddress:
        """The address of contract `name`, or an error listing what this deployment has."""
        try:
            return to_checksum_address(self.contracts[name])
        except KeyError:
            known = ", ".join(sorted(self.contracts)) or "nothing"
            raise L2KitError(
                f"deployment on {self.network} has no contract {name!r} (it has {known}): "
                "re-run `ape run deploy` for this network"
            ) from None


def network_slug(network: str) -> str:
    """``ethereum:sepolia:node`` -> ``ethereum-sepolia``: names a network's files and folders."""
    parts = network.split(":")
    return "-".join(parts[:2]) if len(parts) >= 2 else parts[0]


def deployment_path(network: str, directory: Path | None = None) -> Path:
    """File name for a network choice such as ``ethereum:local`` or ``ethereum:sepolia:node``."""
    name = network_slug(network)
    return (directory or Path(os.environ.get("L2KIT_DEPLOYMENTS", DEFAULT_DIR))) / f"{name}.json"


def save_deployment(deployment: Deployment, directory: Path | None = None) -> Path:
    """Write the deployment file atomically (write a temporary file, then rename)."""
    for name, address in deployment.contracts.items():
        if not is_checksum_address(address):
            raise L2KitError(f"{name} has a malformed address {address!r}")
    path = deployment_path(deployment.network, directory)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".json.tmp")
    body = {
        "chain_id": deployment.chain_id,
        "network": deployment.network,
        "block": deployment.block,
        # Only a local node's URL is kept: a public provider's URL carries its API key.
        "rpc": rpc_for_deployment_file(deployment.rpc),
        "contracts": dict(sorted(deployment.contracts.items())),
    }
    tmp.write_text(json.dumps(body, indent=2) + "\n")
    tmp.replace(path)
    return path


def load_deployment(network: str, directory: Path | None = None) -> Deployment:
    """Read the deployment file of `network`, or say how to make one."""
    path = deployment_path(network, directory)
    if not path.is_file():
        raise DeploymentNotFound(
            f"no deployment for {network} at {path}: run `ape run deploy --network {network}` first"
        )
    try:
        raw = json.loads(path.read_text())
        return Deployment(
            chain_id=int(raw["chain_id"]),
            network=str(raw["network"]),
            block=int(raw.get("block", 0)),
            contracts={str(k): str(v) for k, v in raw["contracts"].items()},
            rpc=str(raw.get("rpc", "")),
        )
    except (ValueError, KeyError, TypeError) as exc:
        raise L2KitError(
            f"deployment file {path} is malformed ({exc}): delete it and redeploy"
        ) from exc
