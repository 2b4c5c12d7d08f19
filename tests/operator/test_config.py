"""Settings from flags > environment > TOML file > defaults; a bad one is one clear line; the
proposer key from an Ape alias, a keyfile or the environment; JSON log lines."""

from __future__ import annotations

import io
import json
import logging
import subprocess
import sys
from pathlib import Path

import pytest
from eth_account import Account

from offchain.cli.keys import KeyUnavailable
from offchain.sequencer.config import (
    SETTINGS,
    ConfigError,
    SequencerConfig,
    env_name,
    load_config,
    settings_table,
)
from offchain.sequencer.keys import ANVIL_KEY_0, proposer_account
from offchain.sequencer.logs import configure_logging

ROOT = Path(__file__).resolve().parents[2]


def toml(tmp_path, text):
    path = tmp_path / "seq.toml"
    path.write_text(text)
    return str(path)


def test_defaults():
    cfg = load_config([], env={})
    assert cfg == SequencerConfig()
    assert cfg.port == 8547 and cfg.mode == "optimistic" and cfg.metrics is True
    assert set(cfg.sources.values()) == {"default"}


def test_precedence_flag_over_env_over_file_over_default(tmp_path):
    path = toml(
        tmp_path, 'port = 9000\nhost = "0.0.0.0"\nmax_batch_delay = 2\nlog_format = "json"\n'
    )
    env = {"L2KIT_PORT": "9100", "L2KIT_HOST": "10.0.0.1"}
    cfg = load_config(["--config", path, "--port", "9200"], env=env)
    assert cfg.port == 9200 and cfg.sources["port"] == "--port"
    assert cfg.host == "10.0.0.1" and cfg.sources["host"] == "$L2KIT_HOST"
    assert (
        cfg.max_batch_delay == 2.0 and cfg.sources["max_batch_delay"] == f"{path}: max_batch_delay"
    )
    assert cfg.log_format == "json"
    assert cfg.max_batch_txs == 256 and cfg.sources["max_batch_txs"] == "default"
    cfg = load_config([], env={**env, "L2KIT_CONFIG": path})  # the file named by the env
    assert cfg.port == 9100 and cfg.log_format == "json"


def test_types_from_every_source(tmp_path):
    path = toml(
        tmp_path,
        'metrics = false\nbond = 1_000\nkeyfile = "~/k.json"\nstore = "postgresql://x/y"\n',
    )
    cfg = load_config(
        ["--config", path, "--no-metrics", "--heartbeat", "none"], env={"L2KIT_ZK_DEPTH": "0x6"}
    )
    assert cfg.metrics is False and cfg.bond == 1000 and cfg.zk_depth == 6 and cfg.heartbeat is None
    assert cfg.keyfile == Path.home() / "k.json" and cfg.store == "postgresql://x/y"
    assert load_config(["--metrics"], env={"L2KIT_METRICS": "off"}).metrics is True
    assert load_config([], env={"L2KIT_METRICS": "off"}).metrics is False


@pytest.mark.parametrize(
    ("argv", "env", "file", "needle"),
    [
        (["--port", "eighty"], {}, None, "setting 'port' from --port: 'eighty' is not an integer"),
        (
            [],
            {"L2KIT_PORT": "-1"},
            None,
            "setting 'port' from $L2KIT_PORT: -1 is below the minimum 0",
        ),
        ([], {"L2KIT_MODE": "plasma"}, None, "'plasma' is not one of optimistic, zk"),
        ([], {"L2KIT_MAX_BATCH_DELAY": "nan"}, None, "not a finite number"),
        ([], {"L2KIT_METRICS": "maybe"}, None, "'maybe' is not a boolean"),
        ([], {}, "prot = 1\n", "unknown setting 'prot' (did you mean 'port'?)"),
        ([], {}, 'port = "8547"\n', "setting 'port' from"),
        ([], {}, "bond = true\n", "True is not an integer"),
        ([], {}, "port = [\n", "not valid TOML"),
        (["--prot", "1"], {}, None, "command line: unrecognized arguments: --prot 1"),
    ],
)
def test_bad_settings_are_one_line_naming_setting_and_source(tmp_path, argv, env, file, needle):
    if file is not None:
        argv = [*argv, "--config", toml(tmp_path, file)]
    with pytest.raises(ConfigError) as err:
        load_config(argv, env=env)
    assert needle in str(err.value) and "\n" not in str(err.value), str(err.value)


def test_missing_config_file():
    with pytest.raises(ConfigError, match=r"config file /nonexistent\.toml: cannot read it"):
        load_config(["--config", "/nonexistent.toml"], env={})


def test_docs_list_every_setting():
    doc = (ROOT / "docs" / "operator.md").read_text()
    for f in SETTINGS:
        assert f"`{f.name}`" in doc and f"`{env_name(f.name)}`" in doc, f.name
    assert settings_table() in doc  # the table is the generated one, not a stale copy


