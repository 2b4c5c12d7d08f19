# SPDX-License-Identifier: GPL-3.0-or-later
"""`l2kit zk ...`: the validity-proof rollup from a user's side (needs the optional zk extra).

An L2 account of the zk rollup is a BabyJubJub key: 32 secret bytes in an environment variable
(``--zk-key-env``, default ``L2KIT_ZK_KEY``); `l2kit zk key` makes one. Deposits are L1
transactions to the zk bridge credited to the key's public key; transfers and withdrawals are
signed with the key and submitted to the zk batcher (``ape run batcher -- --mode zk``), whose
API addresses accounts by leaf index. A zk batch is final when L1 accepts its proof, so a
withdrawal is claimable with `l2kit zk claim` right after.

Not here yet: the emergency exit of a frozen zk rollup (it needs the exit circuit's prover on
the user's machine and the frozen state rebuilt from L1).
"""

from __future__ import annotations

import os
import secrets

import click
from web3.logs import DISCARD

from offchain.errors import L2KitError
from offchain.operator.client import BatcherClient, BatcherUnavailable
from offchain.zk.babyjub import PrivateKey
from offchain.zk.txs import TxKind, domain_of, recipient_bytes, sign_tx

from .common import ETH_TOKEN, checked_address, parse_value
from .session import Session, common_options

DEFAULT_ZK_BATCHER = "http://127.0.0.1:8548"
zk_key_option = click.option(
    "--zk-key-env",
    default="L2KIT_ZK_KEY",
    show_default=True,
    help="Environment variable holding your 32-byte zk key (hex).",
)
leaf_option = click.option("--leaf", type=int, required=True, help="Your account's leaf index.")
zk_batcher_option = click.option(
    "--zk-batcher",
    envvar="L2KIT_ZK_BATCHER",
    default=DEFAULT_ZK_BATCHER,
    show_default=True,
    help="The zk batcher's HTTP API [env L2KIT_ZK_BATCHER].",
)


def _zk_key(env: str) -> PrivateKey:
    raw = os.environ.get(env, "").strip().removeprefix("0x")
    if not raw:
        raise L2KitError(f"no zk key: set ${env} (make one with `l2kit zk key`)")
    try:
        seed = bytes.fromhex(raw)
    except ValueError:
        raise L2KitError(f"${env} is not hex: expected 64 hex digits") from None
    if len(seed) != 32:
        raise L2KitError(f"${env} is {len(seed)} bytes: a zk key is 32 bytes (64 hex digits)")
    return PrivateKey(seed)


def _zk_call(url: str, method: str, path: str, body: dict | None = None) -> dict:
    """A call to the zk batcher; when nothing answers, the hint names the zk batcher."""
    try:
        return BatcherClient(url)._call(method, path, body)
    except BatcherUnavailable as exc:
        first = str(exc).split(": start it with")[0]
        raise BatcherUnavailable(
            f"{first}: start it with `ape run batcher -- --mode zk --port 8548`, or pass "
            "--zk-batcher <url>"
        ) from None


def _domain(s: Session) -> int:
    return domain_of(s.deployment.chain_id, s.deployment.address("ZkRollup"))


@click.group()
def zk() -> None:
    """The zk rollup: keys, deposits, transfers and withdrawals final at proof time."""


@zk.command()
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
def key(as_json: bool) -> None:
    """Make a new zk key (keep it secret: export it as L2KIT_ZK_KEY)."""
    seed = secrets.token_bytes(32)
    ax, ay = PrivateKey(seed).public_key
    data = {"key": "0x" + seed.hex(), "public_key": [hex(ax), hex(ay)]}
    if as_json:
        import json

        click.echo(json.dumps(data, indent=2))
    else:
        click.echo(f"key         0x{seed.hex()}\npublic key  ({hex(ax)}, {hex(ay)})")


@zk.command()
@click.argument("amount")
@zk_key_option
@common_options
def deposit(s: Session, amount: str, zk_key_env: str) -> None:
    """Deposit AMOUNT of ETH to your zk key (your L1 key pays)."""
    pub = _zk_key(zk_key_env).public_key
    value = parse_value(ETH_TOKEN, amount)
    held = s.w3.eth.get_balance(s.address)
    if held < value:
        raise L2KitError(
            f"insufficient balance: {s.address} has {ETH_TOKEN.show(held)}, the deposit needs "
            f"{ETH_TOKEN.show(value)} plus gas"
        )
    bridge = s.contract("ZkBridge", "L1Bridge")
    s.confirm(f"deposit {ETH_TOKEN.show(value)} to zk key ({hex(pub[0])[:12]}...)")
    receipt = s.send(bridge.functions.depositETH(recipient_bytes(pub)), value, "zk deposit")
    logs = bridge.events.DepositQueued().process_receipt(receipt, errors=DISCARD)
    index = int(logs[0]["args"]["index"]) if logs else None
    s.out.result(
        {
            "deposit_index": index,
            "amount": str(value),
            "l1_tx": receipt["transactionHash"].to_0x_hex(),
        },
        f"zk deposit {index}: {ETH_TOKEN.show(value)}; the zk batcher credits it to a leaf in "
        "its next proven batch",
    )


