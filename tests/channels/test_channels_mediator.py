"""The pure mediator (admission, fees, expiries, going on chain) and the channel machine's
batched updates and on-chain transitions: unit and property tests."""

from __future__ import annotations

from dataclasses import replace

import pytest
from eth_utils import keccak
from hypothesis import given, settings
from hypothesis import strategies as st

from offchain.channels import crypto, machine, mediator
from offchain.channels.machine import AddLock, Cancel, ChannelView, Claim, Expire, Pay
from offchain.channels.mediator import (
    AwaitResync,
    CancelUpstream,
    Forward,
    ForwardFailure,
    GoOnChain,
    Invoice,
    Nothing,
    Policy,
    TakeAsPayee,
)
from offchain.channels.model import ChannelError, ErrorCode, Lock, RouteHop, SignedState, State
from offchain.channels.router import Hop

CID = b"\x07" * 32
SA, SB = crypto.Signer("0x" + "a1" * 32), crypto.Signer("0x" + "b2" * 32)
DOM = crypto.Domain(31337, "0x5FbDB2315678afecb367f032d93F642f64180aa3")
P = Policy(base_fee=10, fee_ppm=1000, hop_delta=60, final_margin=30)
H = keccak(b"\x33" * 32)
NOW = 1_000
NEXT = "0x" + "cc" * 20


def refused(fn, words: str) -> None:
    with pytest.raises(ChannelError, match=words) as e:
        fn()
    assert e.value.code == ErrorCode.LOCK_REFUSED


def test_plan_payment_expiries_shrink_by_hop_delta():
    route = [Hop("0xb", 1_020), Hop("0xc", 1_010), Hop("0xd", 1_000)]
    plan = mediator.plan_payment(route, NOW, P)
    assert (plan.amount, plan.expiry) == (1_020, NOW + 30 + 180)
    assert plan.route == (RouteHop("0xc", 1_010, NOW + 150), RouteHop("0xd", 1_000, NOW + 90))
    assert mediator.plan_payment(route[-1:], NOW, P).route == ()
    assert mediator.plan_payment(route, NOW, P, first_expiry=5).expiry == 5
    with pytest.raises(ChannelError):
        mediator.plan_payment([], NOW, P)


def test_admission_as_payee():
    lock = Lock(0, 100, H, NOW + 31)
    inv = Invoice(100, True, False)
    assert mediator.admit_lock(lock, (), NOW, P, inv, None) == TakeAsPayee()
    refused(lambda: mediator.admit_lock(lock, (), NOW, P, None, None), "no invoice")
    refused(
        lambda: mediator.admit_lock(lock, (), NOW, P, Invoice(100, False, False), None),
        "no invoice",
    )
    refused(lambda: mediator.admit_lock(lock, (), NOW, P, replace(inv, paid=True), None), "paid")
    refused(lambda: mediator.admit_lock(lock, (), NOW, P, replace(inv, amount=101), None), "asks")
    soon = replace(lock, expiry=NOW + 29)
    refused(lambda: mediator.admit_lock(soon, (), NOW, P, inv, None), "too soon")


def test_admission_as_intermediary():
    out = RouteHop(NEXT, 1_000, NOW + 90)
    rest = (RouteHop("0xdd", 990, NOW + 30),)
    fee = mediator.fee(P, 1_000)
    assert fee == 11
    lock = Lock(0, 1_000 + fee, H, NOW + 150)
    got = mediator.admit_lock(lock, (out, *rest), NOW, P, None, 1_000)
    assert got == Forward(out, rest)
    refused(
        lambda: mediator.admit_lock(replace(lock, amount=1_010), (out,), NOW, P, None, 10**6),
        "fee is too low",
    )
    refused(
        lambda: mediator.admit_lock(replace(lock, expiry=NOW + 149), (out,), NOW, P, None, 10**6),
        "too close",
    )
    late = RouteHop(NEXT, 1_000, NOW + 29)
    refused(
        lambda: mediator.admit_lock(replace(lock, expiry=NOW + 89), (late,), NOW, P, None, 10**6),
        "too soon",
    )
    refused(lambda: mediator.admit_lock(lock, (out,), NOW, P, None, None), "no open channel")
    refused(lambda: mediator.admit_lock(lock, (out,), NOW, P, None, 999), "capacity")


