# SPDX-License-Identifier: GPL-3.0-or-later
"""Constants and helpers shared by the zk rollup tests."""

from __future__ import annotations

from dataclasses import dataclass

from offchain.zk.babyjub import PrivateKey
from offchain.zk.batch import Batch
from offchain.zk.chain import submit_args
from offchain.zk.params import CircuitParams
from offchain.zk.prover import Proof
from offchain.zk.txs import Deposit, domain_of, recipient_bytes

PARAMS = CircuitParams(n_txs=2, n_deposits=2, depth=4)
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
