"""The governance step of the demo (issue 15, docs/governance.md): what a user of the deployed
rollup sees of its governance, on the contracts `deploy_all` wired.

1. The exit window: the timelock's delay against the longest exit time, both read from L1.
2. A parameter change is proposed (the optimistic rollup's challenge period doubled); the
   watcher (`offchain.governance.chain.TimelockReader`, what `ape run governance inspect` and the
   validator's `/status` use) shows it decoded, with when it can execute and how long users have
   to start an exit that completes first.
3. The Security Council cancels it (its development members sign; local chain only).
4. The council's emergency pause of posting is refused in the deployment's Stage 2 mode: no bug
   is proven on chain (the call is simulated, so nothing is paused).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from web3 import Web3
from web3.contract import Contract
from web3.exceptions import ContractCustomError, ContractLogicError

from offchain.chain import abi_of
from offchain.deployments import Deployment
from offchain.errors import DemoError
from offchain.governance.chain import TimelockReader
from offchain.governance.council import approve, call_digest, ordered
from offchain.governance.watch import Status, pending
from offchain.governance.wiring import DEV_COUNCIL_KEYS, DEV_COUNCIL_THRESHOLD
from offchain.rollup.l1 import Signer

Log = Callable[[str], None]
ZERO32 = b"\x00" * 32
SALT = b"l2kit demo: a cancelled change".ljust(32, b"\x00")


@dataclass(frozen=True)
class GovernanceFigures:
    delay_s: int
    longest_exit_s: int
    time_left_to_exit_s: int
    cancelled: bool
    pause_refused: str


def _council_execute_data(
    w3: Web3, council: Contract, target: str, data: bytes
) -> tuple[bytes, int, list[bytes]]:
    deadline = int(w3.eth.get_block("latest")["timestamp"]) + 3600
    nonce = council.functions.actionNonce().call()
    digest = call_digest(int(w3.eth.chain_id), council.address, target, data, nonce, deadline)
    keys = DEV_COUNCIL_KEYS[:DEV_COUNCIL_THRESHOLD]
    return data, deadline, ordered([approve(k, digest) for k in keys])


def run(w3: Web3, deployment: Deployment, proposer_key: bytes, say: Log) -> GovernanceFigures:
    """Propose, watch and cancel a change; show the council's pause refused."""
    timelock = w3.eth.contract(
        address=deployment.address("Timelock"), abi=abi_of("ExitWindowTimelock")
    )
    council = w3.eth.contract(
        address=deployment.address("SecurityCouncil"), abi=abi_of("SecurityCouncil")
    )
    rollup = w3.eth.contract(address=deployment.address("Rollup"), abi=abi_of("RollupGovernor"))
    challenge = w3.eth.contract(address=rollup.address, abi=abi_of("Rollup"))
    signer = Signer(w3, proposer_key)

    delay = timelock.functions.getMinDelay().call()
    floor = timelock.functions.delayFloor().call()
    margin = timelock.functions.margin().call()
    longest = floor - margin
    say(
        f"timelock delay {delay:,} s = longest exit {longest:,} s + margin {margin:,} s or more "
        "(refused on chain below that): every upgrade and parameter change waits it out"
    )

    period = challenge.functions.challengePeriod().call()
    data = bytes.fromhex(rollup.encode_abi("setChallengePeriod", [period * 2]).removeprefix("0x"))
    start = w3.eth.block_number
    signer.send(timelock.functions.schedule(rollup.address, 0, data, ZERO32, SALT, delay))
    reader = TimelockReader(w3, timelock.address)
    live = pending(reader.report(start).changes)
    if len(live) != 1:
        raise DemoError(f"the watcher shows {len(live)} pending changes, expected the one proposed")
    change = live[0]
    say(f"proposed, as the watcher shows it: {change.describe()}")

    cancel = bytes.fromhex(timelock.encode_abi("cancel", [change.id]).removeprefix("0x"))
    _, deadline, sigs = _council_execute_data(w3, council, timelock.address, cancel)
    signer.send(council.functions.execute(timelock.address, cancel, deadline, sigs))
    (after,) = [c for c in reader.report(start).changes if c.id == change.id]
    if after.status is not Status.CANCELLED:
        raise DemoError(f"the council's cancel left the change {after.status.name}")
    say(f"the Security Council ({DEV_COUNCIL_THRESHOLD} of {len(DEV_COUNCIL_KEYS)}) cancelled it")

    pause = bytes.fromhex(rollup.encode_abi("pausePosting", [60]).removeprefix("0x"))
    _, deadline, sigs = _council_execute_data(w3, council, rollup.address, pause)
    refused = ""
    try:
        council.functions.execute(rollup.address, pause, deadline, sigs).call(
            {"from": signer.address}
        )
    except (ContractCustomError, ContractLogicError) as e:
        reason = str(e.args[0]) if e.args else ""
        no_bug = Web3.keccak(text="NoProvenBug()")[:4].hex()
        refused = "NoProvenBug" if no_bug in reason else reason[:80]
    if not refused:
        raise DemoError("the council could pause posting without a proven bug (Stage 2 mode)")
    say(
        f"the council's pause of posting is refused ({refused}): Stage 2 mode, no bug proven on "
        "chain; exits, forced transactions, proofs and claims are never pausable"
    )
    return GovernanceFigures(delay, longest, change.time_left_to_exit, True, refused)
