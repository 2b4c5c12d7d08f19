// SPDX-License-Identifier: GPL-3.0-or-later
pragma solidity ^0.8.28;

import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";
import {IL1Bridge} from "../bridge/IL1Bridge.sol";
import {IZkRollup} from "./IZkRollup.sol";
import {IZkVerifier} from "./IZkVerifier.sol";

/// @title ZkRollup
/// @notice Validity-proof rollup over an L1Bridge built with the BabyJubJub recipient encoding
///         (`L1Bridge(bytes1(0x02))`). See IZkRollup and docs/zk.md.
/// @dev Public data of a batch (hashed with SHA-256, top 3 bits cleared, as the third public input):
///      header (32: uint64 chainid | address(this) | uint32 batchIndex)
///      | depositSlots x 72 (uint32 leaf | compressed key 32 | token 20 | uint128 amount)
///      | txSlots x 61 (uint8 type | uint32 from | to 20 | uint128 amount | token 20).
///      The contract writes the header and deposit slots itself from its state and the bridge queue;
///      only the transaction slots come from the submitter, and the proof binds all of it.
contract ZkRollup is IZkRollup, ReentrancyGuardTransient {
    /// @notice BN254 scalar field modulus.
    uint256 internal constant R = 21888242871839275222246405745257275088548364400416034343698204186575808495617;
    /// @notice Clears the top three bits of the SHA-256 so the hash is a field element.
    uint256 internal constant HASH_MASK = (1 << 253) - 1;
    uint256 internal constant TX_SLOT_BYTES = 61;
    uint256 internal constant DEPOSIT_SLOT_BYTES = 72;
    uint8 internal constant TX_WITHDRAW = 2;

    /// @notice The bridge holding the funds and the deposit queue.
    IL1Bridge public immutable bridge;
    /// @notice Verifier of the batch circuit (public inputs: old root, new root, data hash).
    IZkVerifier public immutable batchVerifier;
    /// @notice Verifier of the exit circuit (public inputs: root, domain, leaf << 160 | token,
    ///         balance, recipient).
    IZkVerifier public immutable exitVerifier;
    /// @notice Transaction slots per batch (the circuit's N).
    uint256 public immutable txSlots;
    /// @notice Deposit slots per batch (the circuit's D).
    uint256 public immutable depositSlots;
    /// @notice Seconds without an accepted batch after which the rollup freezes.
    uint256 public immutable freezePeriod;

    /// @notice The account-tree root of the last accepted batch (the genesis root at first).
    uint256 public stateRoot;
    /// @notice Number of batches accepted.
    uint256 public batchCount;
    /// @notice Number of bridge deposits consumed by accepted batches.
    uint256 public depositsProcessed;
    /// @notice Time of the last accepted batch (deployment time at first).
    uint256 public lastBatchAt;
    /// @notice Whether a leaf exited the frozen rollup.
    mapping(uint256 leafIndex => bool done) public exited;

    /// @param bridge_        The bridge (wire it back with `bridge.setRollup(address(this))`).
    /// @param batchVerifier_ Groth16 verifier holding the batch circuit's key.
    /// @param exitVerifier_  Groth16 verifier holding the exit circuit's key.
    /// @param genesisRoot    Root of the empty account tree (Poseidon, depth of the circuit).
    /// @param txSlots_       The circuit's transaction slots N.
    /// @param depositSlots_  The circuit's deposit slots D.
    /// @param freezePeriod_  Seconds without a batch before the rollup freezes.
    constructor(
        IL1Bridge bridge_,
        IZkVerifier batchVerifier_,
        IZkVerifier exitVerifier_,
        uint256 genesisRoot,
        uint256 txSlots_,
        uint256 depositSlots_,
        uint256 freezePeriod_
    ) {
        if (
            address(bridge_).code.length == 0 || address(batchVerifier_).code.length == 0
                || address(exitVerifier_).code.length == 0 || genesisRoot >= R || txSlots_ == 0
                || depositSlots_ == 0 || freezePeriod_ == 0
        ) revert InvalidConfig();
        bridge = bridge_;
        batchVerifier = batchVerifier_;
        exitVerifier = exitVerifier_;
        stateRoot = genesisRoot;
        txSlots = txSlots_;
        depositSlots = depositSlots_;
        freezePeriod = freezePeriod_;
        lastBatchAt = block.timestamp;
    }

    // ------------------------------------------------------------------ batches

    /// @inheritdoc IZkRollup
    function submitBatch(
        uint256 newRoot,
        Deposit[] calldata deposits,
        bytes calldata txData,
        uint256[8] calldata proof
    ) external nonReentrant {
        if (frozen()) revert RollupFrozen();
        if (txData.length != txSlots * TX_SLOT_BYTES) {
            revert BadTxDataLength(txData.length, txSlots * TX_SLOT_BYTES);
        }
        if (deposits.length > depositSlots) revert TooManyDeposits(deposits.length, depositSlots);

        uint256 first = depositsProcessed;
        uint256 batchIndex = batchCount;
        uint256 oldRoot = stateRoot;
        uint256 dataHash = _dataHash(batchIndex, _consumeDeposits(first, deposits), txData);
        _checkProof(oldRoot, newRoot, dataHash, proof);

        // Effects.
        stateRoot = newRoot;
        batchCount = batchIndex + 1;
        depositsProcessed = first + deposits.length;
        lastBatchAt = block.timestamp;
        emit BatchVerified(batchIndex, oldRoot, newRoot, first, deposits.length, dataHash);

        // Interactions: withdrawals are final with the batch, payable at once (pull from the bridge).
        _releaseWithdrawals(batchIndex, txData);
    }

    /// @dev The public input binding the public data: SHA-256 with the top 3 bits cleared.
    function _dataHash(uint256 batchIndex, bytes memory depositData, bytes calldata txData)
        private
        view
        returns (uint256)
    {
        bytes memory data =
            abi.encodePacked(uint64(block.chainid), address(this), uint32(batchIndex), depositData, txData);
        return uint256(sha256(data)) & HASH_MASK;
    }

    /// @dev Revert unless `proof` proves the transition oldRoot -> newRoot for the data hash.
    function _checkProof(uint256 oldRoot, uint256 newRoot, uint256 dataHash, uint256[8] calldata proof)
        private
        view
    {
        uint256[] memory input = new uint256[](3);
        (input[0], input[1], input[2]) = (oldRoot, newRoot, dataHash);
        // INVARIANT: the root only moves along a proven transition from the current root, and the
        // proof covers the header (this rollup, this batch index), every deposit slot as rebuilt
        // from the bridge queue, and every transaction slot. A replayed proof names an old root
        // or an old batch index and fails here.
        if (!batchVerifier.verifyProof(proof, input)) revert InvalidProof();
    }

    /// @dev Release every withdrawal slot of an accepted batch on the bridge.
    function _releaseWithdrawals(uint256 batchIndex, bytes calldata txData) private {
        for (uint256 t = 0; t < txSlots; ++t) {
            uint256 off = t * TX_SLOT_BYTES;
            if (uint8(txData[off]) != TX_WITHDRAW) continue;
            address to = address(bytes20(txData[off + 5:off + 25]));
            uint256 amount = uint128(bytes16(txData[off + 25:off + 41]));
            address token = address(bytes20(txData[off + 41:off + 61]));
            // The circuit guarantees amount > 0 and to != 0 for a withdrawal.
            bridge.releaseWithdrawal(keccak256(abi.encode(batchIndex, t)), token, to, amount);
        }
    }

    /// @dev Check `deposits` are the bridge queue from `first` on and pack the deposit slots.
    function _consumeDeposits(uint256 first, Deposit[] calldata deposits) private returns (bytes memory out) {
        uint256 end = first + deposits.length;
        uint256 queued = bridge.depositCount();
        if (end > queued) revert DepositsNotQueued(end, queued);
        bytes32 acc = bridge.accumulatorAt(first);
        out = new bytes(depositSlots * DEPOSIT_SLOT_BYTES);
        for (uint256 j = 0; j < deposits.length; ++j) {
            Deposit calldata d = deposits[j];
            acc = keccak256(abi.encodePacked(acc, d.token, d.amount, bytes1(0x02), d.ax, d.ay));
            if (!_isKey(d.ax, d.ay)) {
                // Left as a zero slot: amount 0 means "no credit" to the circuit.
                emit DepositVoided(first + j);
                continue;
            }
            uint256 packed = ((d.ax & 1) << 255) | d.ay;
            bytes memory slot = abi.encodePacked(d.leafIndex, packed, d.token, uint128(d.amount));
            uint256 at = j * DEPOSIT_SLOT_BYTES;
            // slot is exactly DEPOSIT_SLOT_BYTES long and out has room for depositSlots of them.
            assembly ("memory-safe") {
                mcopy(add(add(out, 32), at), add(slot, 32), 72)
            }
        }
        bytes32 expected = bridge.accumulatorAt(end);
        // INVARIANT: deposits are consumed exactly in bridge-queue order, none skipped or altered.
        if (acc != expected) revert DepositsMismatch(acc, expected);
    }

    /// @dev Whether (x, y) is a BabyJubJub point with canonical coordinates:
    ///      168700 x^2 + y^2 == 1 + 168696 x^2 y^2 (mod R).
    function _isKey(uint256 x, uint256 y) private pure returns (bool) {
        if (x >= R || y >= R) return false;
        uint256 x2 = mulmod(x, x, R);
        uint256 y2 = mulmod(y, y, R);
        uint256 lhs = addmod(mulmod(168700, x2, R), y2, R);
        uint256 rhs = addmod(1, mulmod(168696, mulmod(x2, y2, R), R), R);
        return lhs == rhs;
    }

    // -------------------------------------------------------------- emergency

    /// @inheritdoc IZkRollup
    function exit(uint32 leafIndex, address token, uint256 balance, address recipient, uint256[8] calldata proof)
        external
        nonReentrant
    {
        if (!frozen()) revert NotFrozen();
        // INVARIANT: each leaf exits at most once, with its balance in the last proven root.
        if (exited[leafIndex]) revert AlreadyExited(leafIndex);
        if (balance == 0 || recipient == address(0)) revert NothingToExit();
        uint256[] memory input = new uint256[](5);
        input[0] = stateRoot;
        input[1] = domain();
        input[2] = (uint256(leafIndex) << 160) | uint160(token);
        input[3] = balance;
        input[4] = uint160(recipient);
        if (!exitVerifier.verifyProof(proof, input)) revert InvalidProof();
        exited[leafIndex] = true;
        emit Exited(leafIndex, token, recipient, balance);
        bridge.releaseWithdrawal(keccak256(abi.encode("exit", leafIndex)), token, recipient, balance);
    }

    // ---------------------------------------------------------- deposit refunds

    /// @inheritdoc IZkRollup
    function refundDeposit(uint256 index, address token, uint256 amount, uint256 ax, uint256 ay)
        external
        nonReentrant
    {
        if (!frozen()) revert NotFrozen();
        // INVARIANT: a deposit credited by an accepted batch (or voided by one) is never refunded:
        // it is in the proven state, and leaves with an exit.
        uint256 consumed = depositsProcessed;
        if (index < consumed) revert DepositConsumed(index, consumed);
        if (
            index >= bridge.depositCount()
                || keccak256(abi.encodePacked(bridge.accumulatorAt(index), token, amount, bytes1(0x02), ax, ay))
                    != bridge.accumulatorAt(index + 1)
        ) revert DepositEvidenceMismatch(index);
        // The queue commits an L2 key, which has no L1 address: the bridge kept who paid.
        address to = bridge.depositorOf(index);
        emit DepositRefunded(index, to, token, amount);
        // INVARIANT: one refund per deposit (the bridge reverts AlreadyReleased on a second one).
        bridge.releaseWithdrawal(keccak256(abi.encode("refund", index)), token, to, amount);
    }

    // ------------------------------------------------------------------ views

    /// @inheritdoc IZkRollup
    function frozen() public view returns (bool) {
        return block.timestamp > lastBatchAt + freezePeriod;
    }

    /// @inheritdoc IZkRollup
    function domain() public view returns (uint256) {
        return (uint256(uint64(block.chainid)) << 160) | uint160(address(this));
    }
}
