"""Constants of the forced-inclusion tests (imported as `forced_helpers`); the Env bundle and the
recipient encoding come from the shared `support` package."""

from __future__ import annotations

from support.keys import address_recipient as recipient
from support.rollup_env import ETH, VALIDATOR_ACCOUNT, Env

__all__ = ["ETH", "Env", "recipient"]  # the shared ones, re-exported

BOND = 10**18
CHALLENGE = 100
FORCED_DELAY = 300
LIVENESS = 1000
CHEATER = 4
CHALLENGER = VALIDATOR_ACCOUNT
