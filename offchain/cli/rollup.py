"""`l2kit rollup ...`: the optimistic rollup from a user's side.

L1 transactions go through `Session.send`; L2 transactions are signed here with the BLS key
derived from your L1 wallet (format v2: tag bound to chain id and rollup address; register it
once with `l2kit rollup key register`) and submitted to the batcher through
`offchain.sequencer.client`.
Force, exit and refund read only L1 (they are for when the operator cannot be trusted).
"""

from __future__ import annotations

import time

import click
from web3 import Web3
from web3.contract import Contract
from web3.logs import DISCARD

from offchain.errors import L2KitError
from offchain.recipient import address_recipient
from offchain.rollup.blob_read import beacon_for
from offchain.rollup.checkpoint import CheckpointError, read_checkpoint_file
from offchain.rollup.codec import encode_forced_tx, is_packable_amount, is_packable_fee
from offchain.rollup.exit import ExitClaim, ExitError, exit_plan, freeze_status
from offchain.rollup.l1 import RollupL1
from offchain.rollup.replay import replay
from offchain.rollup.types import Transfer, Withdraw
from offchain.rollup.wallet import sign_transfer, sign_withdraw

from .bls_keys import key, require_active_key, signing_setup
from .common import (
    ETH_TOKEN,
    Token,
    checked_address,
    l2_account_of,
    parse_value,
    resolve_token,
    token_option,
)
from .output import render_table
from .session import Session, common_options

POSTED = ("posted", "final")


@click.group()
def rollup() -> None:
    """The optimistic rollup: deposit, transfer, withdraw, and leave without the operator."""


def _bridge(s: Session) -> Contract:
    return s.contract("RollupBridge", "L1Bridge")


def _rollup(s: Session) -> Contract:
    return s.contract("Rollup")


rollup.add_command(key)


def _check_packable(token: Token, amount: int, fee: int) -> None:
    if not is_packable_amount(amount):
        raise L2KitError(
            f"{token.show(amount)} cannot be encoded exactly on L2 (35-bit mantissa x 10^exp): "
            "use fewer significant digits"
        )
    if not is_packable_fee(fee):
        raise L2KitError(f"fee {token.show(fee)} cannot be encoded exactly on L2: round it")


def _wait_posted(s: Session, tx_hash: str, timeout: float) -> str:
    state = {"status": "pending"}

    def done() -> bool:
        state["status"] = s.batcher.tx(tx_hash).status
        if state["status"] == "dropped":
            raise L2KitError(f"the batcher dropped {tx_hash}: check its note with `--json`")
        return state["status"] in POSTED

    s.out.wait("the batch with the transaction on L1", done, timeout=timeout, poll=0.5)
    return state["status"]


# -- deposit -------------------------------------------------------------------------------------


