"""Posting blob batches (offchain/rollup/blob_post.py): the pure parts — grouping, the DA
choice, keys, events, hard-fork detection. On Anvil: tests/operator/test_batcher_blobs.py."""

from __future__ import annotations

import pytest
from eth_abi import encode as abi_encode

from offchain.blobs import encoding
from offchain.blobs.cost import GAS_PER_BLOB, PostingMode, calldata_tokens, tx_gas
from offchain.rollup import blob_post as bp
from offchain.rollup.blob_batches import encode_posting
from offchain.rollup.codec import commitment_length, encode_batch
from offchain.rollup.posting import POST_BATCH_SELECTOR, POST_BLOB_BATCHES_SELECTOR
from offchain.rollup.posting import encode_posting as encode_call
from offchain.rollup.types import Commitment, Transfer

ROOT = b"\x07" * 32
GWEI = 10**9


def _rest(counts: tuple[int, int, int, int], fill: int) -> bytes:
    n = commitment_length(*counts) - 32
    return bytes(counts) + bytes((fill + 3 * i) % 251 + 1 for i in range(n - 4))


def _batch(n: int, counts=(0, 32, 0, 0), fill: int = 1) -> list[tuple[bytes, bytes]]:
    return [(bytes([fill + k]) * 32, _rest(counts, fill + k)) for k in range(n)]


FULL = _batch(64)  # the largest batch: 64 commitments of 32 transfers


def test_a_full_batch_is_28096_payload_bytes_as_the_spec_says():
    assert sum(len(r) for _, r in FULL) == 28_096


def test_split_calldata_batch_inverts_encode_batch():
    commitments = [
        Commitment(
            b"\x01" * 32, 0, 0, 3, transfers=(Transfer(1, 2, 5, 0),), signature=b"\xc0" + bytes(47)
        ),
        Commitment(b"\x02" * 32, 0, 0, 3),
    ]
    pairs = bp.split_calldata_batch(encode_batch(commitments))
    assert pairs == bp.commitment_pairs(commitments)
    assert b"".join(r + rest for r, rest in pairs) == encode_batch(commitments)


@pytest.mark.parametrize(
    ("data", "why"),
    [
        (b"", "empty"),
        (b"\x01" * 35, "cut short"),
        (b"\x01" * 32 + bytes([0, 1, 0, 0]), "runs past"),
    ],
)
def test_split_calldata_batch_refuses_broken_bytes(data, why):
    with pytest.raises(bp.BlobPostError, match=why):
        bp.split_calldata_batch(data)


def test_grouping_caps_at_32_batches_and_keeps_order():
    batches = [_batch(1, fill=k % 200 + 1) for k in range(70)]
    groups = bp.group_batches(batches)
    assert [len(g) for g in groups] == [32, 32, 6]
    assert [b for g in groups for b in g] == batches
    for g in groups:
        encode_posting(g)  # every group is one the layout accepts


def test_grouping_fills_six_blobs_and_never_more():
    groups = bp.group_batches([FULL] * 30)
    # 761,851 payload bytes / 28,096 per full batch: 27 fit, the 28th starts a new posting.
    assert [len(g) for g in groups] == [27, 3]
    posting = encode_posting(groups[0])
    assert len(posting.blobs()) == 6
    assert len(posting.payload) + 28_096 > encoding.MAX_PAYLOAD_BYTES


def test_grouping_four_full_batches_share_one_blob():
    groups = bp.group_batches([FULL] * 4)
    assert len(groups) == 1 and len(encode_posting(groups[0]).blobs()) == 1
    assert len(encode_posting([FULL] * 5).blobs()) == 2


def test_grouping_respects_a_smaller_cap_and_refuses_a_bad_one():
    assert [len(g) for g in bp.group_batches([_batch(1)] * 5, max_batches=2)] == [2, 2, 1]
    for bad in (0, 33):
        with pytest.raises(bp.BlobPostError, match=r"not 1\.\.32"):
            bp.group_batches([_batch(1)], max_batches=bad)


def test_parse_da():
    assert bp.parse_da(" Blobs ") is bp.DaSetting.BLOBS
    assert bp.parse_da("auto") is bp.DaSetting.AUTO
    with pytest.raises(bp.BlobPostError, match="calldata, blobs, auto"):
        bp.parse_da("ipfs")


def _fees(base=GWEI, blob=1, tip=GWEI):
    return bp.L1Fees(base, blob, tip)


def test_auto_takes_blobs_when_blob_gas_is_cheap():
    choice = bp.choose_da(bp.DaSetting.AUTO, ROOT, [FULL], _fees(blob=1))
    assert choice.mode is PostingMode.BLOBS
    assert choice.blobs_wei < choice.calldata_wei
    assert "auto: blobs are cheaper" in choice.reason and "blob base fee 1 wei" in choice.reason


def test_auto_takes_calldata_when_blob_gas_is_dear():
    choice = bp.choose_da(bp.DaSetting.AUTO, ROOT, [_batch(1)], _fees(blob=10**6 * GWEI))
    assert choice.mode is PostingMode.CALLDATA
    assert choice.calldata_wei <= choice.blobs_wei
    assert "auto: calldata" in choice.reason


