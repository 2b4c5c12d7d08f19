"""Committed gas snapshots: the gas of every user-facing operation, one file per system.

As Uniswap v4 commits `snapshots/*.json` next to its code, l2kit commits
`snapshots/gas/<system>.json` so that a change in what users pay is a reviewed diff rather than an
accident. Each system has one deterministic scenario run on Anvil:

- a fresh deployment by test account 0 from a fixed nonce (so every contract lands at the same
  address and calldata holding addresses costs the same),
- fixed block times: the chain clock is set to START_TIME and each block is one second after the
  previous one (signatures over digests holding a deadline, and so their zero bytes, never vary),
- the named test accounts of the suite's mnemonic as users,
- inside an `evm_snapshot`/`evm_revert` pair: the node is left as it was found (its clock moved
  on by the time the scenario took).

Figures are transaction gas (`gasUsed`, including the 21,000 base). "cold"/"warm" in an operation's
name says whether it is the first of its kind in the scenario (storage slots written from zero,
accounts touched for the first time) or a repeat (slots already non-zero).

    python tools/snapshots.py write   # rewrite snapshots/abi/ and snapshots/gas/ (a fresh Anvil)
    ape test tests/tools -k gas       # re-measure and compare with the committed files
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
GAS_SNAPSHOTS = ROOT / "snapshots" / "gas"

#: The chain clock of every scenario (no zero byte in it, nor in the times a scenario reaches).
START_TIME = 0x6B6B6B6B
#: The deployer's nonce at the start of every scenario (above any nonce the test suite reaches).
DEPLOYER_NONCE = 0x10_0000
ETH = "0x" + "00" * 20
E = 10**18


@dataclass(frozen=True)
class Scenario:
    """How one system is measured: what the scenario does, and the function that runs it."""

    system: str
    description: str
    run: Callable[[], dict[str, int]]


# ------------------------------------------------------------------------------- the chain


def _rpc(method: str, params: list[Any]) -> Any:
    from ape import chain

    answer = chain.provider.web3.provider.make_request(method, params)
    if "error" in answer:
        raise RuntimeError(f"{method} failed on the node: {answer['error']}")
    return answer.get("result")


def _advance(seconds: int) -> None:
    """Mine a block `seconds` after the latest one (never the wall clock)."""
    from ape import chain

    latest = chain.provider.web3.eth.get_block("latest")["timestamp"]
    _rpc("evm_mine", [latest + seconds])


@contextmanager
def deterministic_chain() -> Iterator[None]:
    """Fixed clock, one second per block, the deployer at DEPLOYER_NONCE; reverted on exit."""
    from ape import accounts, chain

    latest = chain.provider.web3.eth.get_block("latest")["timestamp"]
    started = time.monotonic()
    snapshot = _rpc("evm_snapshot", [])
    try:
        _rpc("anvil_setTime", [START_TIME])
        _rpc("anvil_setBlockTimestampInterval", [1])
        _rpc("anvil_setNonce", [accounts.test_accounts[0].address, hex(DEPLOYER_NONCE)])
        yield
    finally:
        _rpc("anvil_removeBlockTimestampInterval", [])
        _rpc("evm_revert", [snapshot])
        # the clock goes on from where it was, as if the scenario had not run
        _rpc("anvil_setTime", [latest + int(time.monotonic() - started) + 1])


# ------------------------------------------------------------------------------ scenarios


def _bridge() -> dict[str, int]:
    from bench.bridge import measure

    names = {
        "deposit_eth_first": "depositETH (cold: first deposit)",
        "deposit_eth": "depositETH (warm)",
        "deposit_erc20_first": "depositERC20 (cold: first token deposit)",
        "deposit_erc20": "depositERC20 (warm)",
        "release_withdrawal_via_forwarder": "release a withdrawal (through MockRollup, cold payee)",
        "claim_eth": "claim ETH (payee's first claim)",
        "claim_erc20": "claim ERC-20 (payee holds no tokens: cold balance slot)",
    }
    return {names.get(k, k): v for k, v in measure().items()}


def _channels() -> dict[str, int]:
    from ape import accounts, chain, project

    from bench.channels import measure_gas

    deployer = accounts.test_accounts[0]
    users = accounts.test_accounts[1:5]
    adj = deployer.deploy(project.ChannelAdjudicator, 10_000)
    token = deployer.deploy(project.TestToken, "Bench", "BNC", 18)
    token.mint(users[0], 10**24, sender=deployer)
    abi = [x.model_dump(mode="json", by_alias=True) for x in adj.contract_type.abi]
    token_abi = [x.model_dump(mode="json", by_alias=True) for x in token.contract_type.abi]
    keys = [u.private_key for u in users]
    return measure_gas(adj.address, abi, chain.provider.uri, keys, token.address, token_abi)


def _governance() -> dict[str, int]:
    from ape import accounts, chain, project
    from eth_account import Account

    from offchain.governance.council import approve, call_digest, ordered
    from offchain.governance.deploy import GovernanceParams, deploy_stack

    deployer, proposer, user = accounts.test_accounts[:3]
    keys = [bytes([i + 1]) * 32 for i in range(9)]
    members = [Account.from_key(k).address for k in keys]
    params = GovernanceParams()

    def rollup(timelock: str, council: str) -> Any:
        return deployer.deploy(
            project.MockGovernedRollup,
            timelock,
            council,
            86_400,
            7 * 86_400,
            params.max_pause,
            False,
        )

    stack = deploy_stack(project, deployer, members, 7, [proposer.address], [ETH], params, [rollup])
    timelock, council, system = stack.timelock, stack.council, stack.systems[0]
    gas: dict[str, int] = {}
    zero32 = b"\x00" * 32
    delay = timelock.getMinDelay()
    data = system.setChallengePeriod.encode_input(7 * 86_400 - 3600)
    tx = timelock.schedule(system, 0, data, zero32, zero32, delay, sender=proposer)
    gas["timelock schedule (cold: first operation)"] = tx.gas_used
    _advance(delay)
    tx = timelock.execute(system, 0, data, zero32, zero32, sender=user)
    gas["timelock execute (a parameter change lowering the exit time)"] = tx.gas_used

    def council_call(target: Any, call: bytes, label: str) -> None:
        deadline = chain.provider.web3.eth.get_block("latest")["timestamp"] + 3600
        digest = call_digest(
            chain.chain_id, council.address, target.address, call, council.actionNonce(), deadline
        )
        sigs = ordered([approve(k, digest) for k in keys[:7]])
        gas[label] = council.execute(target, call, deadline, sigs, sender=user).gas_used

    council_call(
        system,
        system.pausePosting.encode_input(3600),
        "council execute: pausePosting (7 of 9 signatures)",
    )
    council_call(
        system, system.unpausePosting.encode_input(), "council execute: unpausePosting (7 of 9)"
    )
    return gas


def _rollup() -> dict[str, int]:
    from ape import accounts, chain, project
    from eth_account import Account as EthAccount
    from hexbytes import HexBytes

    from offchain.bls import g2_words
    from offchain.rollup.codec import encode_forced_tx
    from offchain.rollup.honest_proposer import HonestProposer
    from offchain.rollup.l1 import RollupL1, Signer
    from offchain.rollup.types import Transfer
    from offchain.rollup.validator import Validator
    from offchain.rollup.wallet import derive_key, sign_transfer, sign_withdraw

    bond, challenge, activation_delay = E, 3600, 3
    w3 = chain.provider.web3
    test = accounts.test_accounts
    deployer = test[0]
    bridge = deployer.deploy(project.L1Bridge, b"\x01")
    registry = deployer.deploy(project.BLSKeyRegistry, activation_delay)
    rollup = deployer.deploy(project.Rollup, bridge, bond, challenge, 86_400, 30 * 86_400, registry)
    bridge.setRollup(rollup, sender=deployer)
    l1 = RollupL1(w3, rollup.address, bridge.address)
    dst = l1.signing_dst()
    signers = [Signer(w3, bytes(HexBytes(test[i].private_key))) for i in range(6)]
    operator, alice, bob, watcher, forcer = (
        signers[1],
        signers[2],
        signers[3],
        signers[4],
        signers[5],
    )
    chain_id = int(w3.eth.chain_id)
    # format v2: each user's BLS key is derived from its L1 wallet (deterministic)
    keys = {
        s: derive_key(EthAccount.from_key(s.private_key), chain_id, registry.address)
        for s in (alice, bob)
    }
    gas: dict[str, int] = {}
    gas["bond (cold: first bond)"] = operator.send(l1.rollup.functions.bond(), value=bond)[
        "gasUsed"
    ]
    gas["bond (warm: top-up)"] = operator.send(l1.rollup.functions.bond(), value=bond)["gasUsed"]
    for s, temperature in (
        (alice, "first key in the registry"),
        (bob, "another address's first key"),
    ):
        register = l1.registry.functions.register(g2_words(keys[s].public_key().eip2537()))
        gas[f"register BLS key ({temperature})"] = s.send(register)["gasUsed"]
    _rpc("anvil_mine", [hex(activation_delay + 1)])  # both keys valid from the next block on
    for s in (alice, bob, forcer):
        s.send(l1.bridge.functions.depositETH(b"\x01" + bytes.fromhex(s.address[2:])), value=E)
    op = HonestProposer(l1, operator, fee_account=0)
    _, receipt = op.step([])
    gas["postBatch: 3 deposits, no transfers (cold: first batch)"] = receipt["gasUsed"]
    # accounts 0, 1, 2 are alice, bob and the forcer (deposit order)
    transfers = [sign_transfer(keys[alice], dst, 0, 1, 10**12, 1000, n) for n in range(8)]
    _, receipt = op.step(transfers)
    gas["postBatch: 8 transfers, one aggregate signature (warm)"] = receipt["gasUsed"]
    # a forced transaction is authenticated by its L1 sender: no signature, no key needed
    forced = encode_forced_tx(Transfer(2, 1, 10**12, 1000))
    tx = forcer.send(l1.rollup.functions.forceTransaction(forced))
    gas["forceTransaction (cold: first forced tx)"] = tx["gasUsed"]
    withdraw = sign_withdraw(keys[bob], dst, 1, 10**17, 0, 0)
    op.step([withdraw])
    _advance(challenge + 1)
    claim = Validator(l1, watcher).check().withdrawals[-1]
    tx = watcher.send(l1.rollup.functions.finalizeWithdrawal(claim.as_abi()))
    gas["finalizeWithdrawal (cold: first withdrawal)"] = tx["gasUsed"]
    tx = operator.send(l1.rollup.functions.releaseBonds(10))
    gas["releaseBonds (3 batches past their window)"] = tx["gasUsed"]
    tx = operator.send(l1.rollup.functions.withdrawBond(bond, operator.address))
    gas["withdrawBond"] = tx["gasUsed"]
    gas.update(_rollup_blobs(l1, operator, watcher, bond))
    return gas


def _rollup_blobs(l1: Any, operator: Any, watcher: Any, bond: int) -> dict[str, int]:
    """Blob postings of 32-transfer commitments (framing-valid filler: only their gas is
    measured) and the worst blob dispute: a lie in a commitment spanning 16 blob elements."""
    from offchain.blobs import encoding
    from offchain.blobs.tx import send_blobs
    from offchain.rollup import blob_batches as bb
    from offchain.rollup.codec import commitment_length
    from offchain.rollup.posting import POST_BLOB_BATCHES_SELECTOR, encode_posting

    rest_len = commitment_length(0, 32, 0, 0) - 32  # 439 bytes

    def posting(batches: int, commitments: int) -> bb.BlobPosting:
        rests = [
            [
                (
                    bytes([0x11]) * 32,
                    bytes([0, 32, 0, 0]) + bytes([k + 1, i + 1]) * (rest_len // 2 - 2) + b"\x01",
                )
                for i in range(commitments)
            ]
            for k in range(batches)
        ]
        return bb.encode_posting(rests)

    def post(p: bb.BlobPosting, blobs: list[bytes] | None = None) -> dict:
        pre = l1.rollup.functions.head().call()[0]
        data = encode_posting(pre, p.data, POST_BLOB_BATCHES_SELECTOR)
        sent = send_blobs(operator.sender, l1.rollup.address, data, blobs or p.blobs())
        return sent.receipt

    operator.send(l1.rollup.functions.bond(), value=10 * bond)
    gas: dict[str, int] = {}
    gas["postBlobBatches: 1 batch of 1 commitment, 32 transfers (1 blob)"] = post(posting(1, 1))[
        "gasUsed"
    ]
    gas["postBlobBatches: 1 batch of 64 commitments, 32 transfers each (1 blob)"] = post(
        posting(1, 64)
    )["gasUsed"]
    full = posting(4, 64)
    # commitment 5 of the first batch starts at payload byte 5 * 439: its rest spans 16 elements
    at = full.batches[0].rest_offsets()[5]
    assert len(bb.element_span(at, rest_len)) == 16
    gas["postBlobBatches: 4 batches of 64 commitments, 32 transfers each (1 full blob)"] = post(
        full
    )["gasUsed"]
    first = l1.rollup.functions.batchCount().call()
    lie = bytearray(full.payload)
    lie[at + 100] ^= 1
    post(full, encoding.encode(bytes(lie)))
    proof = bb.blob_proof(first, full.batches[0], 5, encoding.encode(bytes(lie)))
    tx = watcher.send(l1.rollup.functions.proveBlobFraud(proof))
    gas["proveBlobFraud: 32-transfer commitment over 16 blob elements (worst case)"] = tx["gasUsed"]
    return gas


def _zk() -> dict[str, int]:
    from ape import accounts, project

    from offchain.recipient import babyjubjub_recipient

    deployer, user = accounts.test_accounts[:2]
    bridge = deployer.deploy(project.L1Bridge, b"\x02")
    verifier = deployer.deploy(project.AcceptingVerifier)
    rollup = deployer.deploy(
        project.ZkRollup, bridge, verifier, verifier, 1, 4, 2, 7 * 86_400, 86_400, 20
    )
    bridge.setRollup(rollup, sender=deployer)
    token = deployer.deploy(project.TestToken, "Bench", "BNC", 18)
    token.mint(user, 10**24, sender=deployer)
    token.approve(bridge, 10**24, sender=user)
    # the BabyJubJub base point (order 8 * prime): a key the bridge accepts
    base = babyjubjub_recipient(
        5299619240641551281634865583518297030282874472190772894086521144482721001553,
        16950150798460657717958625567821834550301663161624707787222815936182638968203,
    )
    gas: dict[str, int] = {}
    gas["depositETH to a BabyJubJub key (cold)"] = bridge.depositETH(
        base, value=E, sender=user
    ).gas_used
    gas["depositETH to a BabyJubJub key (warm)"] = bridge.depositETH(
        base, value=E, sender=user
    ).gas_used
    gas["depositERC20 to a BabyJubJub key (cold token)"] = bridge.depositERC20(
        token, E, base, sender=user
    ).gas_used
    tx = rollup.requestDepositInclusion(sender=user)
    gas["requestDepositInclusion (3 deposits waiting)"] = tx.gas_used
    proof = [1] * 8
    tx = rollup.requestForcedWithdrawal(0, ETH, E, user, 0, proof, sender=user)
    gas["requestForcedWithdrawal (stand-in verifier: pairing excluded)"] = tx.gas_used
    return gas


SCENARIOS = (
    Scenario(
        "bridge",
        "L1Bridge (address recipients) wired to a MockRollup that forwards releases; users are "
        "test accounts 1 (depositor) and 2 (payee); TestToken minted and approved beforehand. "
        "Measured by bench/bridge.py's measure().",
        _bridge,
    ),
    Scenario(
        "channels",
        "ChannelAdjudicator (stale-close penalty 100%, channels with 100 s settlement periods) "
        "and a TestToken; participants are test accounts 1 and 2 through "
        "offchain.channels.ChainClient. Each operation is the first of its kind on its channel; "
        "'claim (ETH)' is the payee's first claim. Measured by bench/channels.py's measure_gas().",
        _channels,
    ),
    Scenario(
        "governance",
        "SecurityCouncil (9 members, threshold 7), ExitWindowTimelock at its floor delay and one "
        "MockGovernedRollup (forced inclusion 1 day, challenge 7 days) as the governed system; "
        "test account 1 proposes, 2 executes.",
        _governance,
    ),
    Scenario(
        "rollup",
        "Rollup format v2 (bond 1 ETH, challenge 3600 s) with its L1Bridge and BLSKeyRegistry "
        "(activation delay 3 blocks); test account 1 operates (offchain.rollup.HonestProposer), "
        "accounts 2 and 3 register BLS keys derived from their wallets "
        "(offchain.rollup.wallet.derive_key), accounts 2, 3 and 5 deposit 1 ETH each, 5 forces "
        "an unsigned transfer, 4 finalizes.",
        _rollup,
    ),
    Scenario(
        "zk",
        "ZkRollup (4 tx slots, 2 deposit slots) with AcceptingVerifier stand-ins (no proving: the "
        "Groth16 pairing is not in these figures; batch submission is measured by bench/zk.py) "
        "and its L1Bridge for BabyJubJub recipients; test account 1 deposits. Will change with "
        "the format work of issue 14.",
        _zk,
    ),
)


# ---------------------------------------------------------------- measuring and comparing


def measure(scenario: Scenario) -> dict[str, int]:
    """Run one scenario on the connected node (left as it was found)."""
    with deterministic_chain():
        return {name: int(gas) for name, gas in scenario.run().items()}


def render(scenario: Scenario, gas: dict[str, int]) -> str:
    body = {"system": scenario.system, "scenario": scenario.description, "gas": gas}
    return json.dumps(body, indent=2) + "\n"


def committed(system: str, snapshots: Path = GAS_SNAPSHOTS) -> dict[str, int]:
    path = snapshots / f"{system}.json"
    if not path.exists():
        return {}
    return {str(k): int(v) for k, v in json.loads(path.read_text())["gas"].items()}


def differences(system: str, old: dict[str, int], new: dict[str, int]) -> list[str]:
    """One line per operation whose gas differs, naming the system, operation, old and new gas."""
    out = []
    for name in sorted(set(old) | set(new)):
        if name not in old:
            out.append(f"{system}: {name}: new operation, {new[name]:,} gas (no snapshot)")
        elif name not in new:
            out.append(f"{system}: {name}: in the snapshot ({old[name]:,} gas), no longer measured")
        elif old[name] != new[name]:
            delta = new[name] - old[name]
            out.append(f"{system}: {name}: {old[name]:,} -> {new[name]:,} gas ({delta:+,})")
    return out


def write(snapshots: Path = GAS_SNAPSHOTS) -> list[Path]:
    """Measure every scenario on the connected node and rewrite its snapshot file."""
    snapshots.mkdir(parents=True, exist_ok=True)
    paths = []
    for scenario in SCENARIOS:
        path = snapshots / f"{scenario.system}.json"
        path.write_text(render(scenario, measure(scenario)))
        paths.append(path)
    return paths
