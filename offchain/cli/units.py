"""Amounts as people type them: ``0.5`` (ether, or whole tokens), ``1.5gwei``, ``1000wei``."""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation, localcontext

from offchain.errors import CliError

_AMOUNT = re.compile(r"^\s*([0-9]+(?:\.[0-9]*)?|\.[0-9]+)\s*([a-zA-Z]*)\s*$")
_ETH_UNITS = {"": 18, "eth": 18, "ether": 18, "gwei": 9, "wei": 0}


class BadAmount(CliError):
    """An amount that does not parse or has more precision than the unit allows."""


def parse_amount(text: str, decimals: int = 18, symbol: str = "ETH") -> int:
    """`text` in base units (wei for ETH). Tokens accept only whole-token decimals or ``wei``."""
    match = _AMOUNT.match(text)
    if not match:
        raise BadAmount(
            f"{text!r} is not an amount: write e.g. 0.5, 1.5gwei or 1000wei (no sign, no commas)"
        )
    number, unit = match.group(1), match.group(2).lower()
    units = _ETH_UNITS if symbol == "ETH" else {"": decimals, symbol.lower(): decimals, "wei": 0}
    if unit not in units:
        raise BadAmount(f"unknown unit {unit!r} in {text!r}: use one of {', '.join(sorted(units))}")
    if len(number) > 80:
        raise BadAmount(f"{text[:20]!r}... is too long to be an amount")
    try:
        with localcontext() as ctx:
            ctx.prec = 120  # exact for every 80-digit input (the default 28 digits would round)
            scaled = Decimal(number).scaleb(units[unit])
    except InvalidOperation:
        raise BadAmount(f"{text!r} is not a number") from None
    if scaled != scaled.to_integral_value():
        raise BadAmount(f"{text!r} has more decimals than the smallest unit of {symbol}")
    return int(scaled)


def format_amount(value: int, decimals: int = 18, symbol: str = "ETH") -> str:
    """`value` base units as a decimal with its symbol, exact (no rounding)."""
    whole, frac = divmod(abs(value), 10**decimals)
    text = str(whole)
    if frac:
        text += "." + str(frac).rjust(decimals, "0").rstrip("0")
    return f"{'-' if value < 0 else ''}{text} {symbol}"
