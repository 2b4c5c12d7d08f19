"""The L1 sender's fee arithmetic (`offchain.l1.fees`): pure, so every rule is checked here."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from offchain.errors import L2KitError
from offchain.l1.fees import FeeAboveCap, Fees, NodeFees, SendPolicy, choose_fees, gas_limit

GWEI = 10**9
POLICY = SendPolicy()


def test_max_fee_is_base_fee_times_factor_plus_the_nodes_tip():
    fees = choose_fees(NodeFees(base_fee=30 * GWEI, suggested_priority=2 * GWEI), POLICY)
    assert fees == Fees(max_fee=62 * GWEI, priority_fee=2 * GWEI)
    assert fees.fields() == {"maxFeePerGas": 62 * GWEI, "maxPriorityFeePerGas": 2 * GWEI}


def test_a_policy_tip_overrides_the_node_and_the_tip_ceiling_bounds_both():
    node = NodeFees(base_fee=10, suggested_priority=5 * GWEI)
    assert choose_fees(node, SendPolicy(priority_fee=3)).priority_fee == 3
    assert choose_fees(node, SendPolicy(max_priority_fee=GWEI)).priority_fee == GWEI


def test_fees_above_the_cap_are_refused_not_paid():
    node = NodeFees(base_fee=300 * GWEI, suggested_priority=GWEI)
    with pytest.raises(FeeAboveCap, match="above the cap"):
        choose_fees(node, SendPolicy(max_fee_cap=500 * GWEI))
    assert choose_fees(node, SendPolicy(max_fee_cap=601 * GWEI)).max_fee == 601 * GWEI


def test_replacement_outbids_the_last_version_even_when_fees_fell():
    last = Fees(max_fee=100 * GWEI, priority_fee=10 * GWEI)
    fees = choose_fees(NodeFees(base_fee=1, suggested_priority=1), POLICY, last)
    assert fees.max_fee == 115 * GWEI + 1 and fees.priority_fee == 11_500_000_001


def test_replacement_after_a_fee_spike_follows_the_new_base_fee():
    last = Fees(max_fee=2 * GWEI, priority_fee=GWEI)
    fees = choose_fees(NodeFees(base_fee=50 * GWEI, suggested_priority=GWEI), POLICY, last)
    assert fees.max_fee == 101 * GWEI  # priced from the spike, far above the 15 % bump


def test_blob_fee_from_the_blob_base_fee_and_its_replacement_doubles():
    node = NodeFees(base_fee=10, suggested_priority=2, blob_base_fee=3)
    fees = choose_fees(node, POLICY, blob=True)
    assert fees.blob_fee == 6 and fees.fields()["maxFeePerBlobGas"] == 6
    again = choose_fees(node, POLICY, fees, blob=True)
    assert again.blob_fee == 13  # geth wants 100 % more for a blob replacement
    assert again.max_fee == fees.max_fee * 2 + 1  # every fee field, at the blob bump


def test_blob_fee_is_at_least_one_wei_and_capped():
    node = NodeFees(base_fee=0, suggested_priority=0, blob_base_fee=0)
    assert choose_fees(node, POLICY, blob=True).blob_fee == 1
    high = NodeFees(base_fee=0, suggested_priority=0, blob_base_fee=10**12)
    with pytest.raises(FeeAboveCap, match="blob fee"):
        choose_fees(high, SendPolicy(max_blob_fee_cap=10**12), blob=True)


def test_legacy_chain_pays_the_gas_price_and_bumps_it():
    node = NodeFees(base_fee=None, suggested_priority=0, gas_price=7 * GWEI)
    fees = choose_fees(node, POLICY)
    assert fees.legacy and fees.fields() == {"gasPrice": 7 * GWEI}
    assert choose_fees(node, POLICY, fees).max_fee == 7 * GWEI * 115 // 100 + 1
    with pytest.raises(FeeAboveCap):
        choose_fees(node, SendPolicy(max_fee_cap=GWEI))
    with pytest.raises(L2KitError, match="EIP-1559"):
        choose_fees(node, POLICY, blob=True)


def test_gas_limit_is_the_estimate_plus_the_margin():
    assert gas_limit(100_000, POLICY) == 120_000
    assert gas_limit(100_000, SendPolicy(gas_margin_percent=0)) == 100_000


@pytest.mark.parametrize(
    "bad",
    [
        {"max_attempts": 0},
        {"base_fee_factor": 0},
        {"blob_fee_factor": 0},
        {"bump_percent": 9},
        {"blob_bump_percent": 5},
        {"gas_margin_percent": -1},
    ],
)
def test_policies_no_node_would_accept_are_refused(bad):
    with pytest.raises(L2KitError):
        SendPolicy(**bad)


@given(
    base=st.integers(0, 10**12),
    tip=st.integers(0, 10**11),
    blob_base=st.integers(0, 10**12),
    last_max=st.integers(0, 10**12),
    last_tip=st.integers(0, 10**11),
    last_blob=st.integers(0, 10**12),
    blob=st.booleans(),
)
def test_a_replacement_always_outbids_every_field_by_the_bump(
    base, tip, blob_base, last_max, last_tip, last_blob, blob
):
    policy = SendPolicy(max_fee_cap=2**256, max_blob_fee_cap=2**256)
    last_tip = min(last_tip, last_max)
    last = Fees(last_max, last_tip, last_blob if blob else 0)
    node = NodeFees(base, tip, blob_base_fee=blob_base)
    fees = choose_fees(node, policy, last, blob=blob)
    bump = policy.blob_bump_percent if blob else policy.bump_percent
    assert fees.max_fee * 100 >= last.max_fee * (100 + bump)
    assert fees.priority_fee * 100 >= last.priority_fee * (100 + bump)
    assert fees.priority_fee <= fees.max_fee
    if blob:
        assert fees.blob_fee * 100 >= last.blob_fee * (100 + bump)
