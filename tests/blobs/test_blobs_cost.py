"""The calldata-or-blobs cost model (pure): EIP-7623 gas, and the choice following the fees."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from offchain.blobs import BlobError, PostingMode, choose_mode
from offchain.blobs.cost import GAS_PER_BLOB, calldata_tokens, tx_gas

GWEI = 10**9


def test_tokens_count_zero_bytes_once_and_nonzero_bytes_four_times():
    assert calldata_tokens(b"\0\0\1\2") == 2 + 8


def test_data_heavy_tx_pays_the_eip7623_floor():
    # 1,000 non-zero bytes = 4,000 tokens: standard 21,000 + 16,000, floor 21,000 + 40,000.
    assert tx_gas(b"\1" * 1000, 0) == 61_000
    assert tx_gas(b"\0" * 1000, 0) == 31_000


def test_execution_heavy_tx_pays_the_standard_price():
    # floor 61,000 < standard 21,000 + 16,000 + 100,000
    assert tx_gas(b"\1" * 1000, 100_000) == 137_000


def test_negative_execution_gas_is_refused():
    with pytest.raises(BlobError):
        tx_gas(b"", -1)


def test_blobs_win_when_blob_gas_is_cheap():
    c = choose_mode(b"\1" * 100_000, 1, base_fee=10 * GWEI, blob_base_fee=1)
    assert c.mode is PostingMode.BLOBS
    assert c.calldata_gas == 21_000 + 40 * 100_000
    assert c.blob_gas == GAS_PER_BLOB


def test_calldata_wins_when_blob_gas_is_dear():
    c = choose_mode(b"\1" * 1_000, 1, base_fee=1 * GWEI, blob_base_fee=100 * GWEI)
    assert c.mode is PostingMode.CALLDATA


def test_small_batch_stays_in_calldata_even_with_cheap_blobs():
    # A 100-byte batch: calldata 25,000 gas at 1 gwei vs 21,000 gas + one blob at 1 gwei.
    c = choose_mode(b"\1" * 100, 1, base_fee=GWEI, blob_base_fee=GWEI)
    assert c.mode is PostingMode.CALLDATA


def test_tie_stays_in_calldata():
    # 131,072 zero bytes pay the floor, 10 gas each = 1,310,720 gas at 1 wei; one blob at 10 wei.
    c = choose_mode(bytes(131_072), 1, base_fee=1, blob_base_fee=10)
    assert c.calldata_wei == c.blobs_wei == 21_000 + 1_310_720
    assert c.mode is PostingMode.CALLDATA
    assert choose_mode(bytes(131_073), 1, base_fee=1, blob_base_fee=10).mode is PostingMode.BLOBS


def test_priority_fee_applies_to_execution_gas_not_blob_gas():
    c = choose_mode(b"\1" * 10, 2, base_fee=5, blob_base_fee=3, priority_fee=2)
    assert c.calldata_wei == (21_000 + 400) * 7
    assert c.blobs_wei == 21_000 * 7 + 2 * GAS_PER_BLOB * 3


@pytest.mark.parametrize("blobs", [0, -1])
def test_blob_count_below_one_is_refused(blobs):
    with pytest.raises(BlobError):
        choose_mode(b"", blobs, 1, 1)


def test_negative_fee_is_refused():
    with pytest.raises(BlobError):
        choose_mode(b"", 1, -1, 1)


@given(
    st.binary(max_size=2_000),
    st.integers(1, 6),
    st.integers(0, 10**12),
    st.integers(0, 10**12),
)
def test_choice_is_the_cheaper_side(data, blobs, base_fee, blob_base_fee):
    c = choose_mode(data, blobs, base_fee, blob_base_fee)
    cheaper = min(c.calldata_wei, c.blobs_wei)
    assert (c.blobs_wei if c.mode is PostingMode.BLOBS else c.calldata_wei) == cheaper


@given(st.binary(min_size=1, max_size=2_000), st.integers(1, 10**12), st.integers(0, 10**12))
def test_raising_the_blob_base_fee_never_moves_a_batch_to_blobs(data, base_fee, blob_base_fee):
    low = choose_mode(data, 1, base_fee, blob_base_fee)
    high = choose_mode(data, 1, base_fee, blob_base_fee * 2 + 1)
    assert not (low.mode is PostingMode.CALLDATA and high.mode is PostingMode.BLOBS)
