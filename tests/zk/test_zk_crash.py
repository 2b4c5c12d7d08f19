# SPDX-License-Identifier: GPL-3.0-or-later
"""SIGKILL the sequencer in zk mode at every failpoint and at random, restart it, and check that
every acknowledged transaction ends in exactly one accepted batch: each one (a distinct nonce of
leaf 0) is `final`, leaf 0's confirmed nonce is at least the number acknowledged and at most one
more per kill (stored but killed before its answer), the store's counters count each posted tx
once, and the service's root is L1's."""

from __future__ import annotations

import importlib.util
import json
import os
import random
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from zk_helpers import ALICE_KEY, BOB_KEY, PARAMS
from zk_service_fork import ForkedService, ForkServer

from offchain.deploy import DeployParams, deploy_all
from offchain.deployments import save_deployment
from offchain.zk.txs import TxKind, domain_of, recipient_bytes, sign_tx

pytestmark = pytest.mark.slow  # kills and restarts proving sequencer processes

_spec = importlib.util.spec_from_file_location(
    "service_proc", Path(__file__).resolve().parents[1] / "operator" / "service_proc.py"
)
assert _spec is not None and _spec.loader is not None
service_proc = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(service_proc)
#: Connection errors of a service that is down (killed, or not listening).
DOWN = (urllib.error.URLError, ConnectionError, OSError)


@pytest.fixture(scope="module")
def forks(rollup_keys):
    """One fork server for the module: the proving key is loaded once, not at every restart
    (`rollup_keys` first: on a fresh clone the session's development setup writes the cache)."""
    server = ForkServer(PARAMS.n_txs, PARAMS.n_deposits, PARAMS.depth)
    yield server
    server.close()


