"""Ape accounts that sign without prompts, for `ape run deploy --yes` and `ape run exit --yes`.

Ape's keyfile accounts ask "Sign:" before every transaction and abort without a terminal, even
when ``APE_ACCOUNTS_<alias>_PASSPHRASE`` unlocks them. With ``--yes`` the scripts switch the
account to autosign (unlocked with that passphrase); without ``--yes`` and without a terminal
they stop before the first transaction with one line that says so, instead of aborting midway.
"""

from __future__ import annotations

import os
import sys

import click


def passphrase_env(alias: str) -> str:
    return f"APE_ACCOUNTS_{alias}_PASSPHRASE"


def prepare_signer(account, alias: str | None, yes: bool):
    """Make `account` (loaded from `alias`; None for a test account) sign as the flags say."""
    if alias is None:  # Ape's test accounts never prompt
        return account
    if yes:
        passphrase = os.environ.get(passphrase_env(alias))
        if not passphrase and not sys.stdin.isatty():
            raise click.UsageError(
                f"--yes without a terminal needs the passphrase of {alias!r} in "
                f"{passphrase_env(alias)}"
            )
        account.set_autosign(True, passphrase=passphrase)
        return account
    if not sys.stdin.isatty():
        raise click.UsageError(
            f"no terminal to confirm each transaction of {alias!r}: pass --yes (with "
            f"{passphrase_env(alias)} set) to sign without prompts"
        )
    return account
