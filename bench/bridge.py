"""Gas per bridge operation on a local Anvil node.

make bench     (every benchmark; set-up included)
"""

from __future__ import annotations

from bench.common import local_node, print_table, write_results


def measure() -> dict[str, int]:
    from ape import accounts, project

    from offchain.bridge import ETH
    from offchain.recipient import address_recipient

    deployer, user, other = accounts.test_accounts[:3]
    bridge = deployer.deploy(project.L1Bridge, "0x01")
    token = deployer.deploy(project.TestToken, "Bench", "BNC", 18)
    rollup = deployer.deploy(project.MockRollup)
    bridge.setRollup(rollup, sender=deployer)
    token.mint(user, 10**24, sender=deployer)
    token.approve(bridge, 10**24, sender=user)
    to_user = address_recipient(user.address)

    first_eth = bridge.depositETH(to_user, value=10**18, sender=user).gas_used
    next_eth = bridge.depositETH(to_user, value=10**18, sender=user).gas_used
    first_erc20 = bridge.depositERC20(token, 10**18, to_user, sender=user).gas_used
    next_erc20 = bridge.depositERC20(token, 10**18, to_user, sender=user).gas_used
    # The MockRollup forwards the call, so subtract nothing: this is an upper bound for a release.
    release = rollup.release(bridge, b"\x01" * 32, ETH, other, 10**18, sender=deployer).gas_used
    claim_eth = bridge.claim(ETH, other, sender=other).gas_used
    rollup.release(bridge, b"\x02" * 32, token, other, 10**18, sender=deployer)
    claim_erc20 = bridge.claim(token, other, sender=other).gas_used
    return {
        "deposit_eth_first": first_eth,
        "deposit_eth": next_eth,
        "deposit_erc20_first": first_erc20,
        "deposit_erc20": next_erc20,
        "release_withdrawal_via_forwarder": release,
        "claim_eth": claim_eth,
        "claim_erc20": claim_erc20,
    }


def main() -> None:
    with local_node():
        gas = measure()
    print_table(
        "Bridge: L1 gas per operation (transaction gas, incl. 21,000 base)",
        ["operation", "gas"],
        [(k.replace("_", " "), v) for k, v in gas.items()],
    )
    write_results("bridge", {"gas": gas})


if __name__ == "__main__":
    main()