def http(url, method="GET", body=None):
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(url, data=data, method=method)
    try:
        with urllib.request.urlopen(req, timeout=180) as resp:  # proving loads the box
            return resp.status, json.loads(resp.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def start(forks, store, state, home, key, point):
    """The service, or None if it was killed before it said READY (a failpoint that fired early).
    Same command line and environment as tests/operator/service_proc.ServiceProcess."""
    env = dict(os.environ, L2KIT_DEPLOYMENTS=str(home), L2KIT_PROPOSER_KEY=key)
    env.pop("L2KIT_FAILPOINT", None)
    if point:
        env["L2KIT_FAILPOINT"] = point
    args = service_proc.service_args(store, ("--mode", "zk", "--zk-state", str(state)))
    try:
        return ForkedService(forks, args, env, home / "logs")
    except RuntimeError as exc:
        if "exited early" in str(exc):
            return None
        raise


def query(svc, path):
    """GET `path` of a service that must be up: a refused connection says whether the process
    died (its status and log) or is alive and not listening, instead of a bare URLError."""
    for _ in range(20):
        try:
            return http(f"{svc.url}{path}")[1]
        except DOWN as exc:
            if not svc.alive():
                pytest.fail(f"the service exited (status {svc.returncode}):\n{svc.log()}")
            error = exc
            time.sleep(0.5)  # alive: a slow accept on a loaded machine, or a real bug below
    pytest.fail(f"the service is alive but refuses connections ({error}):\n{svc.log()}")


def submit_until_dead(svc, domain, acknowledged, limit):
    for _ in range(limit):
        try:
            nonce = http(f"{svc.url}/account/0")[1]["nonce"]
            tx = sign_tx(ALICE_KEY, domain, TxKind.TRANSFER, 0, 1, 1000, nonce)
            body = {
                "type": "transfer",
                "from": 0,
                "to": "1",
                "amount": "1000",
                "nonce": nonce,
                "signature": {
                    "r8x": str(tx.signature.r8[0]),
                    "r8y": str(tx.signature.r8[1]),
                    "s": str(tx.signature.s),
                },
            }
            status, answer = http(f"{svc.url}/tx", "POST", body)
        except DOWN:
            if svc.alive():  # slow, not dead (a proof in progress on a loaded machine)
                continue
            return False
        if status == 200:
            acknowledged.append(answer["tx_hash"])
        time.sleep(0.05)
    return svc.alive()


#: Every failpoint in one run on each store, and random kills on SQLite (the random kills on
#: PostgreSQL run in the optimistic mode's crash tests, over the same store code: proving makes
#: each zk run long). One run per store takes the kills one after the other, each failpoint
#: asserted to fire, and the end state is checked once: what it checks (every acknowledged tx
#: final exactly once, the counters, the root) only accumulates over restarts - a tx lost or
#: posted twice after any kill stays lost or twice on L1 - so the separate SQLite runs of the
#: persist and the posting failpoints (two more restarts and a final drain of ~3 proofs) found
#: nothing this one does not.
EVERY_FAILPOINT = ["after_persist_tx:2", "before_persist_tx:1", "after_intent:1", "after_post:1"]
CRASH_CASES = [
    pytest.param(EVERY_FAILPOINT, "sqlite", id="sqlite-every-failpoint"),
    pytest.param(["random", "random"], "sqlite", id="sqlite-random"),
    pytest.param(EVERY_FAILPOINT, "postgres", id="postgres-every-failpoint"),
]


@pytest.mark.parametrize(("failpoints", "store_kind"), CRASH_CASES)
def test_zk_kill_and_restart_loses_and_duplicates_nothing(
    project, chain, deployer, alice, bob, tmp_path, request, forks, failpoints, store_kind
):
    deployment = deploy_all(deployer, "ethereum:local", DeployParams(10**17, 120, zk=True))
    save_deployment(deployment, tmp_path)
    bridge = project.L1Bridge.at(deployment.address("ZkBridge"))
    rollup = project.ZkRollup.at(deployment.address("ZkRollup"))
    bridge.depositETH(recipient_bytes(ALICE_KEY.public_key), sender=alice, value=10**18)
    bridge.depositETH(recipient_bytes(BOB_KEY.public_key), sender=bob, value=10**18)
    domain = domain_of(chain.chain_id, rollup.address)
    state = tmp_path / "zk-state.json"
    store = (
        str(tmp_path / "zk.sqlite") if store_kind == "sqlite" else request.getfixturevalue("pg_url")
    )
    key = deployer.private_key
    acknowledged: list[str] = []
    rng = random.Random(11)
    for point in failpoints:
        svc = start(forks, store, state, tmp_path, key, None if point == "random" else point)
        if svc is None:
            continue
        if point == "random":
            until = time.monotonic() + rng.uniform(0.5, 4.0)
            while time.monotonic() < until and submit_until_dead(svc, domain, acknowledged, 1):
                pass
            svc.kill()
            continue
        alive = submit_until_dead(svc, domain, acknowledged, 4)
        deadline = time.monotonic() + 90  # posting-loop failpoints fire once a batch is proven
        while alive and svc.alive() and time.monotonic() < deadline:
            time.sleep(0.2)
        fired = not svc.alive()
        svc.kill()
        assert fired, f"failpoint {point} never fired:\n{svc.log()}"
        assert svc.returncode == -9, f"{point}: status {svc.returncode}, not SIGKILL:\n{svc.log()}"
    final = start(forks, store, state, tmp_path, key, None)
    assert final is not None
    try:
        submit_until_dead(final, domain, acknowledged, 2)
        deadline = time.monotonic() + 240
        while time.monotonic() < deadline:
            statuses = [query(final, f"/tx/{h}")["status"] for h in acknowledged]
            if all(s == "final" for s in statuses):
                break
            time.sleep(0.5)
        assert all(s == "final" for s in statuses), statuses
        account = query(final, "/account/0")
        status = query(final, "/status")
    finally:
        final.stop()
    assert acknowledged, "nothing was acknowledged: the test proved nothing"
    assert len(set(acknowledged)) == len(acknowledged)
    # Leaf 0's txs on L1 = its confirmed nonce: at least every acknowledged one (a tx killed
    # between its store write and its answer is posted without being acknowledged), each once.
    assert len(acknowledged) <= account["confirmed_nonce"] <= len(acknowledged) + len(failpoints)
    assert status["l2"]["confirmed_root"] == f"0x{rollup.stateRoot():064x}"
    assert status["counters"]["txs_posted"] == account["confirmed_nonce"]  # each counted once
