// SPDX-License-Identifier: GPL-3.0-or-later
pragma solidity ^0.8.28;

import {IZkVerifier} from "../../zk/IZkVerifier.sol";

/// @notice Test only: a verifier that accepts every proof, so the gas of ZkRollup's own work
///         (reading the public data, hashing it, the queues) is measured without proving.
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
