// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {GovernancePausable} from "../../governance/GovernancePausable.sol";
import {IExitWindow} from "../../governance/IExitWindow.sol";
import {IExitWindowTimelock} from "../../governance/IExitWindowTimelock.sol";

/// @title MockGovernedRollup
/// @notice Test stand-in for a rollup wired to governance the way docs/governance.md plans it:
///         its exit time is forcedInclusionDelay + challengePeriod, its setters are timelock-only
///         and ask the timelock before moving the exit time, posting is pausable and everything
///         exit-like is not. `sweep` plays the malicious upgrade (takes every wei still inside).
///         `proveRoot` plays an unsound verifier, so two conflicting roots make a provable bug.
contract MockGovernedRollup is GovernancePausable, IExitWindow {
    /// @notice The timelock governing this mock.
    IExitWindowTimelock public immutable timelock;
    /// @notice Seconds a forced withdrawal may wait for inclusion.
    uint256 public forcedInclusionDelay;
    /// @notice Seconds a batch can be disputed.
    uint256 public challengePeriod;
    /// @notice Posted batches.
    uint256 public batchCount;
    /// @notice Deposited wei per user (the "L2 balance").
    mapping(address user => uint256 amount) public balanceOf;
    /// @notice When a user's forced withdrawal was requested (0: none).
    mapping(address user => uint256 timestamp) public exitRequestedAt;
    /// @notice Root accepted per batch (by the deliberately unsound mock verifier).
    mapping(uint256 batch => bytes32 root) public provenRoot;
    /// @notice Two conflicting roots were both accepted for one batch.
    bool public conflictProven;
    /// @notice Number of forced txs, freezes, fraud proofs seen (exit-like calls work while paused).
    uint256 public exitLikeCalls;

    /// @notice The caller is not the timelock.
    /// @param caller The refused caller.
    error OnlyTimelock(address caller);
    /// @notice No forced withdrawal requested, or its exit time has not passed.
    /// @param readyAt When it can complete (0: none requested).
    error ExitNotReady(uint256 readyAt);
    /// @notice Nothing to withdraw.
    error NothingToExit();

    /// @notice Deploys the mock.
    /// @param timelock_ The timelock (setter caller, pause admin).
    /// @param council The pauser.
    /// @param forcedInclusionDelay_ Initial forced inclusion delay.
    /// @param challengePeriod_ Initial challenge period.
    /// @param maxPause Longest council pause.
    /// @param stage2 Pausing needs a proven bug.
    constructor(
        IExitWindowTimelock timelock_,
        address council,
        uint256 forcedInclusionDelay_,
        uint256 challengePeriod_,
        uint256 maxPause,
        bool stage2
    ) GovernancePausable(council, address(timelock_), maxPause, stage2) {
        timelock = timelock_;
        forcedInclusionDelay = forcedInclusionDelay_;
        challengePeriod = challengePeriod_;
    }

    /// @inheritdoc IExitWindow
    function exitTime() public view returns (uint256 seconds_) {
        return forcedInclusionDelay + challengePeriod;
    }

    /// @notice Deposits msg.value for the sender.
    function deposit() external payable {
        balanceOf[msg.sender] += msg.value;
    }

    /// @notice Posting (pausable).
    function postBatch() external whenPostingNotPaused {
        batchCount += 1;
    }

    /// @notice Forced withdrawal request (never pausable).
    function requestExit() external {
        if (balanceOf[msg.sender] == 0) revert NothingToExit();
        exitRequestedAt[msg.sender] = block.timestamp;
        exitLikeCalls += 1;
    }

    /// @notice Completes a forced withdrawal once the exit time has passed (never pausable).
    function completeExit() external {
        uint256 at = exitRequestedAt[msg.sender];
        if (at == 0 || block.timestamp < at + exitTime()) revert ExitNotReady(at == 0 ? 0 : at + exitTime());
        uint256 amount = balanceOf[msg.sender];
        balanceOf[msg.sender] = 0;
        exitRequestedAt[msg.sender] = 0;
        (bool ok,) = msg.sender.call{value: amount}("");
        require(ok, "send");
    }

    /// @notice Stand-ins for forceTransaction / freeze / proveFraud / claim (never pausable).
    function exitLike() external {
        exitLikeCalls += 1;
    }

    /// @notice Accepts any root (an unsound verifier); a second, different root is a proven bug.
    /// @param batch Batch index.
    /// @param root Root "proven" for it.
    function proveRoot(uint256 batch, bytes32 root) external {
        bytes32 prev = provenRoot[batch];
        if (prev == bytes32(0)) provenRoot[batch] = root;
        else if (prev != root) conflictProven = true;
    }

    /// @notice Governed parameter (timelock only; refused if the exit time would outgrow the delay).
    /// @param value New forced inclusion delay.
    function setForcedInclusionDelay(uint256 value) external {
        _onlyTimelock();
        uint256 old = exitTime();
        forcedInclusionDelay = value;
        _afterExitTimeChange(old);
    }

    /// @notice Governed parameter (timelock only; refused if the exit time would outgrow the delay).
    /// @param value New challenge period.
    function setChallengePeriod(uint256 value) external {
        _onlyTimelock();
        uint256 old = exitTime();
        challengePeriod = value;
        _afterExitTimeChange(old);
    }

    /// @notice The malicious upgrade: sends every wei held to `to` (timelock only).
    /// @param to Receiver.
    function sweep(address to) external {
        _onlyTimelock();
        (bool ok,) = to.call{value: address(this).balance}("");
        require(ok, "send");
    }

    function _afterExitTimeChange(uint256 old) private {
        uint256 t = exitTime();
        if (t > old) timelock.checkExitTime(t);
        emit ExitTimeChanged(old, t);
    }

    function _onlyTimelock() private view {
        if (msg.sender != address(timelock)) revert OnlyTimelock(msg.sender);
    }

    function _provableBugShown() internal view override returns (bool) {
        return conflictProven;
    }
}
