"""Fixtures of the CLI tests: the contracts deployed as `ape run deploy` does, a deployment file
in a temporary folder, the `l2kit` command run in-process (CliRunner) or as a process."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from support.chain import advance  # noqa: F401 - imported from here by the cli tests
from web3 import Web3

from offchain.cli.main import cli
from offchain.deploy import DeployParams, deploy_all
from offchain.deployments import save_deployment

ROOT = Path(__file__).resolve().parents[2]


def _service_proc():
    # The operator tests' process harness for the batcher, shared rather than copied.
    spec = importlib.util.spec_from_file_location(
        "l2kit_service_proc", ROOT / "tests" / "operator" / "service_proc.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.ServiceProcess


ServiceProcess = _service_proc()
ONE = 10**18
#: Short windows so tests reach finality and a freeze by moving Anvil's clock a little.
PARAMS = DeployParams(
    rollup_bond=ONE,
    challenge_period=30,
    test_tokens=True,
    forced_inclusion_delay=60,
    liveness_period=600,
)


def key_of(account) -> str:
    return (
        account.private_key if isinstance(account.private_key, str) else account.private_key.hex()
    )


@dataclass
class L2Kit:
    """Runs `l2kit` against the test chain with a given key in $L2KIT_KEY."""

    deployments: Path
    rpc: str

    def env(self, key: str | None = None, **extra: str) -> dict[str, str | None]:
        env: dict[str, str | None] = {
            "L2KIT_DEPLOYMENTS": str(self.deployments),
            "L2KIT_KEY": key,
            "L2KIT_RPC": None,
            "L2KIT_NETWORK": None,
            "L2KIT_BATCHER": None,
        }
        env.update(extra)
        return env

    def run(self, *args: str, key: str | None = None, **env: str) -> Result:
        runner = CliRunner(mix_stderr=False)
        return runner.invoke(cli, list(args), env=self.env(key, **env), catch_exceptions=False)

    def process(self, *args: str, key: str | None = None, **env: str):
        full = dict(os.environ, PYTHONPATH=str(ROOT))
        for k, v in self.env(key, **env).items():
            if v is None:
                full.pop(k, None)
            else:
                full[k] = v
        return subprocess.run(
            [sys.executable, "-m", "offchain.cli", *args],
            cwd=ROOT,
            env=full,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=120,
        )


@pytest.fixture
def deployment(deployer, tmp_path):
    d = deploy_all(deployer, "ethereum:local", PARAMS)
    save_deployment(d, tmp_path)
    return d


@pytest.fixture
def l2kit(deployment, tmp_path, chain):
    return L2Kit(tmp_path, chain.provider.uri)


@pytest.fixture
def w3(chain):
    return Web3(Web3.HTTPProvider(chain.provider.uri))
