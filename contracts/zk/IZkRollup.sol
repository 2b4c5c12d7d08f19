// SPDX-License-Identifier: GPL-3.0-or-later
pragma solidity ^0.8.28;

/// @title IZkRollup
/// @notice The L1 contract of the l2kit validity-proof rollup. Every batch comes with a Groth16
///         proof that it moves the account tree from the current root to the new one by applying
///         exactly the posted public data (bridge deposits in queue order, then signed L2
///         transfers and withdrawals). A batch is final when accepted: no challenge window.
///         If no batch is accepted for `freezePeriod`, the rollup freezes and every account can
///         exit with its balance in the last proven root (a proof of the exit circuit).
///         Censorship resistance: a key owner queues a forced withdrawal of its leaf on L1
///         (`requestForcedWithdrawal`); batches consume that queue in order, and once the oldest
///         unprocessed request is past its deadline the rollup is frozen, whatever else is posted.
///         Deposits have the same guarantee: anyone may start the inclusion deadline of every
///         deposit queued so far (`requestDepositInclusion`); batches must consume them at
///         `depositSlots` per `forcedDelay`, or the rollup is frozen and they are refunded.
interface IZkRollup {
    /// @notice Why the rollup is frozen (the condition that became true first), or NONE.
    enum FreezeReason {
        NONE,
        FORCED_WITHDRAWAL_OVERDUE,
        DEPOSITS_CENSORED,
        NO_BATCH
    }

    /// @notice The pending deposit-inclusion request (all zero before the first one).
    /// @param first       `depositsProcessed` when it was made: the first deposit it covers.
    /// @param count       `bridge.depositCount()` when it was made: it is met once the rollup
    ///                    consumed this many deposits.
    /// @param requestedAt Time of the request; deposit `first + k` is due by
    ///                    `requestedAt + (k / depositSlots + 1) * forcedDelay`.
    struct DepositCheckpoint {
        uint64 first;
        uint64 count;
        uint64 requestedAt;
    }

    /// @notice A deposit as queued by the bridge, passed in calldata to prove queue order.
    /// @param token     The token (address(0) for ETH), as in the bridge queue.
    /// @param amount    The amount, as in the bridge queue (at most 2^128 - 1).
    /// @param ax        The recipient key's x coordinate (recipient bytes 1..32).
    /// @param ay        The recipient key's y coordinate (recipient bytes 33..64).
    /// @param leafIndex The L2 leaf the operator credits (checked by the proof).
    struct Deposit {
        address token;
        uint256 amount;
        uint256 ax;
        uint256 ay;
        uint32 leafIndex;
    }

    /// @notice A forced withdrawal queued on L1: the next batches must pay the leaf's whole balance
    ///         to `recipient` in a type-3 slot, in queue order, by `deadline`.
    /// @param leafIndex The L2 leaf emptied (its key authorised the request with an exit proof).
    /// @param token     The leaf's token (bound by the proof).
    /// @param recipient The L1 account paid (bound by the proof).
    /// @param deadline  Time after which, while this request is unprocessed, the rollup is frozen.
    struct ForcedRequest {
        uint32 leafIndex;
        address token;
        address recipient;
        uint64 deadline;
    }

    /// @notice A batch was proven and accepted; its withdrawals are released on the bridge.
    /// @param batchIndex    Position of the batch (0-based).
    /// @param oldRoot       The account-tree root before the batch.
    /// @param newRoot       The account-tree root after the batch.
    /// @param firstDeposit  Queue index of the first deposit the batch consumed.
    /// @param depositCount  Number of deposits consumed (in queue order from `firstDeposit`).
    /// @param dataHash      The public input binding the public data (SHA-256, top 3 bits cleared).
    event BatchVerified(
        uint256 indexed batchIndex,
        uint256 oldRoot,
        uint256 newRoot,
        uint256 firstDeposit,
        uint256 depositCount,
        uint256 dataHash
    );

    /// @notice A forced withdrawal was queued.
    /// @param index     Its position in the forced queue.
    /// @param leafIndex The leaf to empty.
    /// @param token     The leaf's token.
    /// @param recipient The L1 account to pay.
    /// @param deadline  Time by which a batch must have processed it, or the rollup freezes.
    event ForcedWithdrawalRequested(
        uint256 indexed index, uint256 indexed leafIndex, address token, address recipient, uint256 deadline
    );

    /// @notice A batch processed a forced withdrawal (the amount is released on the bridge).
    /// @param index      Its position in the forced queue.
    /// @param batchIndex The batch that processed it.
    /// @param slot       The transaction slot it took.
    /// @param amount     The leaf's whole balance at that point (0 if it was empty).
    event ForcedWithdrawalProcessed(uint256 indexed index, uint256 indexed batchIndex, uint256 slot, uint256 amount);

