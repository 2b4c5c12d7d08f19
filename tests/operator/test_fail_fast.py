"""Fail fast, clearly (issue #9 item 18): a service started with a bad setting exits at once with
one line on stderr that says what is wrong and what to do; no traceback, no retry loop.

Each test starts the real process (`python -m offchain.sequencer.service` or the validator)."""

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from eth_account import Account
from service_proc import ROOT

from offchain.deployments import Deployment, save_deployment

#: A start that fails must say so within this many seconds (Python and web3 start-up included).
QUICK = 8.0

BATCHER = "offchain.sequencer.service"
VALIDATOR = "offchain.validator.service"


def start(module, deployments: Path, *args, env=None, timeout=60):
    """Run the service until it exits; returns (exit code, stderr lines, seconds)."""
    full_env = dict(os.environ, L2KIT_DEPLOYMENTS=str(deployments), PYTHONPATH=str(ROOT))
    for name in ("L2KIT_PROPOSER_KEY", "L2KIT_CHALLENGER_KEY", "L2KIT_FAILPOINT", "L2KIT_RPC"):
        full_env.pop(name, None)
    full_env.update(env or {})
    started = time.monotonic()
    proc = subprocess.run(
        [sys.executable, "-m", module, "--network", "ethereum:local", *args],
        cwd=ROOT,
        env=full_env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    return proc.returncode, lines, time.monotonic() - started


def assert_one_clear_line(result, *needles):
    code, lines, seconds = result
    assert code != 0, lines
    assert not any("Traceback" in line for line in lines), "\n".join(lines)
    assert len(lines) == 1, "\n".join(lines)
    for needle in needles:
        assert needle in lines[0], lines[0]
    assert seconds < QUICK, f"took {seconds:.1f} s: {lines[0]}"


def fake_deployment(tmp_path, chain_id=31337, names=("Rollup", "RollupBridge")):
    contracts = {n: Account.create().address for n in names}
    save_deployment(Deployment(chain_id, "ethereum:local", 0, contracts), tmp_path)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.parametrize("mode", ["optimistic", "zk"])
def test_fail_fast_port_in_use(chain, deployment, tmp_path, mode):
    save_deployment(deployment, tmp_path)
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        args = ("--rpc", chain.provider.uri, "--mode", mode, "--port", str(port))
        result = start(BATCHER, tmp_path, *args, "--store", str(tmp_path / "b.sqlite"))
    assert_one_clear_line(result, f"port {port}", "in use", "--port")


@pytest.mark.parametrize(
    ("module", "env_name"), [(BATCHER, "L2KIT_PROPOSER_KEY"), (VALIDATOR, "L2KIT_CHALLENGER_KEY")]
)
def test_fail_fast_unreachable_rpc(tmp_path, module, env_name):
    fake_deployment(tmp_path)
    rpc = f"http://127.0.0.1:{free_port()}"
    key = {env_name: Account.create().key.hex()}  # configured, as on a real network
    result = start(module, tmp_path, "--rpc", rpc, env=key)
    assert_one_clear_line(result, "cannot reach", rpc, "--rpc")


@pytest.mark.parametrize(
    ("module", "mode"), [(BATCHER, "optimistic"), (BATCHER, "zk"), (VALIDATOR, None)]
)
def test_fail_fast_no_code_at_the_deployment_addresses(chain, tmp_path, module, mode):
    fake_deployment(tmp_path, names=("Rollup", "RollupBridge", "ZkRollup", "ZkBridge"))
    args = ["--rpc", chain.provider.uri, *(["--mode", mode] if mode else [])]
    result = start(module, tmp_path, *args)
    assert_one_clear_line(result, "no contract at", "ape run deploy")


@pytest.mark.parametrize("module", [BATCHER, VALIDATOR])
def test_fail_fast_wrong_chain_id(chain, tmp_path, module):
    fake_deployment(tmp_path, chain_id=11155111)
    result = start(module, tmp_path, "--rpc", chain.provider.uri)
    assert_one_clear_line(result, "chain 31337", "chain 11155111")


@pytest.mark.parametrize(
    ("module", "env_name"), [(BATCHER, "L2KIT_PROPOSER_KEY"), (VALIDATOR, "L2KIT_CHALLENGER_KEY")]
)
@pytest.mark.parametrize("bad_key", ["0x1234", "zz" * 32, "0x" + "00" * 32])
def test_fail_fast_malformed_key(chain, deployment, tmp_path, module, env_name, bad_key):
    save_deployment(deployment, tmp_path)
    port = ["--port", "0"] if module == BATCHER else []
    result = start(module, tmp_path, "--rpc", chain.provider.uri, *port, env={env_name: bad_key})
    assert_one_clear_line(result, env_name)
    assert bad_key.removeprefix("0x") not in result[1][0]  # a key is never echoed


def test_fail_fast_proposer_cannot_pay_bond_and_gas(chain, deployment, tmp_path):
    save_deployment(deployment, tmp_path)
    poor = Account.create()  # holds nothing on L1
    result = start(
        BATCHER,
        tmp_path,
        "--rpc",
        chain.provider.uri,
        "--port",
        "0",
        "--store",
        str(tmp_path / "b.sqlite"),
        env={"L2KIT_PROPOSER_KEY": poor.key.hex()},
    )
    assert_one_clear_line(result, poor.address, "holds 0 wei", "bond", "fund it")


def test_default_store_is_one_per_network():
    from offchain.sequencer.service import state_dir

    assert state_dir("ethereum:local") == Path("var/ethereum-local")
    assert state_dir("ethereum:sepolia:node") == Path("var/ethereum-sepolia")
    assert state_dir("ethereum:local") != state_dir("ethereum:sepolia")


def test_fail_fast_legacy_shared_store_is_not_silently_abandoned(tmp_path, monkeypatch):
    """A store from before stores were per network (var/batcher.sqlite) holds acknowledged
    transactions: starting a fresh per-network store beside it would leave them behind."""
    from offchain.sequencer.preflight import PreflightError
    from offchain.sequencer.service import check_no_legacy_store, state_dir

    monkeypatch.chdir(tmp_path)
    default = state_dir("ethereum:local") / "batcher.sqlite"
    check_no_legacy_store(default)  # nothing old: fine
    (tmp_path / "var").mkdir()
    (tmp_path / "var" / "batcher.sqlite").write_bytes(b"old store")
    with pytest.raises(PreflightError, match=r"move it to var/ethereum-local/batcher\.sqlite"):
        check_no_legacy_store(default)
    default.parent.mkdir(parents=True)
    default.write_bytes(b"")  # the operator moved or created the new one: no longer refused
    check_no_legacy_store(default)


@pytest.mark.parametrize(
    ("args", "env", "needles"),
    [
        (("--port", "eighty"), {}, ("'port'", "--port", "not an integer")),
        ((), {"L2KIT_MAX_BATCH_TXS": "0"}, ("'max_batch_txs'", "$L2KIT_MAX_BATCH_TXS", "minimum")),
        (("--mode", "sideways"), {}, ("'mode'", "optimistic, zk")),
        ((), {"L2KIT_CONFIG": "{file}"}, ("unknown setting 'prot'", "did you mean 'port'")),
    ],
)
def test_fail_fast_bad_setting_from_flag_env_or_file(tmp_path, args, env, needles):
    """The service reads its settings through the config loader: a bad one, from any source,
    stops it with one line naming the setting and its source, before anything else."""
    fake_deployment(tmp_path)
    config = tmp_path / "sequencer.toml"
    config.write_text("prot = 8547\n")
    env = {k: v.replace("{file}", str(config)) for k, v in env.items()}
    assert_one_clear_line(start(BATCHER, tmp_path, *args, env=env), *needles)


def test_fail_fast_store_with_an_unknown_url_scheme(chain, deployment, tmp_path):
    save_deployment(deployment, tmp_path)
    args = ("--rpc", chain.provider.uri, "--port", "0", "--store", "mysql://db/l2kit")
    assert_one_clear_line(start(BATCHER, tmp_path, *args), "mysql://", "postgresql://")
    assert not (ROOT / "mysql:").exists()  # no file named like the URL


def test_store_urls_are_logged_without_their_password():
    from offchain.sequencer.service import describe_store

    assert (
        describe_store("postgresql://seq:hunter2@db:5432/l2kit") == "postgresql://seq@db:5432/l2kit"
    )
    assert "hunter2" not in describe_store("postgres://db/l2kit?password=hunter2")
    assert describe_store("var/b.sqlite") == "var/b.sqlite"
