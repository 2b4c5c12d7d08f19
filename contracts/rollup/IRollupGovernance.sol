// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {IExitWindowTimelock} from "../governance/IExitWindowTimelock.sol";

/// @title IRollupGovernance
/// @notice The optimistic rollup's governed parameters, set only by the ExitWindowTimelock.
///         Windows apply to what is posted or queued after the change: a batch keeps the challenge
///         window it was posted with, a forced tx or deposit checkpoint the inclusion delay it was
///         queued with, and the liveness clock running at the change keeps its period until the
///         next batch. docs/governance.md §5.3.
interface IRollupGovernance {
    /// @notice A governed parameter was changed.
    /// @param which 0 requiredBond, 1 challengePeriod, 2 forcedInclusionDelay, 3 livenessPeriod.
    /// @param oldValue The value before the change.
    /// @param newValue The value after the change.
    event ParameterChanged(uint256 which, uint256 oldValue, uint256 newValue);

    /// @notice The Security Council's pause of posting (docs/governance.md §3).
    struct PauseConfig {
        /// The Security Council (the only account that may pause).
        address pauser;
        /// Longest single pause, seconds (below the forced-inclusion delay).
        uint64 maxPauseDuration;
        /// Stage 2 mode: pausing needs an on-chain proven bug.
        bool needsProvenBug;
    }

    /// @notice Posting was paused (postBatch, postBlobBatches revert PostingIsPaused).
    /// @param by The pauser.
    /// @param until Timestamp at which the pause ends by itself.
    event PostingPaused(address indexed by, uint256 until);
    /// @notice A pause was lifted before it expired.
    /// @param by The pauser or the timelock.
    event PostingUnpaused(address indexed by);
    /// @notice The timelock re-armed the council's pause.
    event PauseRearmed();

    /// @notice The caller may not pause, unpause or re-arm.
    /// @param caller The refused caller.
    error NotAuthorized(address caller);
    /// @notice Posting is not paused.
    error PostingNotPaused();
    /// @notice The council already used its pause; the timelock must re-arm it.
    error PauseNotArmed();
    /// @notice A zero or too long pause.
    /// @param duration The asked duration.
    /// @param max The longest allowed.
    error BadPauseDuration(uint256 duration, uint256 max);
    /// @notice Stage 2 mode and no bug is proven on chain.
    error NoProvenBug();

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

    /// @notice Pause posting for `duration` seconds (council only, once per timelocked re-arm,
    ///         never in Stage 2 mode). Exits, forced txs, freezes, proofs and claims go on.
    /// @param duration Seconds, 1..maxPauseDuration.
    function pausePosting(uint256 duration) external;

    /// @notice Lift a running pause early (council or timelock).
    function unpausePosting() external;

    /// @notice Let the council pause once more (timelock only: it waits the full delay).
    function rearmPause() external;

    /// @notice Whether posting is paused now.
    /// @return paused True while a pause runs.
    function postingPaused() external view returns (bool paused);

    /// @notice When the current (or last) pause ends.
    /// @return until Seconds since the epoch (0: never paused).
    function pausedUntil() external view returns (uint256 until);

    /// @notice Whether the council may pause (cleared by a pause, set again by the timelock).
    /// @return armed True when a pause is available.
    function pauseArmed() external view returns (bool armed);

    /// @notice The pause's settings (fixed at initialize; zero pauser: nobody can pause).
    /// @return config Pauser, longest pause, Stage 2 mode.
    function pauseConfig() external view returns (PauseConfig memory config);

    /// @notice The timelock allowed to call the setters (zero on a directly deployed rollup,
    ///         whose parameters are then fixed for good).
    /// @return timelock_ The governing timelock.
    function timelock() external view returns (IExitWindowTimelock timelock_);
}