@rollup.command()
@click.argument("amount")
@click.option("--to", "to", default=None, help="L1 address credited on L2 (default: yourself).")
@click.option("--wait", is_flag=True, help="Wait until the batcher has posted the deposit.")
@token_option
@common_options
def deposit(s: Session, amount: str, to: str | None, wait: bool, token: str) -> None:
    """Deposit AMOUNT into the rollup (0.5 = 0.5 ETH; also 1gwei, 1000wei)."""
    tok = resolve_token(s, token)
    value = parse_value(tok, amount)
    recipient = checked_address(to, "recipient") if to else s.address
    bridge = _bridge(s)
    if wait:
        s.batcher.status()  # a batcher that is down fails here, before anything is sent
    if tok.is_eth:
        held = s.w3.eth.get_balance(s.address)
        if held < value:
            raise L2KitError(
                f"insufficient balance: {s.address} has {tok.show(held)}, "
                f"the deposit needs {tok.show(value)} plus gas"
            )
        s.confirm(f"deposit {tok.show(value)} for {recipient} from {s.address}")
        receipt = s.send(
            bridge.functions.depositETH(address_recipient(recipient)), value, "deposit"
        )
    else:
        erc20 = s.erc20(tok.address)
        held = erc20.functions.balanceOf(s.address).call()
        if held < value:
            raise L2KitError(
                f"insufficient balance: {s.address} has {tok.show(held)}, "
                f"the deposit needs {tok.show(value)}"
            )
        s.confirm(f"deposit {tok.show(value)} for {recipient} from {s.address}")
        if erc20.functions.allowance(s.address, bridge.address).call() < value:
            s.send(erc20.functions.approve(bridge.address, value), 0, "approval")
        receipt = s.send(
            bridge.functions.depositERC20(tok.address, value, address_recipient(recipient)),
            0,
            "deposit",
        )
    logs = bridge.events.DepositQueued().process_receipt(receipt, errors=DISCARD)
    index = int(logs[0]["args"]["index"])
    if wait:
        s.out.wait(
            f"the batcher to post deposit {index}",
            lambda: int(s.batcher.status()["deposits_consumed"]) > index,
            timeout=300,
            poll=0.5,
        )
    s.out.result(
        {
            "deposit_index": index,
            "credited": wait,
            "recipient": recipient,
            "token": tok.symbol,
            "amount": str(value),
            "l1_tx": receipt["transactionHash"].to_0x_hex(),
        },
        f"deposit {index}: {tok.show(value)} for {recipient} "
        f"(L1 tx {receipt['transactionHash'].to_0x_hex()}); "
        + ("credited on L2" if wait else "the batcher credits it in its next batch")
        + ": `l2kit rollup balance`",
    )


# -- balance -------------------------------------------------------------------------------------


@rollup.command()
@click.argument("address", required=False)
@common_options
def balance(s: Session, address: str | None) -> None:
    """Show ADDRESS's L2 accounts (default: your key's address) and what it can claim on L1."""
    owner = checked_address(address) if address else s.address
    bridge = _bridge(s)
    infos = [s.batcher.account(i) for i in s.batcher.accounts_of(owner)]
    tokens = {int(i.token, 16): i.token for i in infos} | {0: ETH_TOKEN.address}
    claimable = {}
    for addr in tokens.values():
        amount = bridge.functions.claimable(owner, addr).call()
        if amount:
            claimable[addr] = amount
    l1_eth = s.w3.eth.get_balance(owner)
    data: dict[str, object] = {
        "owner": owner,
        "l1_eth": str(l1_eth),
        "accounts": [
            {
                "index": i.index,
                "token": i.token,
                "balance": str(i.balance),
                "confirmed_balance": str(i.confirmed_balance),
                "nonce": i.nonce,
            }
            for i in infos
        ],
        "claimable": {k: str(v) for k, v in claimable.items()},
    }
    rows = []
    for i in infos:
        tok = _token_at(s, i.token)
        rows.append(
            {
                "account": i.index,
                "token": tok.symbol,
                "balance": tok.show(i.balance),
                "confirmed": tok.show(i.confirmed_balance),
                "nonce": i.nonce,
            }
        )
    frozen = bool(_rollup(s).functions.frozen().call())
    data["frozen"] = frozen
    human = [f"{owner} on {s.opts.network}", f"L1: {ETH_TOKEN.show(l1_eth)}"]
    if frozen:
        human.append("the rollup is frozen: L2 balances are paid out by `l2kit rollup exit`")
    human.append(render_table(rows) if rows else "L2: no accounts yet (deposit first)")
    for addr, amount in claimable.items():
        human.append(f"claimable on L1: {_token_at(s, addr).show(amount)} (`l2kit rollup claim`)")
    s.out.result(data, "\n".join(human))


def _token_at(s: Session, address: str) -> Token:
    return ETH_TOKEN if int(address, 16) == 0 else resolve_token(s, address)


# -- transfer / withdraw ---------------------------------------------------------------------------


