"""The JSON API refuses bad input with a clear error and keeps serving."""

import http.client
import json
import socket
import struct
import threading
import time

import pytest

from offchain.sequencer.http_api import JsonApiServer, Route, bad_request, hex_field, int_field


@pytest.fixture
def api():
    accepted = []

    def submit(_params, body):
        amount = int_field(body, "amount", 1, 2**40)
        sig = hex_field(body, "signature", 4)
        accepted.append((amount, sig))
        return {"accepted": len(accepted)}

    def lookup(params, _body):
        if params["n"] == "404":
            raise bad_request("nope", "refused on purpose")
        return {"n": int(params["n"])}

    def crash(_params, _body):
        raise RuntimeError("bug")

    server = JsonApiServer(
        [
            Route("POST", r"/tx", submit),
            Route("GET", r"/item/(?P<n>[0-9]+)", lookup),
            Route("GET", r"/crash", crash),
        ],
        max_body=1024,
    )
    server.start()
    yield server, accepted
    server.stop()


def call(server, method, path, body=None, headers=None):
    host, port = server.url.removeprefix("http://").split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=5)
    conn.request(method, path, body=body, headers=headers or {})
    resp = conn.getresponse()
    data = json.loads(resp.read())
    conn.close()
    return resp.status, data


GOOD = json.dumps({"amount": 5, "signature": "0x01020304"})


def test_valid_request(api):
    server, accepted = api
    assert call(server, "POST", "/tx", GOOD) == (200, {"accepted": 1})
    assert call(server, "GET", "/item/7") == (200, {"n": 7})
    assert accepted == [(5, b"\x01\x02\x03\x04")]


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ("{not json", "bad_json"),
        ("[1, 2]", "bad_json"),
        ("", "empty_body"),
        (b"\xff\xfe", "bad_encoding"),
        (json.dumps({"signature": "0x01020304"}), "missing_field"),
        (json.dumps({"amount": "five", "signature": "0x01020304"}), "bad_type"),
        (json.dumps({"amount": True, "signature": "0x01020304"}), "bad_type"),
        (json.dumps({"amount": 1.5, "signature": "0x01020304"}), "bad_type"),
        (json.dumps({"amount": 0, "signature": "0x01020304"}), "out_of_range"),
        (json.dumps({"amount": 2**41, "signature": "0x01020304"}), "out_of_range"),
        (json.dumps({"amount": 5, "signature": "01020304"}), "bad_type"),
        (json.dumps({"amount": 5, "signature": "0xzz"}), "bad_hex"),
        (json.dumps({"amount": 5, "signature": "0x0102"}), "bad_length"),
    ],
)
def test_bad_bodies_are_refused_and_nothing_is_accepted(api, body, code):
    server, accepted = api
    call(server, "POST", "/tx", GOOD)
    status, answer = call(server, "POST", "/tx", body)
    assert status == 400 and answer["error"]["code"] == code, answer
    assert answer["error"]["message"]
    assert len(accepted) == 1  # the earlier acceptance is intact, the bad one added nothing
    assert call(server, "POST", "/tx", GOOD)[0] == 200  # and the server keeps serving


def test_oversized_body(api):
    server, accepted = api
    status, answer = call(server, "POST", "/tx", "x" * 2048)
    assert status == 413 and answer["error"]["code"] == "body_too_large"
    assert accepted == []
    assert call(server, "POST", "/tx", GOOD)[0] == 200


def test_routing_errors(api):
    server, _ = api
    assert call(server, "GET", "/nowhere")[1]["error"]["code"] == "no_such_endpoint"
    status, answer = call(server, "GET", "/tx")
    assert status == 405 and "use POST" in answer["error"]["message"]
    assert call(server, "GET", "/item/404") == (
        400,
        {"error": {"code": "nope", "message": "refused on purpose"}},
    )


def test_a_failing_handler_does_not_take_the_server_down(api):
    server, _ = api
    status, answer = call(server, "GET", "/crash")
    assert status == 500 and answer["error"]["code"] == "internal"
    assert call(server, "GET", "/item/1") == (200, {"n": 1})


# -- hostile clients (issue #9 item 17) ---------------------------------------------------------


def raw_exchange(server, data: bytes, half_close=False, wait=5.0) -> bytes:
    """Send raw bytes, read until the server closes (or `wait` passes); returns what came back."""
    host, port = server.url.removeprefix("http://").split(":")
    sock = socket.create_connection((host, int(port)), timeout=wait)
    try:
        sock.sendall(data)
        if half_close:
            sock.shutdown(socket.SHUT_WR)
        out = b""
        while True:
            try:
                chunk = sock.recv(65536)
            except TimeoutError:
                return out
            if not chunk:
                return out
            out += chunk
    finally:
        sock.close()


def answers(raw: bytes) -> list[tuple[int, dict]]:
    """Every (status, JSON body) in a raw HTTP/1.1 byte stream."""
    found = []
    while raw:
        head, _, rest = raw.partition(b"\r\n\r\n")
        lines = head.decode().split("\r\n")
        status = int(lines[0].split()[1])
        length = next(
            int(v)
            for k, _, v in (x.partition(": ") for x in lines[1:])
            if k.lower() == "content-length"
        )
        found.append((status, json.loads(rest[:length])))
        raw = rest[length:]
    return found


def post_bytes(body: bytes, length: int | None = None, extra: str = "") -> bytes:
    n = len(body) if length is None else length
    return f"POST /tx HTTP/1.1\r\nHost: x\r\nContent-Length: {n}\r\n{extra}\r\n".encode() + body


