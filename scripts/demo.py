"""The l2kit demo: start a local Anvil node, deploy, deposit, and show what the operator sees.

make demo          (same as: ape run demo, on the embedded local Anvil node)
"""

from __future__ import annotations

import time

import click
from ape import accounts, chain, project
from ape.cli import ConnectedProviderCommand
from ape.logging import logger

from offchain.bridge import ETH, read_deposits
from offchain.deploy import deploy_all
from offchain.deployments import save_deployment
from offchain.recipient import address_recipient

ETHER = 10**18
DUSD = 10**6


def step(message: str) -> None:
    click.echo(click.style("==> ", fg="cyan", bold=True) + message)


@click.command(cls=ConnectedProviderCommand)
def cli(ecosystem, network, provider):
    """Run the demo on the connected (by default local) network."""
    if chain.chain_id != 31337:
        raise click.UsageError("the demo mints test tokens and uses test accounts: run it locally")
    logger.set_level("WARNING")  # one line per step instead of one per transaction
    started = time.monotonic()
    deployer, *users = accounts.test_accounts[:5]

    step(f"Anvil node at {provider.uri} (chain {chain.chain_id})")
    deployment = deploy_all(deployer, f"{ecosystem.name}:{network.name}", with_test_tokens=True)
    path = save_deployment(deployment)
    step(f"deployed {', '.join(deployment.contracts)} -> {path}")

    bridge = project.L1Bridge.at(deployment.address("L1Bridge"))
    token = project.TestToken.at(deployment.address("DemoToken"))

    step("users deposit ETH and DUSD into the bridge")
    gas: dict[str, list[int]] = {"depositETH": [], "depositERC20": [], "approve": []}
    for i, user in enumerate(users):
        recipient = address_recipient(user.address)
        tx = bridge.depositETH(recipient, value=(i + 1) * ETHER, sender=user)
        gas["depositETH"].append(tx.gas_used)
        token.mint(user, 1_000 * DUSD, sender=deployer)
        tx = token.approve(bridge, 1_000 * DUSD, sender=user)
        gas["approve"].append(tx.gas_used)
        tx = bridge.depositERC20(token, (i + 1) * 100 * DUSD, recipient, sender=user)
        gas["depositERC20"].append(tx.gas_used)
        click.echo(f"    {user.address}: {i + 1} ETH and {(i + 1) * 100} DUSD")

    step("the operator's view: the deposit queue read back from L1 events, every link verified")
    deposits = read_deposits(provider.web3, bridge.address, deployment.block)
    for d in deposits:
        symbol, unit = ("ETH", ETHER) if d.token == ETH else ("DUSD", DUSD)
        click.echo(
            f"    #{d.index:<3} {d.amount / unit:>10.2f} {symbol:<4} -> 0x{d.recipient[1:].hex()}"
            f"  acc {d.accumulator.hex()[:16]}…"
        )
    on_chain = bytes(bridge.accumulatorAt(bridge.depositCount()))
    assert deposits[-1].accumulator == on_chain, "queue read from events disagrees with L1"

    step("summary")
    rows = [
        ("deposits queued", str(len(deposits))),
        (
            "bridge holds ETH",
            f"{bridge.balance / ETHER:.2f} (owes {bridge.liabilities(ETH) / ETHER:.2f})",
        ),
        (
            "bridge holds DUSD",
            f"{token.balanceOf(bridge) / DUSD:.2f} (owes {bridge.liabilities(token) / DUSD:.2f})",
        ),
        ("gas depositETH", f"{max(gas['depositETH']):,} (max)"),
        ("gas depositERC20", f"{max(gas['depositERC20']):,} (max)"),
        ("queue accumulator", "0x" + on_chain.hex()),
        ("elapsed", f"{time.monotonic() - started:.1f} s"),
    ]
    width = max(len(k) for k, _ in rows)
    for key, value in rows:
        click.echo(f"    {key:<{width}}  {value}")
    funds_ok = bridge.balance == bridge.liabilities(ETH) and token.balanceOf(
        bridge
    ) == bridge.liabilities(token)
    click.echo(f"    {'funds conserved':<{width}}  {'yes' if funds_ok else 'NO'}")
    if not funds_ok:
        raise click.ClickException("bridge balances disagree with its liabilities")
