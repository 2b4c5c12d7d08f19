"""Pure model of OpenZeppelin TimelockController operations, as l2kit's ExitWindowTimelock uses.

Operation id (TimelockController.hashOperation / hashOperationBatch):
    single: keccak256(abi.encode(address target, uint256 value, bytes data,
                                 bytes32 predecessor, bytes32 salt))
    batch:  keccak256(abi.encode(address[] targets, uint256[] values, bytes[] payloads,
                                 bytes32 predecessor, bytes32 salt))
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from eth_abi import encode
from eth_utils import keccak, to_checksum_address

ZERO32 = b"\x00" * 32


@dataclass(frozen=True)
class Call:
    """One call of an operation."""

    target: str
    value: int
    data: bytes


def operation_id(
    calls: Sequence[Call], predecessor: bytes = ZERO32, salt: bytes = ZERO32, batch: bool = False
) -> bytes:
    """The id the timelock gives an operation: `schedule` hashing for one call unless `batch`
    (scheduleBatch, which hashes even a single call as a batch)."""
    if len(calls) == 1 and not batch:
        c = calls[0]
        body = encode(
            ["address", "uint256", "bytes", "bytes32", "bytes32"],
            [to_checksum_address(c.target), c.value, c.data, predecessor, salt],
        )
        return keccak(body)
    return batch_operation_id(calls, predecessor, salt)


def batch_operation_id(
    calls: Sequence[Call], predecessor: bytes = ZERO32, salt: bytes = ZERO32
) -> bytes:
    """hashOperationBatch over the calls."""
    body = encode(
        ["address[]", "uint256[]", "bytes[]", "bytes32", "bytes32"],
        [
            [to_checksum_address(c.target) for c in calls],
            [c.value for c in calls],
            [c.data for c in calls],
            predecessor,
            salt,
        ],
    )
    return keccak(body)
