"""`l2kit channels ...` against node services running as processes on Anvil: open, fund, pay
both ways, route over two hops, close (cooperative, and unilateral when the peer is gone), with the
money checked on chain; bad input is one line, a non-zero exit, and nothing sent."""

from __future__ import annotations

import json
import socket

import pytest
from channel_nodes import NodeService
from conftest import advance, key_of

ONE = 10**18
ETH = "0x" + "00" * 20


@pytest.fixture
def nodes(l2kit, tmp_path, alice, bob, carol):
    started: list[NodeService] = []

    def start(name: str, account, port: int = 0) -> NodeService:
        env = l2kit.env(None, L2KIT_RPC=l2kit.rpc)
        n = NodeService(name, key_of(account), tmp_path, env, port=port)
        started.append(n)
        return n

    yield start
    for n in started:
        n.stop()


def ch(l2kit, node: NodeService, *args: str):
    """`l2kit channels ARGS --api <node>` in-process; returns the click result."""
    return l2kit.run("channels", *args, "--api", node.api)


def ok_json(l2kit, node: NodeService, *args: str) -> dict:
    r = ch(l2kit, node, *args, "--json")
    assert r.exit_code == 0, r.stderr
    return json.loads(r.stdout)


def one_line_error(r, *needles: str) -> None:
    assert r.exit_code == 1, (r.exit_code, r.stdout, r.stderr)
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("l2kit: error: "), r.stderr
    for n in needles:
        assert n in lines[0], lines[0]


def channel_of(l2kit, node: NodeService, peer: str) -> dict:
    rows = ok_json(l2kit, node, "list")["channels"]
    [c] = [c for c in rows if c["peer"] == peer]
    return c


def connect(l2kit, a: NodeService, b: NodeService) -> None:
    ok_json(l2kit, a, "connect", b.address, f"127.0.0.1:{b.port}")
    ok_json(l2kit, b, "connect", a.address, f"127.0.0.1:{a.port}")


