// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {BLS} from "../libraries/BLS.sol";

/// @title RollupTypes
/// @notice Structs and enums shared by the rollup contract, its executor and the off-chain code.
library RollupTypes {
    /// @notice Why a commitment is wrong; FraudProven carries it. Same codes as execute.py `Fault`.
    enum Fault {
        NONE,
        MALFORMED,
        BAD_SIGNATURE,
        OVERSPEND,
        NO_ACCOUNT,
        TOKEN_MISMATCH,
        BALANCE_OVERFLOW,
        DEPOSIT_MISMATCH,
        WRONG_ROOT,
        ZERO_WITHDRAW,
        NONCE_EXHAUSTED,
        FORCED_MISMATCH,
        FORCED_OUTCOME,
        NO_KEY,
        BLOB_MISMATCH
    }

    /// @notice Why the rollup was frozen (RollupFrozen carries it; NONE: it cannot be frozen).
    enum FreezeReason {
        NONE,
        FORCED_TX_EXPIRED,
        DEPOSITS_CENSORED,
        NO_FINALIZATION
    }

    /// @notice One entry of the bridge queue (recipient `0x01 ‖ owner`).
    struct Deposit {
        address token;
        uint256 amount;
        address owner;
    }

    /// @notice A posted batch: only hashes and metadata are stored.
    /// @param batchHash keccak256 of the commitment hashes, in order.
    /// @param postRoot State root after the batch's last commitment.
    /// @param proposer Who posted (and is slashed if it is proven wrong).
    /// @param postedAt Block timestamp of the posting.
    /// @param depositEnd Deposit-queue position consumed after this batch.
    /// @param forcedEnd Forced-queue position consumed after this batch.
    /// @param bond Bond locked for this batch at posting (`requiredBond`); 0 once released to the
    ///        proposer (final, rolled back, or discarded past its window) or slashed.
    /// @param postedBlock Block number of the posting (signers' keys are those valid then).
    struct Batch {
        bytes32 batchHash;
        bytes32 postRoot;
        address proposer;
        uint64 postedAt;
        uint32 depositEnd;
        uint32 forcedEnd;
        uint96 bond;
        uint64 postedBlock;
    }

    /// @notice The challenger's share of one slashed batch bond, paid after a claim window to the
    ///         earliest fraud commitment made before the proof (else to the prover).
    /// @param batchHash The proven batch's hash (commitments bind it).
    /// @param recipient Current holder.
    /// @param amount Wei (0 once settled).
    /// @param batchIndex The proven batch's index (commitments bind it).
    /// @param provenBlock Block of the proof: only commitments from earlier blocks count.
    /// @param commitBlock Block of the holder's commitment (max uint64: none).
    /// @param claimUntil Timestamp the claim window closes (settleBounty from then on).
    struct Bounty {
        bytes32 batchHash;
        bytes32 proofHash;
        address recipient;
        uint96 amount;
        uint64 batchIndex;
        uint64 provenBlock;
        uint64 commitBlock;
        uint64 claimUntil;
    }

    /// @notice A commitment reduced to what its hash covers:
    ///         keccak(postRoot ‖ depositEnd(4) ‖ forcedEnd(4) ‖ restHash).
    struct CommitmentRef {
        bytes32 postRoot;
        uint32 depositEnd;
        uint32 forcedEnd;
        bytes32 restHash;
    }

    /// @notice One forced-queue entry: the L1 caller of forceTransaction and its l2tx
    ///         (0x02 ‖ transfer(12) or 0x03 ‖ withdraw(9)).
    struct ForcedTx {
        address sender;
        bytes l2tx;
    }

    /// @notice Evidence that commitment `commitmentIndex` of batch `batchIndex` breaks the
    ///         state-transition function.
    /// @param commitmentHashes Every commitment hash of the batch (checked against batchHash).
    /// @param prev The previous commitment of the batch (zero when commitmentIndex == 0).
    /// @param postRoot,depositEnd,forcedEnd,rest The disputed commitment (rest: every byte after
    ///        postRoot as posted).
    /// @param deposits The queue entries of its deposit range (checked against the bridge).
    /// @param witnesses Leaf witnesses in access order (see CommitmentExecutor).
    /// @param forced The forced-queue entries of its forced range (checked against forcedAccAt).
    struct FraudProof {
        uint256 batchIndex;
        bytes32[] commitmentHashes;
        uint256 commitmentIndex;
        CommitmentRef prev;
        bytes32 postRoot;
        uint32 depositEnd;
        uint32 forcedEnd;
        bytes rest;
        Deposit[] deposits;
        bytes witnesses;
        ForcedTx[] forced;
    }

    /// @notice One distinct signer of a disputed commitment.
    /// @param account Its 60-byte leaf at the commitment's postRoot.
    /// @param siblings The leaf's 24 siblings.
    /// @param key Its BLS key valid at the batch's postedBlock (all zero when it has none, or when
    ///        the account is empty).
    struct SignerEvidence {
        bytes account;
        bytes32[] siblings;
        BLS.G2Point key;
    }

    /// @notice Evidence that a commitment's aggregate signature does not verify.
    /// @param signers One per distinct sender of its transfers and withdraws, in order of first
    ///        appearance.
    /// @param signatureHint The square-root hint for the commitment's compressed signature
    ///        (hi, lo words; G1Compressed.decompress, docs/bls.md §4.2): its y, or a root of
    ///        -(x³ + 4) when x is off the curve, or zero.
    struct SignatureProof {
        uint256 batchIndex;
        bytes32[] commitmentHashes;
        uint256 commitmentIndex;
        bytes32 postRoot;
        uint32 depositEnd;
        uint32 forcedEnd;
        bytes rest;
        SignerEvidence[] signers;
        uint256[2] signatureHint;
    }

    /// @notice Proof that a withdraw is in a final batch.
    /// @param txIndex The slot in execution order (deposits, transfers, withdraws, forced slots).
    /// @param account The 60-byte leaf of the sender at the commitment's post-root (owner and token
    ///        never change, so any later leaf of the account shows them too).
    /// @param siblings The 24 siblings of that leaf.
    /// @param forcedSender,forcedTx When slot `txIndex` is an applied forced slot: the forced-queue
    ///        entry it consumed (checked against forcedAccAt); zero and empty otherwise.
    struct WithdrawalProof {
        uint256 batchIndex;
        bytes32[] commitmentHashes;
        uint256 commitmentIndex;
        bytes32 postRoot;
        uint32 depositEnd;
        uint32 forcedEnd;
        bytes rest;
        uint256 txIndex;
        bytes account;
        bytes siblings;
        address forcedSender;
        bytes forcedTx;
    }

    /// @notice One blob field element opened with the point-evaluation precompile.
    /// @param value The 32-byte element (its low 31 bytes are payload; the top byte is ignored).
    /// @param commitment The blob's 48-byte KZG commitment (hashes to its versioned hash).
    /// @param proof The 48-byte KZG proof of the element's value.
    struct BlobElement {
        bytes32 value;
        bytes commitment;
        bytes proof;
    }

    /// @notice Evidence that a blob batch's blobs do not hold a commitment's rest (docs/rollup-blobs.md §3).
    /// @param batchIndex The disputed blob batch.
    /// @param headers The batch's n x 68 header bytes, postRoot ‖ counts ‖ restHash each (no count byte).
    /// @param blobHashes Every versioned hash of the posting (bound by blobRef with payloadOffset).
    /// @param payloadOffset Where the batch's rests start in the posting's payload.
    /// @param commitmentIndex The commitment whose rest is read.
    /// @param elements Every element covering that rest, in order.
    struct BlobProof {
        uint256 batchIndex;
        bytes headers;
        bytes32[] blobHashes;
        uint256 payloadOffset;
        uint256 commitmentIndex;
        BlobElement[] elements;
    }
}
