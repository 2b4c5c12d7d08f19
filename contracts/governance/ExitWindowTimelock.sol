// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {TimelockController} from "@openzeppelin/contracts/governance/TimelockController.sol";
import {IExitWindow} from "./IExitWindow.sol";
import {IExitWindowTimelock} from "./IExitWindowTimelock.sol";

/// @title ExitWindowTimelock
/// @notice OpenZeppelin's TimelockController whose delay can never fall below the time users need
///         to leave: every operation waits at least max(exitTime() of every governed system) +
///         `margin` seconds, so a user who sees `CallScheduled` and starts exiting at once is out
///         before the change can execute.
/// @dev Three rules keep that true, each enforced here or by the governed system:
///      (1) `schedule`/`scheduleBatch` refuse a delay below `delayFloor()` (`DelayBelowExitWindow`);
///      (2) `updateDelay` refuses a configured delay below `delayFloor()`;
///      (3) a governed system's setter calls `checkExitTime(newExitTime)`, which refuses an exit time
///          whose floor would exceed the configured delay (so a raise can't outgrow operations that
///          were scheduled with the old floor). `getMinDelay()` also returns max(configured, floor),
///          so even a system that forgot rule (3) cannot get an operation through below the floor.
///      No admin besides the timelock itself: role changes go through the delay as well.
///      Governed systems can be added (through the delay) and never removed: a retired system keeps
///      contributing its exit time, which errs on the users' side. docs/governance.md.
contract ExitWindowTimelock is TimelockController, IExitWindowTimelock {
    /// @notice Bound on governed systems (keeps `delayFloor` a bounded loop).
    uint256 public constant MAX_GOVERNED = 16;

    /// @notice Seconds added to the longest exit time (reaction time: see, decide, send).
    uint256 public immutable margin;

    /// @dev The configured delay. OZ keeps its own `_minDelay` private and sets it only in an
    ///      external `updateDelay` that cannot be extended, so this contract keeps the value itself
    ///      and overrides both `getMinDelay` and `updateDelay`; OZ's copy is never read.
    uint256 private _configuredDelay;
    /// @dev The governed systems, in registration order.
    IExitWindow[] private _governed;
    /// @notice Whether `system` is governed (counted in the floor).
    mapping(address system => bool governed) public isGoverned;

    /// @notice Emitted when a system starts counting in the delay floor.
    /// @param system The governed system.
    /// @param exitTime Its exit time when it was added.
    event GovernedAdded(address indexed system, uint256 exitTime);

    /// @notice An operation was scheduled with less delay than users need to exit.
    /// @param delay The delay asked for.
    /// @param floor The smallest delay allowed now (longest exit time + margin).
    error DelayBelowExitWindow(uint256 delay, uint256 floor);
    /// @notice A governed system's new exit time (plus margin) would exceed the timelock's delay.
    /// @param newExitTime The exit time the system would have.
    /// @param margin_ The margin on top.
    /// @param delay The timelock's configured delay.
    error ExitTimeAboveDelay(uint256 newExitTime, uint256 margin_, uint256 delay);
    /// @notice A non-zero admin was passed: only the timelock administers itself.
    /// @param admin The refused admin.
    error AdminNotAllowed(address admin);
    /// @notice The system is already governed, or is the zero address.
    /// @param system The refused system.
    error BadGovernedSystem(address system);
    /// @notice MAX_GOVERNED systems are governed already.
    error TooManyGoverned();

    /// @notice Deploys the timelock; `minDelay` must already cover every governed system's exit.
    /// @param minDelay Configured delay in seconds (at least the floor).
    /// @param proposers Accounts that may schedule (they also get the canceller role, as in OZ).
    /// @param executors Accounts that may execute ready operations (address(0): anyone).
    /// @param cancellers Extra accounts that may only cancel (e.g. the Security Council).
    /// @param admin Must be address(0): the timelock is its own and only admin.
    /// @param margin_ Seconds of reaction time on top of the longest exit time.
    /// @param governed Systems whose exit time bounds the delay from below.
    constructor(
        uint256 minDelay,
        address[] memory proposers,
        address[] memory executors,
        address[] memory cancellers,
        address admin,
        uint256 margin_,
        IExitWindow[] memory governed
    ) TimelockController(minDelay, proposers, executors, address(0)) {
        if (admin != address(0)) revert AdminNotAllowed(admin);
        margin = margin_;
        _configuredDelay = minDelay;
        for (uint256 i = 0; i < cancellers.length; ++i) {
            _grantRole(CANCELLER_ROLE, cancellers[i]);
        }
        for (uint256 i = 0; i < governed.length; ++i) {
            _addGoverned(governed[i]);
        }
        uint256 floor = delayFloor();
        // INVARIANT: the configured delay covers the longest exit from the first block on.
        if (minDelay < floor) revert DelayBelowExitWindow(minDelay, floor);
    }

    /*//////////////////////////////////////////////////////////////
                                 VIEWS
    //////////////////////////////////////////////////////////////*/

    /// @inheritdoc IExitWindowTimelock
    function delayFloor() public view returns (uint256 floor) {
        uint256 longest = 0;
        uint256 n = _governed.length;
        for (uint256 i = 0; i < n; ++i) {
            uint256 t = _governed[i].exitTime();
            if (t > longest) longest = t;
        }
        return longest + margin;
    }

    /// @notice The delay every new operation waits at least: max(configured delay, floor).
    /// @return delay Seconds.
    function getMinDelay() public view override returns (uint256 delay) {
        uint256 configured = _configuredDelay;
        uint256 floor = delayFloor();
        return configured > floor ? configured : floor;
    }

    /// @notice The configured delay (as set at deployment or by `updateDelay`), without the floor.
    /// @return delay Seconds.
    function configuredDelay() external view returns (uint256 delay) {
        return _configuredDelay;
    }

    /// @notice The governed systems, in registration order.
    /// @return systems Their addresses.
    function governedSystems() external view returns (IExitWindow[] memory systems) {
        return _governed;
    }

    /// @inheritdoc IExitWindowTimelock
    function checkExitTime(uint256 newExitTime) external view {
        uint256 configured = _configuredDelay;
        // INVARIANT: a governed system's exit time + margin never exceeds the configured delay.
        if (newExitTime + margin > configured) revert ExitTimeAboveDelay(newExitTime, margin, configured);
    }

    /*//////////////////////////////////////////////////////////////
                              OPERATIONS
    //////////////////////////////////////////////////////////////*/

    /// @notice Schedules one call; refused below the exit-window floor.
    /// @param target Contract to call.
    /// @param value Wei to send with the call.
    /// @param data Calldata.
    /// @param predecessor Operation that must be done first (0: none).
    /// @param salt Distinguishes otherwise equal operations.
    /// @param delay Seconds until it can execute (at least `getMinDelay()`).
    function schedule(
        address target,
        uint256 value,
        bytes calldata data,
        bytes32 predecessor,
        bytes32 salt,
        uint256 delay
    ) public override {
        _checkFloor(delay);
        super.schedule(target, value, data, predecessor, salt, delay);
    }

    /// @notice Schedules a batch of calls; refused below the exit-window floor.
    /// @param targets Contracts to call.
    /// @param values Wei per call.
    /// @param payloads Calldata per call.
    /// @param predecessor Operation that must be done first (0: none).
    /// @param salt Distinguishes otherwise equal operations.
    /// @param delay Seconds until it can execute (at least `getMinDelay()`).
    function scheduleBatch(
        address[] calldata targets,
        uint256[] calldata values,
        bytes[] calldata payloads,
        bytes32 predecessor,
        bytes32 salt,
        uint256 delay
    ) public override {
        _checkFloor(delay);
        super.scheduleBatch(targets, values, payloads, predecessor, salt, delay);
    }

    /// @notice Changes the configured delay (only through an executed operation of this timelock).
    /// @param newDelay New configured delay in seconds (at least the floor).
    function updateDelay(uint256 newDelay) external override {
        address sender = _msgSender();
        if (sender != address(this)) revert TimelockUnauthorizedCaller(sender);
        _checkFloor(newDelay);
        emit MinDelayChange(_configuredDelay, newDelay);
        _configuredDelay = newDelay;
    }

    /// @notice Adds a governed system (only through an executed operation of this timelock).
    /// @param system The system; its exit time + margin must fit in the configured delay.
    function addGoverned(IExitWindow system) external {
        address sender = _msgSender();
        if (sender != address(this)) revert TimelockUnauthorizedCaller(sender);
        uint256 configured = _configuredDelay;
        uint256 t = system.exitTime();
        if (t + margin > configured) revert ExitTimeAboveDelay(t, margin, configured);
        _addGoverned(system);
    }

    /*//////////////////////////////////////////////////////////////
                               INTERNALS
    //////////////////////////////////////////////////////////////*/

    function _checkFloor(uint256 delay) private view {
        uint256 floor = delayFloor();
        // INVARIANT: nothing can execute sooner than the longest exit takes, plus the margin.
        if (delay < floor) revert DelayBelowExitWindow(delay, floor);
    }

    function _addGoverned(IExitWindow system) private {
        address a = address(system);
        if (a == address(0) || isGoverned[a]) revert BadGovernedSystem(a);
        if (_governed.length >= MAX_GOVERNED) revert TooManyGoverned();
        isGoverned[a] = true;
        _governed.push(system);
        emit GovernedAdded(a, system.exitTime());
    }
}
