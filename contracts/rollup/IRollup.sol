// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {RollupTypes} from "./RollupTypes.sol";

/// @title IRollup
/// @notice Events and errors of the l2kit optimistic rollup.
interface IRollup {
    /// @notice A proposer added to its bond.
    /// @param proposer The proposer.
    /// @param amount Added wei.
    /// @param total Bond after.
    event Bonded(address indexed proposer, uint256 amount, uint256 total);
    /// @notice A proposer pulled bond it no longer needs locked.
    /// @param proposer The proposer.
    /// @param amount Wei paid out.
    /// @param to Destination.
    event BondWithdrawn(address indexed proposer, uint256 amount, address to);
    /// @notice A batch was posted; its calldata is `postBatch(expectedPreRoot, data)` of the tx.
    /// @param index Batch index.
    /// @param proposer Poster.
    /// @param batchHash Hash of commitment hashes.
    /// @param postRoot Root after the batch.
    /// @param depositEnd Queue position consumed after it.
    /// @param forcedEnd Forced-queue position consumed after it.
    /// @param commitments Number of commitments.
    event BatchPosted(
        uint256 indexed index,
        address indexed proposer,
        bytes32 batchHash,
        bytes32 postRoot,
        uint32 depositEnd,
        uint32 forcedEnd,
        uint256 commitments
    );
    /// @notice Batch `index` was posted by postBlobBatches: its commitments' rests are in the
    ///         blobs `blobHashes` (the posting's, in order) from payload byte `payloadOffset` on.
    /// @param index Batch index (its BatchPosted is emitted too).
    /// @param blobHashes The posting transaction's versioned hashes.
    /// @param payloadOffset Where the batch's rests start in the posting's payload.
    event BlobBatchPosted(uint256 indexed index, bytes32[] blobHashes, uint256 payloadOffset);
    /// @notice A batch's locked bond went back to its proposer's free bond (final, rolled back, or
    ///         discarded by a freeze and past its window).
    event BondReleased(uint256 indexed batchIndex, address indexed proposer, uint256 amount);
    /// @notice A fraud commitment was recorded (first time only).
    event FraudCommitted(bytes32 indexed commitment, uint256 blockNumber);
    /// @notice A successful proof opened bounty `id` for batch `batchIndex` (hash `batchHash`),
    ///         held by `recipient` until a commitment from an earlier block claims it.
    event BountyOpened(
        uint256 indexed id,
        uint256 indexed batchIndex,
        bytes32 batchHash,
        address recipient,
        uint256 amount,
        uint256 claimUntil
    );
    /// @notice An earlier commitment of `challenger` (made in block `commitBlock`) took bounty `id`.
    event BountyClaimed(uint256 indexed id, address indexed challenger, uint256 commitBlock);
    /// @notice Bounty `id` was credited to `challenger`'s rewards.
    event BountySettled(uint256 indexed id, address indexed challenger, uint256 amount);
    /// @notice A fraud proof succeeded.
    /// @param batchIndex Batch proven wrong.
    /// @param commitmentIndex Its wrong commitment.
    /// @param fault Why (RollupTypes.Fault).
    /// @param txIndex Failing tx (max uint for whole-commitment faults).
    /// @param challenger The bounty's holder so far (the revealed committer, else the prover).
    /// @param reward The bounty (paid after its claim window).
    /// @param burned Burned.
    event FraudProven(
        uint256 indexed batchIndex,
        uint256 commitmentIndex,
        RollupTypes.Fault fault,
        uint256 txIndex,
        address indexed challenger,
        uint256 reward,
        uint256 burned
    );
    /// @notice Batches [fromIndex, toIndex) were removed (batchCount is now fromIndex).
    event BatchesRolledBack(uint256 indexed fromIndex, uint256 toIndex);
    /// @notice A withdraw tx of a final batch was paid into the bridge's claimable balances.
    /// @param withdrawalId keccak256(abi.encode(batchIndex, commitmentIndex, txIndex)).
    event WithdrawalFinalized(
        bytes32 indexed withdrawalId, address indexed owner, address indexed token, uint256 amount
    );
    /// @notice A challenger pulled rewards.
    event RewardClaimed(address indexed challenger, uint256 amount, address to);
    /// @notice An L2 tx was queued through L1 (batches must consume it in order).
    /// @param index Forced-queue position.
    /// @param account The tx's L2 sender account.
    /// @param sender The L1 caller (the account's owner for the tx to apply).
    /// @param l2tx The encoded tx (0x02 ‖ transfer(12) or 0x03 ‖ withdraw(9)).
    /// @param accumulator Forced hash chain after it: keccak(previous ‖ sender ‖ l2tx).
    event TransactionForced(
        uint256 indexed index, uint256 indexed account, address indexed sender, bytes l2tx, bytes32 accumulator
    );
    /// @notice Deposits [0, depositCount) must be consumed by requestedAt + forcedInclusionDelay.
    event DepositInclusionRequested(uint256 depositCount, uint256 requestedAt, address requester);
    /// @notice The rollup froze.
    /// @param reason Why (RollupTypes.FreezeReason).
    /// @param batchCount Final batches kept.
    /// @param root Exit state root.
    /// @param depositEnd Deposit-queue position of the exit state.
    /// @param forcedEnd Forced-queue position of the exit state.
    /// @param caller Who froze it.
    event RollupFrozen(
        RollupTypes.FreezeReason reason,
        uint256 batchCount,
        bytes32 root,
        uint256 depositEnd,
        uint256 forcedEnd,
        address caller
    );
    /// @notice An account's frozen balance was credited to its owner in the bridge.
    event AccountExited(uint256 indexed accountIndex, address indexed owner, address indexed token, uint256 amount);
    /// @notice A deposit the frozen state never credited was refunded to its recipient.
    event DepositRefunded(uint256 indexed index, address indexed to, address indexed token, uint256 amount);

