// SPDX-License-Identifier: GPL-3.0-or-later
pragma solidity ^0.8.28;

import {IZkRollup} from "./IZkRollup.sol";

/// @title ZkPubdata
/// @notice What L1 reads of the zk rollup's public data, format v2 (docs/zk.md "Public data"):
///         `txData` = txSlots compact slots of `slotBytes(depth)` bytes (bits, big-endian: type 2 |
///         from depth | to depth | float amount 40 | zero padding), then one 56-byte payout record
///         (recipient 20 | token 20 | uint128 amount) per withdrawal or forced-withdrawal slot, in
///         slot order. The contract finds the payout slots (first bit set) in one pass and reads their records; every
///         other bit is bound by the proof (the circuit accepts only the canonical encoding).
///         Mirrored by offchain/zk/pubdata.py; both decode tests/zk/vectors/pubdata_v2.json.
library ZkPubdata {
    /// @notice Bytes of a payout record.
    uint256 internal constant RECORD_BYTES = 56;
    /// @notice Bytes of a deposit slot.
    uint256 internal constant DEPOSIT_SLOT_BYTES = 72;

    /// @notice Bytes of one compact slot for a tree of `depth`: ceil((2 + 2 depth + 40) / 8).
    function slotBytes(uint256 depth) internal pure returns (uint256) {
        return (2 + 2 * depth + 40 + 7) / 8;
    }

    /// @notice The payout records of a batch of `txSlots` slots: min(N, max(2, N / 4)).
    function payoutSlots(uint256 txSlots) internal pure returns (uint256) {
        uint256 quarter = txSlots / 4 > 2 ? txSlots / 4 : 2;
        return quarter < txSlots ? quarter : txSlots;
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

    /// @notice The payout slots of a txData, in slot order, after checking its shape: reverts
    ///         unless txData is exactly the `txSlots` compact slots and one record per payout
    ///         slot, with at most `records` of them. One pass over the slots; each entry is
    ///         `t << 64 | kind << 32 | from` (slot index, type 2 or 3, sender leaf).
    function payoutHeads(bytes calldata txData, uint256 txSlots, uint256 size, uint256 depth, uint256 records)
        internal
        pure
        returns (uint256[] memory heads)
    {
        uint256 slots = txSlots * size;
        if (txData.length < slots) revert IZkRollup.BadTxDataLength(txData.length, slots);
        heads = new uint256[](records);
        uint256 count;
        // A slot pays out iff its type (the top 2 bits) is 2 or 3: iff its first bit is set. The
        // 32 bytes loaded at a slot's start reach past it (into later slots, records or the zeros
        // past the calldata), but only its first 2 + depth bits (≤ 34 < 8 * size) are used.
        assembly ("memory-safe") {
            let p := txData.offset
            let end := add(p, slots)
            let fromShift := sub(254, depth)
            let mask := sub(shl(depth, 1), 1)
            let out := add(heads, 0x20)
            for { let t := 0 } lt(p, end) {
                p := add(p, size)
                t := add(t, 1)
            } {
                let word := calldataload(p)
                if shr(255, word) {
                    if lt(count, records) {
                        let head := or(or(shl(64, t), shl(32, shr(254, word))), and(shr(fromShift, word), mask))
                        mstore(add(out, shl(5, count)), head)
                    }
                    count := add(count, 1)
                }
            }
        }
        if (count > records) revert IZkRollup.TooManyPayouts(count, records);
        uint256 expected = slots + count * RECORD_BYTES;
        if (txData.length != expected) revert IZkRollup.BadTxDataLength(txData.length, expected);
        // Shorten the array to the payouts found (the unused tail stays allocated, unread).
        assembly ("memory-safe") {
            mstore(heads, count)
        }
    }

    /// @notice Slot index, type and sender leaf of a `payoutHeads` entry.
    function unpackHead(uint256 head) internal pure returns (uint256 t, uint8 kind, uint256 from) {
        t = head >> 64;
        kind = uint8(head >> 32);
        from = uint32(head);
    }

    /// @notice Payout record `k` of a txData whose records start at byte `recordsAt` (txSlots *
    ///         slot size); the caller checked (payoutHeads) that record `k` lies inside txData.
    function record(bytes calldata txData, uint256 recordsAt, uint256 k)
        internal
        pure
        returns (address to, address token, uint256 amount)
    {
        assembly ("memory-safe") {
            let p := add(add(txData.offset, recordsAt), mul(k, 56))
            to := shr(96, calldataload(p))
            token := shr(96, calldataload(add(p, 20)))
            amount := shr(128, calldataload(add(p, 40)))
        }
    }

    /// @notice A zeroed buffer for the public data: header | `depositSlots` deposit slots |
    ///         txData (`txLength` bytes) | `unusedRecords` zero records; the header is written.
    function newData(
        uint256 chainId,
        address rollup,
        uint256 batchIndex,
        uint256 depositSlots,
        uint256 txLength,
        uint256 unusedRecords
    ) internal pure returns (bytes memory data) {
        data = new bytes(32 + depositSlots * DEPOSIT_SLOT_BYTES + txLength + unusedRecords * RECORD_BYTES);
        uint256 head = (uint256(uint64(chainId)) << 192) | (uint256(uint160(rollup)) << 32) | uint32(batchIndex);
        assembly ("memory-safe") {
            mstore(add(data, 0x20), head)
        }
    }

    /// @notice Write deposit slot `j` of `data` (a `newData` buffer): uint32 leaf | compressed key
    ///         32 | token 20 | uint128 amount (the amount's low 128 bits, as `uint128(amount)`).
    ///         Writes only the slot's 72 bytes (back to front), so slots may be written in any order.
    function writeDeposit(bytes memory data, uint256 j, uint32 leaf, uint256 key, address token, uint256 amount)
        internal
        pure
    {
        assembly ("memory-safe") {
            let p := add(add(data, 0x40), mul(j, 72))
            mstore(add(p, 40), and(amount, 0xffffffffffffffffffffffffffffffff)) // [p+40, p+72): 16 zero, amount
            mstore(add(p, 24), and(token, 0xffffffffffffffffffffffffffffffffffffffff)) // [p+24, p+56): 12 zero, token
            mstore(add(p, 4), key) // [p+4, p+36)
            // [p, p+4): the leaf, keeping the key's first 28 bytes.
            mstore(p, or(shl(224, leaf), and(mload(p), 0x00000000ffffffffffffffffffffffffffffffffffffffffffffffffffffffff)))
        }
    }

    /// @notice Copy txData after the deposit slots of `data` (a `newData` buffer of
    ///         `depositSlots` slots) and return what the circuit takes as its third public input:
    ///         the SHA-256 of all of it with its top 3 bits cleared.
    function hashData(bytes memory data, uint256 depositSlots, bytes calldata txData) internal view returns (uint256) {
        assembly ("memory-safe") {
            calldatacopy(add(add(data, 0x40), mul(depositSlots, 72)), txData.offset, txData.length)
        }
        return uint256(sha256(data)) & ((1 << 253) - 1);
    }
}
