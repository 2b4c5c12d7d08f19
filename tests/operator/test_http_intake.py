"""Group commit: concurrent single and batched submissions are admitted in groups by one worker,
nothing is acknowledged before its group's admit_many returned, and a full queue answers busy."""

from __future__ import annotations

import asyncio
import threading
import time

import aiohttp
import pytest
from http_fakes import RecordingAdmission, tx

from offchain.sequencer.http_server import HttpFront, HttpLimits, HttpServer
from offchain.sequencer.intake import Intake, IntakeLimits


def serve(admission, limits=None, http=None):
    front_holder: list[HttpFront] = []
    intake = Intake(admission, limits, on_group=lambda n, s: front_holder[0].on_group(n, s))
    front = HttpFront([], intake, limits=http or HttpLimits())
    front_holder.append(front)
    intake.start()
    server = HttpServer(front)
    server.start()
    return server, intake


@pytest.fixture
def slow_commit():
    admission = RecordingAdmission(commit_delay=0.02)  # a 20 ms "fsync" per group
    server, intake = serve(admission)
    yield server.url, admission
    server.stop()
    intake.stop()


async def post_all(url, bodies, batch=0, connections=50):
    """POST every body (singly, or `batch` per POST /txs) over `connections` connections."""
    conn = aiohttp.TCPConnector(limit=connections)
    async with aiohttp.ClientSession(connector=conn) as session:

        async def one(b):
            async with session.post(url + "/tx", json=b) as r:
                return [(r.status, await r.json())]

        async def many(bs):
            async with session.post(url + "/txs", json={"txs": bs}) as r:
                body = await r.json()
                if "results" not in body:  # refused as a whole (busy)
                    return [(r.status, body)]
                return [(r.status, x) for x in body["results"]]

        if batch:
            jobs = [many(bodies[i : i + batch]) for i in range(0, len(bodies), batch)]
        else:
            jobs = [one(b) for b in bodies]
        return [x for part in await asyncio.gather(*jobs) for x in part]


def test_concurrent_singles_are_committed_in_groups(slow_commit):
    url, admission = slow_commit
    results = asyncio.run(post_all(url, [tx(5, ident=i) for i in range(400)]))
    assert all(s == 200 for s, _ in results), results[:3]
    assert sorted(b["id"] for _, b in results) == list(range(400))  # each got its own answer
    assert sum(admission.groups) == 400
    # 400 concurrent submissions, 20 ms per commit: far fewer commits than transactions
    assert len(admission.groups) < 100 and max(admission.groups) > 4, admission.groups
    assert admission.threads == {"group-commit"}  # one worker admits every group


def test_a_lone_submission_is_not_delayed():
    admission = RecordingAdmission()
    server, intake = serve(admission, IntakeLimits(linger=0.0))
    try:
        asyncio.run(post_all(server.url, [tx(1, ident=0)]))
        started = time.perf_counter()
        for i in range(1, 21):
            asyncio.run(post_all(server.url, [tx(1, ident=i)]))
        per_request = (time.perf_counter() - started) / 20
        assert admission.groups == [1] * 21
        assert per_request < 0.1  # no linger: answered as soon as admitted (loose: loaded box)
    finally:
        server.stop()
        intake.stop()


def test_batched_submissions_answer_in_order_with_per_item_errors(slow_commit):
    url, admission = slow_commit
    bodies = [
        tx(5, ident=1),
        tx(13, ident=2),
        "not an object",
        tx(0),
        tx(5, ident=1),
        tx(7, ident=3),
    ]
    results = asyncio.run(post_all(url, bodies, batch=len(bodies)))
    codes = [b.get("error", {}).get("code") for _, b in results]
    assert codes == [None, "bad_nonce", "bad_json", "out_of_range", "duplicate", None]
    assert results[0][1]["id"] == 1 and results[5][1]["id"] == 3
    assert admission.accepted == [1, 3] and admission.groups == [4]  # the 4 that were prepared


def test_batched_and_single_submissions_share_groups(slow_commit):
    url, admission = slow_commit

    async def both():
        return await asyncio.gather(
            post_all(url, [tx(5, ident=i) for i in range(0, 600)], batch=100),
            post_all(url, [tx(5, ident=i) for i in range(600, 800)]),
        )

    batched, singles = asyncio.run(both())
    assert all(s == 200 and "id" in b for s, b in batched + singles)
    assert sum(admission.groups) == 800 and len(admission.accepted) == 800


def test_batch_limits():
    admission = RecordingAdmission()
    server, intake = serve(admission, http=HttpLimits(max_batch_txs=3))
    try:

        async def go():
            async with aiohttp.ClientSession() as s:
                out = []
                for body in ({"txs": [tx()] * 4}, {"txs": []}, {"txs": "x"}, {"nope": 1}):
                    async with s.post(server.url + "/txs", json=body) as r:
                        out.append((r.status, (await r.json())["error"]["code"]))
                return out

        assert asyncio.run(go()) == [
            (400, "too_many_txs"),
            (400, "bad_type"),
            (400, "bad_type"),
            (400, "bad_type"),
        ]
        assert admission.groups == []
    finally:
        server.stop()
        intake.stop()


