"""The batcher posting blob batches on Anvil (issue 12): several batches grouped into one type-3
posting, the DA choice following the fees both ways (from the node and from a fee seam), the
forced modes, and restarts in the middle of a blob post that neither lose nor double-post."""

from __future__ import annotations

import time

import pytest
from blob_chain import blob_events, live_batches
from operator_helpers import fund, http, key_of

from offchain.l1.sender import SendPolicy
from offchain.rollup import blob_batches as bb
from offchain.rollup.blob_post import L1Fees, lay_out, posting_key, split_calldata_batch
from offchain.rollup.l1 import RollupL1
from offchain.rollup.replay import replay
from offchain.rollup.wallet import sign_transfer
from offchain.sequencer import failpoints
from offchain.sequencer.store import BatchStatus, TxStatus

ONE = 10**18
GWEI = 10**9
CHEAP_BLOBS = L1Fees(base_fee=GWEI, blob_base_fee=1, priority_fee=GWEI)
DEAR_BLOBS = L1Fees(base_fee=GWEI, blob_base_fee=10**6 * GWEI, priority_fee=GWEI)


class Fees:
    """A fee seam the test turns between postings."""

    def __init__(self, fees: L1Fees) -> None:
        self.now = fees

    def __call__(self) -> L1Fees:
        return self.now


def submit(batcher, alice, count, start=0):
    sep = batcher.dst
    for nonce in range(start, start + count):
        batcher.submit(sign_transfer(key_of(alice), sep, 0, 1, 1000, 0, nonce), nonce)


def posting_tx(w3, batcher, index):
    return w3.eth.get_transaction(batcher.store.batch(index).l1_tx_hash)


def check_l1_matches(w3, rollup, bridge, batcher):
    """The batcher's state is what an independent reader rebuilds from L1 (blobs included)."""
    l1 = RollupL1(w3, rollup.address, bridge.address)
    batches = live_batches(w3, l1)
    result = replay([b for b, _ in batches], l1.deposit_queue(), batcher.dst, keys=l1.key_history())
    assert result.fraud is None
    assert result.state.root == batcher.confirmed.root == bytes(rollup.head()[0])
    return [kind for _, kind in batches]


def test_blob_mode_groups_several_batches_into_one_posting(
    chain, contracts, make_batcher, alice, bob
):
    bridge, rollup = contracts
    w3 = chain.provider.web3
    fund(bridge, alice, ONE)
    fund(bridge, bob, ONE)
    batcher = make_batcher(da="blobs", max_batch_txs=2)
    assert batcher.post_if_due(force=True) == 0  # the deposits: a blob posting of one batch
    submit(batcher, alice, 5)
    assert batcher.post_if_due(force=True) == 3  # 2 + 2 + 1 txs: batches 1, 2, 3 at once
    assert rollup.batchCount() == 4
    stored = [batcher.store.batch(i) for i in (1, 2, 3)]
    assert {s.status for s in stored} == {BatchStatus.POSTED}
    assert len({s.l1_tx_hash for s in stored}) == 1  # one L1 transaction for the three
    tx = posting_tx(w3, batcher, 1)
    assert tx["type"] == 3 and len(tx["blobVersionedHashes"]) == 1
    receipt = w3.eth.get_transaction_receipt(stored[0].l1_tx_hash)
    events = blob_events(w3, rollup.address, receipt)
    assert sorted(events) == [1, 2, 3]
    for i, (hashes, offset) in events.items():
        assert hashes == [bytes(h) for h in tx["blobVersionedHashes"]]
        assert bytes(rollup.blobRef(i)) == bb.blob_ref(hashes, offset)
    assert batcher.store.count_txs(TxStatus.POSTED) == 5
    assert check_l1_matches(w3, rollup, bridge, batcher) == ["blobs"] * 4
    status = batcher.core.status()
    assert status["da"]["setting"] == "blobs" and status["da"]["last"]["mode"] == "blobs"
    assert "forced by --da blobs" in status["da"]["last"]["reason"]
    assert status["counters"]["blob_postings"] == 2
    assert status["counters"]["batches_posted"] == 4
    assert status["counters"]["blob_gas"] == 2 * 131_072

    # A restart rebuilds the same state (its own blob batches, checked against L1's hashes).
    root = batcher.confirmed.root
    batcher.store.close()
    again = make_batcher(da="blobs", max_batch_txs=2)
    assert again.confirmed.root == root
    submit(again, alice, 1, start=5)
    assert again.post_if_due(force=True) == 4


