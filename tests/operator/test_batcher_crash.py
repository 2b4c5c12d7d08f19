"""SIGKILL the batcher process at many points, restart it, and check nothing acknowledged is lost
or duplicated: every acknowledged transaction ends up in exactly one live L1 batch, and the
operator's state root matches L1's."""

import random
import signal
import time
import urllib.error

import pytest
from operator_helpers import fund, http, key_of
from service_proc import ServiceProcess

from offchain.deployments import save_deployment
from offchain.rollup.codec import decode_batch
from offchain.rollup.l1 import RollupL1
from offchain.rollup.replay import replay
from offchain.rollup.wallet import sign_transfer
from offchain.sequencer.payload import tx_id

pytestmark = pytest.mark.slow  # kills and restarts batcher processes

ONE = 10**18


def key_hex(account) -> str:
    return account.private_key


def submit_until_dead(svc, key, separator, acknowledged, limit=40):
    """Submit transfers 0 -> 1 until the service dies or `limit` is reached."""
    for _ in range(limit):
        try:
            nonce = http(f"{svc.url}/account/0")[1]["nonce"]
            tx = sign_transfer(key, separator, 0, 1, 1000, 0, nonce)
            status, body = http(
                f"{svc.url}/tx",
                "POST",
                {
                    "type": "transfer",
                    "from": 0,
                    "to": 1,
                    "amount": "1000",
                    "fee": "0",
                    "nonce": nonce,
                    "signature": "0x" + tx.signature.hex(),
                },
            )
        except (urllib.error.URLError, ConnectionError, OSError) as exc:
            if svc.alive():
                time.sleep(0.5)
                if svc.alive():
                    raise AssertionError(f"the live service failed a request: {exc!r}") from exc
            return False
        assert status == 200, body
        acknowledged.append(bytes.fromhex(body["tx_hash"][2:]))
        time.sleep(0.05)
    return True


def wait_all_posted(svc, hashes, timeout=60):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        statuses = [http(f"{svc.url}/tx/0x{h.hex()}")[1].get("status") for h in hashes]
        if all(s in ("posted", "final") for s in statuses):
            return
        time.sleep(0.2)
    raise AssertionError(f"not all posted: {statuses}")


def l1_tx_hashes(l1):
    """The id of every signed tx on L1 (keccak of its signed message). The nonces are not
    posted (format v2): in an honest history each executed signed tx takes its sender's next
    nonce, in posted order (transfers, then withdraws, per commitment)."""
    out = []
    nonces: dict[int, int] = {}
    for b in l1.posted_batches():
        for c in decode_batch(b.data):
            for t in c.signed:
                n = nonces.get(t.sender, 0)
                nonces[t.sender] = n + 1
                out.append(tx_id(t, n))
    return out


#: Every failpoint (and random kills) on SQLite; on PostgreSQL every failpoint in one run and a
#: shorter random run (the same code paths; the suite's time matters).
CRASH_CASES = [
    pytest.param(["after_persist_tx:3", "before_persist_tx:2"], "sqlite", id="sqlite-persist"),
    pytest.param(["after_intent:1", "after_intent:1"], "sqlite", id="sqlite-intent"),
    pytest.param(["after_post:1", "after_post:1"], "sqlite", id="sqlite-post"),
    pytest.param(["random", "random", "random"], "sqlite", id="sqlite-random"),
    pytest.param(
        ["after_persist_tx:3", "before_persist_tx:2", "after_intent:1", "after_post:1"],
        "postgres",
        id="postgres-every-failpoint",
    ),
    pytest.param(["random", "random"], "postgres", id="postgres-random"),
]


def store_for(kind: str, request, tmp_path) -> str:
    """The `--store` of a crash test: an SQLite file, or a fresh PostgreSQL database's URL
    (skips, saying why, when no PostgreSQL server can be started)."""
    if kind == "sqlite":
        return str(tmp_path / "batcher.sqlite")
    return request.getfixturevalue("pg_url")


