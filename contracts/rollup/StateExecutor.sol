// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {CommitmentExecutor} from "./CommitmentExecutor.sol";
import {RollupTypes} from "./RollupTypes.sol";

/// @title StateExecutor
/// @notice CommitmentExecutor behind an external call: the state dispute's re-execution, created
///         by the Rollup in its own contract so the Rollup stays under the code-size limit (the
///         Rollup checks the batch, the commitment hash and the queue evidence first). Stateless.
contract StateExecutor {
    /// @notice Re-execute a commitment from `preRoot` (see CommitmentExecutor.execute).
    /// @param preRoot The state root before the commitment.
    /// @param p The evidence (only rest, deposits, forced and witnesses are read).
    /// @return fault NONE if every tx is valid, else the first fault.
    /// @return txIndex The failing slot (max uint for commitment-level results).
    /// @return root The root reached.
    function execute(bytes32 preRoot, RollupTypes.FraudProof calldata p)
        external
        pure
        returns (RollupTypes.Fault fault, uint256 txIndex, bytes32 root)
    {
        return CommitmentExecutor.execute(preRoot, p);
    }
}
