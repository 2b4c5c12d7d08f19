# SPDX-License-Identifier: GPL-3.0-or-later
"""L1 encoding for the zk rollup: reading the bridge's deposit queue and the rollup's forced queue,
and the calldata of `ZkRollup.submitBatch` / `exit` / `requestForcedWithdrawal`. Plain web3.py
and eth-abi, no Ape."""

from __future__ import annotations

from typing import Any

from eth_abi import decode, encode
from eth_utils import keccak, to_checksum_address

from offchain import bridge as bridge_logs
from offchain.zk.batch import Batch
from offchain.zk.exit import ExitClaim
from offchain.zk.prover import Proof
from offchain.zk.replay import PostedBatch, PostedDeposit
from offchain.zk.txs import Deposit, ForcedWithdrawal

DEPOSIT_QUEUED_TOPIC = bridge_logs.DEPOSIT_QUEUED_TOPIC
SUBMIT_SIG = "submitBatch(uint256,(address,uint256,uint256,uint256,uint32)[],bytes,uint256[8])"
SUBMIT_SELECTOR = keccak(text=SUBMIT_SIG)[:4]
EXIT_SIG = "exit(uint32,address,uint256,address,uint256[8])"
EXIT_SELECTOR = keccak(text=EXIT_SIG)[:4]
REFUND_SIG = "refundDeposit(uint256,address,uint256,uint256,uint256)"
REFUND_SELECTOR = keccak(text=REFUND_SIG)[:4]
FORCE_SIG = "requestForcedWithdrawal(uint32,address,uint256,address,uint256,uint256[8])"
FORCE_SELECTOR = keccak(text=FORCE_SIG)[:4]
FORCED_REQUESTED_TOPIC = keccak(
    text="ForcedWithdrawalRequested(uint256,uint256,address,address,uint256)"
)


def decode_deposit_log(log: Any) -> Deposit:
    """A `DepositQueued` log of the bridge as a Deposit."""
    d = bridge_logs.decode_deposit_log(log)
    return Deposit.from_recipient(d.index, int(d.token, 16), d.amount, d.recipient)


def read_deposits(web3: Any, bridge: str, start: int, count: int) -> tuple[Deposit, ...]:
    """Up to `count` queued deposits from queue index `start` on, in order."""
    if count <= 0:
        return ()
    indices = [i.to_bytes(32, "big") for i in range(start, start + count)]
    logs = web3.eth.get_logs(
        {
            "address": to_checksum_address(bridge),
            "fromBlock": 0,
            "toBlock": "latest",
            "topics": [DEPOSIT_QUEUED_TOPIC, indices],
        }
    )
    deposits = sorted((decode_deposit_log(lg) for lg in logs), key=lambda d: d.queue_index)
    expected = list(range(start, start + len(deposits)))
    if [d.queue_index for d in deposits] != expected:
        raise RuntimeError(
            f"deposit logs from {start} have gaps: {[d.queue_index for d in deposits]}"
        )
    return tuple(deposits)


def decode_forced_log(log: Any) -> ForcedWithdrawal:
    """A `ForcedWithdrawalRequested` log of the rollup as a ForcedWithdrawal."""
    topics = [bytes(t) for t in log["topics"]]
    if len(topics) != 3 or topics[0] != FORCED_REQUESTED_TOPIC:
        raise ValueError("not a ForcedWithdrawalRequested log")
    token, recipient, deadline = decode(["address", "address", "uint256"], bytes(log["data"]))
    return ForcedWithdrawal(
        queue_index=int.from_bytes(topics[1], "big"),
        leaf_index=int.from_bytes(topics[2], "big"),
        token=int(token, 16),
        recipient=int(recipient, 16),
        deadline=int(deadline),
    )


def read_forced(web3: Any, rollup: str, start: int, count: int) -> tuple[ForcedWithdrawal, ...]:
    """Up to `count` forced withdrawals of the rollup's queue from position `start` on, in order."""
    if count <= 0:
        return ()
    indices = [i.to_bytes(32, "big") for i in range(start, start + count)]
    logs = web3.eth.get_logs(
        {
            "address": to_checksum_address(rollup),
            "fromBlock": 0,
            "toBlock": "latest",
            "topics": [FORCED_REQUESTED_TOPIC, indices],
        }
    )
    found = sorted((decode_forced_log(lg) for lg in logs), key=lambda r: r.queue_index)
    if [r.queue_index for r in found] != list(range(start, start + len(found))):
        raise RuntimeError(
            f"forced-queue logs from {start} have gaps: {[r.queue_index for r in found]}"
        )
    return tuple(found)


