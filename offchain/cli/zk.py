# SPDX-License-Identifier: GPL-3.0-or-later
"""`l2kit zk ...`: the validity-proof rollup from a user's side (needs the optional zk extra).

An L2 account of the zk rollup is a BabyJubJub key: 32 secret bytes in an environment variable
(``--zk-key-env``, default ``L2KIT_ZK_KEY``); `l2kit zk key` makes one. Deposits are L1
transactions to the zk bridge credited to the key's public key; transfers and withdrawals are
signed with the key and submitted to the zk batcher (``ape run batcher -- --mode zk``), whose
API addresses accounts by leaf index. A zk batch is final when L1 accepts its proof, so a
withdrawal is claimable with `l2kit zk claim` right after.

When the operator censors you or disappears, `l2kit zk status|include|force|exit|refund` work
from L1 data alone (no zk batcher, no state file): the state is rebuilt from the genesis and
every accepted batch (offchain/zk/recovery.py), and the exit-circuit proof is made on your
machine. The exit
circuit's keys are the development keys (single-party setup, cached in .cache/zk) as the zk
batcher uses, unless a ceremony's zkey is given (``--exit-zkey`` / ``L2KIT_ZK_EXIT_ZKEY``).
"""

from __future__ import annotations

import os
import secrets
import time
from pathlib import Path
from typing import Any

import click
from web3.logs import DISCARD

from offchain.errors import L2KitError
from offchain.sequencer.client import BatcherClient, BatcherUnavailable
from offchain.zk.babyjub import PrivateKey
from offchain.zk.pubdata import is_float_amount
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
    if not is_float_amount(value):
        raise L2KitError(
            f"cannot transfer {amount}: zk transfers post amounts as a 35-bit mantissa times a "
            "power of ten; round it to at most 10 significant digits"
        )
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


# ------------------------------------------------------------ without the operator (L1 data only)

exit_zkey_option = click.option(
    "--exit-zkey",
    envvar="L2KIT_ZK_EXIT_ZKEY",
    default=None,
    type=click.Path(dir_okay=False, path_type=Path),
    help="The exit circuit's .zkey from a ceremony (default: the development keys, single-party "
    "setup, cached in .cache/zk) [env L2KIT_ZK_EXIT_ZKEY].",
)
state_option = click.option(
    "--state",
    "state_file",
    default=None,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Start from this zk state file (one you trust) instead of the genesis; later batches "
    "are replayed from L1.",
)
find_leaf_option = click.option(
    "--leaf", type=int, default=None, help="Your leaf (default: the ETH leaf of your zk key)."
)


def _zk_rollup(s: Session) -> Any:
    return s.contract("ZkRollup")


def _freeze(s: Session) -> Any:
    """The zk rollup's freeze status from L1 (offchain.zk.freeze)."""
    from offchain.zk.freeze import freeze_status

    return freeze_status(s.w3, s.deployment.address("ZkRollup"))


@zk.command()
@common_options
def status(s: Session) -> None:
    """Whether the zk rollup is frozen, why, and when each freeze condition falls due (L1 only)."""
    st = _freeze(s)
    s.out.result(st.as_json(), st.detail)


@zk.command()
@common_options
def include(s: Session) -> None:
    """Start the inclusion deadline of every queued zk deposit (operator censoring deposits)."""
    rollup = _zk_rollup(s)
    bridge = s.contract("ZkBridge", "L1Bridge")
    st = _freeze(s)
    if st.frozen:
        raise L2KitError(
            f"the zk rollup is frozen: refund instead with `l2kit zk refund`; {st.detail}"
        )
    consumed = int(rollup.functions.depositsProcessed().call())
    queued = int(bridge.functions.depositCount().call())
    if queued <= consumed:
        raise L2KitError(f"no zk deposit is waiting: all {queued} are consumed")
    _, covered, _ = rollup.functions.depositCheckpoint().call()
    if consumed < int(covered):
        last = int(rollup.functions.depositDeadline(int(covered) - 1).call())
        raise L2KitError(
            f"an inclusion request is still running: deposits up to {int(covered) - 1} are due by "
            f"{last}; deposits after it can be covered once it is met (its deadlines never move)"
        )
    s.confirm(f"start the inclusion deadline of zk deposits {consumed}..{queued - 1}")
    receipt = s.send(rollup.functions.requestDepositInclusion(), 0, "deposit inclusion")
    logs = rollup.events.DepositInclusionRequested().process_receipt(receipt, errors=DISCARD)
    args = logs[0]["args"]
    first, count, last = int(args["first"]), int(args["count"]), int(args["lastDeadline"])
    s.out.result(
        {
            "first": first,
            "count": count,
            "first_deadline": int(rollup.functions.depositDeadline(first).call()),
            "last_deadline": last,
            "l1_tx": receipt["transactionHash"].to_0x_hex(),
        },
        f"zk deposits {first}..{count - 1} must be consumed by "
        f"{time.strftime('%Y-%m-%d %H:%M:%S UTC', time.gmtime(last))} (depositSlots per "
        "forcedDelay), else the rollup freezes and they are refunded: `l2kit zk refund`",
    )


