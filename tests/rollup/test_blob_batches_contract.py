"""Blob batches on Anvil, posting side of the contract (issue 12, docs/rollup-blobs.md §1):
postBlobBatches sent as type-3 transactions, one or several batches and blobs per posting, the
blob binding, every refusal (calldata rule, framing, blob count, queues, bonds), and the code
size of the Rollup."""

from __future__ import annotations

import ape
import pytest
from blob_helpers import (
    FULL,
    blobs_with,
    call_blobs,
    calldata,
    error_data,
    filler_posting,
    layout,
    plain_call,
    post_blobs,
    raw_posting,
    refused,
    selector_call,
    send,
    setup,
)
from eth_abi import decode as abi_decode
from posting_helpers import call_raw, mutations, selector_of
from v2_helpers import BOND, batch_hash

from offchain.blobs import kzg
from offchain.governance.wiring import IMPLEMENTATION_SLOT, read_slot_address
from offchain.rollup import blob_batches as bb
from offchain.rollup.posting import POST_BLOB_BATCHES_SELECTOR

#: EIP-170, and the room kept under it, a ratchet: the governance wiring and the council pause
#: left 360 bytes, the Osaka signature hint (SignatureProof.signatureHint) 31 fewer, 329; the
#: rest of the governance code is in RollupGovernor, docs/governance.md §5.1.1.
CODE_LIMIT = 24_576
ROOM = 320


@pytest.fixture
def c(project, chain, accounts):
    return setup(project, chain, accounts)


def _blob_hashes(receipt, rollup) -> list[list[bytes]]:
    return [
        [bytes(h) for h in log.blobHashes] for log in receipt.decode_logs(rollup.BlobBatchPosted)
    ]


def _malformed(offset: int) -> bytes:
    return selector_of("MalformedBatch(uint256)") + offset.to_bytes(32, "big")


# ----------------------------------------------------------------------------- accepted


def test_one_blob_batch_is_stored_as_its_calldata_twin_and_bound_to_its_blob(c):
    built = [
        c.world.commit(fee_account=0, transfers=[(1, 2, 10**18, 100)]),
        c.world.commit(fee_account=0, transfers=[(2, 3, 10**17, 0)]),
    ]
    posting = layout([built])
    posted = post_blobs(c, posting)
    assert posted.first == 1 and c.rollup.batchCount() == 2
    stored = c.rollup.batches(1)
    # the commitment hashes are the calldata format's: the same batch hash as postBatch's
    assert bytes(stored.batchHash) == batch_hash([b.hash for b in built])
    assert bytes(stored.batchHash) == posting.batches[0].batch_hash(4, 0)
    assert bytes(stored.postRoot) == built[-1].post_root
    assert (stored.depositEnd, stored.forcedEnd) == (4, 0)
    assert stored.proposer == c.proposer.address
    assert stored.postedBlock == posted.receipt.block_number
    (hashes,) = _blob_hashes(posted.receipt, c.rollup)
    assert hashes == [kzg.blob_versioned_hash(b) for b in posted.blobs]
    assert bytes(c.rollup.blobRef(1)) == bb.blob_ref(hashes, 0)
    assert c.rollup.lockedBondOf(c.proposer) == 2 * BOND
    assert c.rollup.batchBond(1) == BOND
    (log,) = list(posted.receipt.decode_logs(c.rollup.BatchPosted))
    assert (log.index, log.commitments, bytes(log.batchHash)) == (1, 2, bytes(stored.batchHash))


