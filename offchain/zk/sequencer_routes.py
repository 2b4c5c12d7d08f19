# SPDX-License-Identifier: GPL-3.0-or-later
"""HTTP JSON API of the zk batcher.

POST /tx   {"type": "transfer", "from": 0, "to": 1, "amount": "1000", "nonce": 0,
            "signature": {"r8x": "...", "r8y": "...", "s": "..."}}
           {"type": "withdraw", "from": 1, "to": "0x<L1 address>", "amount": "1000", ...}
GET  /tx/<hash>       pending | batched | final | dropped
GET  /account/<leaf>  balance and nonce (pending and confirmed)
GET  /status
"""

from __future__ import annotations

from http import HTTPStatus

from offchain.sequencer.http_api import (
    ApiError,
    Route,
    bad_request,
    field,
    int_field,
    not_found,
    str_field,
)
from offchain.sequencer.optimistic import Rejected
from offchain.sequencer.store import TxStatus
from offchain.zk.babyjub import Signature
from offchain.zk.field import SNARK_FIELD
from offchain.zk.sequencer_backend import ZkBatcher
from offchain.zk.txs import MAX_ADDRESS, MAX_AMOUNT, Tx, TxKind


def routes(batcher: ZkBatcher) -> list[Route]:
    def submit(_params: dict, body: dict) -> dict:
        kind = str_field(body, "type", ("transfer", "withdraw"))
        sender = int_field(body, "from", 0, (1 << batcher.params.depth) - 1)
        if kind == "transfer":
            to = int_field(body, "to", 0, (1 << batcher.params.depth) - 1)
        else:
            to = int_field(body, "to", 1, MAX_ADDRESS)  # the L1 address paid ("0x..." accepted)
        amount = int_field(body, "amount", 1, MAX_AMOUNT)
        nonce = int_field(body, "nonce", 0, 2**32 - 1)
        sig = field(body, "signature")
        if not isinstance(sig, dict):
            raise bad_request("bad_type", "'signature' must be an object {r8x, r8y, s}")
        r8x, r8y, s = (int_field(sig, k, 0, SNARK_FIELD - 1) for k in ("r8x", "r8y", "s"))
        try:
            tx = Tx(
                TxKind.TRANSFER if kind == "transfer" else TxKind.WITHDRAW,
                sender,
                to,
                amount,
                nonce,
                Signature((r8x, r8y), s),
            )
            stored = batcher.submit(tx)
        except Rejected as exc:
            status = HTTPStatus.SERVICE_UNAVAILABLE if exc.code == "frozen" else 400
            raise ApiError(status, exc.code, str(exc)) from None
        except ValueError as exc:
            raise bad_request("invalid", str(exc)) from None
        return {
            "tx_hash": "0x" + stored.tx_hash.hex(),
            "seq": stored.seq,
            "status": stored.status.value,
        }

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
        # The keys both batchers share mean the same in offchain/sequencer/routes.py.
        s = batcher.stats
        return {
            "mode": "zk",
            "root": f"0x{batcher.confirmed.root:064x}",
            "frozen": batcher.frozen,
            "deposits_consumed": batcher.confirmed.deposits_done,
            "txs": {k.value: batcher.store.count_txs(k) for k in TxStatus},
            "batches_posted": s.batches_posted,
            "txs_posted": s.txs_posted,
            "prove_seconds": round(s.prove_seconds, 2),
            "l1_gas": s.l1_gas,
        }

    return [
        Route("POST", r"/tx", submit),
        Route("GET", r"/tx/(?P<hash>0x[0-9a-fA-F]{64})", tx_status),
        Route("GET", r"/account/(?P<leaf>[0-9]{1,10})", account),
        Route("GET", r"/status", status),
    ]
