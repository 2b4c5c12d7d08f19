"""One command's connection to the world: network, deployment, node, key, batcher, output.

Everything is resolved lazily, so a command that only reads never asks for a key, and a bad
option fails before anything is sent. `send` is the only way the CLI puts a transaction on L1: it
confirms (unless ``--yes``), estimates gas first (a revert is reported by its custom error name
and nothing is sent), signs locally and waits for the receipt.
"""

from __future__ import annotations

import functools
import os
import sys
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

import click
from eth_abi import decode as abi_decode
from eth_account.signers.local import LocalAccount
from eth_typing import ABIFunction, ChecksumAddress
from eth_utils import function_abi_to_4byte_selector, to_checksum_address
from web3 import Web3
from web3.contract import Contract
from web3.exceptions import ContractCustomError, ContractLogicError

from offchain.chain import abi_of
from offchain.deployments import Deployment, load_deployment
from offchain.errors import CliError, L2KitError
from offchain.l1.sender import (
    EstimateRefused,
    L1Sender,
    Reverted,
    SendError,
    SendPolicy,
    WouldRevert,
    call_tx,
    rpc_message,
)
from offchain.rpc_url import redact_rpc
from offchain.sequencer.client import DEFAULT_URL, BatcherClient

from .keys import DEFAULT_KEY_ENV, KeySource, load_key
from .output import Output

DEFAULT_NETWORK = "ethereum:local"
#: ABIs whose custom errors a revert is decoded against.
ERROR_ABIS = ("Rollup", "L1Bridge", "ZkRollup")
#: A user waits: replace a transaction not mined within a minute, for up to five minutes.
CLI_SEND_POLICY = SendPolicy(max_attempts=5, receipt_timeout=60.0, backoff=0.5, max_backoff=5.0)


class SendRefused(CliError):
    """A transaction that would revert, or that the node refuses; nothing was sent."""


@dataclass(frozen=True)
class Options:
    network: str
    rpc: str | None
    batcher: str
    keys: KeySource
    yes: bool
    as_json: bool
    deployments: Path | None = None


def common_options(fn):
    """The options every command takes (after the command name, as in `cast`)."""
    decorators = [
        click.option(
            "--network",
            envvar="L2KIT_NETWORK",
            default=DEFAULT_NETWORK,
            show_default=True,
            help="Ape network choice ecosystem:network[:provider]; picks the deployment file.",
        ),
        click.option(
            "--rpc",
            envvar="L2KIT_RPC",
            default=None,
            help="L1 JSON-RPC URL [env L2KIT_RPC; default: ape-config.yaml's node uri for the "
            "network, else the deployment file's local node].",
        ),
        click.option(
            "--batcher",
            envvar="L2KIT_BATCHER",
            default=DEFAULT_URL,
            show_default=True,
            help="The batcher's HTTP API [env L2KIT_BATCHER].",
        ),
        click.option("--account", "alias", default=None, help="Ape account alias that signs."),
        click.option(
            "--keyfile",
            type=click.Path(path_type=Path),
            default=None,
            help="v3 keystore that signs (passphrase: $L2KIT_KEYFILE_PASSPHRASE or a prompt).",
        ),
        click.option(
            "--key-env",
            default=DEFAULT_KEY_ENV,
            show_default=True,
            help="Environment variable with a raw private key (used without --account/--keyfile).",
        ),
        click.option("--yes", "-y", is_flag=True, help="Send without asking (unattended use)."),
        click.option("--json", "as_json", is_flag=True, help="Print the result as JSON."),
    ]

    @functools.wraps(fn)
    def wrapper(*args, network, rpc, batcher, alias, keyfile, key_env, yes, as_json, **kwargs):
        deployments = os.environ.get("L2KIT_DEPLOYMENTS")
        opts = Options(
            network=network,
            rpc=rpc,
            batcher=batcher,
            keys=KeySource(alias, keyfile, key_env),
            yes=yes,
            as_json=as_json,
            deployments=Path(deployments) if deployments else None,
        )
        return fn(Session(opts), *args, **kwargs)

    for d in reversed(decorators):
        wrapper = d(wrapper)
    return wrapper


def ape_config_rpc(network: str, config: Path | None = None) -> str | None:
    """``node: <ecosystem>: <network>: uri`` from ape-config.yaml (where the README puts it)."""
    path = config or Path.cwd() / "ape-config.yaml"
    if not path.is_file():
        return None
    import yaml

    try:
        raw = yaml.safe_load(path.read_text()) or {}
    except yaml.YAMLError:
        return None
    parts = network.split(":")
    if len(parts) < 2:
        return None
    node = raw.get("node") or {}
    uri = ((node.get(parts[0]) or {}).get(parts[1]) or {}).get("uri")
    return os.path.expandvars(str(uri)) if uri else None


