// SPDX-License-Identifier: GPL-3.0-or-later
pragma solidity ^0.8.28;

import {ICouncilPause} from "../governance/ICouncilPause.sol";
import {IExitWindowTimelock} from "../governance/IExitWindowTimelock.sol";
import {IZkVerifier} from "./IZkVerifier.sol";

/// @title IZkGovernance
/// @notice The governed side of ZkRollup (docs/governance.md §5.3): three parameters, each set
///         only by the ExitWindowTimelock, i.e. after its full delay. A change that would raise
///         the exit time above what the timelock's delay covers is refused by the timelock's
///         `checkExitTime`, which reverts the whole operation. The council's pause of
///         `submitBatch` (ICouncilPause) needs, in Stage 2 mode, an on-chain proven bug: two proofs
///         the rollup's current verifier accepts for contradictory statements (`proveBatchConflict`,
///         `proveExitConflict`; docs/governance.md §2.4).
interface IZkGovernance is ICouncilPause {
    /// @notice The freeze period was changed. It governs the idle periods that start with the
    ///         next accepted batch; the running one keeps the shorter of the two.
    /// @param oldPeriod Seconds before the change.
    /// @param newPeriod Seconds after the change.
    event FreezePeriodChanged(uint256 oldPeriod, uint256 newPeriod);
    /// @notice The verifier of the batch circuit was replaced (checks every later batch).
    /// @param oldVerifier The verifier before the change.
    /// @param newVerifier The verifier after the change.
    event BatchVerifierChanged(address oldVerifier, address newVerifier);
    /// @notice The verifier of the exit circuit was replaced (checks every later forced request
    ///         and exit; requests already queued were checked when queued).
    /// @param oldVerifier The verifier before the change.
    /// @param newVerifier The verifier after the change.
    event ExitVerifierChanged(address oldVerifier, address newVerifier);

    /// @notice Anyone showed the batch verifier accepting two different new roots for one old root
    ///         and one public-data hash: the circuit or its keys are unsound (a batch's new root is
    ///         a function of the old root and the public data).
    /// @param by Who submitted the evidence.
    /// @param verifier The batch verifier that accepted both proofs.
    /// @param oldRoot The shared old root.
    /// @param dataHash The shared public-data hash.
    /// @param rootA One new root.
    /// @param rootB The other.
    event BatchConflictProven(
        address indexed by, address indexed verifier, uint256 oldRoot, uint256 dataHash, uint256 rootA, uint256 rootB
    );
    /// @notice Anyone showed the exit verifier accepting two different balances for one leaf and
    ///         token in one root: the exit circuit or its keys are unsound.
    /// @param by Who submitted the evidence.
    /// @param verifier The exit verifier that accepted both proofs.
    /// @param root The shared root.
    /// @param leafToken The shared (leaf index << 160 | token) input.
    /// @param balanceA One balance.
    /// @param balanceB The other.
    event ExitConflictProven(
        address indexed by, address indexed verifier, uint256 root, uint256 leafToken, uint256 balanceA, uint256 balanceB
    );

    /// @notice Posting (`submitBatch`) is paused by the council.
    /// @param until Timestamp at which the pause ends.
    error PostingIsPaused(uint256 until);
    /// @notice Conflict evidence whose two statements do not contradict each other.
    error NoConflict();
    /// @notice A public input outside the BN254 scalar field (it would alias a smaller one).
    /// @param value The refused input.
    error NotInField(uint256 value);

    /// @notice Only the timelock may change a governed parameter.
    /// @param caller The refused caller.
    error OnlyTimelock(address caller);
    /// @notice A verifier address that holds no code.
    /// @param verifier The refused address.
    error NotAVerifier(address verifier);

    /// @notice Record an on-chain proven bug (anyone): the current batch verifier accepts both
    ///         proofs, for the same old root and data hash and two different new roots.
    /// @param oldRoot The old root of both statements (any value in the field).
    /// @param dataHash The public-data hash of both statements.
    /// @param rootA The first new root.
    /// @param proofA A proof of (oldRoot, rootA, dataHash).
    /// @param rootB The second new root (different from rootA).
    /// @param proofB A proof of (oldRoot, rootB, dataHash).
    function proveBatchConflict(
        uint256 oldRoot,
        uint256 dataHash,
        uint256 rootA,
        uint256[8] calldata proofA,
        uint256 rootB,
        uint256[8] calldata proofB
    ) external;

    /// @notice Record an on-chain proven bug (anyone): the current exit verifier accepts both
    ///         proofs, for the same root, leaf and token and two different balances.
    /// @param root The root of both statements (any value in the field).
    /// @param leafToken The leaf index << 160 | token, of both statements.
    /// @param balanceA The first balance.
    /// @param recipientA The first proof's recipient.
    /// @param proofA A proof of (root, domain, leafToken, balanceA, recipientA).
    /// @param balanceB The second balance (different from balanceA).
    /// @param recipientB The second proof's recipient.
    /// @param proofB A proof of (root, domain, leafToken, balanceB, recipientB).
    function proveExitConflict(
        uint256 root,
        uint256 leafToken,
        uint256 balanceA,
        address recipientA,
        uint256[8] calldata proofA,
        uint256 balanceB,
        address recipientB,
        uint256[8] calldata proofB
    ) external;

    /// @notice Whether a bug is proven against a verifier still in use (a conflict recorded under
    ///         the current batch or exit verifier; replacing that verifier through the timelock
    ///         clears it).
    /// @return shown True while such evidence stands.
    function provenBug() external view returns (bool shown);

    /// @notice Set the freeze period (timelock only; not zero).
    /// @param newPeriod Seconds without an accepted batch before the rollup freezes.
    function setFreezePeriod(uint256 newPeriod) external;

    /// @notice Replace the batch-circuit verifier (timelock only).
    /// @param newVerifier The new Groth16 verifier (must hold code).
    function setBatchVerifier(IZkVerifier newVerifier) external;

    /// @notice Replace the exit-circuit verifier (timelock only).
    /// @param newVerifier The new Groth16 verifier (must hold code).
    function setExitVerifier(IZkVerifier newVerifier) external;

    /// @notice The timelock allowed to call the setters (zero on a directly deployed rollup,
    ///         whose parameters are then fixed for good).
    /// @return timelock_ The governing timelock.
    function timelock() external view returns (IExitWindowTimelock timelock_);

    /// @notice Seconds without an accepted batch that freeze the rollup in the current idle
    ///         period: `freezePeriod` as it was at the last accepted batch, or lower if it was
    ///         lowered since.
    /// @return seconds_ The freeze period in force.
    function freezePeriodInForce() external view returns (uint256 seconds_);
}
