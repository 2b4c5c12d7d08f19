// SPDX-License-Identifier: GPL-3.0-or-later
pragma solidity ^0.8.28;

import {IZkRollup} from "./IZkRollup.sol";

/// @title ZkPubdata
/// @notice What L1 reads of the zk rollup's public data, format v2 (docs/zk.md "Public data"):
///         `txData` = txSlots compact slots of `slotBytes(depth)` bytes (bits, big-endian: type 2 |
///         from depth | to depth | float amount 40 | zero padding), then one 56-byte payout record
///         (recipient 20 | token 20 | uint128 amount) per withdrawal or forced-withdrawal slot, in
///         slot order. The contract reads the type and sender of each slot and the records; every
///         other bit is bound by the proof (the circuit accepts only the canonical encoding).
///         Mirrored by offchain/zk/pubdata.py; both decode tests/zk/vectors/pubdata_v2.json.
library ZkPubdata {
    /// @notice Bytes of a payout record.
    uint256 internal constant RECORD_BYTES = 56;
    uint8 internal constant TX_WITHDRAW = 2;
    uint8 internal constant TX_FORCED = 3;

    /// @notice Bytes of one compact slot for a tree of `depth`: ceil((2 + 2 depth + 40) / 8).
    function slotBytes(uint256 depth) internal pure returns (uint256) {
        return (2 + 2 * depth + 40 + 7) / 8;
    }

    /// @notice The payout records of a batch of `txSlots` slots: min(N, max(2, N / 4)).
    function payoutSlots(uint256 txSlots) internal pure returns (uint256) {
        uint256 quarter = txSlots / 4 > 2 ? txSlots / 4 : 2;
        return quarter < txSlots ? quarter : txSlots;
    }

    /// @notice Whether a slot type pays out on L1 (withdrawal or forced withdrawal).
    function isPayout(uint8 kind) internal pure returns (bool) {
        return kind == TX_WITHDRAW || kind == TX_FORCED;
    }

    /// @notice Type and sender leaf of compact slot `t`.
    function slotHead(bytes calldata txData, uint256 t, uint256 size, uint256 depth)
        internal
        pure
        returns (uint8 kind, uint256 from)
    {
        uint256 word;
        uint256 off = t * size;
        // 32 bytes from the slot's start (zeros past the calldata); only the first 2 + depth bits
        // are used, and they lie inside the slot (callers checked txData holds every slot).
        assembly ("memory-safe") {
            word := calldataload(add(txData.offset, off))
        }
        kind = uint8(word >> 254);
        from = (word >> (254 - depth)) & ((1 << depth) - 1);
    }

    /// @notice Payout record `k` of a txData with `txSlots` compact slots of `size` bytes.
    function record(bytes calldata txData, uint256 txSlots, uint256 size, uint256 k)
        internal
        pure
        returns (address to, address token, uint256 amount)
    {
        uint256 off = txSlots * size + k * RECORD_BYTES;
        to = address(bytes20(txData[off:off + 20]));
        token = address(bytes20(txData[off + 20:off + 40]));
        amount = uint128(bytes16(txData[off + 40:off + 56]));
    }

    /// @notice Number of payout slots; reverts unless txData is exactly the compact slots and one
    ///         record per payout slot, with at most `records` of them.
    function countPayouts(bytes calldata txData, uint256 txSlots, uint256 size, uint256 records)
        internal
        pure
        returns (uint256 payouts)
    {
        uint256 slots = txSlots * size;
        if (txData.length < slots) revert IZkRollup.BadTxDataLength(txData.length, slots);
        for (uint256 t = 0; t < txSlots; ++t) {
            if (isPayout(uint8(txData[t * size]) >> 6)) ++payouts;
        }
        if (payouts > records) revert IZkRollup.TooManyPayouts(payouts, records);
        uint256 expected = slots + payouts * RECORD_BYTES;
        if (txData.length != expected) revert IZkRollup.BadTxDataLength(txData.length, expected);
    }

    /// @notice What the circuit hashes: header | deposit slots | txData | the unused (zero)
    ///         records, as SHA-256 with its top 3 bits cleared.
    function dataHash(
        uint256 chainId,
        address rollup,
        uint256 batchIndex,
        bytes memory depositData,
        bytes calldata txData,
        uint256 unusedRecords
    ) internal pure returns (uint256) {
        bytes memory data = abi.encodePacked(
            uint64(chainId), rollup, uint32(batchIndex), depositData, txData, new bytes(unusedRecords * RECORD_BYTES)
        );
        return uint256(sha256(data)) & ((1 << 253) - 1);
    }
}
