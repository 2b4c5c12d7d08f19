"""A store belongs to one deployment (issue #9 item 15): started against another deployment (or a
redeployed node), the batcher refuses the store, says why, and changes nothing in it -- it must
not mark acknowledged transactions dropped, forget batches users need, or replay signatures."""

import time

import pytest
from operator_helpers import BOND, CHALLENGE, fund, http, key_of, settings_for
from service_proc import ServiceProcess
from test_fail_fast import BATCHER, QUICK, assert_one_clear_line, start

from offchain.deploy import DeployParams, deploy_all
from offchain.deployments import save_deployment
from offchain.rollup.wallet import sign_transfer
from offchain.sequencer.optimistic import Batcher
from offchain.sequencer.store import BatchStatus, OperatorStore, TxStatus, WrongDeployment

ONE = 10**18


@pytest.fixture
def second_deployment(deployer):
    """Another wiring of the same contracts on the same node (as a redeploy gives)."""
    return deploy_all(deployer, "ethereum:local", DeployParams(BOND, CHALLENGE, test_tokens=True))


def test_store_bound_to_deployment_batcher_refuses_another_deployment(
    chain, deployment, second_deployment, contracts, deployer, alice, bob, tmp_path, bls_keys
):
    bridge, _ = contracts
    fund(bridge, alice, ONE)
    fund(bridge, bob, ONE)
    store_path = tmp_path / "batcher.sqlite"
    first = Batcher(settings_for(chain, deployment, deployer, store_path))
    first.recover()
    first.ensure_bond()
    first.post_if_due(force=True)
    key = key_of(alice)
    acknowledged = [
        first.submit(sign_transfer(key, first.dst, 0, 1, 1000, 0, n), n).tx_hash for n in range(2)
    ]
    first.post_if_due(force=True)
    first.submit(sign_transfer(key, first.dst, 0, 1, 1000, 0, 2), 2)  # still pending
    first.store.close()

    with pytest.raises(WrongDeployment, match="belongs to another deployment"):
        Batcher(settings_for(chain, second_deployment, deployer, store_path))
    redeployed = settings_for(chain, deployment, deployer, store_path, deployment_block=1)
    with pytest.raises(WrongDeployment, match="belongs to another deployment"):
        Batcher(redeployed)  # same chain and address, another deployment block hash

    store = OperatorStore(store_path)  # untouched: nothing dropped, nothing forgotten
    assert [store.tx(h).status for h in acknowledged] == [TxStatus.POSTED, TxStatus.POSTED]
    assert store.count_txs(TxStatus.PENDING) == 1 and store.count_txs(TxStatus.DROPPED) == 0
    assert [b.status for b in store.batches()] == [BatchStatus.POSTED, BatchStatus.POSTED]
    store.close()


def test_store_bound_to_deployment_service_refuses_the_old_store_with_one_line(
    chain, deployment, second_deployment, contracts, deployer, alice, bob, tmp_path
):
    bridge, _ = contracts
    fund(bridge, alice, ONE)
    fund(bridge, bob, ONE)
    store = tmp_path / "batcher.sqlite"
    save_deployment(deployment, tmp_path)
    svc = ServiceProcess(store, tmp_path, deployer.private_key)
    try:
        deadline = time.monotonic() + 30
        while http(f"{svc.url}/account/0")[0] != 200:
            assert time.monotonic() < deadline, "the deposits were never batched"
            time.sleep(0.1)
    finally:
        svc.stop()

    save_deployment(second_deployment, tmp_path)  # the network now points at a new deployment
    result = start(
        BATCHER,
        tmp_path,
        "--rpc",
        chain.provider.uri,
        "--port",
        "0",
        "--store",
        str(store),
        env={"L2KIT_PROPOSER_KEY": deployer.private_key},
    )
    assert_one_clear_line(result, "belongs to another deployment", str(store), "--store")
    assert result[2] < QUICK
