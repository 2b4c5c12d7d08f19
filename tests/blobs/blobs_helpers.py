"""Helpers of the blob tests: a web3 signer for type-3 transactions and a blob sender."""

from __future__ import annotations

from collections.abc import Sequence

from eth_account import Account
from eth_account.signers.local import LocalAccount
from web3 import Web3

from offchain.blobs import tx as blob_tx


def local_account(ape_account) -> LocalAccount:
    """The eth-account signer of an Ape test account (Ape cannot send blob transactions)."""
    return Account.from_key(ape_account.private_key)


def send_blobs(
    w3: Web3,
    signer: LocalAccount,
    to: str,
    data: bytes,
    blobs: Sequence[bytes],
    *,
    cell_proofs: bool = False,
) -> tuple[dict, blob_tx.SignedBlobTx]:
    """Sign and send a blob transaction; return its receipt and the signed transaction."""
    signed = blob_tx.build_blob_tx(w3, signer, to, data, blobs, cell_proofs=cell_proofs)
    return blob_tx.send_blob_tx(w3, signed), signed
