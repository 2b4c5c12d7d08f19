"""The honest proposer library posting blob batches (offchain/rollup/blob_post.py, issue 12):
several batches built one on another go in one type-3 posting, each with its own bond; auto
follows the fees; calldata stays the library's default."""

from __future__ import annotations

from rollup_helpers import BOND

from offchain.rollup import blob_batches as bb
from offchain.rollup.blob_post import DaSetting, L1Fees, posted_indexes
from offchain.rollup.honest_proposer import HonestProposer
from offchain.rollup.wallet import sign_transfer

GWEI = 10**9


def _two_batches(env, op):
    """The deposits, then a transfer, built one on the other."""
    first, state = op.build([])
    tx = sign_transfer(env.bls(1), env.dst, 0, 1, 10**17, 0, 0)
    second, after = op.build_on(state, [tx])
    assert not second.rejected
    return [(first, state), (second, after)]


def _setup(env):
    env.register(1, 2)
    for i in (1, 2):
        env.deposit_eth(i, 10**18)


def test_blob_mode_posts_batches_built_on_each_other_in_one_posting(env):
    _setup(env)
    op = HonestProposer(env.l1, env.signer(0), da=DaSetting.BLOBS)
    built = _two_batches(env, op)
    assert op.post_all(built) == [0, 1]
    receipt = op.last_receipt
    tx = env.w3.eth.get_transaction(receipt["transactionHash"])
    assert tx["type"] == 3 and len(tx["blobVersionedHashes"]) == 1
    indexes, hashes = posted_indexes(receipt, env.rollup.address)
    assert indexes == [0, 1] and list(hashes) == [bytes(h) for h in tx["blobVersionedHashes"]]
    posting = bb.decode_posting_data(bb.encode_posting(_pairs(built)).data)
    for batch, index in zip(posting, (0, 1), strict=True):
        assert bytes(env.rollup.blobRef(index)) == bb.blob_ref(hashes, batch.payload_offset)
    assert env.rollup.batchCount() == 2
    assert bytes(env.rollup.head()[0]) == op.state.root == built[-1][1].root
    assert env.rollup.lockedBondOf(env.accounts[0]) == 2 * BOND  # a bond per batch
    assert op.last_choice is not None and "forced by --da blobs" in op.last_choice.reason


def _pairs(built):
    from offchain.rollup.blob_post import commitment_pairs

    return [commitment_pairs([c.commitment for c in b.commitments]) for b, _ in built]


def test_auto_posts_calldata_when_blob_gas_is_dear(env):
    _setup(env)
    dear = L1Fees(base_fee=GWEI, blob_base_fee=10**6 * GWEI, priority_fee=GWEI)
    op = HonestProposer(env.l1, env.signer(0), da=DaSetting.AUTO, fee_source=lambda: dear)
    assert op.post_all(_two_batches(env, op)) == [0, 1]
    assert op.last_choice.mode.value == "calldata"
    for index in (0, 1):
        logs = env.l1.rollup.events.BatchPosted.get_logs(
            from_block=0, argument_filters={"index": index}
        )
        assert env.w3.eth.get_transaction(logs[-1]["transactionHash"])["type"] == 2
        assert bytes(env.rollup.blobRef(index)) == bytes(32)  # calldata batches bind no blob
    assert bytes(env.rollup.head()[0]) == op.state.root


def test_post_keeps_calldata_by_default_and_takes_blobs_when_asked(env):
    _setup(env)
    op = env.operator()
    assert op.da is DaSetting.CALLDATA
    receipt = op.post(*op.build([]))
    assert env.w3.eth.get_transaction(receipt["transactionHash"])["type"] == 2
    op.da = DaSetting.BLOBS
    tx = sign_transfer(env.bls(1), env.dst, 0, 1, 10**17, 0, 0)
    receipt = op.post(*op.build([tx]))
    assert env.w3.eth.get_transaction(receipt["transactionHash"])["type"] == 3
    assert env.rollup.batchCount() == 2 and bytes(env.rollup.head()[0]) == op.state.root
