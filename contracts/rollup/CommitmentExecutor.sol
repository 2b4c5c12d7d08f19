// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";
import {MessageHashUtils} from "@openzeppelin/contracts/utils/cryptography/MessageHashUtils.sol";
import {L2Codec} from "../libraries/L2Codec.sol";
import {SparseMerkle} from "../libraries/SparseMerkle.sol";
import {RollupTypes} from "./RollupTypes.sol";

/// @title CommitmentExecutor
/// @notice On-chain re-execution of one commitment from its pre-state root with Merkle witnesses.
/// @dev Mirrors offchain/rollup/execute.py step for step: the same checks in the same order, the
///      same leaf accesses. Witnesses are consumed in access order, 828 bytes each:
///      account(60) | siblings(24 x 32) against the root at that moment. Evidence that does not
///      match (a witness off the current root, a missing witness) reverts: it proves nothing.
///      An invalid transaction ends execution with its fault: the commitment is fraudulent.
///      Exception: a forced slot (TX_FORCED) runs the next forced tx of the commitment's range; if
///      that tx is invalid it is skipped (state untouched) and the slot's outcome byte must say so.
///      Forced txs are never charged their fee (the operator cannot make one fail by fee rules).
library CommitmentExecutor {
    using L2Codec for bytes;

    uint256 internal constant WITNESS_BYTES = L2Codec.LEAF_BYTES + SparseMerkle.PATH_BYTES;
    uint256 internal constant MAX_BALANCE = type(uint128).max;
    uint256 internal constant MAX_NONCE = type(uint32).max;

    bytes32 internal constant TRANSFER_TYPEHASH =
        keccak256("Transfer(uint32 from,uint32 to,uint128 amount,uint128 fee,uint32 nonce)");
    bytes32 internal constant WITHDRAW_TYPEHASH =
        keccak256("Withdraw(uint32 from,uint128 amount,uint128 fee,uint32 nonce)");

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
        bytes32 separator;
        uint256 wOff;
        uint256 accesses;
        address feeToken;
        uint256 feeTotal;
        uint256 consumed;
        uint256 forcedConsumed;
    }

    /// @notice Re-execute `txs` from `preRoot`, consuming exactly `deposits` and `forced`.
    /// @return fault NONE if every tx is valid, else the first fault found.
    /// @return txIndex The failing tx (type(uint256).max for commitment-level results).
    /// @return root The root reached (the full post-state root when fault is NONE).
    /// @dev Uses p.txs, p.feeAccount, p.deposits, p.forced and p.witnesses (the caller checked the rest).
    function execute(bytes32 preRoot, bytes32 separator, RollupTypes.FraudProof calldata p)
        internal
        view
        returns (RollupTypes.Fault fault, uint256 txIndex, bytes32 root)
    {
        Ctx memory c;
        c.root = preRoot;
        c.separator = separator;
        (fault, txIndex) = _run(c, p.txs, p.deposits, p.forced, p.witnesses);
        if (fault == RollupTypes.Fault.NONE) {
            txIndex = type(uint256).max;
            // INVARIANT: a commitment consumes exactly its declared deposit range, in queue order.
            if (c.consumed != p.deposits.length) fault = RollupTypes.Fault.DEPOSIT_MISMATCH;
            // INVARIANT: a commitment consumes exactly its declared forced range, in queue order.
            else if (c.forcedConsumed != p.forced.length) fault = RollupTypes.Fault.FORCED_MISMATCH;
            else fault = _creditFees(c, p.witnesses, p.feeAccount);
        }
        // INVARIANT: a proof carries exactly the witnesses its execution reads, so it has one
        // encoding and padding cannot change the proof hash a fraud commitment binds.
        if (c.wOff != p.witnesses.length) revert UnusedWitness(c.wOff, p.witnesses.length);
        return (fault, txIndex, c.root);
    }

    function _run(
        Ctx memory c,
        bytes calldata txs,
        RollupTypes.Deposit[] calldata deposits,
        bytes[] calldata forced,
        bytes calldata witnesses
    ) private view returns (RollupTypes.Fault fault, uint256 count) {
        uint256 offset = 0;
        // Bounded: at most MAX_TXS iterations (the 33rd tx is a MALFORMED fault).
        while (offset < txs.length) {
            if (count == L2Codec.MAX_TXS) return (RollupTypes.Fault.MALFORMED, count);
            uint8 kind = uint8(txs.word(offset) >> 248);
            uint256 len = L2Codec.txLength(kind);
            if (len == 0 || offset + len > txs.length) return (RollupTypes.Fault.MALFORMED, count);
            if (kind == L2Codec.TX_DEPOSIT) {
                fault = _deposit(c, txs, offset, deposits, witnesses);
            } else if (kind == L2Codec.TX_TRANSFER) {
                fault = _transfer(c, txs, offset, witnesses, true);
            } else if (kind == L2Codec.TX_WITHDRAW) {
                fault = _withdraw(c, txs, offset, witnesses, true);
            } else {
                fault = _forced(c, txs, offset, forced, witnesses);
            }
            if (fault != RollupTypes.Fault.NONE) return (fault, count);
            offset += len;
            ++count;
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

    function _deposit(
        Ctx memory c,
        bytes calldata txs,
        uint256 offset,
        RollupTypes.Deposit[] calldata deposits,
        bytes calldata witnesses
    ) private pure returns (RollupTypes.Fault) {
        if (c.consumed == deposits.length) return RollupTypes.Fault.DEPOSIT_MISMATCH;
        RollupTypes.Deposit calldata d = deposits[c.consumed];
        ++c.consumed;
        uint256 index = (txs.word(offset) >> 224) & 0xffffff;
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

    /// @dev Run the next forced tx of the range; skip it (restore the root) if invalid. The slot's
    ///      outcome byte must state what happened (0x01 applied, 0x00 skipped).
    function _forced(
        Ctx memory c,
        bytes calldata txs,
        uint256 offset,
        bytes[] calldata forced,
        bytes calldata witnesses
    ) private view returns (RollupTypes.Fault) {
        uint256 outcome = (txs.word(offset) >> 240) & 0xff;
        if (outcome > 1) return RollupTypes.Fault.MALFORMED;
        if (c.forcedConsumed == forced.length) return RollupTypes.Fault.FORCED_MISMATCH;
        bytes calldata f = forced[c.forcedConsumed];
        ++c.forcedConsumed;
        bytes32 before = c.root;
        // `f` matched the forced accumulator, so it is a well-formed transfer or withdraw.
        RollupTypes.Fault result = uint8(f.word(0) >> 248) == L2Codec.TX_TRANSFER
            ? _transfer(c, f, 0, witnesses, false)
            : _withdraw(c, f, 0, witnesses, false);
        bool applied = result == RollupTypes.Fault.NONE;
        // INVARIANT: an invalid forced tx is skipped: it changes nothing (fees are never charged).
        if (!applied) c.root = before;
        if (applied != (outcome == 1)) return RollupTypes.Fault.FORCED_OUTCOME;
        return RollupTypes.Fault.NONE;
    }

    /// @dev A signed tx decoded into memory.
    struct SignedTx {
        uint256 from;
        uint256 to;
        uint256 amount;
        uint256 fee;
        bytes32 r;
        bytes32 vs;
        bool chargeFee;
    }

    function _transfer(Ctx memory c, bytes calldata txs, uint256 offset, bytes calldata witnesses, bool chargeFee)
        private
        view
        returns (RollupTypes.Fault fault)
    {
        SignedTx memory t;
        t.chargeFee = chargeFee;
        {
            uint256 w0 = txs.word(offset);
            t.from = (w0 >> 224) & 0xffffff;
            t.to = (w0 >> 200) & 0xffffff;
            t.amount = L2Codec.unpackFloat((w0 >> 160) & 0xffffffffff);
            t.fee = L2Codec.unpackFloat((w0 >> 144) & 0xffff);
            t.r = bytes32(txs.word(offset + 14));
            t.vs = bytes32(txs.word(offset + 46));
        }
        address token;
        {
            (L2Codec.Account memory a, uint256 sib) = _access(c, witnesses, t.from);
            if (a.owner == address(0)) return RollupTypes.Fault.NO_ACCOUNT;
            bytes32 digest = MessageHashUtils.toTypedDataHash(
                c.separator, keccak256(abi.encode(TRANSFER_TYPEHASH, t.from, t.to, t.amount, t.fee, a.nonce))
            );
            fault = _debit(c, a, digest, t);
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

    function _withdraw(Ctx memory c, bytes calldata txs, uint256 offset, bytes calldata witnesses, bool chargeFee)
        private
        view
        returns (RollupTypes.Fault fault)
    {
        SignedTx memory t;
        t.chargeFee = chargeFee;
        {
            uint256 w0 = txs.word(offset);
            t.from = (w0 >> 224) & 0xffffff;
            t.amount = L2Codec.unpackFloat((w0 >> 184) & 0xffffffffff);
            t.fee = L2Codec.unpackFloat((w0 >> 168) & 0xffff);
            t.r = bytes32(txs.word(offset + 11));
            t.vs = bytes32(txs.word(offset + 43));
        }
        if (t.amount == 0) return RollupTypes.Fault.ZERO_WITHDRAW;
        (L2Codec.Account memory a, uint256 sib) = _access(c, witnesses, t.from);
        if (a.owner == address(0)) return RollupTypes.Fault.NO_ACCOUNT;
        bytes32 digest = MessageHashUtils.toTypedDataHash(
            c.separator, keccak256(abi.encode(WITHDRAW_TYPEHASH, t.from, t.amount, t.fee, a.nonce))
        );
        fault = _debit(c, a, digest, t);
        if (fault != RollupTypes.Fault.NONE) return fault;
        _put(c, witnesses, sib, t.from, a);
        return RollupTypes.Fault.NONE;
    }

    /// @dev Checks signature (owner, current nonce, low s), balance, nonce room and fee token; then
    ///      debits `a` in memory. Order matches execute.py `_debit`. The signature always covers the
    ///      signed fee; a forced tx (chargeFee false) is debited without it.
    function _debit(
        Ctx memory c,
        L2Codec.Account memory a,
        bytes32 digest,
        SignedTx memory t
    ) private pure returns (RollupTypes.Fault) {
        uint256 amount = t.amount;
        uint256 fee = t.chargeFee ? t.fee : 0;
        // INVARIANT: only the owner's signature over this exact tx and the current nonce debits.
        (address signer, ECDSA.RecoverError err,) = ECDSA.tryRecover(digest, t.r, t.vs);
        if (err != ECDSA.RecoverError.NoError || signer != a.owner) return RollupTypes.Fault.BAD_SIGNATURE;
        // INVARIANT: no account spends more than it holds.
        if (amount + fee > a.balance) return RollupTypes.Fault.OVERSPEND;
        if (a.nonce == MAX_NONCE) return RollupTypes.Fault.NONCE_EXHAUSTED;
        if (fee != 0) {
            if (c.feeToken == address(0) && c.feeTotal == 0) {
                c.feeToken = a.token;
            } else if (c.feeToken != a.token) {
                return RollupTypes.Fault.TOKEN_MISMATCH;
            }
            c.feeTotal += fee;
        }
        a.balance -= amount + fee;
        a.nonce += 1;
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
        if (a.owner == address(0) && (a.token != address(0) || a.balance != 0 || a.nonce != 0)) {
            revert NonCanonicalEmptyLeaf(n);
        }
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
