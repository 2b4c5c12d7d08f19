// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";

/// @notice Test only: a plain mintable ERC-20.
contract TestToken is ERC20 {
    uint8 private immutable _decimals;

    constructor(string memory name_, string memory symbol_, uint8 decimals_) ERC20(name_, symbol_) {
        _decimals = decimals_;
    }

    function decimals() public view override returns (uint8) {
        return _decimals;
    }

    function mint(address to, uint256 amount) external {
        _mint(to, amount);
    }
}

/// @notice Test only: an ERC-20 that burns `feeBps` of every transfer.
contract FeeOnTransferToken is ERC20 {
    uint256 public immutable feeBps;

    constructor(uint256 feeBps_) ERC20("Fee Token", "FEE") {
        feeBps = feeBps_;
    }

    function mint(address to, uint256 amount) external {
        _mint(to, amount);
    }

    function _update(address from, address to, uint256 value) internal override {
        if (from != address(0) && to != address(0)) {
            uint256 fee = (value * feeBps) / 10_000;
            super._update(from, address(0), fee);
            super._update(from, to, value - fee);
        } else {
            super._update(from, to, value);
        }
    }
}

/// @notice Test only: a USDT-like token whose transfer functions return nothing.
contract NoBoolToken {
    mapping(address => uint256) public balanceOf;
    mapping(address => mapping(address => uint256)) public allowance;

    function mint(address to, uint256 amount) external {
        balanceOf[to] += amount;
    }

    function approve(address spender, uint256 amount) external {
        allowance[msg.sender][spender] = amount;
    }

    function transfer(address to, uint256 amount) external {
        require(balanceOf[msg.sender] >= amount, "balance");
        balanceOf[msg.sender] -= amount;
        balanceOf[to] += amount;
    }

    function transferFrom(address from, address to, uint256 amount) external {
        require(balanceOf[from] >= amount, "balance");
        require(allowance[from][msg.sender] >= amount, "allowance");
        allowance[from][msg.sender] -= amount;
        balanceOf[from] -= amount;
        balanceOf[to] += amount;
    }
}

/// @notice Test only: a token whose transfers return false instead of reverting.
contract ReturnsFalseToken {
    mapping(address => uint256) public balanceOf;

    function mint(address to, uint256 amount) external {
        balanceOf[to] += amount;
    }

    function approve(address, uint256) external pure returns (bool) {
        return true;
    }

    function transfer(address, uint256) external pure returns (bool) {
        return false;
    }

    function transferFrom(address, address, uint256) external pure returns (bool) {
        return false;
    }
}

/// @notice Test only: a token that re-enters its caller during transferFrom / transfer.
contract ReentrantToken is ERC20 {
    address public target;
    bytes public payload;
    bool public reentered;
    bytes public lastRevert;

    constructor() ERC20("Reentrant", "REE") {}

    function mint(address to, uint256 amount) external {
        _mint(to, amount);
    }

    function arm(address target_, bytes calldata payload_) external {
        target = target_;
        payload = payload_;
    }

    function _update(address from, address to, uint256 value) internal override {
        super._update(from, to, value);
        if (target != address(0) && from != address(0) && to != address(0)) {
            address t = target;
            target = address(0);
            (bool ok, bytes memory ret) = t.call(payload);
            // Bubble the inner failure up so the test sees which guard stopped it.
            if (!ok) {
                assembly {
                    revert(add(ret, 32), mload(ret))
                }
            }
            reentered = true;
        }
    }
}

/// @notice Test only: a contract that refuses ETH, to test claims to it.
contract EthRejecter {
    receive() external payable {
        revert("no ETH");
    }

    function callClaim(address bridge, address token, address to) external {
        (bool ok, bytes memory ret) = bridge.call(abi.encodeWithSignature("claim(address,address)", token, to));
        if (!ok) {
            assembly {
                revert(add(ret, 32), mload(ret))
            }
        }
    }
}

/// @notice Test only: stands in for the rollup, forwarding releases to the bridge.
contract MockRollup {
    /// @notice What the bridge reads before a deposit (IRollupStatus); tests flip it.
    bool public frozen;

    function setFrozen(bool value) external {
        frozen = value;
    }

    function release(address bridge, bytes32 id, address token, address to, uint256 amount) external {
        (bool ok, bytes memory ret) = bridge.call(
            abi.encodeWithSignature("releaseWithdrawal(bytes32,address,address,uint256)", id, token, to, amount)
        );
        if (!ok) {
            assembly {
                revert(add(ret, 32), mload(ret))
            }
        }
    }
}

/// @notice Test only: a contract submitter (a relayer, a multisig): makes each call in turn,
///         ignoring failures, and reverts only if none succeeded.
contract RelayMulticall {
    error NoCallSucceeded();

    function forwardAll(address target, bytes[] calldata calls) external {
        bool any;
        for (uint256 i = 0; i < calls.length; ++i) {
            (bool ok,) = target.call(calls[i]);
            any = any || ok;
        }
        if (!any) revert NoCallSucceeded();
    }
}

/// @notice Test only: an ERC-20 that refuses every transfer to one blocked address (as tokens with
///         blocklists do), to test that a payout the token refuses is deferred, not fatal.
contract BlockingToken is ERC20 {
    address public blocked;

    constructor() ERC20("Blocking", "BLK") {}

    function mint(address to, uint256 amount) external {
        _mint(to, amount);
    }

    function setBlocked(address who) external {
        blocked = who;
    }

    function _update(address from, address to, uint256 value) internal override {
        if (to != address(0) && to == blocked) revert("blocked recipient");
        super._update(from, to, value);
    }
}