def test_nothing_is_acknowledged_before_admit_many_returned():
    admission = RecordingAdmission()
    admission.gate.clear()  # admit_many blocks until the gate opens
    server, intake = serve(admission)
    try:
        answers: list = []
        t = threading.Thread(
            target=lambda: answers.extend(asyncio.run(post_all(server.url, [tx(5, ident=1)])))
        )
        t.start()
        assert admission.in_admit.wait(5)
        time.sleep(0.3)
        assert answers == [] and admission.accepted == []  # still inside admit_many: no answer
        admission.gate.set()
        t.join(5)
        assert answers and answers[0][0] == 200 and admission.accepted == [1]
    finally:
        admission.gate.set()
        server.stop()
        intake.stop()


def test_a_full_queue_answers_busy_and_keeps_nothing_of_it():
    admission = RecordingAdmission()
    admission.gate.clear()
    server, intake = serve(admission, IntakeLimits(max_queue=5, max_group=2))
    try:

        async def go():
            conn = aiohttp.TCPConnector(limit=50)
            async with aiohttp.ClientSession(connector=conn) as s:

                async def one(i):
                    async with s.post(server.url + "/tx", json=tx(5, ident=i)) as r:
                        return r.status, await r.json(), r.headers.get("Retry-After")

                tasks = [asyncio.create_task(one(i)) for i in range(30)]
                await asyncio.sleep(1.0)
                admission.gate.set()
                return await asyncio.gather(*tasks)

        results = asyncio.run(go())
        busy = [r for r in results if r[0] == 503]
        ok = [r for r in results if r[0] == 200]
        assert busy and ok and len(busy) + len(ok) == 30
        assert all(b["error"]["code"] == "busy" and ra == "1" for _, b, ra in busy)
        assert sorted(b["id"] for _, b, _ in ok) == sorted(admission.accepted)
        assert max(admission.groups) <= 2  # max_group bounds every group
    finally:
        admission.gate.set()
        server.stop()
        intake.stop()


def test_a_failing_admit_many_refuses_the_whole_group():
    class Broken(RecordingAdmission):
        def admit_many(self, prepared):
            raise OSError("disk full")

    server, intake = serve(Broken())
    try:
        [(status, body)] = asyncio.run(post_all(server.url, [tx(5)]))
        assert status == 503 and body["error"]["code"] == "store_unavailable"
        assert "resend" in body["error"]["message"]
    finally:
        server.stop()
        intake.stop()


def test_linger_lets_groups_fill():
    admission = RecordingAdmission()
    server, intake = serve(admission, IntakeLimits(linger=0.2, max_group=64))
    try:
        results = asyncio.run(post_all(server.url, [tx(5, ident=i) for i in range(40)]))
        assert all(s == 200 for s, _ in results)
        assert len(admission.groups) <= 3, admission.groups  # 40 arrivals within one linger
    finally:
        server.stop()
        intake.stop()


def test_bad_limits_are_refused():
    with pytest.raises(ValueError, match="positive"):
        Intake(RecordingAdmission(), IntakeLimits(max_group=0))


def test_transactions_being_checked_count_against_the_queue_bound():
    class SlowPrepare(RecordingAdmission):
        def prepare(self, body):
            time.sleep(0.05)  # a slow signature check: the batch is still being prepared
            return super().prepare(body)

    admission = SlowPrepare()
    server, intake = serve(admission, IntakeLimits(max_queue=10))
    try:

        async def go():
            first = asyncio.create_task(
                post_all(server.url, [tx(5, ident=i) for i in range(8)], batch=8)
            )
            await asyncio.sleep(0.1)  # the first batch is being prepared, not queued yet
            second = await post_all(server.url, [tx(5, ident=i) for i in range(8, 16)], batch=8)
            return await first, second

        first, second = asyncio.run(go())
        assert all(s == 200 and "id" in b for s, b in first)
        assert second == [(503, second[0][1])] and second[0][1]["error"]["code"] == "busy"
        assert sorted(admission.accepted) == list(range(8))
    finally:
        server.stop()
        intake.stop()


def test_a_large_batch_is_parsed_off_the_loop_and_admitted(slow_commit):
    url, admission = slow_commit
    bodies = [tx(5, ident=i, memo="m" * 80) for i in range(1000)]  # ~120 KB: parsed in a thread
    results = asyncio.run(post_all(url, bodies, batch=1000))
    assert len(results) == 1000 and all(s == 200 and "id" in b for s, b in results)
    assert sorted(admission.accepted) == list(range(1000))