def _recipient_index(s: Session, to: str, tok: Token) -> int:
    if to.isdigit():
        index = int(to)
        info = s.batcher.account(index)
        if int(info.token, 16) != int(tok.address, 16):
            raise L2KitError(f"L2 account {index} holds {info.token}, not {tok.symbol}")
        return index
    owner = checked_address(to, "recipient (an address or an L2 account index)")
    try:
        return l2_account_of(s, owner, tok).index
    except L2KitError:
        raise L2KitError(
            f"{owner} has no L2 {tok.symbol} account: the rollup creates accounts only by "
            "deposit, so they (or you, with `deposit --to`) must deposit first"
        ) from None


@rollup.command()
@click.argument("to")
@click.argument("amount")
@click.option("--fee", default="0", show_default=True, help="Fee paid to the operator.")
@click.option("--wait", is_flag=True, help="Wait until the transfer is posted on L1.")
@token_option
@common_options
def transfer(s: Session, to: str, amount: str, fee: str, wait: bool, token: str) -> None:
    """Transfer AMOUNT on L2 to TO (an address with an L2 account, or an account index)."""
    tok = resolve_token(s, token)
    value, fee_value = parse_value(tok, amount), tok.parse(fee)
    _check_packable(tok, value, fee_value)
    sender = l2_account_of(s, s.address, tok)
    recipient = _recipient_index(s, to, tok)
    if sender.balance < value + fee_value:
        raise L2KitError(
            f"insufficient L2 balance: account {sender.index} has {tok.show(sender.balance)}, "
            f"the transfer needs {tok.show(value + fee_value)}"
        )
    s.confirm(f"transfer {tok.show(value)} from L2 account {sender.index} to {recipient}")
    setup = signing_setup(s)
    require_active_key(s, setup)
    tx = sign_transfer(
        setup.secret, setup.dst, sender.index, recipient, value, fee_value, sender.nonce
    )
    info = s.batcher.submit_transfer(tx, sender.nonce)
    status = _wait_posted(s, info.tx_hash, 300) if wait else info.status
    s.out.result(
        {"tx_hash": info.tx_hash, "status": status, "from": sender.index, "to": recipient},
        f"transfer {info.tx_hash}: {status} ({tok.show(value)} from account {sender.index} "
        f"to {recipient})",
    )


@rollup.command()
@click.argument("amount")
@click.option("--fee", default="0", show_default=True, help="Fee paid to the operator.")
@click.option("--wait", is_flag=True, help="Wait until the withdrawal is posted on L1.")
@token_option
@common_options
def withdraw(s: Session, amount: str, fee: str, wait: bool, token: str) -> None:
    """Withdraw AMOUNT from L2 to your L1 address (final after the challenge window)."""
    tok = resolve_token(s, token)
    value, fee_value = parse_value(tok, amount), tok.parse(fee)
    _check_packable(tok, value, fee_value)
    sender = l2_account_of(s, s.address, tok)
    if sender.balance < value + fee_value:
        raise L2KitError(
            f"insufficient L2 balance: account {sender.index} has {tok.show(sender.balance)}, "
            f"the withdrawal needs {tok.show(value + fee_value)}"
        )
    s.confirm(f"withdraw {tok.show(value)} from L2 account {sender.index} to {s.address}")
    setup = signing_setup(s)
    require_active_key(s, setup)
    tx = sign_withdraw(setup.secret, setup.dst, sender.index, value, fee_value, sender.nonce)
    info = s.batcher.submit_withdraw(tx, sender.nonce)
    status = _wait_posted(s, info.tx_hash, 300) if wait else info.status
    s.out.result(
        {"tx_hash": info.tx_hash, "status": status, "from": sender.index},
        f"withdrawal {info.tx_hash}: {status}; after the challenge window run "
        f"`l2kit rollup finalize {info.tx_hash}`, then `l2kit rollup claim`",
    )


# -- finalize / claim ----------------------------------------------------------------------------


