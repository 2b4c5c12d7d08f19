"""Run the rollup batcher against the connected network.

    ape run batcher                                   # local node (APE_FOUNDRY_HOST to share one)
    ape run batcher --network ethereum:sepolia:node   # with L2KIT_PROPOSER_KEY set

Every option of the service is accepted after `--`, e.g. `ape run batcher -- --port 9000`;
see `python -m offchain.sequencer.service --help`.
"""

from __future__ import annotations

import sys

import click
from ape.cli import ConnectedProviderCommand

from offchain.sequencer import service


@click.command(cls=ConnectedProviderCommand, context_settings={"ignore_unknown_options": True})
@click.argument("service_args", nargs=-1, type=click.UNPROCESSED)
def cli(ecosystem, network, provider, service_args):
    """Accept L2 transactions over HTTP and post batches to the rollup."""
    args = ["--rpc", provider.uri, "--network", f"{ecosystem.name}:{network.name}"]
    sys.exit(service.main([*args, *service_args]))
