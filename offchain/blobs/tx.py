"""Type-3 (blob) transactions (docs/blobs.md, "Sending"): the blob sidecar and its wrapper.

Blob transactions are sent by the one L1 sender (`offchain.l1.sender`) like every other: its
fees (``maxFeePerGas`` from the latest base fee, ``maxFeePerBlobGas`` from ``eth_blobBaseFee``),
its ``eth_estimateGas`` of the call with the blobs' versioned hashes, its nonce, replacement
(outbidding blob fees too) and journal. This module supplies what is blob-specific: a
:class:`BlobSidecar` (versioned hashes for the signed body; commitments and proofs computed once,
however often the transaction is replaced) and :func:`send_blobs`, the call that hands both to
the sender. :func:`build_blob_tx` signs one version without sending it, for inspection.

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

from offchain.l1.fees import NodeFees, SendPolicy, choose_fees
from offchain.l1.sender import L1Sender, Sent, node_fees

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
    """Fee caps that survive ``margin``-fold base fee rises (the fees paid stay the real ones):
    the L1 sender's own arithmetic (`offchain.l1.fees.choose_fees`) with both factors ``margin``."""
    if margin < 1:
        raise BlobError(f"fee margin {margin} must be at least 1")
    policy = SendPolicy(
        base_fee_factor=margin,
        blob_fee_factor=margin,
        max_priority_fee=max(priority_fee, 0),
        max_fee_cap=2**256 - 1,
        max_blob_fee_cap=2**256 - 1,
    )
    node = NodeFees(base_fee, priority_fee, blob_base_fee=blob_base_fee)
    fees = choose_fees(node, policy, blob=True)
    return BlobFees(fees.max_fee, fees.priority_fee, fees.blob_fee)


@dataclass(frozen=True)
class SignedBlobTx:
    """A signed blob transaction: its hash, versioned hashes and the bytes to broadcast."""

    tx_hash: bytes
    versioned_hashes: tuple[bytes, ...]
    raw: bytes


def current_fees(w3: Web3, margin: int = 2) -> BlobFees:
    """Read the base fee, blob base fee and suggested tip from the node."""
    node = node_fees(w3, SendPolicy(), blob=True)
    if node.base_fee is None:
        raise BlobError("the node reports no base fee: blob transactions need an EIP-1559 chain")
    return blob_fees(node.base_fee, node.blob_base_fee or 0, node.suggested_priority, margin)


class BlobSidecar:
    """The blobs of one type-3 transaction, for `L1Sender.send(..., sidecar=)`: versioned hashes
    at once, commitments and proofs computed on the first `wrap` and reused by replacements."""

    def __init__(self, blobs: Sequence[bytes], *, cell_proofs: bool = False) -> None:
        if not 1 <= len(blobs) <= MAX_BLOBS_PER_PAYLOAD:
            raise BlobError(
                f"{len(blobs)} blobs: a transaction carries 1 to {MAX_BLOBS_PER_PAYLOAD}"
            )
        self.blobs = tuple(bytes(b) for b in blobs)
        self.cell_proofs = cell_proofs
        self.versioned_hashes = tuple(kzg.blob_versioned_hash(b) for b in self.blobs)
        self._proven: tuple[list[bytes], list[bytes]] | None = None

    def _commitments_and_proofs(self) -> tuple[list[bytes], list[bytes]]:
        if self._proven is None:
            commitments = [kzg.commitment(b) for b in self.blobs]
            if self.cell_proofs:
                proofs = [p for b in self.blobs for p in kzg.cell_proofs(b)]
            else:
                pairs = zip(self.blobs, commitments, strict=True)
                proofs = [kzg.blob_proof(b, c) for b, c in pairs]
            self._proven = (commitments, proofs)
        return self._proven

    def wrap(self, signed_body: bytes) -> bytes:
        """The network form of the signed body ``0x03 || rlp(tx)`` with these blobs."""
        if not signed_body or signed_body[0] != BLOB_TX_TYPE:
            raise BlobError("not a signed type-3 transaction body")
        body = rlp.decode(signed_body[1:])
        commitments, proofs = self._commitments_and_proofs()
        fields: list[Any]
        if self.cell_proofs:
            fields = [body, WRAPPER_VERSION_CELL_PROOFS, list(self.blobs), commitments, proofs]
        else:
            fields = [body, list(self.blobs), commitments, proofs]
        return bytes([BLOB_TX_TYPE]) + rlp.encode(fields)


def send_blobs(
    sender: L1Sender,
    to: str,
    data: bytes,
    blobs: Sequence[bytes] | BlobSidecar,
    *,
    cell_proofs: bool = False,
    key: str | None = None,
) -> Sent:
    """Send a call to ``to`` carrying ``blobs`` through the L1 sender (fees, gas, nonce,
    replacement; journaled under ``key`` when given). WouldRevert if the call would revert."""
    if isinstance(blobs, BlobSidecar):
        sidecar = blobs
    else:
        sidecar = BlobSidecar(blobs, cell_proofs=cell_proofs)
    tx = {"to": Web3.to_checksum_address(to), "value": 0, "data": data}
    return sender.send(tx, sidecar=sidecar, key=key)


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
    """Sign (not send) a call to ``to`` carrying ``blobs``, with the sender's fee arithmetic and
    gas estimated with the blobs' versioned hashes: for inspecting the wire form. To send, use
    :func:`send_blobs`.

    ``cell_proofs``: wrap for Osaka (EIP-7594 version 1) instead of the EIP-4844 form.
    """
    sidecar = BlobSidecar(blobs, cell_proofs=cell_proofs)
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
        "blobVersionedHashes": list(sidecar.versioned_hashes),
        "nonce": w3.eth.get_transaction_count(account.address, "pending")
        if nonce is None
        else nonce,
    }
    tx["gas"] = w3.eth.estimate_gas(cast(TxParams, tx))  # TxParams has no blob-tx keys
    del tx["from"]
    signed = account.sign_transaction(tx)  # the body only: 0x03 || rlp(tx)
    raw = sidecar.wrap(bytes(signed.raw_transaction))
    return SignedBlobTx(bytes(signed.hash), sidecar.versioned_hashes, raw)


def network_wrapper(signed_body: bytes, blobs: Sequence[bytes], *, cell_proofs: bool) -> bytes:
    """Wrap a signed type-3 body (``0x03 || rlp(tx)``) with its blobs for broadcasting.

    ``cell_proofs``: the EIP-7594 version-1 form (128 cell proofs per blob, Osaka), else the
    EIP-4844 form (one blob proof per blob).
    """
    return BlobSidecar(blobs, cell_proofs=cell_proofs).wrap(signed_body)
