// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {BlobData} from "../../libraries/BlobData.sol";

/// @notice Test only: exposes BlobData so blob transactions and openings are tested on chain.
contract BlobDataHarness {
    /// @notice The versioned hashes recorded by each `record` call, by record id.
    mapping(uint256 recordId => bytes32[] hashes) internal _records;
    /// @notice How many records were made.
    uint256 public recordCount;

    /// @notice A blob transaction's versioned hashes were recorded.
    /// @param recordId The id of the record (0, 1, ...).
    /// @param hashes The versioned hashes, blob 0 first.
    event BlobsRecorded(uint256 indexed recordId, bytes32[] hashes);

    /// @notice BlobData.recordBlobHashes, stored under a new record id.
    /// @param count The number of blobs the transaction must carry.
    function record(uint256 count) external {
        bytes32[] memory hashes = BlobData.recordBlobHashes(count);
        uint256 id = recordCount++;
        _records[id] = hashes;
        emit BlobsRecorded(id, hashes);
    }

    /// @notice The versioned hashes of record `recordId`.
    /// @param recordId A record id.
    function hashesOf(uint256 recordId) external view returns (bytes32[] memory) {
        return _records[recordId];
    }

    /// @notice BlobData.evaluationPoint.
    /// @param index The field element index.
    function evaluationPoint(uint256 index) external pure returns (uint256) {
        return BlobData.evaluationPoint(index);
    }

    /// @notice BlobData.openElement against blob `blobIndex` of record `recordId`.
    /// @param recordId A record id.
    /// @param blobIndex Which of the record's blobs.
    /// @param index The field element index.
    /// @param value The claimed element.
    /// @param commitment The blob's KZG commitment.
    /// @param proof The KZG proof.
    function openRecorded(
        uint256 recordId,
        uint256 blobIndex,
        uint256 index,
        bytes32 value,
        bytes calldata commitment,
        bytes calldata proof
    ) external view returns (bool) {
        BlobData.openElement(_records[recordId][blobIndex], index, value, commitment, proof);
        return true;
    }

    /// @notice BlobData.openElement, returning the gas it used (no calldata or call overhead).
    /// @param versionedHash The blob's versioned hash.
    /// @param index The field element index.
    /// @param value The claimed element.
    /// @param commitment The blob's KZG commitment.
    /// @param proof The KZG proof.
    function openElementGas(
        bytes32 versionedHash,
        uint256 index,
        bytes32 value,
        bytes calldata commitment,
        bytes calldata proof
    ) external view returns (uint256 used) {
        uint256 before = gasleft();
        BlobData.openElement(versionedHash, index, value, commitment, proof);
        used = before - gasleft();
    }
}