def test_several_batches_in_one_posting_chain_roots_queues_offsets_and_bonds(c, accounts):
    owner = accounts[5].address.lower()
    for _ in range(3):
        c.deposit(accounts[0], owner, 10**18)
    batches = [
        [c.world.commit(deposits=[(4, owner, 10**18)])],
        [
            c.world.commit(deposits=[(4, owner, 10**18)]),
            c.world.commit(fee_account=0, transfers=[(1, 2, 10**18, 0)]),
        ],
        [c.world.commit(deposits=[(4, owner, 10**18)])],
    ]
    posting = layout(batches)
    pre = c.rollup.head()[0]
    tx_data = calldata(c, pre, posting.data)
    hashes = [kzg.blob_versioned_hash(b) for b in posting.blobs()]
    first, count = abi_decode(["uint256", "uint256"], call_blobs(c, tx_data, hashes))
    assert (first, count) == (1, 3)
    posted = post_blobs(c, posting)
    assert c.rollup.batchCount() == 4
    assert [log.index for log in posted.receipt.decode_logs(c.rollup.BatchPosted)] == [1, 2, 3]
    offsets = [b.payload_offset for b in posting.batches]
    assert offsets[0] == 0 and offsets[1] == len(batches[0][0].rest)
    for k, batch in enumerate(batches):
        stored = c.rollup.batches(1 + k)
        assert bytes(stored.batchHash) == batch_hash([b.hash for b in batch])
        assert bytes(stored.postRoot) == batch[-1].post_root
        assert stored.depositEnd == batch[-1].deposit_end == 5 + k
        assert bytes(c.rollup.blobRef(1 + k)) == bb.blob_ref(hashes, offsets[k])
        assert c.rollup.batchBond(1 + k) == BOND
    logs = list(posted.receipt.decode_logs(c.rollup.BlobBatchPosted))
    assert [(log.index, log.payloadOffset) for log in logs] == [
        (1 + k, o) for k, o in enumerate(offsets)
    ]
    assert c.rollup.lockedBondOf(c.proposer) == 4 * BOND
    assert c.rollup.head()[0] == batches[-1][-1].post_root


def test_a_payload_over_one_blob_rides_in_two(c):
    posting = filler_posting(5)  # 5 x 64 x 439 = 140,480 bytes
    assert bb.blob_count(posting.batches) == 2
    posted = post_blobs(c, posting)
    assert c.rollup.batchCount() == 6
    hashes = _blob_hashes(posted.receipt, c.rollup)
    assert len(hashes) == 5 and all(len(h) == 2 and h == hashes[0] for h in hashes)
    for k in range(5):
        assert bytes(c.rollup.blobRef(1 + k)) == bb.blob_ref(hashes[0], 64 * 439 * k)
    print(f"\npostBlobBatches: 5 batches x 64 commitments, 2 blobs: {posted.receipt.gas_used} gas")


def test_the_largest_posting_32_batches_is_accepted_and_a_33rd_refused(c):
    c.rollup.bond(value=30 * BOND, sender=c.proposer)
    posting = filler_posting(32, commitments=1, counts=(0, 1, 0, 0))
    post_blobs(c, posting)
    assert c.rollup.batchCount() == 33
    more = filler_posting(32, commitments=1, counts=(0, 1, 0, 0))
    data = more.data + more.data[: 1 + 68]
    ok, ret = plain_call(c, selector_call(c.rollup.head()[0], data))
    assert not ok and ret == _malformed(len(more.data))


# ------------------------------------------------------------------------- blob count


def test_fewer_blobs_than_the_payload_needs_are_refused(c):
    posting = filler_posting(5)
    tx_data = calldata(c, c.rollup.head()[0], posting.data)
    blobs = posting.blobs()
    assert error_data("BlobCountMismatch(uint256,uint256)", ["uint256"] * 2, [2, 1]) in refused(
        c, tx_data, blobs[:1]
    )
    assert c.rollup.batchCount() == 1


def test_more_blobs_than_the_payload_needs_are_refused(c):
    built = [c.world.commit(fee_account=0, transfers=[(1, 2, 10**18, 0)])]
    posting = layout([built])
    tx_data = calldata(c, c.rollup.head()[0], posting.data)
    extra = posting.blobs() + blobs_with(b"\x01" * 100)
    assert error_data("BlobCountMismatch(uint256,uint256)", ["uint256"] * 2, [1, 2]) in refused(
        c, tx_data, extra
    )


def test_a_posting_without_blobs_is_refused(c):
    built = [c.world.commit(fee_account=0, transfers=[(1, 2, 10**18, 0)])]
    posting = layout([built])
    with ape.reverts(c.rollup.BlobCountMismatch, expected=1, present=0):
        c.rollup.postBlobBatches(c.rollup.head()[0], posting.data, sender=c.proposer)


