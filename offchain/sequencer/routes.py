"""The batcher's HTTP JSON API: submit signed L2 transactions and query what the operator knows.

POST /tx                  {"type": "transfer", "from": 3, "to": 5, "amount": "1000",
                           "fee": "0", "nonce": 0, "signature": "0x<64 bytes>"}
                          {"type": "withdraw", "from": 3, "amount": "1000", "fee": "0",
                           "nonce": 1, "signature": "0x..."}
GET  /tx/<hash>           status: pending | batched | posted | final | dropped
GET  /account/<index>     owner, token, balance, nonce (pending and confirmed)
GET  /accounts/<address>  the account indexes an L1 address owns
GET  /batch/<index>       status and L1 transaction of a batch
GET  /withdrawal/<hash>   the proof `Rollup.finalizeWithdrawal` needs
GET  /status              head, counts, throughput
"""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

from web3 import Web3

from offchain.rollup.codec import is_packable_amount, is_packable_fee
from offchain.rollup.params import MAX_ACCOUNTS, MAX_BALANCE, MAX_NONCE
from offchain.rollup.types import Transfer, Withdraw
from offchain.sequencer.http_api import (
    ApiError,
    Route,
    bad_request,
    hex_field,
    int_field,
    not_found,
    str_field,
)
from offchain.sequencer.optimistic import Batcher, Rejected
from offchain.sequencer.store import StoredTx, TxStatus

HASH = r"(?P<hash>0x[0-9a-fA-F]{64})"


def routes(batcher: Batcher) -> list[Route]:
    def submit(_params: dict, body: dict) -> dict:
        kind = str_field(body, "type", ("transfer", "withdraw"))
        sender = int_field(body, "from", 0, MAX_ACCOUNTS - 1)
        amount = int_field(body, "amount", 1, MAX_BALANCE)
        fee = int_field(body, "fee", 0, MAX_BALANCE)
        nonce = int_field(body, "nonce", 0, MAX_NONCE)
        signature = hex_field(body, "signature", 64)
        if not is_packable_amount(amount):
            raise bad_request(
                "unpackable_amount",
                f"amount {amount} has no exact 40-bit packed form (35-bit mantissa x 10^exp): "
                "round it to fewer significant digits",
            )
        if not is_packable_fee(fee):
            raise bad_request(
                "unpackable_fee", f"fee {fee} has no exact 16-bit packed form: round it"
            )
        if kind == "transfer":
            tx: Transfer | Withdraw = Transfer(
                sender, int_field(body, "to", 0, MAX_ACCOUNTS - 1), amount, fee, signature
            )
        else:
            tx = Withdraw(sender, amount, fee, signature)
        try:
            stored = batcher.submit(tx, nonce)
        except Rejected as exc:
            if exc.code == "frozen":
                raise ApiError(HTTPStatus.SERVICE_UNAVAILABLE, exc.code, str(exc)) from None
            raise bad_request(exc.code, str(exc)) from None
        return _tx_json(stored)

    def tx_status(params: dict, _body: dict) -> dict:
        stored = batcher.store.tx(bytes.fromhex(params["hash"][2:]))
        if stored is None:
            raise not_found("unknown_tx", f"no transaction {params['hash']}")
        return _tx_json(stored)

    def account(params: dict, _body: dict) -> dict:
        try:
            return batcher.account_view(int(params["index"]))
        except Rejected as exc:
            raise not_found(exc.code, str(exc)) from None

    def accounts_of(params: dict, _body: dict) -> dict:
        return {"owner": params["address"], "accounts": batcher.find_accounts(params["address"])}

    def batch(params: dict, _body: dict) -> dict:
        stored = batcher.store.batch(int(params["index"]))
        if stored is None:
            raise not_found("unknown_batch", f"this operator posted no batch {params['index']}")
        return {
            "index": stored.batch_index,
            "status": stored.status.value,
            "post_root": "0x" + stored.post_root.hex(),
            "bytes": len(stored.data),
            "l1_tx": stored.l1_tx_hash,
            "l1_block": stored.l1_block,
        }

    def withdrawal(params: dict, _body: dict) -> dict:
        try:
            claim = batcher.withdrawal_claim(bytes.fromhex(params["hash"][2:]))
        except Rejected as exc:
            raise ApiError(HTTPStatus.CONFLICT, exc.code, str(exc)) from None
        final = batcher.l1.rollup.functions.isFinal(claim.batch_index).call()
        released = batcher.l1.bridge.functions.isReleased(claim.withdrawal_id).call()
        return {
            "withdrawal_id": "0x" + claim.withdrawal_id.hex(),
            "final": final,
            "released": released,
            "owner": Web3.to_checksum_address(claim.owner),
            "token": Web3.to_checksum_address(claim.token),
            "amount": str(claim.amount),
            "proof": _jsonable(claim.as_abi()),
        }

    def status(_params: dict, _body: dict) -> dict:
        # The keys both batchers share (mode, root, frozen, deposits_consumed, txs,
        # batches_posted, txs_posted, l1_gas) mean the same in offchain/zk/sequencer_routes.py.
        s = batcher.stats
        root = "0x" + batcher.confirmed.root.hex()
        return {
            "mode": "optimistic",
            "proposer": batcher.account.address,
            "frozen": batcher.frozen,
            "root": root,
            "l2_root": root,  # deprecated alias of "root" (read by older scripts and tests)
            "deposits_consumed": batcher.confirmed.deposit_end,
            "txs": {k.value: batcher.store.count_txs(k) for k in TxStatus},
            "batches_posted": s.batches_posted,
            "txs_posted": s.txs_posted,
            "l1_bytes": s.l1_bytes,
            "l1_gas": s.l1_gas,
        }

    return [
        Route("POST", r"/tx", submit),
        Route("GET", r"/tx/" + HASH, tx_status),
        Route("GET", r"/account/(?P<index>[0-9]{1,8})", account),
        Route("GET", r"/accounts/(?P<address>0x[0-9a-fA-F]{40})", accounts_of),
        Route("GET", r"/batch/(?P<index>[0-9]{1,12})", batch),
        Route("GET", r"/withdrawal/" + HASH, withdrawal),
        Route("GET", r"/status", status),
    ]


def _tx_json(stored: StoredTx) -> dict[str, Any]:
    return {
        "tx_hash": "0x" + stored.tx_hash.hex(),
        "seq": stored.seq,
        "type": stored.kind,
        "status": stored.status.value,
        "batch": stored.batch_index,
        "note": stored.note,
    }


def _jsonable(value: Any) -> Any:
    if isinstance(value, bytes):
        return "0x" + value.hex()
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, int) and abs(value) > 2**53:
        return str(value)
    return value