def test_cli_prints_settings_table():
    out = subprocess.run(
        [sys.executable, "-m", "offchain.sequencer.config"],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert out.returncode == 0 and "`L2KIT_PORT`" in out.stdout


# -- keys ----------------------------------------------------------------------------------------

KEY = "0x" + "4c" * 32


def test_key_from_environment(monkeypatch):
    monkeypatch.setenv("L2KIT_PROPOSER_KEY", KEY)
    acct = proposer_account(load_config([], env={}))
    assert acct.address == Account.from_key(KEY).address
    monkeypatch.setenv("MY_KEY", "0x1234")
    with pytest.raises(KeyUnavailable, match=r"\$MY_KEY is not a private key"):
        proposer_account(load_config(["--key-env", "MY_KEY"], env={}))


def test_anvil_key_only_on_the_local_chain(monkeypatch):
    monkeypatch.delenv("L2KIT_PROPOSER_KEY", raising=False)
    cfg = load_config([], env={})
    assert proposer_account(cfg, chain_id=31337).address == Account.from_key(ANVIL_KEY_0).address
    with pytest.raises(KeyUnavailable, match="no key"):
        proposer_account(cfg, chain_id=1)


def test_key_from_keyfile_with_passphrase_file(tmp_path, monkeypatch):
    monkeypatch.delenv("L2KIT_KEYFILE_PASSPHRASE", raising=False)
    keyfile = tmp_path / "key.json"
    keyfile.write_text(json.dumps(Account.encrypt(KEY, "s3cret", iterations=2)))
    (tmp_path / "pw").write_text("s3cret\n")
    cfg = load_config(
        ["--keyfile", str(keyfile), "--keyfile-passphrase-file", str(tmp_path / "pw")], env={}
    )
    assert proposer_account(cfg).address == Account.from_key(KEY).address
    (tmp_path / "pw").write_text("wrong\n")
    with pytest.raises(KeyUnavailable, match="wrong passphrase"):
        proposer_account(cfg)
    monkeypatch.setenv("L2KIT_KEYFILE_PASSPHRASE", "s3cret")  # or from the environment
    assert (
        proposer_account(load_config(["--keyfile", str(keyfile)], env={})).address
        == Account.from_key(KEY).address
    )
    with pytest.raises(KeyUnavailable, match="cannot read the keyfile passphrase file"):
        proposer_account(
            load_config(["--keyfile", str(keyfile), "--keyfile-passphrase-file", "/nope"], env={})
        )


def test_key_from_ape_alias(tmp_path, monkeypatch):
    monkeypatch.setenv("APE_DATA_FOLDER", str(tmp_path))
    (tmp_path / "accounts").mkdir()
    (tmp_path / "accounts" / "proposer.json").write_text(
        json.dumps(Account.encrypt(KEY, "pw", iterations=2))
    )
    monkeypatch.setenv("APE_ACCOUNTS_proposer_PASSPHRASE", "pw")
    cfg = load_config(["--account", "proposer"], env={})
    assert proposer_account(cfg).address == Account.from_key(KEY).address
    with pytest.raises(KeyUnavailable, match="no Ape account 'other'"):
        proposer_account(load_config(["--account", "other"], env={}))
    with pytest.raises(KeyUnavailable, match="not both"):
        proposer_account(load_config(["--account", "proposer", "--keyfile", "/k"], env={}))


# -- logs ----------------------------------------------------------------------------------------


def test_json_log_lines_carry_fields_and_tracebacks():
    stream = io.StringIO()
    configure_logging("json", "info", stream)
    try:
        log = logging.getLogger("l2kit.test")
        log.info("posted batch %d", 7, extra={"batch": 7, "l1_tx": "0xab"})
        log.debug("hidden")
        try:
            raise ValueError("boom")
        except ValueError:
            log.exception("it failed")
        lines = [json.loads(x) for x in stream.getvalue().splitlines()]
    finally:
        configure_logging("text", "warning")
    assert len(lines) == 2
    first, second = lines
    assert first["message"] == "posted batch 7" and first["level"] == "info"
    assert first["logger"] == "l2kit.test" and first["batch"] == 7 and first["l1_tx"] == "0xab"
    assert first["time"].endswith("Z") and "T" in first["time"]
    assert second["level"] == "error" and "ValueError: boom" in second["exc"]


def test_text_logs_and_bad_format():
    stream = io.StringIO()
    configure_logging("text", "info", stream)
    try:
        logging.getLogger("l2kit.test").info("hello")
    finally:
        configure_logging("text", "warning")
    assert stream.getvalue().rstrip().endswith("INFO l2kit.test hello")
    with pytest.raises(ValueError, match="not text or json"):
        configure_logging("xml")
