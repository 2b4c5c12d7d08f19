// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {L2Codec} from "../libraries/L2Codec.sol";
import {SparseMerkle} from "../libraries/SparseMerkle.sol";
import {RollupTypes} from "./RollupTypes.sol";

/// @title CommitmentExecutor
/// @notice On-chain re-execution of one v2 commitment from its pre-state root with Merkle
///         witnesses: the state-transition function without signatures (those are the signature
///         dispute's, SignatureDispute).
/// @dev Mirrors offchain/rollup/execute.py step for step. Sections run in order: deposits,
///      transfers, withdraws, forced slots, then the fee credit. Witnesses are consumed in access
///      order, 828 bytes each: account(60) | siblings(24 x 32) against the root at that moment.
///      Evidence that does not match (a witness off the current root, a missing witness) reverts:
///      it proves nothing. An invalid transfer or withdraw ends execution with its fault. A forced
///      slot runs the next forced-queue entry: valid iff its account's owner is the entry's L1
///      sender and the balance/recipient/token rules pass; applied without nonce change or fee,
///      else skipped (state untouched); the slot's outcome byte must say which.
///      Undecodable values (amount above 2^128 - 1, outcome byte not 0/1) are MALFORMED before
///      any leaf is read (decoding), so such a proof carries no witness.
library CommitmentExecutor {
    using L2Codec for bytes;

    uint256 internal constant WITNESS_BYTES = L2Codec.LEAF_BYTES + SparseMerkle.PATH_BYTES;
    uint256 internal constant MAX_BALANCE = type(uint128).max;
    uint256 internal constant MAX_NONCE = type(uint32).max;

    /// @notice A witness is missing: the evidence ended before the execution did.
    error MissingWitness(uint256 accessNumber);
    /// @notice The evidence carries witness bytes the execution did not read (from `used` on).
    error UnusedWitness(uint256 used, uint256 length);
    /// @notice A witness does not prove its leaf against the current root.
    error BadWitness(uint256 accessNumber, uint256 accountIndex);
    /// @notice A witness for the empty leaf carries non-zero fields.
    error NonCanonicalEmptyLeaf(uint256 accessNumber);

    /// @dev Execution context kept in memory (avoids stack-too-deep).
    struct Ctx {
        bytes32 root;
        uint256 wOff;
        uint256 accesses;
        address feeToken;
        uint256 feeTotal;
        uint256 consumed;
        uint256 forcedConsumed;
    }

    /// @dev A transfer or withdraw decoded into memory (`to` unused for a withdraw).
    struct Tx {
        uint256 from;
        uint256 to;
        uint256 amount;
        uint256 fee;
        bool forced;
        address l1Sender;
    }

    /// @notice Re-execute `p.rest` from `preRoot`, consuming exactly `p.deposits` and `p.forced`.
    /// @return fault NONE if every tx is valid, else the first fault found.
    /// @return txIndex The failing slot in execution order (type(uint256).max for
    ///         commitment-level results).
    /// @return root The root reached (the full post-state root when fault is NONE).
    /// @dev Uses p.rest, p.deposits, p.forced and p.witnesses (the caller checked the rest; rest
    ///      is well framed because its hash is a posted commitment's).
    function execute(bytes32 preRoot, RollupTypes.FraudProof calldata p)
        internal
        pure
        returns (RollupTypes.Fault fault, uint256 txIndex, bytes32 root)
    {
        Ctx memory c;
        c.root = preRoot;
        L2Codec.Layout memory h = L2Codec.layout(p.rest, 0);
        txIndex = L2Codec.firstMalformed(p.rest, h);
        if (txIndex != type(uint256).max) {
            fault = RollupTypes.Fault.MALFORMED;
        } else {
            (fault, txIndex) = _run(c, h, p);
        }
        if (fault == RollupTypes.Fault.NONE) {
            txIndex = type(uint256).max;
            // INVARIANT: a commitment consumes exactly its declared deposit range, in queue order.
            if (c.consumed != p.deposits.length) fault = RollupTypes.Fault.DEPOSIT_MISMATCH;
            // INVARIANT: a commitment consumes exactly its declared forced range, in queue order.
            else if (c.forcedConsumed != p.forced.length) fault = RollupTypes.Fault.FORCED_MISMATCH;
            else fault = _creditFees(c, p.witnesses, h.feeAccount);
        }
        // INVARIANT: a proof carries exactly the witnesses its execution reads, so it has one
        // encoding and padding cannot change the proof hash a fraud commitment binds.
        if (c.wOff != p.witnesses.length) revert UnusedWitness(c.wOff, p.witnesses.length);
        return (fault, txIndex, c.root);
    }

    /// @dev The four sections in order; returns the first fault and its slot.
    function _run(Ctx memory c, L2Codec.Layout memory h, RollupTypes.FraudProof calldata p)
        private
        pure
        returns (RollupTypes.Fault fault, uint256 slot)
    {
        bytes calldata rest = p.rest;
        bytes calldata w = p.witnesses;
        // Bounded: the four counts sum to at most MAX_TXS (checked at posting).
        for (uint256 i = 0; i < h.nDeposits; ++i) {
            fault = _deposit(c, rest.depositAt(h.deposits + i * L2Codec.DEPOSIT_LEN), p.deposits, w);
            if (fault != RollupTypes.Fault.NONE) return (fault, slot);
            ++slot;
        }
        Tx memory t;
        for (uint256 i = 0; i < h.nTransfers; ++i) {
            (t.from, t.to, t.amount, t.fee) = rest.transferAt(h.transfers + i * L2Codec.TRANSFER_LEN);
            fault = _transfer(c, t, w);
            if (fault != RollupTypes.Fault.NONE) return (fault, slot);
            ++slot;
        }
        for (uint256 i = 0; i < h.nWithdraws; ++i) {
            (t.from, t.amount, t.fee) = rest.withdrawAt(h.withdraws + i * L2Codec.WITHDRAW_LEN);
            fault = _withdraw(c, t, w);
            if (fault != RollupTypes.Fault.NONE) return (fault, slot);
            ++slot;
        }
        for (uint256 i = 0; i < h.nForced; ++i) {
            fault = _forced(c, rest.outcomeAt(h.forced + i), p.forced, w);
            if (fault != RollupTypes.Fault.NONE) return (fault, slot);
            ++slot;
        }
        return (RollupTypes.Fault.NONE, type(uint256).max);
    }

    function _creditFees(Ctx memory c, bytes calldata witnesses, uint256 feeAccount)
        private
        pure
        returns (RollupTypes.Fault)
    {
        if (c.feeTotal != 0) {
            (L2Codec.Account memory a, uint256 sib) = _access(c, witnesses, feeAccount);
            if (a.owner == address(0)) return RollupTypes.Fault.NO_ACCOUNT;
            if (a.token != c.feeToken) return RollupTypes.Fault.TOKEN_MISMATCH;
            if (a.balance + c.feeTotal > MAX_BALANCE) return RollupTypes.Fault.BALANCE_OVERFLOW;
            a.balance += c.feeTotal;
            _put(c, witnesses, sib, feeAccount, a);
        }
        return RollupTypes.Fault.NONE;
    }

    function _deposit(Ctx memory c, uint256 index, RollupTypes.Deposit[] calldata deposits, bytes calldata witnesses)
        private
        pure
        returns (RollupTypes.Fault)
    {
        if (c.consumed == deposits.length) return RollupTypes.Fault.DEPOSIT_MISMATCH;
        RollupTypes.Deposit calldata d = deposits[c.consumed];
        ++c.consumed;
        (L2Codec.Account memory a, uint256 sib) = _access(c, witnesses, index);
        if (a.owner == address(0)) {
            a.owner = d.owner;
            a.token = d.token;
            a.balance = d.amount;
        } else if (a.owner != d.owner || a.token != d.token) {
            return RollupTypes.Fault.TOKEN_MISMATCH;
        } else if (a.balance + d.amount > MAX_BALANCE) {
            return RollupTypes.Fault.BALANCE_OVERFLOW;
        } else {
            a.balance += d.amount;
        }
        _put(c, witnesses, sib, index, a);
        return RollupTypes.Fault.NONE;
    }

    /// @dev Run the next forced-queue entry; skip it (restore the root) if invalid. The slot's
    ///      outcome byte (already checked to be 0 or 1) must state what happened.
    function _forced(Ctx memory c, uint256 outcome, RollupTypes.ForcedTx[] calldata forced, bytes calldata witnesses)
        private
        pure
        returns (RollupTypes.Fault)
    {
        if (c.forcedConsumed == forced.length) return RollupTypes.Fault.FORCED_MISMATCH;
        RollupTypes.ForcedTx calldata f = forced[c.forcedConsumed];
        ++c.forcedConsumed;
        bytes32 before = c.root;
        Tx memory t;
        t.forced = true;
        t.l1Sender = f.sender;
        bytes calldata l2tx = f.l2tx;
        RollupTypes.Fault result;
        // `l2tx` matched the forced accumulator, so it is 0x02 ‖ transfer or 0x03 ‖ withdraw.
        if (uint8(l2tx.word(0) >> 248) == L2Codec.TX_TRANSFER) {
            (t.from, t.to, t.amount, t.fee) = l2tx.transferAt(1);
            result = _transfer(c, t, witnesses);
        } else {
            (t.from, t.amount, t.fee) = l2tx.withdrawAt(1);
            result = _withdraw(c, t, witnesses);
        }
        bool applied = result == RollupTypes.Fault.NONE;
        // INVARIANT: an invalid forced tx is skipped: it changes nothing (fees are never charged).
        if (!applied) c.root = before;
        if (applied != (outcome == 1)) return RollupTypes.Fault.FORCED_OUTCOME;
        return RollupTypes.Fault.NONE;
    }

    function _transfer(Ctx memory c, Tx memory t, bytes calldata witnesses) private pure returns (RollupTypes.Fault fault) {
        address token;
        {
            (L2Codec.Account memory a, uint256 sib) = _access(c, witnesses, t.from);
            fault = _debit(c, a, t);
            if (fault != RollupTypes.Fault.NONE) return fault;
            _put(c, witnesses, sib, t.from, a);
            token = a.token;
        }
        (L2Codec.Account memory b, uint256 sibB) = _access(c, witnesses, t.to);
        // INVARIANT: value only moves between existing accounts of the same token.
        if (b.owner == address(0)) return RollupTypes.Fault.NO_ACCOUNT;
        if (b.token != token) return RollupTypes.Fault.TOKEN_MISMATCH;
        if (b.balance + t.amount > MAX_BALANCE) return RollupTypes.Fault.BALANCE_OVERFLOW;
        b.balance += t.amount;
        _put(c, witnesses, sibB, t.to, b);
        return RollupTypes.Fault.NONE;
    }

    function _withdraw(Ctx memory c, Tx memory t, bytes calldata witnesses) private pure returns (RollupTypes.Fault fault) {
        if (t.amount == 0) return RollupTypes.Fault.ZERO_WITHDRAW;
        (L2Codec.Account memory a, uint256 sib) = _access(c, witnesses, t.from);
        fault = _debit(c, a, t);
        if (fault != RollupTypes.Fault.NONE) return fault;
        _put(c, witnesses, sib, t.from, a);
        return RollupTypes.Fault.NONE;
    }

    /// @dev The sender's checks, order as execute.py `_debit`: account exists; a forced tx's
    ///      account is owned by its L1 sender; balance; nonce room (signed txs only); fee token;
    ///      then debits `a` in memory. A signed tx pays its fee and bumps the nonce; a forced tx
    ///      does neither. Signatures are not checked here (the signature dispute's job).
    function _debit(Ctx memory c, L2Codec.Account memory a, Tx memory t) private pure returns (RollupTypes.Fault) {
        if (a.owner == address(0)) return RollupTypes.Fault.NO_ACCOUNT;
        // INVARIANT: a forced tx debits only an account owned by the L1 address that queued it.
        if (t.forced && a.owner != t.l1Sender) return RollupTypes.Fault.BAD_SIGNATURE;
        uint256 amount = t.amount;
        uint256 fee = t.forced ? 0 : t.fee;
        // INVARIANT: no account spends more than it holds.
        if (amount + fee > a.balance) return RollupTypes.Fault.OVERSPEND;
        if (!t.forced) {
            if (a.nonce == MAX_NONCE) return RollupTypes.Fault.NONCE_EXHAUSTED;
            if (fee != 0) {
                if (c.feeToken == address(0) && c.feeTotal == 0) {
                    c.feeToken = a.token;
                } else if (c.feeToken != a.token) {
                    return RollupTypes.Fault.TOKEN_MISMATCH;
                }
                c.feeTotal += fee;
            }
            a.nonce += 1;
        }
        a.balance -= amount + fee;
        return RollupTypes.Fault.NONE;
    }

    /// @dev Read the next witness, check it against the current root, return the account and the
    ///      offset of its siblings (reused by `_put`).
    function _access(Ctx memory c, bytes calldata w, uint256 index)
        private
        pure
        returns (L2Codec.Account memory a, uint256 sibOffset)
    {
        uint256 off = c.wOff;
        uint256 n = c.accesses;
        if (off + WITNESS_BYTES > w.length) revert MissingWitness(n);
        a = L2Codec.readAccount(w, off);
        if (!L2Codec.isCanonical(a)) revert NonCanonicalEmptyLeaf(n);
        sibOffset = off + L2Codec.LEAF_BYTES;
        if (SparseMerkle.rootFrom(index, L2Codec.leafHash(a), w, sibOffset) != c.root) revert BadWitness(n, index);
        c.wOff = off + WITNESS_BYTES;
        c.accesses = n + 1;
    }

    /// @dev Write `a` at `index` using the siblings of its last access.
    function _put(Ctx memory c, bytes calldata w, uint256 sibOffset, uint256 index, L2Codec.Account memory a)
        private
        pure
    {
        c.root = SparseMerkle.rootFrom(index, L2Codec.leafHash(a), w, sibOffset);
    }
}
