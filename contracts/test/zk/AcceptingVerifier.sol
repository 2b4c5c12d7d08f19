// SPDX-License-Identifier: GPL-3.0-or-later
pragma solidity ^0.8.28;

import {IZkVerifier} from "../../zk/IZkVerifier.sol";

/// @title AcceptingVerifier
/// @notice Test stand-in for a Groth16 verifier that accepts every proof: it lets the gas snapshot
///         measure the zk rollup's own work (reading and hashing the public data, the queues) without
///         proving (the pairing check is excluded); also used by bench/zk_contract.py.
contract AcceptingVerifier is IZkVerifier {
    /// @notice Always true.
    /// @param proof Ignored.
    /// @param input Ignored.
    /// @return True.
    function verifyProof(uint256[8] calldata proof, uint256[] calldata input) external pure returns (bool) {
        proof;
        input;
        return true;
    }
}
