// SPDX-License-Identifier: GPL-3.0-or-later
pragma solidity ^0.8.28;

import {ZkPubdata} from "../../zk/ZkPubdata.sol";

/// @notice Test only: ZkRollup's public-data reading (ZkPubdata) behind external functions, so the
///         shared vectors (tests/zk/vectors/pubdata_v2.json) can be decoded by Solidity too.
contract ZkPubdataHarness {
    /// @notice Decode a txData as ZkRollup reads it.
    /// @param txData The posted slots and records.
    /// @param txSlots The rollup's transaction slots N.
    /// @param depth The tree depth.
    /// @return kinds The type of each slot.
    /// @return senders The sender leaf of each slot.
    /// @return tos The recipient of each payout record, in order.
    /// @return tokens The token of each payout record.
    /// @return amounts The amount of each payout record.
    function decode(bytes calldata txData, uint256 txSlots, uint256 depth)
        external
        pure
        returns (
            uint8[] memory kinds,
            uint256[] memory senders,
            address[] memory tos,
            address[] memory tokens,
            uint256[] memory amounts
        )
    {
        uint256 size = ZkPubdata.slotBytes(depth);
        uint256 records = ZkPubdata.payoutSlots(txSlots);
        uint256 payouts = ZkPubdata.countPayouts(txData, txSlots, size, records);
        kinds = new uint8[](txSlots);
        senders = new uint256[](txSlots);
        for (uint256 t = 0; t < txSlots; ++t) {
            (kinds[t], senders[t]) = ZkPubdata.slotHead(txData, t, size, depth);
        }
        tos = new address[](payouts);
        tokens = new address[](payouts);
        amounts = new uint256[](payouts);
        for (uint256 k = 0; k < payouts; ++k) {
            (tos[k], tokens[k], amounts[k]) = ZkPubdata.record(txData, txSlots, size, k);
        }
    }

    /// @notice The public-data hash of a txData for chain 1, rollup address 0x..01, batch 0 and
    ///         no deposit slots.
    /// @param txData The posted slots and records.
    /// @param txSlots The rollup's transaction slots N.
    /// @param depth The tree depth.
    /// @return The hash the circuit takes as its third public input.
    function hashOf(bytes calldata txData, uint256 txSlots, uint256 depth) external pure returns (uint256) {
        uint256 records = ZkPubdata.payoutSlots(txSlots);
        uint256 payouts = ZkPubdata.countPayouts(txData, txSlots, ZkPubdata.slotBytes(depth), records);
        return ZkPubdata.dataHash(1, address(1), 0, "", txData, records - payouts);
    }
}
