# SPDX-License-Identifier: GPL-3.0-or-later
"""The zk batcher's query routes; the HTTP front (offchain/sequencer/http_server.py) serves
them beside its own POST /tx, POST /txs (group commit), /health, /ready and /metrics.

POST /tx   {"type": "transfer", "from": 0, "to": 1, "amount": "1000", "nonce": 0,
            "signature": {"r8x": "...", "r8y": "...", "s": "..."}}
           {"type": "withdraw", "from": 1, "to": "0x<L1 address>", "amount": "1000", ...}
GET  /tx/<hash>       pending | batched | final | dropped
GET  /account/<leaf>  balance and nonce (pending and confirmed)
POST /txs  {"txs": [tx, ...]}: many in one request, answered in order
GET  /status, /health, /ready   (the common schema of docs/operator.md)
"""

from __future__ import annotations

from offchain.sequencer.http_api import Route, not_found
from offchain.zk.sequencer_backend import ZkBatcher


def routes(batcher: ZkBatcher) -> list[Route]:
    seq = batcher.core

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
        Route("GET", r"/tx/(?P<hash>0x[0-9a-fA-F]{64})", tx_status),
        Route("GET", r"/account/(?P<leaf>[0-9]{1,10})", account),
        Route("GET", r"/status", status),
    ]