@pytest.mark.parametrize(("failpoints", "store_kind"), CRASH_CASES)
def test_kill_and_restart_loses_and_duplicates_nothing(
    chain,
    deployment,
    contracts,
    deployer,
    alice,
    bob,
    tmp_path,
    request,
    failpoints,
    store_kind,
    bls_keys,
):
    bridge, rollup = contracts
    fund(bridge, alice, ONE)
    fund(bridge, bob, ONE)
    save_deployment(deployment, tmp_path)
    store = store_for(store_kind, request, tmp_path)
    l1 = RollupL1(chain.provider.web3, rollup.address, bridge.address)
    separator = l1.signing_dst()
    key = key_of(alice)
    acknowledged: list[bytes] = []
    rng = random.Random(7)
    for point in failpoints:
        svc = ServiceProcess(
            store, tmp_path, key_hex(deployer), None if point == "random" else point
        )
        if point == "random":
            killer_at = time.monotonic() + rng.uniform(0.2, 1.5)
            while time.monotonic() < killer_at and submit_until_dead(
                svc, key, separator, acknowledged, limit=1
            ):
                pass
            svc.kill()
        else:
            still_alive = submit_until_dead(svc, key, separator, acknowledged)
            if still_alive:  # the failpoint is in the posting loop: give it time to fire
                deadline = time.monotonic() + 20
                while svc.alive() and time.monotonic() < deadline:
                    time.sleep(0.1)
            alive = svc.alive()
            svc.kill()
            assert not alive, f"failpoint {point} never fired:\n{svc.proc.stderr.read()[-3000:]}"
    final = ServiceProcess(store, tmp_path, key_hex(deployer))
    try:
        submit_until_dead(final, key, separator, acknowledged, limit=3)
        wait_all_posted(final, acknowledged)
        status = http(f"{final.url}/status")[1]
        batches = [http(f"{final.url}/batch/{i}")[1] for i in range(rollup.batchCount())]
    finally:
        final.stop()
    # Recovered batches show their L1 transaction; the counters (from the store) count every
    # posted transaction exactly once across the crashes.
    on_l1 = l1_tx_hashes(l1)
    assert len(on_l1) == len(set(on_l1)), "a transaction was posted twice"
    # (a tx killed between its store write and its answer is posted without being acknowledged)
    assert batches and all(b["l1_tx"] for b in batches), batches
    assert status["counters"]["txs_posted"] == len(on_l1)
    assert status["counters"]["batches_posted"] == len(batches)
    missing = [h.hex() for h in acknowledged if h not in set(on_l1)]
    assert not missing, f"acknowledged but not on L1: {missing}"
    rebuilt = replay(l1.posted_batches(), l1.deposit_queue(), separator, keys=l1.key_history())
    assert rebuilt.fraud is None
    assert (
        status["l2_root"] == "0x" + rebuilt.state.root.hex() == "0x" + bytes(rollup.head()[0]).hex()
    )


def proposer_pool(w3, address):
    """{nonce: tx hash} of the proposer's transactions waiting in the node's mempool."""
    pending = w3.provider.make_request("txpool_content", [])["result"]["pending"]
    mine = next((v for k, v in pending.items() if k.lower() == address.lower()), {})
    return {int(n): tx["hash"] for n, tx in mine.items()}


@pytest.mark.parametrize("mined_while_down", [False, True])
def test_restart_with_pending_batch_tx_resends_same_nonce_and_adopts_it(
    chain, deployment, contracts, deployer, alice, bob, tmp_path, mined_while_down, bls_keys
):
    """Killed right after broadcasting a batch, while it sits in the mempool: the restarted
    batcher replaces it with the same nonce (never a second transaction next to it), and adopts
    the batch once L1 mines it (also when it was mined while the batcher was down). Exactly one
    proposer transaction is mined for it."""
    bridge, rollup = contracts
    fund(bridge, alice, ONE)
    fund(bridge, bob, ONE)
    save_deployment(deployment, tmp_path)
    store = tmp_path / "batcher.sqlite"
    w3 = chain.provider.web3
    l1 = RollupL1(w3, rollup.address, bridge.address)
    separator = l1.signing_dst()
    key = key_of(alice)
    proposer = deployer.address

    # Bond for several batches at once, so no bond transaction is due while mining is paused.
    bond_args = ("--bond", str(4 * rollup.requiredBond()))
    first = ServiceProcess(store, tmp_path, key_hex(deployer), extra=bond_args)  # batches deposits
    try:
        deadline = time.monotonic() + 30
        while http(f"{first.url}/account/0")[0] != 200:
            assert time.monotonic() < deadline, "the deposits were never batched"
            time.sleep(0.1)
    finally:
        first.stop()
    nonce = w3.eth.get_transaction_count(proposer)
    batches_before = rollup.batchCount()
    acknowledged: list[bytes] = []

    w3.provider.make_request("evm_setAutomine", [False])
    try:
        crashing = ServiceProcess(store, tmp_path, key_hex(deployer), extra=bond_args)
        submit_until_dead(crashing, key, separator, acknowledged, limit=1)
        deadline = time.monotonic() + 30
        while not proposer_pool(w3, proposer) and time.monotonic() < deadline:
            time.sleep(0.05)
        crashing.kill()  # SIGKILL while it waits for the receipt of its broadcast batch
        stuck = proposer_pool(w3, proposer)
        assert list(stuck) == [nonce], stuck  # the batch tx waits in the mempool
        if mined_while_down:
            w3.provider.make_request("evm_mine", [])

        restarted = ServiceProcess(store, tmp_path, key_hex(deployer), extra=bond_args)
        try:
            if not mined_while_down:
                deadline = time.monotonic() + 30
                pool = proposer_pool(w3, proposer)
                while pool == stuck and time.monotonic() < deadline:
                    time.sleep(0.1)
                    pool = proposer_pool(w3, proposer)
                # Replaced in place: still one transaction, with the journaled nonce.
                assert list(pool) == [nonce] and pool[nonce] != stuck[nonce], (stuck, pool)
                w3.provider.make_request("evm_mine", [])
            w3.provider.make_request("evm_setAutomine", [True])
            wait_all_posted(restarted, acknowledged)
            status = http(f"{restarted.url}/status")[1]
            assert proposer_pool(w3, proposer) == {}
        finally:
            restarted.stop()
    finally:
        w3.provider.make_request("evm_setAutomine", [True])
    assert w3.eth.get_transaction_count(proposer) == nonce + 1  # one tx mined, none wasted
    assert rollup.batchCount() == batches_before + 1
    on_l1 = l1_tx_hashes(l1)
    assert on_l1.count(acknowledged[0]) == 1
    assert status["l2_root"] == "0x" + bytes(rollup.head()[0]).hex()


