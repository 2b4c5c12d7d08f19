"""Rollup batches whose data rides in EIP-4844 blobs (docs/rollup-blobs.md is the normative spec).

One `Rollup.postBlobBatches(expectedPreRoot, data)` call posts 1..MAX_BATCHES_PER_CALL batches.
Its calldata carries, per batch, only the commitments' headers

    data  = batch_0 ‖ batch_1 ‖ …
    batch = n (1 byte, 1..64) ‖ n x header
    header = postRoot (32) ‖ counts (4) ‖ restHash (32)       (68 bytes)

and the transaction's blobs carry every commitment's `rest` (the bytes a calldata posting puts
after postRoot: counts, fee account, aggregate signature, sections), back to back in posting order,
as one payload written with the blob encoding of docs/blobs.md §2 (`offchain.blobs.encoding`).
A commitment hash is the calldata format's, keccak(postRoot ‖ depositEnd ‖ forcedEnd ‖ restHash),
so a blob batch whose blobs hold the rests is the calldata batch with the same commitments, and
every other dispute runs on it unchanged.

Reading a rest back (`extract`) is the contract's rule exactly: the low 31 bytes of each element
covering the rest's payload range, in order, cut to the length the header's counts give; nothing
else of the blob (top bytes, stream header, padding) means anything. A commitment's rest is
*good* if it hashes to the header's restHash and starts with the header's counts; a batch with a
bad one is proven wrong by `Rollup.proveBlobFraud` (fault BLOB_MISMATCH), whose evidence
`blob_proof` builds. Pure functions, except `blob_proof` (KZG openings through ckzg).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from eth_abi import encode as abi_encode

from offchain.blobs import encoding
from offchain.errors import RollupError

from .codec import commitment_length
from .hashes import batch_hash
from .hashing import keccak
from .params import MAX_COMMITMENTS_PER_BATCH, MAX_TXS_PER_COMMITMENT
from .posting import POST_BLOB_BATCHES_SELECTOR as POST_BLOB_BATCHES_SELECTOR

#: postRoot(32) ‖ counts(4) ‖ restHash(32).
HEADER_LEN = 68
COUNTS_LEN = 4
#: Most batches one postBlobBatches call may post (each needs its own bond).
MAX_BATCHES_PER_CALL = 32
#: RollupTypes.Fault.BLOB_MISMATCH: a commitment's rest in the blobs does not match its header.
FAULT_BLOB_MISMATCH = 14


class BlobLayoutError(ValueError, RollupError):
    """Blob posting data the contract refuses (so never met on chain: an alarm if it is)."""


@dataclass(frozen=True)
class BlobHeader:
    """One commitment as a blob posting's calldata carries it."""

    post_root: bytes
    counts: bytes  # nDeposits, nTransfers, nWithdraws, nForced (1 byte each)
    rest_hash: bytes

    @property
    def n_deposits(self) -> int:
        return self.counts[0]

    @property
    def n_forced(self) -> int:
        return self.counts[3]

    @property
    def tx_count(self) -> int:
        return sum(self.counts)

    @property
    def rest_length(self) -> int:
        """Length of the rest these counts describe (a posted commitment less its postRoot)."""
        return commitment_length(*self.counts) - 32

    def encode(self) -> bytes:
        return self.post_root + self.counts + self.rest_hash


def header_for(post_root: bytes, rest: bytes) -> BlobHeader:
    """The honest header of a commitment whose rest is `rest`."""
    if len(post_root) != 32:
        raise BlobLayoutError(f"post root must be 32 bytes, got {len(post_root)}")
    if len(rest) < COUNTS_LEN or commitment_length(*rest[:COUNTS_LEN]) - 32 != len(rest):
        raise BlobLayoutError(f"rest of {len(rest)} bytes does not match its own counts")
    return BlobHeader(post_root, bytes(rest[:COUNTS_LEN]), keccak(rest))