    /// @notice The caller's bond is below the required bond.
    error InsufficientBond(address proposer, uint256 bond, uint256 required);
    /// @notice The batch would not extend the state the proposer expected (someone posted first).
    error UnexpectedPreRoot(bytes32 expected, bytes32 actual);
    /// @notice Batch bytes that do not split into 1..64 well-formed commitments.
    error MalformedBatch(uint256 offset);
    /// @notice A posting not sent directly by an account without code (a contract, a forwarder, a
    ///         multicall or an EIP-7702-delegated EOA): its data would not be the tx input.
    error PosterNotEOA(address caller);
    /// @notice Posting calldata that is not the canonical ABI encoding (offset word 0x40, zero
    ///         padding, exact length): validators read the tx input with exactly that rule.
    error NonCanonicalCalldata();
    /// @notice A commitment whose deposit position goes back, or jumps by more than 32.
    error BadDepositRange(uint256 commitment, uint256 from, uint256 to);
    /// @notice The batch consumes deposits the bridge has not queued.
    error DepositsNotQueued(uint256 depositEnd, uint256 queued);
    /// @notice No batch at that index (never posted or rolled back).
    error UnknownBatch(uint256 index);
    /// @notice The batch is final: it can no longer be disputed.
    error BatchFinal(uint256 index);
    /// @notice The batch is not final yet.
    error BatchNotFinal(uint256 index, uint256 finalAt);
    /// @notice The commitment hashes do not match the stored batch hash.
    error BatchHashMismatch(uint256 index);
    /// @notice The commitment data does not match its hash.
    error CommitmentMismatch(uint256 commitmentIndex);
    /// @notice The deposits given are not the commitment's range of the bridge queue.
    error DepositEvidenceMismatch(uint256 from, uint256 to);
    /// @notice Re-execution reproduced the committed post-root: the commitment is correct.
    error NotFraudulent(uint256 batchIndex, uint256 commitmentIndex);
    /// @notice The tx at txIndex is not a (well-formed) withdraw.
    error NotAWithdrawal(uint256 txIndex);
    /// @notice The account leaf does not prove against the commitment's post-root.
    error BadAccountProof();
    /// @notice More than the free bond asked for: `locked` wei back batches not yet released.
    error BondLocked(uint256 free, uint256 locked);
    /// @notice That batch can still be disputed: its bond stays locked.
    error BatchBondLocked(uint256 batchIndex);
    /// @notice The bounty is settled, unknown or past its claim window.
    error BountyClosed(uint256 id);
    /// @notice The bounty's claim window is still open (until `claimUntil`).
    error BountyOpen(uint256 id, uint256 claimUntil);
    /// @notice The commitment is missing, not from a block before the proof, or not earlier than
    ///         the current holder's (`at`: its block, 0 if none).
    error CommitmentNotEarlier(uint256 id, uint256 at);
    /// @notice Nothing to pay out.
    error NothingToWithdraw();
    /// @notice bond() called without ETH.
    error ZeroValue();
    /// @notice Zero address destination.
    error ZeroDestination();
    /// @notice Sending ETH failed.
    error EthTransferFailed(address to, uint256 amount);
    /// @notice Constructor argument out of range.
    error BadParameter();
    /// @notice A commitment whose forced position goes back, or jumps by more than 32.
    error BadForcedRange(uint256 commitment, uint256 from, uint256 to);
    /// @notice The batch consumes forced txs not queued (or a position past the queue).
    error ForcedNotQueued(uint256 forcedEnd, uint256 queued);
    /// @notice The forced txs given are not the commitment's range of the forced queue.
    error ForcedEvidenceMismatch(uint256 from, uint256 to);
    /// @notice forceTransaction takes one encoded transfer (0x02, 13 bytes) or withdraw (0x03, 10 bytes).
    error BadForcedTx(uint256 kind, uint256 length);
    /// @notice The rollup is frozen: no postings or forced txs.
    error Frozen();
    /// @notice The rollup is not frozen: exits and refunds are closed.
    error NotFrozen();
    /// @notice No freeze condition holds (see freezeReason).
    error NotFreezable();
    /// @notice An earlier deposit-inclusion request is still unmet (deadline given).
    error CheckpointPending(uint256 depositCount, uint256 deadline);
    /// @notice Every queued deposit is already consumed by the live batches.
    error NoDepositsWaiting(uint256 depositEnd);
    /// @notice The deposit is credited in the frozen state: exit the account instead.
    error DepositConsumed(uint256 index, uint256 frozenDepositEnd);
    /// @notice State dispute: a witness is missing (CommitmentExecutor, through StateExecutor).
    error MissingWitness(uint256 accessNumber);
    /// @notice State dispute: witness bytes the execution did not read (CommitmentExecutor).
    error UnusedWitness(uint256 used, uint256 length);
    /// @notice State dispute: a witness does not prove its leaf against the current root.
    error BadWitness(uint256 accessNumber, uint256 accountIndex);
    /// @notice State dispute: a witness for the empty leaf carries non-zero fields.
    error NonCanonicalEmptyLeaf(uint256 accessNumber);
    /// @notice Signature dispute: the signer list is not one entry per distinct sender of the
    ///         commitment's transfers and withdraws, in order of first appearance (SignatureDispute).
    error BadSigners(uint256 expected, uint256 given);
    /// @notice Signature dispute: the key passed for `owner` is not the one registered at
    ///         `blockNumber` (or not all zero when it had none) (SignatureDispute).
    error KeyMismatch(address owner, uint256 blockNumber);
    /// @notice Signature dispute: signatureHint is not the square-root hint the commitment's
    ///         signature bytes call for (G1Compressed, docs/bls.md §4.2).
    error G1BadHint(uint256 hintHi, uint256 hintLo);
    /// @notice Blob dispute: the batch was posted by postBatch (no blob binding).
    error NotABlobBatch(uint256 index);
    /// @notice Blob dispute: blobHashes and payloadOffset are not the batch's posting's (BlobDispute).
    error BlobRefMismatch(uint256 batchIndex);
    /// @notice Blob dispute: not exactly the elements covering the rest were given (BlobDispute).
    error ElementCountMismatch(uint256 expected, uint256 given);
    /// @notice Blob dispute: the precompile refused an opening (BlobDispute, from BlobData).
    error PointEvaluationFailed(bytes32 versionedHash, uint256 index);
    /// @notice Blob dispute: an element value at or above the BLS modulus (BlobDispute, from BlobData).
    error ElementValueOutOfRange(bytes32 value);
    /// @notice Blob dispute: a KZG commitment or proof not of 48 bytes (BlobDispute, from BlobData).
    error KzgLengthInvalid(uint256 commitmentLength, uint256 proofLength);
    /// @notice Blob dispute: too little gas left for an opening (BlobDispute, from BlobData).
    error PointEvaluationGasTooLow(uint256 left);
    /// @notice Blob dispute: an opening's KZG commitment does not hash to the blob's versioned hash
    ///         (BlobDispute, from BlobData).
    error KzgCommitmentMismatch(bytes32 versionedHash, bytes32 commitmentHash);
}