def transfer_json(tx, sender: int, recipient: int, nonce: int) -> dict:
    return {
        "type": "transfer",
        "from": sender,
        "to": recipient,
        "amount": "1000",
        "fee": "0",
        "nonce": nonce,
        "signature": "0x" + tx.signature.hex(),
    }


def test_group_commit_kill_mid_group_loses_no_acknowledged_tx(
    chain, deployment, contracts, deployer, accounts, tmp_path, bls_keys
):
    """Concurrent clients on POST /tx and POST /txs (each its own L2 account) against the real
    service; SIGKILL while groups are being committed; after a restart every acknowledged
    transaction is in exactly one batch on L1 (an answer is sent only once its group is
    durable)."""
    from concurrent.futures import ThreadPoolExecutor

    bridge, rollup = contracts
    users = [accounts[i] for i in range(1, 5)]  # L2 accounts 0..3, one per client
    for user in users:
        fund(bridge, user, ONE)
    save_deployment(deployment, tmp_path)
    store = str(tmp_path / "batcher.sqlite")
    l1 = RollupL1(chain.provider.web3, rollup.address, bridge.address)
    separator = l1.signing_dst()
    extra = ("--max-batch-txs", "64", "--max-batch-delay", "0.5")
    svc = ServiceProcess(store, tmp_path, key_hex(deployer), extra=extra)
    acked: list[list[bytes]] = [[] for _ in users]
    sent = [0] * len(users)

    def client(k: int, deadline: float) -> None:
        key = key_of(users[k])
        to = (k + 1) % len(users)
        nonce = 0
        while time.monotonic() < deadline:
            n = 1 if k % 2 else 8  # odd clients POST /tx, even ones POST /txs of 8
            bodies = [
                transfer_json(
                    sign_transfer(key, separator, k, to, 1000, 0, nonce + i), k, to, nonce + i
                )
                for i in range(n)
            ]
            try:
                if n == 1:
                    status, body = http(f"{svc.url}/tx", "POST", bodies[0])
                    answers = [body] if status == 200 else []
                else:
                    status, body = http(f"{svc.url}/txs", "POST", {"txs": bodies})
                    answers = body.get("results", []) if status == 200 else []
            except (urllib.error.URLError, ConnectionError, OSError):
                return  # the service died: this request was never acknowledged
            sent[k] += n
            for answer in answers:
                assert "tx_hash" in answer, answer  # consecutive nonces of one sender: all pass
                acked[k].append(bytes.fromhex(answer["tx_hash"][2:]))
            nonce += len(answers)

    try:
        kill_at = time.monotonic() + 1.5
        with ThreadPoolExecutor(len(users) + 1) as pool:
            running = [pool.submit(client, k, kill_at + 5) for k in range(len(users))]
            while time.monotonic() < kill_at:
                time.sleep(0.05)
            svc.proc.send_signal(signal.SIGKILL)  # mid-load: groups in flight
            svc.proc.wait(timeout=10)
            for f in running:
                f.result()
    finally:
        svc.kill()
    acknowledged = [h for hashes in acked for h in hashes]
    assert len(acknowledged) >= 8, f"too little load before the kill ({sent}): proved nothing"
    final = ServiceProcess(store, tmp_path, key_hex(deployer), extra=extra)
    try:
        wait_all_posted(final, acknowledged, timeout=120)
        status = http(f"{final.url}/status")[1]
    finally:
        final.stop()
    on_l1 = l1_tx_hashes(l1)
    assert len(on_l1) == len(set(on_l1)), "a transaction was posted twice"
    missing = [h.hex() for h in acknowledged if h not in set(on_l1)]
    assert not missing, f"acknowledged but not on L1: {missing}"
    assert status["counters"]["txs_posted"] == len(on_l1)