    /// @notice A deposit whose recipient is not a BabyJubJub point (or has a coordinate >= the
    ///         field modulus) was consumed without credit: no L2 key could ever spend it.
    /// @param queueIndex The deposit's position in the bridge queue.
    event DepositVoided(uint256 indexed queueIndex);

    /// @notice The account at `leafIndex` exited the frozen rollup.
    /// @param leafIndex The leaf.
    /// @param token     Its token.
    /// @param recipient The L1 account the balance was released to (claim it on the bridge).
    /// @param amount    The balance in the last proven root.
    event Exited(uint256 indexed leafIndex, address indexed token, address indexed recipient, uint256 amount);

    /// @notice A deposit the frozen rollup never consumed was refunded to the L1 account that
    ///         paid it (claim it on the bridge).
    /// @param index  The deposit's position in the bridge queue.
    /// @param to     The depositor (`bridge.depositorOf(index)`).
    /// @param token  The token.
    /// @param amount The amount.
    event DepositRefunded(uint256 indexed index, address indexed to, address indexed token, uint256 amount);

    /// @notice Someone started the inclusion deadline of the deposits `[first, count)`.
    /// @param first        The first deposit covered (`depositsProcessed` then).
    /// @param count        The bridge's deposit count then (end of the range, exclusive).
    /// @param requestedAt  The request's time.
    /// @param lastDeadline When the last covered deposit is due (the first `depositSlots` are due
    ///                     `forcedDelay` after the request, each further `depositSlots` one
    ///                     `forcedDelay` later).
    /// @param requester    Who asked.
    event DepositInclusionRequested(
        uint256 first, uint256 count, uint256 requestedAt, uint256 lastDeadline, address indexed requester
    );

    /// @notice The transaction data is not exactly `txSlots` compact slots plus one payout record per
    ///         withdrawal or forced-withdrawal slot.
    error BadTxDataLength(uint256 length, uint256 expected);
    /// @notice More withdrawal and forced-withdrawal slots than the batch has payout records.
    error TooManyPayouts(uint256 count, uint256 records);
    /// @notice More deposits than the circuit has slots.
    error TooManyDeposits(uint256 count, uint256 slots);
    /// @notice The batch consumes deposits the bridge has not queued.
    error DepositsNotQueued(uint256 end, uint256 queued);
    /// @notice The deposits given do not reproduce the bridge's queue accumulator.
    error DepositsMismatch(bytes32 computed, bytes32 expected);
    /// @notice The proof does not verify for (current root, new root, public data).
    error InvalidProof();
    /// @notice No batch was accepted for `freezePeriod`: the rollup only allows exits now.
    error RollupFrozen();
    /// @notice Exits are only possible once the rollup is frozen.
    error NotFrozen();
    /// @notice This leaf exited already.
    error AlreadyExited(uint256 leafIndex);
    /// @notice An exit of a zero balance, or to the zero address.
    error NothingToExit();
    /// @notice The deposit was consumed by an accepted batch: it is in the proven state (exit it).
    error DepositConsumed(uint256 index, uint256 depositsProcessed);
    /// @notice The deposit given is not the bridge's queue entry at that index.
    error DepositEvidenceMismatch(uint256 index);
    /// @notice A constructor argument is out of range.
    error InvalidConfig();
    /// @notice `submitBatch` calldata that is not the canonical ABI encoding of its arguments
    ///         (dirty padding, cut or trailing bytes, relocated offsets): operators and exit
    ///         tools decode batches strictly, so the rollup accepts only what they can read.
    error NonCanonicalCalldata();
    /// @notice A type-3 slot with no forced request left in the queue to match.
    error ForcedNotQueued(uint256 slot, uint256 queued);
    /// @notice A type-3 slot does not match the forced request it consumes (queue order).
    error ForcedMismatch(uint256 slot, uint256 index);
    /// @notice The root a forced request is proven against: not a root of this rollup (yet).
    error UnknownRoot(uint256 rootCount, uint256 batchCount);
    /// @notice The root predates the leaf's last processed forced withdrawal (replay).
    error StaleRoot(uint256 rootCount, uint256 floor);
    /// @notice This leaf already has a forced withdrawal queued.
    error ForcedAlreadyPending(uint256 leafIndex);
    /// @notice A forced withdrawal to the zero address.
    error ZeroRecipient();
    /// @notice A deposit-inclusion request is still unmet: its deadlines cannot be moved (the
    ///         deposits after `count` can be covered once the rollup consumed `count`).
    error DepositCheckpointPending(uint256 count, uint256 lastDeadline);
    /// @notice Every queued deposit is consumed: nothing to request inclusion of.
    error NoDepositsWaiting(uint256 depositsProcessed);

