"""Helpers of the blob tests: a web3 signer for type-3 transactions and a blob sender."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from eth_account import Account
from eth_account.signers.local import LocalAccount
from hexbytes import HexBytes
from web3 import Web3

from offchain.blobs import tx as blob_tx
from offchain.l1.sender import L1Sender, SendPolicy

#: Quick retries: the tests' Anvil mines at once.
TEST_POLICY = SendPolicy(receipt_timeout=10.0, backoff=0.05, max_backoff=0.2, max_attempts=3)


def local_account(ape_account) -> LocalAccount:
    """The eth-account signer of an Ape test account (Ape cannot send blob transactions)."""
    return Account.from_key(ape_account.private_key)


@dataclass(frozen=True)
class SentBlobs:
    """What a test checks of a sent blob transaction."""

    tx_hash: HexBytes
    versioned_hashes: tuple[bytes, ...]


def send_blobs(
    w3: Web3,
    signer: LocalAccount,
    to: str,
    data: bytes,
    blobs: Sequence[bytes],
    *,
    cell_proofs: bool = False,
) -> tuple[dict, SentBlobs]:
    """Send a blob transaction through the L1 sender; return its receipt and what was sent."""
    sidecar = blob_tx.BlobSidecar(blobs, cell_proofs=cell_proofs)
    sent = blob_tx.send_blobs(L1Sender(w3, signer, TEST_POLICY), to, data, sidecar)
    return sent.receipt, SentBlobs(HexBytes(sent.tx_hash), sidecar.versioned_hashes)
