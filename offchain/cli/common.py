"""Helpers shared by the command groups: tokens, L2 account lookup, argument types."""

from __future__ import annotations

from dataclasses import dataclass

import click
from eth_typing import ChecksumAddress
from web3 import Web3

from offchain.errors import L2KitError
from offchain.sequencer.client import AccountInfo

from .session import Session
from .units import BadAmount, format_amount, parse_amount

ETH = "0x0000000000000000000000000000000000000000"


@dataclass(frozen=True)
class Token:
    address: str
    symbol: str
    decimals: int

    @property
    def is_eth(self) -> bool:
        return int(self.address, 16) == 0

    def parse(self, text: str) -> int:
        return parse_amount(text, self.decimals, self.symbol)

    def show(self, value: int) -> str:
        return format_amount(value, self.decimals, self.symbol)


ETH_TOKEN = Token(ETH, "ETH", 18)


def resolve_token(s: Session, name: str) -> Token:
    """``ETH``, a contract name of the deployment (``DemoToken``) or an ERC-20 address."""
    if name.upper() == "ETH":
        return ETH_TOKEN
    if Web3.is_address(name):
        address = Web3.to_checksum_address(name)
    elif name in s.deployment.contracts:
        address = s.deployment.address(name)
    else:
        raise L2KitError(
            f"unknown token {name!r}: use ETH, an ERC-20 address, or one of the deployment's "
            f"contracts ({', '.join(sorted(s.deployment.contracts))})"
        )
    if not s.w3.eth.get_code(address):
        raise L2KitError(f"no contract at {address} on {s.opts.network}: is the token right?")
    erc20 = s.erc20(address)
    try:
        return Token(address, erc20.functions.symbol().call(), erc20.functions.decimals().call())
    except Exception:
        raise L2KitError(f"{address} does not answer symbol()/decimals(): not an ERC-20") from None


def parse_value(token: Token, text: str) -> int:
    value = token.parse(text)
    if value <= 0:
        raise BadAmount(f"the amount must be positive, got {text!r}")
    return value


def checked_address(text: str, what: str = "address") -> ChecksumAddress:
    if not Web3.is_address(text):
        raise L2KitError(f"{text!r} is not an Ethereum {what}: expected 0x and 40 hex digits")
    return Web3.to_checksum_address(text)


def l2_account_of(s: Session, owner: str, token: Token) -> AccountInfo:
    """The L2 account of `owner` for `token`, as the batcher sees it (pending state)."""
    for index in s.batcher.accounts_of(owner):
        info = s.batcher.account(index)
        if int(info.token, 16) == int(token.address, 16):
            return info
    raise L2KitError(
        f"{owner} has no L2 {token.symbol} account yet: deposit first "
        f"(`l2kit rollup deposit <amount>`) and wait for the batcher to include it"
    )


token_option = click.option(
    "--token", default="ETH", show_default=True, help="ETH, a deployment contract name or address."
)
