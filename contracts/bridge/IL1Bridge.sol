// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

/// @title IL1Bridge
/// @notice The L1 custody contract of an l2kit rollup. It holds ETH and ERC-20 tokens, records every
///         deposit in an ordered queue (a hash chain the rollup proves it consumed in order), and
///         releases withdrawals only on the word of the one rollup contract wired to it.
/// @dev Recipient encoding (the `recipient` bytes of a deposit) is a one-byte tag then a payload:
///      - `0x01 ‖ address (20 bytes)`: an L2 account owned by an Ethereum (secp256k1) key;
///      - `0x02 ‖ Ax (32 bytes) ‖ Ay (32 bytes)`: an L2 account owned by a BabyJubJub EdDSA key
///        (a point of the curve with both coordinates below the BN254 scalar field order).
///      A bridge instance accepts exactly one of these (fixed at construction: the encoding of the
///      rollup it serves); any other tag or length is rejected, so an operator never sees a deposit
///      it cannot credit.
///      The queue accumulator is `acc[0] = 0`,
///      `acc[n+1] = keccak256(abi.encodePacked(acc[n], token, amount, recipient))`
///      with `token == address(0)` for ETH and `amount` the amount actually received.
///      Deposits are refused once the wired rollup reports `frozen()`: a frozen rollup credits
///      nothing new, and every deposit it never credited is refunded through the rollup
///      (to the recipient address, or to `depositorOf(index)` for a BabyJubJub recipient).
interface IL1Bridge {
    /// @notice Emitted once for every deposit, in queue order.
    /// @param index       Position of the deposit in the queue (0-based).
    /// @param depositor   The L1 account that paid.
    /// @param token       The token deposited, `address(0)` for ETH.
    /// @param amount      The amount the bridge actually received (after any transfer fee).
    /// @param recipient   The encoded L2 recipient (see the recipient encoding above).
    /// @param accumulator The queue accumulator after this deposit, `acc[index + 1]`.
    event DepositQueued(
        uint256 indexed index,
        address indexed depositor,
        address indexed token,
        uint256 amount,
        bytes recipient,
        bytes32 accumulator
    );

    /// @notice Emitted when the bridge is wired to its rollup (once).
    event RollupSet(address indexed rollup);

    /// @notice Emitted when the rollup releases a withdrawal: `amount` of `token` becomes claimable by `to`.
    event WithdrawalReleased(bytes32 indexed withdrawalId, address indexed token, address indexed to, uint256 amount);

    /// @notice Emitted when an account pulls what was released to it.
    event Claimed(address indexed account, address indexed token, address to, uint256 amount);

    /// @notice Deposit the ETH sent with the call for `recipient` on L2.
    /// @param recipient The L2 recipient in this bridge's encoding (tag byte, then the key).
    /// @return index The deposit's position in the queue.
    function depositETH(bytes calldata recipient) external payable returns (uint256 index);

    /// @notice Deposit `amount` of `token` (pulled with transferFrom, needs an allowance) for `recipient`.
    /// @param token The ERC-20 token.
    /// @param amount Token units to pull from the caller.
    /// @param recipient The L2 recipient in this bridge's encoding (tag byte, then the key).
    /// @return index The deposit's position in the queue.
    function depositERC20(address token, uint256 amount, bytes calldata recipient) external returns (uint256 index);

    /// @notice Called by the rollup only: make `amount` of `token` claimable by `to`, once per `withdrawalId`.
    /// @param withdrawalId The rollup's id of the withdrawal (exit, refund, ...), released once.
    /// @param token The token (address(0) for ETH).
    /// @param to The L1 account credited.
    /// @param amount The amount credited.
    function releaseWithdrawal(bytes32 withdrawalId, address token, address to, uint256 amount) external;

    /// @notice Pull everything of `token` released to the caller, sending it to `to`.
    /// @param token The token (address(0) for ETH).
    /// @param to Where the funds go.
    /// @return amount What was paid out.
    function claim(address token, address to) external returns (uint256 amount);

    /// @notice Number of deposits queued so far.
    function depositCount() external view returns (uint256);

    /// @notice The queue accumulator after the first `n` deposits (`accumulatorAt(0) == 0`).
    /// @param n Number of deposits (at most `depositCount()`).
    function accumulatorAt(uint256 n) external view returns (bytes32);

    /// @notice The rollup allowed to release withdrawals (zero until wired).
    function rollup() external view returns (address);

    /// @notice The L1 account that paid deposit `index` on a BabyJubJub bridge (where a frozen
    ///         rollup refunds it); zero on an address bridge, whose recipients are L1 addresses.
    /// @param index The deposit's position in the queue.
    function depositorOf(uint256 index) external view returns (address);

    /// @notice Whether `withdrawalId` was released already.
    /// @param withdrawalId The rollup's id of the withdrawal.
    function isReleased(bytes32 withdrawalId) external view returns (bool);

    /// @notice What `account` can claim of `token`.
    /// @param account The L1 account.
    /// @param token The token (address(0) for ETH).
    function claimable(address account, address token) external view returns (uint256);

    /// @notice What the bridge owes for `token`: deposits received minus claims paid out.
    /// @param token The token (address(0) for ETH).
    function liabilities(address token) external view returns (uint256);
}
