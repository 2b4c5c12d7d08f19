"""The l2kit demo: the whole system on a local Anvil node, with real processes and signatures.

    make demo          (same as: ape run demo, on the embedded local Anvil node)

It deploys every contract, starts the batcher and the validator as processes, plays scripted
users (deposits, many transfers, withdrawals), has a dishonest proposer post a bad batch that the
validator proves and rolls back, posts one batch in an EIP-4844 blob, and ends with a summary
table. Service logs go to var/demo/.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

import click
from ape import accounts, chain
from ape.cli import ConnectedProviderCommand
from ape.logging import logger
from eth_account import Account as EthAccount

from offchain.chain import abi_of
from offchain.demo import blob_flow, channels_flow, governance_flow
from offchain.demo.processes import ROOT, Service
from offchain.demo.rollup_flow import RollupDemo
from offchain.deploy import LOCAL_PARAMS, deploy_all, zk_available
from offchain.deployments import save_deployment

ETHER = 10**18
DEMO_DIR = ROOT / "var" / "demo"


def step(message: str) -> None:
    click.echo(click.style("==> ", fg="cyan", bold=True) + message, nl=True)


def detail(message: str) -> None:
    click.echo("    " + message)


def _brief(answer: dict) -> str:
    """A command's JSON answer on one short line."""
    text = json.dumps(answer, separators=(",", ":"))
    return text if len(text) <= 110 else text[:107] + "..."


