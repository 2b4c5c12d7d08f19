"""The validator service with checkpoints: a new head costs only the new batches, a restart
resumes from its checkpoint, and every alarm class (unreadable, fraud, final unchecked) still
fires after that restart; the status endpoint reports its lag and exports the checkpoint."""

import logging
import urllib.request

from operator_helpers import BOND, CHALLENGE, advance, fund, http
from operator_helpers import key_of as bls_key
from test_validator_service import _hash_slot, _post, _watcher, key_of

from offchain.rollup import adversary
from offchain.rollup.checkpoint import Checkpoint
from offchain.rollup.codec import encode_batch
from offchain.rollup.l1 import Signer
from offchain.validator.status_http import status_server

ONE = 10**18


def _spy_reads(watcher):
    starts = []
    real = watcher.l1.read_batches

    def spy(count=None, start=0, from_block=0):
        starts.append(start)
        return real(count, start, from_block)

    watcher.l1.read_batches = spy
    return starts


def test_new_head_reads_only_new_batches(chain, contracts, make_batcher, alice, carol):
    bridge, rollup = contracts
    batcher = make_batcher()
    _post(batcher, bridge, alice, 3)
    watcher = _watcher(chain, rollup, bridge, carol)
    starts = _spy_reads(watcher)
    watcher.check_once()
    _post(batcher, bridge, alice, 2)
    watcher.check_once()
    assert starts == [0, 3] and watcher.stats.batches_verified == 5
    assert watcher.follower.point.batches == 5
    assert watcher.stats.to_json()["verified"] == 5 and not watcher.stats.to_json()["alarm"]


def test_restart_resumes_from_checkpoint_and_keeps_every_alarm_class(
    chain, contracts, make_batcher, accounts, alice, bob, carol, tmp_path, caplog
):
    bridge, rollup = contracts
    batcher = make_batcher()
    _post(batcher, bridge, alice, 3)
    status_file = tmp_path / "status.json"
    first = _watcher(chain, rollup, bridge, carol, status_file)
    assert first.step()
    ckdir = tmp_path / "status.json.checkpoints"
    assert [p.name for p in ckdir.iterdir()] == ["3.ckpt"]
    fund(bridge, bob, ONE)  # bob's account (1) opens in batch 3
    _post(batcher, bridge, alice, 1)
    assert first.step()
    assert sorted(p.name for p in ckdir.iterdir()) == ["3.ckpt", "4.ckpt"]

    # Restart: nothing before batch 4 is read again.
    second = _watcher(chain, rollup, bridge, carol, status_file)
    starts = _spy_reads(second)
    _post(batcher, bridge, alice, 1)
    assert second.step()
    assert starts == [4] and second.stats.batches_verified == 5

    # Unreadable class after the restart: batch 4's stored hash matches no posting, which also
    # breaks the checkpoints anchored at it: the service falls back to the one at batch 3.
    w3 = chain.provider.web3
    slot, real = _hash_slot(w3, rollup, 4)
    w3.provider.make_request("anvil_setStorageAt", [rollup.address, hex(slot), "0x" + "ab" * 32])
    third = _watcher(chain, rollup, bridge, carol, status_file)
    with caplog.at_level(logging.WARNING, logger="l2kit.validator"):
        assert third.step()
    status = third.stats.to_json()
    assert status["alarm"] and status["unreadable"]["index"] == 4 and status["verified"] == 4
    assert "refused" in caplog.text
    w3.provider.make_request("anvil_setStorageAt", [rollup.address, hex(slot), "0x" + real.hex()])
    assert third.step()
    assert not third.stats.to_json()["alarm"] and third.stats.batches_verified == 5

    # Fraud class after a restart: proven, rolled back, and the checkpoint below survives.
    fourth = _watcher(chain, rollup, bridge, carol, status_file)
    cheat = accounts[4]
    rollup.bond(value=BOND, sender=cheat)
    state = batcher.confirmed
    stolen = adversary.steal(state, batcher.dst, bls_key(bob), 0, 1, ONE // 2)
    Signer(batcher.w3, key_of(cheat)).send(
        batcher.l1.rollup.functions.postBatch(state.root, encode_batch(stolen))
    )
    starts = _spy_reads(fourth)
    assert fourth.check_once() is not None and fourth.stats.frauds_proven == 1
    assert starts == [5] and rollup.batchCount() == 5
    assert fourth.check_once() is None and fourth.stats.batches_verified == 5

    # Final-unchecked class: batches posted and final while no validator ran are reported by
    # the restarted one, though it resumes from a checkpoint.
    fourth.write_status()
    _post(batcher, bridge, alice, 2)
    advance(chain, CHALLENGE + 1)
    batcher.track_finality()
    fifth = _watcher(chain, rollup, bridge, carol, status_file)
    assert fifth.step()
    status = fifth.stats.to_json()
    assert status["alarm"] and status["finalized_unchecked"] == [5, 6]
    assert any("became final before this validator checked them" in a for a in status["alarms"])


def test_status_endpoint_reports_lag_and_exports_the_checkpoint(
    chain, contracts, make_batcher, alice, carol
):
    bridge, rollup = contracts
    batcher = make_batcher()
    _post(batcher, bridge, alice, 2)
    watcher = _watcher(chain, rollup, bridge, carol)
    server = status_server(watcher, "127.0.0.1", 0)
    server.start()
    try:
        code, body = http(server.url + "/checkpoint")
        assert code == 404 and body["error"]["code"] == "no_checkpoint"
        code, body = http(server.url + "/ready")
        assert code == 503 and "no check" in body["reason"]
        assert watcher.step()
        code, status = http(server.url + "/status")
        assert code == 200 and status["verified"] == 2 and not status["alarm"]
        assert status["l1"]["lag_blocks"] == 0 and status["l1"]["lag_batches"] == 0
        assert status["checkpoint"]["batches"] == 2
        _post(batcher, bridge, alice, 1)
        code, status = http(server.url + "/status")  # not re-checked yet: the last check's
        assert code == 200 and status["verified"] == 2
        code, health = http(server.url + "/health")
        assert code == 200 and health["alive"] and health["last_check_at"] is not None
        code, ready = http(server.url + "/ready")
        assert code == 200 and ready["ready"] is True, ready
        with urllib.request.urlopen(server.url + "/metrics", timeout=10) as resp:
            metrics = resp.read().decode()
        assert "\nl2kit_validator_lag_blocks 0.0\n" in metrics
        assert "\nl2kit_validator_batches_verified 2.0\n" in metrics
        assert "\nl2kit_validator_alarms 0.0\n" in metrics
        assert "\nl2kit_validator_ready 1.0\n" in metrics
        code, body = http(server.url + "/checkpoint")
        assert code == 200 and body["batches"] == 2
        ck = Checkpoint.from_bytes(bytes.fromhex(body["checkpoint"][2:]))
        assert ck.root == watcher.follower.point.root
        assert watcher.step()
        _, status = http(server.url + "/status")
        assert status["verified"] == 3 and status["l1"]["lag_batches"] == 0
    finally:
        server.stop()
