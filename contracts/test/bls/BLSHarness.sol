// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {BLS} from "../../libraries/BLS.sol";

/// @notice Test only: exposes the BLS library so vectors and differential tests run on chain.
contract BLSHarness {
    /// @notice BLS.expandMessageXmd.
    function expandMessageXmd(bytes calldata message, bytes calldata dst) external view returns (bytes memory) {
        return BLS.expandMessageXmd(message, dst);
    }

    /// @notice BLS.hashToField.
    function hashToField(bytes calldata message, bytes calldata dst)
        external
        view
        returns (bytes memory u0, bytes memory u1)
    {
        return BLS.hashToField(message, dst);
    }

    /// @notice BLS.hashToG1.
    function hashToG1(bytes calldata message, bytes calldata dst) external view returns (BLS.G1Point memory) {
        return BLS.hashToG1(message, dst);
    }

    /// @notice BLS.isValidG1.
    function isValidG1(BLS.G1Point calldata point) external view returns (bool) {
        return BLS.isValidG1(point);
    }

    /// @notice BLS.isValidG2.
    function isValidG2(BLS.G2Point calldata point) external view returns (bool) {
        return BLS.isValidG2(point);
    }

    /// @notice BLS.verifyAggregate.
    function verifyAggregate(
        bytes[] calldata messages,
        BLS.G2Point[] calldata pubkeys,
        BLS.G1Point calldata signature,
        bytes calldata dst
    ) external view returns (bool) {
        return BLS.verifyAggregate(messages, pubkeys, signature, dst);
    }

    /// @notice BLS.verifyAggregateHashed.
    function verifyAggregateHashed(
        BLS.G1Point[] calldata hashes,
        BLS.G2Point[] calldata pubkeys,
        BLS.G1Point calldata signature
    ) external view returns (bool) {
        return BLS.verifyAggregateHashed(hashes, pubkeys, signature);
    }

    /// @notice BLS.reduce512, and the gas it used (measured inside the call).
    /// @param hi The high word.
    /// @param lo The low word.
    /// @return rHi The result's high word.
    /// @return rLo The result's low word.
    /// @return used The gas used.
    function reduce512(uint256 hi, uint256 lo) external view returns (uint256 rHi, uint256 rLo, uint256 used) {
        uint256 start = gasleft();
        (rHi, rLo) = BLS.reduce512(hi, lo);
        used = start - gasleft();
    }

    /// @notice Gas used by BLS.hashToG1 (measured inside the call, no calldata or call overhead).
    function hashToG1Gas(bytes calldata message, bytes calldata dst) external view returns (uint256 used) {
        uint256 start = gasleft();
        BLS.hashToG1(message, dst);
        used = start - gasleft();
    }

    /// @notice Gas used by BLS.verifyAggregate, and its result.
    function verifyAggregateGas(
        bytes[] calldata messages,
        BLS.G2Point[] calldata pubkeys,
        BLS.G1Point calldata signature,
        bytes calldata dst
    ) external view returns (bool ok, uint256 used) {
        uint256 start = gasleft();
        ok = BLS.verifyAggregate(messages, pubkeys, signature, dst);
        used = start - gasleft();
    }
}
