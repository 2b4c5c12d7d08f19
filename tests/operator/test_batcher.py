"""The batcher end to end on Anvil: HTTP submissions, batches on L1, a completed withdrawal."""

import json
import urllib.request

from operator_helpers import BOND, CHALLENGE, advance, fund, http, key_of

from offchain.rollup.l1 import RollupL1
from offchain.rollup.replay import replay
from offchain.rollup.wallet import sign_transfer, sign_withdraw
from offchain.sequencer.config import SequencerConfig

ETH = "0x0000000000000000000000000000000000000000"
ONE = 10**18


def transfer_body(signed, nonce):
    tx = signed.tx
    return {
        "type": "transfer",
        "from": tx.sender,
        "to": tx.recipient,
        "amount": str(tx.amount),
        "fee": str(tx.fee),
        "nonce": nonce,
        "signature": "0x" + signed.signature.hex(),
    }


def test_submit_post_withdraw_claim(chain, contracts, api, alice, bob, carol):
    bridge, rollup = contracts
    batcher, url = api
    fund(bridge, alice, 5 * ONE)
    fund(bridge, bob, 2 * ONE)
    assert batcher.post_if_due(force=True) == 0  # the deposits create accounts 0 and 1
    sep = batcher.dst
    assert http(f"{url}/accounts/{alice.address}")[1]["accounts"] == [0]
    assert http(f"{url}/status")[1]["api_version"] == 2  # BLS signatures (format v2)

    for nonce in range(3):
        tx = sign_transfer(key_of(alice), sep, 0, 1, ONE // 10, 0, nonce)
        status, body = http(f"{url}/tx", "POST", transfer_body(tx, nonce))
        assert status == 200 and body["status"] == "pending", body
    w = sign_withdraw(key_of(bob), sep, 1, ONE, 0, 0)
    status, wbody = http(
        f"{url}/tx",
        "POST",
        {
            "type": "withdraw",
            "from": 1,
            "amount": str(ONE),
            "fee": "0",
            "nonce": 0,
            "signature": "0x" + w.signature.hex(),
        },
    )
    assert status == 200, wbody
    acct = http(f"{url}/account/1")[1]
    assert int(acct["balance"]) == 2 * ONE + 3 * ONE // 10 - ONE  # pending view
    assert int(acct["confirmed_balance"]) == 2 * ONE

    assert batcher.post_if_due(force=True) == 1
    assert rollup.batchCount() == 2
    assert http(f"{url}/tx/{wbody['tx_hash']}")[1]["status"] == "posted"
    # The operator's state is exactly what anyone rebuilds from L1 alone.
    l1 = RollupL1(batcher.w3, rollup.address, bridge.address)
    rebuilt = replay(l1.posted_batches(), l1.deposit_queue(), sep, keys=l1.key_history())
    assert rebuilt.fraud is None and rebuilt.state.root == batcher.confirmed.root
    assert bytes(rollup.head()[0]) == batcher.confirmed.root

    status, body = http(f"{url}/withdrawal/{wbody['tx_hash']}")
    assert status == 200 and body["final"] is False
    advance(chain, CHALLENGE + 1)
    batcher.track_finality()
    assert http(f"{url}/batch/1")[1]["status"] == "final"
    body = http(f"{url}/withdrawal/{wbody['tx_hash']}")[1]
    assert body["final"] is True and body["released"] is False
    rollup.finalizeWithdrawal(body["proof"], sender=carol)  # anyone may finalize
    before = bob.balance
    bridge.claim(ETH, bob, sender=bob, gas_price=0)
    assert bob.balance == before + ONE
    assert http(f"{url}/withdrawal/{wbody['tx_hash']}")[1]["released"] is True
    # each posting locked a bond (topped up before it); final, they are all free again
    rollup.releaseBonds(32, sender=carol)
    assert rollup.lockedBondOf(batcher.account.address) == 0
    assert rollup.bondOf(batcher.account.address) == 2 * BOND


def test_bad_submissions_get_clear_errors_and_change_nothing(contracts, api, alice, bob):
    bridge, _ = contracts
    batcher, url = api
    fund(bridge, alice, ONE)
    fund(bridge, bob, ONE)
    batcher.post_if_due(force=True)
    sep = batcher.dst
    good = sign_transfer(key_of(alice), sep, 0, 1, 1000, 0, 0)
    assert http(f"{url}/tx", "POST", transfer_body(good, 0))[0] == 200
    cases = {
        "duplicate": transfer_body(good, 0) | {"nonce": 1},  # same bytes, next nonce: sig fails
        "bad_nonce": transfer_body(sign_transfer(key_of(alice), sep, 0, 1, 999, 0, 0), 0),  # used
        "overspend": transfer_body(sign_transfer(key_of(alice), sep, 0, 1, 2 * ONE, 0, 1), 1),
        "bad_signature": transfer_body(sign_transfer(key_of(bob), sep, 0, 1, 1000, 0, 1), 1),
        "unknown_account": transfer_body(sign_transfer(key_of(alice), sep, 0, 9, 1000, 0, 1), 1),
    }
    expected_codes = {
        "duplicate": {"duplicate", "bad_signature"},
        "bad_nonce": {"bad_nonce"},
        "overspend": {"overspend"},
        "bad_signature": {"bad_signature"},
        "unknown_account": {"unknown_account"},
    }
    for name, body in cases.items():
        status, answer = http(f"{url}/tx", "POST", body)
        assert status == 400 and answer["error"]["code"] in expected_codes[name], (name, answer)
    for body, code in [
        ({"type": "mint", "from": 0}, "bad_value"),
        (transfer_body(good, 1) | {"amount": "12345678901234567"}, "unpackable_amount"),
        (transfer_body(good, 1) | {"signature": "0x1234"}, "bad_length"),
        (transfer_body(good, 1) | {"from": -1}, "out_of_range"),
    ]:
        status, answer = http(f"{url}/tx", "POST", body)
        assert status == 400 and answer["error"]["code"] == code, answer
    assert http(f"{url}/status")[1]["txs"]["pending"] == 1  # only the good one
    assert batcher.post_if_due(force=True) == 1


def test_idempotent_submission_resend_gets_the_stored_record(contracts, api, alice, bob):
    """A client whose answer was lost resends the same request: it gets the record (200), the
    transaction is stored and batched once; a variation of it (another nonce) is refused."""
    bridge, _ = contracts
    batcher, url = api
    fund(bridge, alice, ONE)
    fund(bridge, bob, ONE)
    batcher.post_if_due(force=True)
    sep = batcher.dst
    tx = sign_transfer(key_of(alice), sep, 0, 1, 1000, 0, 0)
    first = http(f"{url}/tx", "POST", transfer_body(tx, 0))
    assert first[0] == 200, first
    again = http(f"{url}/tx", "POST", transfer_body(tx, 0))
    assert again == first  # the same answer, not bad_nonce
    # Format v2: the id covers the nonce, so another nonce is another tx, whose signature (made
    # for nonce 0) does not verify.
    status, answer = http(f"{url}/tx", "POST", transfer_body(tx, 1))
    assert status == 400 and answer["error"]["code"] == "bad_signature", answer
    assert batcher.store.count_txs() == 1
    assert batcher.post_if_due(force=True) == 1
    posted = http(f"{url}/tx", "POST", transfer_body(tx, 0))  # also once it is on L1
    assert posted[0] == 200 and posted[1]["status"] == "posted" and posted[1]["seq"] == 1
    assert batcher.store.count_txs() == 1 and batcher.store.count_batch_txs(1) == 1


def test_malformed_and_oversized_requests_on_the_real_api(contracts, api, alice, bob):
    import urllib.request

    bridge, _ = contracts
    batcher, url = api
    fund(bridge, alice, ONE)
    fund(bridge, bob, ONE)
    batcher.post_if_due(force=True)
    good = sign_transfer(key_of(alice), batcher.dst, 0, 1, 1000, 0, 0)
    assert http(f"{url}/tx", "POST", transfer_body(good, 0))[0] == 200

    def raw(body: bytes):
        req = urllib.request.Request(f"{url}/tx", data=body, method="POST")
        try:
            with urllib.request.urlopen(req, timeout=10) as resp:
                return resp.status, json.loads(resp.read())
        except urllib.error.HTTPError as exc:
            return exc.code, json.loads(exc.read())

    assert raw(b"{")[1]["error"]["code"] == "bad_json"
    assert raw(b'"just a string"')[1]["error"]["code"] == "bad_json"
    assert raw(b'{"type": "transfer", "from": "zero"}')[1]["error"]["code"] == "bad_type"
    # Over the limit: refused from the Content-Length alone, before any of the body is read (a
    # client still writing the body may see the connection closed: send only the headers).
    status, body = _headers_only(url, SequencerConfig().http_max_body + 2)
    assert status == 413 and body["error"]["code"] == "body_too_large"
    assert http(f"{url}/tx/0x" + "00" * 32)[0] == 404
    assert http(f"{url}/account/999")[0] == 404
    # Nothing accepted before was lost, and the service still accepts and posts.
    assert http(f"{url}/status")[1]["txs"]["pending"] == 1
    nxt = sign_transfer(key_of(alice), batcher.dst, 0, 1, 1000, 0, 1)
    assert http(f"{url}/tx", "POST", transfer_body(nxt, 1))[0] == 200
    assert batcher.post_if_due(force=True) == 1


def _headers_only(url: str, length: int) -> tuple[int, dict]:
    """POST /tx announcing a `length`-byte body without sending it; the status and JSON answer."""
    import socket
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    with socket.create_connection((parts.hostname, parts.port), timeout=10) as conn:
        conn.sendall(
            f"POST /tx HTTP/1.1\r\nHost: {parts.hostname}\r\nContent-Type: application/json\r\n"
            f"Content-Length: {length}\r\nConnection: close\r\n\r\n".encode()
        )
        answer = b""
        while chunk := conn.recv(65536):
            answer += chunk
    head, _, payload = answer.partition(b"\r\n\r\n")
    return int(head.split()[1]), json.loads(payload)


def test_rpc_failures_while_posting_are_retried_without_double_posting(
    contracts, make_batcher, alice, bob
):
    bridge, rollup = contracts
    fund(bridge, alice, ONE)
    fund(bridge, bob, ONE)
    batcher = make_batcher()
    failures = {"left": 3}
    real_send = batcher.w3.eth.send_raw_transaction

    def flaky_send(raw):
        if failures["left"]:
            failures["left"] -= 1
            raise ConnectionError("connection reset by peer")
        return real_send(raw)

    batcher.w3.eth.send_raw_transaction = flaky_send
    assert batcher.post_if_due(force=True) == 0
    assert failures["left"] == 0 and rollup.batchCount() == 1
    assert bytes(rollup.head()[0]) == batcher.confirmed.root


def test_idle_batcher_posts_heartbeats_so_the_rollup_keeps_finalizing(
    chain, contracts, make_batcher, alice
):
    bridge, rollup = contracts
    fund(bridge, alice, ONE)
    batcher = make_batcher(heartbeat=600)
    assert batcher.post_if_due(force=True) == 0
    assert batcher.post_if_due() is None  # nothing to do, heartbeat not due
    advance(chain, 601)
    assert batcher.post_if_due() == 1  # an empty commitment: same root, same queues
    assert rollup.batchCount() == 2
    assert bytes(rollup.head()[0]) == batcher.confirmed.root
    l1 = RollupL1(batcher.w3, rollup.address, bridge.address)
    assert replay(l1.posted_batches(), l1.deposit_queue(), batcher.dst).fraud is None
    assert batcher.post_if_due() is None


def test_after_a_freeze_the_batcher_stops_and_refuses_submissions(
    chain, contracts, api, alice, bob, carol
):
    bridge, rollup = contracts
    batcher, url = api
    fund(bridge, alice, ONE)
    fund(bridge, bob, ONE)
    assert batcher.post_if_due(force=True) == 0
    advance(chain, rollup.livenessPeriod() + CHALLENGE + 10)
    rollup.freeze(sender=carol)
    assert batcher.post_if_due(force=True) is None and batcher.frozen
    tx = sign_transfer(key_of(alice), batcher.dst, 0, 1, 1000, 0, 0)
    status, body = http(f"{url}/tx", "POST", transfer_body(tx, 0))
    assert status == 503 and body["error"]["code"] == "frozen"
    assert "ape run exit" in body["error"]["message"]
    assert http(f"{url}/status")[1]["frozen"] is True


def test_batched_submission_status_health_and_ready(contracts, api, alice, bob):
    """POST /txs answers each transaction in order (one store write for the group); /status has
    the common schema with counters from the store; /health and /ready answer."""
    bridge, _ = contracts
    batcher, url = api
    fund(bridge, alice, ONE)
    fund(bridge, bob, ONE)
    batcher.post_if_due(force=True)
    sep = batcher.dst
    t0 = sign_transfer(key_of(alice), sep, 0, 1, 1000, 0, 0)
    t1 = sign_transfer(key_of(alice), sep, 0, 1, 1000, 0, 1)
    gap = sign_transfer(key_of(alice), sep, 0, 1, 1000, 0, 7)
    over = sign_transfer(key_of(bob), sep, 1, 0, 10 * ONE, 0, 0)
    bodies = [transfer_body(t0, 0), transfer_body(gap, 7), transfer_body(t1, 1)]
    bodies += [transfer_body(over, 0), transfer_body(t0, 0), {"type": "transfer"}]
    status, answer = http(f"{url}/txs", "POST", {"txs": bodies})
    assert status == 200
    results = answer["results"]
    assert [r.get("seq") or r["error"]["code"] for r in results] == [
        1,
        "bad_nonce",
        2,
        "overspend",
        1,  # the same tx again in the group: its one record
        "missing_field",
    ]
    assert http(f"{url}/txs", "POST", {"txs": []})[1]["error"]["code"] == "bad_type"
    s = http(f"{url}/status")[1]
    assert s["mode"] == "optimistic" and s["l2"]["pending_txs"] == 2
    assert s["counters"]["txs_accepted"] == 2 and s["counters"]["txs_rejected"] == 2
    assert s["l2"]["confirmed_root"] == s["root"] and s["last_batch"]["index"] == 0
    assert s["last_batch"]["l1_tx"].startswith("0x")
    assert s["counters"]["batches_posted"] == 1 and s["counters"]["deposits_posted"] == 2
    assert http(f"{url}/health")[1]["alive"] is True
    assert http(f"{url}/ready")[0] == 200  # recovered just now, not frozen, L1 answered
    with urllib.request.urlopen(f"{url}/metrics", timeout=10) as resp:
        metrics = resp.read().decode()
    assert "\nl2kit_pending_txs 2.0\n" in metrics
    assert "\nl2kit_txs_accepted_total 2.0\n" in metrics  # the store's counter
    assert "\nl2kit_batches_posted_total 1.0\n" in metrics
    assert 'l2kit_intake_rejected_total{code="bad_nonce"} 1.0' in metrics
    assert batcher.post_if_due(force=True) == 1
    assert batcher.core.status()["counters"]["txs_posted"] == 2
