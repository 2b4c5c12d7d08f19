// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {Initializable} from "@openzeppelin/contracts/proxy/utils/Initializable.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";
import {IExitWindow} from "../governance/IExitWindow.sol";
import {IL1Bridge} from "./IL1Bridge.sol";
import {IRollupStatus} from "./IRollupStatus.sol";

/// @title L1Bridge
/// @notice Custody of the funds moved to an l2kit rollup, and the ordered deposit queue.
/// @dev INVARIANT: for every token, the bridge's balance is at least `liabilities(token)`, which is
///      every amount received by a deposit minus every amount paid out by `claim`. Withdrawals are
///      pull payments: the rollup only credits, the owner of the credit claims.
///      Tokens that rebase or change balances outside transfers are not supported.
///      Upgradeable behind an OpenZeppelin TransparentUpgradeableProxy whose ProxyAdmin the
///      governance timelock owns (docs/governance.md §5). All state sits in one ERC-7201 namespace
///      (`BridgeStorage`); `deployer` and `recipientTag` are immutables of the implementation, so
///      a proxy shares the values its implementation was deployed with. The constructor locks the
///      implementation's own initializer; a proxy runs `initialize()` in its constructor data.
contract L1Bridge is IL1Bridge, IExitWindow, Initializable, ReentrancyGuardTransient {
    using SafeERC20 for IERC20;

    // ------------------------------------------------------------------ errors

    /// @notice A deposit of nothing.
    error ZeroAmount();
    /// @notice A deposit above the L2's balance range (2^128 - 1).
    error AmountTooLarge(uint256 amount);
    /// @notice The recipient bytes are not one of the known encodings (see IL1Bridge).
    error UnknownRecipientEncoding(bytes recipient);
    /// @notice The constructor was given a recipient tag no rollup understands.
    error UnsupportedRecipientTag(bytes1 tag);
    /// @notice The recipient decodes to the zero account.
    error ZeroRecipient();
    /// @notice A 0x02 recipient that is not a point of the BabyJubJub curve (nobody could spend it).
    error InvalidBabyJubJubKey();
    /// @notice A 0x02 recipient of small order (8·A is the identity): the circuit's EdDSA
    ///         verifier rejects every signature by such a key, so nobody could spend it.
    error SmallOrderBabyJubJubKey();
    /// @notice The wired rollup is frozen: it would never credit this deposit.
    error RollupIsFrozen(address rollup);
    /// @notice The token address holds no contract.
    error NotAToken(address token);
    /// @notice The token transfer delivered nothing to the bridge (e.g. a 100% transfer fee).
    error NothingReceived(address token);
    /// @notice Only the wired rollup may release withdrawals.
    error NotRollup(address caller);
    /// @notice Only the deployer may wire the rollup.
    error NotDeployer(address caller);
    /// @notice The rollup was wired already, or the address is zero.
    error RollupAlreadySet();
    /// @notice The rollup address is zero or holds no code.
    error InvalidRollup(address rollup);
    /// @notice This withdrawal was released before.
    error AlreadyReleased(bytes32 withdrawalId);
    /// @notice A release of more than the bridge owes for that token.
    error InsufficientLiabilities(address token, uint256 amount, uint256 owed);
    /// @notice Nothing to claim for this token.
    error NothingToClaim(address account, address token);
    /// @notice The claim destination is the zero address.
    error ZeroDestination();
    /// @notice Sending ETH to the claim destination failed.
    error EthTransferFailed(address to, uint256 amount);
    /// @notice ETH sent without calling `depositETH` is refused, so no funds arrive unrecorded.
    error UseDepositETH();
    /// @notice `accumulatorAt` asked for a position past the end of the queue.
    error DepositIndexOutOfRange(uint256 n, uint256 count);
    /// @notice `exitTime` asked before the rollup was wired: there is no exit route to measure.
    error RollupNotWired();

    // --------------------------------------------------------------- constants

    /// @notice Tag of a recipient owned by an Ethereum address.
    bytes1 public constant RECIPIENT_ADDRESS = 0x01;
    /// @notice Tag of a recipient owned by a BabyJubJub public key.
    bytes1 public constant RECIPIENT_BABYJUBJUB = 0x02;
    /// @notice BN254 scalar field: BabyJubJub coordinates live in it.
    uint256 private constant BN254_R =
        21888242871839275222246405745257275088548364400416034343698204186575808495617;
    /// @notice BabyJubJub twisted Edwards coefficients: a·x² + y² = 1 + d·x²·y² (mod r).
    uint256 private constant BJJ_A = 168700;
    uint256 private constant BJJ_D = 168696;
    /// @notice The largest amount one deposit may carry (L2 balances are 128-bit).
    uint256 public constant MAX_DEPOSIT = type(uint128).max;

    // ----------------------------------------------------------------- storage

    /// @notice The account that may wire the rollup, once.
    address public immutable deployer;
    /// @notice The one recipient encoding this bridge's rollup understands (RECIPIENT_ADDRESS or
    ///         RECIPIENT_BABYJUBJUB); deposits in any other encoding are refused.
    bytes1 public immutable recipientTag;

    /// @dev Every mutable field of the bridge. Append-only across upgrades (the layout is
    ///      snapshotted in snapshots/storageLayout/L1Bridge.json and checked by tests/tools).
    /// @custom:storage-location erc7201:l2kit.storage.L1Bridge
    struct BridgeStorage {
        address rollup;
        uint256 depositCount;
        // acc[n] for n >= 1; acc[0] is zero.
        mapping(uint256 n => bytes32 accumulator) accumulators;
        mapping(bytes32 withdrawalId => bool released) released;
        mapping(address account => mapping(address token => uint256 amount)) claimable;
        mapping(address token => uint256 amount) liabilities;
        mapping(address token => uint256 amount) pendingClaims;
        // The L1 account that paid deposit `index`, kept by a BabyJubJub bridge only: its
        // queue commits an L2 key, so this is where a frozen rollup refunds the deposit.
        mapping(uint256 index => address depositor) depositors;
    }

    /// @dev keccak256(abi.encode(uint256(keccak256("l2kit.storage.L1Bridge")) - 1)) & ~bytes32(uint256(0xff))
    bytes32 private constant BRIDGE_STORAGE = 0xa23eccaf61d4bef5ff7f7df875816353ca15642bb88178ca04c45c8f5bda4800;

    /// @param recipientTag_ The recipient encoding accepted by this bridge (see IL1Bridge).
    constructor(bytes1 recipientTag_) {
        if (recipientTag_ != RECIPIENT_ADDRESS && recipientTag_ != RECIPIENT_BABYJUBJUB) {
            revert UnsupportedRecipientTag(recipientTag_);
        }
        deployer = msg.sender;
        recipientTag = recipientTag_;
        // The implementation's own storage starts empty, which is the initialized state; locking
        // the initializer keeps anyone from "initializing" the bare implementation.
        _disableInitializers();
    }

    /// @notice Initialize a proxy's storage (called once, in the proxy's constructor data).
    /// @dev A fresh bridge's state is all zero, so there is nothing to set: this only marks the
    ///      proxy initialized (a later implementation can use `reinitializer(2)`).
    function initialize() external initializer {}

    /// @notice Refuse bare ETH: every wei the bridge holds came through a recorded deposit.
    receive() external payable {
        revert UseDepositETH();
    }

    // ----------------------------------------------------------------- wiring

    /// @notice Wire the rollup that may release withdrawals. Callable once, by the deployer.
    /// @param newRollup The rollup contract.
    function setRollup(address newRollup) external {
        if (msg.sender != deployer) revert NotDeployer(msg.sender);
        BridgeStorage storage $ = _s();
        if ($.rollup != address(0)) revert RollupAlreadySet();
        if (newRollup.code.length == 0) revert InvalidRollup(newRollup);
        $.rollup = newRollup;
        emit RollupSet(newRollup);
    }

    // --------------------------------------------------------------- deposits

    /// @inheritdoc IL1Bridge
    function depositETH(bytes calldata recipient) external payable nonReentrant returns (uint256 index) {
        _checkOpen();
        _checkRecipient(recipient);
        _checkAmount(msg.value);
        _s().liabilities[address(0)] += msg.value;
        return _enqueue(address(0), msg.value, recipient);
    }

    /// @inheritdoc IL1Bridge
    function depositERC20(address token, uint256 amount, bytes calldata recipient)
        external
        nonReentrant
        returns (uint256 index)
    {
        _checkOpen();
        _checkRecipient(recipient);
        _checkAmount(amount);
        if (token.code.length == 0) revert NotAToken(token);
        // Credit what arrived, not what was asked: fee-on-transfer tokens deliver less.
        // The transfer comes before the effects here because the amount to record is only known
        // after it; nonReentrant keeps a malicious token from re-entering in between.
        IERC20 erc20 = IERC20(token);
        uint256 before = erc20.balanceOf(address(this));
        erc20.safeTransferFrom(msg.sender, address(this), amount);
        uint256 received = erc20.balanceOf(address(this)) - before;
        if (received == 0) revert NothingReceived(token);
        _s().liabilities[token] += received;
        return _enqueue(token, received, recipient);
    }

    // ------------------------------------------------------------ withdrawals

    /// @inheritdoc IL1Bridge
    function releaseWithdrawal(bytes32 withdrawalId, address token, address to, uint256 amount) external {
        BridgeStorage storage $ = _s();
        if (msg.sender != $.rollup || msg.sender == address(0)) revert NotRollup(msg.sender);
        // INVARIANT: a withdrawal is released at most once.
        if ($.released[withdrawalId]) revert AlreadyReleased(withdrawalId);
        if (to == address(0)) revert ZeroDestination();
        if (amount == 0) revert ZeroAmount();
        uint256 owed = $.liabilities[token];
        uint256 pending = $.pendingClaims[token];
        if (pending + amount > owed) revert InsufficientLiabilities(token, amount, owed - pending);
        $.released[withdrawalId] = true;
        $.pendingClaims[token] = pending + amount;
        $.claimable[to][token] += amount;
        emit WithdrawalReleased(withdrawalId, token, to, amount);
    }

    /// @inheritdoc IL1Bridge
    function claim(address token, address to) external nonReentrant returns (uint256 amount) {
        if (to == address(0)) revert ZeroDestination();
        BridgeStorage storage $ = _s();
        amount = $.claimable[msg.sender][token];
        if (amount == 0) revert NothingToClaim(msg.sender, token);
        // Effects before the interaction.
        $.claimable[msg.sender][token] = 0;
        $.pendingClaims[token] -= amount;
        $.liabilities[token] -= amount;
        emit Claimed(msg.sender, token, to, amount);
        if (token == address(0)) {
            (bool ok,) = to.call{value: amount}("");
            if (!ok) revert EthTransferFailed(to, amount);
        } else {
            IERC20(token).safeTransfer(to, amount);
        }
    }

    // ------------------------------------------------------------------ views

    /// @inheritdoc IL1Bridge
    function accumulatorAt(uint256 n) external view returns (bytes32) {
        BridgeStorage storage $ = _s();
        uint256 count = $.depositCount;
        if (n > count) revert DepositIndexOutOfRange(n, count);
        return $.accumulators[n];
    }

    /// @inheritdoc IL1Bridge
    function rollup() external view returns (address) {
        return _s().rollup;
    }

    /// @inheritdoc IL1Bridge
    function depositCount() external view returns (uint256) {
        return _s().depositCount;
    }

    /// @inheritdoc IExitWindow
    /// @dev The bridge pays what its rollup credits and `claim` is immediate, so a user's exit
    ///      time is the rollup's (docs/governance.md §1.1). Reverts `RollupNotWired` before
    ///      `setRollup`, so a timelock can never count an unwired bridge as "0 seconds".
    function exitTime() external view returns (uint256 seconds_) {
        address r = _s().rollup;
        if (r == address(0)) revert RollupNotWired();
        return IExitWindow(r).exitTime();
    }

    /// @inheritdoc IL1Bridge
    function isReleased(bytes32 withdrawalId) external view returns (bool) {
        return _s().released[withdrawalId];
    }

    /// @inheritdoc IL1Bridge
    function claimable(address account, address token) external view returns (uint256) {
        return _s().claimable[account][token];
    }

    /// @inheritdoc IL1Bridge
    function liabilities(address token) external view returns (uint256) {
        return _s().liabilities[token];
    }

    /// @inheritdoc IL1Bridge
    function depositorOf(uint256 index) external view returns (address) {
        BridgeStorage storage $ = _s();
        uint256 count = $.depositCount;
        if (index >= count) revert DepositIndexOutOfRange(index, count);
        return $.depositors[index];
    }

    /// @notice Released but not yet claimed, per token.
    /// @param token The token (address(0) for ETH).
    function pendingClaims(address token) external view returns (uint256) {
        return _s().pendingClaims[token];
    }

    // --------------------------------------------------------------- internal

    function _enqueue(address token, uint256 amount, bytes calldata recipient) private returns (uint256 index) {
        BridgeStorage storage $ = _s();
        index = $.depositCount;
        bytes32 acc = keccak256(abi.encodePacked($.accumulators[index], token, amount, recipient));
        $.accumulators[index + 1] = acc;
        $.depositCount = index + 1;
        if (recipientTag == RECIPIENT_BABYJUBJUB) $.depositors[index] = msg.sender;
        emit DepositQueued(index, msg.sender, token, amount, recipient, acc);
    }

    /// @dev Refuse deposits a frozen rollup would never credit. Before wiring there is no
    ///      rollup to freeze; the deposit waits in the queue for the first batch.
    function _checkOpen() private view {
        address r = _s().rollup;
        // INVARIANT: no deposit enters the queue of a frozen rollup (every queued deposit is
        // either credited by a batch or refunded after the freeze).
        if (r != address(0) && IRollupStatus(r).frozen()) revert RollupIsFrozen(r);
    }

    function _s() private pure returns (BridgeStorage storage $) {
        assembly {
            $.slot := BRIDGE_STORAGE
        }
    }

    function _checkAmount(uint256 amount) private pure {
        if (amount == 0) revert ZeroAmount();
        if (amount > MAX_DEPOSIT) revert AmountTooLarge(amount);
    }

    function _checkRecipient(bytes calldata recipient) private view {
        if (recipient.length == 0 || recipient[0] != recipientTag) revert UnknownRecipientEncoding(recipient);
        if (recipient.length == 21 && recipient[0] == RECIPIENT_ADDRESS) {
            if (bytes20(recipient[1:21]) == bytes20(0)) revert ZeroRecipient();
            return;
        }
        if (recipient.length == 65 && recipient[0] == RECIPIENT_BABYJUBJUB) {
            uint256 x = uint256(bytes32(recipient[1:33]));
            uint256 y = uint256(bytes32(recipient[33:65]));
            if (x == 0 && y == 0) revert ZeroRecipient();
            // INVARIANT: every credited BabyJubJub recipient is a curve point, so a deposit can
            // never land on a key nobody can sign for.
            if (x >= BN254_R || y >= BN254_R) revert InvalidBabyJubJubKey();
            uint256 x2 = mulmod(x, x, BN254_R);
            uint256 y2 = mulmod(y, y, BN254_R);
            uint256 lhs = addmod(mulmod(BJJ_A, x2, BN254_R), y2, BN254_R);
            uint256 rhs = addmod(1, mulmod(BJJ_D, mulmod(x2, y2, BN254_R), BN254_R), BN254_R);
            if (lhs != rhs) revert InvalidBabyJubJubKey();
            // INVARIANT: every credited key can sign: the circuit's EdDSA verifier refuses keys
            // with 8·A == identity (the 8 points of small order), so the bridge does too.
            if (_timesEightIsIdentity(x, y)) revert SmallOrderBabyJubJubKey();
            return;
        }
        revert UnknownRecipientEncoding(recipient);
    }

    /// @dev Whether 8·(x, y) is the identity (0, 1): three doublings in projective twisted
    ///      Edwards coordinates (X : Y : Z), affine (X/Z, Y/Z), no inversion (formula
    ///      dbl-2008-bbjlp: B = (X+Y)², C = X², D = Y², E = a·C, F = E + D, J = F - 2Z²,
    ///      X' = (B - C - D)·J, Y' = F·(E - D), Z' = F·J). For a point of the curve F and J are
    ///      never zero (a is a square, d is not), so Z stays non-zero.
    function _timesEightIsIdentity(uint256 x, uint256 y) private pure returns (bool) {
        uint256 r = BN254_R;
        uint256 z = 1;
        for (uint256 i = 0; i < 3; ++i) {
            uint256 c = mulmod(x, x, r);
            uint256 d = mulmod(y, y, r);
            uint256 b = mulmod(addmod(x, y, r), addmod(x, y, r), r);
            uint256 e = mulmod(BJJ_A, c, r);
            uint256 f = addmod(e, d, r);
            uint256 j = addmod(f, r - mulmod(2, mulmod(z, z, r), r), r);
            x = mulmod(addmod(b, r - addmod(c, d, r), r), j, r);
            y = mulmod(f, addmod(e, r - d, r), r);
            z = mulmod(f, j, r);
        }
        // The identity is (0 : Z : Z).
        return x == 0 && y == z;
    }
}
