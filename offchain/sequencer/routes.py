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

from offchain.sequencer.core import Rejected, Sequencer
from offchain.sequencer.http_api import (
    ApiError,
    Route,
    bad_request,
    not_found,
)
from offchain.sequencer.optimistic import Batcher
from offchain.sequencer.store import StoredTx

HASH = r"(?P<hash>0x[0-9a-fA-F]{64})"


def routes(batcher: Batcher) -> list[Route]:
    seq = batcher.core

    def submit(_params: dict, body: dict) -> dict:
        result = seq.admit_many([seq.prepare(body)])[0]
        if isinstance(result, Rejected):
            raise reject_error(result)
        return result

    def submit_many(_params: dict, body: dict) -> dict:
        return {"results": admit_list(seq, body)}

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
        Route("POST", r"/tx", submit),
        Route("POST", r"/txs", submit_many),
        Route("GET", r"/tx/" + HASH, tx_status),
        Route("GET", r"/account/(?P<index>[0-9]{1,8})", account),
        Route("GET", r"/accounts/(?P<address>0x[0-9a-fA-F]{40})", accounts_of),
        Route("GET", r"/batch/(?P<index>[0-9]{1,12})", batch),
        Route("GET", r"/withdrawal/" + HASH, withdrawal),
        Route("GET", r"/status", status),
        *health_routes(seq),
    ]


def reject_error(exc: Rejected) -> ApiError:
    """The HTTP error of a refused transaction: 503 once frozen, else 400."""
    if exc.code == "frozen":
        return ApiError(HTTPStatus.SERVICE_UNAVAILABLE, exc.code, str(exc))
    return bad_request(exc.code, str(exc))


#: Most transactions one POST /txs may carry.
MAX_TXS_PER_REQUEST = 1000


def admit_list(seq: Sequencer, body: dict) -> list[dict[str, Any]]:
    """POST /txs {"txs": [...]}: each answered in order, as POST /tx would (an error object for
    a refused or malformed one); the accepted ones are durable before the answer."""
    items = body.get("txs")
    if not isinstance(items, list) or not items or len(items) > MAX_TXS_PER_REQUEST:
        raise bad_request(
            "bad_txs", f"'txs' must be a list of 1..{MAX_TXS_PER_REQUEST} transaction objects"
        )
    out: list[dict[str, Any] | None] = [None] * len(items)
    prepared, where = [], []
    for i, item in enumerate(items):
        try:
            if not isinstance(item, dict):
                raise bad_request("bad_type", "each transaction is a JSON object")
            prepared.append(seq.prepare(item))
            where.append(i)
        except (ApiError, Rejected) as exc:
            out[i] = {"error": {"code": getattr(exc, "code", "invalid"), "message": str(exc)}}
    for i, result in zip(where, seq.admit_many(prepared), strict=True):
        if isinstance(result, Rejected):
            out[i] = {"error": {"code": result.code, "message": str(result)}}
        else:
            out[i] = result
    return [o for o in out if o is not None]


def health_routes(seq: Sequencer) -> list[Route]:
    """GET /health (process and loop alive) and GET /ready (503 with the reason when not)."""

    def health(_params: dict, _body: dict) -> dict:
        return seq.health()

    def ready(_params: dict, _body: dict) -> dict:
        ok, why = seq.ready()
        if not ok:
            raise ApiError(HTTPStatus.SERVICE_UNAVAILABLE, "not_ready", why)
        return {"ready": True, "reason": why}

    return [Route("GET", r"/health", health), Route("GET", r"/ready", ready)]


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