@click.command(cls=ConnectedProviderCommand)
@click.option("--transfers", default=400, show_default=True, help="L2 transfers to play.")
def cli(ecosystem, network, provider, transfers):
    """Run the demo on the connected (by default local) network."""
    if chain.chain_id != 31337:
        raise click.UsageError("the demo uses test accounts and moves time: run it locally")
    logger.set_level("WARNING")  # one line per step instead of one per transaction
    started = time.monotonic()
    test_accounts = accounts.test_accounts
    deployer = test_accounts[0]
    keys = [EthAccount.from_key(test_accounts[i].private_key) for i in range(10)]
    users, cheat = keys[2:7], keys[8]
    w3 = provider.web3

    step(f"Anvil node at {provider.uri} (chain {chain.chain_id})")
    params = replace(LOCAL_PARAMS, zk=zk_available())
    deployment = deploy_all(deployer, f"{ecosystem.name}:{network.name}", params)
    deployments_dir = DEMO_DIR / "deployments"
    path = save_deployment(deployment, deployments_dir)
    step(f"deployed {', '.join(deployment.contracts)} -> {path.relative_to(ROOT)}")

    env = {
        "L2KIT_DEPLOYMENTS": str(deployments_dir),
        "L2KIT_PROPOSER_KEY": keys[0].key.hex(),
        "L2KIT_CHALLENGER_KEY": keys[1].key.hex(),
    }
    store = DEMO_DIR / "batcher.sqlite"
    for suffix in ("", "-wal", "-shm"):
        Path(f"{store}{suffix}").unlink(missing_ok=True)
    services: list[Service] = []
    try:
        batcher = Service(
            "batcher",
            "offchain.sequencer.service",
            [
                "--rpc",
                provider.uri,
                "--store",
                str(store),
                "--port",
                "0",
                "--max-batch-txs",
                "128",
                "--max-batch-delay",
                "0.5",
                "--progress-every",
                "5",
                # Calldata here, so the summary's L1 bytes and gas per transfer are calldata
                # figures; the blob posting has its own step below.
                "--da",
                "calldata",
            ],
            env,
            DEMO_DIR,
        )
        services.append(batcher)
        batcher_url = batcher.ready_line.split()[1]
        validator = Service(
            "validator",
            "offchain.validator.service",
            ["--rpc", provider.uri, "--poll", "0.5"],
            env,
            DEMO_DIR,
        )
        services.append(validator)
        step(
            f"batcher serving {batcher_url}, validator watching "
            f"(logs in {DEMO_DIR.relative_to(ROOT)}/)"
        )

        bridge = w3.eth.contract(
            address=deployment.address("RollupBridge"),
            abi=abi_of("L1Bridge"),
        )
        rollup = w3.eth.contract(
            address=deployment.address("Rollup"),
            abi=abi_of("Rollup"),
        )
        demo = RollupDemo(w3, bridge, rollup, users, batcher_url, detail)

        def advance_past_window() -> None:
            period = rollup.functions.challengePeriod().call()
            w3.provider.make_request("evm_increaseTime", [period + 1])
            w3.provider.make_request("evm_mine", [])

        step("optimistic rollup: users register the BLS key derived from their L1 wallet")
        demo.register_keys(users)
        step("optimistic rollup: deposits")
        demo.deposit([(i + 2) * ETHER for i in range(len(users))])
        step(f"optimistic rollup: {transfers} BLS-signed transfers through the batcher's HTTP API")
        demo.transfers(transfers, ETHER // 1000)
        step("optimistic rollup: a batch of transfers in one POST /txs; the batcher's health")
        demo.transfers(32, ETHER // 1000, batched=True)
        demo.show_operability()
        step("optimistic rollup: a withdrawal, proven on L1 after the challenge window")
        demo.withdraw_and_claim(users[0], ETHER // 2, advance_past_window)
        step("optimistic rollup: a dishonest batch")
        demo.dishonest_batch(cheat, thief=users[1], victim=users[2])
        step("optimistic rollup: the honest operator carries on")
        demo.transfers(20, ETHER // 1000)
        step("the l2kit command line: a user transfers and reads balances as with any wallet")
        cli_env = {
            **os.environ,
            "L2KIT_DEPLOYMENTS": str(deployments_dir),
            "L2KIT_RPC": provider.uri,
            "L2KIT_BATCHER": batcher_url,
            "L2KIT_KEY": users[3].key.hex(),
            "PYTHONPATH": str(ROOT),
        }

        def l2kit(*args: str) -> dict:
            done = subprocess.run(
                [sys.executable, "-m", "offchain.cli", *args, "--json"],
                env=cli_env,
                capture_output=True,
                text=True,
                timeout=120,
            )
            if done.returncode != 0:
                raise click.ClickException(f"l2kit {' '.join(args)}: {done.stderr.strip()}")
            return json.loads(done.stdout)

        sent = l2kit("rollup", "transfer", users[4].address, "0.01", "--yes", "--wait")
        detail(f"l2kit rollup transfer {users[4].address[:10]}… 0.01 --yes --wait: {_brief(sent)}")
        shown = l2kit("rollup", "balance", users[4].address)
        detail(f"l2kit rollup balance {users[4].address[:10]}…: {_brief(shown)}")
        demo.measure_l1()
        ok, conservation = demo.conservation()

        zk_figures = None
        if zk_available():
            step("zk rollup: a batch proven, verified on L1, final at once")
            # offchain.zk is GPL-3.0 and optional: imported only when installed.
            from offchain.zk.demo_flow import run_zk
            from offchain.zk.params import CircuitParams

            zk_figures = run_zk(
                w3,
                w3.eth.contract(address=deployment.address("ZkBridge"), abi=abi_of("L1Bridge")),
                w3.eth.contract(address=deployment.address("ZkRollup"), abi=abi_of("ZkRollup")),
                keys[7],
                (keys[2], keys[3]),
                CircuitParams(params.zk_txs, params.zk_deposits, params.zk_depth),
                DEMO_DIR / "zk-state.json",
                detail,
            )
        else:
            step("zk rollup: skipped (the optional zk extra is not installed)")

        step("payment channels: a payment routed across three channels")
        channel_figures = channels_flow.run(
            provider.uri,
            deployment.address("ChannelAdjudicator"),
            abi_of("ChannelAdjudicator"),
            [k.key.hex() for k in keys[2:6]],
            DEMO_DIR / "channels",
            detail,
        )
    finally:
        for service in reversed(services):
            service.stop()

    step("optimistic rollup: one batch in an EIP-4844 blob (postBlobBatches)")
    blob = blob_flow.post_one_blob_batch(w3, demo.l1, keys[0].key, users[3], users[4], detail)

    # after the services stopped: the proposer is the deployer, whose key the batcher used
    step("governance: a change proposed, watched with the time left to exit, cancelled")
    gov = governance_flow.run(w3, deployment, keys[0].key, detail)

    f = demo.figures
    elapsed = time.monotonic() - started
    step("summary")
    rows = [
        ("deposits", f"{f.deposits}"),
        ("L2 transfers accepted", f"{f.transfers_accepted}"),
        ("withdrawals paid on L1", f"{f.withdrawals_paid}"),
        ("live batches on L1", f"{f.batches}"),
        (
            "L1 commitments / BLS aggregates",
            f"{f.commitments_on_l1} / {f.aggregates_on_l1} (48 B each, no per-tx signature)",
        ),
        ("L1 bytes per transfer", f"{f.l1_bytes / max(1, f.transfers_on_l1):.1f}"),
        ("L1 gas per transfer (posting)", f"{f.l1_post_gas / max(1, f.transfers_on_l1):,.0f}"),
        (
            "batcher intake (HTTP, signed)",
            f"{f.transfers_accepted / max(f.transfers_seconds, 1e-9):,.0f} tx/s",
        ),
        ("challenge", f.challenge),
        (
            "zk batch",
            f"{zk_figures.transactions} txs, proof {zk_figures.prove_seconds:.1f} s, "
            f"{zk_figures.gas:,} gas, final at once"
            if zk_figures
            else "skipped (no zk extra)",
        ),
        (
            "channel payments (direct, p50)",
            f"{channel_figures.direct_payments} ({channel_figures.direct_p50_ms:.1f} ms)",
        ),
        ("routed payment A->B->C->D", f"{channel_figures.routed_ms:.0f} ms"),
        ("fraud proof gas", f"{f.proof_gas:,}"),
        (
            "governance",
            f"delay {gov.delay_s:,} s >= longest exit {gov.longest_exit_s:,} s + margin; "
            f"change cancelled; council pause refused ({gov.pause_refused})",
        ),
        ("blob batch", f"batch {blob.batch_index}, versioned hash {blob.versioned_hash[:18]}…"),
        ("funds conserved", "yes" if ok else "NO"),
        ("", conservation),
        ("elapsed", f"{elapsed:.1f} s"),
    ]
    width = max(len(k) for k, _ in rows)
    for key, value in rows:
        detail(f"{key:<{width}}  {value}")
    if not ok:
        raise click.ClickException("funds are not conserved")
