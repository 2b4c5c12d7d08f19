"""Deploy the governance contracts with Ape (shared by tests, the bench and the later wiring).

Order problem: a governed system needs the timelock's address (its setters ask the timelock), and
the timelock's constructor reads every governed system's exitTime(). The deployer therefore
predicts the timelock's CREATE address from its own nonce, deploys the systems pointing there,
then deploys the timelock at exactly that nonce (checked).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import rlp
from eth_utils import keccak, to_bytes, to_checksum_address

from offchain.errors import L2KitError

DAY = 86_400
#: L2BEAT Stage 2 asks for at least 30 days to exit after an upgrade is announced.
STAGE2_EXIT_WINDOW = 30 * DAY
STAGE1_EXIT_WINDOW = 7 * DAY


def create_address(sender: str, nonce: int) -> str:
    """The address CREATE gives the contract `sender` deploys with `nonce`."""
    return to_checksum_address(keccak(rlp.encode([to_bytes(hexstr=sender), nonce]))[12:])


@dataclass(frozen=True)
class GovernanceParams:
    """What the governance deployment is configured with."""

    #: Seconds users have, after the longest exit, to notice and start (L2BEAT's exit window).
    margin: int = STAGE2_EXIT_WINDOW
    #: Longest council pause of posting.
    #: Below the forced inclusion delay (1 day), so a pause alone never lets anyone freeze.
    max_pause: int = 12 * 3600
    #: Stage 2 mode: the council may pause only on an on-chain proven bug.
    pause_needs_proven_bug: bool = True


@dataclass
class GovernanceStack:
    """The deployed governance contracts (Ape contract instances)."""

    council: object
    timelock: object
    systems: list


def deploy_stack(
    project: Any,  # ape's project manager
    deployer: Any,  # an ape account
    members: Sequence[str],
    threshold: int,
    proposers: Sequence[str],
    executors: Sequence[str],
    params: GovernanceParams,
    systems: Sequence[Callable[[str, str], Any]],  # each returns an Ape contract instance
    min_delay: int | None = None,
) -> GovernanceStack:
    """Council, then each system (built by `systems[i](timelock_address, council_address)`, one
    deployment each), then the timelock at the predicted address. `min_delay` defaults to the
    floor (longest exitTime + margin)."""
    council = deployer.deploy(project.SecurityCouncil, list(members), threshold)
    timelock_at = create_address(deployer.address, deployer.nonce + len(systems))
    deployed = [make(timelock_at, council.address) for make in systems]
    longest = max((s.exitTime() for s in deployed), default=0)
    delay = longest + params.margin if min_delay is None else min_delay
    timelock = deployer.deploy(
        project.ExitWindowTimelock,
        delay,
        list(proposers),
        list(executors),
        [council.address],
        "0x0000000000000000000000000000000000000000",
        params.margin,
        [s.address for s in deployed],
    )
    if timelock.address != timelock_at:
        raise L2KitError(
            f"timelock landed at {timelock.address}, not the predicted {timelock_at}: the deployer "
            "sent another transaction in between; redeploy from a quiet account"
        )
    return GovernanceStack(council, timelock, deployed)
