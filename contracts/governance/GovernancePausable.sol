// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

/// @title GovernancePausable
/// @notice Emergency pause of *posting* for the l2kit rollups, held by the Security Council.
///         A pause stops only the functions a rollup marks `whenPostingNotPaused` (postBatch,
///         submitBatch); exits, forced transactions, forced withdrawals, freezes, fraud proofs,
///         refunds and claims are never marked and so are never pausable.
/// @dev Rules, each enforced below:
///      (P1) a pause lasts at most `maxPauseDuration` and ends by itself (no call needed);
///      (P2) one council pause disarms the pause: the next needs `rearmPause()` from the timelock,
///           so pauses cannot be chained back to back without a timelocked, visible operation;
///      (P3) in Stage 2 mode (`pauseNeedsProvenBug`) the council can pause only while the rollup
///           reports an on-chain proven bug (`_provableBugShown()`, e.g. two conflicting batches
///           both accepted as valid);
///      (P4) a pause never stops the rollup's freeze clocks (the inheriting rollup must not read
///           `postingPaused()` in `freeze`/`freezeReason`): if posting is held past the forced
///           inclusion delay anyone can freeze, so the exit time never grows by a pause.
///      Proxy-ready: the settings are immutables (they live in the implementation's code, which
///      every proxy of it shares), and the two state variables sit in an ERC-7201 namespaced slot
///      whose zero value means "not paused, armed", so no initializer is needed behind a proxy and
///      no storage slot of the inheriting rollup can collide with them.
abstract contract GovernancePausable {
    /// @custom:storage-location erc7201:l2kit.storage.GovernancePausable
    struct PauseStorage {
        /// Posting is paused while block.timestamp < pausedUntil.
        uint256 pausedUntil;
        /// The council used its pause since the last re-arm.
        bool spent;
    }

    /// @dev keccak256(abi.encode(uint256(keccak256("l2kit.storage.GovernancePausable")) - 1))
    ///      & ~bytes32(uint256(0xff)) (ERC-7201).
    bytes32 private constant PAUSE_STORAGE = 0x3a47d3dfd6efff2dfb7e8bf6acf7a13a4825ef4f8621c3d5fb2ec87b5a5c8a00;

    /// @notice Account allowed to pause (the Security Council).
    address public immutable pauser;
    /// @notice Account allowed to re-arm the pause (the timelock).
    address public immutable pauseAdmin;
    /// @notice Longest single pause, in seconds.
    uint256 public immutable maxPauseDuration;
    /// @notice Stage 2 mode: pausing needs an on-chain proven bug.
    bool public immutable pauseNeedsProvenBug;

    /// @notice Emitted when posting is paused.
    /// @param by The pauser.
    /// @param until Timestamp at which the pause ends by itself.
    event PostingPaused(address indexed by, uint256 until);
    /// @notice Emitted when a pause is lifted before it expires.
    /// @param by The pauser or the timelock.
    event PostingUnpaused(address indexed by);
    /// @notice Emitted when the timelock re-arms the pause.
    event PauseRearmed();

    /// @notice The caller may not do this.
    /// @param caller The refused caller.
    error NotAuthorized(address caller);
    /// @notice Posting is paused.
    /// @param until Timestamp at which the pause ends.
    error PostingIsPaused(uint256 until);
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
    /// @notice A pause duration of 0 or a zero pauser / admin at deployment.
    error BadPauseConfig();

    /// @notice Marks a function that stops while posting is paused.
    modifier whenPostingNotPaused() {
        uint256 until = _pause().pausedUntil;
        if (block.timestamp < until) revert PostingIsPaused(until);
        _;
    }

    /// @notice Sets who may pause and re-arm, and the bounds.
    /// @param pauser_ The Security Council.
    /// @param pauseAdmin_ The timelock.
    /// @param maxPauseDuration_ Longest single pause in seconds (> 0).
    /// @param pauseNeedsProvenBug_ Stage 2 mode.
    constructor(address pauser_, address pauseAdmin_, uint256 maxPauseDuration_, bool pauseNeedsProvenBug_) {
        if (pauser_ == address(0) || pauseAdmin_ == address(0) || maxPauseDuration_ == 0) revert BadPauseConfig();
        pauser = pauser_;
        pauseAdmin = pauseAdmin_;
        maxPauseDuration = maxPauseDuration_;
        pauseNeedsProvenBug = pauseNeedsProvenBug_;
    }

    /// @notice Pauses posting for `duration` seconds (council only, once per re-arm).
    /// @param duration Seconds, 1..maxPauseDuration.
    function pausePosting(uint256 duration) external {
        if (msg.sender != pauser) revert NotAuthorized(msg.sender);
        // (P3): in Stage 2 the council acts only on a bug the chain itself can see.
        if (pauseNeedsProvenBug && !_provableBugShown()) revert NoProvenBug();
        PauseStorage storage $ = _pause();
        // (P2): one pause per timelocked re-arm.
        if ($.spent) revert PauseNotArmed();
        // (P1): bounded, and ends by itself.
        if (duration == 0 || duration > maxPauseDuration) revert BadPauseDuration(duration, maxPauseDuration);
        if (block.timestamp < $.pausedUntil) revert PostingIsPaused($.pausedUntil);
        $.spent = true;
        $.pausedUntil = block.timestamp + duration;
        emit PostingPaused(msg.sender, block.timestamp + duration);
    }

    /// @notice Lifts a running pause early (council or timelock).
    function unpausePosting() external {
        if (msg.sender != pauser && msg.sender != pauseAdmin) revert NotAuthorized(msg.sender);
        PauseStorage storage $ = _pause();
        if (block.timestamp >= $.pausedUntil) revert PostingNotPaused();
        $.pausedUntil = block.timestamp;
        emit PostingUnpaused(msg.sender);
    }

    /// @notice Lets the council pause once more (timelock only, so it waits the full delay).
    function rearmPause() external {
        if (msg.sender != pauseAdmin) revert NotAuthorized(msg.sender);
        _pause().spent = false;
        emit PauseRearmed();
    }

    /// @notice Whether posting is paused now.
    /// @return paused True while a pause runs.
    function postingPaused() public view returns (bool paused) {
        return block.timestamp < _pause().pausedUntil;
    }

    /// @notice Timestamp at which the current (or last) pause ends.
    /// @return until Seconds since the epoch (0: never paused).
    function pausedUntil() external view returns (uint256 until) {
        return _pause().pausedUntil;
    }

    /// @notice Whether the council may pause (cleared by a pause, set again by the timelock).
    /// @return armed True when a pause is available.
    function pauseArmed() external view returns (bool armed) {
        return !_pause().spent;
    }

    function _pause() private pure returns (PauseStorage storage $) {
        bytes32 slot = PAUSE_STORAGE;
        assembly {
            $.slot := slot
        }
    }

    /// @dev Whether the chain shows a bug the council may act on in Stage 2 mode. Default: none.
    function _provableBugShown() internal view virtual returns (bool) {
        return false;
    }
}