def test_a_payload_over_six_blobs_is_refused(c):
    c.rollup.bond(value=30 * BOND, sender=c.proposer)
    posting_data = b"".join(
        bytes([64]) + b"".join(bb.header_for(b"\x11" * 32, rest).encode() for rest in rests)
        for rests in [[bytes(FULL) + bytes(435)] * 64] * 28
    )  # 28 x 64 x 439 = 786,688 bytes > 761,851
    ok, ret = plain_call(c, selector_call(c.rollup.head()[0], posting_data), gas=29_000_000)
    assert not ok and ret == selector_of("BlobCountOutOfRange(uint256)") + (7).to_bytes(32, "big")


# ----------------------------------------------------------------- calldata and poster


def test_non_canonical_calldata_is_refused(c):
    posting = filler_posting(1, commitments=2)
    pre = c.rollup.head()[0]
    for name, data in mutations(pre, posting.data).items():
        tx_data = POST_BLOB_BATCHES_SELECTOR + data[4:]
        ok, ret = plain_call(c, tx_data)
        assert not ok and ret == selector_of("NonCanonicalCalldata()"), name
    # and as a real blob transaction
    tx_data = POST_BLOB_BATCHES_SELECTOR + mutations(pre, posting.data)["trailing_byte"][4:]
    assert selector_of("NonCanonicalCalldata()").hex() in refused(c, tx_data, posting.blobs())


def test_a_posting_through_a_contract_is_refused(c, project, accounts):
    forwarder = accounts[0].deploy(project.CallForwarder)
    c.rollup.bond(value=BOND, sender=accounts[0])
    posting = filler_posting(1, commitments=1)
    inner = selector_call(c.rollup.head()[0], posting.data)
    outer = bytes(forwarder.forward.encode_input(c.rollup.address, inner))
    ok, ret = call_raw(c.chain.provider.web3, accounts[0].address, forwarder.address, outer)
    expected = (
        selector_of("PosterNotEOA(address)") + bytes(12) + bytes.fromhex(forwarder.address[2:])
    )
    assert not ok and ret == expected
    # and as a real blob transaction to the forwarder
    assert expected.hex() in refused(c, outer, posting.blobs(), accounts[0], forwarder.address)


# ------------------------------------------------------------------------------ framing


def _header(counts=(0, 1, 0, 0)) -> bytes:
    return bb.BlobHeader(b"\x11" * 32, bytes(counts), b"\x22" * 32).encode()


@pytest.mark.parametrize(
    ("name", "data", "offset"),
    [
        ("empty", b"", 0),
        ("n = 0", b"\x00" + _header(), 0),
        ("n = 65", b"\x41" + _header() * 65, 0),
        ("counts over 32", b"\x01" + _header((8, 8, 8, 9)), 1),
        ("cut short", b"\x02" + _header() + _header()[:-1], 0),
        ("second batch cut short", b"\x01" + _header() + b"\x01" + _header()[:40], 69),
        ("second batch n = 0", b"\x01" + _header() + b"\x00", 69),
        ("later header over 32", b"\x02" + _header() + _header((0, 33, 0, 0)), 69),
    ],
)
def test_bad_framing_is_refused(c, name, data, offset):
    ok, ret = plain_call(c, selector_call(c.rollup.head()[0], data))
    assert not ok and ret == _malformed(offset), name


def test_framing_refusal_reaches_a_blob_transaction_too(c):
    data = b"\x01" + _header((8, 8, 8, 9))
    assert _malformed(1).hex() in refused(
        c, selector_call(c.rollup.head()[0], data), blobs_with(b"")
    )


# ------------------------------------------------------------------- pre-root and queues


def test_a_stale_pre_root_is_refused(c):
    posting = filler_posting(1, commitments=1)
    stale = b"\x33" * 32
    tx_data = calldata(c, stale, posting.data)
    expected = error_data(
        "UnexpectedPreRoot(bytes32,bytes32)", ["bytes32", "bytes32"], [stale, c.rollup.head()[0]]
    )
    assert expected in refused(c, tx_data, posting.blobs())


