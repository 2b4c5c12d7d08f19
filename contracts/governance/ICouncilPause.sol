// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

/// @title ICouncilPause
/// @notice The Security Council's pause of a rollup's *posting* (docs/governance.md §3), the same
///         on the optimistic `Rollup` and on `ZkRollup`. A pause stops only batch posting; exits,
///         forced transactions and withdrawals, freezes, proofs, refunds and claims go on.
///         Rules: (P1) a pause lasts at most `maxPauseDuration` and ends by itself; (P2) one pause
///         per timelocked `rearmPause`; (P3) in Stage 2 mode only while the rollup shows an
///         on-chain proven bug; (P4) a pause never stops the freeze clocks, and the longest pause
///         stays below the rollup's forced-inclusion (and freeze) delays.
interface ICouncilPause {
    /// @notice The Security Council's pause of posting (docs/governance.md §3).
    struct PauseConfig {
        /// The Security Council (the only account that may pause).
        address pauser;
        /// Longest single pause, seconds (below the forced-inclusion delay).
        uint64 maxPauseDuration;
        /// Stage 2 mode: pausing needs an on-chain proven bug.
        bool needsProvenBug;
    }

    /// @notice Posting was paused (posting reverts PostingIsPaused until `until`).
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

    /// @notice Pause posting for `duration` seconds (council only, once per timelocked re-arm;
    ///         in Stage 2 mode only while a bug is proven on chain).
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
}
