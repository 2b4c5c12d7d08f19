"""Plain helpers shared by the channel tests (imported by module name: no package here)."""

from __future__ import annotations

from support.chain import advance

ETH = "0x0000000000000000000000000000000000000000"
PERIOD = 100


def opened_id(receipt) -> bytes:
    for log in receipt.events:
        if log.event_name == "ChannelOpened":
            return bytes(log.channelId)
    raise AssertionError("no ChannelOpened event")


def warp(chain, seconds: int) -> None:
    """Move the chain's clock forward and mine a block."""
    advance(chain.provider.web3, seconds)


class Clock:
    """Chain-aligned clock for nodes: wall time plus every second the test warped the chain."""

    def __init__(self, chain) -> None:
        import time

        self._time = time.time
        w3 = chain.provider.web3
        self.skew = w3.eth.get_block("latest")["timestamp"] - int(time.time())
        self._chain = chain

    def __call__(self) -> int:
        return int(self._time()) + self.skew

    def warp(self, seconds: int) -> None:
        warp(self._chain, seconds)
        self.skew += seconds