def test_forced_modes_ignore_the_fees_but_report_them():
    cheap_blobs, dear_blobs = _fees(blob=1), _fees(blob=10**6 * GWEI)
    forced = bp.choose_da(bp.DaSetting.CALLDATA, ROOT, [FULL], cheap_blobs)
    assert forced.mode is PostingMode.CALLDATA and "forced by --da calldata" in forced.reason
    assert forced.blobs_wei < forced.calldata_wei  # auto would have taken blobs
    forced = bp.choose_da(bp.DaSetting.BLOBS, ROOT, [_batch(1)], dear_blobs)
    assert forced.mode is PostingMode.BLOBS and "forced by --da blobs" in forced.reason


def test_costs_are_exact_per_transaction_with_the_eip7623_floor():
    gas = bp.ExecGas()
    batches = [_batch(3, fill=1), _batch(2, fill=9)]
    fees = _fees(base=3 * GWEI, blob=5, tip=GWEI)
    choice = bp.choose_da(bp.DaSetting.AUTO, ROOT, batches, fees, gas)
    price = 4 * GWEI
    calldata = sum(
        tx_gas(
            encode_call(ROOT, b"".join(r + x for r, x in b), POST_BATCH_SELECTOR),
            gas.calldata(len(b)),
        )
        for b in batches
    )
    assert choice.calldata_wei == calldata * price  # one postBatch transaction per batch
    blob_input = encode_call(ROOT, encode_posting(batches).data, POST_BLOB_BATCHES_SELECTOR)
    blob_tx = tx_gas(blob_input, gas.blobs(batches))
    assert choice.blobs_wei == blob_tx * price + GAS_PER_BLOB * 5  # one blob transaction
    # A full batch as calldata pays the EIP-7623 floor (10 gas per token), not 4 + execution.
    full = encode_call(ROOT, b"".join(r + x for r, x in FULL), POST_BATCH_SELECTOR)
    tokens = calldata_tokens(full)
    assert (
        tx_gas(full, gas.calldata(64))
        == 21_000 + 10 * tokens
        > 21_000 + 4 * tokens + gas.calldata(64)
    )


def test_a_tie_stays_in_calldata():
    # With zero fees both cost 0 wei: blobs are not strictly cheaper.
    choice = bp.choose_da(bp.DaSetting.AUTO, ROOT, [_batch(1)], _fees(0, 0, 0))
    assert choice.calldata_wei == choice.blobs_wei == 0
    assert choice.mode is PostingMode.CALLDATA


def test_choose_da_refuses_a_posting_the_contract_would():
    with pytest.raises(bp.BlobPostError, match=r"1\.\.32"):
        bp.choose_da(bp.DaSetting.AUTO, ROOT, [_batch(1)] * 33, _fees())


def test_posting_key_names_exactly_one_posting():
    data = encode_posting([_batch(2)]).data
    key = bp.posting_key(4, ROOT, data)
    assert key == bp.posting_key(4, ROOT, data) and key.startswith("blobs:4:0x")
    assert key != bp.posting_key(5, ROOT, data)
    assert key != bp.posting_key(4, b"\x08" * 32, data)
    assert key != bp.posting_key(4, ROOT, encode_posting([_batch(3)]).data)


ROLLUP = "0x" + "ab" * 20


def _event(index: int, hashes: list[bytes], offset: int, address: str = ROLLUP) -> dict:
    return {
        "address": address,
        "topics": [bp.BLOB_BATCH_POSTED_TOPIC, index.to_bytes(32, "big")],
        "data": abi_encode(["bytes32[]", "uint256"], [hashes, offset]),
    }


def test_posted_indexes_reads_the_rollups_events_only():
    hashes = [b"\x01" * 32, b"\x02" * 32]
    receipt = {
        "logs": [
            _event(7, hashes, 0),
            {"address": ROLLUP, "topics": [b"\x00" * 32], "data": b""},  # another event
            _event(99, hashes, 0, address="0x" + "cd" * 20),  # another contract
            _event(8, hashes, 400),
        ]
    }
    assert bp.posted_indexes(receipt, ROLLUP.upper().replace("0X", "0x")) == ([7, 8], tuple(hashes))


class _Provider:
    def __init__(self, replies):
        self.replies = replies

    def make_request(self, method, params):
        reply = self.replies.get(method)
        if isinstance(reply, Exception):
            raise reply
        return reply if reply is not None else {"error": {"message": "method not found"}}


class _W3:
    def __init__(self, replies):
        self.provider = _Provider(replies)


def _config(*names):
    return {"result": {"current": {"precompiles": {n: "0x01" for n in names}}}}


@pytest.mark.parametrize(
    ("replies", "osaka"),
    [
        ({"eth_config": _config("KZG_POINT_EVALUATION", "P256VERIFY")}, True),
        ({"eth_config": _config("KZG_POINT_EVALUATION")}, False),
        (
            {"eth_config": OSError("down"), "anvil_nodeInfo": {"result": {"hardFork": "Osaka"}}},
            True,
        ),
        ({"anvil_nodeInfo": {"result": {"hardFork": "Prague"}}}, False),
        ({}, False),
    ],
    ids=["eth_config-osaka", "eth_config-prague", "anvil-osaka", "anvil-prague", "unknown"],
)
def test_detect_cell_proofs(replies, osaka):
    assert bp.detect_cell_proofs(_W3(replies)) is osaka  # type: ignore[arg-type]
