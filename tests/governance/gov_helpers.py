"""Helpers for the governance tests: council keys and approvals, time travel, a deployed stack."""

from __future__ import annotations

from dataclasses import dataclass

from eth_account import Account
from support.chain import latest_timestamp, mine_after

from offchain.governance.council import approve, call_digest, ordered
from offchain.governance.deploy import DAY, GovernanceParams, deploy_stack

ZERO = "0x0000000000000000000000000000000000000000"
ZERO32 = b"\x00" * 32
#: Nine members, threshold 7 (7/9 = 77.8% >= 75%).
COUNCIL_KEYS = [bytes([i + 1]) * 32 for i in range(9)]
COUNCIL = [Account.from_key(k).address for k in COUNCIL_KEYS]
THRESHOLD = 7

FID = 1 * DAY  # forced inclusion delay of the optimistic mock
CP = 7 * DAY  # its challenge period
ZK_FREEZE = 3 * DAY  # exit time of the zk-like mock
MARGIN = 30 * DAY
MAX_PAUSE = 12 * 3600  # below FID, as the deployment default


def advance(chain, seconds: int) -> None:
    """Mine a block exactly `seconds` after the latest one (`support.chain.mine_after`)."""
    mine_after(chain.provider.web3, seconds)


def now(chain) -> int:
    return latest_timestamp(chain.provider.web3)


def sign_call(chain, council, target: str, data: bytes, keys=None, nonce=None, deadline=None):
    """Ordered approvals of `keys` (default: the first THRESHOLD members) for one council call."""
    keys = COUNCIL_KEYS[:THRESHOLD] if keys is None else keys
    nonce = council.actionNonce() if nonce is None else nonce
    deadline = now(chain) + 3600 if deadline is None else deadline
    digest = call_digest(chain.chain_id, council.address, target, data, nonce, deadline)
    return deadline, ordered([approve(k, digest) for k in keys])


def council_call(chain, council, sender, target, data: bytes, **kw):
    """Execute `target.call(data)` through the council with THRESHOLD approvals."""
    deadline, sigs = sign_call(chain, council, str(target), data, **kw)
    return council.execute(target, data, deadline, sigs, sender=sender)


@dataclass
class Stack:
    council: object
    timelock: object
    rollup: object  # optimistic-like mock: exit time FID + CP
    zk: object  # zk-like mock: exit time ZK_FREEZE


def deploy(project, deployer, proposer, *, stage2=False, min_delay=None) -> Stack:
    def optimistic(timelock, council):
        return deployer.deploy(
            project.MockGovernedRollup, timelock, council, FID, CP, MAX_PAUSE, stage2
        )

    def zk(timelock, council):
        return deployer.deploy(
            project.MockGovernedRollup, timelock, council, ZK_FREEZE, 0, MAX_PAUSE, stage2
        )

    s = deploy_stack(
        project,
        deployer,
        COUNCIL,
        THRESHOLD,
        [proposer.address],
        [ZERO],
        GovernanceParams(margin=MARGIN, max_pause=MAX_PAUSE, pause_needs_proven_bug=stage2),
        [optimistic, zk],
        min_delay=min_delay,
    )
    return Stack(s.council, s.timelock, s.systems[0], s.systems[1])


def schedule(timelock, proposer, target, data: bytes, delay: int, salt: bytes = ZERO32):
    return timelock.schedule(target, 0, data, ZERO32, salt, delay, sender=proposer)


def execute(timelock, sender, target, data: bytes, salt: bytes = ZERO32):
    return timelock.execute(target, 0, data, ZERO32, salt, sender=sender)
