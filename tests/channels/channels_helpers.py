"""Plain helpers shared by the channel tests (imported by module name: no package here)."""

from __future__ import annotations

ETH = "0x0000000000000000000000000000000000000000"
PERIOD = 100


def opened_id(receipt) -> bytes:
    for log in receipt.events:
        if log.event_name == "ChannelOpened":
            return bytes(log.channelId)
    raise AssertionError("no ChannelOpened event")


def warp(chain, seconds: int) -> None:
    """Move the chain's clock forward and mine a block."""
    chain.provider.web3.provider.make_request("evm_increaseTime", [seconds])
    chain.provider.web3.provider.make_request("evm_mine", [])
