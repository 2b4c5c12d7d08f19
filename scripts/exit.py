"""Emergency exit from a frozen rollup, built from L1 data alone (no operator needed).

    ape run exit --owner 0xYou              # frozen or freezable? what can 0xYou claim?
    ape run exit --owner 0xYou --send       # freeze if possible, then exit and refund
    ape run exit --owner 0xYou --send --network ethereum:sepolia:node --account me --yes
    ape run exit --owner 0xYou --checkpoint validator-checkpoint.json   # replay only what follows

Exits credit the bridge; pull the funds with `bridge.claim(token, to)` from the owner account.
"""

from __future__ import annotations

import click
from ape import accounts, project
from ape.cli import ConnectedProviderCommand
from web3 import Web3

from offchain.ape_unattended import prepare_signer
from offchain.deployments import load_deployment
from offchain.rollup.blob_read import beacon_for
from offchain.rollup.checkpoint import CheckpointError, read_checkpoint_file
from offchain.rollup.exit import ExitError, exit_plan, freeze_status
from offchain.rollup.l1 import RollupL1


def _sender(alias: str | None, local: bool):
    if alias:
        return accounts.load(alias)
    if local:
        return accounts.test_accounts[0]
    raise click.UsageError("sending needs an account: pass --account <ape alias>")


@click.command(cls=ConnectedProviderCommand)
@click.option("--owner", required=True, help="L1 address whose accounts and deposits to claim.")
@click.option("--send", is_flag=True, help="Freeze if possible, then send every exit and refund.")
@click.option("--account", "alias", default=None, help="Ape account alias that sends (--send).")
@click.option("--yes", is_flag=True, help="Sign without asking (APE_ACCOUNTS_<alias>_PASSPHRASE).")
@click.option(
    "--checkpoint",
    default=None,
    help="Start from this verified checkpoint (a validator's file or GET /checkpoint answer), "
    "checked against L1 and the frozen root; only later batches are replayed.",
)
@click.option("--from-genesis", is_flag=True, help="Rebuild from batch 0 (the default).")
@click.option(
    "--beacon-url",
    envvar="L2KIT_BEACON_URL",
    default=None,
    help="Beacon API or blob archiver for blob batches (default: the L1 RPC URL, as on Anvil).",
)
def cli(
    ecosystem, network, provider, owner, send, alias, yes, checkpoint, from_genesis, beacon_url
):
    """Show (or send) the exit and refund claims of OWNER after a freeze."""
    if checkpoint is not None and from_genesis:
        raise click.UsageError("pass --checkpoint FILE or --from-genesis, not both")
    try:
        start = read_checkpoint_file(checkpoint) if checkpoint is not None else None
    except CheckpointError as e:
        raise click.ClickException(str(e)) from e
    choice = f"{ecosystem.name}:{network.name}"
    deployment = load_deployment(choice)
    rollup_addr, bridge_addr = deployment.address("Rollup"), deployment.address("RollupBridge")
    beacon = beacon_for(beacon_url, provider.web3)
    l1 = RollupL1(provider.web3, rollup_addr, bridge_addr, beacon)
    status = freeze_status(l1)
    click.echo(status.detail)
    sender = (
        prepare_signer(_sender(alias, network.name in ("local", "anvil")), alias, yes)
        if send
        else None
    )
    rollup = project.Rollup.at(rollup_addr)
    if not status.frozen:
        if not (send and status.can_freeze):
            raise SystemExit(0 if not send else 1)
        rollup.freeze(sender=sender)
        click.echo(f"froze the rollup ({status.reason.name})")
    try:
        plan = exit_plan(l1, owner, start)
    except ExitError as e:
        raise click.ClickException(str(e)) from e
    click.echo(
        f"frozen state: root 0x{plan.frozen.root.hex()}, {plan.frozen.batch_count} final batches, "
        f"deposits consumed {plan.frozen.deposit_end}"
    )
    if not plan.exits and not plan.refunds:
        click.echo(f"nothing left to claim for {owner}")
        return
    for c in plan.exits:
        click.echo(
            f"exit    account {c.account_index:>8}  token {Web3.to_checksum_address(c.token)}  "
            f"amount {c.amount}"
        )
        if sender is not None:
            rollup.exitFrozen(*c.as_args(), sender=sender)
    for r in plan.refunds:
        click.echo(
            f"refund  deposit {r.index:>8}  token {Web3.to_checksum_address(r.token)}  "
            f"amount {r.amount}"
        )
        if sender is not None:
            rollup.refundDeposit(*r.as_args(), sender=sender)
    if sender is None:
        click.echo("dry run: pass --send to submit these")
    else:
        click.echo(f"sent; {owner} now pulls the funds with bridge.claim(token, to)")