@dataclass(frozen=True)
class BlobBatch:
    """One batch of a blob posting: its headers and where its rests start in the payload."""

    headers: tuple[BlobHeader, ...]
    payload_offset: int

    def header_bytes(self) -> bytes:
        """The batch's headers back to back (what a blob dispute passes as `headers`)."""
        return b"".join(h.encode() for h in self.headers)

    @property
    def payload_length(self) -> int:
        return sum(h.rest_length for h in self.headers)

    def rest_offsets(self) -> list[int]:
        """Payload offset of each commitment's rest."""
        out, at = [], self.payload_offset
        for h in self.headers:
            out.append(at)
            at += h.rest_length
        return out

    def commitment_hashes(self, deposit_start: int, forced_start: int) -> list[bytes]:
        """The commitment hashes, queue ends derived from the counts from these starts."""
        out, d, f = [], deposit_start, forced_start
        for h in self.headers:
            d += h.n_deposits
            f += h.n_forced
            out.append(
                keccak(h.post_root + d.to_bytes(4, "big") + f.to_bytes(4, "big") + h.rest_hash)
            )
        return out

    def batch_hash(self, deposit_start: int, forced_start: int) -> bytes:
        return batch_hash(self.commitment_hashes(deposit_start, forced_start))

    def ends(self, deposit_start: int, forced_start: int) -> tuple[int, int]:
        """(depositEnd, forcedEnd) after the batch."""
        return (
            deposit_start + sum(h.n_deposits for h in self.headers),
            forced_start + sum(h.n_forced for h in self.headers),
        )


@dataclass(frozen=True)
class BlobPosting:
    """What one postBlobBatches call sends: calldata `data`, the payload and its blobs."""

    data: bytes
    payload: bytes
    batches: tuple[BlobBatch, ...]

    def blobs(self) -> list[bytes]:
        return encoding.encode(self.payload)


def encode_posting(batches: Sequence[Sequence[tuple[bytes, bytes]]]) -> BlobPosting:
    """Lay out batches given as [(postRoot, rest), …] per batch: headers, payload, offsets."""
    if not 1 <= len(batches) <= MAX_BATCHES_PER_CALL:
        raise BlobLayoutError(f"{len(batches)} batches: one call posts 1..{MAX_BATCHES_PER_CALL}")
    data, payload, out = bytearray(), bytearray(), []
    for commitments in batches:
        if not 1 <= len(commitments) <= MAX_COMMITMENTS_PER_BATCH:
            raise BlobLayoutError(
                f"a batch has {len(commitments)} commitments, not 1..{MAX_COMMITMENTS_PER_BATCH}"
            )
        headers = tuple(header_for(root, rest) for root, rest in commitments)
        for h in headers:
            if h.tx_count > MAX_TXS_PER_COMMITMENT:
                raise BlobLayoutError(f"a commitment has {h.tx_count} txs, over 32")
        out.append(BlobBatch(headers, len(payload)))
        data.append(len(headers))
        data += b"".join(h.encode() for h in headers)
        payload += b"".join(rest for _, rest in commitments)
    if len(payload) > encoding.MAX_PAYLOAD_BYTES:
        raise BlobLayoutError(
            f"payload of {len(payload):,} bytes does not fit {encoding.MAX_BLOBS_PER_PAYLOAD} "
            "blobs: post fewer batches per call"
        )
    return BlobPosting(bytes(data), bytes(payload), tuple(out))


def decode_posting_data(data: bytes) -> list[BlobBatch]:
    """The batches of a postBlobBatches `data`, with the contract's checks (BlobLayoutError)."""
    out: list[BlobBatch] = []
    at, payload_at = 0, 0
    while at < len(data):
        if len(out) == MAX_BATCHES_PER_CALL:
            raise BlobLayoutError(f"more than {MAX_BATCHES_PER_CALL} batches in one posting")
        n = data[at]
        end = at + 1 + n * HEADER_LEN
        if not 1 <= n <= MAX_COMMITMENTS_PER_BATCH or end > len(data):
            raise BlobLayoutError(f"batch at byte {at}: {n} commitments over {len(data)} bytes")
        headers = []
        for k in range(n):
            raw = data[at + 1 + k * HEADER_LEN : at + 1 + (k + 1) * HEADER_LEN]
            h = BlobHeader(raw[:32], raw[32:36], raw[36:68])
            if h.tx_count > MAX_TXS_PER_COMMITMENT:
                raise BlobLayoutError(f"commitment {k} of batch at byte {at} has {h.tx_count} txs")
            headers.append(h)
        batch = BlobBatch(tuple(headers), payload_at)
        out.append(batch)
        payload_at += batch.payload_length
        at = end
    if not out:
        raise BlobLayoutError("a blob posting names no batch")
    if payload_at > encoding.MAX_PAYLOAD_BYTES:
        raise BlobLayoutError(f"payload of {payload_at:,} bytes does not fit in 6 blobs")
    return out