def submit_args(batch: Batch, proof: Proof) -> tuple[Any, ...]:
    """Arguments of `submitBatch` for a proven batch."""
    deposits = [
        (
            to_checksum_address(d.token.to_bytes(20, "big")),
            d.amount,
            d.pubkey[0],
            d.pubkey[1],
            max(leaf, 0),
        )
        for d, leaf in zip(batch.deposits, batch.deposit_leaves, strict=True)
    ]
    return (batch.new_state.root, deposits, batch.tx_data, list(proof.words))


def submit_calldata(batch: Batch, proof: Proof) -> bytes:
    """ABI-encoded `submitBatch` call."""
    types = ["uint256", "(address,uint256,uint256,uint256,uint32)[]", "bytes", "uint256[8]"]
    return SUBMIT_SELECTOR + encode(types, list(submit_args(batch, proof)))


def decode_submit(data: bytes) -> PostedBatch:
    """The arguments of a `submitBatch` calldata as a PostedBatch (L1 fields left empty)."""
    if data[:4] != SUBMIT_SELECTOR:
        raise ValueError("not a submitBatch call")
    types = ["uint256", "(address,uint256,uint256,uint256,uint32)[]", "bytes", "uint256[8]"]
    new_root, deposits, tx_data, _ = decode(types, data[4:])
    return PostedBatch(
        batch_index=-1,
        old_root=-1,
        new_root=new_root,
        first_deposit=-1,
        deposits=tuple(
            PostedDeposit(int(token, 16), amount, ax, ay, leaf)
            for token, amount, ax, ay, leaf in deposits
        ),
        tx_data=bytes(tx_data),
        l1_tx_hash="",
        l1_block=-1,
        submitter="",
    )


def exit_args(claim: ExitClaim, proof: Proof) -> tuple[Any, ...]:
    return (
        claim.leaf_index,
        to_checksum_address(claim.token.to_bytes(20, "big")),
        claim.balance,
        to_checksum_address(claim.recipient.to_bytes(20, "big")),
        list(proof.words),
    )


def exit_calldata(claim: ExitClaim, proof: Proof) -> bytes:
    types = ["uint32", "address", "uint256", "address", "uint256[8]"]
    return EXIT_SELECTOR + encode(types, list(exit_args(claim, proof)))


def refund_args(deposit: Deposit) -> tuple[Any, ...]:
    """Arguments of `ZkRollup.refundDeposit` for a queued deposit (the bridge's evidence)."""
    return (
        deposit.queue_index,
        to_checksum_address(deposit.token.to_bytes(20, "big")),
        deposit.amount,
        deposit.pubkey[0],
        deposit.pubkey[1],
    )


def refund_calldata(deposit: Deposit) -> bytes:
    """ABI-encoded `refundDeposit` call: after a freeze, anyone may send it for any deposit at
    or past `depositsProcessed`; the bridge credits the L1 account that paid the deposit."""
    types = ["uint256", "address", "uint256", "uint256", "uint256"]
    return REFUND_SELECTOR + encode(types, list(refund_args(deposit)))


def forced_request_args(claim: ExitClaim, proof: Proof, root_count: int) -> tuple[Any, ...]:
    """Arguments of `requestForcedWithdrawal`: an exit claim built on the state the rollup had
    after `root_count` batches (`rootAt(root_count)` on L1)."""
    return (
        claim.leaf_index,
        to_checksum_address(claim.token.to_bytes(20, "big")),
        claim.balance,
        to_checksum_address(claim.recipient.to_bytes(20, "big")),
        root_count,
        list(proof.words),
    )


def forced_request_calldata(claim: ExitClaim, proof: Proof, root_count: int) -> bytes:
    types = ["uint32", "address", "uint256", "address", "uint256", "uint256[8]"]
    return FORCE_SELECTOR + encode(types, list(forced_request_args(claim, proof, root_count)))
