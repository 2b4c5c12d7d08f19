// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {PostingCalldata} from "../../libraries/PostingCalldata.sol";

/// @notice Test only: the rollup's posting-calldata rule behind a function with postBatch's
///         signature, so any raw calldata can be fed to it and to the off-chain decoder.
contract PostingHarness {
    /// @notice Same error as IRollup.NonCanonicalCalldata.
    error NonCanonicalCalldata();

    /// @notice Accept exactly what Rollup.postBatch accepts as calldata and return what it hashes.
    /// @param expectedPreRoot Echoed back.
    /// @param data Echoed back.
    function postBatch(bytes32 expectedPreRoot, bytes calldata data) external pure returns (bytes32, bytes memory) {
        if (!PostingCalldata.isCanonical(data)) revert NonCanonicalCalldata();
        return (expectedPreRoot, data);
    }
}

/// @notice Test only: forwards any call, as a relayer, a multicall or a smart wallet would; also the
///         delegation target of an EIP-7702 EOA in the tests.
contract CallForwarder {
    /// @notice Call `target` with `payload`, bubbling up a revert.
    /// @param target The contract to call.
    /// @param payload Its calldata.
    function forward(address target, bytes calldata payload) external returns (bytes memory) {
        (bool ok, bytes memory ret) = target.call(payload);
        if (!ok) {
            assembly ("memory-safe") {
                revert(add(ret, 32), mload(ret))
            }
        }
        return ret;
    }
}
