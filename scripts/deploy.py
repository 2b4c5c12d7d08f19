"""Deploy and wire every l2kit contract, then write the per-network deployment file.

ape run deploy                                    # local Anvil node (started by Ape)
ape run deploy --network ethereum:sepolia:node --account deployer
"""

from __future__ import annotations

import click
from ape import accounts
from ape.cli import ConnectedProviderCommand

from offchain.deploy import deploy_all, is_local
from offchain.deployments import save_deployment


def pick_deployer(alias: str | None, local: bool):
    if alias:
        return accounts.load(alias)
    if local:
        return accounts.test_accounts[0]
    raise click.UsageError(
        "deploying to a public network needs a funded account: import one with "
        "`ape accounts import deployer` and pass `--account deployer`"
    )


@click.command(cls=ConnectedProviderCommand)
@click.option("--account", "alias", default=None, help="Ape account alias (required off local).")
@click.option(
    "--test-tokens/--no-test-tokens",
    default=None,
    help="Also deploy a mintable demo token (default: only on local networks).",
)
def cli(ecosystem, network, provider, alias, test_tokens):
    """Deploy and wire all l2kit contracts to the connected network."""
    local = is_local(network.name)
    deployer = pick_deployer(alias, local)
    choice = f"{ecosystem.name}:{network.name}"
    deployment = deploy_all(deployer, choice, local if test_tokens is None else test_tokens)
    path = save_deployment(deployment)
    click.echo(f"deployed to {choice} (chain {deployment.chain_id}) from {deployer.address}")
    for name, address in deployment.contracts.items():
        click.echo(f"  {name:<14} {address}")
    click.echo(f"wrote {path}")
