"""Where the CLI's signing key comes from: an Ape account, a keyfile, or an environment variable.

* ``--account ALIAS``: Ape's keyfile ``$APE_DATA_FOLDER/accounts/ALIAS.json`` (default
  ``~/.ape``), unlocked with ``APE_ACCOUNTS_ALIAS_PASSPHRASE`` or a hidden prompt, exactly as Ape
  itself unlocks it. The file is an Ethereum v3 keystore, read here without importing Ape.
* ``--keyfile PATH``: any v3 keystore, unlocked with ``L2KIT_KEYFILE_PASSPHRASE`` or a prompt.
* ``--key-env NAME`` (default ``L2KIT_KEY``): a raw hex private key in an environment variable,
  for scripts and CI. A key is never accepted on the command line (it would land in the shell
  history and in ``ps``).
"""

from __future__ import annotations

import json
import os
import re
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from eth_account import Account as EthAccount
from eth_account.signers.local import LocalAccount

from offchain.errors import CliError

DEFAULT_KEY_ENV = "L2KIT_KEY"
KEYFILE_PASSPHRASE_ENV = "L2KIT_KEYFILE_PASSPHRASE"
_HEX_KEY = re.compile(r"^(0x)?[0-9a-fA-F]{64}$")
SECP256K1_N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141

Prompt = Callable[[str], str]


class KeyUnavailable(CliError):
    """No usable key: the message says which source failed and how to fix it."""


@dataclass(frozen=True)
class KeySource:
    """Which of the three sources to use (at most one of alias / keyfile)."""

    alias: str | None = None
    keyfile: Path | None = None
    key_env: str = DEFAULT_KEY_ENV

    def describe(self) -> str:
        if self.alias:
            return f"Ape account {self.alias!r}"
        if self.keyfile:
            return f"keyfile {self.keyfile}"
        return f"${self.key_env}"


def ape_accounts_dir() -> Path:
    base = os.environ.get("APE_DATA_FOLDER")
    return (Path(base) if base else Path.home() / ".ape") / "accounts"


def parse_private_key(text: str, where: str) -> bytes:
    """A 32-byte secp256k1 private key from hex, or a one-line error naming `where`."""
    text = text.strip()
    if not _HEX_KEY.match(text):
        raise KeyUnavailable(f"{where} is not a private key: expected 64 hex digits (0x optional)")
    key = bytes.fromhex(text.removeprefix("0x"))
    if not 0 < int.from_bytes(key, "big") < SECP256K1_N:
        raise KeyUnavailable(f"{where} is out of the secp256k1 key range: it is not a valid key")
    return key


def _decrypt(path: Path, passphrase: str, what: str) -> bytes:
    try:
        keystore = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise KeyUnavailable(f"cannot read {what} at {path}: {exc}") from None
    try:
        return bytes(EthAccount.decrypt(keystore, passphrase))
    except ValueError:
        raise KeyUnavailable(
            f"wrong passphrase for {what}: check it (or its env variable)"
        ) from None
    except (KeyError, TypeError) as exc:
        raise KeyUnavailable(f"{what} at {path} is not a v3 keystore ({exc})") from None


def _passphrase(env_name: str, what: str, prompt: Prompt | None) -> str:
    value = os.environ.get(env_name)
    if value:
        return value
    if prompt is None or not sys.stdin.isatty():
        raise KeyUnavailable(
            f"{what} is locked: set {env_name} to its passphrase (no terminal to ask)"
        )
    return prompt(f"Passphrase for {what}")


def load_key(
    source: KeySource, prompt: Prompt | None = None, passphrase: str | None = None
) -> LocalAccount:
    """The signing account of `source`; `prompt` asks for a passphrase when stdin is a TTY.
    `passphrase` (a keyfile's, e.g. read from a file) is used instead of the env or prompt."""
    if source.alias and source.keyfile:
        raise KeyUnavailable("pass either --account or --keyfile, not both")
    if source.alias:
        path = ape_accounts_dir() / f"{source.alias}.json"
        what = f"Ape account {source.alias!r}"
        if not path.is_file():
            known = sorted(p.stem for p in path.parent.glob("*.json"))
            hint = f"known: {', '.join(known)}" if known else "none imported"
            raise KeyUnavailable(
                f"no Ape account {source.alias!r} in {path.parent} ({hint}): "
                f"import it with `ape accounts import {source.alias}`"
            )
        env = f"APE_ACCOUNTS_{source.alias}_PASSPHRASE"
        return EthAccount.from_key(_decrypt(path, _passphrase(env, what, prompt), what))
    if source.keyfile:
        what = f"keyfile {source.keyfile}"
        if not source.keyfile.is_file():
            raise KeyUnavailable(f"no keyfile at {source.keyfile}: check the path")
        if passphrase is None:
            passphrase = _passphrase(KEYFILE_PASSPHRASE_ENV, what, prompt)
        return EthAccount.from_key(_decrypt(source.keyfile, passphrase, what))
    raw = os.environ.get(source.key_env)
    if not raw:
        raise KeyUnavailable(
            f"no key: pass --account <ape alias> or --keyfile <path>, or set ${source.key_env} "
            "to a private key"
        )
    return EthAccount.from_key(parse_private_key(raw, f"${source.key_env}"))
