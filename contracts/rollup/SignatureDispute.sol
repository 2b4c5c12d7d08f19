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
///      the verdict): an undecodable amount or outcome → MALFORMED; then per signer in order: an
///      empty account → NO_ACCOUNT, postNonce below its number of signed txs → BAD_SIGNATURE, no
///      key at the posting block → NO_KEY; then a signature that is not a valid compressed G1
///      subgroup point → BAD_SIGNATURE; then the aggregate itself → BAD_SIGNATURE or NONE. Every
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
    /// @param rest The commitment's bytes after postRoot (well framed: its hash was posted).
    /// @param postRoot The commitment's post-state root.
    /// @param signers One evidence per distinct sender, in order of first appearance.
    /// @param postedBlock The batch's posting block (keys valid then).
    /// @return fault The verdict.
    function verdict(
        bytes calldata rest,
        bytes32 postRoot,
        RollupTypes.SignerEvidence[] calldata signers,
        uint256 postedBlock
    ) external view returns (RollupTypes.Fault fault) {
        L2Codec.Layout memory h = L2Codec.layout(rest, 0);
        (Signer[] memory s, uint256[] memory txSigner) = _senders(rest, h);
        if (signers.length != s.length) revert BadSigners(s.length, signers.length);
        fault = L2Codec.firstMalformed(rest, h) == type(uint256).max
            ? RollupTypes.Fault.NONE
            : RollupTypes.Fault.MALFORMED;
        // Bounded: at most MAX_TXS signers.
        for (uint256 j = 0; j < s.length; ++j) {
            RollupTypes.Fault f = _checkSigner(s[j], signers[j], postRoot, postedBlock);
            if (fault == RollupTypes.Fault.NONE) fault = f;
        }
        if (fault != RollupTypes.Fault.NONE || txSigner.length == 0) return fault;
        return _aggregateFault(rest, h, s, txSigner, signers);
    }

    /// @dev BAD_SIGNATURE unless the posted signature decompresses to a G1 subgroup point that
    ///      verifies as the aggregate of the commitment's messages under the signers' keys.
    function _aggregateFault(
        bytes calldata rest,
        L2Codec.Layout memory h,
        Signer[] memory s,
        uint256[] memory txSigner,
        RollupTypes.SignerEvidence[] calldata signers
    ) private view returns (RollupTypes.Fault) {
        (bool ok, BLS.G1Point memory sig) = G1Compressed.decompress(
            rest[L2Codec.REST_HEADER_LEN:L2Codec.REST_HEADER_LEN + L2Codec.SIGNATURE_LEN]
        );
        // INVARIANT: a signature that is not a compressed G1 subgroup point signs nothing.
        if (!ok || !BLS.isValidG1(sig)) return RollupTypes.Fault.BAD_SIGNATURE;
        (bytes[] memory messages, BLS.G2Point[] memory keys) = _messages(rest, h, s, txSigner, signers);
        // INVARIANT: a commitment stands only if its aggregate covers every signed tx under the
        // keys its senders' owners had at posting.
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
        Signer[] memory all = new Signer[](n);
        uint256 distinct = 0;
        // Bounded: n <= MAX_TXS, so at most 32 * 32 comparisons.
        for (uint256 i = 0; i < n; ++i) {
            uint256 from = _from(rest, h, i);
            uint256 j = 0;
            while (j < distinct && all[j].index != from) ++j;
            if (j == distinct) {
                all[j].index = from;
                ++distinct;
            }
            ++all[j].txs;
            txSigner[i] = j;
        }
        assembly ("memory-safe") {
            mstore(all, distinct)
        }
        s = all;
    }

    /// @dev Sender of signed tx `i` (transfers first, then withdraws).
    function _from(bytes calldata rest, L2Codec.Layout memory h, uint256 i) private pure returns (uint256 from) {
        if (i < h.nTransfers) (from,,,) = L2Codec.transferAt(rest, h.transfers + i * L2Codec.TRANSFER_LEN);
        else (from,,) = L2Codec.withdrawAt(rest, h.withdraws + (i - h.nTransfers) * L2Codec.WITHDRAW_LEN);
    }

    /// @dev Check one signer's evidence (reverts when it is wrong) and return its own fault.
    function _checkSigner(
        Signer memory s,
        RollupTypes.SignerEvidence calldata e,
        bytes32 postRoot,
        uint256 postedBlock
    ) private view returns (RollupTypes.Fault) {
        bytes calldata account = e.account;
        bytes32[] calldata siblings = e.siblings;
        if (account.length != L2Codec.LEAF_BYTES || siblings.length != SparseMerkle.DEPTH) revert BadAccountProof();
        L2Codec.Account memory a = L2Codec.readAccount(account, 0);
        bytes calldata path;
        assembly ("memory-safe") {
            path.offset := siblings.offset
            path.length := shl(5, siblings.length)
        }
        if (!L2Codec.isCanonical(a) || SparseMerkle.rootFrom(s.index, L2Codec.leafHash(a), path, 0) != postRoot) {
            revert BadAccountProof();
        }
        s.owner = a.owner;
        s.postNonce = a.nonce;
        bytes32 keyHash = a.owner == address(0) ? bytes32(0) : _keyHashAt(a.owner, postedBlock);
        BLS.G2Point memory key = e.key;
        // INVARIANT: the key is fixed by the registry: the registered one, or zero when none is used.
        if (keyHash == 0 ? !BLS.isInfinityG2(key) : keccak256(abi.encode(key)) != keyHash) {
            revert KeyMismatch(a.owner, postedBlock);
        }
        s.hasKey = keyHash != 0;
        if (a.owner == address(0)) return RollupTypes.Fault.NO_ACCOUNT;
        if (a.nonce < s.txs) return RollupTypes.Fault.BAD_SIGNATURE;
        if (keyHash == 0) return RollupTypes.Fault.NO_KEY;
        return RollupTypes.Fault.NONE;
    }

    /// @dev registry.keyHashAt, with its NoKeyAt revert read as zero (any other failure, such as
    ///      running out of gas, reverts: it must never read as a missing key).
    function _keyHashAt(address owner, uint256 blockNumber) private view returns (bytes32 keyHash) {
        (bool ok, bytes memory ret) =
            address(registry).staticcall(abi.encodeCall(BLSKeyRegistry.keyHashAt, (owner, blockNumber)));
        if (ok && ret.length == 32) return abi.decode(ret, (bytes32));
        if (!ok && ret.length == 68 && bytes4(ret) == BLSKeyRegistry.NoKeyAt.selector) return bytes32(0);
        assembly ("memory-safe") {
            revert(add(ret, 32), mload(ret))
        }
    }

    /// @dev The signed messages (offchain.bls.signing_message layout) and a key per message.
    function _messages(
        bytes calldata rest,
        L2Codec.Layout memory h,
        Signer[] memory s,
        uint256[] memory txSigner,
        RollupTypes.SignerEvidence[] calldata signers
    ) private pure returns (bytes[] memory messages, BLS.G2Point[] memory keys) {
        uint256 n = txSigner.length;
        messages = new bytes[](n);
        keys = new BLS.G2Point[](n);
        for (uint256 i = 0; i < n; ++i) {
            Signer memory signer = s[txSigner[i]];
            // The nonce rule: the sender's k-th-from-last signed tx used postNonce - k.
            uint32 nonce = uint32(signer.postNonce - signer.txs + signer.used);
            ++signer.used;
            messages[i] = _message(rest, h, i, nonce);
            keys[i] = signers[txSigner[i]].key;
        }
    }

    /// @dev Signed tx `i`'s message: sender(4) ‖ nonce(4) ‖ 0x02 ‖ to(4) ‖ amount(16) ‖ fee(16)
    ///      for a transfer, sender(4) ‖ nonce(4) ‖ 0x03 ‖ amount(16) ‖ fee(16) for a withdraw.
    ///      Amounts fit 16 bytes: an undecodable one is MALFORMED before messages are built.
    function _message(bytes calldata rest, L2Codec.Layout memory h, uint256 i, uint32 nonce)
        private
        pure
        returns (bytes memory)
    {
        if (i < h.nTransfers) {
            (uint256 from, uint256 to, uint256 amount, uint256 fee) =
                L2Codec.transferAt(rest, h.transfers + i * L2Codec.TRANSFER_LEN);
            return abi.encodePacked(uint32(from), nonce, L2Codec.TX_TRANSFER, uint32(to), uint128(amount), uint128(fee));
        }
        (uint256 wFrom, uint256 wAmount, uint256 wFee) =
            L2Codec.withdrawAt(rest, h.withdraws + (i - h.nTransfers) * L2Codec.WITHDRAW_LEN);
        return abi.encodePacked(uint32(wFrom), nonce, L2Codec.TX_WITHDRAW, uint128(wAmount), uint128(wFee));
    }
}
