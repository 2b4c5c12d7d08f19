// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

/// @title BlobData
/// @notice EIP-4844 blob bindings: the versioned hashes of the current transaction's blobs, and
///         openings of single blob field elements through the point-evaluation precompile (0x0A).
/// @dev A blob is the polynomial p of degree < 4096 with p(z_i) = element i, where
///      z_i = ω^bitrev12(i), ω = 7^((r - 1) / 4096) mod r is the primitive 4096th root of unity
///      of the BLS12-381 scalar field and bitrev12 reverses the 12 low bits of i (EIP-4844's
///      bit-reversed evaluation domain). Opening element i is a KZG proof of p(z_i) = y. The
///      byte layout of l2kit payloads in blobs (31 bytes per element, top byte 0) is in
///      docs/blobs.md; this library is layout-agnostic and works on whole 32-byte elements.
///
///      INVARIANT: `openElement` returns only if `value` is element `index` of the blob whose
///      versioned hash is `versionedHash` (KZG binding, under the mainnet trusted setup).
///      Gas (Prague, bench/blobs.py): openElement ≈ 54,500 (the precompile's 50,000 included).
library BlobData {
    /// @notice The EIP-4844 point-evaluation precompile.
    address internal constant POINT_EVALUATION = address(0x0a);
    /// @notice Field elements per blob (EIP-4844 FIELD_ELEMENTS_PER_BLOB).
    uint256 internal constant FIELD_ELEMENTS_PER_BLOB = 4096;
    /// @notice The BLS12-381 scalar field order r (EIP-4844 BLS_MODULUS).
    uint256 internal constant BLS_MODULUS =
        0x73eda753299d7d483339d80809a1d80553bda402fffe5bfeffffffff00000001;
    /// @dev Equivalent to: 7 ** ((BLS_MODULUS - 1) / 4096) % BLS_MODULUS (a primitive 4096th root).
    uint256 internal constant ROOT_OF_UNITY =
        0x564c0a11a0f704f4fc3e8acfe0f8245f0ad1347b378fbf96e206da11a5d36306;
    /// @notice The point-evaluation precompile's fixed cost (EIP-4844 POINT_EVALUATION_PRECOMPILE_GAS).
    uint256 internal constant POINT_EVALUATION_GAS = 50_000;
    /// @notice Most blobs `recordBlobHashes` accepts: EIP-7594 (Osaka) caps a transaction at 6.
    uint256 internal constant MAX_BLOBS = 6;
    /// @notice How far `recordBlobHashes` looks for extra blobs: Prague's 9-blob block maximum.
    uint256 internal constant BLOB_SCAN_LIMIT = 9;
    /// @dev The versioned-hash version byte for KZG commitments, in the top byte of a word.
    bytes32 internal constant VERSION_KZG = bytes32(uint256(0x01) << 248);

    /// @notice The caller asked for `expected` blobs but the transaction carries `present`.
    error BlobCountMismatch(uint256 expected, uint256 present);
    /// @notice A batch must name 1 to MAX_BLOBS blobs.
    error BlobCountOutOfRange(uint256 count);
    /// @notice A field element index must be below 4096.
    error ElementIndexOutOfRange(uint256 index);
    /// @notice A field element value must be below the BLS12-381 modulus.
    error ElementValueOutOfRange(bytes32 value);
    /// @notice KZG commitments and proofs are 48 bytes each.
    error KzgLengthInvalid(uint256 commitmentLength, uint256 proofLength);
    /// @notice The commitment does not hash to the versioned hash (0x01 || sha256(commitment)[1:]).
    error KzgCommitmentMismatch(bytes32 versionedHash, bytes32 commitmentHash);
    /// @notice The precompile refused the opening: `value` is not element `index` of the blob.
    error PointEvaluationFailed(bytes32 versionedHash, uint256 index);
    /// @notice Too little gas left for the precompile (so its failure would not prove anything).
    error PointEvaluationGasTooLow(uint256 left);

    /// @notice The versioned hashes of the current transaction's blobs, refusing any other count.
    /// @dev Bounded: at most BLOB_SCAN_LIMIT + 1 BLOBHASH reads (3 gas each).
    /// @param count How many blobs the caller says the transaction carries (1..MAX_BLOBS).
    /// @return hashes blobhash(0) .. blobhash(count - 1).
    function recordBlobHashes(uint256 count) internal view returns (bytes32[] memory hashes) {
        if (count == 0 || count > MAX_BLOBS) revert BlobCountOutOfRange(count);
        hashes = new bytes32[](count);
        for (uint256 i = 0; i < count; ++i) {
            bytes32 h = blobhash(i);
            // INVARIANT: every named blob is present (blobhash is zero past the last blob).
            if (h == bytes32(0)) revert BlobCountMismatch(count, i);
            hashes[i] = h;
        }
        // INVARIANT: no blob beyond `count` rides along unrecorded.
        if (blobhash(count) != bytes32(0)) {
            uint256 present = count + 1;
            while (present < BLOB_SCAN_LIMIT && blobhash(present) != bytes32(0)) ++present;
            revert BlobCountMismatch(count, present);
        }
    }

    /// @notice The versioned hash of a KZG commitment: 0x01 || sha256(commitment)[1:].
    /// @param commitment A 48-byte KZG commitment.
    /// @return The 32-byte versioned hash.
    function versionedHash(bytes calldata commitment) internal pure returns (bytes32) {
        return (sha256(commitment) & ~bytes32(uint256(0xff) << 248)) | VERSION_KZG;
    }

    /// @notice z for element `index`: ω^bitrev12(index) mod r, the bit-reversed domain point.
    /// @param index The field element index (0..4095).
    /// @return z The evaluation point of that element.
    function evaluationPoint(uint256 index) internal pure returns (uint256 z) {
        if (index >= FIELD_ELEMENTS_PER_BLOB) revert ElementIndexOutOfRange(index);
        uint256 e = 0;
        // Reverse the 12 low bits of index.
        for (uint256 b = 0; b < 12; ++b) {
            e = (e << 1) | ((index >> b) & 1);
        }
        // Square-and-multiply: at most 12 squarings (e < 4096).
        z = 1;
        uint256 base = ROOT_OF_UNITY;
        while (e != 0) {
            if (e & 1 == 1) z = mulmod(z, base, BLS_MODULUS);
            base = mulmod(base, base, BLS_MODULUS);
            e >>= 1;
        }
    }

    /// @notice Prove that element `index` of the blob `blobHash` is `value`, or revert.
    /// @dev Checks in order: index, value, lengths, commitment-to-hash, then the precompile.
    /// @param blobHash The blob's versioned hash (as recorded from blobhash).
    /// @param index The field element index (0..4095).
    /// @param value The claimed 32-byte big-endian element.
    /// @param commitment The blob's 48-byte KZG commitment.
    /// @param proof The 48-byte KZG proof of p(z_index) = value.
    function openElement(
        bytes32 blobHash,
        uint256 index,
        bytes32 value,
        bytes calldata commitment,
        bytes calldata proof
    ) internal view {
        uint256 z = evaluationPoint(index);
        if (uint256(value) >= BLS_MODULUS) revert ElementValueOutOfRange(value);
        if (commitment.length != 48 || proof.length != 48) {
            revert KzgLengthInvalid(commitment.length, proof.length);
        }
        bytes32 computed = versionedHash(commitment);
        if (computed != blobHash) revert KzgCommitmentMismatch(blobHash, computed);
        // A call with too little gas fails like a wrong proof: refuse to conclude from it.
        if (gasleft() < POINT_EVALUATION_GAS + 5_000) revert PointEvaluationGasTooLow(gasleft());
        (bool ok, bytes memory out) = POINT_EVALUATION.staticcall{gas: POINT_EVALUATION_GAS}(
            abi.encodePacked(blobHash, z, value, commitment, proof)
        );
        // The precompile returns FIELD_ELEMENTS_PER_BLOB || BLS_MODULUS on success.
        if (!ok || out.length != 64) revert PointEvaluationFailed(blobHash, index);
        (uint256 n, uint256 modulus) = abi.decode(out, (uint256, uint256));
        if (n != FIELD_ELEMENTS_PER_BLOB || modulus != BLS_MODULUS) {
            revert PointEvaluationFailed(blobHash, index);
        }
    }
}
