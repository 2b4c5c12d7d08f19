// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

/// @title IRollupStatus
/// @notice What the bridge asks its rollup before accepting a deposit. Both l2kit rollups answer
///         it: `Rollup.frozen` (set by `freeze()`) and `ZkRollup.frozen()` (no batch for
///         `freezePeriod`, or any other condition that rollup defines).
interface IRollupStatus {
    /// @notice Whether the rollup is frozen: it credits no new deposit any more.
    function frozen() external view returns (bool);
}
