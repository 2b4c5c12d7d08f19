"""The validator service catches a dishonest batch from L1 data alone and rolls it back, and never
goes quiet: unreadable batches, batches final while it was down and RPC outages are reported."""

import json
import logging
import os
import subprocess
import sys
import threading
import time
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from operator_helpers import BOND, CHALLENGE, advance, fund
from operator_helpers import key_of as bls_key

from offchain.deployments import save_deployment
from offchain.l1.sender import SendPolicy
from offchain.rollup import adversary
from offchain.rollup.codec import encode_batch
from offchain.rollup.hashing import keccak
from offchain.rollup.l1 import Signer
from offchain.validator import service
from offchain.validator.service import ANVIL_KEY_1, ValidatorService

ONE = 10**18


def key_of(account) -> bytes:
    return bytes.fromhex(account.private_key.removeprefix("0x"))


def test_stolen_funds_batch_is_proven_and_rolled_back(
    chain, contracts, make_batcher, accounts, alice, bob, carol
):
    bridge, rollup = contracts
    fund(bridge, alice, 3 * ONE)
    fund(bridge, bob, ONE)
    batcher = make_batcher()
    assert batcher.post_if_due(force=True) == 0  # honest: the deposits
    watcher = ValidatorService(
        chain.provider.uri,
        rollup.address,
        bridge.address,
        key_of(carol),
        SendPolicy(receipt_timeout=5, backoff=0.05),
    )
    assert watcher.check_once() is None and watcher.stats.batches_verified == 1
    assert watcher.check_once() is None and watcher.stats.checks == 1  # head unchanged: no work

    # A second, bonded proposer posts a batch moving alice's funds to bob with bob's signature.
    cheat = accounts[4]
    rollup.bond(value=BOND, sender=cheat)
    state = batcher.confirmed
    commitments = adversary.steal(state, batcher.dst, bls_key(bob), 0, 1, 2 * ONE)
    Signer(batcher.w3, key_of(cheat)).send(
        batcher.l1.rollup.functions.postBatch(state.root, encode_batch(commitments))
    )
    assert rollup.batchCount() == 2

    proof_tx = watcher.check_once()
    assert proof_tx is not None and watcher.stats.frauds_proven == 1
    assert rollup.batchCount() == 1  # rolled back
    assert rollup.bondOf(cheat) == 0 and rollup.lockedBondOf(cheat) == 0  # slashed
    # the service committed before revealing: the bounty is carol's, paid after the claim window
    (bounty,) = batcher.l1.bounties_for(1, bytes(rollup.bounties(0).batchHash))
    assert bounty.recipient == carol.address
    assert bounty.amount == BOND * rollup.CHALLENGER_SHARE_BPS() // 10_000
    assert watcher.check_once() is None  # the head is honest again
    assert watcher.stats.batches_verified == 1
    # The honest batcher carries on from the restored head.
    batcher.track_finality()
    assert batcher.post_if_due(force=False) is None


# ------------------------------------------------- class: the validator never goes quiet

ROOT = Path(__file__).resolve().parents[2]


def _watcher(chain, rollup, bridge, account, status_file=None):
    return ValidatorService(
        chain.provider.uri,
        rollup.address,
        bridge.address,
        key_of(account),
        SendPolicy(receipt_timeout=5, backoff=0.05),
        status_file=status_file,
    )


