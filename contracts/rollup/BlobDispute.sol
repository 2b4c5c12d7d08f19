// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {BlobData} from "../libraries/BlobData.sol";
import {BlobLayout} from "../libraries/BlobLayout.sol";
import {IRollup} from "./IRollup.sol";
import {RollupTypes} from "./RollupTypes.sol";

/// @title BlobDispute
/// @notice The verdict of the blob dispute (docs/rollup-blobs.md §3, issue 12): whether a blob
///         batch's blobs fail to hold one of its commitments' rests. Created by the Rollup (its
///         own contract so the Rollup stays under the code-size limit); the Rollup checks that the
///         batch is disputable and passes its stored blob binding, batch hash and pre-state queue
///         positions; this contract checks everything else. Stateless.
/// @dev Reading rule (§2): rest bytes [o, o + len) of the payload are stream bytes
///      [5 + o, 5 + o + len); stream byte s is byte 1 + s mod 31 of global element s div 31 (blob
///      (s div 31) div 4096, element (s div 31) mod 4096). The rest is the low 31 bytes of every
///      covering element, in order, cut to the range. It is good iff it hashes to the header's
///      restHash and starts with the header's counts. Every element is opened against its blob's
///      versioned hash (BlobData.openElement), so an honest batch never yields a verdict.
contract BlobDispute {
    /// @notice Bound on batches per posting (Rollup.MAX_BLOB_BATCHES).
    uint256 public constant MAX_BLOB_BATCHES = 32;

    /// @notice blobHashes and payloadOffset are not the posting's (keccak256(abi.encode(
    ///         blobHashes, payloadOffset)) differs from the Rollup's blobRef of the batch).
    error BlobRefMismatch(uint256 batchIndex);
    /// @notice The headers do not hash to the stored batch hash (same as IRollup's).
    error BatchHashMismatch(uint256 index);
    /// @notice commitmentIndex is not below the batch's number of commitments (as IRollup's).
    error CommitmentMismatch(uint256 commitmentIndex);
    /// @notice Not exactly the elements covering the commitment's rest were given.
    error ElementCountMismatch(uint256 expected, uint256 given);

    /// @notice One batch of a blob posting as parsed by `postedBatches`.
    /// @param batchHash keccak256 of its commitment hashes.
    /// @param postRoot Its last commitment's postRoot.
    /// @param depositEnd Deposit-queue position after it.
    /// @param forcedEnd Forced-queue position after it.
    /// @param commitments Its number of commitments.
    /// @param payloadOffset Where its rests start in the posting's payload.
    struct PostedBatch {
        bytes32 batchHash;
        bytes32 postRoot;
        uint256 depositEnd;
        uint256 forcedEnd;
        uint256 commitments;
        uint256 payloadOffset;
    }

    /// @notice Parse a postBlobBatches `data` (docs/rollup-blobs.md §1) with the posting's checks:
    ///         1..32 batches, each a count byte n (1..64) and n complete headers whose counts sum
    ///         to at most 32 (else IRollup.MalformedBatch(offset)); queue ends chained from the
    ///         counts. Called by the Rollup (which stores the batches and binds the blobs).
    /// @param depositStart Deposit-queue position before the first batch.
    /// @param forcedStart Forced-queue position before the first batch.
    /// @param data The posting's header bytes.
    /// @return payload Total rest length (the blob payload's length).
    /// @return batches Every batch, in order.
    function postedBatches(uint256 depositStart, uint256 forcedStart, bytes calldata data)
        external
        pure
        returns (uint256 payload, PostedBatch[] memory batches)
    {
        batches = new PostedBatch[](MAX_BLOB_BATCHES);
        BlobLayout.Cursor memory cur;
        cur.depositEnd = depositStart;
        cur.forcedEnd = forcedStart;
        uint256 count;
        // Bounded: at most MAX_BLOB_BATCHES iterations.
        while (cur.offset < data.length) {
            if (count == MAX_BLOB_BATCHES) revert IRollup.MalformedBatch(cur.offset);
            uint256 offset = cur.payload;
            (bytes32 batchHash, uint256 n) = BlobLayout.postedBatch(data, cur);
            batches[count] = PostedBatch(batchHash, cur.postRoot, cur.depositEnd, cur.forcedEnd, n, offset);
            ++count;
        }
        if (count == 0) revert IRollup.MalformedBatch(0);
        assembly ("memory-safe") {
            mstore(batches, count)
        }
        payload = cur.payload;
    }

    /// @notice The fault of one commitment of a blob batch, and the proof's hash.
    ///         The Rollup has checked that batch p.batchIndex is disputable and forwards p's calldata.
    /// @param p The proof (see RollupTypes.BlobProof).
    /// @param blobRef The Rollup's blobRef of the batch (non-zero).
    /// @param batchHash The batch's stored hash.
    /// @param depositStart Deposit-queue position before the batch.
    /// @param forcedStart Forced-queue position before the batch.
    /// @return fault BLOB_MISMATCH if the blobs do not hold the rest the header names, else NONE.
    /// @return proofHash keccak256(abi.encode(p)) (what fraud commitments bind).
    function verdict(
        RollupTypes.BlobProof calldata p,
        bytes32 blobRef,
        bytes32 batchHash,
        uint256 depositStart,
        uint256 forcedStart
    ) external view returns (RollupTypes.Fault fault, bytes32 proofHash) {
        // INVARIANT: only the posting's own versioned hashes and offset are read.
        if (keccak256(abi.encode(p.blobHashes, p.payloadOffset)) != blobRef) revert BlobRefMismatch(p.batchIndex);
        (uint256 offset, uint256 counts, bytes32 restHash) =
            _locate(p.headers, p.batchIndex, p.commitmentIndex, p.payloadOffset, batchHash, depositStart, forcedStart);
        (uint256 len,) = BlobLayout.restLength(counts);
        fault = _good(_read(p.blobHashes, p.elements, offset, len), offset, len, counts, restHash)
            ? RollupTypes.Fault.NONE
            : RollupTypes.Fault.BLOB_MISMATCH;
        proofHash = keccak256(abi.encode(p));
    }

    /// @dev Check the headers against the stored batch hash; return commitment ci's payload
    ///      offset, counts and restHash.
    function _locate(
        bytes calldata headers,
        uint256 b,
        uint256 ci,
        uint256 offset,
        bytes32 batchHash,
        uint256 depositStart,
        uint256 forcedStart
    ) private pure returns (uint256, uint256 counts, bytes32 restHash) {
        uint256 n = headers.length / BlobLayout.HEADER_LEN;
        if (n == 0 || n > BlobLayout.MAX_COMMITMENTS || headers.length != n * BlobLayout.HEADER_LEN) {
            revert BatchHashMismatch(b);
        }
        BlobLayout.Cursor memory cur;
        cur.depositEnd = depositStart;
        cur.forcedEnd = forcedStart;
        // INVARIANT: the headers are the posted ones (same commitment hashes, same queue chain).
        if (BlobLayout.hashHeaders(headers, n, cur) != batchHash) revert BatchHashMismatch(b);
        if (ci >= n) revert CommitmentMismatch(ci);
        uint256 at = ci * BlobLayout.HEADER_LEN;
        counts = BlobLayout.countsAt(headers, at);
        restHash = bytes32(headers[at + 36:at + BlobLayout.HEADER_LEN]);
        return (_offsetOf(headers, ci, offset), counts, restHash);
    }

    /// @dev Payload offset of commitment ci's rest: the batch's offset plus the rests before it.
    function _offsetOf(bytes calldata headers, uint256 ci, uint256 offset) private pure returns (uint256) {
        // Bounded: ci < 64 iterations.
        for (uint256 k = 0; k < ci; ++k) {
            (uint256 l,) = BlobLayout.restLength(BlobLayout.countsAt(headers, k * BlobLayout.HEADER_LEN));
            offset += l;
        }
        return offset;
    }

    /// @dev Open every element covering payload bytes [offset, offset + len) and return their low
    ///      31 bytes back to back (the first covering element's first byte is stream byte
    ///      31 * ((5 + offset) / 31)).
    function _read(
        bytes32[] calldata blobHashes,
        RollupTypes.BlobElement[] calldata elements,
        uint256 offset,
        uint256 len
    ) private view returns (bytes memory raw) {
        uint256 s = BlobLayout.STREAM_HEADER + offset;
        uint256 first = s / BlobLayout.BYTES_PER_ELEMENT;
        // len >= 7 (every rest holds its counts and fee account).
        uint256 count = (s + len - 1) / BlobLayout.BYTES_PER_ELEMENT - first + 1;
        if (elements.length != count) revert ElementCountMismatch(count, elements.length);
        // One spare byte: each write below stores 32 bytes, the last one a zero past the end.
        raw = new bytes(count * BlobLayout.BYTES_PER_ELEMENT + 1);
        // Bounded: a rest is at most 439 bytes, so count <= 16.
        for (uint256 j = 0; j < count; ++j) {
            uint256 g = first + j;
            RollupTypes.BlobElement calldata e = elements[j];
            // blobHashes holds every blob of the posting, which carried exactly the blobs its
            // payload needs: g / 4096 is in range for a bound blobRef.
            BlobData.openElement(
                blobHashes[g / BlobData.FIELD_ELEMENTS_PER_BLOB],
                g % BlobData.FIELD_ELEMENTS_PER_BLOB,
                e.value,
                e.commitment,
                e.proof
            );
            bytes32 v = e.value;
            assembly ("memory-safe") {
                // The low 31 bytes at raw[31 j .. 31 j + 31); the zero byte after them is
                // overwritten by the next element.
                mstore(add(add(raw, 32), mul(j, 31)), shl(8, v))
            }
        }
        assembly ("memory-safe") {
            mstore(raw, mul(count, 31))
        }
    }

    /// @dev Whether the rest cut from `raw` hashes to restHash and starts with the header's counts.
    function _good(bytes memory raw, uint256 offset, uint256 len, uint256 counts, bytes32 restHash)
        private
        pure
        returns (bool ok)
    {
        uint256 skip = (BlobLayout.STREAM_HEADER + offset) % BlobLayout.BYTES_PER_ELEMENT;
        assembly ("memory-safe") {
            let start := add(add(raw, 32), skip)
            ok := and(eq(keccak256(start, len), restHash), eq(shr(224, mload(start)), counts))
        }
    }
}
