"""The validator service and a fraud it found but cannot prove at once (review M2, L1): it raises
an alarm, never re-commits on every poll, keeps its commitment across a restart, and proves
directly when the dispute window is about to close."""

import json

from rollup_helpers import CHALLENGE_PERIOD, LIVENESS_PERIOD, lie, post_empty

from offchain.l1.sender import SendError, SendPolicy
from offchain.validator.service import ValidatorService

P, FREEZER, CH = 1, 6, 9
POLICY = SendPolicy(receipt_timeout=5, backoff=0.05, max_attempts=1)


def _service(env, chain, **kw):
    key = bytes.fromhex(env.accounts[CH].private_key.removeprefix("0x"))
    return ValidatorService(
        chain.provider.uri, env.rollup.address, env.bridge.address, key, POLICY, **kw
    )


def _commitments(env):
    return env.l1.rollup.events.FraudCommitted.get_logs(from_block=0)


def test_unproven_fraud_class_discarded_batch_alarms_and_stops_sending(env, chain):
    """After a freeze, a fraudulent discarded batch past its window: an alarm, and no
    transaction at all (on main: a new commitFraud every poll and no alarm)."""
    env.bond(P)
    env.advance(LIVENESS_PERIOD + 1)
    post_empty(env, P, lie(0))
    env.rollup.freeze(sender=env.accounts[FREEZER])
    env.advance(CHALLENGE_PERIOD + 1)
    svc = _service(env, chain)
    n0 = env.w3.eth.get_transaction_count(env.accounts[CH].address)
    for _ in range(3):
        assert svc.step()
        env.advance(1)  # a new block each poll
    assert env.w3.eth.get_transaction_count(env.accounts[CH].address) == n0
    st = svc.stats.to_json()
    assert st["alarm"] and st["unproven_fraud"][0]["batch"] == 0
    assert any("fraud in batch 0" in a and "can no longer be proven" in a for a in st["alarms"])


def test_unproven_fraud_class_discarded_batch_in_its_window_is_proven(env, chain):
    """After a freeze, a fraudulent discarded batch still in its window is proven (by commit and
    reveal) like a live one: the `batches(i)` view refuses it, the service must not need it."""
    env.bond(P)
    env.advance(LIVENESS_PERIOD + 1)
    post_empty(env, P, lie(0))
    env.rollup.freeze(sender=env.accounts[FREEZER])
    svc = _service(env, chain)
    assert svc.step()
    assert svc.stats.frauds_proven == 1 and not svc.stats.to_json()["alarm"]
    assert len(_commitments(env)) == 1
    assert env.rollup.bounties(0).recipient == env.accounts[CH].address
    assert not env.rollup.isDisputable(0)


def test_unproven_fraud_class_failed_reveal_alarms_and_keeps_its_commitment(env, chain, tmp_path):
    """The reveal fails (dropped by the RPC): an alarm with the error, the commitment stays in
    the status file, and a restarted service reveals that commitment without committing again."""
    env.bond(P)
    post_empty(env, P, lie(0))
    status_file = tmp_path / "status.json"
    svc = _service(env, chain, status_file=status_file)
    reveal = svc.l1.rollup.encode_abi(
        "revealFraud", args=[_dummy_proof(), svc.account.address, b"\0" * 32]
    )
    send = svc._send

    def drop_reveal(data, gas=None):
        if data[:10] == reveal[:10]:
            raise SendError("reveal dropped by the RPC node")
        return send(data, gas)

    svc._send = drop_reveal
    for _ in range(2):
        assert svc.step()
        env.advance(1)
    assert len(_commitments(env)) == 1  # one commitment, reused by the second poll
    st = json.loads(status_file.read_text())
    assert st["status"]["alarm"]
    assert st["status"]["unproven_fraud"] == [
        {"batch": 0, "error": "proof transaction failed: reveal dropped by the RPC node"}
    ]
    (kept,) = st["commitments"]
    restarted = _service(env, chain, status_file=status_file)
    assert restarted.step()
    assert env.rollup.batchCount() == 0  # proven
    assert len(_commitments(env)) == 1  # with the commitment made before the restart
    bounty = env.rollup.bounties(0)
    assert bounty.recipient == env.accounts[CH].address and bounty.commitBlock == kept["block"]
    after = restarted.stats.to_json()
    assert not after["alarm"] and after["commitments"] == []


def test_late_proof_class_window_closing_proves_without_commitment(env, chain):
    """When the window closes within the margin, commit-then-reveal could miss it: the service
    sends proveFraud at once."""
    env.bond(P)
    post_empty(env, P, lie(0))
    env.advance(CHALLENGE_PERIOD - 20)
    svc = _service(env, chain, poll=1.0)  # margin 2 polls + 24 s = 26 s > 20 s left
    assert svc.step()
    assert env.rollup.batchCount() == 0
    assert _commitments(env) == []
    assert env.rollup.bounties(0).recipient == env.accounts[CH].address


def _dummy_proof():
    # offchain.rollup.proofs.FRAUD_PROOF_ABI (format v2)
    return (0, [], 0, (b"\0" * 32, 0, 0, b"\0" * 32), b"\0" * 32, 0, 0, b"", [], b"", [])
