// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {IExitWindowTimelock} from "../governance/IExitWindowTimelock.sol";
import {IRollupGovernance} from "./IRollupGovernance.sol";
import {RollupTypes} from "./RollupTypes.sol";

/// @title RollupStore
/// @notice The optimistic rollup's state, in one ERC-7201 namespace shared by `Rollup` and its
///         governance extension `RollupGovernor` (which runs by delegatecall in the rollup's, i.e.
///         the proxy's, storage). Append fields only: tools/storage_layout.py checks it.
library RollupStore {
    /// @dev keccak256(abi.encode(uint256(keccak256("l2kit.storage.Rollup")) - 1)) & ~bytes32(uint256(0xff))
    bytes32 internal constant SLOT = 0x4233f2604bd4f94d237230196403204113f79689e0d346a915f3134c89eef800;

    /// @custom:storage-location erc7201:l2kit.storage.Rollup
    struct Layout {
        IExitWindowTimelock timelock;
        uint256 requiredBond;
        RollupTypes.Window challenge;
        uint256 forcedInclusionDelay;
        RollupTypes.Window liveness;
        uint256 deployedAt;
        uint256 batchCount;
        uint256 burned;
        mapping(uint256 index => RollupTypes.Batch) _batches;
        mapping(address proposer => uint256 amount) bondOf;
        mapping(address proposer => uint256 amount) lockedBondOf;
        uint256 bondCursor;
        mapping(address challenger => uint256 amount) rewardOf;
        mapping(bytes32 commitment => uint256 blockNumber) fraudCommitmentBlock;
        uint256 bountyCount;
        mapping(uint256 id => RollupTypes.Bounty) _bounties;
        uint256 discardedEnd;
        uint256 forcedCount;
        mapping(uint256 n => bytes32 acc) _forcedAcc;
        mapping(uint256 index => uint256 atAndDelay) forcedAt;
        uint256 depositCheckpointCount;
        uint128 depositCheckpointTime;
        uint128 depositCheckpointDelay;
        bool frozen;
        bytes32 frozenRoot;
        uint256 frozenDepositEnd;
        uint256 frozenForcedEnd;
        mapping(uint256 index => bytes32 ref) blobRef;
        // Council pause of posting (docs/governance.md §3), set by RollupGovernor.initialize:
        // zero pauser on a directly deployed rollup (nobody can pause it).
        address pauser;
        uint64 maxPauseDuration;
        bool pauseSpent;
        bool pauseNeedsProvenBug;
        uint256 pausedUntil;
    }

    /// @dev The rollup's storage namespace.
    function layout() internal pure returns (Layout storage $) {
        assembly {
            $.slot := SLOT
        }
    }

    /// @dev The window of item `index` (a batch index, or a batch count for liveness clocks).
    function window(RollupTypes.Window storage w, uint256 index) internal view returns (uint256) {
        return index < w.from ? w.old : w.current;
    }

    /// @dev Whether `value` may be parameter `which`: not zero, a bond below 2^96, a window below 2^64.
    function valid(uint256 which, uint256 value) internal pure returns (bool) {
        return value != 0 && which < 4 && value <= (which == 0 ? type(uint96).max : type(uint64).max);
    }

    /// @dev Sets parameter `which` (0 bond, 1 challenge period, 2 forced-inclusion delay,
    ///      3 liveness period) and returns its old value. The windows apply to what is posted or
    ///      queued after the change: a batch keeps the challenge window of its posting, a forced tx
    ///      or deposit checkpoint the delay of its queueing (stored with it), and the liveness
    ///      clock running at the change its period until the next batch.
    ///      The caller checks `value` with `valid` first (reverting with its own BadParameter).
    function setParam(Layout storage $, uint256 which, uint256 value) internal returns (uint256 old) {
        if (which == 0) {
            old = $.requiredBond;
            $.requiredBond = value;
        } else if (which == 2) {
            old = $.forcedInclusionDelay;
            $.forcedInclusionDelay = value;
        } else {
            // Challenge windows are per batch index (from = the first batch under the new
            // value); liveness clocks per batch count (the running clock belongs to batchCount).
            RollupTypes.Window storage w = which == 1 ? $.challenge : $.liveness;
            uint256 from = which == 1 ? $.batchCount : $.batchCount + 1;
            // After a freeze the discarded batches [batchCount, discardedEnd) keep their windows.
            if (which == 1 && $.discardedEnd > from) from = $.discardedEnd;
            old = w.current;
            if (from != w.from && old != 0) {
                // INVARIANT: a posted batch's window never changes: batches under the value
                // before the previous change must be past both windows before it is forgotten.
                if (which == 1 && w.from != 0) {
                    uint256 until = $._batches[w.from - 1].postedAt + (w.old > old ? w.old : old);
                    if (block.timestamp < until) revert IRollupGovernance.WindowChangePending(until);
                }
                w.old = uint64(old);
                w.from = uint64(from);
            }
            w.current = uint64(value);
        }
    }
}
