"""Start-up checks of the operator services: fail fast, with one line that says what to do.

Each check reads a setting or the node once (no retry loop: a service that cannot start should
say so in a second, not after a minute of back-off) and raises `PreflightError` naming what is
wrong and how to fix it. The services run them before touching the store or the network API.
"""

from __future__ import annotations

import errno
import re
import socket

from eth_account import Account as EthAccount
from eth_account.signers.local import LocalAccount
from web3 import Web3
from web3.exceptions import BlockNotFound

from offchain.deployments import Deployment
from offchain.errors import SequencerError
from offchain.l1.sender import FeeAboveCap, SendPolicy, max_fee_now
from offchain.sequencer.store import DeploymentBinding

#: Seconds the start-up probes wait for the node.
PROBE_TIMEOUT = 5.0
#: Gas set aside, next to the bond, for the proposer's first posts (a full batch is ~1-2 M gas).
GAS_RESERVE = 3_000_000

_KEY = re.compile(r"(0x)?[0-9a-fA-F]{64}")


class PreflightError(SequencerError):
    """A setting or the node is not fit to start on; the message says what to change."""


def parse_key(value: str, env_name: str) -> LocalAccount:
    """The account of a hex private key taken from `env_name` (the key is never echoed)."""
    if not _KEY.fullmatch(value.strip()):
        raise PreflightError(
            f"{env_name} is not a private key: expected 64 hex digits (optionally 0x-prefixed), "
            f"got {len(value.strip())} characters; set it to the account's raw private key"
        )
    try:
        return EthAccount.from_key(bytes.fromhex(value.strip().removeprefix("0x")))
    except (ValueError, TypeError):
        raise PreflightError(
            f"{env_name} is out of range for a secp256k1 private key: use a real key"
        ) from None


def check_port(host: str, port: int) -> None:
    """Refuse a listen address that is taken, before any slow start-up work."""
    if port == 0:
        return
    probe = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM)
    try:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as the API server does
        probe.bind((host, port))
    except OSError as exc:
        if exc.errno == errno.EADDRINUSE:
            raise PreflightError(
                f"port {port} on {host} is in use (another batcher?): stop that process or "
                "choose another --port"
            ) from None
        raise PreflightError(
            f"cannot listen on {host}:{port} ({exc.strerror}): choose another --host/--port"
        ) from None
    finally:
        probe.close()


def connect_once(rpc: str, timeout: float = PROBE_TIMEOUT) -> Web3:
    """A connection to `rpc`, probed with one `eth_chainId` call and no retries."""
    probe = Web3(
        Web3.HTTPProvider(
            rpc, request_kwargs={"timeout": timeout}, exception_retry_configuration=None
        )
    )
    try:
        probe.eth.chain_id  # noqa: B018 - the call is the probe
    except Exception as exc:
        raise PreflightError(
            f"cannot reach the L1 node at {rpc} ({type(exc).__name__}): start the node or pass "
            "the right --rpc / $L2KIT_RPC"
        ) from None
    return probe


def check_deployment(w3: Web3, deployment: Deployment, names: tuple[str, ...], rpc: str) -> None:
    """The node is the deployment's chain and holds code at each of its contracts `names`."""
    chain_id = int(w3.eth.chain_id)
    if chain_id != deployment.chain_id:
        raise PreflightError(
            f"the node at {rpc} is chain {chain_id} but the {deployment.network} deployment is "
            f"on chain {deployment.chain_id}: point --rpc at that network or pick its --network"
        )
    for name in names:
        address = deployment.address(name)
        if not w3.eth.get_code(Web3.to_checksum_address(address)):
            raise PreflightError(
                f"no contract at {name} {address} on chain {chain_id} (the node was restarted or "
                f"reset since the deployment?): run `ape run deploy --network {deployment.network}`"
            )


def read_binding(w3: Web3, rollup: str, deployment_block: int) -> DeploymentBinding:
    """The deployment identity a store is bound to, read from the node."""
    try:
        block = w3.eth.get_block(deployment_block)
    except BlockNotFound:
        raise PreflightError(
            f"the node has no block {deployment_block}, where the rollup was deployed: it is "
            "another chain or a reset node; redeploy, or point --rpc at the deployment's node"
        ) from None
    return DeploymentBinding(
        chain_id=int(w3.eth.chain_id),
        rollup=Web3.to_checksum_address(rollup),
        deployment_block=deployment_block,
        block_hash=Web3.to_hex(block["hash"]),
    )


def check_funds(
    w3: Web3,
    address: str,
    bond_to_add: int,
    reserve_gas: int = GAS_RESERVE,
    policy: SendPolicy | None = None,
) -> None:
    """The proposer can pay the bond it still owes plus gas for its first posts, priced at the
    max fee per gas the L1 sender would offer now under `policy` (not a constant)."""
    try:
        max_fee = max_fee_now(w3, policy or SendPolicy())
    except FeeAboveCap as exc:
        raise PreflightError(
            f"{exc}: L1 fees are above the sender's cap now; wait, or raise the fee cap"
        ) from exc
    gas_cost = reserve_gas * max_fee
    balance = int(w3.eth.get_balance(Web3.to_checksum_address(address)))
    need = bond_to_add + gas_cost
    if balance < need:
        raise PreflightError(
            f"the proposer {address} holds {balance} wei but needs {need} wei ({bond_to_add} "
            f"for the bond + {gas_cost} for gas): fund it, or lower --bond"
        )
