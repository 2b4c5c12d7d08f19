"""Deploy and wire every l2kit contract with Ape; shared by `ape run deploy`, the demo and tests."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ape import chain, project

from offchain.deployments import Deployment
from offchain.governance.deploy import create_address
from offchain.governance.wiring import ZERO, GovernanceSetup, check_timelock_address, deploy_proxied

ADDRESS_ACCOUNTS = "0x01"  # recipient encoding of the optimistic rollup's bridge


@dataclass(frozen=True)
class DeployParams:
    """Protocol parameters fixed at deployment."""

    #: Bond (wei) a proposer must hold to post batches.
    rollup_bond: int = 10**18
    #: Seconds a batch can be disputed before it is final.
    challenge_period: int = 7 * 24 * 3600
    #: Share of a stale closer's balance forfeited to the counterparty (basis points).
    channel_penalty_bps: int = 10_000
    #: Also deploy a mintable demo token (local networks).
    test_tokens: bool = False
    #: Seconds a forced tx (or checkpointed deposit) may wait before anyone can freeze the rollup.
    forced_inclusion_delay: int = 24 * 3600
    #: Seconds without a newly final batch before anyone can freeze the rollup.
    liveness_period: int = 7 * 24 * 3600
    #: Blocks between a BLS key registration and the first block it is valid in (>= 1).
    bls_activation_delay: int = 3
    #: Deploy the zk rollup too (needs the GPL zk extra). Its keys come from a single-party
    #: development setup: test funds only (see docs/zk.md for keys from a multi-party setup).
    zk: bool = False
    #: zk circuit size: transaction slots, deposit slots, account tree depth.
    zk_txs: int = 2
    zk_deposits: int = 2
    zk_depth: int = 4
    #: Seconds without an accepted zk batch before the zk rollup freezes.
    zk_freeze_period: int = 7 * 24 * 3600
    #: Seconds a zk forced withdrawal may wait before the zk rollup freezes.
    zk_forced_delay: int = 24 * 3600
    #: Security Council members, its threshold and the timelock's proposers (empty on a local
    #: network: the development council of offchain.governance.wiring, the deployer proposes).
    council: tuple[str, ...] = ()
    council_threshold: int = 0
    proposers: tuple[str, ...] = ()


#: Local defaults: short windows so the demo and manual tests reach finality (or a freeze) quickly.
LOCAL_PARAMS = DeployParams(
    rollup_bond=10**18,
    challenge_period=120,
    test_tokens=True,
    forced_inclusion_delay=300,
    liveness_period=900,
    zk=True,
    zk_freeze_period=3600,
    zk_forced_delay=300,
)


def zk_available() -> bool:
    """Whether the optional GPL zk extra (groth16py, light-poseidon) is installed."""
    import importlib.util

    return all(importlib.util.find_spec(m) for m in ("groth16py", "light_poseidon_python"))


def is_local(network_name: str) -> bool:
    return network_name in ("local", "anvil") or chain.chain_id == 31337


def rollup_max_pause(max_pause: int, forced_inclusion_delay: int) -> int:
    """The optimistic rollup's longest council pause: the governance setting, capped at half the
    forced-inclusion delay, so after any pause a proposer still has half the delay to include a
    forced tx queued at its start (and a pause alone never lets anyone freeze)."""
    if forced_inclusion_delay < 2:
        raise ValueError(f"forced_inclusion_delay must be >= 2 s, got {forced_inclusion_delay}")
    return max(1, min(max_pause, forced_inclusion_delay // 2))


def zk_max_pause(max_pause: int, forced_delay: int, freeze_period: int) -> int:
    """The zk rollup's longest council pause: the governance setting, capped at half the forced
    delay and half the freeze period (the contract needs it below both), so after any pause the
    operator still has half of either to serve a forced withdrawal or a deposit request."""
    if forced_delay < 2 or freeze_period < 2:
        raise ValueError(
            f"zk forced delay and freeze period must be >= 2 s, got {forced_delay}, {freeze_period}"
        )
    return max(1, min(max_pause, forced_delay // 2, freeze_period // 2))


def deploy_all(
    deployer: Any,
    network_choice: str,
    params: DeployParams,
    governance: GovernanceSetup | None = None,
) -> Deployment:
    """Deploy every contract from `deployer` and wire them; returns what was deployed.

    The bridges and the zk rollup sit behind proxies whose ProxyAdmins the ExitWindowTimelock
    owns; the timelock is deployed last, at the address predicted from the deployer's nonce
    (its constructor reads the governed systems' exitTime). `governance` defaults to the
    setup in `params` (or, on a local network, the development council)."""
    from offchain.governance.wiring import setup_for

    start_block = chain.blocks.head.number or 0
    contracts: dict[str, str] = {}
    gov = governance or setup_for(
        params.council,
        params.council_threshold,
        params.proposers,
        deployer.address,
        is_local(network_choice),
    )
    if params.zk and not zk_available():
        raise RuntimeError(
            "the zk rollup needs the optional zk extra: run `make setup` (without ZK=0), "
            "or deploy without it (--no-zk)"
        )
    # Transactions before the timelock: council 1, optimistic bridge 2, registry 1, rollup 2,
    # setRollup 1, adjudicator 1, the zk rollup's DEPLOY_ZK_TXS.
    zk_txs = 0
    if params.zk:
        from offchain.zk.deploy import DEPLOY_ZK_TXS

        zk_txs = DEPLOY_ZK_TXS
    timelock_at = create_address(deployer.address, deployer.nonce + 8 + zk_txs)

    council = deployer.deploy(project.SecurityCouncil, list(gov.members), gov.threshold)

    # Optimistic rollup: its own bridge (address recipients, behind a proxy), wired once to the
    # rollup, and the registry of the BLS keys that sign L2 transactions (format v2). The
    # optimistic Rollup is behind a proxy too; its governed parameters are set by `initialize`
    # (docs/governance.md §5).
    bridge = deploy_proxied(
        project, deployer, project.L1Bridge, timelock_at, (ADDRESS_ACCOUNTS,), ()
    )
    registry = deployer.deploy(project.BLSKeyRegistry, params.bls_activation_delay)
    windows = (params.challenge_period, params.forced_inclusion_delay, params.liveness_period)
    pause = (
        council.address,
        rollup_max_pause(gov.params.max_pause, params.forced_inclusion_delay),
        gov.params.pause_needs_proven_bug,
    )
    rollup = deploy_proxied(
        project,
        deployer,
        project.Rollup,
        timelock_at,
        (bridge.contract, params.rollup_bond, *windows, registry),
        (timelock_at, params.rollup_bond, *windows, pause),
        project.RollupGovernor,
    )
    bridge.contract.setRollup(rollup.contract, sender=deployer)
    contracts["BLSKeyRegistry"] = registry.address
    contracts.update(bridge.entries("RollupBridge"))
    contracts.update(rollup.entries("Rollup"))

    # Payment channels: one adjudicator for every two-party channel (immutable, see docs).
    adjudicator = deployer.deploy(project.ChannelAdjudicator, params.channel_penalty_bps)
    contracts["ChannelAdjudicator"] = adjudicator.address

    governed: list[str] = [contracts["Rollup"], contracts["RollupBridge"]]
    longest = project.RollupGovernor.at(contracts["Rollup"]).exitTime()
    if params.zk:
        # offchain.zk is GPL-3.0 and optional: imported only when the zk rollup is deployed.
        from offchain.zk.deploy import deploy_zk

        contracts.update(
            deploy_zk(
                deployer,
                n_txs=params.zk_txs,
                n_deposits=params.zk_deposits,
                depth=params.zk_depth,
                freeze_period=params.zk_freeze_period,
                forced_delay=params.zk_forced_delay,
                timelock=timelock_at,
                pause=(
                    council.address,
                    zk_max_pause(
                        gov.params.max_pause, params.zk_forced_delay, params.zk_freeze_period
                    ),
                    gov.params.pause_needs_proven_bug,
                ),
            )
        )
        governed += [contracts["ZkRollup"], contracts["ZkBridge"]]
        longest = max(longest, project.ZkRollup.at(contracts["ZkRollup"]).exitTime())

    margin = gov.params.margin
    timelock = deployer.deploy(
        project.ExitWindowTimelock,
        longest + margin,
        list(gov.proposers),
        [ZERO],
        [council.address],
        ZERO,
        margin,
        governed,
    )
    check_timelock_address(timelock.address, timelock_at)
    contracts["SecurityCouncil"] = council.address
    contracts["Timelock"] = timelock.address

    if params.test_tokens:
        demo_token = deployer.deploy(project.TestToken, "Demo Dollar", "DUSD", 6)
        contracts["DemoToken"] = demo_token.address

    return Deployment(
        chain_id=chain.chain_id,
        network=network_choice,
        block=start_block,
        contracts=contracts,
        rpc=getattr(chain.provider, "uri", "") or "",
    )
