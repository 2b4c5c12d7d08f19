// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";
import {IL1Bridge} from "../bridge/IL1Bridge.sol";
import {L2Codec} from "../libraries/L2Codec.sol";
import {SparseMerkle} from "../libraries/SparseMerkle.sol";
import {CommitmentExecutor} from "./CommitmentExecutor.sol";
import {IRollup} from "./IRollup.sol";
import {RollupTypes} from "./RollupTypes.sol";

/// @title Rollup
/// @notice l2kit optimistic rollup: bonded proposers post batches of commitments as calldata, the
///         contract keeps only hashes; anyone can prove a commitment wrong in one transaction by
///         re-executing it; final batches pay their withdrawals through the bridge.
/// @dev Layout of posted data, hashes and witnesses: docs/rollup-spec.md.
///      Extension points for forced inclusion / emergency exit: `lastFinalizedBatch`,
///      `batches(i).postRoot` (provable account leaves) and `depositEnd` per batch.
contract Rollup is IRollup, EIP712, ReentrancyGuardTransient {
    using L2Codec for bytes;

    /// @notice Commitment header size in posted data: postRoot | depositEnd(4) | feeAccount(3) | txLen(2).
    uint256 public constant HEADER_LEN = 41;
    /// @notice Bound on commitments per batch.
    uint256 public constant MAX_COMMITMENTS = 64;
    /// @notice Bound on txs per commitment (keeps a worst-case fraud proof under 3M gas).
    uint256 public constant MAX_TXS_PER_COMMITMENT = L2Codec.MAX_TXS;

    /// @notice The bridge holding the funds and the deposit queue.
    IL1Bridge public immutable bridge;
    /// @notice Bond a proposer must hold to post.
    uint256 public immutable requiredBond;
    /// @notice Seconds after posting during which a batch can be disputed.
    uint256 public immutable challengePeriod;
    /// @notice Root of the empty account tree (the state before batch 0).
    bytes32 public immutable genesisRoot;

    /// @notice Number of live batches (rollback lowers it).
    uint256 public batchCount;
    /// @notice Wei burned by slashing (held here forever, never paid out).
    uint256 public burned;
    mapping(uint256 index => RollupTypes.Batch) private _batches;
    /// @notice Bond held per proposer.
    mapping(address proposer => uint256 amount) public bondOf;
    /// @notice Index + 1 of the last batch a proposer posted (0: none).
    mapping(address proposer => uint256 indexPlusOne) public lastBatchOf;
    /// @notice Challenger rewards to pull.
    mapping(address challenger => uint256 amount) public rewardOf;

    /// @param bridge_ The L1Bridge (constructed with recipient tag 0x01).
    /// @param requiredBond_ Bond needed to post (wei, > 0).
    /// @param challengePeriod_ Dispute window in seconds (> 0).
    constructor(IL1Bridge bridge_, uint256 requiredBond_, uint256 challengePeriod_) EIP712("l2kit-rollup", "1") {
        if (address(bridge_) == address(0) || requiredBond_ == 0 || challengePeriod_ == 0) revert BadParameter();
        bridge = bridge_;
        requiredBond = requiredBond_;
        challengePeriod = challengePeriod_;
        genesisRoot = SparseMerkle.emptyRoot();
    }

    // ------------------------------------------------------------------- bonds

    /// @notice Add the ETH sent to the caller's bond.
    function bond() external payable {
        if (msg.value == 0) revert ZeroValue();
        uint256 total = bondOf[msg.sender] + msg.value;
        bondOf[msg.sender] = total;
        emit Bonded(msg.sender, msg.value, total);
    }

    /// @notice Pull `amount` of the caller's bond to `to`; allowed once its last batch is final
    ///         (or rolled back).
    /// @param amount Wei to withdraw. @param to Destination.
    function withdrawBond(uint256 amount, address to) external nonReentrant {
        if (to == address(0)) revert ZeroDestination();
        if (amount == 0 || amount > bondOf[msg.sender]) revert NothingToWithdraw();
        uint256 last = lastBatchOf[msg.sender];
        // INVARIANT: a proposer's bond stays locked while any batch it posted can still be disputed
        // (batches finalise in index order, so its last batch being final covers all of them).
        if (last != 0 && last - 1 < batchCount && !isFinal(last - 1)) revert BondLocked(last - 1);
        bondOf[msg.sender] -= amount;
        emit BondWithdrawn(msg.sender, amount, to);
        _send(to, amount);
    }

    /// @notice Pull the caller's challenger rewards to `to`.
    /// @param to Destination.
    function claimReward(address to) external nonReentrant {
        if (to == address(0)) revert ZeroDestination();
        uint256 amount = rewardOf[msg.sender];
        if (amount == 0) revert NothingToWithdraw();
        rewardOf[msg.sender] = 0;
        emit RewardClaimed(msg.sender, amount, to);
        _send(to, amount);
    }

    // ----------------------------------------------------------------- posting

    /// @notice Post a batch: commitments back to back, each
    ///         `postRoot(32) | depositEnd(4) | feeAccount(3) | txLen(2) | txs(txLen)`.
    /// @param expectedPreRoot The root the proposer built on (the current head's post-root).
    /// @param data The batch bytes (only their hashes are stored).
    /// @return index The new batch's index.
    function postBatch(bytes32 expectedPreRoot, bytes calldata data) external returns (uint256 index) {
        uint256 held = bondOf[msg.sender];
        if (held < requiredBond) revert InsufficientBond(msg.sender, held, requiredBond);
        index = batchCount;
        (bytes32 preRoot, uint256 depositStart) = _headState(index);
        if (preRoot != expectedPreRoot) revert UnexpectedPreRoot(expectedPreRoot, preRoot);
        (bytes32 batchHash, bytes32 postRoot, uint256 depositEnd, uint256 n) = _hashBatch(data, depositStart);
        uint256 queued = bridge.depositCount();
        if (depositEnd > queued) revert DepositsNotQueued(depositEnd, queued);
        _batches[index] = RollupTypes.Batch({
            batchHash: batchHash,
            postRoot: postRoot,
            proposer: msg.sender,
            postedAt: uint64(block.timestamp),
            depositEnd: uint32(depositEnd)
        });
        batchCount = index + 1;
        lastBatchOf[msg.sender] = index + 1;
        emit BatchPosted(index, msg.sender, batchHash, postRoot, uint32(depositEnd), n);
    }

    /// @dev Split and hash the batch: returns keccak256 of the commitment hashes.
    function _hashBatch(bytes calldata data, uint256 depositStart)
        private
        pure
        returns (bytes32 batchHash, bytes32 postRoot, uint256 depositEnd, uint256 n)
    {
        bytes32[] memory hashes = new bytes32[](MAX_COMMITMENTS);
        uint256 offset = 0;
        depositEnd = depositStart;
        // Bounded: at most MAX_COMMITMENTS iterations.
        while (offset < data.length) {
            if (n == MAX_COMMITMENTS) revert MalformedBatch(offset);
            uint256 end;
            (hashes[n], postRoot, end, offset) = _commitmentAt(data, offset);
            // INVARIANT: deposits are consumed in queue order, at most one per tx slot.
            if (end < depositEnd || end - depositEnd > L2Codec.MAX_TXS) revert BadDepositRange(n, depositEnd, end);
            depositEnd = end;
            ++n;
        }
        if (n == 0) revert MalformedBatch(0);
        assembly ("memory-safe") {
            batchHash := keccak256(add(hashes, 32), shl(5, n))
        }
    }

    /// @dev Parse the commitment at `offset`: its hash, post-root, deposit end and the next offset.
    function _commitmentAt(bytes calldata data, uint256 offset)
        private
        pure
        returns (bytes32 h, bytes32 postRoot, uint256 depositEnd, uint256 next)
    {
        if (offset + HEADER_LEN > data.length) revert MalformedBatch(offset);
        postRoot = bytes32(data.word(offset));
        uint256 w = data.word(offset + 32);
        depositEnd = w >> 224;
        uint256 txLen = (w >> 184) & 0xffff;
        uint256 txStart = offset + HEADER_LEN;
        next = txStart + txLen;
        if (txLen > L2Codec.MAX_TX_BYTES || next > data.length) revert MalformedBatch(offset);
        h = _commitmentHash(postRoot, uint32(depositEnd), uint24(w >> 200), keccak256(data[txStart:next]));
    }

    // ------------------------------------------------------------ fraud proofs

    /// @notice Prove a commitment of a non-final batch wrong by re-executing it on chain. On success
    ///         the batch and every later one are rolled back, the proposer's bond is slashed: half is
    ///         credited to the caller, the rest burned. Reverts (NotFraudulent) on a correct commitment.
    /// @param p The evidence (see RollupTypes.FraudProof).
    function proveFraud(RollupTypes.FraudProof calldata p) external {
        uint256 b = p.batchIndex;
        RollupTypes.Batch storage batch = _liveBatch(b);
        if (isFinal(b)) revert BatchFinal(b);
        _checkHashes(batch.batchHash, p.commitmentHashes, b);
        uint256 ci = p.commitmentIndex;
        if (ci >= p.commitmentHashes.length) revert CommitmentMismatch(ci);
        if (_commitmentHash(p.postRoot, p.depositEnd, p.feeAccount, keccak256(p.txs)) != p.commitmentHashes[ci]) {
            revert CommitmentMismatch(ci);
        }
        (bytes32 preRoot, uint256 depositStart) = _preState(p, b, ci);
        _checkDeposits(p.deposits, depositStart, p.depositEnd);
        (RollupTypes.Fault fault, uint256 txIndex) = _verdict(p, preRoot);
        _slashAndRollback(b, ci, fault, txIndex, batch.proposer);
    }

    function _verdict(RollupTypes.FraudProof calldata p, bytes32 preRoot)
        private
        view
        returns (RollupTypes.Fault fault, uint256 txIndex)
    {
        bytes32 root;
        (fault, txIndex, root) = CommitmentExecutor.execute(preRoot, _domainSeparatorV4(), p);
        if (fault == RollupTypes.Fault.NONE) {
            // INVARIANT: a proof against a correct commitment fails.
            if (root == p.postRoot) revert NotFraudulent(p.batchIndex, p.commitmentIndex);
            fault = RollupTypes.Fault.WRONG_ROOT;
        }
    }

    function _preState(RollupTypes.FraudProof calldata p, uint256 b, uint256 ci)
        private
        view
        returns (bytes32 preRoot, uint256 depositStart)
    {
        if (ci == 0) return _headState(b);
        RollupTypes.CommitmentRef calldata prev = p.prev;
        if (_commitmentHash(prev.postRoot, prev.depositEnd, prev.feeAccount, prev.txsHash) != p.commitmentHashes[ci - 1]) {
            revert CommitmentMismatch(ci - 1);
        }
        return (prev.postRoot, prev.depositEnd);
    }

    function _checkDeposits(RollupTypes.Deposit[] calldata deposits, uint256 from, uint256 to) private view {
        if (deposits.length != to - from) revert DepositEvidenceMismatch(from, to);
        bytes32 acc = bridge.accumulatorAt(from);
        for (uint256 i = 0; i < deposits.length; ++i) {
            RollupTypes.Deposit calldata d = deposits[i];
            acc = keccak256(abi.encodePacked(acc, d.token, d.amount, bytes1(0x01), d.owner));
        }
        // INVARIANT: the executor sees exactly the bridge's queue entries [from, to), in order.
        if (acc != bridge.accumulatorAt(to)) revert DepositEvidenceMismatch(from, to);
    }

    function _slashAndRollback(
        uint256 b,
        uint256 ci,
        RollupTypes.Fault fault,
        uint256 txIndex,
        address proposer
    ) private {
        uint256 slashed = bondOf[proposer];
        uint256 reward = slashed / 2;
        uint256 burnt = slashed - reward;
        bondOf[proposer] = 0;
        rewardOf[msg.sender] += reward;
        burned += burnt;
        uint256 oldCount = batchCount;
        // INVARIANT: a rolled-back batch and everything built on it disappear together.
        batchCount = b;
        emit FraudProven(b, ci, fault, txIndex, msg.sender, reward, burnt);
        emit BatchesRolledBack(b, oldCount);
    }

    // ------------------------------------------------------------- withdrawals

    /// @notice Pay a withdraw tx of a final batch: the bridge credits the account's L1 owner, once.
    /// @param p Inclusion proof (see RollupTypes.WithdrawalProof).
    function finalizeWithdrawal(RollupTypes.WithdrawalProof calldata p) external {
        uint256 b = p.batchIndex;
        RollupTypes.Batch storage batch = _liveBatch(b);
        if (!isFinal(b)) revert BatchNotFinal(b, batch.postedAt + challengePeriod);
        _checkHashes(batch.batchHash, p.commitmentHashes, b);
        uint256 ci = p.commitmentIndex;
        if (ci >= p.commitmentHashes.length
            || _commitmentHash(p.postRoot, p.depositEnd, p.feeAccount, keccak256(p.txs)) != p.commitmentHashes[ci]) {
            revert CommitmentMismatch(ci);
        }
        (uint256 from, uint256 amount) = _findWithdraw(p.txs, p.txIndex);
        if (p.account.length != L2Codec.LEAF_BYTES || p.siblings.length != SparseMerkle.PATH_BYTES) {
            revert BadAccountProof();
        }
        L2Codec.Account memory a = L2Codec.readAccount(p.account, 0);
        if (a.owner == address(0)
            || SparseMerkle.rootFrom(from, L2Codec.leafHash(a), p.siblings, 0) != p.postRoot) {
            revert BadAccountProof();
        }
        bytes32 id = keccak256(abi.encode(b, ci, p.txIndex));
        emit WithdrawalFinalized(id, a.owner, a.token, amount);
        // INVARIANT: paid at most once per id (the bridge reverts AlreadyReleased on a replay).
        bridge.releaseWithdrawal(id, a.token, a.owner, amount);
    }

    /// @dev Walk the tx data to tx `txIndex`; it must be a complete withdraw.
    function _findWithdraw(bytes calldata txs, uint256 txIndex) private pure returns (uint256 from, uint256 amount) {
        uint256 offset = 0;
        for (uint256 i = 0; i < L2Codec.MAX_TXS && offset < txs.length; ++i) {
            uint8 kind = uint8(txs.word(offset) >> 248);
            uint256 len = L2Codec.txLength(kind);
            if (len == 0 || offset + len > txs.length) break;
            if (i == txIndex) {
                if (kind != L2Codec.TX_WITHDRAW) break;
                uint256 w0 = txs.word(offset);
                return ((w0 >> 224) & 0xffffff, L2Codec.unpackFloat((w0 >> 184) & 0xffffffffff));
            }
            offset += len;
        }
        revert NotAWithdrawal(txIndex);
    }

    // ------------------------------------------------------------------- views

    /// @notice A live batch's stored record.
    /// @param index Batch index.
    function batches(uint256 index) external view returns (RollupTypes.Batch memory) {
        return _liveBatch(index);
    }

    /// @notice Whether batch `index` is live and past its challenge window.
    /// @param index Batch index.
    function isFinal(uint256 index) public view returns (bool) {
        return index < batchCount && block.timestamp >= _batches[index].postedAt + challengePeriod;
    }

    /// @notice Number of final batches (batches finalise in index order): binary search, O(log n).
    function finalizedCount() public view returns (uint256 lo) {
        uint256 hi = batchCount;
        while (lo < hi) {
            uint256 mid = (lo + hi) / 2;
            if (isFinal(mid)) lo = mid + 1;
            else hi = mid;
        }
    }

    /// @notice The state root of the last final batch (genesis root if none): the root an emergency
    ///         exit would prove account leaves against.
    function lastFinalizedRoot() external view returns (bytes32) {
        uint256 n = finalizedCount();
        return n == 0 ? genesisRoot : _batches[n - 1].postRoot;
    }

    /// @notice The root and deposit position a new batch builds on.
    function head() external view returns (bytes32 root, uint256 depositEnd) {
        return _headState(batchCount);
    }

    /// @notice The EIP-712 domain separator L2 signatures are bound to.
    function domainSeparator() external view returns (bytes32) {
        return _domainSeparatorV4();
    }

    /// @notice keccak256(postRoot | depositEnd(4) | feeAccount(3) | txsHash): a commitment's hash.
    function commitmentHash(bytes32 postRoot, uint32 depositEnd, uint24 feeAccount, bytes32 txsHash)
        external
        pure
        returns (bytes32)
    {
        return _commitmentHash(postRoot, depositEnd, feeAccount, txsHash);
    }

    // ---------------------------------------------------------------- internal

    function _headState(uint256 index) private view returns (bytes32 root, uint256 depositEnd) {
        if (index == 0) return (genesisRoot, 0);
        RollupTypes.Batch storage prev = _batches[index - 1];
        return (prev.postRoot, prev.depositEnd);
    }

    function _liveBatch(uint256 index) private view returns (RollupTypes.Batch storage) {
        if (index >= batchCount) revert UnknownBatch(index);
        return _batches[index];
    }

    function _checkHashes(bytes32 batchHash, bytes32[] calldata hashes, uint256 b) private pure {
        if (keccak256(abi.encodePacked(hashes)) != batchHash) revert BatchHashMismatch(b);
    }

    function _commitmentHash(bytes32 postRoot, uint32 depositEnd, uint24 feeAccount, bytes32 txsHash)
        private
        pure
        returns (bytes32)
    {
        return keccak256(abi.encodePacked(postRoot, depositEnd, feeAccount, txsHash));
    }

    function _send(address to, uint256 amount) private {
        (bool ok,) = to.call{value: amount}("");
        if (!ok) revert EthTransferFailed(to, amount);
    }
}
