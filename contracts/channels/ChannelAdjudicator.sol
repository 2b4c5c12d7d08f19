// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";
import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";
import {Hashes} from "@openzeppelin/contracts/utils/cryptography/Hashes.sol";
import {ChannelErrors} from "./ChannelErrors.sol";

/// @title ChannelAdjudicator
/// @notice Holds many two-party payment channels (ETH or one ERC-20 each) and settles them.
///         Off chain the two participants co-sign states (EIP-712, see docs/channels-spec.md);
///         on chain this contract only opens, adjusts, closes, settles and punishes stale closes.
/// @dev INVARIANTS
///      (I1) For an open or closing channel, balanceA + balanceB + lockedAmount of any state the
///           contract accepts equals `total`, the funds the contract holds for that channel.
///      (I2) A channel id is derived from a counter that only grows, so it is never reused: a state
///           signed for one channel can never be accepted for another (the id is in the signed data).
///      (I3) The contract never pays out more than it received for a channel: settlement pays
///           balanceA + balanceB, and unlocks drain at most lockedAmount.
///      (I4) Payouts of closes, settlements and unlocks go straight to the participant, after
///           every state change (checks-effects-interactions, under the reentrancy guard), with a
///           bounded gas allowance; a payout that fails for any reason (a reverting or gas-burning
///           recipient, a token that refuses) is credited to `claimable` instead, so no recipient
///           can block the other's payout. Withdrawals of `adjust` are credited; `claim` pulls.
///      (I5) Every amount a channel holds is at most MAX_TOTAL (2^96 - 1), so it is stored in 96 bits.
contract ChannelAdjudicator is ChannelErrors, EIP712, ReentrancyGuardTransient {
    using SafeERC20 for IERC20;

    // ------------------------------------------------------------------ types

    enum Status {
        None,
        Open,
        Closing,
        Settled
    }

    /// @notice An off-chain channel state, co-signed by both participants.
    /// @param channelId   the channel it belongs to (never reused)
    /// @param nonce       strictly increasing per update
    /// @param balanceA    what A owns outright
    /// @param balanceB    what B owns outright
    /// @param locksRoot   positional Merkle root of the pending lock leaves (spec 6), 0 if none
    /// @param lockedAmount sum of the pending locks' amounts
    struct State {
        bytes32 channelId;
        uint64 nonce;
        uint256 balanceA;
        uint256 balanceB;
        bytes32 locksRoot;
        uint256 lockedAmount;
    }

    /// @notice A co-signed top-up and/or withdrawal, bound to the state that results from it.
    struct Adjust {
        State state;
        uint8 party;
        uint256 deposit;
        uint256 withdrawal;
        uint64 expiry;
    }

    /// @notice A co-signed instruction to close and pay out now.
    struct CooperativeClose {
        bytes32 channelId;
        uint64 nonce;
        uint256 balanceA;
        uint256 balanceB;
    }

    /// @notice A participant's permission for `watchtower` to dispute on its behalf.
    struct Delegation {
        bytes32 channelId;
        address watchtower;
        uint64 expiry;
    }

    /// @notice A hash-locked transfer. sender 0 = A pays B, 1 = B pays A.
    struct Lock {
        uint8 sender;
        uint256 amount;
        bytes32 hashlock;
        uint64 expiry;
    }

    /// @notice A channel record as `getChannel` returns it (unpacked; storage packs it in `Record`).
    struct Channel {
        address a;
        address b;
        address token;
        Status status;
        bool peerFunded;
        uint8 closer;
        uint64 challengePeriod;
        uint64 minNonce;
        uint64 closeNonce;
        uint64 nonce;
        uint64 deadline;
        uint256 total;
        bytes32 anchor;
        uint256 balanceA;
        uint256 balanceB;
        bytes32 locksRoot;
        uint256 lockedAmount;
    }

    /// @dev The stored record, packed into 7 slots (2 of them, `locksRoot` and `anchor`, written
    ///      only when a state has locks or after an adjustment). (I5) makes the 96-bit amounts safe.
    struct Record {
        // slot 0
        address a;
        uint96 total;
        // slot 1: B's initial deposit (with `total` it gives the funding anchor without a stored hash)
        address b;
        uint96 depositB;
        // slot 2
        address token;
        Status status;
        uint8 closer;
        bool peerFunded;
        uint32 challengePeriod;
        uint40 deadline;
        // slot 3: the state on record while closing
        uint64 nonce;
        uint96 balanceA;
        uint96 balanceB;
        // slot 4
        uint64 minNonce;
        uint64 closeNonce;
        uint96 lockedAmount;
        bool proofUnlocks; // `unlock` resolved some lock: unlockAll must read the bitmap
        // slot 5
        bytes32 locksRoot;
        // slot 6: hash of the last adjusted state (0 = the funding anchor, derived from slots 0-1)
        bytes32 anchor;
    }

    // ------------------------------------------------------------------ constants

    bytes32 public constant STATE_TYPEHASH = keccak256(
        "State(bytes32 channelId,uint64 nonce,uint256 balanceA,uint256 balanceB,bytes32 locksRoot,uint256 lockedAmount)"
    );
    bytes32 public constant ADJUST_TYPEHASH = keccak256(
        "Adjust(State state,uint8 party,uint256 deposit,uint256 withdrawal,uint64 expiry)"
        "State(bytes32 channelId,uint64 nonce,uint256 balanceA,uint256 balanceB,bytes32 locksRoot,uint256 lockedAmount)"
    );
    bytes32 public constant COOPERATIVE_CLOSE_TYPEHASH =
        keccak256("CooperativeClose(bytes32 channelId,uint64 nonce,uint256 balanceA,uint256 balanceB)");
    bytes32 public constant DELEGATION_TYPEHASH =
        keccak256("Delegation(bytes32 channelId,address watchtower,uint64 expiry)");

    uint64 public constant MIN_CHALLENGE_PERIOD = 1;
    uint64 public constant MAX_CHALLENGE_PERIOD = 30 days;
    /// @notice Most locks one `unlock` call resolves (bounds the loop).
    uint256 public constant MAX_UNLOCKS = 64;
    /// @notice Deepest locks tree accepted (2^16 leaves; nodes use at most 64).
    uint256 public constant MAX_PROOF_DEPTH = 16;
    /// @notice Most a channel can hold (amounts are stored in 96 bits).
    uint256 public constant MAX_TOTAL = type(uint96).max;
    /// @notice Gas a direct ERC-20 payout may use before it is credited to `claimable` instead.
    uint256 public constant TOKEN_PAYOUT_GAS = 100_000;
    /// @notice Gas a direct ETH payout may use before it is credited to `claimable` instead.
    uint256 public constant ETH_PAYOUT_GAS = 50_000;
    /// @notice Gas a payout keeps beyond its allowance to credit `claimable` if the payout fails.
    uint256 public constant PAYOUT_RESERVE = 40_000;
    /// @notice Share (basis points) of a proven-stale closer's balance paid to the counterparty.
    uint256 public immutable PENALTY_BPS;

    // ------------------------------------------------------------------ storage

    /// @notice How many channels were ever opened (the source of fresh channel ids).
    uint256 public channelCount;
    /// @dev Channel records by id (read them with getChannel).
    mapping(bytes32 channelId => Record) internal _channels;
    /// @notice When a secret was registered, by its hashlock keccak256(secret); 0 = never.
    mapping(bytes32 hashlock => uint256 timestamp) public secretRevealedAt;
    /// @dev Resolved locks, one bit per leaf index of the settled locks tree (read with unlockedBits).
    mapping(bytes32 channelId => mapping(uint256 word => uint256 bits)) internal _unlockedBits;
    /// @notice Pull balances: token (0 = ETH) => account => amount.
    mapping(address token => mapping(address account => uint256)) public claimable;

    // ------------------------------------------------------------------ events

    /// @notice A channel was opened. `deposit` is A's (the opener's) initial deposit.
    event ChannelOpened(
        bytes32 indexed channelId,
        address indexed a,
        address indexed b,
        address token,
        uint64 challengePeriod,
        uint256 deposit
    );
    /// @notice B made its initial deposit; `total` is the channel's new total.
    event ChannelFunded(bytes32 indexed channelId, uint256 amount, uint256 total);
    /// @notice A co-signed top-up / withdrawal took effect; states below `nonce` are now void.
    event ChannelAdjusted(
        bytes32 indexed channelId, uint64 nonce, uint8 party, uint256 deposit, uint256 withdrawal, uint256 total
    );
    /// @notice A unilateral close started a challenge period ending at `deadline`.
    event ChannelClosed(bytes32 indexed channelId, address indexed closer, uint64 nonce, uint64 deadline);
    /// @notice A newer state replaced the closing one; `by` is the counterparty or its watchtower.
    event ChannelDisputed(bytes32 indexed channelId, address indexed by, uint64 nonce);
    /// @notice The channel was paid out after its challenge period. `penalty` went from closer to peer.
    event ChannelSettled(
        bytes32 indexed channelId, uint256 payoutA, uint256 payoutB, uint256 penalty, uint256 lockedAmount
    );
    /// @notice The channel was closed and paid out at once by both participants.
    event ChannelCooperativelyClosed(bytes32 indexed channelId, uint256 payoutA, uint256 payoutB);
    /// @notice A hash-lock secret became public on chain at `timestamp`.
    event SecretRegistered(bytes32 indexed hashlock, bytes32 secret, uint256 timestamp);
    /// @notice A settled lock was paid to `beneficiary`.
    event LockUnlocked(bytes32 indexed channelId, bytes32 indexed hashlock, address beneficiary, uint256 amount);
    /// @notice `account` pulled `amount` of `token` (0 = ETH).
    event Claimed(address indexed account, address indexed token, uint256 amount);
    /// @notice A direct payout failed and was credited to `claimable` instead (pull it with `claim`).
    event PayoutDeferred(address indexed account, address indexed token, uint256 amount);
    /// @notice `unlockAll` resolved the locks whose leaf indices are set in `resolved`.
    event LocksUnlocked(bytes32 indexed channelId, uint256 resolved, uint256 toA, uint256 toB);

    /// @param penaltyBps share of a stale closer's balance forfeited to the counterparty (<= 10000)
    constructor(uint256 penaltyBps) EIP712("l2kit-channels", "1") {
        if (penaltyBps > 10_000) revert InvalidPenalty(penaltyBps);
        PENALTY_BPS = penaltyBps;
    }

    // ------------------------------------------------------------------ views

    /// @notice The stored record of a channel.
    /// @param channelId the channel
    /// @return the channel record
    function getChannel(bytes32 channelId) external view returns (Channel memory) {
        Record storage r = _channels[channelId];
        return Channel({
            a: r.a,
            b: r.b,
            token: r.token,
            status: r.status,
            peerFunded: r.peerFunded,
            closer: r.closer,
            challengePeriod: r.challengePeriod,
            minNonce: r.minNonce,
            closeNonce: r.closeNonce,
            nonce: r.nonce,
            deadline: r.deadline,
            // Once settled, the channel holds only what is still locked (r.total is not kept).
            total: r.status == Status.Settled ? r.lockedAmount : r.total,
            anchor: r.status == Status.None ? bytes32(0) : _anchor(r, channelId),
            balanceA: r.balanceA,
            balanceB: r.balanceB,
            locksRoot: r.locksRoot,
            lockedAmount: r.lockedAmount
        });
    }

    /// @notice Resolved locks of a settled channel: bit i of word w is leaf index 256 * w + i.
    ///         Every bit is set once all locks are resolved (`unlockAll` then clears the root).
    /// @param channelId the channel
    /// @param word which 256-bit word of the bitmap
    /// @return bits the word
    function unlockedBits(bytes32 channelId, uint256 word) external view returns (uint256 bits) {
        Record storage r = _channels[channelId];
        if (r.status == Status.Settled && r.locksRoot == bytes32(0)) return type(uint256).max;
        return _unlockedBits[channelId][word];
    }

    /// @notice The EIP-712 digest both participants sign for `s`.
    /// @param s the state
    /// @return the digest
    function stateDigest(State calldata s) public view returns (bytes32) {
        return _hashTypedDataV4(_hashState(s));
    }

    /// @notice The EIP-712 domain separator (binds chain id and this contract).
    /// @return the separator
    function domainSeparator() external view returns (bytes32) {
        return _domainSeparatorV4();
    }

    /// @notice The leaf a lock contributes to a locks root.
    /// @param l the lock
    /// @return the leaf hash
    function lockLeaf(Lock calldata l) public pure returns (bytes32) {
        return keccak256(abi.encode(l.sender, l.amount, l.hashlock, l.expiry));
    }

    // ------------------------------------------------------------------ opening and funding

    /// @notice Open a channel with `peer`, the caller (A) depositing `amount` (may be 0).
    /// @param peer the counterparty (B)
    /// @param token the ERC-20, or address(0) for ETH (then msg.value must equal amount)
    /// @param challengePeriod seconds a unilateral close can be disputed
    /// @param amount A's deposit
    /// @return channelId the fresh, never reused channel id
    function open(address peer, address token, uint64 challengePeriod, uint256 amount)
        external
        payable
        nonReentrant
        returns (bytes32 channelId)
    {
        if (peer == address(0) || peer == msg.sender) revert InvalidPeer(peer);
        if (challengePeriod < MIN_CHALLENGE_PERIOD || challengePeriod > MAX_CHALLENGE_PERIOD) {
            revert InvalidChallengePeriod(challengePeriod);
        }
        if (token != address(0) && token.code.length == 0) revert NotAToken(token);
        if (amount > MAX_TOTAL) revert AmountTooLarge(amount, MAX_TOTAL);
        // (I2): the counter only grows, so the id is fresh.
        channelId = keccak256(abi.encode(block.chainid, address(this), ++channelCount));
        Record storage ch = _channels[channelId];
        ch.a = msg.sender;
        ch.total = uint96(amount);
        ch.b = peer;
        ch.token = token;
        ch.status = Status.Open;
        ch.challengePeriod = uint32(challengePeriod);
        // The opening anchor State(id, 0, amount, 0, 0, 0) is not stored: `_anchor` derives it
        // while `anchor` is unset (saves a storage slot per channel).
        emit ChannelOpened(channelId, msg.sender, peer, token, challengePeriod, amount);
        _pull(token, amount);
    }

    /// @notice B's one initial deposit, allowed only before any adjustment. Nodes sign no state
    ///         until the initial funding they agreed on is on chain (see spec).
    /// @param channelId the channel
    /// @param amount B's deposit
    function fund(bytes32 channelId, uint256 amount) external payable nonReentrant {
        Record storage ch = _open(channelId);
        if (msg.sender != ch.b) revert NotParticipant(channelId, msg.sender);
        // `adjust` sets peerFunded too, so this also closes funding after any adjustment.
        if (ch.peerFunded) revert FundingClosed(channelId);
        if (amount == 0) revert ZeroAmount();
        uint256 total = ch.total + amount;
        if (total > MAX_TOTAL) revert AmountTooLarge(total, MAX_TOTAL);
        ch.peerFunded = true;
        ch.total = uint96(total);
        // The anchor State(id, 0, total - amount, amount, 0, 0) follows from total and depositB.
        ch.depositB = uint96(amount);
        emit ChannelFunded(channelId, amount, total);
        _pull(ch.token, amount);
    }

    /// @notice Top up and/or withdraw while open, with both participants' signatures over `adj`.
    ///         The deposit is paid by the caller; the withdrawal is credited to `adj.party`.
    /// @param adj the adjustment with the state that results from it
    /// @param sigA A's signature over adj
    /// @param sigB B's signature over adj
    function adjust(Adjust calldata adj, bytes calldata sigA, bytes calldata sigB) external payable nonReentrant {
        bytes32 channelId = adj.state.channelId;
        Record storage ch = _open(channelId);
        if (block.timestamp > adj.expiry) revert Expired(adj.expiry, block.timestamp);
        if (adj.party > 1) revert InvalidParty(adj.party);
        if (adj.deposit == 0 && adj.withdrawal == 0) revert ZeroAmount();
        // A replayed or older adjustment is rejected: its nonce must beat every accepted one.
        if (adj.state.nonce <= ch.minNonce) revert StaleNonce(adj.state.nonce, ch.minNonce + 1);
        uint256 grown = ch.total + adj.deposit;
        if (grown > MAX_TOTAL) revert AmountTooLarge(grown, MAX_TOTAL);
        if (adj.withdrawal > grown) revert WithdrawalTooLarge(adj.withdrawal, grown);
        uint256 total = grown - adj.withdrawal;
        // (I1) for the resulting state.
        _checkSum(adj.state, total);
        bytes32 digest = _hashTypedDataV4(
            keccak256(
                abi.encode(
                    ADJUST_TYPEHASH, _hashState(adj.state), adj.party, adj.deposit, adj.withdrawal, adj.expiry
                )
            )
        );
        _checkSig(digest, sigA, ch.a);
        _checkSig(digest, sigB, ch.b);
        ch.total = uint96(total);
        ch.minNonce = adj.state.nonce;
        ch.anchor = _hashState(adj.state);
        ch.peerFunded = true;
        if (adj.withdrawal != 0) claimable[ch.token][adj.party == 0 ? ch.a : ch.b] += adj.withdrawal;
        emit ChannelAdjusted(channelId, adj.state.nonce, adj.party, adj.deposit, adj.withdrawal, total);
        _pull(ch.token, adj.deposit);
    }

    // ------------------------------------------------------------------ closing

    /// @notice Close at once with both signatures: both balances are paid out now (I4).
    /// @param c the agreed final balances (must sum to the total, no locks)
    /// @param sigA A's signature over c
    /// @param sigB B's signature over c
    function cooperativeClose(CooperativeClose calldata c, bytes calldata sigA, bytes calldata sigB)
        external
        nonReentrant
    {
        Record storage ch = _open(c.channelId);
        if (c.nonce < ch.minNonce) revert StaleNonce(c.nonce, ch.minNonce);
        // (I1)/(I3): the payout is exactly what the channel holds.
        if (c.balanceA + c.balanceB != ch.total) revert BalanceMismatch(c.balanceA + c.balanceB, ch.total);
        bytes32 digest = _hashTypedDataV4(
            keccak256(abi.encode(COOPERATIVE_CLOSE_TYPEHASH, c.channelId, c.nonce, c.balanceA, c.balanceB))
        );
        _checkSig(digest, sigA, ch.a);
        _checkSig(digest, sigB, ch.b);
        // Settled: `total` is no longer read (getChannel shows lockedAmount, here 0).
        ch.status = Status.Settled;
        emit ChannelCooperativelyClosed(c.channelId, c.balanceA, c.balanceB);
        // (I4): interactions last.
        address token = ch.token;
        _pay(token, ch.a, c.balanceA);
        _pay(token, ch.b, c.balanceB);
    }

    /// @notice Unilateral close with the newest state the caller holds; starts the challenge period.
    ///         The state needs both signatures unless it is the anchor (opening or last adjusted state).
    /// @param s the state
    /// @param sigA A's signature (empty for the anchor)
    /// @param sigB B's signature (empty for the anchor)
    function close(State calldata s, bytes calldata sigA, bytes calldata sigB) external nonReentrant {
        Record storage ch = _open(s.channelId);
        uint8 closer;
        if (msg.sender == ch.a) closer = 0;
        else if (msg.sender == ch.b) closer = 1;
        else revert NotParticipant(s.channelId, msg.sender);
        // States older than the last adjustment are void.
        if (s.nonce < ch.minNonce) revert StaleNonce(s.nonce, ch.minNonce);
        _checkState(ch, s, sigA, sigB);
        uint64 deadline = uint64(block.timestamp) + ch.challengePeriod;
        ch.status = Status.Closing;
        ch.closer = closer;
        ch.deadline = uint40(deadline);
        ch.closeNonce = s.nonce;
        _record(ch, s);
        emit ChannelClosed(s.channelId, msg.sender, s.nonce, deadline);
    }

    /// @notice During the challenge period, the closer's counterparty answers with a newer state.
    /// @param s a state with a higher nonce than the one on record
    /// @param sigA A's signature
    /// @param sigB B's signature
    function dispute(State calldata s, bytes calldata sigA, bytes calldata sigB) external nonReentrant {
        Record storage ch = _closing(s.channelId);
        address peer = ch.closer == 0 ? ch.b : ch.a;
        if (msg.sender != peer) revert NotParticipant(s.channelId, msg.sender);
        _dispute(ch, s, sigA, sigB);
    }

    /// @notice The same as `dispute`, sent by a watchtower the counterparty delegated to.
    /// @param s a state with a higher nonce than the one on record
    /// @param sigA A's signature
    /// @param sigB B's signature
    /// @param d the delegation (its watchtower must be the caller)
    /// @param delegationSig the counterparty's signature over d
    function disputeFor(
        State calldata s,
        bytes calldata sigA,
        bytes calldata sigB,
        Delegation calldata d,
        bytes calldata delegationSig
    ) external nonReentrant {
        Record storage ch = _closing(s.channelId);
        if (d.channelId != s.channelId || d.watchtower != msg.sender) revert InvalidDelegation();
        if (block.timestamp > d.expiry) revert Expired(d.expiry, block.timestamp);
        bytes32 digest =
            _hashTypedDataV4(keccak256(abi.encode(DELEGATION_TYPEHASH, d.channelId, d.watchtower, d.expiry)));
        _checkSig(digest, delegationSig, ch.closer == 0 ? ch.b : ch.a);
        _dispute(ch, s, sigA, sigB);
    }

    /// @notice After the challenge period, pay out the final balances (applying the penalty rule).
    ///         Penalty rule: if the state on record is at least 2 nonces newer than the one the
    ///         closer closed with, the closer is proven stale (honest nodes never sign nonce n+2
    ///         before holding n+1 fully signed) and forfeits PENALTY_BPS of its balance to the peer.
    /// @param channelId the channel
    function settle(bytes32 channelId) external nonReentrant {
        Record storage ch = _closing(channelId);
        if (block.timestamp <= ch.deadline) revert ChallengeRunning(ch.deadline);
        uint256 payA = ch.balanceA;
        uint256 payB = ch.balanceB;
        uint256 penalty;
        // Written as a difference so that no nonce value can make settlement overflow and revert.
        if (ch.nonce > ch.closeNonce && ch.nonce - ch.closeNonce >= 2) {
            if (ch.closer == 0) {
                penalty = (payA * PENALTY_BPS) / 10_000;
                payA -= penalty;
                payB += penalty;
            } else {
                penalty = (payB * PENALTY_BPS) / 10_000;
                payB -= penalty;
                payA += penalty;
            }
        }
        ch.status = Status.Settled;
        // (I3): payA + payB + lockedAmount == total; the locked part stays for `unlock`.
        uint96 locked = ch.lockedAmount;
        emit ChannelSettled(channelId, payA, payB, penalty, locked);
        // (I4): interactions last.
        address token = ch.token;
        _pay(token, ch.a, payA);
        _pay(token, ch.b, payB);
    }

    // ------------------------------------------------------------------ hash locks

    /// @notice Make a secret public; locks with hashlock keccak256(secret) and expiry at or after
    ///         now become payable to their receiver.
    /// @param secret the preimage
    function registerSecret(bytes32 secret) external {
        bytes32 hashlock = keccak256(abi.encode(secret));
        if (secretRevealedAt[hashlock] != 0) revert SecretAlreadyRegistered(hashlock);
        secretRevealedAt[hashlock] = block.timestamp;
        emit SecretRegistered(hashlock, secret, block.timestamp);
    }

    /// @notice After settlement, resolve pending locks by Merkle proof against the settled root:
    ///         to the receiver if the secret was registered by the lock's expiry, else (once expired)
    ///         back to the sender.
    /// @param channelId the settled channel
    /// @param locks the locks to resolve (1..MAX_UNLOCKS)
    /// @param indices each lock's leaf index in the locks tree
    /// @param proofs each lock's sibling path, bottom up
    function unlock(
        bytes32 channelId,
        Lock[] calldata locks,
        uint256[] calldata indices,
        bytes32[][] calldata proofs
    ) external nonReentrant {
        Record storage ch = _channels[channelId];
        if (ch.status != Status.Settled) revert WrongStatus(channelId, uint8(ch.status));
        uint256 n = locks.length;
        if (n == 0 || n > MAX_UNLOCKS || proofs.length != n || indices.length != n) {
            revert InvalidLockBatch(n, proofs.length);
        }
        bytes32 root = ch.locksRoot;
        uint256 remaining = ch.lockedAmount;
        uint256 toA;
        uint256 toB;
        for (uint256 i = 0; i < n; ++i) {
            Lock calldata l = locks[i];
            // (I3): never drain more than the settled state locked.
            if (l.amount > remaining) revert LockedFundsExceeded(l.amount, remaining);
            remaining -= l.amount;
            if (_resolve(channelId, root, l, indices[i], proofs[i])) toB += l.amount;
            else toA += l.amount;
        }
        ch.proofUnlocks = true;
        _release(ch, remaining, toA, toB);
    }

    /// @notice After settlement, resolve every pending lock that can be resolved now, given the
    ///         settled state's whole lock list (in leaf order, which must rebuild the locks root):
    ///         the per-lock cost is one leaf hash and a secret look-up, with no proofs. Locks that
    ///         are already resolved are skipped, and so are locks whose secret is unknown and that
    ///         have not expired yet (call again later). Pays out directly (I4).
    /// @param channelId the settled channel
    /// @param locks every lock of the settled state, in the order of the locks tree (1..MAX_UNLOCKS)
    function unlockAll(bytes32 channelId, Lock[] calldata locks) external nonReentrant {
        Record storage ch = _channels[channelId];
        if (ch.status != Status.Settled) revert WrongStatus(channelId, uint8(ch.status));
        uint256 n = locks.length;
        if (n == 0 || n > MAX_UNLOCKS) revert InvalidLockBatch(n, n);
        bytes32 root = ch.locksRoot;
        if (_treeRoot(locks) != root) revert LockNotInRoot(root);
        // n <= MAX_UNLOCKS < 256: every index lives in bit word 0, written only by `unlock` and
        // by a partial unlockAll (both set proofUnlocks).
        uint256 bits = ch.proofUnlocks ? _unlockedBits[channelId][0] : 0;
        uint256 resolved;
        uint256 remaining = ch.lockedAmount;
        uint256 toA;
        uint256 toB;
        uint256 exceeded;
        uint256 revealedSlot;
        assembly ("memory-safe") {
            revealedSlot := secretRevealedAt.slot
        }
        // The loop of `_resolve` without proofs, over the calldata words _treeRoot validated:
        // a lock pays its receiver if its secret was registered by its expiry, goes back to its
        // sender once expired, and otherwise waits (skipped, its bit stays clear).
        assembly ("memory-safe") {
            for { let i := 0 } lt(i, n) { i := add(i, 1) } {
                if iszero(and(bits, shl(i, 1))) {
                    let p := add(locks.offset, shl(7, i))
                    let expiry := calldataload(add(p, 0x60))
                    mstore(0x00, calldataload(add(p, 0x40)))
                    mstore(0x20, revealedSlot)
                    let revealed := sload(keccak256(0x00, 0x40))
                    let toReceiver := and(iszero(iszero(revealed)), iszero(gt(revealed, expiry)))
                    if or(toReceiver, gt(timestamp(), expiry)) {
                        let amount := calldataload(add(p, 0x20))
                        // (I3): never drain more than the settled state locked.
                        if gt(amount, remaining) {
                            exceeded := amount
                            break
                        }
                        remaining := sub(remaining, amount)
                        resolved := or(resolved, shl(i, 1))
                        // sender 0 (A) pays B on success; refunds go back to the sender.
                        switch eq(iszero(calldataload(p)), toReceiver)
                        case 1 { toB := add(toB, amount) }
                        default { toA := add(toA, amount) }
                    }
                }
            }
        }
        if (exceeded != 0) revert LockedFundsExceeded(exceeded, remaining);
        if (resolved == 0) revert NothingToUnlock(channelId);
        bits |= resolved;
        emit LocksUnlocked(channelId, resolved, toA, toB);
        if (bits == (1 << n) - 1) {
            // All resolved: clear the root instead of writing bits (unlockedBits reads all set;
            // no list or proof can match a zero root, so nothing unlocks twice).
            ch.locksRoot = bytes32(0);
            if (bits != resolved) delete _unlockedBits[channelId][0];
            if (remaining == 0) {
                // Nothing is left in the channel: its nonces are history (events keep them).
                ch.minNonce = 0;
                ch.closeNonce = 0;
                ch.lockedAmount = 0;
                ch.proofUnlocks = false;
                _payBoth(ch, toA, toB);
                return;
            }
        } else {
            _unlockedBits[channelId][0] = bits;
            ch.proofUnlocks = true;
        }
        _release(ch, remaining, toA, toB);
    }

    /// @dev The positional Merkle root (docs/channels-spec.md §6) of all the locks' leaves,
    ///      zero-padded to a power of two. A Lock in calldata is the 4 words that `lockLeaf`
    ///      hashes, once sender <= 1 and expiry < 2^64 are checked, so each leaf is one keccak
    ///      over its calldata copy.
    function _treeRoot(Lock[] calldata locks) internal pure returns (bytes32 root) {
        uint256 n = locks.length;
        uint256 size = 1;
        while (size < n) size <<= 1;
        bytes32[] memory level = new bytes32[](size);
        bool bad;
        assembly ("memory-safe") {
            let out := add(level, 0x20)
            let tmp := mload(0x40) // scratch beyond the free pointer, not kept
            for { let i := 0 } lt(i, n) { i := add(i, 1) } {
                let p := add(locks.offset, shl(7, i))
                bad := or(bad, or(gt(calldataload(p), 1), shr(64, calldataload(add(p, 0x60)))))
                calldatacopy(tmp, p, 0x80)
                mstore(add(out, shl(5, i)), keccak256(tmp, 0x80))
            }
            for { let w := size } gt(w, 1) { w := shr(1, w) } {
                for { let j := 0 } lt(j, w) { j := add(j, 2) } {
                    mstore(add(out, shl(4, j)), keccak256(add(out, shl(5, j)), 0x40))
                }
            }
            root := mload(out)
        }
        if (bad) revert InvalidLockBatch(n, n);
    }

    /// @dev Records what stays locked, then pays out what the resolved locks released (I4).
    function _release(Record storage ch, uint256 remaining, uint256 toA, uint256 toB) internal {
        ch.lockedAmount = uint96(remaining);
        _payBoth(ch, toA, toB);
    }

    function _payBoth(Record storage ch, uint256 toA, uint256 toB) internal {
        address token = ch.token;
        _pay(token, ch.a, toA);
        _pay(token, ch.b, toB);
    }

    /// @dev Checks one lock against the root at `index`, marks its bit, returns true if B gets it.
    function _resolve(bytes32 channelId, bytes32 root, Lock calldata l, uint256 index, bytes32[] calldata proof)
        internal
        returns (bool payB)
    {
        if (l.sender > 1) revert InvalidParty(l.sender);
        bytes32 leaf = lockLeaf(l);
        if (proof.length > MAX_PROOF_DEPTH || index >> proof.length != 0) revert LockNotInRoot(leaf);
        bytes32 h = leaf;
        for (uint256 j = 0; j < proof.length; ++j) {
            h = (index >> j) & 1 == 0 ? Hashes.efficientKeccak256(h, proof[j]) : Hashes.efficientKeccak256(proof[j], h);
        }
        if (h != root) revert LockNotInRoot(leaf);
        // Positional tree: the index identifies the leaf, so one bit per index stops double unlocks.
        uint256 bit = 1 << (index & 255);
        uint256 bits = _unlockedBits[channelId][index >> 8];
        if (bits & bit != 0) revert LockAlreadyUnlocked(leaf);
        _unlockedBits[channelId][index >> 8] = bits | bit;
        uint256 revealed = secretRevealedAt[l.hashlock];
        bool toReceiver;
        if (revealed != 0 && revealed <= l.expiry) toReceiver = true;
        else if (block.timestamp <= l.expiry) revert LockUnresolved(l.hashlock, l.expiry);
        // sender 0 (A) pays B on success; refunds go back to the sender.
        payB = (l.sender == 0) == toReceiver;
        Record storage ch = _channels[channelId];
        emit LockUnlocked(channelId, l.hashlock, payB ? ch.b : ch.a, l.amount);
    }

    // ------------------------------------------------------------------ payouts

    /// @notice Pull everything credited to the caller in `token` (0 = ETH).
    /// @param token the token
    function claim(address token) external nonReentrant {
        uint256 amount = claimable[token][msg.sender];
        if (amount == 0) revert NothingToClaim(msg.sender, token);
        claimable[token][msg.sender] = 0;
        emit Claimed(msg.sender, token, amount);
        if (token == address(0)) {
            (bool ok,) = msg.sender.call{value: amount}("");
            if (!ok) revert EthTransferFailed(msg.sender, amount);
        } else {
            IERC20(token).safeTransfer(msg.sender, amount);
        }
    }

    // ------------------------------------------------------------------ internals

    function _hashState(State memory s) internal pure returns (bytes32) {
        return keccak256(
            abi.encode(STATE_TYPEHASH, s.channelId, s.nonce, s.balanceA, s.balanceB, s.locksRoot, s.lockedAmount)
        );
    }

    function _open(bytes32 channelId) internal view returns (Record storage ch) {
        ch = _channels[channelId];
        if (ch.status != Status.Open) revert WrongStatus(channelId, uint8(ch.status));
    }

    function _closing(bytes32 channelId) internal view returns (Record storage ch) {
        ch = _channels[channelId];
        if (ch.status != Status.Closing) revert WrongStatus(channelId, uint8(ch.status));
    }

    function _checkSum(State calldata s, uint256 total) internal pure {
        uint256 sum = s.balanceA + s.balanceB + s.lockedAmount;
        if (sum != total) revert BalanceMismatch(sum, total);
        // A state with locks must commit to them, and one without must not.
        if ((s.lockedAmount == 0) != (s.locksRoot == bytes32(0))) revert BalanceMismatch(sum, total);
    }

    /// @dev A state is accepted if it sums to the total (I1) and either carries both signatures
    ///      or, sent with no signatures at all, is the anchor both already agreed to through
    ///      open/fund/adjust.
    function _checkState(Record storage ch, State calldata s, bytes calldata sigA, bytes calldata sigB)
        internal
        view
    {
        _checkSum(s, ch.total);
        bytes32 structHash = _hashState(s);
        if (sigA.length == 0 && sigB.length == 0 && structHash == _anchor(ch, s.channelId)) return;
        bytes32 digest = _hashTypedDataV4(structHash);
        _checkSig(digest, sigA, ch.a);
        _checkSig(digest, sigB, ch.b);
    }

    /// @dev The state both parties agreed to without signatures: the last adjusted state, or
    ///      (never adjusted) the funding state State(id, 0, total - depositB, depositB, 0, 0),
    ///      which before B funds is the opening state, where all funds are A's.
    function _anchor(Record storage ch, bytes32 channelId) internal view returns (bytes32) {
        bytes32 anchor = ch.anchor;
        if (anchor != bytes32(0)) return anchor;
        uint256 depositB = ch.depositB;
        return _hashState(State(channelId, 0, ch.total - depositB, depositB, bytes32(0), 0));
    }

    function _dispute(Record storage ch, State calldata s, bytes calldata sigA, bytes calldata sigB) internal {
        if (block.timestamp > ch.deadline) revert ChallengeOver(ch.deadline);
        if (s.nonce <= ch.nonce) revert StaleNonce(s.nonce, ch.nonce + 1);
        _checkState(ch, s, sigA, sigB);
        _record(ch, s);
        emit ChannelDisputed(s.channelId, msg.sender, s.nonce);
    }

    /// @dev (I1) was checked, so every amount is at most total <= MAX_TOTAL (I5) and fits in 96 bits.
    function _record(Record storage ch, State calldata s) internal {
        ch.nonce = s.nonce;
        ch.balanceA = uint96(s.balanceA);
        ch.balanceB = uint96(s.balanceB);
        ch.lockedAmount = uint96(s.lockedAmount);
        if (ch.locksRoot != s.locksRoot) ch.locksRoot = s.locksRoot;
    }

    /// @dev Low-s only: OpenZeppelin's tryRecover rejects high-s and malformed signatures.
    function _checkSig(bytes32 digest, bytes calldata sig, address expected) internal pure {
        (address signer, ECDSA.RecoverError err,) = ECDSA.tryRecover(digest, sig);
        if (err != ECDSA.RecoverError.NoError) revert MalformedSignature();
        if (signer != expected) revert BadSignature(expected, signer);
    }

    /// @dev Direct payout with a bounded gas allowance; if it fails for any reason the amount is
    ///      credited to `claimable` (pulled later with `claim`), so a recipient that reverts or
    ///      burns gas cannot block the payout of the other participant or the state change (I4).
    ///      Only 32 bytes of return data are copied (no return-data bomb).
    ///      The caller must leave the payout its whole allowance plus PAYOUT_RESERVE for the
    ///      fallback, so no caller can starve a payout on purpose to push it to the pull path.
    function _pay(address token, address to, uint256 amount) internal {
        if (amount == 0) return;
        uint256 needed = (token == address(0) ? ETH_PAYOUT_GAS : TOKEN_PAYOUT_GAS) * 64 / 63 + PAYOUT_RESERVE;
        if (gasleft() < needed) revert PayoutGasTooLow(gasleft(), needed);
        bool ok;
        if (token == address(0)) {
            uint256 gasLimit = ETH_PAYOUT_GAS;
            assembly ("memory-safe") {
                ok := call(gasLimit, to, amount, 0, 0, 0, 0)
            }
        } else {
            uint256 gasLimit = TOKEN_PAYOUT_GAS;
            bytes memory data = abi.encodeCall(IERC20.transfer, (to, amount));
            assembly ("memory-safe") {
                let success := call(gasLimit, token, 0, add(data, 0x20), mload(data), 0, 0x20)
                // No return data (the token was checked to hold code at open) or a 32-byte true.
                ok := and(success, or(iszero(returndatasize()), and(gt(returndatasize(), 31), eq(mload(0), 1))))
            }
        }
        if (!ok) {
            claimable[token][to] += amount;
            emit PayoutDeferred(to, token, amount);
        }
    }

    function _pull(address token, uint256 amount) internal {
        if (token == address(0)) {
            if (msg.value != amount) revert WrongValue(msg.value, amount);
            return;
        }
        if (msg.value != 0) revert WrongValue(msg.value, 0);
        if (amount == 0) return;
        uint256 before = IERC20(token).balanceOf(address(this));
        IERC20(token).safeTransferFrom(msg.sender, address(this), amount);
        uint256 received = IERC20(token).balanceOf(address(this)) - before;
        if (received != amount) revert TransferMismatch(received, amount);
    }
}
