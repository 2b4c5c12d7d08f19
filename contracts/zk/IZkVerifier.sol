// SPDX-License-Identifier: GPL-3.0-or-later
pragma solidity ^0.8.28;

/// @title IZkVerifier
/// @notice A Groth16 (BN254) verifier for one circuit of the l2kit zk rollup (the batch circuit has
///         three public inputs: old state root, new state root, public-data hash).
interface IZkVerifier {
    /// @notice Whether `proof` proves the circuit for `input`.
    /// @param proof A (x, y), B (x.c1, x.c0, y.c1, y.c0), C (x, y): the pairing precompile's order.
    /// @param input The public inputs (as many as the key has), each below the BN254 scalar field modulus.
    /// @return True for a valid proof; false for anything else (never reverts on bad data).
    function verifyProof(uint256[8] calldata proof, uint256[] calldata input) external view returns (bool);
}
