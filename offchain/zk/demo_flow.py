# SPDX-License-Identifier: GPL-3.0-or-later
"""The zk part of `make demo`: two users bridge ETH to their BabyJubJub keys, the zk batcher
proves a batch (deposits, a transfer, a withdrawal), verifies the proof locally and posts it; L1
checks the proof, so the batch is final at once and the withdrawal is claimable immediately."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from eth_account.signers.local import LocalAccount
from web3 import Web3
from web3.contract import Contract

from offchain.demo.rollup_flow import send
from offchain.zk.babyjub import PrivateKey
from offchain.zk.batch_runner import ZkBatchRunner
from offchain.zk.circuit import dev_keys, rollup_spec
from offchain.zk.params import CircuitParams
from offchain.zk.prover import Groth16Prover
from offchain.zk.txs import TxKind, recipient_bytes, sign_tx

ETH = "0x0000000000000000000000000000000000000000"


@dataclass
class ZkFigures:
    transactions: int = 0
    prove_seconds: float = 0.0
    gas: int = 0
    calldata_bytes: int = 0
    withdrawal_claimed: int = 0


def run_zk(
    w3: Web3,
    bridge: Contract,
    rollup: Contract,
    operator: LocalAccount,
    users: tuple[LocalAccount, LocalAccount],
    params: CircuitParams,
    state_path: Path,
    log: Callable[[str], None],
) -> ZkFigures:
    figures = ZkFigures()
    keys = (PrivateKey(os.urandom(32)), PrivateKey(os.urandom(32)))
    for user, key, amount in zip(users, keys, (10**18, 5 * 10**17), strict=True):
        send(w3, user, bridge.functions.depositETH(recipient_bytes(key.public_key)), amount)
    log("2 users bridged 1.5 ETH to their BabyJubJub keys")

    state_path.unlink(missing_ok=True)
    started = time.monotonic()
    prover = Groth16Prover(dev_keys(rollup_spec(params)))
    op = ZkBatchRunner(w3, operator, rollup.address, bridge.address, params, prover, state_path)
    log(
        f"zk batcher ready (circuit N={params.n_txs}, D={params.n_deposits}, depth "
        f"{params.depth}; keys loaded in {time.monotonic() - started:.1f} s)"
    )
    alice, bob = keys
    payee = users[1]
    txs = (
        sign_tx(alice, op.domain, TxKind.TRANSFER, 0, 1, 3 * 10**17, 0),
        sign_tx(bob, op.domain, TxKind.WITHDRAW, 1, int(payee.address, 16), 2 * 10**17, 0),
    )
    receipt = op.run_batch(txs)
    figures.transactions = len(txs)
    figures.prove_seconds = receipt.prove_seconds
    figures.gas = receipt.gas_used
    figures.calldata_bytes = receipt.calldata_bytes
    log(
        f"batch proven in {receipt.prove_seconds:.1f} s, verified locally, accepted on L1 "
        f"({receipt.gas_used:,} gas, {receipt.calldata_bytes} calldata bytes)"
    )

    claimable = bridge.functions.claimable(payee.address, ETH).call()
    if claimable != 2 * 10**17:
        raise RuntimeError(f"the zk withdrawal is not claimable at once ({claimable} wei)")
    send(w3, payee, bridge.functions.claim(ETH, payee.address))
    figures.withdrawal_claimed = claimable
    log(
        "no challenge window: the withdrawal was claimable in the next L1 transaction, "
        f"{claimable / 1e18:.2f} ETH claimed"
    )
    return figures