@settings(max_examples=200, deadline=None)
@given(
    st.integers(1, 10**24),
    st.integers(1, 10**24),
    st.integers(0, 10_000),
    st.integers(0, 10_000),
    st.integers(0, 10**24),
    st.integers(0, 1000),
    st.integers(0, 10**6),
)
def test_admitted_forwards_never_lose_money_or_time(
    in_amount, out_amount, in_exp, out_exp, capacity, base, ppm
):
    """Whatever the route asks, a forward the mediator admits pays at least its fee, keeps
    hop_delta between the two expiries, leaves final_margin downstream and fits the capacity."""
    pol = Policy(base, ppm, 60, 30)
    lock = Lock(0, in_amount, H, NOW + in_exp)
    hop = RouteHop(NEXT, out_amount, NOW + out_exp)
    try:
        got = mediator.admit_lock(lock, (hop,), NOW, pol, None, capacity)
    except ChannelError as e:
        assert e.code == ErrorCode.LOCK_REFUSED
        return
    assert isinstance(got, Forward)
    assert in_amount - out_amount >= mediator.fee(pol, out_amount) >= base
    assert lock.expiry - hop.expiry >= 60 and hop.expiry - NOW >= 30
    assert capacity >= out_amount


def test_forward_failure_and_claim_refusal_decisions():
    assert mediator.after_forward_failure(ForwardFailure.UNREACHABLE, True) == CancelUpstream()
    assert mediator.after_forward_failure(ForwardFailure.REFUSED, False) == CancelUpstream()
    assert mediator.after_forward_failure(ForwardFailure.REFUSED, True) == AwaitResync()
    assert mediator.after_forward_failure(ForwardFailure.NO_ANSWER, False) == AwaitResync()
    lock = Lock(1, 5, H, NOW + 10)
    assert mediator.after_claim_refused(lock, True, False, True, NOW) == GoOnChain()
    assert mediator.after_claim_refused(lock, True, False, True, NOW + 11) == Nothing()
    assert mediator.after_claim_refused(None, True, False, True, NOW) == Nothing()
    assert mediator.after_claim_refused(lock, False, False, True, NOW) == Nothing()
    assert mediator.after_claim_refused(lock, True, True, True, NOW) == Nothing()
    assert mediator.after_claim_refused(lock, True, False, False, NOW) == Nothing()


# ------------------------------------------------------------------ the channel machine


def view(me: int, a_bal: int = 1_000, b_bal: int = 500) -> ChannelView:
    s = State(CID, 0, a_bal, b_bal)
    return ChannelView(CID, me, SA.address, SB.address, "0x0", SignedState(s, b"", b""))


op_st = st.one_of(
    st.builds(Pay, st.integers(-5, 400)),
    st.builds(
        lambda amt, exp, i: AddLock(Lock(0, amt, keccak(bytes([i])), exp)),
        st.integers(0, 300),
        st.integers(NOW - 5, NOW + 50),
        st.integers(0, 3),
    ),
    st.builds(lambda i: Cancel(keccak(bytes([i]))), st.integers(0, 3)),
    st.builds(lambda i: Expire(keccak(bytes([i]))), st.integers(0, 3)),
)


@settings(max_examples=150, deadline=None)
@given(st.lists(op_st, min_size=1, max_size=12))
def test_batches_fold_like_single_ops_and_both_sides_agree(ops):
    """A batch keeps exactly the ops that apply one after another; the receiver recomputes the
    same state from the kept ops (one nonce up), co-signs it, and funds are conserved."""
    va, vb = view(0), view(1)
    ops = tuple(ops)
    s, kept, bad = machine.fold_ops(va.latest.state, ops, 0, NOW)
    assert sorted((*kept, *bad)) == list(range(len(ops)))
    cur = va.latest.state
    for i, op in enumerate(ops):
        try:
            cur = machine.apply_op(cur, op, 0, NOW)
            assert i in kept
        except ChannelError:
            assert i in bad
    assert replace(cur, nonce=1) == s and s.nonce == 1
    assert s.total() == va.latest.state.total()
    if not kept:
        with pytest.raises(ChannelError):
            machine.apply_ops(va.latest.state, (), 0, NOW)
        return
    chosen = tuple(ops[i] for i in kept)
    va2, (send,) = machine.propose(va, chosen, SA, DOM, NOW)
    vb2, events = machine.receive_update(vb, send.ops, send.nonce, send.sig, SB, DOM, NOW)
    assert vb2.latest.state == s
    assert [e.op for e in events[1:]] == list(chosen)  # one Applied per op, in order
    ack = events[0]
    va3, applied = machine.receive_ack(va2, ack.nonce, ack.sig, DOM)
    assert va3.latest == vb2.latest and len(applied) == len(chosen)
    # a batch with one bad op is refused whole: nothing is half-applied
    if bad:
        with pytest.raises(ChannelError):
            machine.apply_ops(va.latest.state, ops, 0, NOW)