@rollup.command()
@click.argument("tx_hash")
@click.option(
    "--wait/--no-wait",
    default=True,
    show_default=True,
    help="Wait out the challenge window (with a countdown) instead of failing.",
)
@click.option("--timeout", type=float, default=None, help="Seconds to wait at most.")
@common_options
def finalize(s: Session, tx_hash: str, wait: bool, timeout: float | None) -> None:
    """Prove withdrawal TX_HASH on L1 once its batch is final; the bridge credits you."""
    if not (tx_hash.startswith("0x") and len(tx_hash) == 66):
        raise L2KitError(f"{tx_hash!r} is not a transaction hash: expected 0x and 64 hex digits")
    rollup_c = _rollup(s)
    tx = s.batcher.tx(tx_hash)
    if tx.kind != "withdraw":
        raise L2KitError(f"{tx_hash} is a {tx.kind}, not a withdrawal")
    if tx.status not in POSTED:
        if not wait:
            raise L2KitError(f"the withdrawal is {tx.status}: wait for its batch, then run again")
        _wait_posted(s, tx_hash, timeout or 300)
    claim = s.batcher.withdrawal(tx_hash)
    if claim.released:
        raise L2KitError(f"withdrawal {tx_hash} is already finalized: run `l2kit rollup claim`")
    period = rollup_c.functions.challengePeriod().call()
    deadline = rollup_c.functions.batches(claim.batch_index).call()[_posted_at_field()] + period
    if not claim.final:
        if not wait:
            left = deadline - s.w3.eth.get_block("latest")["timestamp"]
            raise L2KitError(
                f"batch {claim.batch_index} is not final yet ({max(left, 0)} s of the challenge "
                "window left): run again later, or without --no-wait"
            )
        s.out.wait(
            f"the challenge window of batch {claim.batch_index}",
            lambda: rollup_c.functions.isFinal(claim.batch_index).call(),
            lambda: deadline - time.time(),
            timeout=timeout or max(deadline - time.time(), 0) + 600,
        )
        claim = s.batcher.withdrawal(tx_hash)
    receipt = s.send(rollup_c.functions.finalizeWithdrawal(claim.proof), 0, "finalizeWithdrawal")
    tok = _token_at(s, claim.token)
    s.out.result(
        {
            "withdrawal_id": claim.withdrawal_id,
            "owner": claim.owner,
            "token": claim.token,
            "amount": str(claim.amount),
            "l1_tx": receipt["transactionHash"].to_0x_hex(),
        },
        f"finalized: {tok.show(claim.amount)} credited to {claim.owner} in the bridge; "
        "pull it with `l2kit rollup claim`",
    )


def _posted_at_field() -> int:
    """Position of `postedAt` in RollupTypes.Batch as the ABI returns it."""
    from offchain.chain import abi_of

    for item in abi_of("Rollup"):
        if item.get("name") == "batches" and item.get("type") == "function":
            names = [c["name"] for c in item["outputs"][0]["components"]]
            return names.index("postedAt")
    raise L2KitError("the compiled Rollup has no batches(): run `make compile`")


@rollup.command()
@click.option("--to", "to", default=None, help="L1 address paid (default: yourself).")
@token_option
@common_options
def claim(s: Session, to: str | None, token: str) -> None:
    """Pull what the bridge owes you (finalized withdrawals, exits, refunds) to your L1 address."""
    tok = resolve_token(s, token)
    dest = checked_address(to, "destination") if to else s.address
    bridge = _bridge(s)
    amount = bridge.functions.claimable(s.address, tok.address).call()
    if amount == 0:
        raise L2KitError(
            f"nothing to claim: the bridge owes {s.address} no {tok.symbol} "
            "(finalize a withdrawal first: `l2kit rollup finalize <tx hash>`)"
        )
    receipt = s.send(bridge.functions.claim(tok.address, dest), 0, "claim")
    s.out.result(
        {
            "token": tok.address,
            "amount": str(amount),
            "to": dest,
            "l1_tx": receipt["transactionHash"].to_0x_hex(),
        },
        f"claimed {tok.show(amount)} to {dest}",
    )


