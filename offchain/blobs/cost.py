"""Calldata or blobs: the pure cost model behind the batcher's auto mode (docs/blobs.md, "Cost").

Like op-batcher's auto mode, it compares what the same batch costs as calldata and as blobs at
the current fees, and picks the cheaper. Calldata gas follows EIP-7623 (Prague): a transaction
pays max(21,000 + 4 * tokens + execution, 21,000 + 10 * tokens) where tokens = zero bytes +
4 * non-zero bytes, so calldata pays at least 10 gas per zero byte and 40 per non-zero byte.
Blob mode pays the blob gas (131,072 per blob, at the blob base fee) plus its own small calldata.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from .errors import BlobError

TX_BASE_GAS = 21_000
STANDARD_TOKEN_COST = 4  # EIP-2028: 4 per zero byte, 16 per non-zero byte = 4 per token
TOTAL_COST_FLOOR_PER_TOKEN = 10  # EIP-7623
GAS_PER_BLOB = 131_072  # 2**17, EIP-4844


class PostingMode(Enum):
    """Where a batch's data goes."""

    CALLDATA = "calldata"
    BLOBS = "blobs"


@dataclass(frozen=True)
class ModeCosts:
    """Both costs in wei, the chosen mode, and the gas figures they came from."""

    mode: PostingMode
    calldata_wei: int
    blobs_wei: int
    calldata_gas: int
    blob_tx_gas: int
    blob_gas: int


def calldata_tokens(data: bytes) -> int:
    """EIP-7623 tokens: one per zero byte, four per non-zero byte."""
    zeros = data.count(0)
    return zeros + 4 * (len(data) - zeros)


def tx_gas(data: bytes, execution_gas: int) -> int:
    """Gas a transaction with this calldata and EVM execution gas uses (EIP-7623 floor)."""
    if execution_gas < 0:
        raise BlobError(f"execution gas {execution_gas} is negative")
    tokens = calldata_tokens(data)
    standard = TX_BASE_GAS + STANDARD_TOKEN_COST * tokens + execution_gas
    floor = TX_BASE_GAS + TOTAL_COST_FLOOR_PER_TOKEN * tokens
    return max(standard, floor)


def choose_mode(
    calldata: bytes,
    blob_count: int,
    base_fee: int,
    blob_base_fee: int,
    *,
    priority_fee: int = 0,
    calldata_execution_gas: int = 0,
    blob_calldata: bytes = b"",
    blob_execution_gas: int = 0,
) -> ModeCosts:
    """Pick calldata or blobs for one batch at the given fees (all in wei per gas).

    ``calldata``: the transaction input in calldata mode (the batch bytes and the call);
    ``blob_count``: blobs the batch takes in blob mode; ``blob_calldata``: that mode's input
    (the call without the batch bytes); the execution gases are the EVM gas of each call.
    Blobs win only when strictly cheaper: on a tie the batch stays in calldata, which needs no
    beacon node to read back.
    """
    if blob_count < 1:
        raise BlobError(f"blob count {blob_count} must be at least 1")
    if min(base_fee, blob_base_fee, priority_fee) < 0:
        raise BlobError("fees must not be negative")
    gas_price = base_fee + priority_fee
    calldata_gas = tx_gas(calldata, calldata_execution_gas)
    blob_tx_gas = tx_gas(blob_calldata, blob_execution_gas)
    blob_gas = GAS_PER_BLOB * blob_count
    calldata_wei = calldata_gas * gas_price
    blobs_wei = blob_tx_gas * gas_price + blob_gas * blob_base_fee
    mode = PostingMode.BLOBS if blobs_wei < calldata_wei else PostingMode.CALLDATA
    return ModeCosts(mode, calldata_wei, blobs_wei, calldata_gas, blob_tx_gas, blob_gas)
