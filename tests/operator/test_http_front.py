"""The async HTTP front keeps every hardening guarantee of the stdlib server (issue #9 item 17):
JSON answers for everything, exact bodies, no chunked bodies, deadlines, bounded connections."""

from __future__ import annotations

import http.client
import json
import socket
import struct
import time

import pytest
from http_fakes import RecordingAdmission, answers, host_port, post_bytes, raw_exchange, tx

from offchain.sequencer.http_api import Route, bad_request
from offchain.sequencer.http_server import HttpFront, HttpLimits, HttpServer
from offchain.sequencer.intake import Intake


def serve(admission=None, routes=(), **limits):
    intake = Intake(admission) if admission is not None else None
    if intake is not None:
        intake.start()
    server = HttpServer(HttpFront(list(routes), intake, limits=HttpLimits(**limits)))
    server.start()
    return server, intake


def lookup(params, _body):
    if params["n"] == "404":
        raise bad_request("nope", "refused on purpose")
    return {"n": int(params["n"])}


def crash(_params, _body):
    raise RuntimeError("bug")


def slow(_params, _body):
    time.sleep(0.3)
    return {"slow": True}


ROUTES = [
    Route("GET", r"/item/(?P<n>[0-9]+)", lookup),
    Route("GET", r"/crash", crash),
    Route("GET", r"/slow", slow),
    Route("POST", r"/echo", lambda _p, body: {"got": body}),
]


@pytest.fixture
def api():
    admission = RecordingAdmission()
    server, intake = serve(admission, ROUTES, max_body=1024, max_connections=64)
    yield server.url, admission
    server.stop()
    intake.stop()


def call(url, method, path, body=None, headers=None):
    conn = http.client.HTTPConnection(*host_port(url), timeout=5)
    conn.request(method, path, body=body, headers=headers or {})
    resp = conn.getresponse()
    data = json.loads(resp.read())
    conn.close()
    return resp.status, data


GOOD = json.dumps(tx(5))


def test_valid_requests(api):
    url, admission = api
    assert call(url, "POST", "/tx", GOOD) == (200, {"id": 5, "seq": 1, "status": "pending"})
    assert call(url, "GET", "/item/7") == (200, {"n": 7})
    assert call(url, "POST", "/echo", '{"a": [1, 2]}') == (200, {"got": {"a": [1, 2]}})
    assert admission.accepted == [5]


def test_integers_beyond_64_bits_are_read_and_written(api):
    url, _ = api
    assert call(url, "POST", "/echo", '{"a": 123456789012345678901234567890}') == (
        200,
        {"got": {"a": 123456789012345678901234567890}},
    )


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ("{not json", "bad_json"),
        ("[1, 2]", "bad_json"),
        ("", "empty_body"),
        (b"\xff\xfe", "bad_encoding"),
        (json.dumps({"signature": "0x01020304"}), "missing_field"),
        (json.dumps(tx("five")), "bad_type"),
        (json.dumps(tx(True)), "bad_type"),
        (json.dumps(tx(1.5)), "bad_type"),
        (json.dumps(tx(0)), "out_of_range"),
        (json.dumps(tx(2**41)), "out_of_range"),
        (json.dumps({"amount": 5, "signature": "01020304"}), "bad_type"),
        (json.dumps({"amount": 5, "signature": "0xzz"}), "bad_hex"),
        (json.dumps({"amount": 5, "signature": "0x0102"}), "bad_length"),
        (json.dumps(tx(7, bad_sig=True)), "bad_signature"),
        (json.dumps(tx(13)), "bad_nonce"),
    ],
)
def test_bad_bodies_are_refused_and_nothing_is_accepted(api, body, code):
    url, admission = api
    assert call(url, "POST", "/tx", json.dumps(tx(1, ident=1)))[0] == 200
    status, answer = call(url, "POST", "/tx", body)
    assert status == 400 and answer["error"]["code"] == code, answer
    assert answer["error"]["message"]
    assert admission.accepted == [1]  # the earlier acceptance is intact, the bad one added nothing
    assert call(url, "POST", "/tx", json.dumps(tx(2, ident=2)))[0] == 200  # still serving


