"""Drive the l2kit timelock: propose, inspect, execute and cancel governance operations.

    ape run governance propose --target 0xRollup --function "setChallengePeriod(uint256)" 691200
    ape run governance inspect                 # pending changes, decoded, time left to exit
    ape run governance execute 0xOPID
    ape run governance cancel 0xOPID           # a proposer or the Security Council (canceller)

The timelock comes from --timelock or the deployment file's "Timelock" entry. Sending needs
--account <ape alias> (on a local network the first test account is used). Logic lives in
offchain/governance (pure `actions`, `calls`, `watch`; `chain` reads); this file only wires it.
"""

from __future__ import annotations

import click
from ape import accounts, project
from ape.cli import ConnectedProviderCommand

from offchain.deployments import load_deployment
from offchain.errors import L2KitError
from offchain.governance import actions
from offchain.governance.calls import encode_call
from offchain.governance.chain import TimelockReader
from offchain.governance.watch import pending

ZERO32 = b"\x00" * 32


def _timelock_address(ecosystem, network, given: str | None) -> str:
    if given:
        return given
    return load_deployment(f"{ecosystem.name}:{network.name}").address("Timelock")


def _sender(alias: str | None, network):
    if alias:
        return accounts.load(alias)
    if network.name in ("local", "anvil"):
        return accounts.test_accounts[0]
    raise click.UsageError("sending needs an account: pass --account <ape alias>")


def _reader(provider, address: str) -> TimelockReader:
    return TimelockReader(provider.web3, address)


def _fail(e: L2KitError) -> None:
    raise click.ClickException(str(e)) from e


timelock_opt = click.option("--timelock", default=None, help="ExitWindowTimelock address.")
account_opt = click.option("--account", "alias", default=None, help="Ape account alias to send.")
from_opt = click.option("--from-block", type=int, default=0, help="First block to scan for events.")


@click.group()
def cli():
    """Propose, inspect, execute and cancel timelocked governance operations."""


@cli.command(cls=ConnectedProviderCommand)
@timelock_opt
@account_opt
@click.option("--target", required=True, help="Contract the operation calls.")
@click.option("--function", "signature", required=True, help='e.g. "setChallengePeriod(uint256)"')
@click.option("--value", type=int, default=0, help="Wei sent with the call.")
@click.option("--delay", type=int, default=None, help="Seconds (default: the timelock's minimum).")
@click.option("--salt", default="0x" + "00" * 32, help="32-byte salt (to repeat an operation).")
@click.argument("args", nargs=-1)
def propose(
    ecosystem, network, provider, timelock, alias, target, signature, value, delay, salt, args
):
    """Schedule TARGET.FUNCTION(ARGS) on the timelock."""
    try:
        data = encode_call(signature, list(args))
        salt_b = actions.parse_id(salt)
    except L2KitError as e:
        _fail(e)
    tl = project.ExitWindowTimelock.at(_timelock_address(ecosystem, network, timelock))
    floor = tl.delayFloor()
    delay = tl.getMinDelay() if delay is None else delay
    if delay < floor:
        raise click.ClickException(
            f"delay {delay}s is below the exit-window floor {floor}s (longest exit + margin): "
            "the timelock would refuse it; pass --delay >= the floor or leave it out"
        )
    tx = tl.schedule(target, value, data, ZERO32, salt_b, delay, sender=_sender(alias, network))
    op = tx.events.filter(tl.CallScheduled)[0]
    click.echo(f"scheduled 0x{bytes(op.id).hex()}: {signature} on {target}, delay {delay}s")


@cli.command(cls=ConnectedProviderCommand)
@timelock_opt
@from_opt
@click.option("--all", "show_all", is_flag=True, help="Also list done and cancelled operations.")
def inspect(ecosystem, network, provider, timelock, from_block, show_all):
    """List pending operations: what each call does, when it can execute, time left to exit."""
    report = _reader(provider, _timelock_address(ecosystem, network, timelock)).report(from_block)
    live = pending(report.changes)
    click.echo(
        f"delay {report.min_delay}s = longest exit {report.exit_time}s + margin {report.margin}s "
        f"or more; {len(live)} pending"
    )
    for c in report.changes if show_all else live:
        click.echo(c.describe())


@cli.command(cls=ConnectedProviderCommand)
@timelock_opt
@account_opt
@from_opt
@click.argument("op_id")
def execute(ecosystem, network, provider, timelock, alias, from_block, op_id):
    """Execute the ready operation OP_ID."""
    address = _timelock_address(ecosystem, network, timelock)
    report = _reader(provider, address).report(from_block)
    try:
        change = actions.find(report.changes, actions.parse_id(op_id))
        call = actions.execute_call(change, report.now)
    except L2KitError as e:
        _fail(e)
    tl = project.ExitWindowTimelock.at(address)
    getattr(tl, call.method)(*call.args, sender=_sender(alias, network))
    click.echo(f"executed 0x{change.id.hex()}")


@cli.command(cls=ConnectedProviderCommand)
@timelock_opt
@account_opt
@from_opt
@click.argument("op_id")
def cancel(ecosystem, network, provider, timelock, alias, from_block, op_id):
    """Cancel the pending operation OP_ID (proposer or canceller role)."""
    address = _timelock_address(ecosystem, network, timelock)
    report = _reader(provider, address).report(from_block)
    try:
        change = actions.find(report.changes, actions.parse_id(op_id))
        actions.check_cancellable(change)
    except L2KitError as e:
        _fail(e)
    project.ExitWindowTimelock.at(address).cancel(change.id, sender=_sender(alias, network))
    click.echo(f"cancelled 0x{change.id.hex()}")
