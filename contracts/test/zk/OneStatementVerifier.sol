// SPDX-License-Identifier: GPL-3.0-or-later
pragma solidity ^0.8.28;

import {IZkVerifier} from "../../zk/IZkVerifier.sol";

/// @title OneStatementVerifier
/// @notice Test stand-in for a *sound* Groth16 verifier that knows the proof of one statement:
///         it accepts `proof` for `input` only when both hash to what it was told at deployment
///         (and, like the real verifier, only for inputs reduced into the field: it compares them
///         mod R, so an input + R aliases the honest one). Used to show the zk rollup's conflict
///         evidence cannot be faked from one honest proof.
contract OneStatementVerifier is IZkVerifier {
    uint256 internal constant R = 21888242871839275222246405745257275088548364400416034343698204186575808495617;

    /// @notice keccak256 of the one accepted (proof, input mod R).
    bytes32 public immutable statement;

    /// @param statement_ keccak256(abi.encode(proof, input)) of the accepted pair (input reduced).
    constructor(bytes32 statement_) {
        statement = statement_;
    }

    /// @notice True only for the one statement given at deployment.
    /// @param proof The proof.
    /// @param input The public inputs (compared mod R).
    /// @return ok Whether this is the known statement.
    function verifyProof(uint256[8] calldata proof, uint256[] calldata input) external view returns (bool ok) {
        uint256[] memory reduced = new uint256[](input.length);
        for (uint256 i = 0; i < input.length; ++i) {
            reduced[i] = input[i] % R;
        }
        return keccak256(abi.encode(proof, reduced)) == statement;
    }
}
