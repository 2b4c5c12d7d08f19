"""Posting rollup batches in EIP-4844 blobs (docs/rollup-blobs.md §1; layout in blob_batches).

What the batcher and the honest proposer need to post blob batches, one job per function:

- `group_batches`: ready batches (each a list of (postRoot, rest) pairs, as the builder's
  commitments give them) grouped, in order, into postings that fill blobs: up to 32 batches and
  at most 6 blobs of payload each (exactly what `blob_batches.encode_posting` accepts);
- `choose_da`: the data-availability choice of one posting, as op-batcher's `--data-availability-
  type`: forced calldata or blobs, or `auto`, the cheaper at the node's base fee and blob base fee
  (`offchain.blobs.cost.choose_mode`, EIP-7623 calldata floor included), with the reason in words;
- `detect_cell_proofs`: whether the node runs Osaka (EIP-7594 cell proofs in the blob wrapper);
- `post_blob_batches`: one `postBlobBatches` call through the one L1 sender
  (`offchain.blobs.tx.send_blobs`), journaled under `posting_key` so a restarted sender continues
  it (same nonce) instead of sending it twice; returns the batch indexes its events name.

Pure functions except `node_fees_source`, `detect_cell_proofs` and `post_blob_batches`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from web3 import Web3

from offchain.blobs import encoding
from offchain.blobs.cost import PostingMode, choose_mode
from offchain.blobs.tx import BlobSidecar, send_blobs
from offchain.errors import RollupError
from offchain.l1.sender import L1Sender, SendPolicy, node_fees

from .blob_batches import (
    MAX_BATCHES_PER_CALL,
    POST_BLOB_BATCHES_SELECTOR,
    BlobLayoutError,
    BlobPosting,
    encode_posting,
)
from .codec import commitment_length, encode_rest
from .hashing import keccak
from .posting import POST_BATCH_SELECTOR
from .posting import encode_posting as encode_call
from .types import Commitment

log = logging.getLogger("l2kit.blobs")

#: keccak256 of the event signature `BlobBatchPosted(uint256,bytes32[],uint256)`.
BLOB_BATCH_POSTED_TOPIC = keccak(b"BlobBatchPosted(uint256,bytes32[],uint256)")

#: One batch ready to post: its commitments as (postRoot, rest) pairs.
Pairs = Sequence[tuple[bytes, bytes]]


class BlobPostError(RollupError):
    """A blob posting could not be laid out, chosen or confirmed; the message says why."""


class DaSetting(StrEnum):
    """Where batch data goes: `--da calldata|blobs|auto` (op-batcher's data-availability type)."""

    CALLDATA = "calldata"
    BLOBS = "blobs"
    AUTO = "auto"


def parse_da(text: str | DaSetting) -> DaSetting:
    """The DA setting named by `text`; BlobPostError naming the accepted values otherwise."""
    try:
        return DaSetting(str(text).strip().lower())
    except ValueError:
        names = ", ".join(s.value for s in DaSetting)
        raise BlobPostError(f"DA mode {text!r} is not one of {names}") from None


# ---------------------------------------------------------------------- batches as pairs


def commitment_pairs(commitments: Sequence[Commitment]) -> list[tuple[bytes, bytes]]:
    """A batch's commitments as the (postRoot, rest) pairs a blob posting carries."""
    return [(c.post_root, encode_rest(c)) for c in commitments]


def split_calldata_batch(data: bytes) -> list[tuple[bytes, bytes]]:
    """A calldata-format batch (postRoot ‖ rest per commitment, `codec.encode_batch`) cut into
    its (postRoot, rest) pairs, each rest's length read from its own counts."""
    out, at = [], 0
    while at < len(data):
        if at + 36 > len(data):
            raise BlobPostError(f"batch bytes cut short at {at} of {len(data)}")
        end = at + commitment_length(*data[at + 32 : at + 36])
        if end > len(data):
            raise BlobPostError(f"commitment at byte {at} runs past the {len(data)}-byte batch")
        out.append((bytes(data[at : at + 32]), bytes(data[at + 32 : end])))
        at = end
    if not out:
        raise BlobPostError("an empty batch cannot be posted")
    return out


def _payload_length(batch: Pairs) -> int:
    return sum(len(rest) for _, rest in batch)


def group_batches(
    batches: Sequence[Pairs], max_batches: int = MAX_BATCHES_PER_CALL
) -> list[list[Pairs]]:
    """Group ready batches, keeping their order, into as few postings as fill blobs: each
    takes batches while it holds fewer than `max_batches` (at most 32) and its payload still
    fits 6 blobs. Every group is one `encode_posting` accepts."""
    if not 1 <= max_batches <= MAX_BATCHES_PER_CALL:
        raise BlobPostError(f"max batches {max_batches} per posting is not 1..32")
    groups: list[list[Pairs]] = []
    size = 0
    for batch in batches:
        length = _payload_length(batch)
        if length > encoding.MAX_PAYLOAD_BYTES:
            raise BlobPostError(f"a batch of {length:,} payload bytes exceeds 6 blobs")
        if groups and len(groups[-1]) < max_batches and size + length <= encoding.MAX_PAYLOAD_BYTES:
            groups[-1].append(batch)
            size += length
        else:
            groups.append([batch])
            size = length
    return groups


def lay_out(batches: Sequence[Pairs]) -> BlobPosting:
    """`blob_batches.encode_posting` with its refusal as a BlobPostError."""
    try:
        return encode_posting(batches)
    except BlobLayoutError as exc:
        raise BlobPostError(str(exc)) from exc


# ---------------------------------------------------------------------- the DA choice


@dataclass(frozen=True)
class L1Fees:
    """The fees a posting would pay now, wei per gas / per blob gas."""

    base_fee: int
    blob_base_fee: int
    priority_fee: int


#: Where `choose_da` reads fees from (the node, or a test's seam).
FeeSource = Callable[[], L1Fees]


def node_fees_source(w3: Web3, policy: SendPolicy | None = None) -> FeeSource:
    """Fees from the node, as the L1 sender reads them (latest base fee, eth_blobBaseFee,
    the policy's or the node's priority fee)."""

    def read() -> L1Fees:
        node = node_fees(w3, policy or SendPolicy(), blob=True)
        if node.base_fee is None:
            raise BlobPostError("the node reports no base fee: blobs need an EIP-1559 chain")
        return L1Fees(node.base_fee, node.blob_base_fee or 0, node.suggested_priority)

    return read


@dataclass(frozen=True)
class ExecGas:
    """EVM execution gas of the two posting calls, for the cost comparison only (the sender
    still sends with the node's estimate). Linear in batches and commitments, fitted to the
    receipts bench/rollup.py measures (`python bench/rollup.py --blob`); the data costs are
    exact. A blob posting's fixed cost (a blob's 131,072 blob gas, blobRef and the event) pays
    off from about 8 full commitments in one batch, or 3 small batches grouped."""

    # postBatch: 126k gas of EVM work for one commitment, 182k for 32 (bench/results/rollup.json
    # `posting`, less the intrinsic gas of their calldata).
    calldata_base: int = 124_000
    calldata_per_commitment: int = 1_800
    # postBlobBatches: 166k for one batch of one commitment, 1.007M for 4 batches of 64
    # (`blob.one_commitment_posting` / `blob.full_posting` `execution_gas_estimate`).
    blob_base: int = 50_000
    blob_per_batch: int = 114_000
    blob_per_commitment: int = 2_000

    def calldata(self, commitments: int) -> int:
        return self.calldata_base + self.calldata_per_commitment * commitments

    def blobs(self, batches: Sequence[Pairs]) -> int:
        n = sum(len(b) for b in batches)
        return self.blob_base + self.blob_per_batch * len(batches) + self.blob_per_commitment * n


@dataclass(frozen=True)
class DaChoice:
    """Where one posting goes, and why."""

    mode: PostingMode
    reason: str
    calldata_wei: int
    blobs_wei: int
    blob_count: int
    fees: L1Fees

    def as_dict(self) -> dict[str, Any]:
        return {
            "mode": self.mode.value,
            "reason": self.reason,
            "calldata_wei": str(self.calldata_wei),
            "blobs_wei": str(self.blobs_wei),
            "blob_count": self.blob_count,
            "base_fee": self.fees.base_fee,
            "blob_base_fee": self.fees.blob_base_fee,
        }


def choose_da(
    setting: DaSetting,
    pre_root: bytes,
    batches: Sequence[Pairs],
    fees: L1Fees,
    gas: ExecGas | None = None,
) -> DaChoice:
    """The DA of one posting of `batches` (building on `pre_root`): calldata posts each batch in
    its own `postBatch` transaction, blobs post them all in one `postBlobBatches`. Both costs
    come from `choose_mode` (the calldata one per transaction, with the EIP-7623 floor); `auto`
    takes blobs only when strictly cheaper, as `choose_mode` does."""
    gas = gas or ExecGas()
    posting = lay_out(batches)
    blob_count = encoding.blobs_needed(len(posting.payload))
    blob_input = encode_call(pre_root, posting.data, POST_BLOB_BATCHES_SELECTOR)
    calldata_wei, blobs_wei = 0, 0
    for k, batch in enumerate(batches):
        data = b"".join(root + rest for root, rest in batch)
        costs = choose_mode(
            encode_call(pre_root, data, POST_BATCH_SELECTOR),
            blob_count,
            fees.base_fee,
            fees.blob_base_fee,
            priority_fee=fees.priority_fee,
            calldata_execution_gas=gas.calldata(len(batch)),
            blob_calldata=blob_input,
            blob_execution_gas=gas.blobs(batches),
        )
        calldata_wei += costs.calldata_wei
        if k == 0:
            blobs_wei = costs.blobs_wei  # the one blob transaction of the whole posting
    at = f"base fee {fees.base_fee} wei, blob base fee {fees.blob_base_fee} wei"
    costs_text = f"calldata {calldata_wei} wei, blobs {blobs_wei} wei at {at}"
    if setting is DaSetting.CALLDATA:
        mode, why = PostingMode.CALLDATA, f"forced by --da calldata ({costs_text})"
    elif setting is DaSetting.BLOBS:
        mode, why = PostingMode.BLOBS, f"forced by --da blobs ({costs_text})"
    elif blobs_wei < calldata_wei:
        mode, why = PostingMode.BLOBS, f"auto: blobs are cheaper ({costs_text})"
    else:
        mode, why = PostingMode.CALLDATA, f"auto: calldata is not dearer ({costs_text})"
    return DaChoice(mode, why, calldata_wei, blobs_wei, blob_count, fees)


# ---------------------------------------------------------------------- the hardfork


def detect_cell_proofs(w3: Web3) -> bool:
    """True if the node runs Osaka, whose blob transactions carry EIP-7594 cell proofs: its
    `eth_config` (EIP-7910) lists Osaka's P256VERIFY precompile (EIP-7951); else Anvil's
    `anvil_nodeInfo` hard fork; False (the Prague form) when the node says neither."""
    try:
        reply: Any = w3.provider.make_request("eth_config", [])  # type: ignore[arg-type]
        current = (reply.get("result") or {}).get("current") or {}
        precompiles = current.get("precompiles")
        if isinstance(precompiles, dict):
            return "P256VERIFY" in precompiles
    except Exception as exc:  # an older node: try the next source
        log.debug("eth_config unavailable: %s", exc)
    try:
        reply = w3.provider.make_request("anvil_nodeInfo", [])  # type: ignore[arg-type]
        fork = str((reply.get("result") or {}).get("hardFork") or "").lower()
        if fork:
            return fork not in {"cancun", "prague"}
    except Exception as exc:
        log.debug("anvil_nodeInfo unavailable: %s", exc)
    log.warning("the node names no hard fork: sending blobs in the Prague (EIP-4844) form")
    return False


# ---------------------------------------------------------------------- sending


def posting_key(first_index: int, pre_root: bytes, data: bytes) -> str:
    """The send-journal key of the blob posting of `data` at batch `first_index` on `pre_root`:
    the same posting always has the same key, another posting never does."""
    return f"blobs:{first_index}:0x{keccak(pre_root + data).hex()}"


@dataclass(frozen=True)
class BlobPosted:
    """A mined blob posting: the batch indexes its events name and where it landed."""

    indexes: tuple[int, ...]
    tx_hash: str
    block: int
    gas_used: int
    blob_gas_used: int
    blob_hashes: tuple[bytes, ...]
    receipt: dict
    attempts: int


def posted_indexes(receipt: dict, rollup: str) -> tuple[list[int], tuple[bytes, ...]]:
    """(batch indexes, versioned hashes) of the BlobBatchPosted events the rollup emitted in
    `receipt`, in log order."""
    indexes: list[int] = []
    hashes: tuple[bytes, ...] = ()
    for entry in receipt.get("logs", []):
        if str(entry["address"]).lower() != rollup.lower():
            continue
        topics = [bytes(t) for t in entry["topics"]]
        if not topics or topics[0] != BLOB_BATCH_POSTED_TOPIC:
            continue
        indexes.append(int.from_bytes(topics[1], "big"))
        data = bytes(entry["data"])
        # abi.encode(bytes32[] blobHashes, uint256 payloadOffset): offset, offset word, n, items
        n = int.from_bytes(data[64:96], "big")
        hashes = tuple(data[96 + 32 * i : 128 + 32 * i] for i in range(n))
    return indexes, hashes


def post_blob_batches(
    sender: L1Sender,
    rollup: str,
    pre_root: bytes,
    posting: BlobPosting,
    *,
    first_index: int,
    cell_proofs: bool = False,
    journal: bool = True,
) -> BlobPosted:
    """Send `postBlobBatches(pre_root, posting.data)` with the posting's blobs through `sender`
    (journaled under `posting_key` when `journal` and the sender has journals); returns what
    was posted. WouldRevert / Reverted / NonceConsumed from the sender pass through;
    BlobPostError if the mined posting's events do not name the batches sent."""
    data = encode_call(pre_root, posting.data, POST_BLOB_BATCHES_SELECTOR)
    sidecar = BlobSidecar(posting.blobs(), cell_proofs=cell_proofs)
    key = posting_key(first_index, pre_root, posting.data)
    use_key = key if journal and sender.journals is not None else None
    sent = send_blobs(sender, rollup, data, sidecar, key=use_key)
    receipt = dict(sent.receipt)
    indexes, hashes = posted_indexes(receipt, rollup)
    want = list(range(first_index, first_index + len(posting.batches)))
    if indexes != want:
        raise BlobPostError(
            f"posting {sent.tx_hash} names batches {indexes}, expected {want}: check the rollup "
            "address and reconcile with L1"
        )
    if hashes != sidecar.versioned_hashes:
        raise BlobPostError(f"posting {sent.tx_hash} recorded other blob hashes than it carried")
    return BlobPosted(
        tuple(indexes),
        sent.tx_hash,
        int(receipt["blockNumber"]),
        int(receipt["gasUsed"]),
        int(receipt.get("blobGasUsed") or 0),
        hashes,
        receipt,
        int(sent.attempts),
    )