class Session:
    def __init__(self, opts: Options) -> None:
        self.opts = opts
        self.out = Output(opts.as_json)

    # -- where -------------------------------------------------------------------------------------

    @cached_property
    def deployment(self) -> Deployment:
        return load_deployment(self.opts.network, self.opts.deployments)

    @cached_property
    def rpc(self) -> str:
        rpc = (
            self.opts.rpc
            or ape_config_rpc(self.opts.network)
            or (self.deployment.rpc if self.deployment.rpc else None)
        )
        if not rpc:
            raise L2KitError(
                f"no RPC URL for {self.opts.network}: pass --rpc <url>, set L2KIT_RPC, or add "
                "node: <ecosystem>: <network>: uri: to ape-config.yaml"
            )
        return rpc

    @cached_property
    def w3(self) -> Web3:
        w3 = Web3(Web3.HTTPProvider(self.rpc, request_kwargs={"timeout": 30}))
        try:
            chain_id = w3.eth.chain_id
        except Exception:
            raise L2KitError(
                f"cannot reach the node at {redact_rpc(self.rpc)}: is it running, and is "
                "--rpc right?"
            ) from None
        if chain_id != self.deployment.chain_id:
            raise L2KitError(
                f"wrong network: the node at {redact_rpc(self.rpc)} is chain {chain_id} but the "
                f"{self.opts.network} deployment is on chain {self.deployment.chain_id}: fix "
                "--network or --rpc"
            )
        return w3

    def contract(self, name: str, abi_name: str | None = None) -> Contract:
        return self.w3.eth.contract(
            address=self.deployment.address(name), abi=abi_of(abi_name or name)
        )

    def erc20(self, address: str) -> Contract:
        return self.w3.eth.contract(address=to_checksum_address(address), abi=abi_of("TestToken"))

    @cached_property
    def batcher(self) -> BatcherClient:
        return BatcherClient(self.opts.batcher)

    # -- who ---------------------------------------------------------------------------------------

    @cached_property
    def account(self) -> LocalAccount:
        return load_key(self.opts.keys, lambda msg: click.prompt(msg, hide_input=True))

    @property
    def address(self) -> ChecksumAddress:
        return self.account.address

    # -- sending -----------------------------------------------------------------------------------

    def confirm(self, summary: str) -> None:
        """Ask before moving value, unless --yes; refuse to guess without a terminal."""
        if self.opts.yes:
            return
        if not sys.stdin.isatty():
            raise L2KitError(f"{summary}: pass --yes to send without confirmation (no terminal)")
        if not click.confirm(f"{summary}. Send?", default=False, err=True):
            raise click.Abort()

    @cached_property
    def sender(self) -> L1Sender:
        """The one L1 sender of the session's key (fees and gas from the node, replacement)."""
        return L1Sender(self.w3, self.account, CLI_SEND_POLICY)

    def send(self, call: Any, value: int = 0, what: str = "transaction") -> dict:
        """Sign and send `call` from the session's key; returns the receipt. Reverts are caught at
        gas estimation, so a failing call is never sent."""
        try:
            sent = self.sender.send(
                call_tx(call, value),
                on_sent=lambda h: self.out.note(f"sent {what}: {h}"),
            )
        except WouldRevert as exc:
            cause = exc.error
            if isinstance(cause, ContractCustomError):
                raise SendRefused(
                    f"{what} would revert with {decode_error(cause)}: nothing sent"
                ) from None
            message = cause.message if isinstance(cause, ContractLogicError) else str(cause)
            raise SendRefused(f"{what} would revert ({message}): nothing sent") from None
        except EstimateRefused as exc:
            raise SendRefused(f"the node refused the {what}: {rpc_message(exc.error)}") from None
        except Reverted as exc:
            raise SendRefused(f"{what} {exc.tx_hash} reverted on chain") from None
        except SendError as exc:
            raise SendRefused(f"the node refused the {what}: {exc}") from None
        return dict(sent.receipt)


@functools.lru_cache(maxsize=1)
def _error_table() -> dict[bytes, tuple[str, list[str]]]:
    table: dict[bytes, tuple[str, list[str]]] = {}
    for name in ERROR_ABIS:
        try:
            abi = abi_of(name)
        except L2KitError:
            continue
        for item in abi:
            if item.get("type") == "error":
                types = [i["type"] for i in item.get("inputs", [])]
                sig: ABIFunction = {
                    "type": "function",
                    "name": item["name"],
                    "inputs": item.get("inputs", []),
                }
                table[function_abi_to_4byte_selector(sig)] = (item["name"], types)
    return table


def decode_error(exc: ContractCustomError) -> str:
    """`Name(arg, ...)` of a custom-error revert, from the compiled ABIs."""
    data = exc.data if isinstance(exc.data, str) else str(exc.message)
    raw = bytes.fromhex(data.removeprefix("0x")) if data.startswith("0x") else b""
    entry = _error_table().get(raw[:4])
    if entry is None:
        return f"an unknown error {data[:10]}"
    name, types = entry
    try:
        args = abi_decode(types, raw[4:])
    except Exception:
        return name
    return f"{name}({', '.join(_arg(a) for a in args)})"


def _arg(a: Any) -> str:
    return "0x" + a.hex() if isinstance(a, bytes) else str(a)