def _l1_state(s: Session, state_file: Path | None) -> tuple[Any, Any]:
    """(circuit params, state after every accepted batch), from L1 (and a trusted state file)."""
    from offchain.zk.recovery import params_from_l1, rebuild_from_l1
    from offchain.zk.state import L2State

    rollup = s.deployment.address("ZkRollup")
    params = params_from_l1(s.w3, rollup)
    start = None
    if state_file is not None:
        try:
            start = L2State.load(state_file)
        except (ValueError, KeyError, OSError) as exc:
            raise L2KitError(f"cannot read the state file {state_file}: {exc}") from None
    return params, rebuild_from_l1(s.w3, rollup, params, start)


def _my_leaf(state: Any, pub: tuple[int, int], leaf: int | None) -> int:
    if leaf is None:
        found = state.find(pub, 0)
        if found is None:
            raise L2KitError(
                f"no such leaf: zk key ({hex(pub[0])[:12]}...) has no ETH leaf in the state L1 "
                "accepted (was its deposit consumed by a batch? if not: `l2kit zk refund`)"
            )
        return int(found)
    acct = state.accounts.get(leaf)
    if acct is None or acct.pubkey != pub:
        raise L2KitError(f"no such leaf: leaf {leaf} is not your zk key's in the L1 state")
    return leaf


def _exit_proof(
    s: Session, state: Any, key: PrivateKey, leaf: int, recipient: str, zkey: Path | None, **kw: Any
) -> tuple[Any, Any]:
    """The exit-circuit claim and proof of `leaf` to `recipient` in `state`."""
    from offchain.zk.circuit import ceremony_keys, dev_keys, exit_spec
    from offchain.zk.exit import build_exit, sign_exit
    from offchain.zk.prover import Groth16Prover, prove_checked

    domain = _domain(s)
    to = int(recipient, 16)
    try:
        claim = build_exit(state, domain, leaf, to, sign_exit(key, state, domain, leaf, to), **kw)
    except ValueError as exc:
        raise L2KitError(str(exc)) from None
    spec = exit_spec(state.tree.depth)
    if zkey is None:
        s.out.note("loading the exit circuit's development keys (single-party setup, .cache/zk)")
        keys = dev_keys(spec)
    else:
        try:
            keys = ceremony_keys(spec, zkey)
        except FileNotFoundError as exc:
            raise L2KitError(str(exc)) from None
    started = time.perf_counter()
    proof = prove_checked(Groth16Prover(keys), claim.inputs, claim.public_inputs)
    s.out.note(f"exit proof made in {time.perf_counter() - started:.1f} s")
    return claim, proof


@zk.command(name="exit")
@click.option("--to", "to", default=None, help="L1 address credited (default: your L1 key's).")
@find_leaf_option
@zk_key_option
@exit_zkey_option
@state_option
@common_options
def exit_(
    s: Session,
    to: str | None,
    leaf: int | None,
    zk_key_env: str,
    exit_zkey: Path | None,
    state_file: Path | None,
) -> None:
    """After a freeze: exit your leaf's whole balance from L1 data alone (then `l2kit zk claim`)."""
    from offchain.zk.chain import exit_args

    key = _zk_key(zk_key_env)
    dest = checked_address(to, "destination") if to else s.address
    rollup = _zk_rollup(s)
    fz = _freeze(s)
    if not fz.frozen:
        raise L2KitError(
            "the zk rollup is not frozen, so exits are closed: if the operator ignores you, "
            f"`l2kit zk force` (the rollup freezes if it is not served in time); {fz.detail}"
        )
    _, state = _l1_state(s, state_file)
    index = _my_leaf(state, key.public_key, leaf)
    if rollup.functions.exited(index).call():
        raise L2KitError(f"leaf {index} has already exited: `l2kit zk claim` pays what is owed")
    claim, proof = _exit_proof(s, state, key, index, dest, exit_zkey)
    s.out.note(fz.detail)
    s.confirm(f"exit {ETH_TOKEN.show(claim.balance)} of zk leaf {index} to {dest}")
    receipt = s.send(rollup.functions.exit(*exit_args(claim, proof)), 0, "zk exit")
    s.out.result(
        {
            "leaf": index,
            "amount": str(claim.balance),
            "to": dest,
            "freeze_reason": fz.reason.name,
            "l1_tx": receipt["transactionHash"].to_0x_hex(),
        },
        f"zk leaf {index} exited: {ETH_TOKEN.show(claim.balance)} credited to {dest} in the "
        "zk bridge: pull it with `l2kit zk claim`",
    )


