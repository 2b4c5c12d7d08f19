"""Follow the rollup on the connected network and prove any wrong commitment.

    ape run validator                                   # local node (APE_FOUNDRY_HOST to share)
    ape run validator --network ethereum:sepolia:node   # with L2KIT_CHALLENGER_KEY set

Options after `--` go to the service: `python -m offchain.validator.service --help`.
"""

from __future__ import annotations

import sys

import click
from ape.cli import ConnectedProviderCommand

from offchain.validator import service as validator_service


@click.command(cls=ConnectedProviderCommand, context_settings={"ignore_unknown_options": True})
@click.argument("service_args", nargs=-1, type=click.UNPROCESSED)
def cli(ecosystem, network, provider, service_args):
    """Rebuild the L2 state from L1 and challenge wrong batches."""
    args = ["--rpc", provider.uri, "--network", f"{ecosystem.name}:{network.name}"]
    sys.exit(validator_service.main([*args, *service_args]))