    /// @notice Post and prove a batch. Permissionless: the proof is the only authority.
    /// @param newRoot  The account-tree root after the batch.
    /// @param deposits The next deposits of the bridge queue, in order (at most `depositSlots`).
    /// @param txData   The `txSlots` compact slots (`slotBytes` each), then one 56-byte payout record
    ///                 per withdrawal or forced-withdrawal slot, in slot order (docs/zk.md).
    /// @param proof    The Groth16 proof (A, B, C in precompile word order).
    function submitBatch(
        uint256 newRoot,
        Deposit[] calldata deposits,
        bytes calldata txData,
        uint256[8] calldata proof
    ) external;

    /// @notice Exit a frozen rollup: release the leaf's balance in the last proven root to the
    ///         L1 `recipient` its key signed for, once per leaf.
    /// @param leafIndex The leaf.
    /// @param token     The leaf's token.
    /// @param balance   The leaf's balance in the last proven root.
    /// @param recipient The L1 account to pay (signed by the leaf's key inside the exit proof).
    /// @param proof     The Groth16 proof of the exit circuit.
    function exit(uint32 leafIndex, address token, uint256 balance, address recipient, uint256[8] calldata proof)
        external;

    /// @notice Refund a deposit the frozen rollup never consumed (queue index at or past
    ///         `depositsProcessed`) to the L1 account that paid it, once per deposit. Anyone may
    ///         call; the money only ever goes to the depositor.
    /// @param index  The deposit's position in the bridge queue.
    /// @param token  The queued token (address(0) for ETH).
    /// @param amount The queued amount.
    /// @param ax     The queued recipient key's x coordinate.
    /// @param ay     The queued recipient key's y coordinate.
    function refundDeposit(uint256 index, address token, uint256 amount, uint256 ax, uint256 ay) external;

    /// @notice Queue a forced withdrawal of leaf `leafIndex`'s whole balance to `recipient`.
    ///         Authorised by an exit-circuit proof of the leaf's key against the root the rollup
    ///         had after `rootCount` batches (any accepted root, so a new batch cannot invalidate
    ///         a proof in flight). One pending request per leaf; the caller pays the L1 gas.
    /// @param leafIndex The leaf (bound by the proof).
    /// @param token     The leaf's token (bound by the proof).
    /// @param balance   The leaf's balance in that root (bound by the proof; what is paid is the
    ///                  balance when the request is processed).
    /// @param recipient The L1 account to pay (signed by the leaf's key inside the proof).
    /// @param rootCount Number of batches after which the proven root was the state root.
    /// @param proof     The Groth16 proof of the exit circuit.
    /// @return index    The request's position in the forced queue.
    function requestForcedWithdrawal(
        uint32 leafIndex,
        address token,
        uint256 balance,
        address recipient,
        uint256 rootCount,
        uint256[8] calldata proof
    ) external returns (uint256 index);

    /// @notice Start the inclusion deadline of every deposit queued so far (anyone, when one
    ///         waits and no earlier request is unmet): the deposits `[depositsProcessed,
    ///         bridge.depositCount())` must be consumed `depositSlots` per `forcedDelay`, the first
    ///         `depositSlots` within `forcedDelay` of now, or the rollup is frozen
    ///         (`DEPOSITS_CENSORED`) and they are refunded.
    /// @return lastDeadline When the last covered deposit is due.
    function requestDepositInclusion() external returns (uint256 lastDeadline);

    /// @notice The last deposit-inclusion request (met once `depositsProcessed >= count`).
    /// @return checkpoint The request (all zero if none was made).
    function depositCheckpoint() external view returns (DepositCheckpoint memory checkpoint);

    /// @notice When deposit `index` is due under the pending request (0: not covered by one).
    /// @param index The deposit's position in the bridge queue.
    /// @return deadline The time after which, while it is unconsumed, the rollup is frozen.
    function depositDeadline(uint256 index) external view returns (uint256 deadline);

    /// @notice Whether a deposit covered by the pending request is unconsumed past its deadline.
    function depositsOverdue() external view returns (bool);

    /// @notice Why the rollup is frozen: the condition that became true first (NONE: not frozen).
    function freezeReason() external view returns (FreezeReason);

    /// @notice The forced request at queue position `index`.
    /// @param index The queue position.
    /// @return request The request (zero if `index` >= `forcedCount`).
    function forcedRequest(uint256 index) external view returns (ForcedRequest memory request);

    /// @notice Whether the oldest unprocessed forced request is past its deadline (then frozen).
    function forcedOverdue() external view returns (bool);

    /// @notice Whether the rollup is frozen: no batch accepted for `freezePeriod`, a forced
    ///         withdrawal left unprocessed past its deadline, or a deposit covered by a
    ///         deposit-inclusion request left unconsumed past its deadline. Once frozen, always
    ///         frozen.
    function frozen() external view returns (bool);

    /// @notice The signing domain of L2 signatures: chain id << 160 | this contract's address.
    function domain() external view returns (uint256);
}