def test_frozen_is_503(api):
    url, admission = api
    status, answer = call(url, "POST", "/tx", json.dumps(tx(66)))
    assert status == 503 and answer["error"]["code"] == "frozen" and admission.accepted == []


def test_oversized_body_is_refused_unread(api):
    url, admission = api
    status, answer = call(url, "POST", "/tx", "x" * 2048)
    assert status == 413 and answer["error"]["code"] == "body_too_large"
    assert admission.accepted == []
    assert call(url, "POST", "/tx", GOOD)[0] == 200


def test_routing_errors(api):
    url, _ = api
    assert call(url, "GET", "/nowhere")[1]["error"]["code"] == "no_such_endpoint"
    status, answer = call(url, "GET", "/tx")
    assert status == 405 and "use POST" in answer["error"]["message"]
    assert call(url, "GET", "/item/404") == (
        400,
        {"error": {"code": "nope", "message": "refused on purpose"}},
    )


def test_a_failing_handler_does_not_take_the_server_down(api):
    url, _ = api
    status, answer = call(url, "GET", "/crash")
    assert status == 500 and answer["error"]["code"] == "internal"
    assert call(url, "GET", "/item/1") == (200, {"n": 1})


def test_short_body_is_refused_not_processed(api):
    url, admission = api
    raw = raw_exchange(url, post_bytes(GOOD.encode(), length=len(GOOD) + 20), half_close=True)
    [(status, body)] = answers(raw)
    assert status == 400 and body["error"]["code"] == "short_body", body
    assert admission.accepted == [] and admission.groups == []


def test_every_method_and_malformed_request_gets_json(api):
    url, admission = api
    for method in ("PUT", "DELETE", "PATCH", "OPTIONS", "TRACE", "FROB"):
        raw = raw_exchange(url, f"{method} /tx HTTP/1.1\r\nHost: x\r\n\r\n".encode())
        head, _, rest = raw.partition(b"\r\n\r\n")
        assert head.split()[1] == b"501" and b"application/json" in head, (method, raw)
        assert json.loads(rest)["error"]["code"] == "method_not_supported", method
    head = raw_exchange(url, b"HEAD /tx HTTP/1.1\r\nHost: x\r\n\r\n")  # a HEAD answer has no body
    assert head.split()[1] == b"501" and b"application/json" in head
    for garbage, status_code in (
        (b"GARBAGE\r\n\r\n", 501),
        (b"GET /tx HTTP/9.9\r\n\r\n", 505),
        (b"GET /" + b"a" * 70000, 414),
        (b"GET /tx HTTP/1.1\r\nX: " + b"b" * 70000 + b"\r\n\r\n", 431),
        (b"GET /tx HTTP/1.1\r\nbad header\r\n\r\n", 400),
    ):
        [(status, body)] = answers(raw_exchange(url, garbage + b"\r\n"))
        assert status == status_code and body["error"]["code"], (garbage[:20], body)
    assert call(url, "POST", "/tx", GOOD)[0] == 200 and admission.accepted == [5]


def test_chunked_or_smuggled_bodies_are_refused(api):
    url, admission = api
    smuggle = post_bytes(GOOD.encode())
    # A body on a GET is read exactly and ignored, never parsed as a second request.
    get_with_body = (
        f"GET /item/1 HTTP/1.1\r\nHost: x\r\nContent-Length: {len(smuggle)}\r\n\r\n".encode()
        + smuggle
    )
    got = answers(raw_exchange(url, get_with_body, half_close=True))
    assert got == [(200, {"n": 1})] and admission.accepted == []
    chunked = (
        b"POST /tx HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n"
    )
    [(status, body)] = answers(raw_exchange(url, chunked))
    assert status == 411 and body["error"]["code"] == "length_required"
    both = post_bytes(b"5\r\nhello\r\n0\r\n\r\n", extra="Transfer-Encoding: chunked\r\n")
    [(status, body)] = answers(raw_exchange(url, both))
    assert status in (400, 411) and body["error"]["code"] in ("length_required", "bad_length")
    twice = post_bytes(GOOD.encode(), extra="Content-Length: 3\r\n")
    [(status, body)] = answers(raw_exchange(url, twice))
    assert status == 400 and body["error"]["code"] == "bad_length"
    assert admission.accepted == [] and admission.groups == []


