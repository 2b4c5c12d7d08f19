"""docs/guide.md cannot rot: its shell blocks marked `<!-- guide:test -->` run, in order, in one
bash (`set -euo pipefail`) against a fresh Anvil with the contracts deployed as `ape run deploy`
deploys them locally and the batcher running as a process; then the chain is checked."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest
from conftest import ServiceProcess, key_of

from offchain.deploy import LOCAL_PARAMS, deploy_all
from offchain.deployments import save_deployment

pytestmark = pytest.mark.slow  # walks the guide with services running as processes

ROOT = Path(__file__).resolve().parents[2]
GUIDE = ROOT / "docs" / "guide.md"
MARKED = re.compile(r"<!-- guide:test -->\s*\n```sh\n(.*?)```", re.S)
ONE = 10**18


#: The channel nodes' fixed ports in the guide, moved to free ones so parallel runs do not clash.
GUIDE_PORTS = ("8550", "8551", "9711", "9712")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def guide_script() -> str:
    blocks = MARKED.findall(GUIDE.read_text())
    assert len(blocks) >= 5, "the guide lost its tested blocks"
    script = "\n".join(blocks)
    for port in GUIDE_PORTS:
        assert port in script, f"the guide's channel steps no longer use port {port}"
        script = script.replace(port, str(free_port()))
    # background services the guide starts are stopped even when a step fails
    return "set -euo pipefail\ntrap 'kill $(jobs -p) 2>/dev/null || true' EXIT\n" + script


def l2kit_on_path(tmp_path: Path) -> Path:
    """A directory with `l2kit`: the installed console script if `make setup` installed it,
    else the same entry point through `python -m offchain.cli`."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    installed = Path(sys.executable).with_name("l2kit")
    shim = bin_dir / "l2kit"
    if installed.exists():
        shim.symlink_to(installed)
    else:
        shim.write_text(f'#!/bin/sh\nexec "{sys.executable}" -m offchain.cli "$@"\n')
        shim.chmod(0o755)
    return bin_dir


@pytest.fixture
def local_deployment(deployer, tmp_path):
    d = deploy_all(deployer, "ethereum:local", replace(LOCAL_PARAMS, zk=False))
    save_deployment(d, tmp_path)
    return d


def test_the_guide_runs_as_written(
    chain, project, local_deployment, deployer, alice, bob, tmp_path
):
    svc = ServiceProcess(tmp_path / "batcher.sqlite", tmp_path, key_of(deployer))
    try:
        env = dict(
            os.environ,
            PATH=f"{l2kit_on_path(tmp_path)}:{os.environ['PATH']}",
            PYTHONPATH=str(ROOT),
            L2KIT_DEPLOYMENTS=str(tmp_path),
            L2KIT_BATCHER=svc.url,
            L2KIT_RPC=chain.provider.uri,
        )
        for name in ("L2KIT_KEY", "L2KIT_NETWORK"):
            env.pop(name, None)
        result = subprocess.run(
            ["bash", "-c", guide_script()],
            cwd=ROOT,
            env=env,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=300,
        )
    finally:
        svc.stop()
    assert result.returncode == 0, result.stdout + result.stderr
    assert "l2kit: error" not in result.stderr, result.stderr
    rollup = project.Rollup.at(local_deployment.address("Rollup"))
    bridge = project.L1Bridge.at(local_deployment.address("RollupBridge"))
    assert rollup.frozen(), "the guide's exit step did not freeze the rollup"
    exits = rollup.AccountExited.query("*")
    mine = [e for e in exits.to_dict("records") if e["event_arguments"]["owner"] == alice.address]
    # 1 deposited - 0.25 sent - 0.1 withdrawn = 0.65 left on L2, paid out by the exit.
    assert [e["event_arguments"]["amount"] for e in mine] == [65 * 10**16]
    assert bridge.claimable(alice.address, "0x" + "00" * 20) == 0  # and claimed
    # the channel: 0.5 in, 0.1 paid, 0.05 paid back, closed cooperatively, both paid at once
    adjudicator = project.ChannelAdjudicator.at(local_deployment.address("ChannelAdjudicator"))
    [close] = adjudicator.ChannelCooperativelyClosed.query("*").to_dict("records")
    assert (close["event_arguments"]["payoutA"], close["event_arguments"]["payoutB"]) == (
        45 * 10**16,
        5 * 10**16,
    )
    # direct payouts: nothing was deferred, so nothing was left to claim
    assert len(adjudicator.PayoutDeferred.query("*")) == 0
    assert len(adjudicator.Claimed.query("*")) == 0
    assert chain.provider.web3.eth.get_balance(adjudicator.address) == 0