def blob_count(batches: Sequence[BlobBatch]) -> int:
    """How many blobs the posting must carry (the contract requires exactly this many)."""
    return encoding.blobs_needed(sum(b.payload_length for b in batches))


def element_span(offset: int, length: int) -> list[tuple[int, int]]:
    """(blob, element) of every element covering payload bytes [offset, offset + length)."""
    if length <= 0:
        return []
    first_blob, first_el, _ = encoding.element_position(offset)
    last_blob, last_el, _ = encoding.element_position(offset + length - 1)
    lo = first_blob * encoding.FIELD_ELEMENTS_PER_BLOB + first_el
    hi = last_blob * encoding.FIELD_ELEMENTS_PER_BLOB + last_el
    return [divmod(g, encoding.FIELD_ELEMENTS_PER_BLOB) for g in range(lo, hi + 1)]


def extract(blobs: Sequence[bytes], offset: int, length: int) -> bytes:
    """Payload bytes [offset, offset + length) read as the contract reads them: the low 31 bytes
    of each covering element (the top byte is ignored), concatenated and cut to the range."""
    span = element_span(offset, length)
    if not span:
        return b""
    if span[-1][0] >= len(blobs):
        raise BlobLayoutError(f"payload bytes up to {offset + length} lie past {len(blobs)} blobs")
    raw = b"".join(encoding.element(blobs[b], e)[1:] for b, e in span)
    skip = (encoding.HEADER_BYTES + offset) % encoding.USABLE_BYTES_PER_ELEMENT
    return raw[skip : skip + length]


def rest_is_good(header: BlobHeader, rest: bytes) -> bool:
    """The contract's verdict on one commitment: good iff the rest hashes to restHash and starts
    with the header's counts (its length is the counts' by construction)."""
    return keccak(rest) == header.rest_hash and rest[:COUNTS_LEN] == header.counts


@dataclass(frozen=True)
class BatchRests:
    """A blob batch read back: every commitment's rest, and the first bad one (or None)."""

    rests: tuple[bytes, ...]
    first_bad: int | None

    def calldata_form(self, batch: BlobBatch) -> bytes:
        """The batch as a calldata posting's `data` (postRoot ‖ rest per commitment): what
        `codec.decode_batch` and every downstream reader take. Only for a batch with no bad
        commitment."""
        if self.first_bad is not None:
            raise BlobLayoutError(f"commitment {self.first_bad} does not match the blobs")
        return b"".join(h.post_root + r for h, r in zip(batch.headers, self.rests, strict=True))


def read_rests(blobs: Sequence[bytes], batch: BlobBatch) -> BatchRests:
    """Read every commitment's rest of `batch` from the posting's blobs and judge each."""
    rests, first_bad = [], None
    for k, (h, at) in enumerate(zip(batch.headers, batch.rest_offsets(), strict=True)):
        rest = extract(blobs, at, h.rest_length)
        rests.append(rest)
        if first_bad is None and not rest_is_good(h, rest):
            first_bad = k
    return BatchRests(tuple(rests), first_bad)


def blob_ref(blob_hashes: Sequence[bytes], payload_offset: int) -> bytes:
    """Rollup.blobRef(index): keccak256(abi.encode(bytes32[] blobHashes, uint256 payloadOffset))."""
    return keccak(abi_encode(["bytes32[]", "uint256"], [list(blob_hashes), payload_offset]))


def blob_proof(
    batch_index: int,
    batch: BlobBatch,
    commitment_index: int,
    blobs: Sequence[bytes],
) -> tuple[Any, ...]:
    """RollupTypes.BlobProof for `proveBlobFraud`: (batchIndex, headers, blobHashes,
    payloadOffset, commitmentIndex, elements), elements = (value, kzgCommitment, kzgProof) for
    every element covering the commitment's rest, in order."""
    from offchain.blobs import kzg  # ckzg and the trusted setup only when a proof is built

    if not 0 <= commitment_index < len(batch.headers):
        raise BlobLayoutError(
            f"commitment {commitment_index} is not in a batch of {len(batch.headers)}"
        )
    h = batch.headers[commitment_index]
    at = batch.rest_offsets()[commitment_index]
    elements = []
    for b, e in element_span(at, h.rest_length):
        o = kzg.open_element(blobs[b], e)
        elements.append((o.value, o.commitment, o.proof))
    hashes = [kzg.blob_versioned_hash(blob) for blob in blobs]
    return (
        batch_index,
        batch.header_bytes(),
        hashes,
        batch.payload_offset,
        commitment_index,
        elements,
    )