def _post(batcher, bridge, user, n):
    for _ in range(n):
        fund(bridge, user, ONE // 10)
        assert batcher.post_if_due(force=True) is not None


#: RollupStore.SLOT: erc7201:l2kit.storage.Rollup (snapshots/storageLayout/Rollup.json).
ROLLUP_NAMESPACE = 0x4233F2604BD4F94D237230196403204113F79689E0D346A915F3134C89EEF800


def _hash_slot(w3, rollup, index):
    """Storage slot of the rollup's stored batch hash of `index` (found by its value)."""
    want = bytes(rollup.batches(index).batchHash)
    # the Rollup's ERC-7201 namespace (RollupStore.SLOT) or, for older layouts, slot 0
    for base in [*range(64), *(ROLLUP_NAMESPACE + k for k in range(64))]:
        slot = int.from_bytes(keccak(index.to_bytes(32, "big") + base.to_bytes(32, "big")), "big")
        if bytes(w3.eth.get_storage_at(rollup.address, slot)) == want:
            return slot, want
    raise AssertionError("batch hash slot not found")


def test_unreadable_batch_class_alarms_blocks_later_batches_and_resumes(
    chain, contracts, make_batcher, alice, carol, caplog
):
    bridge, rollup = contracts
    batcher = make_batcher()
    _post(batcher, bridge, alice, 3)
    w3 = chain.provider.web3
    # L1 now holds a batch whose data no validator can obtain: its stored hash matches no posting.
    slot, real = _hash_slot(w3, rollup, 1)
    w3.provider.make_request("anvil_setStorageAt", [rollup.address, hex(slot), "0x" + "ab" * 32])
    watcher = _watcher(chain, rollup, bridge, carol)
    with caplog.at_level(logging.ERROR, logger="l2kit.validator"):
        assert watcher.check_once() is None
    status = watcher.stats.to_json()
    assert status["alarm"] and status["unreadable"]["index"] == 1
    assert status["blocked"] == [2, 2] and status["verified"] == 1 and status["lag"] == 2
    assert any("batch 1 cannot be read" in r.getMessage() for r in caplog.records)
    # The cause goes away: the very next check reads everything (no head change needed).
    w3.provider.make_request("anvil_setStorageAt", [rollup.address, hex(slot), "0x" + real.hex()])
    watcher.check_once()
    status = watcher.stats.to_json()
    assert not status["alarm"] and status["verified"] == 3 and status["unreadable"] is None


def _once(deployments, status_file, rpc):
    env = dict(os.environ, L2KIT_DEPLOYMENTS=str(deployments), PYTHONPATH=str(ROOT))
    env["L2KIT_CHALLENGER_KEY"] = ANVIL_KEY_1
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "offchain.validator.service",
            "--network",
            "ethereum:local",
            "--rpc",
            rpc,
            "--once",
            "--status-file",
            str(status_file),
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    return (
        proc.returncode,
        json.loads(status_file.read_text())["status"] if status_file.exists() else None,
        proc.stderr,
    )


@pytest.mark.slow  # runs the validator service as a process three times (~17 s)
def test_silent_finality_class_batches_final_while_down_fail_the_one_shot_check(
    chain, deployment, contracts, make_batcher, alice, tmp_path
):
    bridge, _ = contracts
    save_deployment(deployment, tmp_path)
    status_file = tmp_path / "validator-status.json"
    batcher = make_batcher()
    _post(batcher, bridge, alice, 1)
    code, status, err = _once(tmp_path, status_file, chain.provider.uri)
    assert code == 0 and status["verified"] == 1 and not status["alarm"], err
    # The validator is down while two batches are posted and become final.
    _post(batcher, bridge, alice, 2)
    advance(chain, CHALLENGE + 1)
    code, status, err = _once(tmp_path, status_file, chain.provider.uri)
    assert code == 1, err
    assert status["finalized_unchecked"] == [1, 2] and status["alarm"]
    assert "became final before this validator checked them" in err
    # Reported once with a failing exit; the status keeps saying so.
    code, status, _ = _once(tmp_path, status_file, chain.provider.uri)
    assert code == 0 and status["alarm"] and status["finalized_unchecked_count"] == 2


class _FlakyRpc:
    """An HTTP JSON-RPC proxy in front of Anvil that can be switched off (503)."""

    def __init__(self, upstream: str) -> None:
        self.up = True
        self.requests = 0
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                outer.requests += 1
                if not outer.up:
                    self.send_response(503)
                    self.end_headers()
                    return
                req = urllib.request.Request(
                    upstream, body, headers={"Content-Type": "application/json"}
                )
                with urllib.request.urlopen(req, timeout=10) as resp:
                    data = resp.read()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()


def test_rpc_outage_class_backoff_is_bounded_and_resets():
    assert service.next_wait(1.0, 1.0, ok=True) == 1.0
    waits = [0.05]
    for _ in range(10):
        waits.append(service.next_wait(waits[-1], 0.05, ok=False))
    assert max(waits) == service.MAX_BACKOFF <= 2.0
    assert service.next_wait(service.MAX_BACKOFF, 0.05, ok=True) == 0.05


@pytest.mark.slow  # simulated RPC outage
def test_rpc_outage_class_validator_resumes_promptly(
    chain, contracts, make_batcher, alice, carol, tmp_path
):
    bridge, rollup = contracts
    batcher = make_batcher()
    _post(batcher, bridge, alice, 1)
    proxy = _FlakyRpc(chain.provider.uri)
    status_file = tmp_path / "status.json"
    watcher = ValidatorService(
        proxy.url, rollup.address, bridge.address, key_of(carol), status_file=status_file
    )
    stop = threading.Event()
    thread = threading.Thread(target=watcher.run, args=(stop, 0.05), daemon=True)
    try:
        proxy.up = False
        thread.start()
        time.sleep(6)  # a long outage: the back-off has reached its cap
        down = json.loads(status_file.read_text())["status"]
        assert down["errors_in_a_row"] >= 4 and "503" in down["last_error"]
        proxy.up = True
        back = time.monotonic()
        _post(batcher, bridge, alice, 1)
        while watcher.stats.batches_verified < 2:
            assert time.monotonic() - back < service.MAX_BACKOFF + 2, "the validator did not resume"
            time.sleep(0.05)
        assert watcher.stats.errors_in_a_row == 0 and watcher.stats.last_error is None
    finally:
        stop.set()
        thread.join(timeout=10)
        proxy.close()


def test_rpc_outage_class_one_shot_check_that_cannot_check_fails(tmp_path, capsys):
    status_file = tmp_path / "status.json"
    dead = ValidatorService(
        "http://127.0.0.1:9", "0x" + "11" * 20, "0x" + "22" * 20, b"\x01" * 32, None, status_file
    )
    assert service._once(dead) == 3
    status = json.loads(status_file.read_text())["status"]
    assert status["errors_in_a_row"] == 1 and status["last_error"]
    assert json.loads(capsys.readouterr().out)["last_error"] == status["last_error"]


def test_front_run_reveal_still_pays_the_service(
    chain, contracts, make_batcher, accounts, alice, bob, carol
):
    """A copier gets a plain proveFraud in between the service's commit and its reveal: the
    rollback happens anyway, the reveal fails, and the service claims the bounty with its
    earlier commitment."""
    bridge, rollup = contracts
    fund(bridge, alice, 3 * ONE)
    batcher = make_batcher()
    batcher.post_if_due(force=True)
    watcher = ValidatorService(
        chain.provider.uri,
        rollup.address,
        bridge.address,
        key_of(carol),
        SendPolicy(receipt_timeout=5, backoff=0.05, max_attempts=2),
    )
    cheat, copier = accounts[4], Signer(batcher.w3, key_of(accounts[5]))
    rollup.bond(value=BOND, sender=cheat)
    state = batcher.confirmed
    commitments = adversary.steal(state, batcher.dst, bls_key(bob), 0, 0, ONE)
    Signer(batcher.w3, key_of(cheat)).send(
        batcher.l1.rollup.functions.postBatch(state.root, encode_batch(commitments))
    )
    fraud = watcher.validator.check().fraud
    assert fraud.is_signature_fraud  # a stolen transfer is a bad aggregate (format v2)
    proof = fraud.proof
    reveal = watcher.l1.rollup.encode_abi(
        "revealSignatureFraud", args=[proof.as_abi(), carol.address, b"\0" * 32]
    )
    send = watcher._send

    def copier_first(data, gas=None):
        if data[:10] == reveal[:10]:
            copier.send(watcher.l1.rollup.functions.proveSignatureFraud(proof.as_abi()))
        return send(data, gas)

    watcher._send = copier_first
    assert watcher.check_once() is None  # its own reveal failed: the copier was first
    assert rollup.batchCount() == 1  # rolled back all the same
    (bounty,) = watcher.l1.bounties_for(1, bytes(rollup.bounties(0).batchHash))
    assert bounty.recipient == carol.address


def test_cannot_check_class_failing_checks_alarm(tmp_path):
    """Checks that keep failing are an alarm (on main the status showed the last good check's
    alarm flag, False, however long the validator had been blind)."""
    status_file = tmp_path / "status.json"
    dead = ValidatorService(
        "http://127.0.0.1:9", "0x" + "11" * 20, "0x" + "22" * 20, b"\x01" * 32, None, status_file
    )
    assert not dead.step() and not dead.step()
    assert not json.loads(status_file.read_text())["status"]["alarm"]  # two may be a hiccup
    assert not dead.step()
    status = json.loads(status_file.read_text())["status"]
    assert status["alarm"]
    assert any(a.startswith("validator cannot check: ") for a in status["alarms"])


def test_cannot_check_class_no_success_for_too_long_alarms():
    s = service.ValidatorStats(stale_after=30.0)
    s.last_check_at = 1000.0
    assert not s.to_json(now=1029.0)["alarm"]
    assert s.to_json(now=1031.0)["alarm"]
    s.last_check_at, s.errors_in_a_row, s.last_error = 1000.0, 1, "ConnectionError: refused"
    assert s.to_json(now=1031.0)["alarms"] == ["validator cannot check: ConnectionError: refused"]
