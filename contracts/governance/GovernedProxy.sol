// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {TransparentUpgradeableProxy} from "@openzeppelin/contracts/proxy/transparent/TransparentUpgradeableProxy.sol";

/// @title GovernedProxy
/// @notice OpenZeppelin 5.4's TransparentUpgradeableProxy, unchanged, under an l2kit name so the
///         build exposes it (Ape builds only the project's own sources). Its constructor creates
///         the proxy's `ProxyAdmin`, owned by `initialOwner`: the ExitWindowTimelock, so every
///         upgrade is a timelock operation and waits the exit-window delay (docs/governance.md §5).
contract GovernedProxy is TransparentUpgradeableProxy {
    /// @notice Deploys the proxy and its ProxyAdmin, and runs `data` (the initializer) on `logic`.
    /// @param logic The first implementation.
    /// @param initialOwner Owner of the ProxyAdmin created for this proxy (the timelock).
    /// @param data The initializer call run in the proxy's context (empty: none).
    constructor(address logic, address initialOwner, bytes memory data)
        payable
        TransparentUpgradeableProxy(logic, initialOwner, data)
    {}
}
