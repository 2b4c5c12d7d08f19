// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

/// @notice Test only: a channel participant contract that refuses ETH, to test failed claims.
contract ChannelEthRejecter {
    /// @notice Make this contract's initial deposit as B of `channelId`.
    function fund(address adjudicator, bytes32 channelId) external payable {
        (bool ok, bytes memory ret) =
            adjudicator.call{value: msg.value}(abi.encodeWithSignature("fund(bytes32,uint256)", channelId, msg.value));
        if (!ok) {
            assembly {
                revert(add(ret, 32), mload(ret))
            }
        }
    }

    /// @notice Try to claim ETH from the adjudicator (fails: this contract rejects ETH).
    function claimEth(address adjudicator) external {
        (bool ok, bytes memory ret) = adjudicator.call(abi.encodeWithSignature("claim(address)", address(0)));
        if (!ok) {
            assembly {
                revert(add(ret, 32), mload(ret))
            }
        }
    }

    receive() external payable {
        revert("no ETH");
    }
}

/// @notice Test only: a channel participant whose receive() burns all the gas it is given, to test
///         that a direct payout to it is bounded and deferred to a pull balance.
contract ChannelGasBurner {
    /// @notice Make this contract's initial deposit as B of `channelId`.
    function fund(address adjudicator, bytes32 channelId) external payable {
        (bool ok, bytes memory ret) =
            adjudicator.call{value: msg.value}(abi.encodeWithSignature("fund(bytes32,uint256)", channelId, msg.value));
        if (!ok) {
            assembly {
                revert(add(ret, 32), mload(ret))
            }
        }
    }

    receive() external payable {
        uint256 x;
        while (true) {
            x++;
        }
    }
}
