"""GET /metrics parses as Prometheus text and carries the store's persistent counters and the
intake's own figures; GET /health and GET /ready answer (503 with the reason when not ready)."""

from __future__ import annotations

import asyncio
import http.client
import json

import aiohttp
import pytest
from http_fakes import RecordingAdmission, host_port, tx
from prometheus_client.parser import text_string_to_metric_families

from offchain.sequencer.config import load_config
from offchain.sequencer.http_server import serve
from offchain.sequencer.metrics import VALIDATOR_FIGURES, StatusCollector


def status_dict(**over):
    base = {
        "mode": "optimistic",
        "ready": True,
        "frozen": False,
        "proposer": "0x" + "11" * 20,
        "l2": {
            "confirmed_root": "0x" + "00" * 32,
            "confirmed_batches": 7,
            "pending_txs": 42,
            "queued_deposits": 3,
            "queued_forced": 0,
        },
        "l1": {"head_block": 120, "synced_block": 118, "lag_blocks": 2},
        "counters": {
            "txs_accepted": 1000,
            "txs_rejected": 9,
            "batches_posted": 7,
            "txs_posted": 958,
            "deposits_posted": 12,
            "l1_gas": 1_234_567,
            "l1_bytes": 45_000,
            "sender_retries": 2,
        },
        "finality": {"last_final_batch": None, "last_time_to_finality_s": None},
        "last_batch": {"index": 6, "status": "posted", "l1_tx": "0x" + "ab" * 32},
    }
    base.update(over)
    return base


class FakeService(RecordingAdmission):
    def __init__(self):
        super().__init__()
        self.state = status_dict()
        self.readiness = (True, "recovered, L1 answered 0.2 s ago")
        self.fail = False

    def status(self):
        if self.fail:
            raise ConnectionError("L1 unreachable")
        return self.state

    def health(self):
        return {"alive": True, "loop": "running"}

    def ready(self):
        return self.readiness


@pytest.fixture
def served():
    service = FakeService()
    config = load_config(["--port", "0", "--intake-max-group", "64"], env={})
    server = serve(config, service, [])  # what the service entry mounts
    yield server.url, service
    server.stop()
    assert server.front.intake is not None
    server.front.intake.stop()


def get(url, path):
    conn = http.client.HTTPConnection(*host_port(url), timeout=5)
    conn.request("GET", path)
    resp = conn.getresponse()
    data = resp.read()
    conn.close()
    return resp.status, resp.getheader("Content-Type"), data


def samples(text: str) -> dict[str, float]:
    out = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            key = s.name + (json.dumps(s.labels, sort_keys=True) if s.labels else "")
            out[key] = s.value
    return out


def test_metrics_parse_and_carry_status_and_persistent_counters(served):
    url, _ = served

    async def submit():
        async with aiohttp.ClientSession() as s:
            for body in (tx(5, ident=1), tx(13, ident=2), tx(5, ident=1), tx(6, ident=3)):
                async with s.post(url + "/tx", json=body) as r:
                    await r.read()

    asyncio.run(submit())
    status, ctype, body = get(url, "/metrics")
    assert status == 200 and ctype.startswith("text/plain")
    got = samples(body.decode())
    assert got["l2kit_status_up"] == 1.0
    assert got["l2kit_pending_txs"] == 42.0 and got["l2kit_l1_lag_blocks"] == 2.0
    assert got["l2kit_batches_posted_total"] == 7.0  # from the store's counters, not the process
    assert got["l2kit_l1_gas_total"] == 1_234_567.0 and got["l2kit_sender_retries_total"] == 2.0
    assert got["l2kit_frozen"] == 0.0 and got["l2kit_ready"] == 1.0
    assert "l2kit_time_to_finality_seconds" not in got  # None: no batch final yet, not exported
    assert got["l2kit_intake_accepted_total"] == 2.0
    assert got['l2kit_intake_rejected_total{"code": "bad_nonce"}'] == 1.0
    assert got['l2kit_intake_rejected_total{"code": "duplicate"}'] == 1.0
    assert got["l2kit_intake_group_size_count"] == 4.0
    assert got['l2kit_http_request_seconds_count{"route": "/tx", "status": "200"}'] == 2.0
    assert got['l2kit_http_request_seconds_count{"route": "/tx", "status": "400"}'] == 2.0


def test_persistent_counters_follow_the_store_across_restarts(served):
    url, service = served
    service.state = status_dict(counters={**status_dict()["counters"], "batches_posted": 8})
    assert samples(get(url, "/metrics")[2].decode())["l2kit_batches_posted_total"] == 8.0
    service.state = status_dict(finality={"last_final_batch": 5, "last_time_to_finality_s": 3.5})
    got = samples(get(url, "/metrics")[2].decode())
    assert got["l2kit_time_to_finality_seconds"] == 3.5 and got["l2kit_last_final_batch"] == 5


def test_a_failing_status_still_scrapes(served):
    url, service = served
    service.fail = True
    status, _, body = get(url, "/metrics")
    got = samples(body.decode())
    assert status == 200 and got["l2kit_status_up"] == 0.0 and "l2kit_pending_txs" not in got


def test_health_and_ready(served):
    url, service = served
    status, ctype, body = get(url, "/health")
    assert status == 200 and ctype == "application/json"
    assert json.loads(body) == {"alive": True, "loop": "running"}
    assert get(url, "/ready")[0] == 200
    service.readiness = (False, "frozen: the rollup is frozen on L1")
    status, _, body = get(url, "/ready")
    answer = json.loads(body)
    assert status == 503 and answer["ready"] is False and "frozen" in answer["reason"]
    assert answer["error"]["code"] == "not_ready"


def test_validator_figures_from_the_same_collector():
    from prometheus_client import CollectorRegistry, generate_latest

    registry = CollectorRegistry(auto_describe=False)
    state = {"ready": True, "l1": {"head_block": 9, "synced_block": 4, "lag_blocks": 5}}
    registry.register(StatusCollector(lambda: state, VALIDATOR_FIGURES))
    got = samples(generate_latest(registry).decode())
    assert got["l2kit_validator_lag_blocks"] == 5.0 and got["l2kit_validator_ready"] == 1.0
