// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {IRollup} from "../rollup/IRollup.sol";

/// @title BlobLayout
/// @notice The calldata side of a blob posting (docs/rollup-blobs.md §1): per batch a count byte
///         n (1..64) and n headers `postRoot(32) ‖ counts(4) ‖ restHash(32)`; the rests ride in
///         the transaction's blobs. Shared by `Rollup.postBlobBatches` and `BlobDispute`, so both
///         derive the same commitment hashes from the same bytes.
/// @dev Reverts IRollup.MalformedBatch(offset) on framing the contract refuses (count byte out
///      of 1..64, a header cut short, counts summing over 32).
///      Commitment hash = keccak(postRoot ‖ depositEnd(4) ‖ forcedEnd(4) ‖ restHash), exactly the
///      calldata format's; queue ends are chained from the counts.
library BlobLayout {
    /// @notice Header size: postRoot(32) ‖ counts(4) ‖ restHash(32).
    uint256 internal constant HEADER_LEN = 68;
    /// @notice Bound on commitments per batch (Rollup.MAX_COMMITMENTS).
    uint256 internal constant MAX_COMMITMENTS = 64;
    /// @notice Bound on slots per commitment (L2Codec.MAX_TXS).
    uint256 internal constant MAX_TXS = 32;
    /// @notice Payload bytes before the first rest in the blob stream: version(1) ‖ length(4).
    uint256 internal constant STREAM_HEADER = 5;
    /// @notice Payload bytes per field element (the top byte of each element is ignored).
    uint256 internal constant BYTES_PER_ELEMENT = 31;
    /// @notice Stream bytes per blob: 4096 elements of 31 bytes.
    uint256 internal constant BYTES_PER_BLOB = 4096 * 31;

    /// @notice Parsing position over a posting's (or a dispute's) header bytes.
    /// @param postRoot The last header's postRoot read so far.
    /// @param depositEnd Deposit-queue position after the last header read.
    /// @param forcedEnd Forced-queue position after the last header read.
    /// @param offset Next byte to read.
    /// @param payload Total rest length of the headers read so far.
    struct Cursor {
        bytes32 postRoot;
        uint256 depositEnd;
        uint256 forcedEnd;
        uint256 offset;
        uint256 payload;
    }

    /// @notice Length of the rest a counts word describes, and its number of slots.
    /// @param counts nDeposits ‖ nTransfers ‖ nWithdraws ‖ nForced (the low 32 bits).
    /// @return length counts(4) ‖ feeAccount(3) ‖ [signature(48)] ‖ 3d + 12t + 9w + 1f.
    /// @return txs d + t + w + f.
    function restLength(uint256 counts) internal pure returns (uint256 length, uint256 txs) {
        uint256 d = (counts >> 24) & 0xff;
        uint256 t = (counts >> 16) & 0xff;
        uint256 w = (counts >> 8) & 0xff;
        uint256 f = counts & 0xff;
        txs = d + t + w + f;
        length = 7 + (t + w > 0 ? 48 : 0) + 3 * d + 12 * t + 9 * w + f;
    }

    /// @notice The counts word of the header at `data[at]`.
    /// @param data Header bytes.
    /// @param at Offset of the header.
    /// @return counts The 4 count bytes as a number.
    function countsAt(bytes calldata data, uint256 at) internal pure returns (uint256 counts) {
        assembly ("memory-safe") {
            counts := shr(224, calldataload(add(data.offset, add(at, 32))))
        }
    }

    /// @notice Parse one posted batch (count byte, then its headers) at `cur.offset`.
    /// @param data The posting's `data`.
    /// @param cur Position; advanced past the batch (queue ends, postRoot, payload updated).
    /// @return batchHash keccak256 of the batch's commitment hashes.
    /// @return n Its number of commitments.
    function postedBatch(bytes calldata data, Cursor memory cur) internal pure returns (bytes32 batchHash, uint256 n) {
        uint256 at = cur.offset;
        n = uint8(data[at]);
        if (n == 0 || n > MAX_COMMITMENTS || at + 1 + n * HEADER_LEN > data.length) revert IRollup.MalformedBatch(at);
        cur.offset = at + 1;
        batchHash = hashHeaders(data, n, cur);
    }

    /// @notice Hash `n` headers from `cur.offset` (in bounds: the caller checked), chaining the
    ///         queue ends from `cur` and checking every header's counts (sum <= 32).
    /// @param data Bytes holding the headers.
    /// @param n Number of headers (1..64).
    /// @param cur Position; advanced past the headers.
    /// @return batchHash keccak256 of the n commitment hashes.
    function hashHeaders(bytes calldata data, uint256 n, Cursor memory cur) internal pure returns (bytes32 batchHash) {
        bytes32[] memory hashes = new bytes32[](n);
        uint256 at = cur.offset;
        uint256 depositEnd = cur.depositEnd;
        uint256 forcedEnd = cur.forcedEnd;
        // Bounded: n <= 64 iterations.
        for (uint256 k = 0; k < n; ++k) {
            uint256 counts = countsAt(data, at);
            (uint256 len, uint256 txs) = restLength(counts);
            // INVARIANT: at most MAX_TXS slots per commitment, as for calldata batches.
            if (txs > MAX_TXS) revert IRollup.MalformedBatch(at);
            depositEnd += counts >> 24;
            forcedEnd += counts & 0xff;
            cur.payload += len;
            hashes[k] = commitmentHash(data, at, depositEnd, forcedEnd);
            at += HEADER_LEN;
        }
        cur.offset = at;
        cur.depositEnd = depositEnd;
        cur.forcedEnd = forcedEnd;
        cur.postRoot = bytes32(data[at - HEADER_LEN:at - HEADER_LEN + 32]);
        assembly ("memory-safe") {
            batchHash := keccak256(add(hashes, 32), shl(5, n))
        }
    }

    /// @notice keccak(postRoot ‖ depositEnd(4) ‖ forcedEnd(4) ‖ restHash) of the header at `data[at]`.
    /// @param data Bytes holding the header.
    /// @param at Its offset.
    /// @param depositEnd Deposit-queue position after the commitment.
    /// @param forcedEnd Forced-queue position after the commitment.
    /// @return h The commitment hash.
    function commitmentHash(bytes calldata data, uint256 at, uint256 depositEnd, uint256 forcedEnd)
        internal
        pure
        returns (bytes32 h)
    {
        assembly ("memory-safe") {
            let start := add(data.offset, at)
            let m := mload(0x40)
            mstore(m, calldataload(start))
            mstore(add(m, 32), shl(224, depositEnd))
            mstore(add(m, 36), shl(224, forcedEnd))
            mstore(add(m, 40), calldataload(add(start, 36)))
            h := keccak256(m, 72)
        }
    }

    /// @notice Blobs a payload of `payload` bytes occupies: max(1, ceil((5 + payload) / 126,976)).
    /// @param payload Total rest length of a posting.
    /// @return The blob count the posting transaction must carry.
    function blobsNeeded(uint256 payload) internal pure returns (uint256) {
        return (STREAM_HEADER + payload + BYTES_PER_BLOB - 1) / BYTES_PER_BLOB;
    }
}
