// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {MessageHashUtils} from "@openzeppelin/contracts/utils/cryptography/MessageHashUtils.sol";
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

    /// @notice The EIP-712 digest of a transfer under `separator`.
    function transferDigest(bytes32 separator, uint256 from, uint256 to, uint256 amount, uint256 fee, uint256 nonce)
        external
        pure
        returns (bytes32)
    {
        return MessageHashUtils.toTypedDataHash(
            separator, keccak256(abi.encode(CommitmentExecutor.TRANSFER_TYPEHASH, from, to, amount, fee, nonce))
        );
    }

    /// @notice The EIP-712 digest of a withdraw under `separator`.
    function withdrawDigest(bytes32 separator, uint256 from, uint256 amount, uint256 fee, uint256 nonce)
        external
        pure
        returns (bytes32)
    {
        return MessageHashUtils.toTypedDataHash(
            separator, keccak256(abi.encode(CommitmentExecutor.WITHDRAW_TYPEHASH, from, amount, fee, nonce))
        );
    }

    /// @notice Run the executor without deposits' accumulator check (differential tests).
    /// @dev Only p.txs, p.feeAccount, p.deposits and p.witnesses are read.
    function execute(bytes32 preRoot, bytes32 separator, RollupTypes.FraudProof calldata p)
        external
        view
        returns (RollupTypes.Fault fault, uint256 txIndex, bytes32 root)
    {
        return CommitmentExecutor.execute(preRoot, separator, p);
    }
}