def test_keep_alive_serves_pipelined_requests_in_order(api):
    url, _ = api
    one = post_bytes(json.dumps(tx(1, ident=1)).encode())
    two = post_bytes(json.dumps(tx(2, ident=2)).encode())
    got = answers(raw_exchange(url, one + b"GET /item/3 HTTP/1.1\r\nHost: x\r\n\r\n" + two, True))
    assert [s for s, _ in got] == [200, 200, 200]
    assert got[0][1]["id"] == 1 and got[1][1] == {"n": 3} and got[2][1]["id"] == 2


@pytest.mark.slow  # waits out the server's timeouts
def test_stalled_body_and_idle_connection_time_out():
    admission = RecordingAdmission()
    server, intake = serve(admission, ROUTES, timeout=2.0, request_deadline=4.0)
    try:
        idle = socket.create_connection(host_port(server.url), timeout=10)  # says nothing
        started = time.monotonic()
        stalled = post_bytes(GOOD.encode()[:5], length=len(GOOD))  # then silence, kept open
        [(status, body)] = answers(raw_exchange(server.url, stalled, wait=10))
        assert status == 408 and body["error"]["code"] == "body_timeout", body
        assert time.monotonic() - started < 4 and admission.accepted == []
        assert idle.recv(100) == b""  # the idle connection was closed as well
        assert time.monotonic() - started < 5
        idle.close()
    finally:
        server.stop()
        intake.stop()


def test_connection_flood_is_bounded(api):
    url, admission = api
    hogs = [socket.create_connection(host_port(url), timeout=2.0) for _ in range(100)]
    try:
        time.sleep(0.3)
        refused = 0
        for s in hogs[64:]:
            answer = s.recv(4096)
            assert b" 503 " in answer.split(b"\r\n")[0] and b'"busy"' in answer, answer
            assert b"Retry-After: 1" in answer
            refused += 1
        assert refused == 36
    finally:
        for s in hogs:
            s.close()
    time.sleep(0.3)  # the admitted hogs closed: their slots are free again
    assert call(url, "POST", "/tx", GOOD)[0] == 200 and admission.accepted == [5]


def test_client_that_disconnects_early_leaves_no_traceback(api, capfd):
    url, _ = api
    for _ in range(3):
        sock = socket.create_connection(host_port(url))
        sock.sendall(b"GET /slow HTTP/1.1\r\nHost: x\r\n\r\n")
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        sock.close()  # reset before the answer is written
    time.sleep(0.8)
    assert "Traceback" not in capfd.readouterr().err
    assert call(url, "GET", "/slow")[1] == {"slow": True}


def test_trickling_clients_cannot_hold_connections():
    """One byte every 0.5 s never trips the 1 s idle timeout; the request deadline still closes
    the connection, so a few tricklers never shut everyone else out."""
    server, _ = serve(
        None,
        [Route("GET", r"/item/(?P<n>[0-9]+)", lambda p, _b: {"n": int(p["n"])})],
        timeout=1.0,
        request_deadline=2.0,
        max_connections=2,
    )
    tricklers = [socket.create_connection(host_port(server.url), timeout=5) for _ in range(2)]
    try:
        started = time.monotonic()
        closed = [False, False]
        line = b"GET /item/1 HTTP/1.1\r\nHost: x\r\n" + b"X-Slow: " + b"a" * 200
        for i in range(len(line)):
            if time.monotonic() - started > 6:
                break
            for k, t in enumerate(tricklers):
                if closed[k]:
                    continue
                try:
                    t.sendall(line[i : i + 1])
                except OSError:
                    closed[k] = True
            if all(closed):
                break
            time.sleep(0.5)
        assert time.monotonic() - started < 5, "trickling clients held their connections"
        assert call(server.url, "GET", "/item/7")[0] == 200
    finally:
        for t in tricklers:
            t.close()
        server.stop()
