// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

/// @title IExitWindowTimelock
/// @notice The part of the l2kit timelock a governed system calls from its parameter setters.
interface IExitWindowTimelock {
    /// @notice Reverts unless a governed system may move its exit time to `newExitTime`: the
    ///         timelock's configured delay must stay at least `newExitTime + margin`.
    /// @param newExitTime The exit time the caller would have after the change.
    function checkExitTime(uint256 newExitTime) external view;

    /// @notice The smallest delay any operation may be scheduled with right now.
    /// @return floor max(exitTime of every governed system) + margin.
    function delayFloor() external view returns (uint256 floor);
}
