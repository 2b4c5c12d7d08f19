// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {ICouncilPause} from "../governance/ICouncilPause.sol";
import {IExitWindowTimelock} from "../governance/IExitWindowTimelock.sol";

/// @title IRollupGovernance
/// @notice The optimistic rollup's governed parameters, set only by the ExitWindowTimelock.
///         Windows apply to what is posted or queued after the change: a batch keeps the challenge
///         window it was posted with, a forced tx or deposit checkpoint the inclusion delay it was
///         queued with, and the liveness clock running at the change keeps its period until the
///         next batch. docs/governance.md §5.3. The council's pause of posting: ICouncilPause
///         (in Stage 2 mode refused: this rollup has no proven-bug evidence entry point yet).
interface IRollupGovernance is ICouncilPause {
    /// @notice A governed parameter was changed.
    /// @param which 0 requiredBond, 1 challengePeriod, 2 forcedInclusionDelay, 3 livenessPeriod.
    /// @param oldValue The value before the change.
    /// @param newValue The value after the change.
    event ParameterChanged(uint256 which, uint256 oldValue, uint256 newValue);

    /// @notice Only the timelock may change a governed parameter.
    /// @param caller The refused caller.
    error OnlyTimelock(address caller);
    /// @notice A second challenge-period change while batches posted under the value before the
    ///         previous change may still be disputable (their windows would move).
    /// @param until Time from which the change can be made.
    error WindowChangePending(uint256 until);

    /// @notice Set the bond a proposer must hold to post (timelock only; 0 < bond <= 2^96-1).
    ///         Batches already posted keep the bond they locked.
    /// @param newBond Wei.
    function setRequiredBond(uint256 newBond) external;

    /// @notice Set the challenge period of batches posted from now on (timelock only; > 0).
    /// @param newPeriod Seconds.
    function setChallengePeriod(uint256 newPeriod) external;

    /// @notice Set the inclusion delay of forced txs and deposit checkpoints queued from now on
    ///         (timelock only; > 0).
    /// @param newDelay Seconds.
    function setForcedInclusionDelay(uint256 newDelay) external;

    /// @notice Set the liveness period, in force from the next batch posted (timelock only; > 0).
    /// @param newPeriod Seconds.
    function setLivenessPeriod(uint256 newPeriod) external;

    /// @notice The timelock allowed to call the setters (zero on a directly deployed rollup,
    ///         whose parameters are then fixed for good).
    /// @return timelock_ The governing timelock.
    function timelock() external view returns (IExitWindowTimelock timelock_);
}