def test_grouping_stops_at_blob_max_batches(chain, contracts, make_batcher, alice, bob):
    bridge, rollup = contracts
    fund(bridge, alice, ONE)
    fund(bridge, bob, ONE)
    batcher = make_batcher(da="blobs", max_batch_txs=1, blob_max_batches=2)
    batcher.post_if_due(force=True)
    submit(batcher, alice, 3)
    assert batcher.post_if_due(force=True) == 2  # batches 1 and 2; tx 3 waits
    assert batcher.store.batch(1).l1_tx_hash == batcher.store.batch(2).l1_tx_hash
    assert batcher.store.count_txs(TxStatus.PENDING) == 1
    assert batcher.post_if_due(force=True) == 3
    assert rollup.batchCount() == 4


def test_auto_follows_the_fee_seam_both_ways(chain, contracts, make_batcher, alice, bob):
    """A lone small batch is cheaper as calldata (a blob posting's fixed cost does not pay off);
    three grouped batches are cheaper in blobs while blob gas is cheap, and go back to calldata
    when it is dear."""
    bridge, rollup = contracts
    w3 = chain.provider.web3
    fund(bridge, alice, ONE)
    fund(bridge, bob, ONE)
    fees = Fees(CHEAP_BLOBS)
    batcher = make_batcher(da="auto", fee_source=fees, max_batch_txs=1)
    assert batcher.post_if_due(force=True) == 0  # the deposits, one small batch
    assert batcher.da_last.mode.value == "calldata" and "auto: calldata" in batcher.da_last.reason
    assert posting_tx(w3, batcher, 0)["type"] == 2
    submit(batcher, alice, 3)
    assert batcher.post_if_due(force=True) == 3  # batches 1..3 in one blob posting
    last = batcher.da_last
    assert last.mode.value == "blobs" and "auto: blobs are cheaper" in last.reason
    assert last.blobs_wei < last.calldata_wei
    assert posting_tx(w3, batcher, 1)["type"] == 3
    fees.now = DEAR_BLOBS
    submit(batcher, alice, 3, start=3)
    assert batcher.post_if_due(force=True) == 4  # the first of three, by calldata
    assert batcher.da_last.mode.value == "calldata"
    assert batcher.da_last.calldata_wei <= batcher.da_last.blobs_wei
    assert batcher.post_if_due(force=True) == 5 and batcher.post_if_due(force=True) == 6
    assert {posting_tx(w3, batcher, i)["type"] for i in (4, 5, 6)} == {2}
    status = batcher.core.status()
    assert status["da"]["postings"] == {"calldata": 4, "blobs": 1}
    assert status["da"]["last_blobs"] is False
    kinds = check_l1_matches(w3, rollup, bridge, batcher)
    assert kinds == ["calldata", "blobs", "blobs", "blobs", "calldata", "calldata", "calldata"]


def _set_base_fee(w3, wei):
    w3.provider.make_request("anvil_setNextBlockBaseFeePerGas", [hex(wei)])
    w3.provider.make_request("evm_mine", [])
    assert w3.eth.get_block("latest")["baseFeePerGas"] == wei


def test_auto_follows_the_nodes_base_fee(chain, contracts, make_batcher, alice, bob):
    """The node's fees, no seam: with Anvil's 1-wei blob base fee, three grouped batches go in
    blobs at a 7 gwei base fee; at a base fee of 1 wei (no tip) the blob's 131,072 blob gas
    costs more than the execution gas blobs save, and auto posts calldata."""
    bridge, _ = contracts
    w3 = chain.provider.web3
    fund(bridge, alice, ONE)
    fund(bridge, bob, ONE)
    policy = SendPolicy(receipt_timeout=5, backoff=0.05, max_backoff=0.2, priority_fee=0)
    batcher = make_batcher(da="auto", send_policy=policy, max_batch_txs=1)
    batcher.post_if_due(force=True)
    submit(batcher, alice, 3)
    try:
        _auto_follows_fees(w3, batcher, alice)
    finally:
        # Ape's Anvil starts at base fee 0 and a snapshot revert does not restore it: later tests
        # (anywhere in the session) send with gas_price=0 to count balances exactly.
        _set_base_fee(w3, 0)


