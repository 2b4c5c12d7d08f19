// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {Initializable} from "@openzeppelin/contracts/proxy/utils/Initializable.sol";
import {IExitWindow} from "../governance/IExitWindow.sol";
import {ICouncilPause} from "../governance/ICouncilPause.sol";
import {IExitWindowTimelock} from "../governance/IExitWindowTimelock.sol";
import {IRollup} from "./IRollup.sol";
import {IRollupGovernance} from "./IRollupGovernance.sol";
import {RollupStore} from "./RollupStore.sol";
import {SignatureDispute} from "./SignatureDispute.sol";

/// @dev The one Rollup getter the governor reads (through the rollup's own address).
interface IRollupSignatureDispute {
    function signatureDispute() external view returns (SignatureDispute dispute);
}

/// @title RollupGovernor
/// @notice The optimistic rollup's governance functions (initialize, parameter setters, exitTime),
///         kept out of `Rollup` for its code size (EIP-170). `Rollup` creates it in its constructor
///         and forwards every call it does not know to it by delegatecall, so these functions run
///         in the rollup's storage (under a proxy: the proxy's) with the original caller.
///         Call them on the rollup address with this contract's ABI. docs/governance.md §5.1.1.
/// @dev Called directly, it only ever touches its own storage, which guards nothing.
contract RollupGovernor is IRollupGovernance, IExitWindow, Initializable {
    constructor() {
        _disableInitializers();
    }

    /// @notice Initialize a proxy's storage (once, in the proxy's constructor data). The
    ///         implementation's immutables (bridge, registry, dispute contracts) are shared.
    /// @param timelock_ The ExitWindowTimelock allowed to call the setters (not zero).
    /// @param requiredBond_ Bond needed to post (wei, 0 < bond < 2^96).
    /// @param challengePeriod_ Dispute window in seconds (> 0).
    /// @param forcedInclusionDelay_ Inclusion deadline of forced txs and checkpointed deposits (s, > 0).
    /// @param livenessPeriod_ Longest time without a newly final batch before a freeze (s, > 0).
    /// @param pause The council's posting pause: pauser (the Security Council, not zero), longest
    ///        pause (0 < max < forcedInclusionDelay_), Stage 2 mode (pausing needs a proven bug).
    function initialize(
        IExitWindowTimelock timelock_,
        uint256 requiredBond_,
        uint256 challengePeriod_,
        uint256 forcedInclusionDelay_,
        uint256 livenessPeriod_,
        PauseConfig calldata pause
    ) external initializer {
        if (address(timelock_) == address(0) || pause.pauser == address(0)) revert IRollup.BadParameter();
        RollupStore.Layout storage $ = RollupStore.layout();
        $.timelock = timelock_;
        _set($, 0, requiredBond_);
        _set($, 1, challengePeriod_);
        _set($, 2, forcedInclusionDelay_);
        _set($, 3, livenessPeriod_);
        // INVARIANT (P4): a pause alone never lets anyone freeze: it ends before any forced tx
        // queued at its start can expire.
        if (pause.maxPauseDuration == 0 || pause.maxPauseDuration >= forcedInclusionDelay_) {
            revert IRollup.BadParameter();
        }
        $.pauser = pause.pauser;
        $.maxPauseDuration = pause.maxPauseDuration;
        $.pauseNeedsProvenBug = pause.needsProvenBug;
        $.deployedAt = block.timestamp;
    }

    /// @inheritdoc IRollupGovernance
    function setRequiredBond(uint256 newBond) external {
        _govern(0, newBond);
    }

    /// @inheritdoc IRollupGovernance
    function setChallengePeriod(uint256 newPeriod) external {
        _govern(1, newPeriod);
    }

    /// @inheritdoc IRollupGovernance
    function setForcedInclusionDelay(uint256 newDelay) external {
        _govern(2, newDelay);
    }

    /// @inheritdoc IRollupGovernance
    function setLivenessPeriod(uint256 newPeriod) external {
        _govern(3, newPeriod);
    }

    /// @inheritdoc IExitWindow
    /// @dev A forced withdrawal waits at most the inclusion delay for a batch (or else anyone
    ///      freezes and exits from the last final root), then that batch's challenge window.
    function exitTime() public view returns (uint256 seconds_) {
        RollupStore.Layout storage $ = RollupStore.layout();
        return $.forcedInclusionDelay + $.challenge.current;
    }

    /// @notice The BLS tag L2 signatures of this rollup are made under and the signature dispute
    ///         checks them with: prefix ‖ chainId ‖ the rollup's address (under a proxy the
    ///         proxy's, never the implementation's). docs/bls.md §3.2.
    /// @return dst The 103-byte tag.
    function signingDst() external view returns (bytes memory dst) {
        return IRollupSignatureDispute(address(this)).signatureDispute().signingDst(address(this));
    }

    /// @inheritdoc IRollupGovernance
    function timelock() external view returns (IExitWindowTimelock timelock_) {
        return RollupStore.layout().timelock;
    }

    function _govern(uint256 which, uint256 value) private {
        RollupStore.Layout storage $ = RollupStore.layout();
        if (msg.sender != address($.timelock) || msg.sender == address(0)) revert OnlyTimelock(msg.sender);
        uint256 oldExit = exitTime();
        emit ParameterChanged(which, _set($, which, value), value);
        uint256 t = exitTime();
        if (t == oldExit) return;
        // INVARIANT: the exit time never outgrows the timelock's delay (the timelock reverts).
        if (t > oldExit) $.timelock.checkExitTime(t);
        emit ExitTimeChanged(oldExit, t);
    }

    // ------------------------------------------------------------------ council pause

    /// @inheritdoc ICouncilPause
    function pausePosting(uint256 duration) external {
        RollupStore.Layout storage $ = RollupStore.layout();
        if (msg.sender != $.pauser || msg.sender == address(0)) revert NotAuthorized(msg.sender);
        // (P3) Stage 2 mode: the optimistic rollup has no evidence entry point for a proven bug
        // yet (docs/governance.md §2.4), so none is ever shown and the council cannot pause.
        if ($.pauseNeedsProvenBug) revert NoProvenBug();
        // (P2) one pause per timelocked re-arm.
        if ($.pauseSpent) revert PauseNotArmed();
        // (P1) bounded, and ends by itself.
        uint256 max = $.maxPauseDuration;
        if (duration == 0 || duration > max) revert BadPauseDuration(duration, max);
        if (block.timestamp < $.pausedUntil) revert IRollup.PostingIsPaused($.pausedUntil);
        $.pauseSpent = true;
        $.pausedUntil = block.timestamp + duration;
        emit PostingPaused(msg.sender, block.timestamp + duration);
    }

    /// @inheritdoc ICouncilPause
    function unpausePosting() external {
        RollupStore.Layout storage $ = RollupStore.layout();
        if ((msg.sender != $.pauser && msg.sender != address($.timelock)) || msg.sender == address(0)) {
            revert NotAuthorized(msg.sender);
        }
        if (block.timestamp >= $.pausedUntil) revert PostingNotPaused();
        $.pausedUntil = block.timestamp;
        emit PostingUnpaused(msg.sender);
    }

    /// @inheritdoc ICouncilPause
    function rearmPause() external {
        RollupStore.Layout storage $ = RollupStore.layout();
        if (msg.sender != address($.timelock) || msg.sender == address(0)) revert NotAuthorized(msg.sender);
        $.pauseSpent = false;
        emit PauseRearmed();
    }

    /// @inheritdoc ICouncilPause
    function postingPaused() external view returns (bool paused) {
        return block.timestamp < RollupStore.layout().pausedUntil;
    }

    /// @inheritdoc ICouncilPause
    function pausedUntil() external view returns (uint256 until) {
        return RollupStore.layout().pausedUntil;
    }

    /// @inheritdoc ICouncilPause
    function pauseArmed() external view returns (bool armed) {
        return !RollupStore.layout().pauseSpent;
    }

    /// @inheritdoc ICouncilPause
    function pauseConfig() external view returns (PauseConfig memory config) {
        RollupStore.Layout storage $ = RollupStore.layout();
        return PauseConfig($.pauser, $.maxPauseDuration, $.pauseNeedsProvenBug);
    }

    function _set(RollupStore.Layout storage $, uint256 which, uint256 value) private returns (uint256 old) {
        if (!RollupStore.valid(which, value)) revert IRollup.BadParameter();
        // INVARIANT (P4): the forced-inclusion delay stays above the longest pause.
        if (which == 2 && value <= $.maxPauseDuration) revert IRollup.BadParameter();
        return RollupStore.setParam($, which, value);
    }
}
