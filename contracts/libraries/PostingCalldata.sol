// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

/// @title PostingCalldata
/// @notice The one calldata layout a batch posting may have, so that the bytes the rollup hashes are
///         exactly the bytes every validator extracts from the posting transaction's input:
///         `selector(4) | expectedPreRoot(32) | 0x40(32) | length(32) | data(length) | zeros`,
///         the zeros padding `data` to a multiple of 32 bytes and nothing after them
///         (docs/rollup-spec.md, "Posting calldata"; mirrored by offchain/rollup/posting.py).
library PostingCalldata {
    /// @notice Bytes before `data`: selector, expectedPreRoot, offset word, length word.
    uint256 internal constant HEAD_LEN = 100;
    /// @notice The only accepted value of the offset word (data right after the two head words).
    uint256 internal constant DATA_OFFSET = 0x40;

    /// @notice Whether the current call's calldata is the canonical encoding of
    ///         `f(bytes32, bytes data)` (`data` as decoded by Solidity from that calldata).
    /// @param data The `bytes calldata` argument (its offset and length come from the ABI decoder).
    function isCanonical(bytes calldata data) internal pure returns (bool ok) {
        assembly ("memory-safe") {
            let len := data.length
            // The ABI decoder bounded offset + len by calldatasize, so none of this overflows.
            let padded := and(add(len, 31), not(31))
            ok := and(
                and(eq(calldataload(36), DATA_OFFSET), eq(data.offset, HEAD_LEN)),
                // Exact length, and the word right after `data` (its padding, then the zeros that
                // calldataload reads past the end) is zero.
                and(eq(calldatasize(), add(HEAD_LEN, padded)), iszero(calldataload(add(HEAD_LEN, len))))
            )
        }
    }
}