def test_deposits_not_queued_are_refused(c):
    # 4 deposits are queued and consumed; a batch claiming one more is refused
    posting = filler_posting(2, commitments=1, counts=(1, 0, 0, 0))
    ok, ret = plain_call(c, calldata(c, c.rollup.head()[0], posting.data))
    assert not ok and ret == selector_of("DepositsNotQueued(uint256,uint256)") + (6).to_bytes(
        32, "big"
    ) + (4).to_bytes(32, "big")


def test_forced_txs_not_queued_are_refused(c):
    posting = filler_posting(1, commitments=1, counts=(0, 0, 0, 1))
    ok, ret = plain_call(c, calldata(c, c.rollup.head()[0], posting.data))
    assert not ok and ret == selector_of("ForcedNotQueued(uint256,uint256)") + (1).to_bytes(
        32, "big"
    ) + bytes(32)


def test_queued_forced_tx_may_be_consumed(c, accounts):
    c.rollup.forceTransaction(b"\x03" + bytes(3) + bytes(4) + bytes(2), sender=accounts[1])
    posting = filler_posting(1, commitments=1, counts=(0, 0, 0, 1))
    post_blobs(c, posting)
    assert c.rollup.batches(1).forcedEnd == 1


# ------------------------------------------------------------------------------- bonds


def test_each_batch_locks_its_own_bond_and_the_kth_without_one_reverts_the_call(c, accounts):
    poster = accounts[6]
    c.rollup.bond(value=2 * BOND, sender=poster)
    posting = filler_posting(3, commitments=1)
    tx_data = calldata(c, c.rollup.head()[0], posting.data)
    expected = error_data(
        "InsufficientBond(address,uint256,uint256)",
        ["address", "uint256", "uint256"],
        [poster.address, 0, BOND],
    )
    assert expected in refused(c, tx_data, posting.blobs(), sender=poster)
    assert c.rollup.batchCount() == 1 and c.rollup.bondOf(poster) == 2 * BOND
    two = filler_posting(2, commitments=1)
    send(c, calldata(c, c.rollup.head()[0], two.data), two.blobs(), sender=poster)
    assert c.rollup.batchCount() == 3
    assert c.rollup.bondOf(poster) == 0 and c.rollup.lockedBondOf(poster) == 2 * BOND


def test_a_frozen_rollup_takes_no_blob_posting(c, accounts, chain):
    c.rollup.forceTransaction(b"\x03" + bytes(3) + bytes(4) + bytes(2), sender=accounts[1])
    chain.pending_timestamp += 86_400 + 10
    chain.mine()
    c.rollup.freeze(sender=accounts[2])
    ok, ret = plain_call(c, calldata(c, c.rollup.head()[0], filler_posting(1, 1).data))
    assert not ok and ret == selector_of("Frozen()")


# ------------------------------------------------------------------- calldata batches


def test_a_calldata_batch_has_no_blob_binding(c):
    built = c.world.commit(fee_account=0, transfers=[(1, 2, 10**18, 0)])
    index, _ = c.post([built])
    assert bytes(c.rollup.blobRef(index)) == bytes(32)


def test_header_layout_by_hand_matches_the_python_layout(c):
    built = [c.world.commit(fee_account=0, transfers=[(1, 2, 10**18, 0)])]
    posting = layout([built])
    by_hand = raw_posting([posting.batches[0].headers], posting.payload)
    assert by_hand == posting


# ------------------------------------------------------------------------- code size


def test_rollup_runtime_code_leaves_room_under_the_eip170_limit(c):
    w3 = c.chain.provider.web3
    # c.rollup is the proxy (deploy_all): measure the implementation behind it
    implementation = read_slot_address(c.chain.provider, c.rollup.address, IMPLEMENTATION_SLOT)
    size = len(w3.eth.get_code(implementation))
    print(f"\nRollup runtime code: {size:,} bytes (limit {CODE_LIMIT:,})")
    assert size <= CODE_LIMIT - ROOM
    assert len(w3.eth.get_code(c.rollup.blobDispute())) <= CODE_LIMIT