def test_stale_nonce_and_conflict_codes():
    va, vb = view(0), view(1)
    va2, (send,) = machine.propose(va, Pay(5), SA, DOM, NOW)
    with pytest.raises(ChannelError) as e:
        machine.receive_update(vb, send.ops, send.nonce + 1, send.sig, SB, DOM, NOW)
    assert e.value.code == ErrorCode.STALE_NONCE
    vb2, _ = machine.receive_update(vb, send.ops, send.nonce, send.sig, SB, DOM, NOW)
    with pytest.raises(ChannelError) as e:  # the same update again: a replay
        machine.receive_update(vb2, send.ops, send.nonce, send.sig, SB, DOM, NOW)
    assert e.value.code == ErrorCode.STALE_NONCE
    # both propose nonce 1: A's wins the tie; B co-signs it (dropping its own), A refuses B's
    vb3, (send_b,) = machine.propose(vb, Pay(1), SB, DOM, NOW)
    vb4, _ = machine.receive_update(vb3, send.ops, send.nonce, send.sig, SB, DOM, NOW)
    assert vb4.pending is None and vb4.latest.state.balance_b == 505
    with pytest.raises(ChannelError) as e:
        machine.receive_update(va2, send_b.ops, send_b.nonce, send_b.sig, SA, DOM, NOW)
    assert e.value.code == ErrorCode.CONFLICT


def test_adjust_and_close_transitions():
    v = view(0)
    s = machine.adjusted_state(v, 0, 100, 0)
    frozen = machine.begin_adjust(v, s, NOW + 600)
    with pytest.raises(ChannelError) as e:
        machine.propose(frozen, Pay(1), SA, DOM, NOW)
    assert e.value.code == ErrorCode.FROZEN
    assert machine.resolve_adjust(frozen, 0, NOW) == frozen  # still pending on chain
    landed = machine.resolve_adjust(frozen, s.nonce, NOW)
    assert landed.latest == SignedState(s, b"", b"") and landed.adjusting is None
    assert machine.resolve_adjust(frozen, 0, NOW + 601) == v  # expired: dropped
    assert machine.cancel_adjust(frozen) == v
    assert machine.coop_close_terms(v) == v.latest.state
    with pytest.raises(ChannelError) as e:
        machine.coop_close_terms(v, 3)
    assert e.value.code == ErrorCode.STALE_NONCE
    locked, _ = machine.propose(v, AddLock(Lock(0, 5, H, NOW + 9)), SA, DOM, NOW)
    with pytest.raises(ChannelError, match="without locks"):
        machine.coop_close_terms(locked)
    closed = machine.mark_closed(v)
    with pytest.raises(ChannelError) as e:
        machine.coop_close_terms(closed)
    assert e.value.code == ErrorCode.FROZEN
    with pytest.raises(ChannelError) as e:
        machine.propose(closed, Pay(1), SA, DOM, NOW)
    assert e.value.code == ErrorCode.FROZEN
    assert machine.reopen(closed) == v


def test_claim_needs_the_secret_in_a_batch():
    secret = b"\x33" * 32
    v = view(0)
    lock = Lock(0, 50, H, NOW + 100)
    s = machine.apply_op(v.latest.state, AddLock(lock), 0, NOW)
    assert machine.apply_ops(s, (Claim(H, secret), Pay(1)), 1, NOW).balance_b == 500 + 50 - 1
    with pytest.raises(ChannelError, match="secret"):
        machine.apply_ops(s, (Pay(1), Claim(H, b"\x34" * 32)), 1, NOW)
