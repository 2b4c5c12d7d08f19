// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {Initializable} from "@openzeppelin/contracts/proxy/utils/Initializable.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";
import {IL1Bridge} from "../bridge/IL1Bridge.sol";
import {BlobData} from "../libraries/BlobData.sol";
import {BlobLayout} from "../libraries/BlobLayout.sol";
import {L2Codec} from "../libraries/L2Codec.sol";
import {PostingCalldata} from "../libraries/PostingCalldata.sol";
import {SparseMerkle} from "../libraries/SparseMerkle.sol";
import {BlobDispute} from "./BlobDispute.sol";
import {BLSKeyRegistry} from "./BLSKeyRegistry.sol";
import {StateExecutor} from "./StateExecutor.sol";
import {IRollup} from "./IRollup.sol";
import {RollupGovernor} from "./RollupGovernor.sol";
import {RollupStore} from "./RollupStore.sol";
import {RollupTypes} from "./RollupTypes.sol";
import {SignatureDispute} from "./SignatureDispute.sol";

/// @title Rollup
/// @notice l2kit optimistic rollup: bonded proposers post batches of commitments as calldata, the
///         contract keeps only hashes; anyone can prove a commitment wrong in one transaction by
///         re-executing it; final batches pay their withdrawals through the bridge.
///         Censorship resistance: users queue txs on L1 (`forceTransaction`) that batches must
///         consume in order; if one waits longer than `forcedInclusionDelay`, if checkpointed
///         deposits wait that long, or if no batch becomes final for `livenessPeriod`, anyone can
///         `freeze` the rollup, after which every account exits from the last final state root
///         (`exitFrozen`) and never-credited deposits are refunded (`refundDeposit`).
/// @dev Layout of posted data, hashes and witnesses: docs/rollup-spec.md, docs/forced-inclusion.md.
contract Rollup is IRollup, Initializable, ReentrancyGuardTransient {
    using L2Codec for bytes;

    /// @notice Commitment header size in posted data (format v2):
    ///         postRoot(32) | nDeposits nTransfers nWithdraws nForced (1 each) | feeAccount(3),
    ///         then the 48-byte aggregate signature iff nTransfers + nWithdraws > 0.
    uint256 public constant HEADER_LEN = 32 + L2Codec.REST_HEADER_LEN;
    /// @notice Rollup data format version (2: one BLS aggregate per commitment, issue 11).
    uint256 public constant FORMAT_VERSION = L2Codec.FORMAT_VERSION;
    /// @notice Bound on the account index an exit may name (the tree has 2^24 leaves).
    uint256 internal constant MAX_ACCOUNTS = 1 << 24;
    /// @notice Bound on commitments per batch.
    uint256 public constant MAX_COMMITMENTS = 64;
    /// @notice Bound on txs per commitment (keeps a worst-case fraud proof under 3M gas).
    uint256 public constant MAX_TXS_PER_COMMITMENT = L2Codec.MAX_TXS;
    /// @notice Share of a slashed batch bond paid to the challenger, in basis points; the rest is
    ///         burned, so a proposer challenging itself from a second account recovers at most this.
    uint256 public constant CHALLENGER_SHARE_BPS = 2500;
    /// @notice Bound on final batch bonds released by one postBatch / withdrawBond / releaseBonds.
    uint256 public constant MAX_RELEASES = 32;
    /// @notice Bound on batches posted by one postBlobBatches call (each locks its own bond).
    uint256 public constant MAX_BLOB_BATCHES = 32;

    /// @notice The bridge holding the funds and the deposit queue.
    IL1Bridge public immutable bridge;
    /// @notice Root of the empty account tree (the state before batch 0).
    bytes32 public immutable genesisRoot;
    /// @notice Where L2 signers' BLS keys are registered.
    BLSKeyRegistry public immutable registry;
    /// @notice The signature dispute's verdict contract (created with the rollup). Its verdict
    ///         binds the tag of its caller, this code's `address(this)`: under a proxy the proxy,
    ///         whose address users sign for (`signingDst()`, RollupGovernor).
    SignatureDispute public immutable signatureDispute;
    /// @notice The state dispute's re-execution (CommitmentExecutor), created with the rollup.
    StateExecutor public immutable stateExecutor;
    /// @notice The blob dispute's verdict contract, created with the rollup.
    BlobDispute public immutable blobDispute;
    /// @notice The governance extension (RollupGovernor), created with the rollup; see `fallback`.
    address public immutable governor;


    /// @param bridge_ The L1Bridge (constructed with recipient tag 0x01).
    /// @param requiredBond_ Bond needed to post (wei, > 0).
    /// @param challengePeriod_ Dispute window in seconds (> 0).
    /// @param forcedInclusionDelay_ Inclusion deadline of forced txs and checkpointed deposits (s, > 0).
    /// @param livenessPeriod_ Longest time without a newly final batch before a freeze (s, > 0).
    /// @param registry_ The BLSKeyRegistry holding L2 signers' keys.
    constructor(
        IL1Bridge bridge_,
        uint256 requiredBond_,
        uint256 challengePeriod_,
        uint256 forcedInclusionDelay_,
        uint256 livenessPeriod_,
        BLSKeyRegistry registry_
    ) {
        if (address(bridge_) == address(0) || address(registry_) == address(0)) revert BadParameter();
        registry = registry_;
        signatureDispute = new SignatureDispute(registry_);
        stateExecutor = new StateExecutor();
        blobDispute = new BlobDispute();
        bridge = bridge_;
        genesisRoot = SparseMerkle.emptyRoot();
        // The implementation itself is a working, ungoverned rollup (no timelock: its parameters
        // are fixed), and it can never be initialized again, so nobody can take it over.
        governor = address(new RollupGovernor());
        RollupStore.Layout storage $ = _s();
        uint256[4] memory params = [requiredBond_, challengePeriod_, forcedInclusionDelay_, livenessPeriod_];
        for (uint256 i; i < 4; ++i) {
            if (!RollupStore.valid(i, params[i])) revert BadParameter();
            RollupStore.setParam($, i, params[i]);
        }
        $.deployedAt = block.timestamp;
        _disableInitializers();
    }

    /// @notice Everything this contract does not implement runs in `governor` by delegatecall:
    ///         `initialize`, the governed setters, `timelock()` and `exitTime()` (RollupGovernor).
    fallback() external {
        address g = governor;
        assembly {
            calldatacopy(0, 0, calldatasize())
            let ok := delegatecall(gas(), g, 0, calldatasize(), 0, 0)
            returndatacopy(0, 0, returndatasize())
            if iszero(ok) { revert(0, returndatasize()) }
            return(0, returndatasize())
        }
    }

    // ------------------------------------------------------------------- bonds

    /// @notice Add the ETH sent to the caller's bond.
    function bond() external payable {
        RollupStore.Layout storage $ = _s();
        if (msg.value == 0) revert ZeroValue();
        uint256 total = $.bondOf[msg.sender] + msg.value;
        $.bondOf[msg.sender] = total;
        emit Bonded(msg.sender, msg.value, total);
    }

    /// @notice Pull `amount` of the caller's free bond to `to` (bond locked in batches that can
    ///         still be disputed never is; final batches' bonds are released first).
    /// @param amount Wei to withdraw.
    /// @param to Destination.
    function withdrawBond(uint256 amount, address to) external nonReentrant {
        RollupStore.Layout storage $ = _s();
        if (to == address(0)) revert ZeroDestination();
        _releaseFinal(MAX_RELEASES);
        uint256 free = $.bondOf[msg.sender];
        // INVARIANT: only the free bond leaves; a disputable batch's bond is not part of it.
        if (amount == 0 || amount > free) {
            if (amount != 0 && $.lockedBondOf[msg.sender] != 0) revert BondLocked(free, $.lockedBondOf[msg.sender]);
            revert NothingToWithdraw();
        }
        $.bondOf[msg.sender] = free - amount;
        emit BondWithdrawn(msg.sender, amount, to);
        _send(to, amount);
    }

    /// @notice Release the bonds of up to `max` final batches, in index order, to their proposers'
    ///         free bond (anyone may call; postBatch and withdrawBond do it too).
    /// @param max Upper bound on batches released (<= MAX_RELEASES).
    function releaseBonds(uint256 max) external {
        _releaseFinal(max < MAX_RELEASES ? max : MAX_RELEASES);
    }

    /// @notice Release the bond of one batch that can no longer be disputed: final, rolled back,
    ///         or discarded by a freeze and past its challenge window (anyone may call).
    /// @param index Batch index.
    function releaseBond(uint256 index) external {
        RollupStore.Layout storage $ = _s();
        if ($._batches[index].bond == 0) revert NothingToWithdraw();
        if (_disputable(index)) revert BatchBondLocked(index);
        _release(index);
    }

    /// @notice Bond locked in batch `index`'s slot (0 once released or slashed).
    /// @param index Batch index.
    function batchBond(uint256 index) external view returns (uint256) {
        RollupStore.Layout storage $ = _s();
        return $._batches[index].bond;
    }

    /// @notice Whether batch `index` can be proven fraudulent right now.
    /// @param index Batch index.
    function isDisputable(uint256 index) external view returns (bool) {
        return _disputable(index);
    }

    /// @dev Live and inside its window, or discarded by a freeze while still inside its window.
    function _disputable(uint256 index) private view returns (bool) {
        RollupStore.Layout storage $ = _s();
        if (index < $.batchCount) return !isFinal(index);
        return index < $.discardedEnd && block.timestamp < $._batches[index].postedAt + RollupStore.window($.challenge, index);
    }

    /// @dev Move slot `index`'s bond back to its proposer's free bond (no-op when none is held).
    function _release(uint256 index) private {
        RollupStore.Layout storage $ = _s();
        RollupTypes.Batch storage batch = $._batches[index];
        uint256 amount = batch.bond;
        if (amount == 0) return;
        address proposer = batch.proposer;
        batch.bond = 0;
        $.lockedBondOf[proposer] -= amount;
        $.bondOf[proposer] += amount;
        emit BondReleased(index, proposer, amount);
    }

    /// @dev Release final batches from the cursor on (final batches never roll back, and every
    ///      rollback or freeze stops at or above the first non-final batch, so cursor <= batchCount).
    function _releaseFinal(uint256 max) private {
        RollupStore.Layout storage $ = _s();
        uint256 c = $.bondCursor;
        uint256 end = c + max;
        // Bounded: at most `max` iterations.
        while (c < end && isFinal(c)) {
            _release(c);
            ++c;
        }
        $.bondCursor = c;
    }

    /// @notice Pull the caller's challenger rewards to `to`.
    /// @param to Destination.
    function claimReward(address to) external nonReentrant {
        RollupStore.Layout storage $ = _s();
        if (to == address(0)) revert ZeroDestination();
        uint256 amount = $.rewardOf[msg.sender];
        if (amount == 0) revert NothingToWithdraw();
        $.rewardOf[msg.sender] = 0;
        emit RewardClaimed(msg.sender, amount, to);
        _send(to, amount);
    }

    // ----------------------------------------------------------------- posting

    /// @notice Post a batch: 1..64 v2 commitments back to back, each `postRoot(32) | rest`, rest =
    ///         counts(4) | feeAccount(3) | [signature(48)] | deposits(3n) | transfers(12n) |
    ///         withdraws(9n) | forced outcomes(1n). Only the framing is checked.
    /// @param expectedPreRoot The root the proposer built on (the current head's post-root).
    /// @param data The batch bytes (only their hashes are stored).
    /// @return index The new batch's index.
    ///      Only a direct call from an account without code, with canonical calldata, is accepted:
    ///      then the posting tx's input is exactly this call, which is all a validator reads.
    function postBatch(bytes32 expectedPreRoot, bytes calldata data) external returns (uint256 index) {
        RollupStore.Layout storage $ = _s();
        _checkPostingCall(data);
        index = $.batchCount;
        _lockBond(index);
        Cursor memory cur;
        bytes32 preRoot;
        (preRoot, cur.depositEnd, cur.forcedEnd) = _headState(index);
        if (preRoot != expectedPreRoot) revert UnexpectedPreRoot(expectedPreRoot, preRoot);
        (bytes32 batchHash, uint256 n) = _hashBatch(data, cur);
        _checkQueues(cur.depositEnd, cur.forcedEnd);
        _store(index, batchHash, cur.postRoot, cur.depositEnd, cur.forcedEnd, n);
        // INVARIANT: a calldata batch has no blob binding (an index reused after a rollback never
        // keeps the old posting's).
        delete $.blobRef[index];
        $.batchCount = index + 1;
    }

    /// @notice Post 1..MAX_BLOB_BATCHES batches whose commitments' rests ride in this type-3
    ///         transaction's blobs (docs/rollup-blobs.md §1): `data` = per batch a count byte n
    ///         (1..64) and n headers postRoot(32) ‖ counts(4) ‖ restHash(32). Each batch locks its
    ///         own bond and is stored exactly as a calldata batch with the same commitments; the
    ///         blobs (exactly the count the payload needs) are bound per batch in `blobRef`.
    /// @param expectedPreRoot The root the proposer built on (the current head's post-root).
    /// @param data The headers (canonical calldata, EOA poster, as postBatch).
    /// @return first The first new batch's index.
    /// @return count The number of batches posted.
    function postBlobBatches(bytes32 expectedPreRoot, bytes calldata data)
        external
        returns (uint256 first, uint256 count)
    {
        RollupStore.Layout storage $ = _s();
        _checkPostingCall(data);
        first = $.batchCount;
        (bytes32 preRoot, uint256 depositStart, uint256 forcedStart) = _headState(first);
        if (preRoot != expectedPreRoot) revert UnexpectedPreRoot(expectedPreRoot, preRoot);
        // [payload, count, then per batch: batchHash, postRoot, depositEnd, forcedEnd, n, offset]
        uint256 r = _parseBlobPosting(depositStart, forcedStart);
        uint256 payload;
        assembly ("memory-safe") {
            payload := mload(r)
            count := mload(add(r, 0x40))
            r := add(r, 0x60)
        }
        // Bounded: count <= MAX_BLOB_BATCHES (BlobDispute.postedBatches refuses more).
        for (uint256 i = 0; i < count; ++i) {
            _lockBond(first + i);
            bytes32 batchHash;
            bytes32 postRoot;
            uint256 n;
            assembly ("memory-safe") {
                let at := add(r, mul(i, 0xc0))
                batchHash := mload(at)
                postRoot := mload(add(at, 0x20))
                depositStart := mload(add(at, 0x40))
                forcedStart := mload(add(at, 0x60))
                n := mload(add(at, 0x80))
            }
            _store(first + i, batchHash, postRoot, depositStart, forcedStart, n);
        }
        _checkQueues(depositStart, forcedStart);
        // INVARIANT: the transaction carries exactly the blobs the payload needs, all recorded.
        bytes32[] memory hashes = BlobData.recordBlobHashes(BlobLayout.blobsNeeded(payload));
        $.batchCount = first + count;
        // The BlobBatchPosted data is abi.encode(hashes, payloadOffset), what blobRef hashes:
        // encoded once, its offset word set per batch.
        bytes memory enc = abi.encode(hashes, uint256(0));
        bytes32 topic = BlobBatchPosted.selector;
        for (uint256 i = 0; i < count; ++i) {
            uint256 index = first + i;
            bytes32 ref;
            assembly ("memory-safe") {
                let start := add(enc, 32)
                let len := mload(enc)
                mstore(add(start, 32), mload(add(r, add(mul(i, 0xc0), 0xa0))))
                ref := keccak256(start, len)
                log2(start, len, topic, index)
            }
            $.blobRef[index] = ref;
        }
    }

    /// @dev blobDispute.postedBatches(depositStart, forcedStart, data) on this call's (canonical)
    ///      `data`, copied from calldata as it is; returns a pointer to the ABI-encoded answer
    ///      (payload, then the PostedBatch array: offset, length, 6 words per batch). A revert
    ///      (bad framing) is bubbled up.
    function _parseBlobPosting(uint256 depositStart, uint256 forcedStart) private view returns (uint256 r) {
        address target = address(blobDispute);
        bytes4 selector = BlobDispute.postedBatches.selector;
        assembly ("memory-safe") {
            let m := mload(0x40)
            // Canonical calldata: data's length word at byte 68, the data and its padding after.
            let len := sub(calldatasize(), 68)
            mstore(m, selector)
            mstore(add(m, 4), depositStart)
            mstore(add(m, 36), forcedStart)
            mstore(add(m, 68), 0x60)
            calldatacopy(add(m, 100), 68, len)
            if iszero(staticcall(gas(), target, m, add(100, len), 0, 0)) {
                returndatacopy(m, 0, returndatasize())
                revert(m, returndatasize())
            }
            returndatacopy(m, 0, returndatasize())
            r := m
            mstore(0x40, add(m, returndatasize()))
        }
    }

    /// @dev A batch consumes only queued deposits and forced txs (ends only grow along a posting).
    function _checkQueues(uint256 depositEnd, uint256 forcedEnd) private view {
        RollupStore.Layout storage $ = _s();
        uint256 queued = bridge.depositCount();
        if (depositEnd > queued) revert DepositsNotQueued(depositEnd, queued);
        // INVARIANT: a batch only consumes forced txs that were queued on L1.
        if (forcedEnd > $.forcedCount) revert ForcedNotQueued(forcedEnd, $.forcedCount);
    }

    /// @dev Store batch `index` (its bond already locked) and emit BatchPosted.
    function _store(
        uint256 index,
        bytes32 batchHash,
        bytes32 postRoot,
        uint256 depositEnd,
        uint256 forcedEnd,
        uint256 n
    ) private {
        RollupStore.Layout storage $ = _s();
        $._batches[index] = RollupTypes.Batch({
            batchHash: batchHash,
            postRoot: postRoot,
            proposer: msg.sender,
            postedAt: uint64(block.timestamp),
            depositEnd: uint32(depositEnd),
            forcedEnd: uint32(forcedEnd),
            bond: uint96($.requiredBond),
            postedBlock: uint64(block.number)
        });
        emit BatchPosted(index, msg.sender, batchHash, postRoot, uint32(depositEnd), uint32(forcedEnd), n);
    }

    /// @dev Refuse any posting whose bytes a validator could not take from the tx input alone,
    ///      and any posting while frozen or paused by the council.
    function _checkPostingCall(bytes calldata data) private view {
        // INVARIANT: msg.sender == tx.origin and no code at it means this is the top-level call of
        // a tx to this contract (an account without code runs nothing, and an EIP-7702-delegated
        // EOA has the 23-byte designator 0xef0100||target as code), so tx.input == msg.data.
        if (msg.sender != tx.origin || msg.sender.code.length != 0) revert PosterNotEOA(msg.sender);
        // INVARIANT: msg.data is the one canonical encoding, so the validator's strict decoder
        // (offchain/rollup/posting.py) extracts exactly the `data` hashed below.
        if (!PostingCalldata.isCanonical(data)) revert NonCanonicalCalldata();
        RollupStore.Layout storage $ = _s();
        if ($.frozen) revert Frozen();
        // INVARIANT: a council pause stops posting only (no other entry point reads it).
        uint256 until = $.pausedUntil;
        if (block.timestamp < until) revert PostingIsPaused(until);
    }

    /// @dev Bond side of postBatch: free the slot's previous (rolled-back) batch bond and the
    ///      oldest final ones, then lock `requiredBond` of the caller's free bond for the new batch.
    function _lockBond(uint256 index) private {
        RollupStore.Layout storage $ = _s();
        // The slot at batchCount, if it holds a bond, belongs to a rolled-back batch.
        _release(index);
        _releaseFinal(2);
        uint256 held = $.bondOf[msg.sender];
        if (held < $.requiredBond) revert InsufficientBond(msg.sender, held, $.requiredBond);
        // INVARIANT: every disputable batch is backed by its own `requiredBond`.
        $.bondOf[msg.sender] = held - $.requiredBond;
        $.lockedBondOf[msg.sender] += $.requiredBond;
    }

    /// @dev Parsing position over a batch's commitments.
    struct Cursor {
        bytes32 postRoot;
        uint256 depositEnd;
        uint256 forcedEnd;
        uint256 offset;
    }

    /// @dev Split and hash the batch: returns keccak256 of the commitment hashes; `cur` ends at the
    ///      last commitment's post-root and queue positions.
    function _hashBatch(bytes calldata data, Cursor memory cur) private pure returns (bytes32 batchHash, uint256 n) {
        bytes32[] memory hashes = new bytes32[](MAX_COMMITMENTS);
        // Bounded: at most MAX_COMMITMENTS iterations.
        while (cur.offset < data.length) {
            if (n == MAX_COMMITMENTS) revert MalformedBatch(cur.offset);
            hashes[n] = _commitmentAt(data, cur);
            ++n;
        }
        if (n == 0) revert MalformedBatch(0);
        assembly ("memory-safe") {
            batchHash := keccak256(add(hashes, 32), shl(5, n))
        }
    }

    /// @dev Parse the commitment at `cur.offset`: check its framing (counts sum <= 32, complete),
    ///      derive its queue positions from the counts, advance `cur`, return its hash
    ///      keccak(postRoot | depositEnd(4) | forcedEnd(4) | keccak(rest)).
    function _commitmentAt(bytes calldata data, Cursor memory cur) private pure returns (bytes32 h) {
        uint256 offset = cur.offset;
        if (offset + HEADER_LEN > data.length) revert MalformedBatch(offset);
        L2Codec.Layout memory l = L2Codec.layout(data, offset + 32);
        uint256 next = offset + 32 + l.length;
        // INVARIANT: at most MAX_TXS slots per commitment (bounds every dispute's cost).
        if (L2Codec.txCount(l) > L2Codec.MAX_TXS || next > data.length) revert MalformedBatch(offset);
        uint256 depositEnd = cur.depositEnd + l.nDeposits;
        uint256 forcedEnd = cur.forcedEnd + l.nForced;
        cur.depositEnd = depositEnd;
        cur.forcedEnd = forcedEnd;
        cur.offset = next;
        bytes32 postRoot;
        assembly ("memory-safe") {
            let m := mload(0x40)
            let start := add(data.offset, offset)
            postRoot := calldataload(start)
            let len := sub(next, add(offset, 32))
            calldatacopy(m, add(start, 32), len)
            let restHash := keccak256(m, len)
            mstore(m, postRoot)
            mstore(add(m, 32), shl(224, depositEnd))
            mstore(add(m, 36), shl(224, forcedEnd))
            mstore(add(m, 40), restHash)
            h := keccak256(m, 72)
        }
        cur.postRoot = postRoot;
    }

    // ------------------------------------------------------------ fraud proofs

    /// @notice Commit to a fraud proof without showing it: the bounty of a later successful proof
    ///         goes to the earliest commitment to that same proof made in an earlier block. The
    ///         hash covers the proof itself, so only whoever built the proof can compute it (a
    ///         blind commitment to a batch is worthless); binding `challenger` makes a copied
    ///         commitment useless to the copier; committing the same hash again keeps the first block.
    /// @param commitment keccak256(abi.encode(keccak256(abi.encode(proof)), challenger, salt)).
    function commitFraud(bytes32 commitment) external {
        RollupStore.Layout storage $ = _s();
        if ($.fraudCommitmentBlock[commitment] != 0) return;
        $.fraudCommitmentBlock[commitment] = block.number;
        emit FraudCommitted(commitment, block.number);
    }

    /// @notice Prove a commitment of a disputable batch wrong by re-executing it on chain (no
    ///         commitment of the caller's: the bounty is provisionally the caller's). On success
    ///         the batch and every later one are rolled back, the batch's bond is slashed
    ///         (`CHALLENGER_SHARE_BPS` of it to the bounty, the rest burned) and the bonds of the
    ///         later batches are released. Reverts (NotFraudulent) on a correct commitment.
    /// @param p The evidence (see RollupTypes.FraudProof).
    function proveFraud(RollupTypes.FraudProof calldata p) external {
        bytes32 proofHash = keccak256(abi.encode(p));
        _proveFraud(p, msg.sender, 0, proofHash);
    }

    /// @notice proveFraud, revealing the caller's earlier `commitFraud(keccak256(abi.encode(
    ///         keccak256(abi.encode(p)), challenger, salt)))`: the bounty goes to `challenger`
    ///         unless an even earlier commitment to the same proof claims it. A missing or
    ///         same-block commitment does not stop the rollback: the bounty is then provisionally
    ///         the caller's.
    /// @param p The evidence (see RollupTypes.FraudProof).
    /// @param challenger The address bound in the commitment (receives the bounty).
    /// @param salt The commitment's salt.
    function revealFraud(RollupTypes.FraudProof calldata p, address challenger, bytes32 salt) external {
        RollupStore.Layout storage $ = _s();
        bytes32 proofHash = keccak256(abi.encode(p));
        uint256 at = $.fraudCommitmentBlock[keccak256(abi.encode(proofHash, challenger, salt))];
        if (at == 0 || at >= block.number) _proveFraud(p, msg.sender, 0, proofHash);
        else _proveFraud(p, challenger, at, proofHash);
    }

    /// @notice Claim bounty `id` with a commitment to its proof made before the proof's block and
    ///         earlier than the one holding it (a front-run reveal, or a slower challenger who
    ///         found the same proof first).
    /// @param id Bounty id (BountyOpened).
    /// @param challenger Address bound in the commitment.
    /// @param salt The commitment's salt.
    function claimBounty(uint256 id, address challenger, bytes32 salt) external {
        RollupStore.Layout storage $ = _s();
        RollupTypes.Bounty storage bounty = $._bounties[id];
        if (bounty.amount == 0 || block.timestamp >= bounty.claimUntil) revert BountyClosed(id);
        uint256 at = $.fraudCommitmentBlock[keccak256(abi.encode(bounty.proofHash, challenger, salt))];
        // INVARIANT: only a commitment made in a block before the proof, and strictly earlier than
        // the current holder's, takes the bounty (ties keep the first registered).
        if (at == 0 || at >= bounty.provenBlock || at >= bounty.commitBlock) revert CommitmentNotEarlier(id, at);
        bounty.recipient = challenger;
        bounty.commitBlock = uint64(at);
        emit BountyClaimed(id, challenger, at);
    }

    /// @notice After its claim window, credit bounty `id` to its holder's rewards (anyone may call).
    /// @param id Bounty id.
    function settleBounty(uint256 id) external {
        RollupStore.Layout storage $ = _s();
        RollupTypes.Bounty storage bounty = $._bounties[id];
        uint256 amount = bounty.amount;
        if (amount == 0) revert NothingToWithdraw();
        if (block.timestamp < bounty.claimUntil) revert BountyOpen(id, bounty.claimUntil);
        address to = bounty.recipient;
        bounty.amount = 0;
        $.rewardOf[to] += amount;
        emit BountySettled(id, to, amount);
    }

    /// @notice Bounty `id` as stored (amount 0 once settled).
    /// @param id Bounty id.
    function bounties(uint256 id) external view returns (RollupTypes.Bounty memory) {
        RollupStore.Layout storage $ = _s();
        return $._bounties[id];
    }

    /// @notice Prove that a commitment of a disputable batch carries an aggregate signature that
    ///         does not cover its transfers and withdraws (or a signer without account or key):
    ///         rolled back and slashed exactly like a state fraud (FraudProven with fault
    ///         BAD_SIGNATURE, NO_ACCOUNT, NO_KEY or MALFORMED). Reverts NotFraudulent when the
    ///         aggregate verifies. The bounty is provisionally the caller's.
    /// @param p The evidence (see RollupTypes.SignatureProof).
    function proveSignatureFraud(RollupTypes.SignatureProof calldata p) external {
        bytes32 proofHash = _proofHash(p);
        _proveSignatureFraud(p, msg.sender, 0, proofHash);
    }

    /// @notice proveSignatureFraud, revealing the caller's earlier `commitFraud(keccak256(
    ///         abi.encode(keccak256(abi.encode(p)), challenger, salt)))` (as revealFraud).
    /// @param p The evidence (see RollupTypes.SignatureProof).
    /// @param challenger The address bound in the commitment (receives the bounty).
    /// @param salt The commitment's salt.
    function revealSignatureFraud(RollupTypes.SignatureProof calldata p, address challenger, bytes32 salt) external {
        RollupStore.Layout storage $ = _s();
        bytes32 proofHash = _proofHash(p);
        uint256 at = $.fraudCommitmentBlock[keccak256(abi.encode(proofHash, challenger, salt))];
        if (at == 0 || at >= block.number) _proveSignatureFraud(p, msg.sender, 0, proofHash);
        else _proveSignatureFraud(p, challenger, at, proofHash);
    }

    /// @dev keccak256(abi.encode(p)), then the encoding's memory is handed back: the verdict
    ///      call copies p again, and memory cost grows with the square of its size (the worst
    ///      signature proof is ~36 KB; keeping both copies cost ~10k gas).
    function _proofHash(RollupTypes.SignatureProof calldata p) private pure returns (bytes32 h) {
        uint256 free;
        assembly ("memory-safe") {
            free := mload(0x40)
        }
        h = keccak256(abi.encode(p));
        assembly ("memory-safe") {
            mstore(0x40, free)
        }
    }

    function _proveSignatureFraud(
        RollupTypes.SignatureProof calldata p,
        address recipient,
        uint256 commitBlock,
        bytes32 proofHash
    ) private {
        uint256 b = p.batchIndex;
        _requireDisputable(b);
        RollupTypes.Batch storage batch = _s()._batches[b];
        uint256 ci = p.commitmentIndex;
        _checkCommitment(batch.batchHash, b, p.commitmentHashes, ci, p.postRoot, p.depositEnd, p.forcedEnd, p.rest);
        RollupTypes.Fault fault = _signatureVerdict(p, batch.postedBlock);
        // INVARIANT: a commitment whose aggregate verifies under the registered keys stands.
        if (fault == RollupTypes.Fault.NONE) revert NotFraudulent(b, ci);
        _slashAndRollback(b, ci, fault, type(uint256).max, recipient, commitBlock, proofHash);
    }

    /// @dev signatureDispute.verdict(p, postedBlock), forwarding p's calldata as it is (the
    ///      proof's offsets are relative to its own start, so they stay valid behind a new head)
    ///      instead of re-encoding it. A revert of the verdict (bad evidence) is bubbled up.
    function _signatureVerdict(RollupTypes.SignatureProof calldata p, uint256 postedBlock)
        private
        view
        returns (RollupTypes.Fault fault)
    {
        address target = address(signatureDispute);
        bytes4 selector = SignatureDispute.verdict.selector;
        assembly ("memory-safe") {
            let m := mload(0x40)
            let len := sub(calldatasize(), p)
            mstore(m, selector)
            mstore(add(m, 4), 0x40)
            mstore(add(m, 36), postedBlock)
            calldatacopy(add(m, 68), p, len)
            if iszero(staticcall(gas(), target, m, add(68, len), 0, 32)) {
                returndatacopy(m, 0, returndatasize())
                revert(m, returndatasize())
            }
            fault := mload(0)
        }
    }

    /// @notice Prove that a blob batch's blobs do not hold the rest one of its commitments names
    ///         (docs/rollup-blobs.md §3): rolled back and slashed like a state fraud (FraudProven
    ///         with fault BLOB_MISMATCH, txIndex 0). Reverts NotFraudulent when the opened
    ///         elements hold the rest. The bounty is provisionally the caller's.
    /// @param p The evidence (see RollupTypes.BlobProof).
    function proveBlobFraud(RollupTypes.BlobProof calldata p) external {
        _proveBlobFraud(p, address(0), 0);
    }

    /// @notice proveBlobFraud, revealing the caller's earlier `commitFraud(keccak256(abi.encode(
    ///         keccak256(abi.encode(p)), challenger, salt)))` (as revealFraud).
    /// @param p The evidence (see RollupTypes.BlobProof).
    /// @param challenger The address bound in the commitment (receives the bounty).
    /// @param salt The commitment's salt.
    function revealBlobFraud(RollupTypes.BlobProof calldata p, address challenger, bytes32 salt) external {
        _proveBlobFraud(p, challenger, salt);
    }

    /// @dev challenger zero: no commitment revealed.
    function _proveBlobFraud(RollupTypes.BlobProof calldata p, address challenger, bytes32 salt) private {
        RollupStore.Layout storage $ = _s();
        uint256 b = p.batchIndex;
        _requireDisputable(b);
        bytes32 ref = $.blobRef[b];
        // INVARIANT: only a batch posted with blobs (and not replaced since) has a blob binding.
        if (ref == 0) revert NotABlobBatch(b);
        (, uint256 depositStart, uint256 forcedStart) = _headState(b);
        (RollupTypes.Fault fault, bytes32 proofHash) =
            _blobVerdict(p, ref, $._batches[b].batchHash, depositStart, forcedStart);
        // INVARIANT: a commitment whose blobs hold its rest stands (every element was opened).
        if (fault == RollupTypes.Fault.NONE) revert NotFraudulent(b, p.commitmentIndex);
        address recipient = msg.sender;
        uint256 at;
        if (challenger != address(0)) {
            at = $.fraudCommitmentBlock[keccak256(abi.encode(proofHash, challenger, salt))];
            if (at != 0 && at < block.number) recipient = challenger;
            else at = 0;
        }
        _slashAndRollback(b, p.commitmentIndex, fault, 0, recipient, at, proofHash);
    }

    /// @dev blobDispute.verdict(p, ref, batchHash, depositStart, forcedStart), forwarding p's
    ///      calldata as it is (as _signatureVerdict). A revert of the verdict is bubbled up.
    function _blobVerdict(
        RollupTypes.BlobProof calldata p,
        bytes32 ref,
        bytes32 batchHash,
        uint256 depositStart,
        uint256 forcedStart
    ) private view returns (RollupTypes.Fault fault, bytes32 proofHash) {
        address target = address(blobDispute);
        bytes4 selector = BlobDispute.verdict.selector;
        assembly ("memory-safe") {
            let m := mload(0x40)
            let len := sub(calldatasize(), p)
            mstore(m, selector)
            mstore(add(m, 4), 0xa0)
            mstore(add(m, 36), ref)
            mstore(add(m, 68), batchHash)
            mstore(add(m, 100), depositStart)
            mstore(add(m, 132), forcedStart)
            calldatacopy(add(m, 164), p, len)
            if iszero(staticcall(gas(), target, m, add(164, len), 0, 64)) {
                returndatacopy(m, 0, returndatasize())
                revert(m, returndatasize())
            }
            fault := mload(0)
            proofHash := mload(32)
        }
    }

    function _proveFraud(RollupTypes.FraudProof calldata p, address recipient, uint256 commitBlock, bytes32 proofHash)
        private
    {
        RollupStore.Layout storage $ = _s();
        uint256 b = p.batchIndex;
        _requireDisputable(b);
        uint256 ci = p.commitmentIndex;
        _checkCommitment($._batches[b].batchHash, b, p.commitmentHashes, ci, p.postRoot, p.depositEnd, p.forcedEnd, p.rest);
        (bytes32 preRoot, uint256 depositStart, uint256 forcedStart) = _preState(p, b, ci);
        _checkDeposits(p.deposits, depositStart, p.depositEnd);
        _checkForced(p.forced, forcedStart, p.forcedEnd);
        (RollupTypes.Fault fault, uint256 txIndex) = _verdict(p, preRoot);
        _slashAndRollback(b, ci, fault, txIndex, recipient, commitBlock, proofHash);
    }

    /// @dev Revert unless batch `b` is disputable: live and non-final, or discarded by a freeze
    ///      inside its window (so freezing never lets a fraudulent proposer keep its bond).
    function _requireDisputable(uint256 b) private view {
        RollupStore.Layout storage $ = _s();
        if (!_disputable(b)) {
            if (b < $.batchCount) revert BatchFinal(b);
            revert UnknownBatch(b);
        }
    }

    /// @dev Revert unless `hashes` are batch `b`'s and commitment `ci` of it has these fields.
    function _checkCommitment(
        bytes32 batchHash,
        uint256 b,
        bytes32[] calldata hashes,
        uint256 ci,
        bytes32 postRoot,
        uint32 depositEnd,
        uint32 forcedEnd,
        bytes calldata rest
    ) private pure {
        _checkHashes(batchHash, hashes, b);
        if (ci >= hashes.length || _commitmentHash(postRoot, depositEnd, forcedEnd, keccak256(rest)) != hashes[ci]) {
            revert CommitmentMismatch(ci);
        }
    }

    function _verdict(RollupTypes.FraudProof calldata p, bytes32 preRoot)
        private
        view
        returns (RollupTypes.Fault fault, uint256 txIndex)
    {
        bytes32 root;
        (fault, txIndex, root) = stateExecutor.execute(preRoot, p);
        if (fault == RollupTypes.Fault.NONE) {
            // INVARIANT: a proof against a correct commitment fails.
            if (root == p.postRoot) revert NotFraudulent(p.batchIndex, p.commitmentIndex);
            fault = RollupTypes.Fault.WRONG_ROOT;
        }
    }

    function _preState(RollupTypes.FraudProof calldata p, uint256 b, uint256 ci)
        private
        view
        returns (bytes32 preRoot, uint256 depositStart, uint256 forcedStart)
    {
        RollupTypes.CommitmentRef calldata prev = p.prev;
        if (ci == 0) {
            // INVARIANT: a proof has one encoding (its hash is what a fraud commitment binds): the
            // unused `prev` of a first commitment must be zero.
            if (prev.postRoot | prev.restHash != 0 || prev.depositEnd | prev.forcedEnd != 0) {
                revert CommitmentMismatch(0);
            }
            return _headState(b);
        }
        if (_commitmentHash(prev.postRoot, prev.depositEnd, prev.forcedEnd, prev.restHash)
                != p.commitmentHashes[ci - 1]) {
            revert CommitmentMismatch(ci - 1);
        }
        return (prev.postRoot, prev.depositEnd, prev.forcedEnd);
    }

    function _checkForced(RollupTypes.ForcedTx[] calldata forced, uint256 from, uint256 to) private view {
        RollupStore.Layout storage $ = _s();
        // Posting checked from <= to <= forcedCount (ranges only grow along the batch).
        if (to < from || forced.length != to - from) revert ForcedEvidenceMismatch(from, to);
        bytes32 acc = $._forcedAcc[from];
        for (uint256 i = 0; i < forced.length; ++i) {
            acc = keccak256(abi.encodePacked(acc, forced[i].sender, forced[i].l2tx));
        }
        // INVARIANT: the executor sees exactly the forced queue entries [from, to), in order.
        if (acc != $._forcedAcc[to]) revert ForcedEvidenceMismatch(from, to);
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
        address recipient,
        uint256 commitBlock,
        bytes32 proofHash
    ) private {
        RollupStore.Layout storage $ = _s();
        RollupTypes.Batch storage batch = $._batches[b];
        uint256 slashed = batch.bond;
        address proposer = batch.proposer;
        batch.bond = 0;
        $.lockedBondOf[proposer] -= slashed;
        uint256 reward = slashed * CHALLENGER_SHARE_BPS / 10_000;
        uint256 burnt = slashed - reward;
        $.burned += burnt;
        uint256 id = $.bountyCount++;
        $._bounties[id] = RollupTypes.Bounty({
            batchHash: batch.batchHash,
            proofHash: proofHash,
            recipient: recipient,
            amount: uint96(reward),
            batchIndex: uint64(b),
            provenBlock: uint64(block.number),
            commitBlock: commitBlock == 0 ? type(uint64).max : uint64(commitBlock),
            claimUntil: uint64(block.timestamp + $.challenge.current)
        });
        emit FraudProven(b, ci, fault, txIndex, recipient, reward, burnt);
        emit BountyOpened(id, b, batch.batchHash, recipient, reward, block.timestamp + $.challenge.current);
        if ($.frozen) {
            // Discarded batches after b are built on a proven lie: no longer disputable, and their
            // bonds are released (releaseBond), like a rollback's.
            $.discardedEnd = b;
            return;
        }
        uint256 oldCount = $.batchCount;
        // INVARIANT: a rolled-back batch and everything built on it disappear together; the later
        // batches' bonds stay in their slots until released (postBatch or releaseBond): O(1) here.
        $.batchCount = b;
        // Batches reposted at these indices are posted after any change: they get today's windows.
        if ($.challenge.from > b) $.challenge.from = uint64(b);
        if ($.liveness.from > b + 1) $.liveness.from = uint64(b + 1);
        emit BatchesRolledBack(b, oldCount);
    }

    // ------------------------------------------------------------- withdrawals

    /// @notice Pay a withdraw tx of a final batch: the bridge credits the account's L1 owner, once.
    /// @param p Inclusion proof (see RollupTypes.WithdrawalProof).
    function finalizeWithdrawal(RollupTypes.WithdrawalProof calldata p) external {
        RollupStore.Layout storage $ = _s();
        uint256 b = p.batchIndex;
        RollupTypes.Batch storage batch = _liveBatch(b);
        if (!isFinal(b)) revert BatchNotFinal(b, batch.postedAt + RollupStore.window($.challenge, b));
        uint256 ci = p.commitmentIndex;
        _checkCommitment(batch.batchHash, b, p.commitmentHashes, ci, p.postRoot, p.depositEnd, p.forcedEnd, p.rest);
        (uint256 from, uint256 amount) = _findWithdraw(p);
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

    /// @dev Slot `txIndex` (execution order: deposits, transfers, withdraws, forced slots): a
    ///      withdraw, or a forced slot marked applied whose forced-queue entry (p.forcedSender,
    ///      p.forcedTx, checked against the forced accumulator) is a withdraw.
    function _findWithdraw(RollupTypes.WithdrawalProof calldata p) private view returns (uint256 from, uint256 amount) {
        RollupStore.Layout storage $ = _s();
        bytes calldata rest = p.rest;
        L2Codec.Layout memory h = L2Codec.layout(rest, 0);
        uint256 i = p.txIndex;
        uint256 firstWithdraw = h.nDeposits + h.nTransfers;
        uint256 firstForced = firstWithdraw + h.nWithdraws;
        if (i >= firstWithdraw && i < firstForced && p.forcedTx.length == 0 && p.forcedSender == address(0)) {
            (from, amount,) = L2Codec.withdrawAt(rest, h.withdraws + (i - firstWithdraw) * L2Codec.WITHDRAW_LEN);
            return (from, amount);
        }
        if (i < firstForced || i >= firstForced + h.nForced || L2Codec.outcomeAt(rest, h.forced + i - firstForced) != 1) {
            revert NotAWithdrawal(i);
        }
        // The commitment consumed forced entries [forcedEnd - nForced, forcedEnd), one per slot.
        uint256 fi = p.forcedEnd - h.nForced + (i - firstForced);
        bytes calldata f = p.forcedTx;
        if (f.length != L2Codec.FORCED_WITHDRAW_LEN || uint8(f[0]) != L2Codec.TX_WITHDRAW
            || keccak256(abi.encodePacked($._forcedAcc[fi], p.forcedSender, f)) != $._forcedAcc[fi + 1]) {
            revert NotAWithdrawal(i);
        }
        (from, amount,) = L2Codec.withdrawAt(f, 1);
    }

    // ------------------------------------------------------- forced inclusion

    /// @notice Queue an L2 transfer or withdraw through L1: every batch must consume the forced
    ///         queue in order, and anyone can freeze the rollup once an entry waited longer than
    ///         `forcedInclusionDelay`. Not checked for validity here: an invalid one is skipped.
    ///         No signature: the entry binds the caller, and the tx applies only to an account
    ///         the caller owns.
    /// @param l2tx `0x02 ‖ from(3) ‖ to(3) ‖ amount(4) ‖ fee(2)` (13 bytes) or
    ///        `0x03 ‖ from(3) ‖ amount(4) ‖ fee(2)` (10 bytes).
    /// @return index Its position in the forced queue.
    function forceTransaction(bytes calldata l2tx) external returns (uint256 index) {
        RollupStore.Layout storage $ = _s();
        if ($.frozen) revert Frozen();
        uint256 kind = l2tx.length == 0 ? 0 : uint8(l2tx[0]);
        if (!((kind == L2Codec.TX_TRANSFER && l2tx.length == L2Codec.FORCED_TRANSFER_LEN)
                || (kind == L2Codec.TX_WITHDRAW && l2tx.length == L2Codec.FORCED_WITHDRAW_LEN))) {
            revert BadForcedTx(kind, l2tx.length);
        }
        index = $.forcedCount;
        // INVARIANT: a forced entry binds its L1 sender, the only owner it may debit.
        bytes32 acc = keccak256(abi.encodePacked($._forcedAcc[index], msg.sender, l2tx));
        $._forcedAcc[index + 1] = acc;
        $.forcedAt[index] = block.timestamp | ($.forcedInclusionDelay << 128);
        $.forcedCount = index + 1;
        emit TransactionForced(index, uint24(bytes3(l2tx[1:4])), msg.sender, l2tx, acc);
    }

    /// @notice Start the inclusion deadline of every deposit queued so far: if the live batches have
    ///         not consumed them `forcedInclusionDelay` seconds from now, anyone can freeze.
    ///         Refused while an earlier request is still unmet (its deadline cannot be moved).
    function requestDepositInclusion() external {
        RollupStore.Layout storage $ = _s();
        if ($.frozen) revert Frozen();
        (, uint256 depositEnd,) = _headState($.batchCount);
        // INVARIANT: a pending checkpoint's deadline cannot be pushed back by a new request.
        if (depositEnd < $.depositCheckpointCount) {
            revert CheckpointPending($.depositCheckpointCount, $.depositCheckpointTime + $.depositCheckpointDelay);
        }
        uint256 queued = bridge.depositCount();
        if (queued <= depositEnd) revert NoDepositsWaiting(depositEnd);
        $.depositCheckpointCount = queued;
        $.depositCheckpointTime = uint128(block.timestamp);
        $.depositCheckpointDelay = uint128($.forcedInclusionDelay);
        emit DepositInclusionRequested(queued, block.timestamp, msg.sender);
    }

    /// @notice Why the rollup can be frozen right now (NONE: it cannot).
    function freezeReason() public view returns (RollupTypes.FreezeReason) {
        RollupStore.Layout storage $ = _s();
        if ($.frozen) return RollupTypes.FreezeReason.NONE;
        (, uint256 depositEnd, uint256 forcedEnd) = _headState($.batchCount);
        if (forcedEnd < $.forcedCount && block.timestamp > _forcedDeadline($.forcedAt[forcedEnd])) {
            return RollupTypes.FreezeReason.FORCED_TX_EXPIRED;
        }
        if (depositEnd < $.depositCheckpointCount && block.timestamp > $.depositCheckpointTime + $.depositCheckpointDelay) {
            return RollupTypes.FreezeReason.DEPOSITS_CENSORED;
        }
        if (block.timestamp > lastFinalizationTime() + RollupStore.window($.liveness, $.batchCount)) return RollupTypes.FreezeReason.NO_FINALIZATION;
        return RollupTypes.FreezeReason.NONE;
    }

    /// @notice When the last final batch became final (deployment time if none is).
    function lastFinalizationTime() public view returns (uint256) {
        RollupStore.Layout storage $ = _s();
        uint256 n = finalizedCount();
        return n == 0 ? $.deployedAt : $._batches[n - 1].postedAt + RollupStore.window($.challenge, n - 1);
    }

    /// @notice Freeze the rollup (anyone, when `freezeReason()` is not NONE): non-final batches are
    ///         discarded (never final; the last final state becomes the exit state), postings stop,
    ///         final withdrawals stay payable. Discarded batches keep their bonds locked and stay
    ///         provable until their own challenge windows end: a fraudulent one is still slashed
    ///         and its challenger paid; an honest one's bond is released after its window.
    function freeze() external {
        RollupStore.Layout storage $ = _s();
        if ($.frozen) revert Frozen();
        RollupTypes.FreezeReason reason = freezeReason();
        if (reason == RollupTypes.FreezeReason.NONE) revert NotFreezable();
        uint256 n = finalizedCount();
        uint256 oldCount = $.batchCount;
        (bytes32 root, uint256 depositEnd, uint256 forcedEnd) = _headState(n);
        $.frozen = true;
        $.frozenRoot = root;
        $.frozenDepositEnd = depositEnd;
        $.frozenForcedEnd = forcedEnd;
        // INVARIANT: only final batches survive a freeze; the exit state is the last final root.
        $.batchCount = n;
        $.discardedEnd = oldCount;
        emit RollupFrozen(reason, n, root, depositEnd, forcedEnd, msg.sender);
        if (oldCount > n) emit BatchesRolledBack(n, oldCount);
    }

    /// @notice After a freeze: pay an account's whole balance in the frozen state to its L1 owner
    ///         (credited in the bridge, pulled with `bridge.claim`). Once per account.
    /// @param accountIndex The account's leaf index (< 2^24).
    /// @param leaf Its 60-byte leaf in the frozen state.
    /// @param siblings Its 24 siblings.
    function exitFrozen(uint256 accountIndex, bytes calldata leaf, bytes calldata siblings) external {
        RollupStore.Layout storage $ = _s();
        if (!$.frozen) revert NotFrozen();
        if (accountIndex >= MAX_ACCOUNTS || leaf.length != L2Codec.LEAF_BYTES
            || siblings.length != SparseMerkle.PATH_BYTES) {
            revert BadAccountProof();
        }
        L2Codec.Account memory a = L2Codec.readAccount(leaf, 0);
        if (a.owner == address(0)
            || SparseMerkle.rootFrom(accountIndex, L2Codec.leafHash(a), siblings, 0) != $.frozenRoot) {
            revert BadAccountProof();
        }
        if (a.balance == 0) revert NothingToWithdraw();
        bytes32 id = keccak256(abi.encode("exit", accountIndex));
        emit AccountExited(accountIndex, a.owner, a.token, a.balance);
        // INVARIANT: one exit per account (the bridge reverts AlreadyReleased on a second one).
        bridge.releaseWithdrawal(id, a.token, a.owner, a.balance);
    }

    /// @notice After a freeze: refund a deposit the frozen state never credited to its recipient's
    ///         L1 address. Once per deposit.
    /// @param index Queue position (>= frozenDepositEnd).
    /// @param token The queued token (checked, with amount and recipient, against the bridge
    ///        accumulator).
    /// @param amount The queued amount.
    /// @param recipient The queued recipient, `0x01 || address`: the L1 address refunded.
    function refundDeposit(uint256 index, address token, uint256 amount, bytes calldata recipient) external {
        RollupStore.Layout storage $ = _s();
        if (!$.frozen) revert NotFrozen();
        // INVARIANT: a deposit credited in the exit state is never refunded too.
        if (index < $.frozenDepositEnd) revert DepositConsumed(index, $.frozenDepositEnd);
        if (index >= bridge.depositCount() || recipient.length != 21
            || keccak256(abi.encodePacked(bridge.accumulatorAt(index), token, amount, recipient))
                != bridge.accumulatorAt(index + 1)) {
            revert DepositEvidenceMismatch(index, index + 1);
        }
        address to = address(bytes20(recipient[1:21]));
        emit DepositRefunded(index, to, token, amount);
        // INVARIANT: one refund per deposit (the bridge reverts AlreadyReleased on a second one).
        bridge.releaseWithdrawal(keccak256(abi.encode("refund", index)), token, to, amount);
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
        RollupStore.Layout storage $ = _s();
        return index < $.batchCount && block.timestamp >= $._batches[index].postedAt + RollupStore.window($.challenge, index);
    }

    /// @notice Number of final batches (batches finalise in index order): binary search, O(log n).
    function finalizedCount() public view returns (uint256 lo) {
        RollupStore.Layout storage $ = _s();
        uint256 hi = $.batchCount;
        while (lo < hi) {
            uint256 mid = (lo + hi) / 2;
            if (isFinal(mid)) lo = mid + 1;
            else hi = mid;
        }
    }

    /// @notice The state root of the last final batch (genesis root if none): the root an emergency
    ///         exit would prove account leaves against.
    function lastFinalizedRoot() external view returns (bytes32) {
        RollupStore.Layout storage $ = _s();
        uint256 n = finalizedCount();
        return n == 0 ? genesisRoot : $._batches[n - 1].postRoot;
    }

    /// @notice The root and queue positions a new batch builds on.
    function head() external view returns (bytes32 root, uint256 depositEnd, uint256 forcedEnd) {
        RollupStore.Layout storage $ = _s();
        return _headState($.batchCount);
    }

    /// @notice Forced-queue hash chain after `n` entries (0 for n = 0).
    /// @param n Number of entries (<= forcedCount).
    function forcedAccAt(uint256 n) external view returns (bytes32) {
        RollupStore.Layout storage $ = _s();
        if (n > $.forcedCount) revert ForcedNotQueued(n, $.forcedCount);
        return $._forcedAcc[n];
    }

    /// @notice keccak256(postRoot | depositEnd(4) | forcedEnd(4) | restHash): a commitment's hash.
    /// @param postRoot The commitment's post-state root.
    /// @param depositEnd Deposit-queue position after the commitment.
    /// @param forcedEnd Forced-queue position after the commitment.
    /// @param restHash keccak256 of the commitment's bytes after postRoot.
    function commitmentHash(bytes32 postRoot, uint32 depositEnd, uint32 forcedEnd, bytes32 restHash)
        external
        pure
        returns (bytes32)
    {
        return _commitmentHash(postRoot, depositEnd, forcedEnd, restHash);
    }

    // ---------------------------------------------------------------- internal

    function _headState(uint256 index) private view returns (bytes32 root, uint256 depositEnd, uint256 forcedEnd) {
        RollupStore.Layout storage $ = _s();
        if (index == 0) return (genesisRoot, 0, 0);
        RollupTypes.Batch storage prev = $._batches[index - 1];
        return (prev.postRoot, prev.depositEnd, prev.forcedEnd);
    }

    function _liveBatch(uint256 index) private view returns (RollupTypes.Batch storage) {
        RollupStore.Layout storage $ = _s();
        if (index >= $.batchCount) revert UnknownBatch(index);
        return $._batches[index];
    }

    function _checkHashes(bytes32 batchHash, bytes32[] calldata hashes, uint256 b) private pure {
        if (keccak256(abi.encodePacked(hashes)) != batchHash) revert BatchHashMismatch(b);
    }

    function _commitmentHash(bytes32 postRoot, uint32 depositEnd, uint32 forcedEnd, bytes32 restHash)
        private
        pure
        returns (bytes32)
    {
        return keccak256(abi.encodePacked(postRoot, depositEnd, forcedEnd, restHash));
    }

    function _send(address to, uint256 amount) private {
        (bool ok,) = to.call{value: amount}("");
        if (!ok) revert EthTransferFailed(to, amount);
    }
    // ------------------------------------------------------------ storage views

    function _forcedDeadline(uint256 atAndDelay) private pure returns (uint256) {
        return uint128(atAndDelay) + (atAndDelay >> 128);
    }

    function _s() private pure returns (RollupStore.Layout storage $) {
        return RollupStore.layout();
    }

    /// @notice Bond a proposer must hold to post.
    function requiredBond() external view returns (uint256) {
        return _s().requiredBond;
    }

    /// @notice Seconds after posting during which a batch can be disputed.
    function challengePeriod() external view returns (uint256) {
        return _s().challenge.current;
    }

    /// @notice Seconds a forced tx (or a checkpointed deposit) may wait before anyone can freeze.
    function forcedInclusionDelay() external view returns (uint256) {
        return _s().forcedInclusionDelay;
    }

    /// @notice Seconds without a newly final batch after which anyone can freeze.
    function livenessPeriod() external view returns (uint256) {
        return _s().liveness.current;
    }

    /// @notice Deployment time (the liveness clock's start while no batch is final).
    function deployedAt() external view returns (uint256) {
        return _s().deployedAt;
    }

    /// @notice Number of live batches (rollback lowers it).
    function batchCount() external view returns (uint256) {
        return _s().batchCount;
    }

    /// @notice Wei burned by slashing (held here forever, never paid out).
    function burned() external view returns (uint256) {
        return _s().burned;
    }

    /// @notice A proposer's free bond: withdrawable at any time, `requiredBond` of it is locked
    ///         into each batch it posts.
    /// @param proposer The key.
    function bondOf(address proposer) external view returns (uint256 amount) {
        return _s().bondOf[proposer];
    }

    /// @notice Bond a proposer has locked in batches not yet released (final, rolled back or
    ///         slashed). INVARIANT: every disputable batch holds `requiredBond` of it.
    /// @param proposer The key.
    function lockedBondOf(address proposer) external view returns (uint256 amount) {
        return _s().lockedBondOf[proposer];
    }

    /// @notice Batches below this index have had their bonds released (or slashed).
    function bondCursor() external view returns (uint256) {
        return _s().bondCursor;
    }

    /// @notice Challenger rewards to pull.
    /// @param challenger The key.
    function rewardOf(address challenger) external view returns (uint256 amount) {
        return _s().rewardOf[challenger];
    }

    /// @notice Block number at which a fraud commitment was first made (0: never).
    ///         commitment = keccak256(abi.encode(keccak256(abi.encode(proof)), challenger, salt)).
    /// @param commitment The key.
    function fraudCommitmentBlock(bytes32 commitment) external view returns (uint256 blockNumber) {
        return _s().fraudCommitmentBlock[commitment];
    }

    /// @notice Number of bounties opened (one per successful fraud proof).
    function bountyCount() external view returns (uint256) {
        return _s().bountyCount;
    }

    /// @notice After a freeze: batches [batchCount, discardedEnd) were discarded while still in
    ///         their challenge window; they stay provable (and their bonds locked) until it ends.
    function discardedEnd() external view returns (uint256) {
        return _s().discardedEnd;
    }

    /// @notice Number of txs ever forced through L1.
    function forcedCount() external view returns (uint256) {
        return _s().forcedCount;
    }

    /// @notice Block timestamp at which forced tx `index` was queued.
    /// @param index The key.
    function forcedAt(uint256 index) external view returns (uint256 timestamp) {
        return uint128(_s().forcedAt[index]);
    }

    /// @notice Deposit count recorded by the pending `requestDepositInclusion` (0: none).
    function depositCheckpointCount() external view returns (uint256) {
        return _s().depositCheckpointCount;
    }

    /// @notice Time of that request.
    function depositCheckpointTime() external view returns (uint256) {
        return _s().depositCheckpointTime;
    }

    /// @notice Whether the rollup is frozen (no more batches; exits and refunds open).
    function frozen() external view returns (bool) {
        return _s().frozen;
    }

    /// @notice State root exits prove against: the last final batch's post-root at freeze.
    function frozenRoot() external view returns (bytes32) {
        return _s().frozenRoot;
    }

    /// @notice Deposits below this queue position are in the frozen state; the rest are refunded.
    function frozenDepositEnd() external view returns (uint256) {
        return _s().frozenDepositEnd;
    }

    /// @notice Forced txs below this position were consumed by the frozen state.
    function frozenForcedEnd() external view returns (uint256) {
        return _s().frozenForcedEnd;
    }

    /// @notice keccak256(abi.encode(bytes32[] blobHashes, uint256 payloadOffset)) of a batch
    ///         posted by postBlobBatches; zero for a calldata batch (postBatch clears it).
    /// @param index The key.
    function blobRef(uint256 index) external view returns (bytes32 ref) {
        return _s().blobRef[index];
    }
}
