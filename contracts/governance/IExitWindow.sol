// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

/// @title IExitWindow
/// @notice What every system governed by the l2kit timelock exposes: the longest time, in seconds,
///         a user who starts now needs to get all of their funds out without anyone's help.
/// @dev Optimistic rollup: forcedInclusionDelay + challengePeriod (a forced withdrawal waits at
///      most the inclusion delay for a batch, or else anyone freezes; then the challenge window).
///      zk rollup: its forced-withdrawal (freeze) delay. A council pause adds nothing because a
///      pause stops posting only and never the freeze clocks (GovernancePausable). Bridges report
///      the exitTime of the rollup they serve. docs/governance.md, "Exit window".
interface IExitWindow {
    /// @notice Emitted when a parameter change moved the exit time.
    /// @param oldExitTime Seconds needed to exit before the change.
    /// @param newExitTime Seconds needed to exit after the change.
    event ExitTimeChanged(uint256 oldExitTime, uint256 newExitTime);

    /// @notice Seconds a user who starts exiting now needs, at worst, to have all funds out.
    /// @return seconds_ The worst-case exit time under the current parameters.
    function exitTime() external view returns (uint256 seconds_);
}