# -- force / exit / refund (L1 only) -----------------------------------------------------------


def _l1(s: Session, beacon_url: str | None = None) -> RollupL1:
    """The rollup on L1; blob batches' blobs are read from `beacon_url` (default: the RPC URL)."""
    rollup_address, bridge = s.deployment.address("Rollup"), s.deployment.address("RollupBridge")
    return RollupL1(s.w3, rollup_address, bridge, beacon_for(beacon_url, s.w3))


beacon_option = click.option(
    "--beacon-url",
    envvar="L2KIT_BEACON_URL",
    default=None,
    help="Beacon API or blob archiver that blob batches' blobs are read from [env "
    "L2KIT_BEACON_URL; default: the L1 RPC URL, which Anvil serves the API on]. Beacon nodes "
    "prune blobs after about 18 days: older batches need an archiver.",
)


@rollup.command()
@click.argument("kind", type=click.Choice(["transfer", "withdraw"]))
@click.argument("args", nargs=-1, required=True)
@token_option
@common_options
def force(s: Session, kind: str, args: tuple[str, ...], token: str) -> None:
    """Queue an L2 transaction through L1 when the operator ignores you.

    \b
    l2kit rollup force transfer <to-account-index> <amount>
    l2kit rollup force withdraw <amount>

    Every batch must include it; if none does within the forced-inclusion delay, anyone can
    freeze the rollup and everyone exits (`l2kit rollup exit`). It is authenticated by your L1
    address (the account's owner), not signed, and changes no nonce.
    """
    tok = resolve_token(s, token)
    want = 2 if kind == "transfer" else 1
    if len(args) != want:
        usage = "<to-account-index> <amount>" if kind == "transfer" else "<amount>"
        raise click.UsageError(f"force {kind} takes {usage}")
    l1 = _l1(s)
    state = replay(
        l1.posted_batches(), l1.deposit_queue(), l1.signing_dst(), l1.forced_queue()
    ).state
    index = state.find_account(s.address, tok.address)
    if index is None:
        raise L2KitError(
            f"{s.address} has no L2 {tok.symbol} account in the L1 data: deposit first"
        )
    account = state.account(index)
    value = parse_value(tok, args[-1])
    _check_packable(tok, value, 0)
    if account.balance < value:
        raise L2KitError(
            f"insufficient L2 balance: account {index} has {tok.show(account.balance)} in the "
            f"posted state, the forced {kind} needs {tok.show(value)}"
        )
    tx: Transfer | Withdraw
    if kind == "transfer":
        if not args[0].isdigit():
            raise L2KitError(f"{args[0]!r} is not an L2 account index (a whole number)")
        to = int(args[0])
        if state.account(to).is_empty:
            raise L2KitError(f"L2 account {to} does not exist in the posted state")
        tx = Transfer(index, to, value, 0)
    else:
        tx = Withdraw(index, value, 0)
    s.confirm(f"force a {kind} of {tok.show(value)} from L2 account {index} through L1")
    rollup_c = _rollup(s)
    receipt = s.send(
        rollup_c.functions.forceTransaction(encode_forced_tx(tx)), 0, "forceTransaction"
    )
    logs = rollup_c.events.TransactionForced().process_receipt(receipt, errors=DISCARD)
    forced_index = int(logs[0]["args"]["index"])
    deadline = rollup_c.functions.forcedAt(forced_index).call() + (
        rollup_c.functions.forcedInclusionDelay().call()
    )
    s.out.result(
        {
            "forced_index": forced_index,
            "account": index,
            "deadline": deadline,
            "l1_tx": receipt["transactionHash"].to_0x_hex(),
        },
        f"forced tx {forced_index} queued; if no batch includes it by "
        f"{time.strftime('%Y-%m-%d %H:%M:%S UTC', time.gmtime(deadline))}, anyone can freeze "
        "the rollup: `l2kit rollup exit`",
    )


