// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {BLS} from "../libraries/BLS.sol";
import {G1Compressed} from "../libraries/G1Compressed.sol";
import {L2Codec} from "../libraries/L2Codec.sol";
import {SparseMerkle} from "../libraries/SparseMerkle.sol";
import {BLSKeyRegistry} from "./BLSKeyRegistry.sol";
import {RollupTypes} from "./RollupTypes.sol";

/// @title SignatureDispute
/// @notice The verdict of the signature dispute (rollup format v2, issue 11): whether a
///         commitment's aggregate BLS signature fails to cover its transfers and withdraws under
///         the keys its senders' owners had registered at the batch's posting block. Created by
///         the Rollup (its own contract so the Rollup stays under the code-size limit); the Rollup
///         checks the batch and the commitment hash, this contract everything after.
/// @dev Evidence: one SignerEvidence per distinct sender, in order of first appearance, with the
///      account leaf against the commitment's postRoot (owners never change, and the post-state
///      holds accounts created by this commitment's deposits). Nonce rule: in a valid transition
///      signed txs are a sender's only nonce changes, so its k-th-from-last signed tx of the
///      commitment was signed with nonce postNonce - k. Checks, in this order (the first fault is
///      the verdict): per signer in order: an empty account → NO_ACCOUNT, postNonce below its
///      number of signed txs → BAD_SIGNATURE, no key at the posting block → NO_KEY; then
///      signature bytes that do not decompress to a G1 point → BAD_SIGNATURE; then an amount
///      above 2^128 - 1 (it cannot be signed) → MALFORMED; then the aggregate (a point outside
///      the subgroup included) → BAD_SIGNATURE or NONE. Every
///      piece of evidence is checked whatever the verdict (so an accepted proof has one encoding):
///      the signer list, every leaf, and every key (all zero when the account is empty or has no
///      key, else the registered one).
contract SignatureDispute {
    /// @notice The signing tag's prefix (docs/bls.md §3.2); chain id and rollup address follow.
    bytes internal constant DST_PREFIX = "L2KIT-V2-BLS_SIG_BLS12381G1_XMD:SHA-256_SSWU_RO_NUL_";

    /// @notice The rollup whose address the signing tag binds (the creator).
    address public immutable rollup;
    /// @notice Where signers' keys are registered.
    BLSKeyRegistry public immutable registry;

    /// @notice The signer list is not one entry per distinct sender (`expected` of them).
    error BadSigners(uint256 expected, uint256 given);
    /// @notice A signer's leaf does not prove against the commitment's postRoot.
    error BadAccountProof();
    /// @notice The key passed for `owner` is not the one it had at `blockNumber` (or not zero
    ///         when it had none).
    error KeyMismatch(address owner, uint256 blockNumber);

    /// @dev What the checks learn about one signer.
    struct Signer {
        uint256 index;
        address owner;
        uint256 postNonce;
        uint256 txs;
        uint256 used;
        bool hasKey;
    }

    /// @param registry_ The BLS key registry.
    constructor(BLSKeyRegistry registry_) {
        rollup = msg.sender;
        registry = registry_;
    }

    /// @notice The tag every signature of this rollup is made under: prefix ‖ chainId(32) ‖ rollup(20).
    /// @return The 103-byte tag.
    function signingDst() public view returns (bytes memory) {
        return abi.encodePacked(DST_PREFIX, block.chainid, rollup);
    }

    /// @notice The fault of a commitment's signatures (NONE: they verify, or it has no signed tx).
    ///         The Rollup has checked p's batch and commitment fields and forwards its calldata.
    /// @param p The proof (rest: the commitment's bytes after postRoot, well framed since its
    ///        hash was posted; signers: one evidence per distinct sender, in order of first
    ///        appearance).
    /// @param postedBlock The batch's posting block (keys valid then).
    /// @return fault The verdict.
    function verdict(RollupTypes.SignatureProof calldata p, uint256 postedBlock)
        external
        view
        returns (RollupTypes.Fault fault)
    {
        return _verdict(p.rest, p.postRoot, p.signers, postedBlock, p.signatureHint);
    }

    function _verdict(
        bytes calldata rest,
        bytes32 postRoot,
        RollupTypes.SignerEvidence[] calldata signers,
        uint256 postedBlock,
        uint256[2] calldata hint
    ) private view returns (RollupTypes.Fault fault) {
        L2Codec.Layout memory h = L2Codec.layout(rest, 0);
        (Signer[] memory s, uint256[] memory txSigner) = _senders(rest, h);
        if (signers.length != s.length) revert BadSigners(s.length, signers.length);
        // Bounded: at most MAX_TXS signers.
        BLS.G2Point[] memory signerKeys = _g2Array(s.length);
        for (uint256 j = 0; j < s.length; j = _inc(j)) {
            RollupTypes.Fault f;
            (f, signerKeys[j]) = _checkSigner(s[j], signers[j], postRoot, postedBlock);
            if (fault == RollupTypes.Fault.NONE) fault = f;
        }
        // The hint is checked whatever the verdict (G1BadHint reverts), so a proof has one
        // encoding; a wrong hint never changes what the signature bytes decompress to. A
        // commitment without signed txs has no signature: its hint is zero.
        if (txSigner.length == 0) {
            if (hint[0] | hint[1] != 0) revert G1Compressed.G1BadHint(hint[0], hint[1]);
            return fault;
        }
        (bool ok, BLS.G1Point memory sig) = G1Compressed.decompress(
            rest[L2Codec.REST_HEADER_LEN:L2Codec.REST_HEADER_LEN + L2Codec.SIGNATURE_LEN], hint[0], hint[1]
        );
        if (fault != RollupTypes.Fault.NONE) return fault;
        // INVARIANT: a signature that is not a compressed G1 point signs nothing.
        if (!ok) return RollupTypes.Fault.BAD_SIGNATURE;
        return _aggregateFault(rest, h, s, txSigner, signerKeys, sig);
    }

    /// @dev BAD_SIGNATURE unless the decompressed signature is a G1 subgroup point that
    ///      verifies as the aggregate of the commitment's messages under the signers' keys.
    function _aggregateFault(
        bytes calldata rest,
        L2Codec.Layout memory h,
        Signer[] memory s,
        uint256[] memory txSigner,
        BLS.G2Point[] memory signerKeys,
        BLS.G1Point memory sig
    ) private view returns (RollupTypes.Fault) {
        (bytes[] memory messages, BLS.G2Point[] memory keys) = _messages(rest, h, s, txSigner, signerKeys);
        // An amount above 2^128 - 1 cannot be signed: the commitment is undecodable.
        if (messages.length == 0) return RollupTypes.Fault.MALFORMED;
        // INVARIANT: a commitment stands only if its aggregate covers every signed tx under the
        // keys its senders' owners had at posting. verifyAggregate checks the signature is in
        // the subgroup (BLS.isValidG1) first and is false when it is not.
        if (!BLS.verifyAggregate(messages, keys, sig, signingDst())) return RollupTypes.Fault.BAD_SIGNATURE;
        return RollupTypes.Fault.NONE;
    }

    /// @dev The distinct senders of the signed txs in order of first appearance, with their tx
    ///      counts, and for each signed tx (transfers, then withdraws) its signer's position.
    function _senders(bytes calldata rest, L2Codec.Layout memory h)
        private
        pure
        returns (Signer[] memory s, uint256[] memory txSigner)
    {
        uint256 n = h.nTransfers + h.nWithdraws;
        txSigner = new uint256[](n);
        // (loop arithmetic below is bounded by n <= 32)
        Signer[] memory all;
        assembly ("memory-safe") {
            // An array of n pointers, filled below (new Signer[](n) would build n zero structs).
            all := mload(0x40)
            mstore(all, n)
            mstore(0x40, add(all, shl(5, add(n, 1))))
        }
        uint256[] memory table = new uint256[](64);
        uint256 distinct = 0;
        // Bounded: n <= MAX_TXS, so at most 32 * 32 comparisons.
        for (uint256 i = 0; i < n; i = _inc(i)) {
            uint256 from = _from(rest, h, i);
            uint256 j = _position(table, distinct, from);
            if (j == distinct) {
                all[j] = Signer(from, address(0), 0, 0, 0, false);
                ++distinct;
            }
            all[j].txs = _inc(all[j].txs);
            txSigner[i] = j;
        }
        assembly ("memory-safe") {
            mstore(all, distinct)
        }
        s = all;
    }

    /// @dev An array of n G2Point pointers, each to be assigned before use (new G2Point[](n)
    ///      would allocate and zero n structs).
    function _g2Array(uint256 n) private pure returns (BLS.G2Point[] memory a) {
        assembly ("memory-safe") {
            a := mload(0x40)
            mstore(a, n)
            mstore(0x40, add(a, shl(5, add(n, 1))))
        }
    }

    /// @dev keccak256 of the key's 256-byte encoding (BLSKeyRegistry.hashKey; a G2Point in
    ///      memory is its eight words back to back).
    function _hashKey(BLS.G2Point memory key) private pure returns (bytes32 h) {
        assembly ("memory-safe") {
            h := keccak256(key, 256)
        }
    }

    /// @dev i + 1 without the overflow check (loop counters below 64).
    function _inc(uint256 i) private pure returns (uint256) {
        unchecked {
            return i + 1;
        }
    }

    /// @dev The position of `value` (< 2^24) in the open-addressing table `table` (64 words,
    ///      each 0 or (value + 1) << 8 | position), inserting it at position `n` when absent;
    ///      returns n for a new value. Linear probing: at most 32 probes (32 entries at most).
    function _position(uint256[] memory table, uint256 n, uint256 value) private pure returns (uint256 j) {
        assembly ("memory-safe") {
            let base := add(table, 32)
            let key := shl(8, add(value, 1))
            let slot := and(shr(7, mul(value, 0x9E3779B1)), 63)
            j := n
            for {} 1 {} {
                let at := add(base, shl(5, slot))
                let entry := mload(at)
                if iszero(entry) {
                    mstore(at, or(key, n))
                    break
                }
                if eq(and(entry, not(0xff)), key) {
                    j := and(entry, 0xff)
                    break
                }
                slot := and(add(slot, 1), 63)
            }
        }
    }

    /// @dev Sender of signed tx `i` (transfers first, then withdraws).
    function _from(bytes calldata rest, L2Codec.Layout memory h, uint256 i) private pure returns (uint256) {
        unchecked {
            return L2Codec.senderAt(
                rest,
                i < h.nTransfers
                    ? h.transfers + i * L2Codec.TRANSFER_LEN
                    : h.withdraws + (i - h.nTransfers) * L2Codec.WITHDRAW_LEN
            );
        }
    }

    /// @dev Check one signer's evidence (reverts when it is wrong) and return its own fault.
    function _checkSigner(
        Signer memory s,
        RollupTypes.SignerEvidence calldata e,
        bytes32 postRoot,
        uint256 postedBlock
    ) private view returns (RollupTypes.Fault fault, BLS.G2Point memory keyOut) {
        bytes calldata account = e.account;
        bytes32[] calldata siblings = e.siblings;
        if (account.length != L2Codec.LEAF_BYTES || siblings.length != SparseMerkle.DEPTH) revert BadAccountProof();
        L2Codec.Account memory a = L2Codec.readAccount(account, 0);
        bytes calldata path;
        assembly ("memory-safe") {
            path.offset := siblings.offset
            path.length := shl(5, siblings.length)
        }
        if (!L2Codec.isCanonical(a) || _root(s.index, L2Codec.leafHash(a), path) != postRoot) {
            revert BadAccountProof();
        }
        s.owner = a.owner;
        s.postNonce = a.nonce;
        bytes32 keyHash = a.owner == address(0) ? bytes32(0) : _keyHashAt(a.owner, postedBlock);
        BLS.G2Point memory key = e.key;
        // INVARIANT: the key is fixed by the registry: the registered one, or zero when none is used.
        if (keyHash == 0 ? !BLS.isInfinityG2(key) : _hashKey(key) != keyHash) {
            revert KeyMismatch(a.owner, postedBlock);
        }
        s.hasKey = keyHash != 0;
        keyOut = key;
        if (a.owner == address(0)) fault = RollupTypes.Fault.NO_ACCOUNT;
        else if (a.nonce < s.txs) fault = RollupTypes.Fault.BAD_SIGNATURE;
        else if (keyHash == 0) fault = RollupTypes.Fault.NO_KEY;
    }

    /// @dev SparseMerkle.rootFrom unrolled and without branches (the running hash goes right when
    ///      the index bit is set); 24 levels, the caller checked the 24 siblings are there.
    function _root(uint256 index, bytes32 leaf, bytes calldata siblings) private pure returns (bytes32 h) {
        assembly ("memory-safe") {
            h := leaf
            let p := siblings.offset
            let r := 0
            r := shl(5, and(shr(0, index), 1))
            mstore(r, h)
            mstore(xor(r, 32), calldataload(add(p, 0)))
            h := keccak256(0, 64)
            r := shl(5, and(shr(1, index), 1))
            mstore(r, h)
            mstore(xor(r, 32), calldataload(add(p, 32)))
            h := keccak256(0, 64)
            r := shl(5, and(shr(2, index), 1))
            mstore(r, h)
            mstore(xor(r, 32), calldataload(add(p, 64)))
            h := keccak256(0, 64)
            r := shl(5, and(shr(3, index), 1))
            mstore(r, h)
            mstore(xor(r, 32), calldataload(add(p, 96)))
            h := keccak256(0, 64)
            r := shl(5, and(shr(4, index), 1))
            mstore(r, h)
            mstore(xor(r, 32), calldataload(add(p, 128)))
            h := keccak256(0, 64)
            r := shl(5, and(shr(5, index), 1))
            mstore(r, h)
            mstore(xor(r, 32), calldataload(add(p, 160)))
            h := keccak256(0, 64)
            r := shl(5, and(shr(6, index), 1))
            mstore(r, h)
            mstore(xor(r, 32), calldataload(add(p, 192)))
            h := keccak256(0, 64)
            r := shl(5, and(shr(7, index), 1))
            mstore(r, h)
            mstore(xor(r, 32), calldataload(add(p, 224)))
            h := keccak256(0, 64)
            r := shl(5, and(shr(8, index), 1))
            mstore(r, h)
            mstore(xor(r, 32), calldataload(add(p, 256)))
            h := keccak256(0, 64)
            r := shl(5, and(shr(9, index), 1))
            mstore(r, h)
            mstore(xor(r, 32), calldataload(add(p, 288)))
            h := keccak256(0, 64)
            r := shl(5, and(shr(10, index), 1))
            mstore(r, h)
            mstore(xor(r, 32), calldataload(add(p, 320)))
            h := keccak256(0, 64)
            r := shl(5, and(shr(11, index), 1))
            mstore(r, h)
            mstore(xor(r, 32), calldataload(add(p, 352)))
            h := keccak256(0, 64)
            r := shl(5, and(shr(12, index), 1))
            mstore(r, h)
            mstore(xor(r, 32), calldataload(add(p, 384)))
            h := keccak256(0, 64)
            r := shl(5, and(shr(13, index), 1))
            mstore(r, h)
            mstore(xor(r, 32), calldataload(add(p, 416)))
            h := keccak256(0, 64)
            r := shl(5, and(shr(14, index), 1))
            mstore(r, h)
            mstore(xor(r, 32), calldataload(add(p, 448)))
            h := keccak256(0, 64)
            r := shl(5, and(shr(15, index), 1))
            mstore(r, h)
            mstore(xor(r, 32), calldataload(add(p, 480)))
            h := keccak256(0, 64)
            r := shl(5, and(shr(16, index), 1))
            mstore(r, h)
            mstore(xor(r, 32), calldataload(add(p, 512)))
            h := keccak256(0, 64)
            r := shl(5, and(shr(17, index), 1))
            mstore(r, h)
            mstore(xor(r, 32), calldataload(add(p, 544)))
            h := keccak256(0, 64)
            r := shl(5, and(shr(18, index), 1))
            mstore(r, h)
            mstore(xor(r, 32), calldataload(add(p, 576)))
            h := keccak256(0, 64)
            r := shl(5, and(shr(19, index), 1))
            mstore(r, h)
            mstore(xor(r, 32), calldataload(add(p, 608)))
            h := keccak256(0, 64)
            r := shl(5, and(shr(20, index), 1))
            mstore(r, h)
            mstore(xor(r, 32), calldataload(add(p, 640)))
            h := keccak256(0, 64)
            r := shl(5, and(shr(21, index), 1))
            mstore(r, h)
            mstore(xor(r, 32), calldataload(add(p, 672)))
            h := keccak256(0, 64)
            r := shl(5, and(shr(22, index), 1))
            mstore(r, h)
            mstore(xor(r, 32), calldataload(add(p, 704)))
            h := keccak256(0, 64)
            r := shl(5, and(shr(23, index), 1))
            mstore(r, h)
            mstore(xor(r, 32), calldataload(add(p, 736)))
            h := keccak256(0, 64)
        }
    }

    /// @dev registry.keyHashAt, with its NoKeyAt revert read as zero (any other failure, such as
    ///      running out of gas, reverts: it must never read as a missing key).
    function _keyHashAt(address owner, uint256 blockNumber) private view returns (bytes32 keyHash) {
        address target = address(registry);
        bytes4 selector = BLSKeyRegistry.keyHashAt.selector;
        bytes4 noKey = BLSKeyRegistry.NoKeyAt.selector;
        assembly ("memory-safe") {
            let m := mload(0x40)
            mstore(m, selector)
            mstore(add(m, 4), owner)
            mstore(add(m, 36), blockNumber)
            let ok := staticcall(gas(), target, m, 68, 0, 0)
            let size := returndatasize()
            returndatacopy(m, 0, size)
            switch ok
            case 1 {
                if iszero(eq(size, 32)) { revert(0, 0) }
                keyHash := mload(m)
            }
            default {
                // Only the registry's own NoKeyAt(owner, block) means "no key".
                if iszero(and(eq(size, 68), eq(and(mload(m), shl(224, 0xffffffff)), noKey))) { revert(m, size) }
            }
        }
    }

    /// @dev The signed messages (offchain.bls.signing_message layout) and a key per message.
    function _messages(
        bytes calldata rest,
        L2Codec.Layout memory h,
        Signer[] memory s,
        uint256[] memory txSigner,
        BLS.G2Point[] memory signerKeys
    ) private pure returns (bytes[] memory messages, BLS.G2Point[] memory keys) {
        uint256 n = txSigner.length;
        messages = new bytes[](n);
        keys = _g2Array(n);
        for (uint256 i = 0; i < n; i = _inc(i)) {
            Signer memory signer = s[txSigner[i]];
            // The nonce rule: the sender's k-th-from-last signed tx used postNonce - k (postNonce
            // >= its tx count, checked before messages are built, so no underflow).
            uint32 nonce;
            unchecked {
                nonce = uint32(signer.postNonce - signer.txs + signer.used);
                ++signer.used;
            }
            bytes memory message = _message(rest, h, i, nonce);
            if (message.length == 0) return (new bytes[](0), keys);
            messages[i] = message;
            keys[i] = signerKeys[txSigner[i]];
        }
    }

    /// @dev Signed tx `i`'s message: sender(4) ‖ nonce(4) ‖ 0x02 ‖ to(4) ‖ amount(16) ‖ fee(16)
    ///      for a transfer, sender(4) ‖ nonce(4) ‖ 0x03 ‖ amount(16) ‖ fee(16) for a withdraw.
    ///      Amounts fit 16 bytes: an undecodable one is MALFORMED before messages are built.
    function _message(bytes calldata rest, L2Codec.Layout memory h, uint256 i, uint32 nonce)
        private
        pure
        returns (bytes memory m)
    {
        // Fields are written right to left with word stores, each ending where its field ends
        // (a store clobbers only bytes to the left of its field, written afterwards).
        if (i < h.nTransfers) {
            (uint256 from, uint256 to, uint256 amount, uint256 fee) =
                L2Codec.transferAt(rest, h.transfers + i * L2Codec.TRANSFER_LEN);
            if (amount > L2Codec.MAX_AMOUNT) return m;
            assembly ("memory-safe") {
                m := mload(0x40)
                let d := add(m, 32)
                mstore(add(d, 13), fee) // fee: bytes 29..44
                mstore(sub(d, 3), amount) // amount: bytes 13..28
                mstore(sub(d, 19), to) // to: bytes 9..12
                mstore8(add(d, 8), 0x02)
                mstore(sub(d, 24), nonce) // nonce: bytes 4..7
                mstore(sub(d, 28), from) // from: bytes 0..3
                mstore(m, 45)
                mstore(0x40, add(d, 64))
            }
            return m;
        }
        (uint256 wFrom, uint256 wAmount, uint256 wFee) =
            L2Codec.withdrawAt(rest, h.withdraws + (i - h.nTransfers) * L2Codec.WITHDRAW_LEN);
        if (wAmount > L2Codec.MAX_AMOUNT) return m;
        assembly ("memory-safe") {
            m := mload(0x40)
            let d := add(m, 32)
            mstore(add(d, 9), wFee) // fee: bytes 25..40
            mstore(sub(d, 7), wAmount) // amount: bytes 9..24
            mstore8(add(d, 8), 0x03)
            mstore(sub(d, 24), nonce)
            mstore(sub(d, 28), wFrom)
            mstore(m, 41)
            mstore(0x40, add(d, 64))
        }
    }
}
