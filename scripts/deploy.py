"""Deploy and wire every l2kit contract, then write the per-network deployment file.

ape run deploy                                    # local Anvil node (started by Ape)
ape run deploy --network ethereum:sepolia:node --account deployer
APE_ACCOUNTS_deployer_PASSPHRASE=... ape run deploy --network ... --account deployer --yes
"""

from __future__ import annotations

from dataclasses import replace

import click
from ape import accounts
from ape.cli import ConnectedProviderCommand

from offchain.ape_unattended import prepare_signer
from offchain.deploy import LOCAL_PARAMS, DeployParams, deploy_all, is_local, zk_available
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
    "--yes",
    is_flag=True,
    help="Sign every transaction without asking (passphrase from APE_ACCOUNTS_<alias>_PASSPHRASE).",
)
@click.option(
    "--test-tokens/--no-test-tokens",
    default=None,
    help="Also deploy a mintable demo token (default: only on local networks).",
)
@click.option("--bond", type=int, default=None, help="Proposer bond in wei (default 1 ETH).")
@click.option(
    "--challenge-period",
    type=int,
    default=None,
    help="Seconds before a batch is final (default: 120 locally, 7 days elsewhere).",
)
@click.option(
    "--forced-delay",
    type=int,
    default=None,
    help="Seconds a forced transaction may wait before anyone can freeze (300 s locally, 1 day).",
)
@click.option(
    "--liveness-period",
    type=int,
    default=None,
    help="Seconds without a final batch before anyone can freeze (900 s locally, 7 days).",
)
@click.option(
    "--zk/--no-zk",
    default=None,
    help="Deploy the zk rollup with development keys (default: locally, if the zk extra is "
    "installed; test funds only).",
)
@click.option(
    "--council",
    "council",
    multiple=True,
    help="Security Council member address (once per member, at least 8; default on a local "
    "network: the development council with public keys).",
)
@click.option("--council-threshold", type=int, default=0, help="Council approvals needed (>= 75%).")
@click.option(
    "--proposer",
    "proposers",
    multiple=True,
    help="Account allowed to schedule timelock operations (default locally: the deployer).",
)
def cli(
    ecosystem,
    network,
    provider,
    alias,
    yes,
    test_tokens,
    bond,
    challenge_period,
    forced_delay,
    liveness_period,
    zk,
    council,
    council_threshold,
    proposers,
):
    """Deploy and wire all l2kit contracts to the connected network."""
    local = is_local(network.name)
    deployer = prepare_signer(pick_deployer(alias, local), alias, yes)
    choice = f"{ecosystem.name}:{network.name}"
    base = LOCAL_PARAMS if local else DeployParams()
    overrides = {
        "rollup_bond": bond,
        "challenge_period": challenge_period,
        "test_tokens": test_tokens,
        "forced_inclusion_delay": forced_delay,
        "liveness_period": liveness_period,
        "zk": zk if zk is not None else (base.zk and zk_available()),
    }
    params = replace(base, **{k: v for k, v in overrides.items() if v is not None})
    params = replace(
        params,
        council=tuple(council),
        council_threshold=council_threshold,
        proposers=tuple(proposers),
    )
    deployment = deploy_all(deployer, choice, params)
    path = save_deployment(deployment)
    click.echo(f"deployed to {choice} (chain {deployment.chain_id}) from {deployer.address}")
    for name, address in deployment.contracts.items():
        click.echo(f"  {name:<20} {address}")
    click.echo(f"wrote {path}")
