"""Build, sign and send type-3 (blob) transactions (docs/blobs.md, "Sending").

Fees come from the chain at send time, never from constants: ``maxFeePerGas`` from the latest
block's base fee, ``maxFeePerBlobGas`` from ``eth_blobBaseFee``, the gas limit from
``eth_estimateGas`` of the call with its blob versioned hashes. The fee arithmetic is pure
(:func:`blob_fees`); the functions that take a ``Web3`` are the I/O edge.

eth-account signs the transaction body (with its ``blobVersionedHashes``); this module builds
the network wrapper itself, with commitments and proofs from :mod:`kzg` (whose trusted setup is
loaded once per process): the EIP-4844 form ``0x03 || rlp([tx, blobs, commitments, blob_proofs])``
(Prague) or the EIP-7594 version-1 form ``0x03 || rlp([tx, 1, blobs, commitments, cell_proofs])``
(Osaka). eth-account 0.13.7 can build only the first, and reloads the 4-second trusted setup for
every commitment and proof it computes (about 11 s per signed blob transaction here), which is why
it is given no blobs. The signature and the transaction hash cover only ``tx``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, cast

import rlp
from eth_account.signers.local import LocalAccount
from web3 import Web3
from web3.types import TxParams

from . import kzg
from .encoding import MAX_BLOBS_PER_PAYLOAD
from .errors import BlobError

BLOB_TX_TYPE = 3
WRAPPER_VERSION_CELL_PROOFS = 1


@dataclass(frozen=True)
class BlobFees:
    """The three fee fields of a type-3 transaction, in wei."""

    max_fee_per_gas: int
    max_priority_fee_per_gas: int
    max_fee_per_blob_gas: int


def blob_fees(base_fee: int, blob_base_fee: int, priority_fee: int, margin: int = 2) -> BlobFees:
    """Fee caps that survive ``margin``-fold base fee rises (the fees paid stay the real ones)."""
    if margin < 1:
        raise BlobError(f"fee margin {margin} must be at least 1")
    return BlobFees(
        max_fee_per_gas=base_fee * margin + priority_fee,
        max_priority_fee_per_gas=priority_fee,
        max_fee_per_blob_gas=max(1, blob_base_fee * margin),
    )


@dataclass(frozen=True)
class SignedBlobTx:
    """A signed blob transaction: its hash, versioned hashes and the bytes to broadcast."""

    tx_hash: bytes
    versioned_hashes: tuple[bytes, ...]
    raw: bytes


def current_fees(w3: Web3, margin: int = 2) -> BlobFees:
    """Read the base fee, blob base fee and suggested tip from the node."""
    base_fee = int(w3.eth.get_block("latest")["baseFeePerGas"])
    blob_base_fee = int(w3.eth.blob_base_fee)
    priority = int(w3.eth.max_priority_fee)
    return blob_fees(base_fee, blob_base_fee, priority, margin)


def build_blob_tx(
    w3: Web3,
    account: LocalAccount,
    to: str,
    data: bytes,
    blobs: Sequence[bytes],
    *,
    nonce: int | None = None,
    margin: int = 2,
    cell_proofs: bool = False,
) -> SignedBlobTx:
    """Sign a call to ``to`` carrying ``blobs``; gas estimated with the blobs' versioned hashes.

    ``cell_proofs``: wrap for Osaka (EIP-7594 version 1) instead of the EIP-4844 form.
    """
    if not 1 <= len(blobs) <= MAX_BLOBS_PER_PAYLOAD:
        raise BlobError(f"{len(blobs)} blobs: a transaction carries 1 to {MAX_BLOBS_PER_PAYLOAD}")
    hashes = [kzg.blob_versioned_hash(b) for b in blobs]
    fees = current_fees(w3, margin)
    tx: dict[str, Any] = {
        "type": BLOB_TX_TYPE,
        "chainId": w3.eth.chain_id,
        "from": account.address,
        "to": Web3.to_checksum_address(to),
        "value": 0,
        "data": data,
        "maxFeePerGas": fees.max_fee_per_gas,
        "maxPriorityFeePerGas": fees.max_priority_fee_per_gas,
        "maxFeePerBlobGas": fees.max_fee_per_blob_gas,
        "blobVersionedHashes": hashes,
        "nonce": w3.eth.get_transaction_count(account.address, "pending")
        if nonce is None
        else nonce,
    }
    tx["gas"] = w3.eth.estimate_gas(cast(TxParams, tx))  # TxParams has no blob-tx keys
    del tx["from"]
    signed = account.sign_transaction(tx)  # the body only: 0x03 || rlp(tx)
    raw = network_wrapper(bytes(signed.raw_transaction), blobs, cell_proofs=cell_proofs)
    return SignedBlobTx(bytes(signed.hash), tuple(hashes), raw)


def network_wrapper(signed_body: bytes, blobs: Sequence[bytes], *, cell_proofs: bool) -> bytes:
    """Wrap a signed type-3 body (``0x03 || rlp(tx)``) with its blobs for broadcasting.

    ``cell_proofs``: the EIP-7594 version-1 form (128 cell proofs per blob, Osaka), else the
    EIP-4844 form (one blob proof per blob).
    """
    if not signed_body or signed_body[0] != BLOB_TX_TYPE:
        raise BlobError("not a signed type-3 transaction body")
    body = rlp.decode(signed_body[1:])
    commitments = [kzg.commitment(b) for b in blobs]
    if cell_proofs:
        proofs = [p for b in blobs for p in kzg.cell_proofs(b)]
        fields = [body, WRAPPER_VERSION_CELL_PROOFS, list(blobs), commitments, proofs]
    else:
        proofs = [kzg.blob_proof(b, c) for b, c in zip(blobs, commitments, strict=True)]
        fields = [body, list(blobs), commitments, proofs]
    return bytes([BLOB_TX_TYPE]) + rlp.encode(fields)


def send_blob_tx(w3: Web3, signed: SignedBlobTx, timeout: float = 30) -> dict:
    """Broadcast and wait for the receipt; raise if the transaction reverted."""
    tx_hash = w3.eth.send_raw_transaction(signed.raw)
    receipt = w3.eth.wait_for_transaction_receipt(tx_hash, timeout=timeout)
    if receipt["status"] != 1:
        raise BlobError(
            f"blob transaction {tx_hash.hex()} reverted (block {receipt['blockNumber']})"
        )
    return dict(receipt)
