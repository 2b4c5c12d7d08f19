// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {BLS} from "../../libraries/BLS.sol";
import {G1Compressed} from "../../libraries/G1Compressed.sol";
import {L2Codec} from "../../libraries/L2Codec.sol";
import {SparseMerkle} from "../../libraries/SparseMerkle.sol";
import {CommitmentExecutor} from "../../rollup/CommitmentExecutor.sol";
import {RollupTypes} from "../../rollup/RollupTypes.sol";

/// @notice Test only: exposes the rollup libraries so shared vectors can be checked on chain.
contract RollupHarness {
    /// @notice L2Codec.unpackFloat.
    function unpackFloat(uint256 packed) external pure returns (uint256) {
        return L2Codec.unpackFloat(packed);
    }

    /// @notice Leaf hash of a 60-byte account.
    function leafHash(bytes calldata account) external pure returns (bytes32) {
        return L2Codec.leafHash(L2Codec.readAccount(account, 0));
    }

    /// @notice Root from a leaf and 24 siblings.
    function rootFrom(uint256 index, bytes32 leaf, bytes calldata siblings) external pure returns (bytes32) {
        require(siblings.length == SparseMerkle.PATH_BYTES, "siblings");
        return SparseMerkle.rootFrom(index, leaf, siblings, 0);
    }

    /// @notice The empty tree root.
    function emptyRoot() external pure returns (bytes32) {
        return SparseMerkle.emptyRoot();
    }

    /// @notice L2Codec.unpackAmount (v2 4-byte amount).
    function unpackAmount(uint256 packed) external pure returns (uint256) {
        return L2Codec.unpackAmount(packed);
    }

    /// @notice L2Codec.layout of a commitment's rest: counts, fee account, section offsets, length.
    function layout(bytes calldata rest) external pure returns (L2Codec.Layout memory) {
        return L2Codec.layout(rest, 0);
    }

    /// @notice L2Codec.transferAt.
    function transferAt(bytes calldata data, uint256 offset) external pure returns (uint256, uint256, uint256, uint256) {
        return L2Codec.transferAt(data, offset);
    }

    /// @notice L2Codec.withdrawAt.
    function withdrawAt(bytes calldata data, uint256 offset) external pure returns (uint256, uint256, uint256) {
        return L2Codec.withdrawAt(data, offset);
    }

    /// @notice L2Codec.firstMalformed of a commitment's rest.
    function firstMalformed(bytes calldata rest) external pure returns (uint256) {
        return L2Codec.firstMalformed(rest, L2Codec.layout(rest, 0));
    }

    /// @notice G1Compressed.decompress, then BLS.isValidG1 (false when either fails).
    /// @param data The compressed point.
    /// @param hint The square-root hint (hi, lo).
    /// @return ok Whether it decompressed.
    /// @return valid Whether it is a G1 subgroup point.
    /// @return point The point.
    function decompressG1(bytes calldata data, uint256[2] calldata hint)
        external
        view
        returns (bool ok, bool valid, BLS.G1Point memory point)
    {
        (ok, point) = G1Compressed.decompress(data, hint[0], hint[1]);
        valid = ok && BLS.isValidG1(point);
    }

    /// @notice Run the executor without the accumulator checks (differential tests).
    /// @dev Only p.rest, p.deposits, p.forced and p.witnesses are read.
    function execute(bytes32 preRoot, RollupTypes.FraudProof calldata p)
        external
        pure
        returns (RollupTypes.Fault fault, uint256 txIndex, bytes32 root)
    {
        return CommitmentExecutor.execute(preRoot, p);
    }

    /// @notice The codec's constants and the number of fault codes, for the differential test.
    /// @return c FORMAT_VERSION, DEPOSIT_LEN, TRANSFER_LEN, WITHDRAW_LEN, FORCED_LEN,
    ///         REST_HEADER_LEN, SIGNATURE_LEN, MAX_TXS, LEAF_BYTES, MAX_AMOUNT, TX_TRANSFER,
    ///         TX_WITHDRAW, FORCED_TRANSFER_LEN, FORCED_WITHDRAW_LEN, number of Fault codes.
    function constants() external pure returns (uint256[15] memory c) {
        c = [
            L2Codec.FORMAT_VERSION,
            L2Codec.DEPOSIT_LEN,
            L2Codec.TRANSFER_LEN,
            L2Codec.WITHDRAW_LEN,
            L2Codec.FORCED_LEN,
            L2Codec.REST_HEADER_LEN,
            L2Codec.SIGNATURE_LEN,
            L2Codec.MAX_TXS,
            L2Codec.LEAF_BYTES,
            L2Codec.MAX_AMOUNT,
            uint256(L2Codec.TX_TRANSFER),
            uint256(L2Codec.TX_WITHDRAW),
            L2Codec.FORCED_TRANSFER_LEN,
            L2Codec.FORCED_WITHDRAW_LEN,
            uint256(type(RollupTypes.Fault).max) + 1
        ];
    }
}