@zk.command()
@leaf_option
@zk_batcher_option
@common_options
def balance(s: Session, leaf: int, zk_batcher: str) -> None:
    """Show the balance and nonce of zk leaf --leaf."""
    info = _zk_call(zk_batcher, "GET", f"/account/{leaf}")
    s.out.result(
        info,
        f"leaf {leaf}: {ETH_TOKEN.show(int(info['balance']))} (confirmed "
        f"{ETH_TOKEN.show(int(info['confirmed_balance']))}), nonce {info['nonce']}",
    )


def _submit(
    s: Session, zk_batcher: str, kind: TxKind, leaf: int, to: int, value: int, zk_key_env: str
) -> dict:
    info = _zk_call(zk_batcher, "GET", f"/account/{leaf}")
    if int(info["balance"]) < value:
        raise L2KitError(
            f"insufficient zk balance: leaf {leaf} has {ETH_TOKEN.show(int(info['balance']))}, "
            f"this needs {ETH_TOKEN.show(value)}"
        )
    tx = sign_tx(_zk_key(zk_key_env), _domain(s), kind, leaf, to, value, int(info["nonce"]))
    body = {
        "type": "transfer" if kind == TxKind.TRANSFER else "withdraw",
        "from": leaf,
        "to": str(to),
        "amount": str(value),
        "nonce": tx.nonce,
        "signature": {
            "r8x": str(tx.signature.r8[0]),
            "r8y": str(tx.signature.r8[1]),
            "s": str(tx.signature.s),
        },
    }
    return _zk_call(zk_batcher, "POST", "/tx", body)


@zk.command()
@click.argument("to_leaf", type=int)
@click.argument("amount")
@leaf_option
@zk_key_option
@zk_batcher_option
@common_options
def transfer(
    s: Session, to_leaf: int, amount: str, leaf: int, zk_key_env: str, zk_batcher: str
) -> None:
    """Transfer AMOUNT from leaf --leaf to TO_LEAF."""
    value = parse_value(ETH_TOKEN, amount)
    s.confirm(f"transfer {ETH_TOKEN.show(value)} from zk leaf {leaf} to {to_leaf}")
    out = _submit(s, zk_batcher, TxKind.TRANSFER, leaf, to_leaf, value, zk_key_env)
    s.out.result(out, f"zk transfer {out['tx_hash']}: {out['status']}")


@zk.command()
@click.argument("amount")
@click.option("--to", "to", default=None, help="L1 address paid (default: your L1 key's).")
@leaf_option
@zk_key_option
@zk_batcher_option
@common_options
def withdraw(
    s: Session, amount: str, to: str | None, leaf: int, zk_key_env: str, zk_batcher: str
) -> None:
    """Withdraw AMOUNT from leaf --leaf to an L1 address (claimable once its batch is proven)."""
    value = parse_value(ETH_TOKEN, amount)
    dest = checked_address(to, "destination") if to else s.address
    s.confirm(f"withdraw {ETH_TOKEN.show(value)} from zk leaf {leaf} to {dest}")
    out = _submit(s, zk_batcher, TxKind.WITHDRAW, leaf, int(dest, 16), value, zk_key_env)
    s.out.result(
        out, f"zk withdrawal {out['tx_hash']}: {out['status']}; once proven: `l2kit zk claim`"
    )


@zk.command()
@click.option("--to", "to", default=None, help="L1 address paid (default: yourself).")
@common_options
def claim(s: Session, to: str | None) -> None:
    """Pull what the zk bridge owes you (proven withdrawals) to your L1 address."""
    dest = checked_address(to, "destination") if to else s.address
    bridge = s.contract("ZkBridge", "L1Bridge")
    amount = bridge.functions.claimable(s.address, ETH_TOKEN.address).call()
    if amount == 0:
        raise L2KitError(f"nothing to claim: the zk bridge owes {s.address} no ETH")
    receipt = s.send(bridge.functions.claim(ETH_TOKEN.address, dest), 0, "claim")
    s.out.result(
        {"amount": str(amount), "to": dest, "l1_tx": receipt["transactionHash"].to_0x_hex()},
        f"claimed {ETH_TOKEN.show(amount)} to {dest}",
    )
