"""The JSON API refuses bad input with a clear error and keeps serving."""

import http.client
import json

import pytest

from offchain.operator.http_api import JsonApiServer, Route, bad_request, hex_field, int_field


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
