"""The proposer's signing key from the sequencer's settings: an Ape account alias, a keyfile, or
an environment variable -- through offchain/cli/keys.py, the loader the CLI uses.

* `account` (an Ape alias): passphrase from `$APE_ACCOUNTS_<alias>_PASSPHRASE` or a prompt;
* `keyfile` (a v3 keystore): passphrase from `keyfile_passphrase_file`, else
  `$L2KIT_KEYFILE_PASSPHRASE`, else a prompt;
* otherwise the hex key in `$<key_env>` (default `$L2KIT_PROPOSER_KEY`); on a local Anvil chain
  (id 31337) only, Anvil's first test key when that variable is unset.
"""

from __future__ import annotations

import os

from eth_account.signers.local import LocalAccount

from offchain.cli.keys import KeySource, KeyUnavailable, Prompt, load_key
from offchain.sequencer.config import SequencerConfig

ANVIL_CHAIN_ID = 31337
#: Anvil's first well-known test key: used only on chain 31337 when no key is configured.
ANVIL_KEY_0 = "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80"


def proposer_account(
    config: SequencerConfig, chain_id: int | None = None, prompt: Prompt | None = None
) -> LocalAccount:
    """The proposer's account, or KeyUnavailable saying which source failed and what to do."""
    if config.account and config.keyfile:
        raise KeyUnavailable("set either account or keyfile for the proposer key, not both")
    passphrase = None
    if config.keyfile_passphrase_file is not None:
        if not config.keyfile:
            raise KeyUnavailable("keyfile_passphrase_file is set but no keyfile is")
        try:
            passphrase = config.keyfile_passphrase_file.read_text().rstrip("\r\n")
        except OSError as exc:
            raise KeyUnavailable(
                f"cannot read the keyfile passphrase file {config.keyfile_passphrase_file}: "
                f"{exc.strerror}"
            ) from None
    source = KeySource(alias=config.account, keyfile=config.keyfile, key_env=config.key_env)
    if (
        not config.account
        and not config.keyfile
        and not os.environ.get(config.key_env)
        and chain_id == ANVIL_CHAIN_ID
    ):
        from eth_account import Account

        return Account.from_key(ANVIL_KEY_0)
    return load_key(source, prompt, passphrase=passphrase)
