"""Pure parts of the CLI: amounts, RPC redaction, key sources (no chain needed)."""

from __future__ import annotations

import json

import pytest
from eth_account import Account as EthAccount
from hypothesis import given
from hypothesis import strategies as st

from offchain.cli.keys import KeySource, KeyUnavailable, load_key, parse_private_key
from offchain.cli.output import render_table
from offchain.cli.units import BadAmount, format_amount, parse_amount
from offchain.rpc_url import is_local_rpc, redact_rpc, rpc_for_deployment_file

KEY = "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d"


@pytest.mark.parametrize(
    "text,wei",
    [
        ("1", 10**18),
        ("0.5", 5 * 10**17),
        (".25", 25 * 10**16),
        ("1.5gwei", 1_500_000_000),
        ("1000wei", 1000),
        ("2 ETH", 2 * 10**18),
        ("0", 0),
    ],
)
def test_amounts_parse_exactly(text, wei):
    assert parse_amount(text) == wei


@pytest.mark.parametrize("text", ["", "-1", "1,5", "1e18", "0x10", "1.5wei", "1 btc", "1..2"])
def test_malformed_amounts_are_refused(text):
    with pytest.raises(BadAmount):
        parse_amount(text)


def test_token_amounts_use_the_token_decimals():
    assert parse_amount("1.5", 6, "DUSD") == 1_500_000
    assert parse_amount("1.5dusd", 6, "DUSD") == 1_500_000
    with pytest.raises(BadAmount, match="more decimals"):
        parse_amount("0.0000001", 6, "DUSD")
    with pytest.raises(BadAmount, match="unknown unit"):
        parse_amount("1gwei", 6, "DUSD")


@given(st.integers(min_value=0, max_value=2**128), st.sampled_from([0, 6, 18]))
def test_format_then_parse_is_the_identity(value, decimals):
    text = format_amount(value, decimals, "ETH" if decimals == 18 else "TOK")
    number, symbol = text.split()
    assert parse_amount(number, decimals, symbol) == value


@pytest.mark.parametrize(
    "url,clean",
    [
        (
            "https://mainnet.infura.io/v3/0123456789abcdef0123456789abcdef",
            "https://mainnet.infura.io/v3",
        ),
        (
            "https://eth-sepolia.g.alchemy.com/v2/AbCdEfGhIjKlMnOpQrStUvWxYz012345",
            "https://eth-sepolia.g.alchemy.com/v2",
        ),
        (
            "https://user:secret@rpc.example.org:8443/path?apikey=XYZ#frag",
            "https://rpc.example.org:8443/path",
        ),
        ("http://127.0.0.1:8545", "http://127.0.0.1:8545"),
        ("https://rpc.sepolia.org", "https://rpc.sepolia.org"),
    ],
)
def test_rpc_redaction_drops_every_credential(url, clean):
    assert redact_rpc(url) == clean


def test_deployment_files_keep_only_local_rpc():
    assert is_local_rpc("http://localhost:8545") and not is_local_rpc("https://rpc.sepolia.org")
    assert rpc_for_deployment_file("http://u:p@127.0.0.1:8545/?k=1") == "http://127.0.0.1:8545/"
    assert rpc_for_deployment_file("https://sepolia.infura.io/v3/abc") == ""


def test_private_key_parsing():
    assert parse_private_key(KEY, "x") == bytes.fromhex(KEY[2:])
    for bad in ("0x1234", "zz" * 32, "0x" + "00" * 32):
        with pytest.raises(KeyUnavailable):
            parse_private_key(bad, "$K")


def write_keystore(path, passphrase="pw"):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(EthAccount.encrypt(KEY, passphrase, iterations=2**10)))


def test_ape_account_unlocks_with_its_passphrase_variable(tmp_path, monkeypatch):
    write_keystore(tmp_path / "accounts" / "alice.json")
    monkeypatch.setenv("APE_DATA_FOLDER", str(tmp_path))
    monkeypatch.setenv("APE_ACCOUNTS_alice_PASSPHRASE", "pw")
    assert load_key(KeySource(alias="alice")).address == EthAccount.from_key(KEY).address
    monkeypatch.setenv("APE_ACCOUNTS_alice_PASSPHRASE", "wrong")
    with pytest.raises(KeyUnavailable, match="wrong passphrase"):
        load_key(KeySource(alias="alice"))
    with pytest.raises(KeyUnavailable, match=r"no Ape account 'bob'.*known: alice"):
        load_key(KeySource(alias="bob"))


def test_locked_account_without_terminal_names_the_variable(tmp_path, monkeypatch):
    write_keystore(tmp_path / "accounts" / "alice.json")
    monkeypatch.setenv("APE_DATA_FOLDER", str(tmp_path))
    monkeypatch.delenv("APE_ACCOUNTS_alice_PASSPHRASE", raising=False)
    with pytest.raises(KeyUnavailable, match="set APE_ACCOUNTS_alice_PASSPHRASE"):
        load_key(KeySource(alias="alice"), prompt=lambda _: "pw")


def test_keyfile_and_env_key(tmp_path, monkeypatch):
    write_keystore(tmp_path / "k.json", "s3")
    monkeypatch.setenv("L2KIT_KEYFILE_PASSPHRASE", "s3")
    assert load_key(KeySource(keyfile=tmp_path / "k.json")).key.hex() == KEY[2:]
    monkeypatch.setenv("MY_KEY", KEY)
    assert load_key(KeySource(key_env="MY_KEY")).key.hex() == KEY[2:]
    with pytest.raises(KeyUnavailable, match="not both"):
        load_key(KeySource(alias="a", keyfile=tmp_path / "k.json"))
    monkeypatch.delenv("L2KIT_KEY", raising=False)
    with pytest.raises(KeyUnavailable, match="no key"):
        load_key(KeySource())


def test_tables_align_columns():
    text = render_table([{"a": 1, "bb": "x"}, {"a": 22, "bb": None}])
    assert text.splitlines() == ["a   bb", "1   x", "22  -"]