def test_http_short_body_is_refused_not_processed(api):
    server, accepted = api
    raw = raw_exchange(server, post_bytes(GOOD.encode(), length=len(GOOD) + 20), half_close=True)
    [(status, body)] = answers(raw)
    assert status == 400 and body["error"]["code"] == "short_body", body
    assert accepted == []  # a body shorter than announced is never processed


def test_http_every_method_and_malformed_request_gets_json(api):
    server, accepted = api
    for method in ("PUT", "DELETE", "PATCH", "OPTIONS", "HEAD", "TRACE", "FROB"):
        raw = raw_exchange(server, f"{method} /tx HTTP/1.1\r\nHost: x\r\n\r\n".encode())
        head, _, rest = raw.partition(b"\r\n\r\n")
        assert head.split()[1] == b"501" and b"application/json" in head, (method, raw)
        assert json.loads(rest)["error"]["code"] == "method_not_supported", method
    for garbage in (b"GARBAGE\r\n\r\n", b"GET /tx HTTP/9.9\r\n\r\n", b"GET /" + b"a" * 70000):
        [(status, body)] = answers(raw_exchange(server, garbage + b"\r\n"))
        assert status in (400, 414, 505) and body["error"]["code"], (garbage[:20], body)
    assert call(server, "POST", "/tx", GOOD)[0] == 200 and len(accepted) == 1


def test_http_chunked_or_smuggled_bodies_are_refused(api):
    server, accepted = api
    smuggle = post_bytes(GOOD.encode())
    # A body on a GET is read exactly and ignored, never parsed as a second request.
    get_with_body = (
        f"GET /item/1 HTTP/1.1\r\nHost: x\r\nContent-Length: {len(smuggle)}\r\n\r\n".encode()
        + smuggle
    )
    got = answers(raw_exchange(server, get_with_body, half_close=True))
    assert got == [(200, {"n": 1})] and accepted == []
    chunked = post_bytes(b"5\r\nhello\r\n0\r\n\r\n", extra="Transfer-Encoding: chunked\r\n")
    [(status, body)] = answers(raw_exchange(server, chunked))
    assert status == 411 and body["error"]["code"] == "length_required" and accepted == []
    twice = post_bytes(GOOD.encode(), extra="Content-Length: 3\r\n")
    [(status, body)] = answers(raw_exchange(server, twice))
    assert status == 400 and body["error"]["code"] == "bad_length" and accepted == []


@pytest.fixture
def slow_api():
    def slow(_params, _body):
        time.sleep(0.3)
        return {"slow": True}

    server = JsonApiServer([Route("GET", r"/slow", slow)])  # the defaults: what production runs
    server.start()
    yield server
    server.stop()


@pytest.mark.slow  # waits out the server's timeouts
def test_http_stalled_body_and_idle_connection_time_out(api):
    server, accepted = api
    host, port = server.url.removeprefix("http://").split(":")
    idle = socket.create_connection((host, int(port)), timeout=30)  # connects, says nothing
    started = time.monotonic()
    stalled = post_bytes(GOOD.encode()[:5], length=len(GOOD))  # then silence, socket kept open
    [(status, body)] = answers(raw_exchange(server, stalled, wait=20))
    assert status == 408 and body["error"]["code"] == "body_timeout", body
    assert time.monotonic() - started < 15 and accepted == []
    assert idle.recv(100) == b""  # the idle connection was closed as well
    idle.close()


def test_http_connection_flood_is_bounded(api):
    server, accepted = api
    host, port = server.url.removeprefix("http://").split(":")
    before = threading.active_count()
    hogs = [socket.create_connection((host, int(port)), timeout=2.0) for _ in range(120)]
    try:
        time.sleep(0.3)
        # never a thread per hostile connection: at most the 64 admitted ones
        assert threading.active_count() <= before + 64
        refused = 0
        for s in hogs[64:]:
            answer = s.recv(4096)
            assert b" 503 " in answer.split(b"\r\n")[0] and b'"busy"' in answer, answer
            refused += 1
        assert refused == 56
    finally:
        for s in hogs:
            s.close()
    time.sleep(0.3)  # the admitted hogs closed: their slots are free again
    assert call(server, "POST", "/tx", GOOD)[0] == 200 and len(accepted) == 1


def test_http_client_that_disconnects_early_leaves_no_traceback(slow_api, capfd):
    server = slow_api
    host, port = server.url.removeprefix("http://").split(":")
    for _ in range(3):
        sock = socket.create_connection((host, int(port)))
        sock.sendall(b"GET /slow HTTP/1.1\r\nHost: x\r\n\r\n")
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        sock.close()  # reset before the answer is written
    time.sleep(0.8)
    assert "Traceback" not in capfd.readouterr().err
    assert call(server, "GET", "/slow")[1] == {"slow": True}


def test_http_trickling_clients_cannot_hold_connections():
    """A client sending one byte at a time resets the socket timeout on every read; the
    per-request deadline still closes it, so a few tricklers never shut everyone else out."""
    server = JsonApiServer(
        [Route("GET", r"/item/(?P<n>[0-9]+)", lambda p, _b: {"n": int(p["n"])})],
        timeout=1.0,
        request_deadline=2.0,
        max_connections=2,
    )
    server.start()
    host, port = server.url.removeprefix("http://").split(":")
    tricklers = [socket.create_connection((host, int(port)), timeout=5) for _ in range(2)]
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
                    t.sendall(line[i : i + 1])  # one byte every 0.5 s: within the 1 s timeout
                except OSError:
                    closed[k] = True
            if all(closed):
                break
            time.sleep(0.5)
        assert time.monotonic() - started < 5, "trickling clients held their connections"
        # both slots are free again: an honest request is served at once
        assert call(server, "GET", "/item/7")[0] == 200
    finally:
        for t in tricklers:
            t.close()
        server.stop()