def _auto_follows_fees(w3, batcher, alice) -> None:
    _set_base_fee(w3, 7 * GWEI)
    assert batcher.post_if_due(force=True) == 3
    assert batcher.da_last.mode.value == "blobs", batcher.da_last.reason
    assert batcher.da_last.fees.base_fee == 7 * GWEI and batcher.da_last.fees.blob_base_fee >= 1
    assert posting_tx(w3, batcher, 1)["type"] == 3
    submit(batcher, alice, 3, start=3)
    _set_base_fee(w3, 1)
    assert batcher.post_if_due(force=True) == 4
    assert batcher.da_last.mode.value == "calldata", batcher.da_last.reason
    assert batcher.da_last.fees.base_fee == 1
    assert posting_tx(w3, batcher, 4)["type"] == 2


@pytest.mark.parametrize(
    ("da", "fees", "tx_type"),
    [("calldata", CHEAP_BLOBS, 2), ("blobs", DEAR_BLOBS, 3)],
    ids=["calldata-although-blobs-are-cheaper", "blobs-although-calldata-is-cheaper"],
)
def test_forced_modes_ignore_the_fees(
    chain, contracts, make_batcher, alice, bob, da, fees, tx_type
):
    bridge, _ = contracts
    w3 = chain.provider.web3
    fund(bridge, alice, ONE)
    fund(bridge, bob, ONE)
    batcher = make_batcher(da=da, fee_source=Fees(fees))
    assert batcher.post_if_due(force=True) == 0
    assert posting_tx(w3, batcher, 0)["type"] == tx_type
    assert f"forced by --da {da}" in batcher.da_last_reason
    status = batcher.core.status()["da"]
    assert status["last_mode"] == da and f"forced by --da {da}" in status["last_reason"]
    assert (status["last"] is None) is (da == "calldata")  # calldata mode reads no fees


def test_a_bad_da_setting_is_refused(make_batcher):
    with pytest.raises(Exception, match="calldata, blobs, auto"):
        make_batcher(da="ipfs")
    with pytest.raises(Exception, match="blob_max_batches 33"):
        make_batcher(blob_max_batches=33)


class Crash(BaseException):
    """Stands for the SIGKILL of a failpoint (the process tests use the real one)."""


@pytest.fixture
def crash_at(monkeypatch):
    def arm(name):
        def hit(point):
            if point == name:
                raise Crash(point)

        monkeypatch.setattr(failpoints, "hit", hit)

    yield arm
    monkeypatch.undo()


@pytest.mark.parametrize("point", ["after_intent", "after_post"])
def test_restart_mid_blob_post_neither_loses_nor_double_posts(
    chain, contracts, make_batcher, alice, bob, crash_at, point, monkeypatch
):
    """Crash after recording the batches (before the send), or after the blob posting was mined
    but before the store recorded it: the restarted batcher posts each batch exactly once (one
    more posting in the first case, none in the second)."""
    bridge, rollup = contracts
    w3 = chain.provider.web3
    fund(bridge, alice, ONE)
    fund(bridge, bob, ONE)
    # Bonded for ten batches up front: no bond transaction in between, so the proposer's
    # nonce counts postings only.
    bond = 10 * rollup.requiredBond()
    batcher = make_batcher(da="blobs", max_batch_txs=2, bond=bond)
    batcher.post_if_due(force=True)
    submit(batcher, alice, 5)
    proposer = batcher.account.address
    crash_at(point)
    with pytest.raises(Crash):
        batcher.post_if_due(force=True)
    intents = batcher.store.batches(BatchStatus.INTENT)
    assert [b.batch_index for b in intents] == [1, 2, 3]
    key = posting_key(
        1, intents[0].pre_root, lay_out([split_calldata_batch(b.data) for b in intents]).data
    )
    sent = batcher.store.l1_send(key)
    assert (sent is not None) is (point == "after_post")  # journaled before the broadcast
    assert (rollup.batchCount() == 4) is (point == "after_post")
    nonce_at_crash = w3.eth.get_transaction_count(proposer)
    batcher.store.close()
    monkeypatch.undo()

    again = make_batcher(da="blobs", max_batch_txs=2, bond=bond)
    if point == "after_intent":  # recorded, never sent: resent whole, as one posting
        assert [b.batch_index for b in again.store.batches(BatchStatus.INTENT)] == [1, 2, 3]
        assert again.post_if_due(force=True) == 3
    assert again.post_if_due(force=True) is None  # nothing left: no second posting
    assert rollup.batchCount() == 4
    posted = [again.store.batch(i) for i in (1, 2, 3)]
    assert {b.status for b in posted} == {BatchStatus.POSTED}
    assert len({b.l1_tx_hash for b in posted}) == 1 and posted[0].l1_tx_hash
    if sent is not None:
        assert posted[0].l1_tx_hash in sent.tx_hashes
    # Exactly one posting for the three batches: none after the restart if it was mined.
    new_txs = w3.eth.get_transaction_count(proposer) - nonce_at_crash
    assert new_txs == (1 if point == "after_intent" else 0)
    assert again.store.count_txs(TxStatus.POSTED) == 5
    assert again.store.count_txs(TxStatus.PENDING) == 0
    counters = again.core.status()["counters"]
    assert counters["batches_posted"] == 4 and counters["txs_posted"] == 5
    assert counters["blob_postings"] == 2 and counters["blob_gas"] == 2 * 131_072
    assert again.store.l1_send(key) is None  # the posting's journal is cleared
    assert check_l1_matches(w3, rollup, bridge, again) == ["blobs"] * 4


