// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

/// @title IGovernedProxyAdmin
/// @notice The calls of OpenZeppelin 5.4's `ProxyAdmin` that l2kit's tools use (the ProxyAdmin
///         each GovernedProxy creates; Ape builds only the project's own sources, so this is how
///         its ABI reaches the off-chain side).
interface IGovernedProxyAdmin {
    /// @notice OZ Ownable's refusal: `account` is not the owner.
    /// @param account The refused caller.
    error OwnableUnauthorizedAccount(address account);

    /// @notice The account allowed to upgrade (the ExitWindowTimelock).
    /// @return owner_ The owner.
    function owner() external view returns (address owner_);

    /// @notice Upgrade `proxy` to `implementation` and, if `data` is not empty, call it there.
    /// @param proxy The proxy this admin manages.
    /// @param implementation The new implementation.
    /// @param data A call run on the new implementation in the proxy's context (e.g. a
    ///        reinitializer), or empty.
    function upgradeAndCall(address proxy, address implementation, bytes calldata data) external payable;

    /// @notice Hand the admin over to another owner (only the owner).
    /// @param newOwner The new owner.
    function transferOwnership(address newOwner) external;

    /// @notice "5.0.0": `upgradeAndCall` is the only upgrade function.
    /// @return version The interface version.
    function UPGRADE_INTERFACE_VERSION() external view returns (string memory version);
}
