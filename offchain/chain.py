"""Chain access for the operator's hot path: web3.py contracts from Ape's compiled artifacts."""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

from web3 import Web3
from web3.contract import Contract

from offchain.deployments import Deployment
from offchain.errors import L2KitError

BUILD_MANIFEST = Path(__file__).resolve().parent.parent / ".build" / "__local__.json"


@lru_cache(maxsize=4)
def _contract_types(manifest: Path) -> dict:
    if not manifest.is_file():
        raise L2KitError(f"no compiled contracts at {manifest}: run `make compile`")
    return json.loads(manifest.read_text())["contractTypes"]


def abi_of(name: str, manifest: Path = BUILD_MANIFEST) -> list[dict]:
    """The ABI of a compiled contract by name."""
    types = _contract_types(manifest)
    if name not in types:
        raise L2KitError(f"contract {name!r} is not compiled: run `make compile`")
    return types[name]["abi"]


def connect(rpc: str, timeout: float = 30.0) -> Web3:
    """A web3 connection to `rpc` that fails early with a useful message."""
    w3 = Web3(Web3.HTTPProvider(rpc, request_kwargs={"timeout": timeout}))
    if not w3.is_connected():
        raise L2KitError(f"cannot reach the node at {rpc}: is it running, and is the URL right?")
    return w3


def contract(w3: Web3, deployment: Deployment, name: str, abi_name: str | None = None) -> Contract:
    """A web3 contract object for `name` from a deployment, checked to be on the same chain."""
    if w3.eth.chain_id != deployment.chain_id:
        raise L2KitError(
            f"the node is on chain {w3.eth.chain_id} but the deployment is for chain "
            f"{deployment.chain_id}: point the RPC at the right network"
        )
    return w3.eth.contract(address=deployment.address(name), abi=abi_of(abi_name or name))
