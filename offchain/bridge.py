"""Typed access to the L1 bridge: its deposit queue, read from events and checked link by link."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from eth_abi import decode as abi_decode
from eth_utils import keccak, to_canonical_address, to_checksum_address
from web3 import Web3
from web3.types import LogReceipt

from offchain.errors import BridgeError

ETH = "0x0000000000000000000000000000000000000000"
ZERO_ACCUMULATOR = b"\x00" * 32
DEPOSIT_QUEUED_TOPIC = keccak(text="DepositQueued(uint256,address,address,uint256,bytes,bytes32)")
WITHDRAWAL_RELEASED_TOPIC = keccak(text="WithdrawalReleased(bytes32,address,address,uint256)")
CLAIMED_TOPIC = keccak(text="Claimed(address,address,address,uint256)")


class DepositQueueBroken(BridgeError):
    """The events read do not form an unbroken queue (missing logs or a reorg mid-read)."""


@dataclass(frozen=True)
class Deposit:
    """One entry of the bridge's deposit queue, as the operator must credit it on L2."""

    index: int
    depositor: str
    token: str
    amount: int
    recipient: bytes
    accumulator: bytes
    block_number: int = 0
    tx_hash: str = ""


def next_accumulator(prev: bytes, token: str, amount: int, recipient: bytes) -> bytes:
    """The queue accumulator after one more deposit, exactly as L1Bridge computes it."""
    if len(prev) != 32:
        raise ValueError("an accumulator is 32 bytes")
    return keccak(prev + to_canonical_address(token) + amount.to_bytes(32, "big") + recipient)


def decode_deposit_log(log: Mapping[str, Any]) -> Deposit:
    """Turn one raw `DepositQueued` log (as returned by eth_getLogs) into a Deposit."""
    topics = [bytes(t) for t in log["topics"]]
    if not topics or topics[0] != DEPOSIT_QUEUED_TOPIC:
        raise ValueError("not a DepositQueued log")
    amount, recipient, accumulator = abi_decode(["uint256", "bytes", "bytes32"], bytes(log["data"]))
    tx_hash = log.get("transactionHash", b"")
    return Deposit(
        index=int.from_bytes(topics[1], "big"),
        depositor=to_checksum_address(topics[2][12:]),
        token=to_checksum_address(topics[3][12:]),
        amount=amount,
        recipient=bytes(recipient),
        accumulator=bytes(accumulator),
        block_number=int(log.get("blockNumber", 0)),
        tx_hash=Web3.to_hex(tx_hash) if tx_hash else "",
    )


def verify_queue(
    deposits: Iterable[Deposit], start_accumulator: bytes = ZERO_ACCUMULATOR, start_index: int = 0
) -> None:
    """Check deposits are consecutive from `start_index` and each accumulator links to the last.

    Raises DepositQueueBroken naming the first bad entry.
    """
    acc, expected = start_accumulator, start_index
    for d in deposits:
        if d.index != expected:
            raise DepositQueueBroken(
                f"deposit {expected} is missing (got {d.index}): re-read the logs from that block"
            )
        acc = next_accumulator(acc, d.token, d.amount, d.recipient)
        if acc != d.accumulator:
            raise DepositQueueBroken(
                f"deposit {d.index} does not link to the previous accumulator: the log is not "
                "from this bridge or the chain reorganised; re-read from an earlier block"
            )
        expected += 1


def read_deposits(
    w3: Web3,
    bridge_address: str,
    from_block: int = 0,
    to_block: int | str = "latest",
    chunk: int = 10_000,
) -> list[Deposit]:
    """Read `DepositQueued` events of a bridge in queue order, in block chunks.

    When reading from the start (`from_block == 0`) the whole queue is verified against the
    accumulators; otherwise the caller verifies with `verify_queue` from its own last accumulator.
    """
    address = to_checksum_address(bridge_address)
    last = w3.eth.block_number if to_block == "latest" else int(to_block)
    logs: list[LogReceipt] = []
    start = from_block
    while start <= last:
        end = min(start + chunk - 1, last)
        logs.extend(
            w3.eth.get_logs(
                {
                    "address": address,
                    "fromBlock": start,
                    "toBlock": end,
                    "topics": [Web3.to_hex(DEPOSIT_QUEUED_TOPIC)],
                }
            )
        )
        start = end + 1
    deposits = sorted((decode_deposit_log(log) for log in logs), key=lambda d: d.index)
    if from_block == 0:
        verify_queue(deposits)
    return deposits