def _ensure_frozen(s: Session, l1: RollupL1) -> None:
    status = freeze_status(l1)
    if status.frozen:
        return
    if not status.can_freeze:
        raise L2KitError(f"the rollup is live, so exits are closed; {status.detail}")
    s.confirm(f"freeze the rollup for everyone ({status.reason.name})")
    s.send(_rollup(s).functions.freeze(), 0, "freeze")
    s.out.note(f"froze the rollup ({status.reason.name})")


def _exit_or_refund(
    s: Session,
    owner: str | None,
    which: str,
    checkpoint: str | None = None,
    beacon_url: str | None = None,
) -> None:
    who = checked_address(owner, "owner") if owner else s.address
    start = None
    if checkpoint is not None:
        try:
            start = read_checkpoint_file(checkpoint)
        except CheckpointError as e:
            raise L2KitError(str(e)) from e
    l1 = _l1(s, beacon_url)
    _ensure_frozen(s, l1)
    try:
        plan = exit_plan(l1, who, start)
    except ExitError as e:
        raise L2KitError(str(e)) from e
    claims = plan.exits if which == "exit" else plan.refunds
    rollup_c = _rollup(s)
    rows, shown = [], []
    for c in claims:
        if isinstance(c, ExitClaim):  # `exits` holds only ExitClaims, `refunds` RefundClaims
            label, key = f"exit of account {c.account_index}", ("account", c.account_index)
            call = rollup_c.functions.exitFrozen(*c.as_args())
        else:
            label, key = f"refund of deposit {c.index}", ("deposit", c.index)
            call = rollup_c.functions.refundDeposit(*c.as_args())
        s.send(call, 0, label)
        tok = _token_at(s, Web3.to_checksum_address(c.token))
        rows.append({key[0]: key[1], "token": tok.address, "amount": str(c.amount)})
        shown.append({key[0]: key[1], "token": tok.symbol, "amount": tok.show(c.amount)})
    if not rows:
        raise L2KitError(f"nothing to {which} for {who}: every claim is paid (or there is none)")
    s.out.result(
        {"owner": who, which + "s": rows},
        render_table(shown)
        + f"\ncredited to {who} in the bridge: pull it with `l2kit rollup claim`",
    )


def _start_point(checkpoint: str | None, from_genesis: bool) -> str | None:
    if checkpoint is not None and from_genesis:
        raise click.UsageError("pass --checkpoint FILE or --from-genesis, not both")
    return checkpoint


@rollup.command(name="exit")
@click.option("--owner", default=None, help="Whose accounts to exit (default: yourself).")
@click.option(
    "--checkpoint",
    "checkpoint",
    default=None,
    help="Start from this verified checkpoint (yours or a validator's GET /checkpoint answer), "
    "checked against L1; only the batches after it are replayed.",
)
@click.option(
    "--from-genesis",
    is_flag=True,
    help="Rebuild the state from batch 0 (the default without --checkpoint).",
)
@beacon_option
@common_options
def exit_(
    s: Session,
    owner: str | None,
    checkpoint: str | None,
    from_genesis: bool,
    beacon_url: str | None,
) -> None:
    """After a freeze (freezing first if anyone may): pay out your accounts from L1 data alone."""
    _exit_or_refund(s, owner, "exit", _start_point(checkpoint, from_genesis), beacon_url)


@rollup.command()
@click.option("--owner", default=None, help="Whose deposits to refund (default: yourself).")
@beacon_option
@common_options
def refund(s: Session, owner: str | None, beacon_url: str | None) -> None:
    """After a freeze: refund your deposits the frozen state never credited."""
    _exit_or_refund(s, owner, "refund", beacon_url=beacon_url)
