// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

/// @title SparseMerkle
/// @notice Roots of the fixed-depth (24) keccak256 account tree from a leaf and its siblings.
/// @dev node(l+1, i) = keccak256(node(l, 2i) | node(l, 2i+1)); the empty leaf is bytes32(0).
///      Siblings are 24 words, leaf level first, read from calldata.
library SparseMerkle {
    /// @notice Depth of the account tree (2^24 leaves, 3-byte indexes).
    uint256 internal constant DEPTH = 24;
    /// @notice Byte length of a sibling path in calldata.
    uint256 internal constant PATH_BYTES = DEPTH * 32;

    /// @notice The root implied by `leaf` at `index` with the siblings at `data[offset:offset+768]`.
    /// @dev The caller checks that the 768 bytes are inside `data`.
    function rootFrom(uint256 index, bytes32 leaf, bytes calldata data, uint256 offset)
        internal
        pure
        returns (bytes32 h)
    {
        assembly ("memory-safe") {
            h := leaf
            let p := add(data.offset, offset)
            for { let i := 0 } lt(i, 24) { i := add(i, 1) } {
                let sib := calldataload(add(p, shl(5, i)))
                switch and(shr(i, index), 1)
                case 0 {
                    mstore(0, h)
                    mstore(32, sib)
                }
                default {
                    mstore(0, sib)
                    mstore(32, h)
                }
                h := keccak256(0, 64)
            }
        }
    }

    /// @notice The root of the empty tree of depth 24.
    function emptyRoot() internal pure returns (bytes32 h) {
        for (uint256 i = 0; i < DEPTH; ++i) {
            h = keccak256(abi.encodePacked(h, h));
        }
    }
}
