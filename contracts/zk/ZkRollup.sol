// SPDX-License-Identifier: GPL-3.0-or-later
pragma solidity ^0.8.28;

import {Initializable} from "@openzeppelin/contracts/proxy/utils/Initializable.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";
import {IL1Bridge} from "../bridge/IL1Bridge.sol";
import {IExitWindow} from "../governance/IExitWindow.sol";
import {IExitWindowTimelock} from "../governance/IExitWindowTimelock.sol";
import {ICouncilPause} from "../governance/ICouncilPause.sol";
import {IZkGovernance} from "./IZkGovernance.sol";
import {IZkRollup} from "./IZkRollup.sol";
import {IZkVerifier} from "./IZkVerifier.sol";
import {ZkPubdata} from "./ZkPubdata.sol";

/// @title ZkRollup
/// @notice Validity-proof rollup over an L1Bridge built with the BabyJubJub recipient encoding
///         (`L1Bridge(bytes1(0x02))`). See IZkRollup and docs/zk.md.
/// @dev Public data of a batch, format v2 (docs/zk.md "Public data"; hashed with SHA-256, top 3 bits
///      cleared, as the third public input):
///      header (32: uint64 chainid | address(this) | uint32 batchIndex)
///      | depositSlots x 72 (uint32 leaf | compressed key 32 | token 20 | uint128 amount)
///      | txSlots x slotBytes (bits: type 2 | from depth | to depth | float amount 40 | zero pad)
///      | payoutSlots x 56 (recipient 20 | token 20 | uint128 amount): one per withdrawal or forced
///        withdrawal slot, in slot order; the unused ones zero.
///      The contract writes the header, the deposit slots and the unused records itself; only the
///      compact slots and the used records come from the submitter, and the proof binds all of it.
///      Forced withdrawals (type-3 slots) must match the forced queue head, in order (docs/zk.md).
/// @dev Upgradeable behind an OpenZeppelin TransparentUpgradeableProxy whose ProxyAdmin the
///      governance timelock owns (docs/governance.md §5). The circuit's shape (slots, depth), the
///      bridge and `forcedDelay` are fixed for a deployment and stay immutables of the
///      implementation (shared by its proxy); everything else sits in one ERC-7201 namespace
///      (`ZkStorage`). The constructor initializes the implementation's own storage and locks its
///      initializer; a proxy's storage is set by `initialize` in the proxy's constructor data.
///      A directly deployed rollup has no timelock: its parameters are fixed for good.
contract ZkRollup is IZkRollup, IZkGovernance, IExitWindow, Initializable, ReentrancyGuardTransient {
    /// @notice BN254 scalar field modulus.
    uint256 internal constant R = 21888242871839275222246405745257275088548364400416034343698204186575808495617;
    uint8 internal constant TX_FORCED = 3;

        /// @notice The bridge holding the funds and the deposit queue.
    IL1Bridge public immutable bridge;
    /// @notice Transaction slots per batch (the circuit's N).
    uint256 public immutable txSlots;
    /// @notice Deposit slots per batch (the circuit's D).
    uint256 public immutable depositSlots;
    /// @notice Payout records per batch: at most this many withdrawals and forced withdrawals
    ///         (the circuit's W = min(N, max(2, N / 4))).
    uint256 public immutable payoutSlots;
    /// @notice Depth of the account tree (bits of a leaf index in a compact slot).
    uint256 public immutable treeDepth;
    /// @notice Bytes of one compact transaction slot: ceil((2 + 2 * treeDepth + 40) / 8).
    uint256 public immutable slotBytes;
    /// @notice Seconds a forced withdrawal may wait (at least) before the rollup freezes.
    uint256 public immutable forcedDelay;

    /// @dev Every mutable field of the rollup. Append-only across upgrades (the layout is
    ///      snapshotted in snapshots/storageLayout/ZkRollup.json and checked by tests/tools).
    /// @custom:storage-location erc7201:l2kit.storage.ZkRollup
    struct ZkStorage {
        IExitWindowTimelock timelock;
        IZkVerifier batchVerifier;
        IZkVerifier exitVerifier;
        uint256 freezePeriod;
        // The freeze period of the current idle period (set from freezePeriod at each batch).
        uint256 idleLimit;
        uint256 stateRoot;
        uint256 batchCount;
        uint256 depositsProcessed;
        uint256 lastBatchAt;
        mapping(uint256 leafIndex => bool done) exited;
        mapping(uint256 count => uint256 root) rootAt;
        uint256 forcedCount;
        uint256 forcedProcessed;
        mapping(uint256 index => ForcedRequest request) forced;
        mapping(uint256 leafIndex => bool pending) forcedPending;
        mapping(uint256 leafIndex => uint256 count) forcedFloor;
        // The last deposit-inclusion request (pending while depositsProcessed < count).
        DepositCheckpoint depositCheckpoint;
        // The council's pause of posting (ICouncilPause; zero pauser: nobody can pause).
        address pauser;
        uint64 maxPauseDuration;
        bool pauseNeedsProvenBug;
        bool pauseSpent;
        uint256 pausedUntil;
        // The verifiers a conflict was proven against (zero: none); evidence stands while the
        // verifier is still the one in use.
        IZkVerifier conflictBatchVerifier;
        IZkVerifier conflictExitVerifier;
    }

    /// @dev keccak256(abi.encode(uint256(keccak256("l2kit.storage.ZkRollup")) - 1)) & ~bytes32(uint256(0xff))
    bytes32 private constant ZK_STORAGE = 0xede62c07944d27c809756710a2d85cbcbc7bdcf1bbf488ac196a829f6835f300;

    /// @param bridge_        The bridge (wire it back with `bridge.setRollup(address(this))`).
    /// @param batchVerifier_ Groth16 verifier holding the batch circuit's key.
    /// @param exitVerifier_  Groth16 verifier holding the exit circuit's key.
    /// @param genesisRoot    Root of the empty account tree (Poseidon, depth of the circuit).
    /// @param txSlots_       The circuit's transaction slots N.
    /// @param depositSlots_  The circuit's deposit slots D.
    /// @param freezePeriod_  Seconds without a batch before the rollup freezes.
    /// @param forcedDelay_   Seconds a forced withdrawal may wait before the rollup freezes.
    /// @param treeDepth_     The circuit's account-tree depth (1..32).
    constructor(
        IL1Bridge bridge_,
        IZkVerifier batchVerifier_,
        IZkVerifier exitVerifier_,
        uint256 genesisRoot,
        uint256 txSlots_,
        uint256 depositSlots_,
        uint256 freezePeriod_,
        uint256 forcedDelay_,
        uint256 treeDepth_
    ) {
        if (
            address(bridge_).code.length == 0 || txSlots_ == 0 || depositSlots_ == 0 || forcedDelay_ == 0
                || forcedDelay_ > type(uint32).max || treeDepth_ == 0 || treeDepth_ > 32
        ) revert InvalidConfig();
        bridge = bridge_;
        txSlots = txSlots_;
        depositSlots = depositSlots_;
        payoutSlots = ZkPubdata.payoutSlots(txSlots_);
        treeDepth = treeDepth_;
        slotBytes = ZkPubdata.slotBytes(treeDepth_);
        forcedDelay = forcedDelay_;
        // The implementation itself is a working, ungoverned rollup (no timelock), and it can
        // never be initialized again, so nobody can take it over.
        _init(IExitWindowTimelock(address(0)), batchVerifier_, exitVerifier_, genesisRoot, freezePeriod_);
        _disableInitializers();
    }

    /// @notice Initialize a proxy's storage (once, in the proxy's constructor data). The
    ///         implementation's immutables (bridge, circuit shape, forcedDelay) are shared.
    /// @param timelock_      The ExitWindowTimelock allowed to call the setters (not zero).
    /// @param batchVerifier_ Groth16 verifier holding the batch circuit's key.
    /// @param exitVerifier_  Groth16 verifier holding the exit circuit's key.
    /// @param genesisRoot    Root of the empty account tree.
    /// @param freezePeriod_  Seconds without a batch before the rollup freezes.
    /// @param pause          The council's posting pause: pauser (the Security Council, not zero),
    ///                       longest pause (0 < max < forcedDelay, max < freezePeriod_), Stage 2
    ///                       mode (pausing needs a proven bug).
    function initialize(
        IExitWindowTimelock timelock_,
        IZkVerifier batchVerifier_,
        IZkVerifier exitVerifier_,
        uint256 genesisRoot,
        uint256 freezePeriod_,
        PauseConfig calldata pause
    ) external initializer {
        // INVARIANT (P4): the longest pause ends before a forced request or an idle period can
        // run out because of it alone; the freeze clocks never stop.
        if (
            address(timelock_) == address(0) || pause.pauser == address(0) || pause.maxPauseDuration == 0
                || pause.maxPauseDuration >= forcedDelay || pause.maxPauseDuration >= freezePeriod_
        ) revert InvalidConfig();
        _init(timelock_, batchVerifier_, exitVerifier_, genesisRoot, freezePeriod_);
        ZkStorage storage $ = _s();
        $.pauser = pause.pauser;
        $.maxPauseDuration = pause.maxPauseDuration;
        $.pauseNeedsProvenBug = pause.needsProvenBug;
    }

    function _init(
        IExitWindowTimelock timelock_,
        IZkVerifier batchVerifier_,
        IZkVerifier exitVerifier_,
        uint256 genesisRoot,
        uint256 freezePeriod_
    ) private {
        if (
            address(batchVerifier_).code.length == 0 || address(exitVerifier_).code.length == 0
                || genesisRoot >= R || freezePeriod_ == 0
        ) revert InvalidConfig();
        ZkStorage storage $ = _s();
        $.timelock = timelock_;
        $.batchVerifier = batchVerifier_;
        $.exitVerifier = exitVerifier_;
        $.freezePeriod = freezePeriod_;
        $.idleLimit = freezePeriod_;
        $.stateRoot = genesisRoot;
        $.rootAt[0] = genesisRoot;
        $.lastBatchAt = block.timestamp;
    }

    // ------------------------------------------------------------- governance

    /// @inheritdoc IZkGovernance
    function setFreezePeriod(uint256 newPeriod) external {
        ZkStorage storage $ = _onlyTimelock();
        // INVARIANT (P4): the freeze period stays above the longest pause.
        if (newPeriod == 0 || newPeriod <= $.maxPauseDuration) revert InvalidConfig();
        uint256 oldExit = exitTime();
        uint256 old = $.freezePeriod;
        $.freezePeriod = newPeriod;
        // INVARIANT: a raise never delays the freeze of the idle period already running (an exit
        // in flight waits at most what was announced); a cut applies at once.
        if (newPeriod < $.idleLimit) $.idleLimit = newPeriod;
        emit FreezePeriodChanged(old, newPeriod);
        _afterExitTimeChange($, oldExit);
    }

    /// @inheritdoc IZkGovernance
    function setBatchVerifier(IZkVerifier newVerifier) external {
        ZkStorage storage $ = _onlyTimelock();
        if (address(newVerifier).code.length == 0) revert NotAVerifier(address(newVerifier));
        emit BatchVerifierChanged(address($.batchVerifier), address(newVerifier));
        $.batchVerifier = newVerifier;
    }

    /// @inheritdoc IZkGovernance
    function setExitVerifier(IZkVerifier newVerifier) external {
        ZkStorage storage $ = _onlyTimelock();
        if (address(newVerifier).code.length == 0) revert NotAVerifier(address(newVerifier));
        emit ExitVerifierChanged(address($.exitVerifier), address(newVerifier));
        $.exitVerifier = newVerifier;
    }

    /// @inheritdoc IExitWindow
    /// @dev A user who starts now is out when the rollup either processes their forced withdrawal
    ///      or freezes (then `exit` is immediate): at worst the freeze period without batches, or
    ///      the forced delay under a censoring operator. docs/governance.md §1.1.
    function exitTime() public view returns (uint256 seconds_) {
        uint256 idle = _s().freezePeriod;
        return idle > forcedDelay ? idle : forcedDelay;
    }

    function _afterExitTimeChange(ZkStorage storage $, uint256 oldExit) private {
        uint256 t = exitTime();
        if (t == oldExit) return;
        // INVARIANT: the exit time never outgrows the timelock's delay (the timelock reverts).
        if (t > oldExit) $.timelock.checkExitTime(t);
        emit ExitTimeChanged(oldExit, t);
    }

    // ------------------------------------------------------------------ council pause

    /// @inheritdoc ICouncilPause
    function pausePosting(uint256 duration) external {
        ZkStorage storage $ = _s();
        if (msg.sender != $.pauser || msg.sender == address(0)) revert NotAuthorized(msg.sender);
        // (P3) Stage 2 mode: only while a conflict stands against a verifier in use.
        if ($.pauseNeedsProvenBug && !provenBug()) revert NoProvenBug();
        // (P2) one pause per timelocked re-arm.
        if ($.pauseSpent) revert PauseNotArmed();
        // (P1) bounded, and ends by itself.
        uint256 max = $.maxPauseDuration;
        if (duration == 0 || duration > max) revert BadPauseDuration(duration, max);
        if (block.timestamp < $.pausedUntil) revert PostingIsPaused($.pausedUntil);
        $.pauseSpent = true;
        $.pausedUntil = block.timestamp + duration;
        emit PostingPaused(msg.sender, block.timestamp + duration);
    }

    /// @inheritdoc ICouncilPause
    function unpausePosting() external {
        ZkStorage storage $ = _s();
        if ((msg.sender != $.pauser && msg.sender != address($.timelock)) || msg.sender == address(0)) {
            revert NotAuthorized(msg.sender);
        }
        if (block.timestamp >= $.pausedUntil) revert PostingNotPaused();
        $.pausedUntil = block.timestamp;
        emit PostingUnpaused(msg.sender);
    }

    /// @inheritdoc ICouncilPause
    function rearmPause() external {
        ZkStorage storage $ = _s();
        if (msg.sender != address($.timelock) || msg.sender == address(0)) revert NotAuthorized(msg.sender);
        $.pauseSpent = false;
        emit PauseRearmed();
    }

    /// @inheritdoc ICouncilPause
    function postingPaused() external view returns (bool paused) {
        return block.timestamp < _s().pausedUntil;
    }

    /// @inheritdoc ICouncilPause
    function pausedUntil() external view returns (uint256 until) {
        return _s().pausedUntil;
    }

    /// @inheritdoc ICouncilPause
    function pauseArmed() external view returns (bool armed) {
        return !_s().pauseSpent;
    }

    /// @inheritdoc ICouncilPause
    function pauseConfig() external view returns (PauseConfig memory config) {
        ZkStorage storage $ = _s();
        return PauseConfig($.pauser, $.maxPauseDuration, $.pauseNeedsProvenBug);
    }

    // ------------------------------------------------------------ proven bugs

    /// @inheritdoc IZkGovernance
    function proveBatchConflict(
        uint256 oldRoot,
        uint256 dataHash,
        uint256 rootA,
        uint256[8] calldata proofA,
        uint256 rootB,
        uint256[8] calldata proofB
    ) external {
        // INVARIANT: only contradictory statements count. Inputs are field elements: rootB =
        // rootA + R would be "different" to this contract and the same to a verifier that
        // reduces its inputs, so an honest proof could fake a conflict.
        _inField(oldRoot);
        _inField(dataHash);
        _inField(rootA);
        _inField(rootB);
        if (rootA == rootB) revert NoConflict();
        ZkStorage storage $ = _s();
        IZkVerifier verifier = $.batchVerifier;
        uint256[] memory input = new uint256[](3);
        (input[0], input[1], input[2]) = (oldRoot, rootA, dataHash);
        if (!verifier.verifyProof(proofA, input)) revert InvalidProof();
        input[1] = rootB;
        if (!verifier.verifyProof(proofB, input)) revert InvalidProof();
        $.conflictBatchVerifier = verifier;
        emit BatchConflictProven(msg.sender, address(verifier), oldRoot, dataHash, rootA, rootB);
    }

    /// @inheritdoc IZkGovernance
    function proveExitConflict(
        uint256 root,
        uint256 leafToken,
        uint256 balanceA,
        address recipientA,
        uint256[8] calldata proofA,
        uint256 balanceB,
        address recipientB,
        uint256[8] calldata proofB
    ) external {
        // INVARIANT: a leaf holds one balance of its one token in a root; two proven balances
        // (field elements, see proveBatchConflict) contradict each other.
        _inField(root);
        _inField(leafToken);
        _inField(balanceA);
        _inField(balanceB);
        if (balanceA == balanceB) revert NoConflict();
        ZkStorage storage $ = _s();
        IZkVerifier verifier = $.exitVerifier;
        uint256[] memory input = new uint256[](5);
        (input[0], input[1], input[2], input[3], input[4]) =
            (root, domain(), leafToken, balanceA, uint160(recipientA));
        if (!verifier.verifyProof(proofA, input)) revert InvalidProof();
        (input[3], input[4]) = (balanceB, uint160(recipientB));
        if (!verifier.verifyProof(proofB, input)) revert InvalidProof();
        $.conflictExitVerifier = verifier;
        emit ExitConflictProven(msg.sender, address(verifier), root, leafToken, balanceA, balanceB);
    }

    /// @inheritdoc IZkGovernance
    function provenBug() public view returns (bool shown) {
        ZkStorage storage $ = _s();
        IZkVerifier b = $.conflictBatchVerifier;
        IZkVerifier e = $.conflictExitVerifier;
        return (address(b) != address(0) && b == $.batchVerifier) || (address(e) != address(0) && e == $.exitVerifier);
    }

    function _notPaused() private view {
        uint256 until = _s().pausedUntil;
        if (block.timestamp < until) revert PostingIsPaused(until);
    }

    function _inField(uint256 x) private pure {
        if (x >= R) revert NotInField(x);
    }

    function _onlyTimelock() private view returns (ZkStorage storage $) {
        $ = _s();
        if (msg.sender != address($.timelock) || msg.sender == address(0)) revert OnlyTimelock(msg.sender);
    }

    function _s() private pure returns (ZkStorage storage $) {
        assembly {
            $.slot := ZK_STORAGE
        }
    }

    // ------------------------------------------------------------------ batches

    /// @inheritdoc IZkRollup
    function submitBatch(
        uint256 newRoot,
        Deposit[] calldata deposits,
        bytes calldata txData,
        uint256[8] calldata proof
    ) external nonReentrant {
        // INVARIANT: the calldata is the one canonical ABI encoding of these arguments (no dirty
        // padding, no cut or trailing bytes, no relocated offsets), so every strict decoder of
        // the call (offchain/zk/chain.py, from the tx input or a call trace) reads exactly them.
        if (keccak256(msg.data) != keccak256(abi.encodeCall(IZkRollup.submitBatch, (newRoot, deposits, txData, proof))))
        {
            revert NonCanonicalCalldata();
        }
        if (frozen()) revert RollupFrozen();
        _notPaused();
        // The payout slots (withdrawals, forced withdrawals), found in one pass over the slots.
        uint256[] memory payouts = ZkPubdata.payoutHeads(txData, txSlots, slotBytes, treeDepth, payoutSlots);
        if (deposits.length > depositSlots) revert TooManyDeposits(deposits.length, depositSlots);

        ZkStorage storage $ = _s();
        uint256 first = $.depositsProcessed;
        uint256 batchIndex = $.batchCount;
        uint256 forcedEnd = _checkForced(txData, payouts);
        uint256 dataHash = _dataHash(batchIndex, first, deposits, txData, payouts.length);
        _accept(batchIndex, first, deposits.length, newRoot, dataHash, proof);
        _consumeForced(batchIndex, txData, payouts, forcedEnd);

        // Interactions: withdrawals are final with the batch, payable at once (pull from the bridge).
        _releaseWithdrawals(batchIndex, txData, payouts);
    }

    /// @dev Check the proof of the transition from the current root and record the batch.
    function _accept(
        uint256 batchIndex,
        uint256 first,
        uint256 count,
        uint256 newRoot,
        uint256 dataHash,
        uint256[8] calldata proof
    ) private {
        ZkStorage storage $ = _s();
        uint256 oldRoot = $.stateRoot;
        _checkProof(oldRoot, newRoot, dataHash, proof);
        // Effects.
        $.stateRoot = newRoot;
        $.batchCount = batchIndex + 1;
        $.rootAt[batchIndex + 1] = newRoot;
        $.depositsProcessed = first + count;
        $.lastBatchAt = block.timestamp;
        // A new idle period starts: the freeze period governed now applies to it.
        $.idleLimit = $.freezePeriod;
        emit BatchVerified(batchIndex, oldRoot, newRoot, first, count, dataHash);
    }

    /// @dev The public input binding the public data: this rollup's header, the deposit slots
    ///      (checked against the bridge queue), txData and the unused (zero) payout records.
    function _dataHash(
        uint256 batchIndex,
        uint256 first,
        Deposit[] calldata deposits,
        bytes calldata txData,
        uint256 payouts
    ) private returns (uint256) {
        bytes memory data = ZkPubdata.newData(
            block.chainid, address(this), batchIndex, depositSlots, txData.length, payoutSlots - payouts
        );
        _consumeDeposits(first, deposits, data);
        return ZkPubdata.hashData(data, depositSlots, txData);
    }

    /// @dev Payout record `k` (of the payout slot `payouts[k]`).
    function _record(bytes calldata txData, uint256 k)
        private
        view
        returns (address to, address token, uint256 amount)
    {
        return ZkPubdata.record(txData, txSlots * slotBytes, k);
    }

    /// @dev Revert unless `proof` proves the transition oldRoot -> newRoot for the data hash.
    function _checkProof(uint256 oldRoot, uint256 newRoot, uint256 dataHash, uint256[8] calldata proof)
        private
        view
    {
        ZkStorage storage $ = _s();
        uint256[] memory input = new uint256[](3);
        (input[0], input[1], input[2]) = (oldRoot, newRoot, dataHash);
        // INVARIANT: the root only moves along a proven transition from the current root, and the
        // proof covers the header (this rollup, this batch index), every deposit slot as rebuilt
        // from the bridge queue, and every transaction slot. A replayed proof names an old root
        // or an old batch index and fails here.
        if (!$.batchVerifier.verifyProof(proof, input)) revert InvalidProof();
    }

    /// @dev Release every withdrawal and forced-withdrawal slot of an accepted batch on the bridge.
    function _releaseWithdrawals(uint256 batchIndex, bytes calldata txData, uint256[] memory payouts) private {
        for (uint256 k = 0; k < payouts.length; ++k) {
            (uint256 t,,) = ZkPubdata.unpackHead(payouts[k]);
            (address to, address token, uint256 amount) = _record(txData, k);
            // The circuit guarantees to != 0, and amount > 0 for a withdrawal; a forced withdrawal
            // of an empty leaf pays nothing.
            if (amount == 0) continue;
            bridge.releaseWithdrawal(keccak256(abi.encode(batchIndex, t)), token, to, amount);
        }
    }

    // ---------------------------------------------------------- forced queue

    /// @dev Check every type-3 slot of `txData` against the forced queue from its head, in order;
    ///      returns the queue position after the last one consumed.
    function _checkForced(bytes calldata txData, uint256[] memory payouts) private view returns (uint256 next) {
        ZkStorage storage $ = _s();
        next = $.forcedProcessed;
        uint256 queued = $.forcedCount;
        for (uint256 k = 0; k < payouts.length; ++k) {
            (uint256 t, uint8 kind, uint256 from) = ZkPubdata.unpackHead(payouts[k]);
            if (kind != TX_FORCED) continue;
            (address to, address token,) = _record(txData, k);
            // INVARIANT: a type-3 slot (no signature in the circuit) only ever runs a request the
            // leaf's key authorised on L1, each once, in queue order.
            if (next >= queued) revert ForcedNotQueued(t, queued);
            ForcedRequest storage r = $.forced[next];
            if (from != r.leafIndex || to != r.recipient || token != r.token) revert ForcedMismatch(t, next);
            ++next;
        }
    }

    /// @dev Mark the forced requests an accepted batch processed (checked by `_checkForced`).
    function _consumeForced(uint256 batchIndex, bytes calldata txData, uint256[] memory payouts, uint256 end)
        private
    {
        ZkStorage storage $ = _s();
        uint256 index = $.forcedProcessed;
        if (index == end) return;
        for (uint256 k = 0; k < payouts.length; ++k) {
            (uint256 t, uint8 kind,) = ZkPubdata.unpackHead(payouts[k]);
            if (kind != TX_FORCED) continue;
            (,, uint256 amount) = _record(txData, k);
            uint256 leaf = $.forced[index].leafIndex;
            $.forcedPending[leaf] = false;
            // Roots up to this batch still hold the leaf before the withdrawal (its nonce is
            // bumped by it): a request proven against them would replay this one.
            $.forcedFloor[leaf] = batchIndex + 1;
            emit ForcedWithdrawalProcessed(index, batchIndex, t, amount);
            ++index;
        }
        $.forcedProcessed = end;
    }

    /// @inheritdoc IZkRollup
    function requestForcedWithdrawal(
        uint32 leafIndex,
        address token,
        uint256 balance,
        address recipient,
        uint256 rootCount,
        uint256[8] calldata proof
    ) external returns (uint256 index) {
        ZkStorage storage $ = _s();
        if (frozen()) revert RollupFrozen();
        if (recipient == address(0)) revert ZeroRecipient();
        uint256 count = $.batchCount;
        if (rootCount > count) revert UnknownRoot(rootCount, count);
        if ($.forcedPending[leafIndex]) revert ForcedAlreadyPending(leafIndex);
        uint256 floor = $.forcedFloor[leafIndex];
        if (rootCount < floor) revert StaleRoot(rootCount, floor);
        // INVARIANT: only the leaf's key can queue its withdrawal, and only for a leaf that exists
        // with this token: the proof opens the leaf (key, token, balance, nonce) in an accepted
        // root and checks the key's signature of (leaf, recipient, balance, nonce). A leaf's key
        // and token never change once created, so the request stays satisfiable: the type-3 slot
        // needs no signature, and pays whatever balance the leaf holds then (0 is allowed).
        uint256[] memory input = new uint256[](5);
        input[0] = $.rootAt[rootCount];
        input[1] = domain();
        input[2] = (uint256(leafIndex) << 160) | uint160(token);
        input[3] = balance;
        input[4] = uint160(recipient);
        if (!$.exitVerifier.verifyProof(proof, input)) revert InvalidProof();

        index = $.forcedCount;
        // At most `payoutSlots` requests (what one batch can pay out) fall due in any
        // `forcedDelay`: a flood of requests cannot outrun an operator that posts one batch of
        // forced withdrawals per `forcedDelay`.
        uint256 deadline = block.timestamp + forcedDelay;
        uint256 perBatch = payoutSlots;
        if (index >= perBatch) {
            uint256 spaced = uint256($.forced[index - perBatch].deadline) + forcedDelay;
            if (spaced > deadline) deadline = spaced;
        }
        $.forced[index] = ForcedRequest(leafIndex, token, recipient, uint64(deadline));
        $.forcedPending[leafIndex] = true;
        $.forcedCount = index + 1;
        emit ForcedWithdrawalRequested(index, leafIndex, token, recipient, deadline);
    }

    /// @inheritdoc IZkRollup
    function requestDepositInclusion() external returns (uint256 lastDeadline) {
        ZkStorage storage $ = _s();
        if (frozen()) revert RollupFrozen();
        DepositCheckpoint memory cp = $.depositCheckpoint;
        uint256 consumed = $.depositsProcessed;
        // INVARIANT: an unmet request's deadlines never move: no new request until it is met,
        // so neither spam nor the operator can push a waiting deposit's deadline back.
        if (consumed < cp.count) revert DepositCheckpointPending(cp.count, _dueAt(cp, cp.count - 1));
        uint256 queued = bridge.depositCount();
        if (queued <= consumed) revert NoDepositsWaiting(consumed);
        // INVARIANT: an honest operator can always meet it: at most `depositSlots` covered
        // deposits fall due per `forcedDelay`, which one batch with full deposit slots consumes.
        cp = DepositCheckpoint(uint64(consumed), uint64(queued), uint64(block.timestamp));
        $.depositCheckpoint = cp;
        lastDeadline = _dueAt(cp, queued - 1);
        emit DepositInclusionRequested(consumed, queued, block.timestamp, lastDeadline, msg.sender);
    }

    /// @dev Check `deposits` are the bridge queue from `first` on and write their slots into
    ///      `data` (a ZkPubdata.newData buffer).
    function _consumeDeposits(uint256 first, Deposit[] calldata deposits, bytes memory data) private {
        uint256 end = first + deposits.length;
        uint256 queued = bridge.depositCount();
        if (end > queued) revert DepositsNotQueued(end, queued);
        bytes32 acc = bridge.accumulatorAt(first);
        for (uint256 j = 0; j < deposits.length; ++j) {
            Deposit calldata d = deposits[j];
            acc = keccak256(abi.encodePacked(acc, d.token, d.amount, bytes1(0x02), d.ax, d.ay));
            if (!_isKey(d.ax, d.ay)) {
                // Left as a zero slot: amount 0 means "no credit" to the circuit.
                emit DepositVoided(first + j);
                continue;
            }
            ZkPubdata.writeDeposit(data, j, d.leafIndex, ((d.ax & 1) << 255) | d.ay, d.token, d.amount);
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
        ZkStorage storage $ = _s();
        if (!frozen()) revert NotFrozen();
        // INVARIANT: each leaf exits at most once, with its balance in the last proven root.
        if ($.exited[leafIndex]) revert AlreadyExited(leafIndex);
        if (balance == 0 || recipient == address(0)) revert NothingToExit();
        uint256[] memory input = new uint256[](5);
        input[0] = $.stateRoot;
        input[1] = domain();
        input[2] = (uint256(leafIndex) << 160) | uint160(token);
        input[3] = balance;
        input[4] = uint160(recipient);
        if (!$.exitVerifier.verifyProof(proof, input)) revert InvalidProof();
        $.exited[leafIndex] = true;
        emit Exited(leafIndex, token, recipient, balance);
        bridge.releaseWithdrawal(keccak256(abi.encode("exit", leafIndex)), token, recipient, balance);
    }

    // ---------------------------------------------------------- deposit refunds

    /// @inheritdoc IZkRollup
    function refundDeposit(uint256 index, address token, uint256 amount, uint256 ax, uint256 ay)
        external
        nonReentrant
    {
        ZkStorage storage $ = _s();
        if (!frozen()) revert NotFrozen();
        // INVARIANT: a deposit credited by an accepted batch (or voided by one) is never refunded:
        // it is in the proven state, and leaves with an exit.
        uint256 consumed = $.depositsProcessed;
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

    /// @notice The account-tree root of the last accepted batch (the genesis root at first).
    function stateRoot() external view returns (uint256) {
        return _s().stateRoot;
    }

    /// @notice Number of batches accepted.
    function batchCount() external view returns (uint256) {
        return _s().batchCount;
    }

    /// @notice Number of bridge deposits consumed by accepted batches.
    function depositsProcessed() external view returns (uint256) {
        return _s().depositsProcessed;
    }

    /// @notice Time of the last accepted batch (initialization time at first).
    function lastBatchAt() external view returns (uint256) {
        return _s().lastBatchAt;
    }

    /// @notice Whether a leaf exited the frozen rollup.
    /// @param leafIndex The account leaf.
    function exited(uint256 leafIndex) external view returns (bool done) {
        return _s().exited[leafIndex];
    }

    /// @notice The state root after `count` accepted batches (rootAt(0) is the genesis root).
    /// @param count Number of accepted batches.
    function rootAt(uint256 count) external view returns (uint256 root) {
        return _s().rootAt[count];
    }

    /// @notice Number of forced withdrawals ever requested.
    function forcedCount() external view returns (uint256) {
        return _s().forcedCount;
    }

    /// @notice Number of forced withdrawals processed by accepted batches (the queue head).
    function forcedProcessed() external view returns (uint256) {
        return _s().forcedProcessed;
    }

    /// @notice Whether a leaf has a forced withdrawal queued and not yet processed.
    /// @param leafIndex The account leaf.
    function forcedPending(uint256 leafIndex) external view returns (bool pending) {
        return _s().forcedPending[leafIndex];
    }

    /// @notice The lowest root count a new forced request of the leaf may be proven against:
    ///         roots from before its last processed forced withdrawal would replay that request.
    /// @param leafIndex The account leaf.
    function forcedFloor(uint256 leafIndex) external view returns (uint256 count) {
        return _s().forcedFloor[leafIndex];
    }

    /// @notice Verifier of the batch circuit (public inputs: old root, new root, data hash).
    function batchVerifier() external view returns (IZkVerifier) {
        return _s().batchVerifier;
    }

    /// @notice Verifier of the exit circuit (public inputs: root, domain, leaf << 160 | token,
    ///         balance, recipient).
    function exitVerifier() external view returns (IZkVerifier) {
        return _s().exitVerifier;
    }

    /// @notice Seconds without an accepted batch after which the rollup freezes (governed; it
    ///         applies from the next accepted batch on, see `freezePeriodInForce`).
    function freezePeriod() external view returns (uint256) {
        return _s().freezePeriod;
    }

    /// @inheritdoc IZkGovernance
    function freezePeriodInForce() external view returns (uint256 seconds_) {
        return _s().idleLimit;
    }

    /// @inheritdoc IZkGovernance
    function timelock() external view returns (IExitWindowTimelock timelock_) {
        return _s().timelock;
    }

    /// @inheritdoc IZkRollup
    function forcedRequest(uint256 index) external view returns (ForcedRequest memory request) {
        ZkStorage storage $ = _s();
        return $.forced[index];
    }

    /// @inheritdoc IZkRollup
    function forcedOverdue() public view returns (bool) {
        ZkStorage storage $ = _s();
        uint256 head = $.forcedProcessed;
        // Deadlines never decrease along the queue: the head is the first to fall due.
        return head < $.forcedCount && block.timestamp > $.forced[head].deadline;
    }

    /// @inheritdoc IZkRollup
    function frozen() public view returns (bool) {
        ZkStorage storage $ = _s();
        // Every condition only ends with an accepted batch, and no batch is accepted while frozen:
        // once frozen, always frozen. Empty batches reset the first but never the other two.
        return block.timestamp > $.lastBatchAt + $.idleLimit || forcedOverdue() || depositsOverdue();
    }

    /// @inheritdoc IZkRollup
    function depositCheckpoint() external view returns (DepositCheckpoint memory checkpoint) {
        ZkStorage storage $ = _s();
        return $.depositCheckpoint;
    }

    /// @inheritdoc IZkRollup
    function depositDeadline(uint256 index) external view returns (uint256 deadline) {
        ZkStorage storage $ = _s();
        DepositCheckpoint memory cp = $.depositCheckpoint;
        if (index < cp.first || index >= cp.count || index < $.depositsProcessed) return 0;
        return _dueAt(cp, index);
    }

    /// @inheritdoc IZkRollup
    function depositsOverdue() public view returns (bool) {
        (bool pending, uint256 due) = _nextDepositDue();
        return pending && block.timestamp > due;
    }

    /// @inheritdoc IZkRollup
    function freezeReason() external view returns (FreezeReason reason) {
        ZkStorage storage $ = _s();
        // The condition whose deadline passed first froze the rollup (the others may have
        // followed since): report that one. Ties go to the forced queue, then deposits.
        uint256 first = type(uint256).max;
        uint256 head = $.forcedProcessed;
        if (head < $.forcedCount) {
            uint256 due = $.forced[head].deadline;
            if (block.timestamp > due) (reason, first) = (FreezeReason.FORCED_WITHDRAWAL_OVERDUE, due);
        }
        (bool pending, uint256 depositDue) = _nextDepositDue();
        if (pending && block.timestamp > depositDue && depositDue < first) {
            (reason, first) = (FreezeReason.DEPOSITS_CENSORED, depositDue);
        }
        uint256 idle = $.lastBatchAt + $.idleLimit;
        if (block.timestamp > idle && idle < first) reason = FreezeReason.NO_BATCH;
    }

    /// @dev Whether the last deposit-inclusion request is unmet, and the deadline of the next
    ///      deposit to consume under it (the earliest of its unconsumed deposits).
    function _nextDepositDue() private view returns (bool pending, uint256 due) {
        ZkStorage storage $ = _s();
        DepositCheckpoint memory cp = $.depositCheckpoint;
        if (cp.count == 0) return (false, 0);
        uint256 next = $.depositsProcessed;
        if (next >= cp.count) return (false, 0);
        return (true, _dueAt(cp, next));
    }

    /// @dev Deadline of deposit `index` (first <= index < count) under checkpoint `cp`: the k-th
    ///      group of `depositSlots` deposits after `first` is due (k + 1) forcedDelays after the
    ///      request, so an operator posting one batch with full deposit slots per `forcedDelay`
    ///      always keeps up, however many deposits are queued.
    function _dueAt(DepositCheckpoint memory cp, uint256 index) private view returns (uint256) {
        return uint256(cp.requestedAt) + ((index - cp.first) / depositSlots + 1) * forcedDelay;
    }

    /// @inheritdoc IZkRollup
    function domain() public view returns (uint256) {
        return (uint256(uint64(block.chainid)) << 160) | uint160(address(this));
    }
}
