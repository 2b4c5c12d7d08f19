# SPDX-License-Identifier: GPL-3.0-or-later
"""Read accepted zk batches back from L1: every `BatchVerified` log and the `submitBatch`
arguments that produced it, whoever submitted it and however.

`submitBatch` is permissionless (the proof is the only authority), so a batch may come from any
account, directly or through a contract (a multisig, a relayer, a batch of calls). A direct call
is read from the transaction's input. For any other transaction the reader asks the node for a
call trace (`debug_traceTransaction` with the `callTracer`, which Anvil, geth, reth and Erigon
serve) and takes the successful calls to the rollup in execution order, pairing the k-th with
the transaction's k-th `BatchVerified` log. A node without traces gets a clear error instead of
a guess: point the operator at one that serves them."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from eth_abi import decode
from eth_utils import keccak, to_checksum_address

from offchain.errors import L2KitError
from offchain.zk.chain import SUBMIT_SELECTOR, decode_submit
from offchain.zk.replay import PostedBatch

BATCH_VERIFIED_TOPIC = keccak(text="BatchVerified(uint256,uint256,uint256,uint256,uint256,uint256)")
TX_SLOTS_SELECTOR = keccak(text="txSlots()")[:4]


class BatchUnreadable(L2KitError):
    """An accepted batch whose public data this node cannot give us."""


def read_posted_batches(w3: Any, rollup: str, start: int, end: int) -> list[PostedBatch]:
    """Batches `start .. end-1` as accepted on L1, in order."""
    if end <= start:
        return []
    rollup = to_checksum_address(rollup)
    logs = w3.eth.get_logs(
        {
            "address": rollup,
            "fromBlock": 0,
            "toBlock": "latest",
            "topics": [BATCH_VERIFIED_TOPIC, [i.to_bytes(32, "big") for i in range(start, end)]],
        }
    )
    by_index = {int.from_bytes(bytes(lg["topics"][1]), "big"): lg for lg in logs}
    if sorted(by_index) != list(range(start, end)):
        raise BatchUnreadable(
            f"the node returned BatchVerified logs {sorted(by_index)} for batches {start}.."
            f"{end - 1}: is it synced, and is {rollup} the rollup?"
        )
    # The txData splits into compact slots and payout records only with the rollup's slot count.
    (n_txs,) = decode(["uint256"], bytes(w3.eth.call({"to": rollup, "data": TX_SLOTS_SELECTOR})))
    calls: dict[bytes, list[bytes]] = {}
    out = []
    for i in range(start, end):
        lg = by_index[i]
        tx_hash = bytes(lg["transactionHash"])
        if tx_hash not in calls:
            calls[tx_hash] = _submit_inputs(w3, rollup, tx_hash)
        out.append(replace(_posted(w3, rollup, lg, calls[tx_hash]), n_txs=int(n_txs)))
    return out


def _posted(w3: Any, rollup: str, lg: Any, inputs: list[bytes]) -> PostedBatch:
    index = int.from_bytes(bytes(lg["topics"][1]), "big")
    old_root, new_root, first, count, _ = decode(["uint256"] * 5, bytes(lg["data"]))
    # The k-th BatchVerified of this rollup in the transaction comes from its k-th submit call.
    siblings = [
        x
        for x in w3.eth.get_transaction_receipt(lg["transactionHash"])["logs"]
        if to_checksum_address(x["address"]) == rollup
        and x["topics"]
        and bytes(x["topics"][0]) == BATCH_VERIFIED_TOPIC
    ]
    k = [int(x["logIndex"]) for x in siblings].index(int(lg["logIndex"]))
    tx_hex = "0x" + bytes(lg["transactionHash"]).hex()
    if len(inputs) != len(siblings):
        raise BatchUnreadable(
            f"transaction {tx_hex} accepted {len(siblings)} batches but {len(inputs)} submitBatch "
            "calls were found in it"
        )
    args = decode_submit(inputs[k])
    if args.new_root != new_root or len(args.deposits) != count:
        raise BatchUnreadable(
            f"batch {index}: the submitBatch call found in {tx_hex} does not match its log"
        )
    tx = w3.eth.get_transaction(lg["transactionHash"])
    return PostedBatch(
        batch_index=index,
        old_root=old_root,
        new_root=new_root,
        first_deposit=first,
        deposits=args.deposits,
        tx_data=args.tx_data,
        l1_tx_hash=tx_hex,
        l1_block=int(lg["blockNumber"]),
        submitter=str(tx["from"]),
    )


def _submit_inputs(w3: Any, rollup: str, tx_hash: bytes) -> list[bytes]:
    """The input of every successful `submitBatch` call to `rollup` in the transaction."""
    tx = w3.eth.get_transaction(tx_hash)
    data = bytes(tx["input"])
    if tx["to"] is not None and to_checksum_address(tx["to"]) == rollup:
        # A direct call: the transaction input is the call (it succeeded: it emitted the log).
        if data[:4] != SUBMIT_SELECTOR:
            raise BatchUnreadable(f"tx 0x{tx_hash.hex()} calls the rollup, not submitBatch")
        return [data]
    try:
        trace = w3.provider.make_request(
            "debug_traceTransaction", ["0x" + tx_hash.hex(), {"tracer": "callTracer"}]
        )
    except Exception as exc:  # transport errors: the node does not serve traces
        trace = {"error": {"message": str(exc)}}
    if "result" not in trace:
        raise BatchUnreadable(
            f"batch transaction 0x{tx_hash.hex()} reached the rollup through a contract and the "
            f"node gave no call trace ({trace.get('error')}): use an RPC endpoint that serves "
            "debug_traceTransaction (callTracer) to read it"
        )
    found: list[bytes] = []
    _walk(trace["result"], rollup, found)
    return found


def _walk(frame: dict, rollup: str, found: list[bytes]) -> None:
    """Depth-first in execution order; a frame that failed reverted its whole subtree."""
    if frame.get("error"):
        return
    inp = bytes.fromhex(str(frame.get("input", "0x"))[2:])
    to = frame.get("to")
    if (
        frame.get("type") == "CALL"
        and to
        and to_checksum_address(to) == rollup
        and inp[:4] == SUBMIT_SELECTOR
    ):
        found.append(inp)
    for child in frame.get("calls", []) or []:
        _walk(child, rollup, found)
