// SPDX-License-Identifier: GPL-3.0-or-later
pragma solidity ^0.8.28;

import {IExitWindowTimelock} from "../governance/IExitWindowTimelock.sol";
import {IZkVerifier} from "./IZkVerifier.sol";

/// @title IZkGovernance
/// @notice The governed side of ZkRollup (docs/governance.md §5.3): three parameters, each set
///         only by the ExitWindowTimelock, i.e. after its full delay. A change that would raise
///         the exit time above what the timelock's delay covers is refused by the timelock's
///         `checkExitTime`, which reverts the whole operation.
interface IZkGovernance {
    /// @notice The freeze period was changed. It governs the idle periods that start with the
    ///         next accepted batch; the running one keeps the shorter of the two.
    /// @param oldPeriod Seconds before the change.
    /// @param newPeriod Seconds after the change.
    event FreezePeriodChanged(uint256 oldPeriod, uint256 newPeriod);
    /// @notice The verifier of the batch circuit was replaced (checks every later batch).
    /// @param oldVerifier The verifier before the change.
    /// @param newVerifier The verifier after the change.
    event BatchVerifierChanged(address oldVerifier, address newVerifier);
    /// @notice The verifier of the exit circuit was replaced (checks every later forced request
    ///         and exit; requests already queued were checked when queued).
    /// @param oldVerifier The verifier before the change.
    /// @param newVerifier The verifier after the change.
    event ExitVerifierChanged(address oldVerifier, address newVerifier);

    /// @notice Only the timelock may change a governed parameter.
    /// @param caller The refused caller.
    error OnlyTimelock(address caller);
    /// @notice A verifier address that holds no code.
    /// @param verifier The refused address.
    error NotAVerifier(address verifier);

    /// @notice Set the freeze period (timelock only; not zero).
    /// @param newPeriod Seconds without an accepted batch before the rollup freezes.
    function setFreezePeriod(uint256 newPeriod) external;

    /// @notice Replace the batch-circuit verifier (timelock only).
    /// @param newVerifier The new Groth16 verifier (must hold code).
    function setBatchVerifier(IZkVerifier newVerifier) external;

    /// @notice Replace the exit-circuit verifier (timelock only).
    /// @param newVerifier The new Groth16 verifier (must hold code).
    function setExitVerifier(IZkVerifier newVerifier) external;

    /// @notice The timelock allowed to call the setters (zero on a directly deployed rollup,
    ///         whose parameters are then fixed for good).
    /// @return timelock_ The governing timelock.
    function timelock() external view returns (IExitWindowTimelock timelock_);

    /// @notice Seconds without an accepted batch that freeze the rollup in the current idle
    ///         period: `freezePeriod` as it was at the last accepted batch, or lower if it was
    ///         lowered since.
    /// @return seconds_ The freeze period in force.
    function freezePeriodInForce() external view returns (uint256 seconds_);
}
