# SPDX-License-Identifier: GPL-3.0-or-later
"""HTTP JSON API of the zk batcher.

POST /tx   {"type": "transfer", "from": 0, "to": 1, "amount": "1000", "nonce": 0,
            "signature": {"r8x": "...", "r8y": "...", "s": "..."}}
           {"type": "withdraw", "from": 1, "to": "0x<L1 address>", "amount": "1000", ...}
GET  /tx/<hash>       pending | batched | final | dropped
GET  /account/<leaf>  balance and nonce (pending and confirmed)
POST /txs  {"txs": [tx, ...]}: many in one request, answered in order
GET  /status, /health, /ready   (the common schema of docs/operator.md)
"""

from __future__ import annotations

from offchain.sequencer.core import Rejected
from offchain.sequencer.http_api import (
    Route,
    not_found,
)
from offchain.sequencer.routes import admit_list, health_routes, reject_error
from offchain.zk.sequencer_backend import ZkBatcher


def routes(batcher: ZkBatcher) -> list[Route]:
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
        return {
            "tx_hash": params["hash"],
            "seq": stored.seq,
            "status": stored.status.value,
            "batch": stored.batch_index,
            "note": stored.note,
        }

    def account(params: dict, _body: dict) -> dict:
        return batcher.account_view(int(params["leaf"]))

    def status(_params: dict, _body: dict) -> dict:
        return seq.status()

    return [
        Route("POST", r"/tx", submit),
        Route("POST", r"/txs", submit_many),
        Route("GET", r"/tx/(?P<hash>0x[0-9a-fA-F]{64})", tx_status),
        Route("GET", r"/account/(?P<leaf>[0-9]{1,10})", account),
        Route("GET", r"/status", status),
        *health_routes(seq),
    ]
