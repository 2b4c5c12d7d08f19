"""The channel API's input checks as pure functions: amounts, addresses and invoice hints."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from offchain.channels.router import Edge
from offchain.channels.service import ApiError, _amount, hint_edges

PAYEE = "0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC"
PAYER = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"
HOP = "0x90F79bf6EB2c4f870365E785982E1f101E93b906"


@given(st.integers(min_value=1, max_value=2**255 - 1))
def test_api_amount_accepts_every_positive_wei_as_int_or_decimal_string(value):
    assert _amount({"amount": value}) == value
    assert _amount({"amount": str(value)}) == value


@pytest.mark.parametrize(
    "raw",
    [
        0,
        -1,
        "0",
        "-1",
        "1.5",
        1.5,
        "1e18",
        "0x10",
        "",
        " ",
        "\u00b2",
        "\u0661",
        True,
        None,
        [1],
        2**255,
    ],
)
def test_api_amount_refuses_zero_negative_fractional_and_non_numbers(raw):
    with pytest.raises(ApiError) as e:
        _amount({"amount": raw})
    assert e.value.code == "bad_amount" and e.value.status == 400


def test_invoice_hints_become_edges_into_the_payee_except_the_payers_own_channel():
    hints = [
        {"src": HOP, "dst": PAYEE, "capacity": "5"},
        {"src": PAYER, "dst": PAYEE, "capacity": "10"},  # the payer's own edge counts
    ]
    assert hint_edges(hints, PAYEE, PAYER) == [Edge(HOP, PAYEE, 5)]


@pytest.mark.parametrize(
    "hints",
    [
        "not a list",
        ["not an object"],
        [{"src": HOP, "dst": PAYER, "capacity": "5"}],  # an edge elsewhere in the graph
        [{"src": PAYEE, "dst": PAYEE, "capacity": "5"}],
        [{"src": HOP, "dst": PAYEE, "capacity": "-5"}],
        [{"src": "0x12", "dst": PAYEE, "capacity": "5"}],
        [{"src": HOP, "dst": PAYEE, "capacity": "5"}] * 65,
    ],
)
def test_invoice_hints_cannot_invent_the_graph_or_carry_bad_values(hints):
    with pytest.raises(ApiError) as e:
        hint_edges(hints, PAYEE, PAYER)
    assert e.value.status == 400
