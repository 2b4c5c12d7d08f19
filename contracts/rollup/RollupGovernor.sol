// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {Initializable} from "@openzeppelin/contracts/proxy/utils/Initializable.sol";
import {IExitWindow} from "../governance/IExitWindow.sol";
import {IExitWindowTimelock} from "../governance/IExitWindowTimelock.sol";
import {IRollup} from "./IRollup.sol";
import {IRollupGovernance} from "./IRollupGovernance.sol";
import {RollupStore} from "./RollupStore.sol";

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
    function initialize(
        IExitWindowTimelock timelock_,
        uint256 requiredBond_,
        uint256 challengePeriod_,
        uint256 forcedInclusionDelay_,
        uint256 livenessPeriod_
    ) external initializer {
        if (address(timelock_) == address(0)) revert IRollup.BadParameter();
        RollupStore.Layout storage $ = RollupStore.layout();
        $.timelock = timelock_;
        _set($, 0, requiredBond_);
        _set($, 1, challengePeriod_);
        _set($, 2, forcedInclusionDelay_);
        _set($, 3, livenessPeriod_);
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

    function _set(RollupStore.Layout storage $, uint256 which, uint256 value) private returns (uint256 old) {
        if (!RollupStore.valid(which, value)) revert IRollup.BadParameter();
        return RollupStore.setParam($, which, value);
    }
}
