"""Reading a blob batch back from L1 and a beacon API (docs/rollup-blobs.md §4), and the blob
dispute's evidence.

A batch posted by `Rollup.postBlobBatches` is read as: the posting tx's input (the canonical
call) -> the headers of every batch of the posting (`blob_batches.decode_posting_data`); the
posting's `BlobBatchPosted` event for this index -> its versioned hashes and payload offset,
checked against `Rollup.blobRef(index)`; the blobs of the posting's block from the beacon
endpoint (`offchain.blobs.beacon.BeaconReader`, which recomputes every versioned hash) -> the
rests (`blob_batches.read_rests`). A batch all of whose commitments are good is returned in the
calldata form, so every reader downstream (replay, checkpoints, exit, recovery) is unchanged.

Outcomes other than the calldata form, each a subclass of `UnreadableBatch` so that a caller
that only knows calldata batches stops there, never past it:

- `BlobFraud`: a commitment whose rest in the blobs does not match its header. Not an alarm: the
  validator proves it with `proveBlobFraud` (`BlobFraudProof`, from `blob_batches.blob_proof`).
- `BlobsUnavailable`: the beacon endpoint is down, lacks a blob or serves a wrong one. An alarm
  that names the batch, the block and the endpoint; nothing is accepted, and the next read
  retries (the blobs are fixed by the versioned hashes, so a later answer is checked the same way).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from eth_abi import encode as abi_encode
from web3 import Web3
from web3.exceptions import BlockNotFound
from web3.logs import DISCARD

from offchain.blobs.beacon import ZERO_ROOT, BeaconReader, BeaconSettings, beacon_block_id
from offchain.blobs.errors import BeaconError
from offchain.errors import RollupError

from . import blob_batches
from .blob_batches import BlobBatch, BlobLayoutError
from .codec import CodecError, decode_batch
from .execute import Fault
from .hashes import batch_hash
from .hashing import keccak
from .l1 import BatchReading, UnreadableBatch
from .posting import POST_BLOB_BATCHES_SELECTOR, NonCanonicalPosting, decode_posting
from .replay import Fraud, ReplayResult

#: RollupTypes.BlobProof: batchIndex, headers, blobHashes, payloadOffset, commitmentIndex,
#: elements (value, commitment, proof).
BLOB_PROOF_ABI = "(uint256,bytes,bytes32[],uint256,uint256,(bytes32,bytes,bytes)[])"


def is_blob_posting(tx_input: bytes) -> bool:
    """True if a posting tx calls postBlobBatches (its batches' rests are in blobs)."""
    return bytes(tx_input[:4]) == POST_BLOB_BATCHES_SELECTOR


def default_beacon(w3: Web3) -> BeaconReader | None:
    """The beacon reader of a node that serves the API on its RPC port (Anvil): the web3
    provider's URL, or None if the provider has no HTTP URL."""
    url = getattr(w3.provider, "endpoint_uri", None)
    if not isinstance(url, str) or not url.startswith(("http://", "https://")):
        return None
    return BeaconReader(BeaconSettings(url=url))


def beacon_for(url: str | None, w3: Web3) -> BeaconReader | None:
    """The reader of the beacon URL setting; without one, the L1 RPC URL (default_beacon)."""
    if url:
        return BeaconReader(BeaconSettings(url=url))
    return default_beacon(w3)


class BlobsUnavailable(UnreadableBatch, RollupError):
    """The blobs of a live blob batch cannot be fetched or checked right now (an alarm): the
    beacon endpoint is down, lacks them (pruned?) or serves other bytes."""

    def __init__(self, index: int, block: int, endpoint: str, error: BaseException) -> None:
        super().__init__(
            index,
            f"the blobs of its posting (L1 block {block}) are not available from beacon "
            f"endpoint {endpoint} ({type(error).__name__}: {error}). Reading is retried and "
            "resumes when the endpoint serves them",
        )
        self.block = block
        self.endpoint = endpoint
        self.error = error


class BlobFraud(UnreadableBatch, RollupError):
    """A live blob batch with a commitment whose rest in the blobs does not match its header
    (restHash or counts): provable with `proveBlobFraud` (fault BLOB_MISMATCH)."""

    def __init__(
        self,
        index: int,
        commitment_index: int,
        batch: BlobBatch,
        blobs: Sequence[bytes],
        commitment_hashes: Sequence[bytes],
        block: int,
    ) -> None:
        reason = (
            f"commitment {commitment_index} does not match the blobs of its posting "
            f"(L1 block {block}): a blob fraud, provable with proveBlobFraud"
        )
        ValueError.__init__(self, f"batch {index} is wrong: {reason}")
        self.index = index
        self.reason = reason
        self.commitment_index = commitment_index
        self.batch = batch
        self.blobs = tuple(blobs)
        self.commitment_hashes = tuple(commitment_hashes)
        self.block = block

    def proof(self) -> BlobFraudProof:
        """The blob dispute's evidence (its KZG openings are computed on first use)."""
        return BlobFraudProof(self.index, self.commitment_hashes, self.commitment_index, self)


@dataclass(frozen=True)
class BlobFraudProof:
    """`proveBlobFraud` / `revealBlobFraud` evidence, with what commit-then-reveal needs
    (`commitment_for`: the batch's commitment hashes, the proof hash). The KZG openings of every
    element covering the rest (`blob_batches.blob_proof`) are made on the first `as_abi`."""

    batch_index: int
    commitment_hashes: tuple[bytes, ...]
    commitment_index: int
    source: BlobFraud = field(repr=False, compare=False)

    @cached_property
    def abi(self) -> tuple[Any, ...]:
        f = self.source
        return blob_batches.blob_proof(f.index, f.batch, f.commitment_index, f.blobs)

    def as_abi(self) -> tuple[Any, ...]:
        return self.abi

    def proof_hash(self) -> bytes:
        """keccak256(abi.encode(p)), what a fraud commitment binds."""
        return keccak(abi_encode([BLOB_PROOF_ABI], [self.abi]))

    @property
    def batch_hash(self) -> bytes:
        return batch_hash(self.commitment_hashes)


def with_blob_fraud(result: ReplayResult, reading: BatchReading) -> ReplayResult:
    """The replay of `reading`'s batches, with the reading's blob fraud as its fraud when the
    replay verified every batch before it (a state or signature fraud earlier comes first)."""
    found = reading.blob_fraud
    if result.fraud is not None or found is None or result.batches_ok != found.index:
        return result
    fraud = Fraud(found.index, found.commitment_index, Fault.BLOB_MISMATCH, 0, found.proof())
    return dataclasses.replace(result, fraud=fraud)


@dataclass
class BlobCache:
    """What one reading fetched per posting tx (several batches share a posting's blobs)."""

    receipts: dict[bytes, Any] = field(default_factory=dict)
    blobs: dict[bytes, list[bytes]] = field(default_factory=dict)


def read_blob_batch(
    rollup: Any,
    w3: Web3,
    beacon: BeaconReader | None,
    index: int,
    stored: bytes,
    tx: Any,
    block: int,
    ends: tuple[int, int],
    cache: BlobCache,
) -> tuple[bytes, tuple[int, int]]:
    """Batch `index` of the postBlobBatches tx `tx` (mined in `block`), stored hash `stored`,
    building on queue positions `ends`: (its calldata-form data, its ends). Raises
    UnreadableBatch (the contract should have refused), BlobsUnavailable or BlobFraud."""
    tx_hash = bytes(tx["hash"])
    where = f"tx 0x{tx_hash.hex()}"
    try:
        call = decode_posting(bytes(tx["input"]), POST_BLOB_BATCHES_SELECTOR)
        batches = blob_batches.decode_posting_data(call.data)
    except (NonCanonicalPosting, BlobLayoutError) as e:
        raise UnreadableBatch(index, f"{where}: {e}") from e
    event = _posted_event(rollup, w3, tx_hash, index, cache)
    if event is None:
        raise UnreadableBatch(index, f"{where} emitted no BlobBatchPosted event for it")
    hashes = [bytes(h) for h in event["blobHashes"]]
    offset = int(event["payloadOffset"])
    ref = bytes(rollup.functions.blobRef(index).call())
    if ref != blob_batches.blob_ref(hashes, offset):
        raise UnreadableBatch(
            index, f"blobRef 0x{ref.hex()} does not bind the blobs {where} says it posted"
        )
    mine = [b for b in batches if b.payload_offset == offset]
    if not mine:
        raise UnreadableBatch(index, f"{where} has no batch at payload offset {offset}")
    batch = mine[0]
    if len(hashes) != blob_batches.blob_count(batches):
        raise UnreadableBatch(index, f"{where} carries {len(hashes)} blobs, not what it needs")
    commitment_hashes = batch.commitment_hashes(*ends)
    if batch_hash(commitment_hashes) != stored:
        raise UnreadableBatch(index, f"headers of {where} do not hash to the stored batch hash")
    blobs = _blobs(w3, beacon, index, block, tx_hash, hashes, cache)
    try:
        rests = blob_batches.read_rests(blobs, batch)
    except BlobLayoutError as e:  # fewer blobs than the payload needs: checked above
        raise UnreadableBatch(index, f"{where}: {e}") from e
    if rests.first_bad is not None:
        raise BlobFraud(index, rests.first_bad, batch, blobs, commitment_hashes, block)
    data = rests.calldata_form(batch)
    try:
        commitments = decode_batch(data, *ends)
    except CodecError as e:  # good rests are well framed by construction
        raise UnreadableBatch(index, f"rests of {where} do not decode: {e}") from e
    if batch_hash([c.hash() for c in commitments]) != stored:
        raise UnreadableBatch(index, f"rests of {where} do not hash to the stored batch hash")
    return data, (commitments[-1].deposit_end, commitments[-1].forced_end)


def _posted_event(
    rollup: Any, w3: Web3, tx_hash: bytes, index: int, cache: BlobCache
) -> Any | None:
    receipt = cache.receipts.get(tx_hash)
    if receipt is None:
        receipt = w3.eth.get_transaction_receipt(tx_hash)  # type: ignore[arg-type]
        cache.receipts[tx_hash] = receipt
    for log in rollup.events.BlobBatchPosted().process_receipt(receipt, errors=DISCARD):
        if log["address"].lower() == rollup.address.lower() and log["args"]["index"] == index:
            return log["args"]
    return None


def _block_id(w3: Web3, block: int) -> str | int:
    """The beacon API's id of execution block `block` (by beacon root on a chain with a consensus
    layer, by number on Anvil): offchain.blobs.beacon.beacon_block_id."""
    own = w3.eth.get_block(block)
    try:
        child = w3.eth.get_block(block + 1)
    except BlockNotFound:
        child = None
    return beacon_block_id(
        block,
        bytes(own.get("parentBeaconBlockRoot") or ZERO_ROOT),
        None if child is None else bytes(child.get("parentBeaconBlockRoot") or ZERO_ROOT),
    )


def _blobs(
    w3: Web3,
    beacon: BeaconReader | None,
    index: int,
    block: int,
    tx_hash: bytes,
    hashes: Sequence[bytes],
    cache: BlobCache,
) -> list[bytes]:
    got = cache.blobs.get(tx_hash)
    if got is not None:
        return got
    if beacon is None:
        raise UnreadableBatch(
            index,
            f"its data is in blobs (L1 block {block}) and no beacon endpoint is set: set the "
            "beacon URL setting (an Anvil RPC URL works; a beacon node or blob archiver)",
        )
    try:
        got = beacon.blobs(_block_id(w3, block), hashes)
    except BeaconError as e:
        raise BlobsUnavailable(index, block, beacon.settings.url, e) from e
    cache.blobs[tx_hash] = got
    return got