@pytest.mark.slow
def test_channels_open_pay_both_ways_route_two_hops_and_close_with_funds_on_chain(
    l2kit, nodes, deployment, project, w3, alice, bob, carol
):
    adj = project.ChannelAdjudicator.at(deployment.address("ChannelAdjudicator"))
    a, b, c = nodes("alice", alice), nodes("bob", bob), nodes("carol", carol)
    connect(l2kit, a, b)
    connect(l2kit, b, c)
    assert {p["address"] for p in ok_json(l2kit, b, "peers")["peers"]} == {a.address, c.address}

    # alice opens 1 ETH to bob, bob adds 0.5 as B; bob opens 1 ETH to carol
    opened = ok_json(l2kit, a, "open", b.address, "1", "--yes")
    assert opened["role"] == "A" and opened["balance"] == str(ONE)
    funded = ok_json(l2kit, b, "fund", a.address, "0.5", "--yes")
    assert funded["balance"] == str(ONE // 2)
    ok_json(l2kit, b, "open", c.address, "1", "--yes")
    assert adj.balance == 5 * ONE // 2  # every deposit is on chain

    # direct payments both ways
    ok_json(l2kit, a, "pay", b.address, "0.1", "--yes")
    ok_json(l2kit, b, "pay", a.address, "50000000gwei", "--yes")
    assert channel_of(l2kit, a, b.address)["balance"] == str(ONE * 95 // 100)

    # alice pays carol through bob: carol's invoice, alice's node routes it
    r = ch(l2kit, c, "invoice", "0.2")
    assert r.exit_code == 0, r.stderr
    paid = ok_json(l2kit, a, "route", r.stdout.strip(), "--yes")
    assert paid["hops"] == [b.address, c.address]
    assert channel_of(l2kit, a, b.address)["balance"] == str(ONE * 75 // 100)
    assert channel_of(l2kit, c, b.address)["balance"] == str(ONE * 2 // 10)
    assert channel_of(l2kit, b, c.address)["balance"] == str(ONE * 8 // 10)

    # cooperative close: both are paid out at once by the close, nothing is left to claim
    bob_before = w3.eth.get_balance(b.address)
    closed = ok_json(l2kit, a, "close", b.address, "--yes")
    assert closed["mode"] == "cooperative" and closed["claimed"] == "0"
    assert w3.eth.get_balance(b.address) == bob_before + ONE * 75 // 100
    assert adj.claimable(ETH, a.address) == 0 and adj.claimable(ETH, b.address) == 0
    assert ok_json(l2kit, b, "claim", "--yes")["claimed"] == "0"
    assert adj.balance == ONE  # only the bob-carol channel's deposit is left

    # carol goes away: bob's close falls back to a unilateral one, settled after the period
    c.stop()
    closed = ok_json(l2kit, b, "close", c.address, "--yes")
    assert closed["mode"] == "unilateral" and closed["status"] == "Closing"
    advance(w3, 101)
    assert ok_json(l2kit, b, "settle", closed["channel_id"], "--yes")["status"] == "Settled"
    assert adj.claimable(ETH, b.address) == 0  # bob's 0.8 and carol's 0.2 paid by settle
    assert adj.claimable(ETH, c.address) == 0
    assert adj.balance == 0
    status = ok_json(l2kit, b, "status")
    assert status["channels"] == 2 and status["locks"] == 0


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_channels_bad_input_is_one_line_nonzero_and_sends_nothing(
    l2kit, nodes, deployment, w3, tmp_path, alice, bob, carol
):
    adjudicator = deployment.address("ChannelAdjudicator")
    a, b = nodes("alice", alice), nodes("bob", bob)
    connect(l2kit, a, b)
    ok_json(l2kit, a, "open", b.address, "0.1", "--yes")
    sent_before = w3.eth.get_transaction_count(alice.address)
    held_before = w3.eth.get_balance(adjudicator)
    zero_id = "0x" + "00" * 32

    one_line_error(ch(l2kit, a, "open", b.address, "1.2.3", "--yes"), "not an amount")
    one_line_error(ch(l2kit, a, "pay", b.address, "0", "--yes"), "must be positive")
    one_line_error(ch(l2kit, a, "pay", "bob", "0.1", "--yes"), "not an Ethereum peer address")
    one_line_error(ch(l2kit, a, "open", carol.address, "0.1", "--yes"), "unknown_peer")
    one_line_error(ch(l2kit, a, "open", b.address, "0.1", "--yes"), "channel_exists")
    one_line_error(ch(l2kit, a, "pay", carol.address, "0.01", "--yes"), "unknown_channel")
    one_line_error(ch(l2kit, a, "fund", zero_id, "0.01", "--yes"), "unknown_channel")
    one_line_error(ch(l2kit, a, "close", "xyz", "--yes"), "bad_channel")
    one_line_error(ch(l2kit, a, "fund", b.address, "0.01", "--yes"), "not_fundable")
    one_line_error(ch(l2kit, a, "pay", b.address, "0.2", "--yes"), "insufficient_capacity")
    one_line_error(ch(l2kit, a, "pay", b.address, "0.01"), "pass --yes")  # no terminal
    one_line_error(ch(l2kit, a, "route", "{not json", "--yes"), "not JSON")
    big = ch(l2kit, b, "invoice", "0.5")
    one_line_error(ch(l2kit, a, "route", big.stdout.strip(), "--yes"), "no_route")
    one_line_error(ch(l2kit, a, "delegate", carol.address, "127.0.0.1:1", "--days", "0"), "--days")
    ch(l2kit, a, "connect", carol.address, f"127.0.0.1:{_free_port()}")  # known, not running
    one_line_error(ch(l2kit, a, "open", carol.address, "0.1", "--yes"), "peer_unreachable")
    one_line_error(ch(l2kit, a, "open", bob.address, "1000000000", "--yes"), "channel_exists")
    taken = int(a.api.rpartition(":")[2])
    busy = l2kit.process(
        "channels", "node", "--db", str(tmp_path / "x.db"), "--api-port", str(taken),
        key=key_of(carol), L2KIT_RPC=l2kit.rpc,
    )  # fmt: skip
    assert busy.returncode == 1 and busy.stderr.startswith("l2kit: error: the channel node cannot")
    assert len(busy.stderr.strip().splitlines()) == 1, busy.stderr
    b.stop()
    one_line_error(ch(l2kit, b, "list"), "no channel node at", "l2kit channels node")
    one_line_error(ch(l2kit, b, "pay", a.address, "0.01", "--yes"), "no channel node at")

    assert w3.eth.get_transaction_count(alice.address) == sent_before  # nothing sent on chain
    assert w3.eth.get_balance(adjudicator) == held_before
    mine = channel_of(l2kit, a, bob.address)
    assert mine["nonce"] == 0 and mine["balance"] == str(ONE // 10)  # nothing sent off chain


def test_channels_open_more_than_the_wallet_holds_is_refused_before_sending(
    l2kit, nodes, deployment, w3, alice, bob
):
    a, b = nodes("alice", alice), nodes("bob", bob)
    connect(l2kit, a, b)
    sent_before = w3.eth.get_transaction_count(alice.address)
    one_line_error(ch(l2kit, a, "open", b.address, "1000000000", "--yes"), "insufficient_funds")
    assert w3.eth.get_transaction_count(alice.address) == sent_before
    assert ok_json(l2kit, a, "list")["channels"] == []


def _raw_request(url: str, method: str = "POST", body: bytes = b"{}", **headers: str):
    import urllib.error
    import urllib.request

    req = urllib.request.Request(url, data=body if method == "POST" else None, method=method)
    for k, v in headers.items():
        req.add_header(k.replace("_", "-"), v)
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            return resp.status, json.loads(resp.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def test_channel_api_refuses_what_a_web_page_could_send_and_answers_json_codes(
    l2kit, nodes, alice, bob
):
    a = nodes("alice", alice)
    pay = a.api + "/pay"
    body = json.dumps({"peer": bob.address, "amount": "1"}).encode()
    json_type = {"Content_Type": "application/json"}
    # a cross-origin form or fetch without preflight: text/plain, or any request with Origin
    assert _raw_request(pay, body=body, Content_Type="text/plain")[1]["error"]["code"] == (
        "bad_content_type"
    )
    status, answer = _raw_request(pay, body=body, Origin="https://evil.example", **json_type)
    assert (status, answer["error"]["code"]) == (403, "cross_origin")
    # DNS rebinding: the page's own name pointed at 127.0.0.1
    port = a.api.rpartition(":")[2]
    status, answer = _raw_request(pay, body=body, Host=f"evil.example:{port}", **json_type)
    assert (status, answer["error"]["code"]) == (403, "bad_host")
    assert _raw_request(pay, body=b"{nope", **json_type)[1]["error"]["code"] == "bad_json"
    assert _raw_request(a.api + "/nope", "GET") == (
        404,
        {"ok": False, "error": {"code": "not_found", "message": "no endpoint GET /nope"}},
    )
    bad = json.dumps({"peer": bob.address, "amount": 1.5}).encode()
    assert _raw_request(pay, body=bad, **json_type)[1]["error"]["code"] == "bad_amount"
    status, answer = _raw_request(a.api + "/status", "GET")
    assert status == 200 and answer["ok"] is True and answer["address"] == alice.address


def test_channels_delegate_hands_latest_states_to_a_tower_process_and_later_ones_follow(
    l2kit, nodes, tmp_path, accounts, alice, bob
):
    from channel_nodes import TOWER

    tower_account = accounts[5]
    tower = NodeService(
        "tower", key_of(tower_account), tmp_path, l2kit.env(None, L2KIT_RPC=l2kit.rpc), TOWER
    )
    try:
        a, b = nodes("alice", alice), nodes("bob", bob)
        connect(l2kit, a, b)
        ok_json(l2kit, a, "open", b.address, "0.1", "--yes")
        ok_json(l2kit, a, "pay", b.address, "0.01", "--yes")
        assert ok_json(l2kit, a, "status")["tower"]["ok"] is None  # not protected yet
        r = ok_json(l2kit, a, "delegate", tower_account.address, f"127.0.0.1:{tower.port}")
        # state 1 needs no blob yet (tower protocol v2: blobs for closes 0 and 1 go with state 2)
        assert r["pushed"] == 1 and r["status"]["error"] is None
        ok_json(l2kit, a, "pay", b.address, "0.01", "--yes")  # pushed without asking again
        assert _eventually(lambda: ok_json(l2kit, a, "status")["tower"]["nonce"] == 2)
        # a delegation to something that is not a tower is refused, and says so
        wrong = ch(l2kit, a, "delegate", b.address, f"127.0.0.1:{b.port}")
        one_line_error(wrong, "tower_refused")
        # ... and leaves the working delegation in place
        ok_json(l2kit, a, "pay", b.address, "0.01", "--yes")

        def tower_state() -> dict:
            st = ok_json(l2kit, a, "status")["tower"]
            return {k: st[k] for k in ("ok", "error", "nonce")}

        assert _eventually(lambda: tower_state() == {"ok": True, "error": None, "nonce": 3})
    finally:
        tower.stop()


def _eventually(cond, timeout: float = 10.0) -> bool:
    import time

    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if cond():
            return True
        time.sleep(0.1)
    return cond()


def test_channels_node_restarted_from_its_database_keeps_channels_peers_and_its_tower(
    l2kit, nodes, tmp_path, accounts, alice, bob
):
    from channel_nodes import TOWER

    tower_account = accounts[5]
    tower = NodeService(
        "tower", key_of(tower_account), tmp_path, l2kit.env(None, L2KIT_RPC=l2kit.rpc), TOWER
    )
    try:
        port = _free_port()
        a, b = nodes("alice", alice, port), nodes("bob", bob)
        connect(l2kit, a, b)
        ok_json(l2kit, a, "open", b.address, "0.1", "--yes")
        ok_json(l2kit, a, "pay", b.address, "0.01", "--yes")
        ok_json(l2kit, a, "delegate", tower_account.address, f"127.0.0.1:{tower.port}")
        a.stop()
        a = nodes("alice", alice, port)  # same database, same peer port
        mine = channel_of(l2kit, a, bob.address)
        assert (mine["nonce"], mine["balance"]) == (1, str(ONE * 9 // 100))
        known = {p["address"]: p["channel_id"] for p in ok_json(l2kit, a, "peers")["peers"]}
        # the tower is not a channel peer: the node reaches it on a connection of its own
        assert known == {bob.address: mine["channel_id"]}
        ok_json(l2kit, b, "pay", alice.address, "0.005", "--yes")  # bob finds alice again

        def tower_state() -> dict:
            st = ok_json(l2kit, a, "status")["tower"]
            return {k: st[k] for k in ("ok", "error", "nonce")}

        # the delegation survived the restart: the new state's blobs went to the tower
        assert _eventually(lambda: tower_state() == {"ok": True, "error": None, "nonce": 2})
    finally:
        tower.stop()


def test_channel_service_runs_from_a_config_file_as_python_m_offchain_channels_service(
    l2kit, deployment, tmp_path, alice
):
    import os
    import subprocess
    import sys

    from channel_nodes import ROOT

    cfg = {
        "db": str(tmp_path / "svc.db"),
        "rpc": l2kit.rpc,
        "adjudicator": deployment.address("ChannelAdjudicator"),
        "abi_file": str(ROOT / ".build" / "__local__.json"),
        "port": 0,
        "api_port": 0,
    }
    (tmp_path / "svc.json").write_text(json.dumps(cfg))
    env = dict(os.environ, PYTHONPATH=str(ROOT), L2KIT_NODE_KEY=key_of(alice))
    proc = subprocess.Popen(
        [sys.executable, "-m", "offchain.channels.service", "--config", str(tmp_path / "svc.json")],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert proc.stdout.readline().startswith(f"node {alice.address} listening on ")
        api = proc.stdout.readline().split()[1]
        status, answer = _raw_request(api + "/status", "GET")
        assert status == 200 and answer["address"] == alice.address and answer["errors"] == []
    finally:
        proc.terminate()
        assert proc.wait(15) == 0  # SIGTERM is a clean stop
