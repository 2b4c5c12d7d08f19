"""The optimistic batcher's query routes; the HTTP front (offchain/sequencer/http_server.py)
serves them beside its own POST /tx, POST /txs (group commit), /health, /ready and /metrics.

POST /tx                  {"type": "transfer", "from": 3, "to": 5, "amount": "1000",
                           "fee": "0", "nonce": 0, "signature": "0x<64 bytes>"}
                          {"type": "withdraw", "from": 3, "amount": "1000", "fee": "0",
                           "nonce": 1, "signature": "0x..."}
GET  /tx/<hash>           status: pending | batched | posted | final | dropped
GET  /account/<index>     owner, token, balance, nonce (pending and confirmed)
GET  /accounts/<address>  the account indexes an L1 address owns
GET  /batch/<index>       status and L1 transaction of a batch
GET  /withdrawal/<hash>   the proof `Rollup.finalizeWithdrawal` needs
POST /txs                 {"txs": [tx, ...]}: many in one request, answered in order
GET  /status              head, counts, throughput
"""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

from web3 import Web3

from offchain.sequencer.core import Rejected
from offchain.sequencer.http_api import ApiError, Route, not_found
from offchain.sequencer.optimistic import Batcher
from offchain.sequencer.store import StoredTx

HASH = r"(?P<hash>0x[0-9a-fA-F]{64})"


def routes(batcher: Batcher) -> list[Route]:
    seq = batcher.core

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
        return seq.status()

    return [
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
