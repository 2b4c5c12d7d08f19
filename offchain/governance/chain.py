"""Chain access for governance (the I/O edge): read the timelock's events and parameters.

Everything this reads is decided by the pure `watch.changes`; the scripts send transactions
through Ape and use this only to look.
"""

from __future__ import annotations

from dataclasses import dataclass

from eth_utils import to_checksum_address
from web3 import Web3

from offchain.chain import _contract_types, abi_of
from offchain.governance.calls import signature_table
from offchain.governance.watch import (
    Cancelled,
    Event,
    Executed,
    Salt,
    Scheduled,
    ScheduledChange,
    changes,
)

LOG_CHUNK = 10_000  # blocks per eth_getLogs request


@dataclass(frozen=True)
class TimelockReport:
    """The timelock's parameters and every operation it ever saw, as of block `block`."""

    block: int
    now: int
    min_delay: int
    exit_time: int
    margin: int
    changes: list[ScheduledChange]


def project_signatures() -> dict[bytes, str]:
    """selector -> signature for every function of every compiled l2kit contract."""
    sigs = set()
    for ct in _contract_types_all().values():
        for item in ct.get("abi", []):
            if item.get("type") == "function":
                types = ",".join(_canonical(i) for i in item.get("inputs", []))
                sigs.add(f"{item['name']}({types})")
    table: dict[bytes, str] = {}
    for sel, sig in signature_table(sorted(sigs)).items():
        table.setdefault(sel, sig)
    return table


def _contract_types_all() -> dict:
    from offchain.chain import BUILD_MANIFEST

    return _contract_types(BUILD_MANIFEST)


def _canonical(param: dict) -> str:
    t = param["type"]
    if t.startswith("tuple"):
        inner = ",".join(_canonical(c) for c in param.get("components", []))
        return f"({inner}){t[5:]}"
    return t


class TimelockReader:
    """Reads an ExitWindowTimelock through web3."""

    def __init__(self, w3: Web3, address: str) -> None:
        self.w3 = w3
        self.timelock = w3.eth.contract(
            address=to_checksum_address(address), abi=abi_of("ExitWindowTimelock")
        )
        #: What `follow` has read so far: events up to `_seen_block`, and the selector table.
        self._seen_events: list[Event] = []
        self._seen_block = -1
        self._known: dict[bytes, str] | None = None

    def events(self, from_block: int = 0, to_block: int | None = None) -> list[Event]:
        """CallScheduled / CallExecuted / Cancelled / CallSalt in log order."""
        last = self.w3.eth.block_number if to_block is None else to_block
        found: list[tuple[tuple[int, int], Event]] = []
        times: dict[int, int] = {}
        kinds = {
            "CallScheduled": self.timelock.events.CallScheduled,
            "CallExecuted": self.timelock.events.CallExecuted,
            "Cancelled": self.timelock.events.Cancelled,
            "CallSalt": self.timelock.events.CallSalt,
        }
        for start in range(from_block, last + 1, LOG_CHUNK):
            end = min(start + LOG_CHUNK - 1, last)
            for name, ev in kinds.items():
                for log in ev.get_logs(from_block=start, to_block=end):
                    key = (log["blockNumber"], log["logIndex"])
                    a = log["args"]
                    if name == "CallScheduled":
                        bn = log["blockNumber"]
                        if bn not in times:
                            times[bn] = self.w3.eth.get_block(bn)["timestamp"]
                        item: Event = Scheduled(
                            bytes(a["id"]),
                            a["index"],
                            a["target"],
                            a["value"],
                            bytes(a["data"]),
                            bytes(a["predecessor"]),
                            a["delay"],
                            times[bn],
                        )
                    elif name == "CallExecuted":
                        item = Executed(bytes(a["id"]), a["index"])
                    elif name == "Cancelled":
                        item = Cancelled(bytes(a["id"]))
                    else:
                        item = Salt(bytes(a["id"]), bytes(a["salt"]))
                    found.append((key, item))
        found.sort(key=lambda kv: kv[0])
        return [e for _, e in found]

    def follow(self) -> TimelockReport:
        """`report()` from block 0, reading only the blocks since the previous call (the
        validator calls it on every check)."""
        block = self.w3.eth.get_block("latest")
        start = self._seen_block + 1
        if block["number"] >= start:
            self._seen_events += self.events(start, block["number"])
        self._seen_block = block["number"]
        if self._known is None:
            self._known = project_signatures()
        f = self.timelock.functions
        margin = f.margin().call()
        exit_time = f.delayFloor().call() - margin
        return TimelockReport(
            block=block["number"],
            now=block["timestamp"],
            min_delay=f.getMinDelay().call(),
            exit_time=exit_time,
            margin=margin,
            changes=changes(self._seen_events, block["timestamp"], exit_time, self._known),
        )

    def report(self, from_block: int = 0) -> TimelockReport:
        """Parameters and decoded changes at the latest block."""
        block = self.w3.eth.get_block("latest")
        f = self.timelock.functions
        margin = f.margin().call()
        exit_time = f.delayFloor().call() - margin
        evs = self.events(from_block, block["number"])
        return TimelockReport(
            block=block["number"],
            now=block["timestamp"],
            min_delay=f.getMinDelay().call(),
            exit_time=exit_time,
            margin=margin,
            changes=changes(evs, block["timestamp"], exit_time, project_signatures()),
        )
