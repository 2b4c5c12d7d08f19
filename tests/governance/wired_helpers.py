"""The real bridges and zk rollup behind GovernedProxy proxies, owned by an ExitWindowTimelock.

Stand-ins where proving would be slow: one AcceptingVerifier for both zk circuits (every proof
accepted), so the exit paths run without a prover; a MockRollup crediting the address bridge.
"""

from __future__ import annotations

from dataclasses import dataclass

from gov_helpers import COUNCIL, THRESHOLD, ZERO

from offchain.governance.deploy import DAY, create_address
from offchain.governance.wiring import Proxied, check_timelock_address, deploy_proxied

FREEZE = 7 * DAY  # zk freeze period
FORCED = 1 * DAY  # zk forced delay
MARGIN = 30 * DAY
SLACK = 2 * DAY  # configured delay above the floor: room for a raise within the delay
TX_SLOTS, DEPOSIT_SLOTS, DEPTH = 4, 2, 4
GENESIS = 1
#: The BabyJubJub base point: a key the bridge accepts.
BJJ = (
    5299619240641551281634865583518297030282874472190772894086521144482721001553,
    16950150798460657717958625567821834550301663161624707787222815936182638968203,
)
ETH = ZERO
PROOF = [0] * 8
#: Transactions `deploy_wired` sends before the timelock.
_TXS_BEFORE_TIMELOCK = 11


def bjj_recipient() -> bytes:
    return b"\x02" + BJJ[0].to_bytes(32, "big") + BJJ[1].to_bytes(32, "big")


@dataclass
class Wired:
    council: object
    timelock: object
    verifier: object
    zk_bridge: Proxied
    zk: Proxied
    bridge: Proxied  # address recipients
    mock_rollup: object  # credits the address bridge

    def admin(self, project, p: Proxied):
        return project.IGovernedProxyAdmin.at(p.admin)


#: The zk rollup's council pause in these tests: 6 hours, Stage 2 mode unless said otherwise.
MAX_PAUSE = 6 * 3600


def zk_pause(council: str, *, needs_proven_bug: bool = True) -> tuple:
    # ICouncilPause.PauseConfig: pauser, maxPauseDuration, needsProvenBug
    return (council, MAX_PAUSE, needs_proven_bug)


def zk_constructor_args(bridge, verifier, freeze=FREEZE) -> tuple:
    return (bridge, verifier, verifier, GENESIS, TX_SLOTS, DEPOSIT_SLOTS, freeze, FORCED, DEPTH)


def deploy_wired(
    project, deployer, proposer, *, slack: int = SLACK, zk_stage2: bool = True
) -> Wired:
    timelock_at = create_address(deployer.address, deployer.nonce + _TXS_BEFORE_TIMELOCK)
    council = deployer.deploy(project.SecurityCouncil, COUNCIL, THRESHOLD)
    zk_bridge = deploy_proxied(project, deployer, project.L1Bridge, timelock_at, ("0x02",), ())
    verifier = deployer.deploy(project.AcceptingVerifier)
    zk = deploy_proxied(
        project,
        deployer,
        project.ZkRollup,
        timelock_at,
        zk_constructor_args(zk_bridge.contract, verifier),
        (
            timelock_at,
            verifier,
            verifier,
            GENESIS,
            FREEZE,
            zk_pause(council.address, needs_proven_bug=zk_stage2),
        ),
    )
    zk_bridge.contract.setRollup(zk.contract, sender=deployer)
    bridge = deploy_proxied(project, deployer, project.L1Bridge, timelock_at, ("0x01",), ())
    mock = deployer.deploy(project.MockRollup)
    bridge.contract.setRollup(mock, sender=deployer)
    delay = zk.contract.exitTime() + MARGIN + slack
    timelock = deployer.deploy(
        project.ExitWindowTimelock,
        delay,
        [proposer.address],
        [ZERO],
        [council.address],
        ZERO,
        MARGIN,
        [zk.contract.address, zk_bridge.contract.address],
    )
    check_timelock_address(timelock.address, timelock_at)
    return Wired(council, timelock, verifier, zk_bridge, zk, bridge, mock)


def empty_batch(rollup, sender, deposits=()):
    """An accepted batch (the verifier accepts anything) consuming `deposits` with no txs."""
    tx_data = b"\x00" * (TX_SLOTS * rollup.slotBytes())
    return rollup.submitBatch(12345, list(deposits), tx_data, PROOF, sender=sender)


def deposit_struct(leaf: int, amount: int, token: str = ETH) -> tuple:
    # IZkRollup.Deposit field order, as the contract's ABI gives it
    return (token, amount, BJJ[0], BJJ[1], leaf)
