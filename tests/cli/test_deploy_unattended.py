"""`ape run deploy --yes` from a keyfile account, as the README's Sepolia steps run it: no
terminal (stdin closed), passphrase from the environment, no prompt, and a deployment file with
no credentials in it. Without --yes and without a terminal it stops before sending anything."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from eth_account import Account as EthAccount
from support.anvil import anvil_process

pytestmark = pytest.mark.slow  # runs `ape run deploy` as a process

ROOT = Path(__file__).resolve().parents[2]
APE = str(Path(sys.executable).with_name("ape"))
# Anvil's well-known account 5 (funded on every fresh Anvil): a keyfile account, not a test one.
KEY = "0x8b3a350cf5c34c9194ca85829a2df0ec3153be0318b5e2d3348e872092edffba"
PASSPHRASE = "correct horse battery staple"


def ape_data_with_account(tmp_path: Path, alias: str) -> Path:
    data = tmp_path / "ape-data"
    (data / "accounts").mkdir(parents=True)
    keystore = EthAccount.encrypt(KEY, PASSPHRASE, iterations=2**10)  # fast scrypt for tests
    (data / "accounts" / f"{alias}.json").write_text(json.dumps(keystore))
    return data


@pytest.fixture
def node():
    """A fresh Anvil of its own, standing in for the README's public node (Sepolia)."""
    with anvil_process() as url:
        yield url


def run_deploy(
    node: str, tmp_path: Path, *args: str, passphrase: str | None
) -> subprocess.CompletedProcess:
    env = dict(
        os.environ,
        APE_DATA_FOLDER=str(ape_data_with_account(tmp_path, "deployer")),
        L2KIT_DEPLOYMENTS=str(tmp_path / "deployments"),
        APE_FOUNDRY_HOST=node,
    )
    if passphrase:
        env["APE_ACCOUNTS_deployer_PASSPHRASE"] = passphrase
    return subprocess.run(
        [APE, "run", "deploy", "--account", "deployer", "--no-zk", *args],
        cwd=ROOT,
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_deploy_with_yes_signs_without_a_terminal_and_writes_no_credentials(node, tmp_path):
    result = run_deploy(node, tmp_path, "--yes", passphrase=PASSPHRASE)
    out = result.stdout + result.stderr
    assert result.returncode == 0, out
    assert "Sign:" not in out and "Enter passphrase" not in out
    deployer = EthAccount.from_key(KEY).address
    assert f"from {deployer}" in result.stdout
    written = json.loads((tmp_path / "deployments" / "ethereum-local.json").read_text())
    assert {"Rollup", "RollupBridge", "ChannelAdjudicator"} <= set(written["contracts"])
    rpc = written["rpc"]
    assert rpc.startswith("http://127.0.0.1:") and "@" not in rpc and "?" not in rpc


def test_deploy_without_yes_and_without_a_terminal_stops_before_sending(node, tmp_path):
    result = run_deploy(node, tmp_path, passphrase=PASSPHRASE)
    assert result.returncode != 0
    assert "pass --yes" in result.stdout + result.stderr
    assert not (tmp_path / "deployments" / "ethereum-local.json").exists()


def test_deploy_with_yes_but_no_passphrase_says_which_variable(node, tmp_path):
    result = run_deploy(node, tmp_path, "--yes", passphrase=None)
    assert result.returncode != 0
    assert "APE_ACCOUNTS_deployer_PASSPHRASE" in result.stdout + result.stderr
    assert not (tmp_path / "deployments" / "ethereum-local.json").exists()
