"""The blob step of the demo (issue 12): one batch posted in an EIP-4844 blob by the honest
proposer library (`postBlobBatches`, offchain/rollup/blob_post.py), its versioned hash shown and
checked against what the rollup bound (`blobRef`) and what Anvil's beacon API serves back.

Run after the services have stopped, so the batch builds on the head every reader agrees on.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from eth_account.signers.local import LocalAccount
from web3 import Web3

from offchain.blobs import BeaconReader, BeaconSettings
from offchain.errors import DemoError
from offchain.recipient import address_recipient
from offchain.rollup import blob_batches, blob_post
from offchain.rollup.honest_proposer import HonestProposer
from offchain.rollup.l1 import RollupL1, Signer
from offchain.rollup.replay import replay
from offchain.rollup.wallet import derive_key, sign_transfer

Log = Callable[[str], None]
ETH = "0x0000000000000000000000000000000000000000"


@dataclass(frozen=True)
class BlobFigures:
    batch_index: int
    tx_hash: str
    versioned_hash: str
    payload_bytes: int
    gas: int
    blob_gas: int


def post_one_blob_batch(
    w3: Web3,
    l1: RollupL1,
    proposer_key: bytes,
    user: LocalAccount,
    payee: LocalAccount,
    say: Log,
) -> BlobFigures:
    """A deposit of `user` and a transfer from `user` to `payee`, posted in one blob."""
    signer = Signer(w3, proposer_key)
    user_signer = Signer(w3, user.key)
    user_signer.send(l1.bridge.functions.depositETH(address_recipient(user.address)), value=10**16)
    dst = l1.signing_dst()
    state = replay(
        l1.posted_batches(),
        l1.deposit_queue(),
        dst,
        l1.forced_queue(),
        keys=l1.key_history(),
    ).state
    sender = state.find_account(user.address, ETH)
    recipient = state.find_account(payee.address, ETH)
    if sender is None or recipient is None:
        raise DemoError("the blob step needs two users with L2 accounts")
    key = derive_key(user, int(w3.eth.chain_id), l1.registry.address)
    tx = sign_transfer(key, dst, sender, recipient, 10**15, 0, state.account(sender).nonce)
    proposer = HonestProposer(l1, signer, state=state, da=blob_post.DaSetting.BLOBS)
    batch, after = proposer.build([tx])
    if batch.rejected:
        raise DemoError(f"the blob batch's transfer was refused: {batch.rejected[0][1]}")
    (index,) = proposer.post_all([(batch, after)])
    receipt = proposer.last_receipt
    posted_tx = w3.eth.get_transaction(receipt["transactionHash"])
    hashes = [bytes(h) for h in posted_tx["blobVersionedHashes"]]
    pairs = blob_post.commitment_pairs([c.commitment for c in batch.commitments])
    payload = sum(len(rest) for _, rest in pairs)
    bound = bytes(l1.rollup.functions.blobRef(index).call())
    if bound != blob_batches.blob_ref(hashes, 0):
        raise DemoError(f"batch {index}: the rollup bound another blob than the one sent")
    rpc = str(getattr(w3.provider, "endpoint_uri", ""))
    served = BeaconReader(BeaconSettings(rpc)).blobs(int(receipt["blockNumber"]), hashes)
    tx_hash = Web3.to_hex(receipt["transactionHash"])
    blob_gas = int(receipt.get("blobGasUsed") or 0)
    say(
        f"batch {index} posted in {len(hashes)} blob by type-3 tx {tx_hash[:18]}…: {payload} "
        f"payload bytes, {receipt['gasUsed']:,} gas + {blob_gas:,} blob gas"
    )
    say(
        f"versioned hash 0x{hashes[0].hex()}: bound by blobRef({index}), served back by the "
        f"beacon API ({len(served[0]):,} bytes, hash recomputed)"
    )
    return BlobFigures(
        index, tx_hash, "0x" + hashes[0].hex(), payload, int(receipt["gasUsed"]), blob_gas
    )
