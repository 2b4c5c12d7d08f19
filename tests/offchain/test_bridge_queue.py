"""Pure logic of the deposit queue reader and the recipient codec."""

import dataclasses

import pytest
from eth_utils import to_checksum_address
from hypothesis import given, settings
from hypothesis import strategies as st

from offchain.bridge import (
    ZERO_ACCUMULATOR,
    Deposit,
    DepositQueueBroken,
    next_accumulator,
    verify_queue,
)
from offchain.errors import InvalidRecipient
from offchain.recipient import (
    AddressRecipient,
    BabyJubJubRecipient,
    address_recipient,
    babyjubjub_recipient,
    decode_recipient,
)

addresses = st.binary(min_size=20, max_size=20).filter(any).map(to_checksum_address)
amounts = st.integers(min_value=1, max_value=2**128 - 1)


def build_queue(entries):
    acc, out = ZERO_ACCUMULATOR, []
    for i, (token, amount, owner) in enumerate(entries):
        recipient = address_recipient(owner)
        acc = next_accumulator(acc, token, amount, recipient)
        out.append(Deposit(i, owner, token, amount, recipient, acc))
    return out


@settings(max_examples=50)
@given(st.lists(st.tuples(addresses, amounts, addresses), min_size=1, max_size=8))
def test_a_well_formed_queue_verifies(entries):
    verify_queue(build_queue(entries))


@settings(max_examples=50)
@given(st.lists(st.tuples(addresses, amounts, addresses), min_size=2, max_size=8), st.data())
def test_any_gap_or_altered_entry_is_caught(entries, data):
    queue = build_queue(entries)
    victim = data.draw(st.integers(min_value=0, max_value=len(queue) - 1))
    how = data.draw(st.sampled_from(["drop", "amount", "swap"]))
    if how == "drop":
        broken = queue[:victim] + queue[victim + 1 :]
        if victim == len(queue) - 1:
            return  # dropping the tail is indistinguishable from reading less
    elif how == "amount":
        broken = list(queue)
        broken[victim] = dataclasses.replace(queue[victim], amount=queue[victim].amount ^ 1)
    else:
        other = (victim + 1) % len(queue)
        broken = list(queue)
        broken[victim], broken[other] = queue[other], queue[victim]
    with pytest.raises(DepositQueueBroken):
        verify_queue(broken)


@settings(max_examples=100)
@given(addresses)
def test_address_recipient_round_trip(owner):
    assert decode_recipient(address_recipient(owner)) == AddressRecipient(owner)


@settings(max_examples=100)
@given(st.integers(0, 2**256 - 1), st.integers(1, 2**256 - 1))
def test_babyjubjub_recipient_round_trip(ax, ay):
    assert decode_recipient(babyjubjub_recipient(ax, ay)) == BabyJubJubRecipient(ax, ay)


@settings(max_examples=100)
@given(st.binary(max_size=70))
def test_decoder_accepts_only_the_two_encodings(data):
    ok = (len(data) == 21 and data[0] == 1 and any(data[1:])) or (
        len(data) == 65 and data[0] == 2 and any(data[1:])
    )
    if ok:
        decode_recipient(data)
    else:
        with pytest.raises(InvalidRecipient):
            decode_recipient(data)


def test_zero_recipients_are_refused():
    with pytest.raises(InvalidRecipient):
        address_recipient("0x" + "00" * 20)
    with pytest.raises(InvalidRecipient):
        babyjubjub_recipient(0, 0)
