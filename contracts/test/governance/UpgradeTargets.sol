// SPDX-License-Identifier: GPL-3.0-or-later
pragma solidity ^0.8.28;

import {L1Bridge} from "../../bridge/L1Bridge.sol";
import {IL1Bridge} from "../../bridge/IL1Bridge.sol";
import {IZkVerifier} from "../../zk/IZkVerifier.sol";
import {ZkRollup} from "../../zk/ZkRollup.sol";

/// @title L1BridgeV2
/// @notice Test only: a benign second version of the bridge (same storage, one more view and a
///         reinitializer that records the upgrade), to show an upgrade keeps every balance.
contract L1BridgeV2 is L1Bridge {
    /// @notice Set by `initializeV2` in the proxy's storage (a new slot of its own namespace).
    uint256 public upgradedAt;

    /// @notice Same constructor as v1.
    /// @param recipientTag_ The recipient encoding.
    constructor(bytes1 recipientTag_) L1Bridge(recipientTag_) {}

    /// @notice The upgrade's one-time setup.
    function initializeV2() external reinitializer(2) {
        upgradedAt = block.timestamp;
    }

    /// @notice 2.
    /// @return The version.
    function version() external pure returns (uint256) {
        return 2;
    }
}

/// @title L1BridgeDrain
/// @notice Test only: the malicious upgrade. Anyone may move every wei the bridge holds.
contract L1BridgeDrain is L1Bridge {
    /// @notice Same constructor as v1.
    /// @param recipientTag_ The recipient encoding.
    constructor(bytes1 recipientTag_) L1Bridge(recipientTag_) {}

    /// @notice Sends the bridge's whole ETH balance to `to`.
    /// @param to The thief.
    function drain(address to) external {
        (bool ok,) = to.call{value: address(this).balance}("");
        require(ok, "send");
    }
}

/// @title ZkRollupV2
/// @notice Test only: a benign second version of the zk rollup (same storage, one more view).
contract ZkRollupV2 is ZkRollup {
    /// @notice Same constructor as v1.
    /// @param bridge_ The bridge.
    /// @param batchVerifier_ Batch verifier.
    /// @param exitVerifier_ Exit verifier.
    /// @param genesisRoot Genesis root.
    /// @param txSlots_ Transaction slots.
    /// @param depositSlots_ Deposit slots.
    /// @param freezePeriod_ Freeze period.
    /// @param forcedDelay_ Forced delay.
    /// @param treeDepth_ Tree depth.
    constructor(
        IL1Bridge bridge_,
        IZkVerifier batchVerifier_,
        IZkVerifier exitVerifier_,
        uint256 genesisRoot,
        uint256 txSlots_,
        uint256 depositSlots_,
        uint256 freezePeriod_,
        uint256 forcedDelay_,
        uint256 treeDepth_
    )
        ZkRollup(
            bridge_,
            batchVerifier_,
            exitVerifier_,
            genesisRoot,
            txSlots_,
            depositSlots_,
            freezePeriod_,
            forcedDelay_,
            treeDepth_
        )
    {}

    /// @notice 2.
    /// @return The version.
    function version() external pure returns (uint256) {
        return 2;
    }
}
