"""Anvil's clock: move it forward by a number of seconds and mine."""

from __future__ import annotations

from typing import Any


def advance(w3: Any, seconds: int) -> None:
    """Add `seconds` to the node's clock and mine a block (`evm_increaseTime` + `evm_mine`)."""
    w3.provider.make_request("evm_increaseTime", [seconds])
    w3.provider.make_request("evm_mine", [])


def latest_timestamp(w3: Any) -> int:
    """The timestamp of the latest block."""
    return int(w3.eth.get_block("latest")["timestamp"])


def mine_after(w3: Any, seconds: int) -> None:
    """Mine one block exactly `seconds` after the latest one.

    Relative to the latest block rather than to the wall clock (`advance`), so a slow machine
    cannot add a second between the last transaction and this block."""
    w3.provider.make_request("evm_mine", [latest_timestamp(w3) + seconds])
