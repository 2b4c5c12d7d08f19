# SPDX-License-Identifier: GPL-3.0-or-later
"""Constants and helpers shared by the zk rollup tests."""

from __future__ import annotations

from dataclasses import dataclass

from offchain.zk.babyjub import PrivateKey
from offchain.zk.batch import Batch
from offchain.zk.chain import submit_args
from offchain.zk.circuit import CircuitKeys, verifier_args
from offchain.zk.params import CircuitParams
from offchain.zk.prover import Proof
from offchain.zk.tree import zero_hashes
from offchain.zk.txs import Deposit, domain_of, recipient_bytes

PARAMS = CircuitParams(n_txs=2, n_deposits=2, depth=4)
"""The scenario size (the demo's too): batch 0 carries both genesis deposits, Alice's transfer
and Bob's withdrawal; ~181k constraints."""
SMALL_PARAMS = CircuitParams(n_txs=1, n_deposits=1, depth=4)
"""The smallest circuit (one transaction slot, one deposit slot, one payout record), ~105k
constraints: a proof in about a third of PARAMS' time (SHA-256 over the public data is most of
both). For the tests whose behaviour needs no second slot in a batch and whose batch count does
not grow with one slot: the crash test stays on PARAMS (one tx per batch doubled its batches and
its final drain overran the 240 s limit at load 10)."""
FREEZE_PERIOD = 3600
FORCED_DELAY = 600
ALICE_KEY = PrivateKey(b"alice-l2-key-for-the-zk-tests!!!")
BOB_KEY = PrivateKey(b"bob-l2-key-for-the-zk-tests!!!!!")
MALLORY_KEY = PrivateKey(b"mallory-l2-key-for-the-zk-tests!")
# Explicit gas for rollup calls: Anvil's gas estimate after a snapshot revert can see storage of
# the reverted test (a withdrawal already released, so cheaper SSTOREs) and come out too low.
FIXED_GAS = 3_000_000
ALICE_DEPOSIT = 10**18
BOB_DEPOSIT = 5 * 10**17


@dataclass(frozen=True)
class ZkSystem:
    bridge: object
    rollup: object
    batch_verifier: object
    exit_verifier: object
    chain_id: int

    @property
    def rollup_int(self) -> int:
        return int(self.rollup.address, 16)

    @property
    def domain(self) -> int:
        return domain_of(self.chain_id, self.rollup_int)


@dataclass(frozen=True)
class Proven:
    batch: Batch
    proof: Proof

    def args(self) -> tuple:
        return submit_args(self.batch, self.proof)


def deploy_system(
    project,
    deployer,
    chain,
    params: CircuitParams,
    rollup_keys: CircuitKeys,
    exit_keys: CircuitKeys,
    freeze_period: int = FREEZE_PERIOD,
    forced_delay: int = FORCED_DELAY,
) -> ZkSystem:
    """Bridge (BabyJubJub recipients), both verifiers and a rollup of circuit size `params`,
    wired; `rollup_keys` must be the keys of that size."""
    if rollup_keys.spec.name != f"rollup-{params.tag}":
        raise ValueError(f"keys of {rollup_keys.spec.name} for a rollup of size {params.tag}")
    bridge = deployer.deploy(project.L1Bridge, b"\x02")
    bv = deployer.deploy(project.Groth16Verifier, *verifier_args(rollup_keys))
    ev = deployer.deploy(project.Groth16Verifier, *verifier_args(exit_keys))
    rollup = deployer.deploy(
        project.ZkRollup,
        bridge,
        bv,
        ev,
        zero_hashes(params.depth)[params.depth],
        params.n_txs,
        params.n_deposits,
        freeze_period,
        forced_delay,
        params.depth,
    )
    bridge.setRollup(rollup, sender=deployer)
    return ZkSystem(bridge, rollup, bv, ev, chain.chain_id)


GENESIS_DEPOSITS = (
    Deposit(0, 0, ALICE_DEPOSIT, ALICE_KEY.public_key),
    Deposit(1, 0, BOB_DEPOSIT, BOB_KEY.public_key),
)


def deposit_first_two(zk: ZkSystem, alice, bob) -> None:
    """Alice and Bob bridge ETH to their L2 keys (queue positions 0 and 1)."""
    zk.bridge.depositETH(
        recipient_bytes(ALICE_KEY.public_key), sender=alice, value=ALICE_DEPOSIT, gas=FIXED_GAS
    )
    zk.bridge.depositETH(
        recipient_bytes(BOB_KEY.public_key), sender=bob, value=BOB_DEPOSIT, gas=FIXED_GAS
    )


def submit(zk: ZkSystem, proven: Proven, sender, **overrides):
    """Post a proven batch, optionally with some arguments replaced (adversarial tests)."""
    new_root, deposits, tx_data, proof = proven.args()
    return zk.rollup.submitBatch(
        overrides.get("new_root", new_root),
        overrides.get("deposits", deposits),
        overrides.get("tx_data", tx_data),
        overrides.get("proof", proof),
        sender=sender,
        gas=FIXED_GAS,
    )
