"""The validator service reading blob batches through a beacon endpoint that fails: down, a
wrong blob, a missing one (a proxy in front of Anvil's beacon API). Each is an alarm naming the
batch, the block and the endpoint; nothing past it is accepted; the service keeps running and
resumes once the endpoint serves the blobs again. And the service proves a blob fraud itself."""

import pytest
from blobread_helpers import (
    CHALLENGER,
    CHEATER,
    BeaconProxy,
    op_build,
    post_blobs,
    post_commitments,
    setup_rollup,
)
from web3.logs import DISCARD

from offchain.rollup import adversary as adv
from offchain.rollup.execute import Fault
from offchain.rollup.wallet import sign_transfer
from offchain.validator.service import ValidatorService

#: What each failure says, besides batch, block and endpoint.
SAYS = {
    "down": "unreachable",
    "wrong": "BlobMismatch",
    "missing": "days",  # the pruning hint: beacon nodes keep blobs about 18 days
}


@pytest.fixture
def proxy(env):
    p = BeaconProxy(env.w3.provider.endpoint_uri)
    yield p
    p.close()


def _service(env, tmp_path, beacon_url):
    return ValidatorService(
        env.w3.provider.endpoint_uri,
        env.rollup.address,
        env.bridge.address,
        env.key(CHALLENGER),
        status_file=tmp_path / "status.json",
        poll=0.1,
        beacon_url=beacon_url,
    )


def test_failing_beacon_is_an_alarm_nothing_is_accepted_and_reading_resumes(env, tmp_path, proxy):
    op = setup_rollup(env)
    t1 = sign_transfer(env.bls(2), env.dst, 1, 2, 10**16, 0, 0)
    built, state = op_build(op, op.state, [t1])
    receipt = post_commitments(env, 0, [[c.commitment for c in built.commitments]])
    op.state = state
    block = receipt["blockNumber"]
    # a calldata batch on top of the blob batch: blocked while the blob batch cannot be read
    op.step([sign_transfer(env.bls(3), env.dst, 2, 0, 10**16, 0, 0)])
    service = _service(env, tmp_path, proxy.url)
    assert service.l1.beacon.settings.url == proxy.url
    for mode in ("down", "wrong", "missing"):
        proxy.mode = mode
        assert service.step(), mode  # the check ran: the failure is an alarm, not an error
        status = service.publish()["status"]
        assert status["alarm"] and status["verified"] == 1, mode
        assert status["unreadable"]["index"] == 1
        reason = status["unreadable"]["reason"]
        assert f"L1 block {block}" in reason and proxy.url in reason and SAYS[mode] in reason
        assert status["blocked"] == [2, 2]
        assert any(a.startswith("batch 1 cannot be read") for a in status["alarms"])
        assert service.stats.frauds_found == 0 and not service.stats.proofs
        assert service.follower.point is not None and service.follower.point.batches == 1
    asked = proxy.requests
    assert asked >= 3  # every failed check asked the endpoint again
    proxy.mode = "pass"
    assert service.step()
    assert proxy.requests > asked
    status = service.publish()["status"]
    assert not status["alarm"] and status["verified"] == 3 and status["unreadable"] is None
    assert status["last_root"] == "0x" + op.state.root.hex()
    assert env.rollup.batchCount() == 3  # nothing was disputed


def test_default_beacon_is_the_l1_rpc_url(env, tmp_path):
    service = _service(env, tmp_path, None)
    assert service.l1.beacon.settings.url == env.w3.provider.endpoint_uri


def test_service_proves_a_blob_fraud_with_commit_and_reveal(env, tmp_path):
    op = setup_rollup(env)
    t1 = sign_transfer(env.bls(2), env.dst, 1, 2, 10**16, 0, 0)
    built, _ = op_build(op, op.state, [t1])
    posting = adv.blob_posting([[c.commitment for c in built.commitments]])
    post_blobs(env, CHEATER, adv.blob_counts_mismatch(posting))
    service = _service(env, tmp_path, None)
    assert service.step()
    assert service.stats.frauds_found == 1 and service.stats.frauds_proven == 1
    receipt = env.w3.eth.get_transaction_receipt(service.stats.proofs[0])
    logs = env.l1.rollup.events.FraudProven().process_receipt(receipt, errors=DISCARD)
    assert logs[0]["args"]["fault"] == Fault.BLOB_MISMATCH.value
    assert logs[0]["args"]["challenger"] == env.accounts[CHALLENGER].address
    assert env.rollup.batchCount() == 1
    assert service.step()  # the next check finds nothing left to prove
    assert service.stats.frauds_found == 1 and not service.publish()["status"]["alarm"]
