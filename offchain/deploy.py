"""Deploy and wire every l2kit contract with Ape; shared by `ape run deploy`, the demo and tests."""

from __future__ import annotations

from ape import chain, project

from offchain.deployments import Deployment

ADDRESS_ACCOUNTS = "0x01"  # recipient encoding of the optimistic rollup's bridge


def is_local(network_name: str) -> bool:
    return network_name in ("local", "anvil") or chain.chain_id == 31337


def deploy_all(deployer, network_choice: str, with_test_tokens: bool) -> Deployment:
    """Deploy every contract from `deployer` and wire them; returns what was deployed."""
    start_block = chain.blocks.head.number or 0
    contracts: dict[str, str] = {}

    bridge = deployer.deploy(project.L1Bridge, ADDRESS_ACCOUNTS)
    contracts["L1Bridge"] = bridge.address

    if with_test_tokens:
        demo_token = deployer.deploy(project.TestToken, "Demo Dollar", "DUSD", 6)
        contracts["DemoToken"] = demo_token.address

    return Deployment(
        chain_id=chain.chain_id,
        network=network_choice,
        block=start_block,
        contracts=contracts,
        rpc=getattr(chain.provider, "uri", "") or "",
    )
