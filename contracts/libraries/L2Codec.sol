// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

/// @title L2Codec
/// @notice Byte layout of l2kit rollup transactions and account leaves (docs/rollup-spec.md).
library L2Codec {
    uint8 internal constant TX_DEPOSIT = 0x01;
    uint8 internal constant TX_TRANSFER = 0x02;
    uint8 internal constant TX_WITHDRAW = 0x03;
    /// @notice Slot consuming the next forced tx: type | outcome(1) (0x01 applied, 0x00 skipped).
    uint8 internal constant TX_FORCED = 0x04;
    uint256 internal constant DEPOSIT_LEN = 4;
    uint256 internal constant TRANSFER_LEN = 78;
    uint256 internal constant WITHDRAW_LEN = 75;
    uint256 internal constant FORCED_LEN = 2;
    uint256 internal constant MAX_TXS = 32;
    uint256 internal constant MAX_TX_BYTES = MAX_TXS * TRANSFER_LEN;
    uint256 internal constant LEAF_BYTES = 60;

    /// @notice An account leaf: owner(20) | token(20) | balance(16) | nonce(4).
    struct Account {
        address owner;
        address token;
        uint256 balance;
        uint256 nonce;
    }

    /// @notice value = mantissa * 10^exponent of a packed amount or fee (exponent = low 5 bits).
    function unpackFloat(uint256 packed) internal pure returns (uint256) {
        return (packed >> 5) * 10 ** (packed & 31);
    }

    /// @notice Size of the tx starting with `kind`, or 0 for an unknown type.
    function txLength(uint8 kind) internal pure returns (uint256) {
        if (kind == TX_DEPOSIT) return DEPOSIT_LEN;
        if (kind == TX_TRANSFER) return TRANSFER_LEN;
        if (kind == TX_WITHDRAW) return WITHDRAW_LEN;
        if (kind == TX_FORCED) return FORCED_LEN;
        return 0;
    }

    /// @notice The first calldata word at `data[offset]` (zero-padded past the end of calldata).
    function word(bytes calldata data, uint256 offset) internal pure returns (uint256 w) {
        assembly ("memory-safe") {
            w := calldataload(add(data.offset, offset))
        }
    }

    /// @notice keccak256 of the 60-byte leaf preimage, or 0 for the empty account (owner 0).
    function leafHash(Account memory a) internal pure returns (bytes32) {
        if (a.owner == address(0)) return bytes32(0);
        return keccak256(abi.encodePacked(a.owner, a.token, uint128(a.balance), uint32(a.nonce)));
    }

    /// @notice Decode the 60-byte leaf at `data[offset]` (the caller checks the bounds).
    function readAccount(bytes calldata data, uint256 offset) internal pure returns (Account memory a) {
        uint256 w0 = word(data, offset);
        uint256 w1 = word(data, offset + 20);
        uint256 w2 = word(data, offset + 40);
        a.owner = address(uint160(w0 >> 96));
        a.token = address(uint160(w1 >> 96));
        a.balance = w2 >> 128;
        a.nonce = (w2 >> 96) & 0xffffffff;
    }
}
