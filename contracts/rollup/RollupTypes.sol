// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

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
        FORCED_OUTCOME
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
    struct Batch {
        bytes32 batchHash;
        bytes32 postRoot;
        address proposer;
        uint64 postedAt;
        uint32 depositEnd;
        uint32 forcedEnd;
        uint96 bond;
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

    /// @notice A commitment reduced to what its hash covers.
    struct CommitmentRef {
        bytes32 postRoot;
        uint32 depositEnd;
        uint24 feeAccount;
        bytes32 txsHash;
        uint32 forcedEnd;
    }

    /// @notice Evidence that commitment `commitmentIndex` of batch `batchIndex` is wrong.
    /// @param commitmentHashes Every commitment hash of the batch (checked against batchHash).
    /// @param prev The previous commitment of the batch (ignored when commitmentIndex == 0).
    /// @param postRoot,depositEnd,feeAccount,txs,forcedEnd The disputed commitment as posted.
    /// @param deposits The queue entries of its declared range (checked against the bridge).
    /// @param witnesses Leaf witnesses in access order (see CommitmentExecutor).
    /// @param forced The forced txs of its declared forced range (checked against forcedAccAt).
    struct FraudProof {
        uint256 batchIndex;
        bytes32[] commitmentHashes;
        uint256 commitmentIndex;
        CommitmentRef prev;
        bytes32 postRoot;
        uint32 depositEnd;
        uint24 feeAccount;
        bytes txs;
        Deposit[] deposits;
        bytes witnesses;
        uint32 forcedEnd;
        bytes[] forced;
    }

    /// @notice Proof that a withdraw tx is in a final batch.
    /// @param account The 60-byte leaf of the sender at the commitment's post-root (owner and token
    ///        never change, so any later leaf of the account shows them too).
    /// @param siblings The 24 siblings of that leaf.
    /// @param forcedTx When tx `txIndex` is an applied forced slot: the forced withdraw it consumed
    ///        (checked against forcedAccAt); empty otherwise.
    struct WithdrawalProof {
        uint256 batchIndex;
        bytes32[] commitmentHashes;
        uint256 commitmentIndex;
        bytes32 postRoot;
        uint32 depositEnd;
        uint24 feeAccount;
        bytes txs;
        uint256 txIndex;
        bytes account;
        bytes siblings;
        uint32 forcedEnd;
        bytes forcedTx;
    }
}