@zk.command()
@click.option("--to", "to", default=None, help="L1 address paid (default: your L1 key's).")
@find_leaf_option
@zk_key_option
@exit_zkey_option
@state_option
@common_options
def force(
    s: Session,
    to: str | None,
    leaf: int | None,
    zk_key_env: str,
    exit_zkey: Path | None,
    state_file: Path | None,
) -> None:
    """Queue a forced withdrawal of your leaf's whole balance through L1 (operator censoring)."""
    from offchain.zk.chain import forced_request_args

    key = _zk_key(zk_key_env)
    dest = checked_address(to, "destination") if to else s.address
    rollup = _zk_rollup(s)
    if rollup.functions.frozen().call():
        raise L2KitError("the zk rollup is frozen: exit instead with `l2kit zk exit`")
    _, state = _l1_state(s, state_file)
    index = _my_leaf(state, key.public_key, leaf)
    if rollup.functions.forcedPending(index).call():
        raise L2KitError(f"leaf {index} already has a forced withdrawal queued")
    claim, proof = _exit_proof(s, state, key, index, dest, exit_zkey, allow_empty=True)
    s.confirm(f"queue a forced withdrawal of zk leaf {index} to {dest}")
    args = forced_request_args(claim, proof, state.batches_done)
    receipt = s.send(rollup.functions.requestForcedWithdrawal(*args), 0, "forced withdrawal")
    logs = rollup.events.ForcedWithdrawalRequested().process_receipt(receipt, errors=DISCARD)
    forced_index = int(logs[0]["args"]["index"])
    deadline = int(logs[0]["args"]["deadline"])
    s.out.result(
        {
            "forced_index": forced_index,
            "leaf": index,
            "to": dest,
            "root_count": state.batches_done,
            "deadline": deadline,
            "l1_tx": receipt["transactionHash"].to_0x_hex(),
        },
        f"forced withdrawal {forced_index} of zk leaf {index} queued: a batch must pay its whole "
        f"balance to {dest} by "
        f"{time.strftime('%Y-%m-%d %H:%M:%S UTC', time.gmtime(deadline))}, else the rollup "
        "freezes and you exit with `l2kit zk exit`",
    )


def _refund_id(index: int) -> bytes:
    """The id ZkRollup.refundDeposit releases on the bridge: keccak256(abi.encode("refund", i))."""
    from eth_abi import encode
    from eth_utils import keccak

    return keccak(encode(["string", "uint256"], ["refund", index]))


@zk.command()
@click.option("--owner", default=None, help="Whose deposits to refund (default: yourself).")
@common_options
def refund(s: Session, owner: str | None) -> None:
    """After a freeze: refund your deposits no batch consumed (paid to the L1 account that paid)."""
    from offchain.zk.chain import read_deposits, refund_args

    who = checked_address(owner, "owner") if owner else s.address
    rollup = _zk_rollup(s)
    bridge = s.contract("ZkBridge", "L1Bridge")
    fz = _freeze(s)
    if not fz.frozen:
        raise L2KitError(
            "the zk rollup is not frozen, so refunds are closed: the operator may still credit "
            "your deposit (if it does not, `l2kit zk include` starts its inclusion deadline); "
            + fz.detail
        )
    first = int(rollup.functions.depositsProcessed().call())
    count = int(bridge.functions.depositCount().call())
    mine = [
        d
        for d in read_deposits(s.w3, bridge.address, first, count - first)
        if bridge.functions.depositorOf(d.queue_index).call() == who
        # refunded before: the bridge released the rollup's refund id of that deposit
        and not bridge.functions.isReleased(_refund_id(d.queue_index)).call()
    ]
    if not mine:
        raise L2KitError(
            f"nothing to refund for {who}: every deposit of theirs was consumed or refunded"
        )
    s.out.note(fz.detail)
    rows: list[dict[str, Any]] = []
    shown: list[str] = []
    for d in mine:
        s.confirm(f"refund zk deposit {d.queue_index} ({ETH_TOKEN.show(d.amount)}) to {who}")
        s.send(rollup.functions.refundDeposit(*refund_args(d)), 0, f"refund of {d.queue_index}")
        rows.append({"deposit": d.queue_index, "amount": str(d.amount)})
        shown.append(f"deposit {d.queue_index}: {ETH_TOKEN.show(d.amount)}")
    s.out.result(
        {"owner": who, "freeze_reason": fz.reason.name, "refunds": rows},
        "\n".join(shown) + f"\ncredited to {who} in the zk bridge: pull it with `l2kit zk claim`",
    )
