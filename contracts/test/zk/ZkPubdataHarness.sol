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
        uint256[] memory heads = ZkPubdata.payoutHeads(txData, txSlots, size, depth, records);
        uint256 payouts = heads.length;
        kinds = new uint8[](txSlots);
        senders = new uint256[](txSlots);
        for (uint256 t = 0; t < txSlots; ++t) {
            (kinds[t], senders[t]) = ZkPubdata.slotHead(txData, t, size, depth);
        }
        tos = new address[](payouts);
        tokens = new address[](payouts);
        amounts = new uint256[](payouts);
        uint256 recordsAt = txSlots * size;
        for (uint256 k = 0; k < payouts; ++k) {
            _checkHead(heads[k], kinds, senders);
            (tos[k], tokens[k], amounts[k]) = ZkPubdata.record(txData, recordsAt, k);
        }
    }

    /// @notice The public-data hash of a txData for chain 1, rollup address 0x..01, batch 0 and
    ///         no deposit slots.
    /// @param txData The posted slots and records.
    /// @param txSlots The rollup's transaction slots N.
    /// @param depth The tree depth.
    /// @return The hash the circuit takes as its third public input.
    function hashOf(bytes calldata txData, uint256 txSlots, uint256 depth) external view returns (uint256) {
        uint256 records = ZkPubdata.payoutSlots(txSlots);
        uint256 payouts = ZkPubdata.payoutHeads(txData, txSlots, ZkPubdata.slotBytes(depth), depth, records).length;
        bytes memory data = ZkPubdata.newData(1, address(1), 0, 0, txData.length, records - payouts);
        return ZkPubdata.hashData(data, 0, txData);
    }

    /// @notice A deposit slot to write into the public data (slot position `j`).
    struct DepositSlotIn {
        uint256 j;
        uint32 leaf;
        uint256 key;
        address token;
        uint256 amount;
    }

    /// @notice The whole public data and its hash as ZkRollup builds them (ZkPubdata.newData,
    ///         writeDeposit in the order given, hashData).
    /// @param header chainId, rollup address (as uint160) and batch index.
    /// @param depositSlots The rollup's deposit slots D.
    /// @param deposits The deposit slots written (others stay zero).
    /// @param txData The posted slots and records.
    /// @param txSlots The rollup's transaction slots N.
    /// @param depth The tree depth.
    /// @return data The bytes hashed.
    /// @return hash Their hash as the circuit's third public input.
    function publicData(
        uint256[3] calldata header,
        uint256 depositSlots,
        DepositSlotIn[] calldata deposits,
        bytes calldata txData,
        uint256 txSlots,
        uint256 depth
    ) external view returns (bytes memory data, uint256 hash) {
        uint256 records = ZkPubdata.payoutSlots(txSlots);
        uint256 payouts = ZkPubdata.payoutHeads(txData, txSlots, ZkPubdata.slotBytes(depth), depth, records).length;
        data = ZkPubdata.newData(
            header[0], address(uint160(header[1])), header[2], depositSlots, txData.length, records - payouts
        );
        for (uint256 i = 0; i < deposits.length; ++i) {
            DepositSlotIn calldata d = deposits[i];
            ZkPubdata.writeDeposit(data, d.j, d.leaf, d.key, d.token, d.amount);
        }
        hash = ZkPubdata.hashData(data, depositSlots, txData);
    }

    /// @dev A payoutHeads entry agrees with the slot-by-slot reading (a type-2 or -3 slot).
    function _checkHead(uint256 head, uint8[] memory kinds, uint256[] memory senders) private pure {
        (uint256 t, uint8 kind, uint256 from) = ZkPubdata.unpackHead(head);
        require(kind >= 2 && kind == kinds[t] && from == senders[t], "payout head mismatch");
    }
}