@pytest.mark.slow  # kills and restarts batcher processes
@pytest.mark.parametrize("point", ["after_intent:2", "after_post:2"])
def test_service_killed_mid_blob_post_loses_and_duplicates_nothing(
    chain, deployment, contracts, deployer, alice, bob, tmp_path, bls_keys, point
):
    """The service as a process (`--da blobs`), SIGKILLed at a failpoint of its second blob
    posting and restarted: every acknowledged transaction is in exactly one live batch, every
    batch was posted in blobs, and the operator's root is L1's."""
    from service_proc import ServiceProcess
    from test_batcher_crash import submit_until_dead, wait_all_posted

    from offchain.deployments import save_deployment
    from offchain.rollup.codec import decode_batch
    from offchain.sequencer.payload import tx_id

    bridge, rollup = contracts
    w3 = chain.provider.web3
    fund(bridge, alice, ONE)
    fund(bridge, bob, ONE)
    save_deployment(deployment, tmp_path)
    store = tmp_path / "batcher.sqlite"
    l1 = RollupL1(w3, rollup.address, bridge.address)
    key, sep = key_of(alice), l1.signing_dst()
    extra = ("--da", "blobs")
    acknowledged: list[bytes] = []
    svc = ServiceProcess(store, tmp_path, deployer.private_key, point, extra=extra)
    alive = submit_until_dead(svc, key, sep, acknowledged)
    if alive:  # the failpoint is in the posting loop: give it time to fire
        for _ in range(200):
            if not svc.alive():
                break
            time.sleep(0.1)
    fired = not svc.alive()
    svc.kill()
    assert fired, f"failpoint {point} never fired:\n{svc.proc.stderr.read()[-3000:]}"
    final = ServiceProcess(store, tmp_path, deployer.private_key, extra=extra)
    try:
        submit_until_dead(final, key, sep, acknowledged, limit=3)
        wait_all_posted(final, acknowledged)
        status = http(f"{final.url}/status")[1]
    finally:
        final.stop()
    batches = live_batches(w3, l1)
    assert {kind for _, kind in batches} == {"blobs"}
    nonces: dict[int, int] = {}
    on_l1 = []
    for b, _ in batches:
        for c in decode_batch(b.data):
            for t in c.signed:
                n = nonces.get(t.sender, 0)
                nonces[t.sender] = n + 1
                on_l1.append(tx_id(t, n))
    assert len(on_l1) == len(set(on_l1)), "a transaction was posted twice"
    assert not [h.hex() for h in acknowledged if h not in set(on_l1)], "acknowledged, not on L1"
    assert status["counters"]["txs_posted"] == len(on_l1)
    assert status["counters"]["batches_posted"] == len(batches)
    result = replay([b for b, _ in batches], l1.deposit_queue(), sep, keys=l1.key_history())
    assert result.fraud is None
    assert status["l2_root"] == "0x" + result.state.root.hex() == "0x" + rollup.head()[0].hex()
