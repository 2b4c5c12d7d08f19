"""Unit and property tests of the pure lock rules (`offchain.channels.recovery`)."""

from __future__ import annotations

import pytest
from eth_utils import keccak
from hypothesis import given, settings
from hypothesis import strategies as st

from offchain.channels import recovery
from offchain.channels.machine import AddLock, Cancel, ChannelView, Claim, Expire, Proposal
from offchain.channels.model import ChannelError, Lock, SignedState, State

A, B = "0x" + "aa" * 20, "0x" + "bb" * 20
SECRET = b"\x11" * 32
H = keccak(SECRET)
OTHER = b"\x22" * 32
NOW = 1_000


def view(cid: int, me: int, locks: tuple[Lock, ...] = (), pending=None, closed=False):
    s = State(bytes([cid]) * 32, 3, 100, 100, tuple(locks))
    return ChannelView(
        bytes([cid]) * 32,
        me,
        A,
        B,
        "0x" + "00" * 20,
        SignedState(s, b"", b""),
        pending=pending,
        closed=closed,
    )


def know(
    secrets=None, invoices=(), routing=(), busy=(), synced=True, registered=()
) -> recovery.Knowledge:
    return recovery.Knowledge(
        secrets=secrets or {},
        invoices=frozenset(invoices),
        routing=frozenset(routing),
        busy=frozenset(busy),
        synced=synced,
        registered=frozenset(registered),
    )


def incoming(expiry=NOW + 100, h=H) -> tuple[ChannelView, Lock]:
    lock = Lock(0, 10, h, expiry)  # A sends, we are B (me=1)
    return view(1, 1, (lock,)), lock


# ---------------------------------------------------------------- secret known: claim it


def test_never_expire_known_secret_plan_claims_incoming_lock_off_chain():
    v, _ = incoming()
    assert recovery.plan([v], know({H: SECRET}), NOW, 10) == [
        recovery.ClaimOffchain(v.channel_id, H, SECRET)
    ]


@pytest.mark.parametrize("now", [NOW + 90, NOW + 100, NOW + 101])
def test_never_expire_known_secret_plan_goes_on_chain_in_danger_zone(now):
    v, _ = incoming()
    assert recovery.plan([v], know({H: SECRET}), now, 10) == [
        recovery.RevealOnChain(v.channel_id, H, SECRET)
    ]


def test_secret_known_enforced_in_closed_channel_plan_registers_until_expiry():
    """A closed channel's incoming lock is paid on chain if its secret is registered by expiry:
    the plan asks for the registration whenever we know the secret and it is not on chain yet,
    up to the expiry (not only in the danger zone, not only for secrets known at close time)."""
    lock = Lock(0, 10, H, NOW + 100)
    v = view(1, 1, (lock,), closed=True)
    reveal = [recovery.RevealOnChain(v.channel_id, H, SECRET)]
    for now in (NOW, NOW + 95, NOW + 100):
        assert recovery.plan([v], know({H: SECRET}), now, 10) == reveal
    assert recovery.plan([v], know({H: SECRET}), NOW + 101, 10) == []  # too late to count
    assert recovery.plan([v], know({H: SECRET}, registered=[H]), NOW, 10) == []  # done
    assert recovery.plan([v], know(), NOW, 10) == []  # no secret: nothing to do, no cancel


def test_secret_known_enforced_in_closed_channel_no_offchain_ops():
    """No off-chain update is planned in a closed channel: no claim, cancel, expire, resync."""
    out = Lock(1, 10, OTHER, NOW - 10)  # expired outgoing lock: refunded by the chain
    inc = Lock(0, 10, H, NOW + 100)
    pending = Proposal((Claim(H, SECRET),), State(b"\x01" * 32, 4, 100, 100, ()), b"")
    v = view(1, 1, (inc, out), pending=pending, closed=True)
    acts = recovery.plan([v], know({H: SECRET}), NOW, 10)
    assert acts == [recovery.RevealOnChain(v.channel_id, H, SECRET)]


def test_never_expire_known_secret_refuses_cancel_and_counted_expire():
    lock = Lock(0, 10, H, NOW)
    with pytest.raises(ChannelError, match="we know the secret"):
        recovery.may_release(lock, Cancel(H), True, 0)
    with pytest.raises(ChannelError, match="we know the secret"):
        recovery.may_release(lock, Expire(H), True, NOW)  # registered by expiry: it is ours
    recovery.may_release(lock, Expire(H), True, NOW + 1)  # registered too late: refund stands
    recovery.may_release(lock, Expire(H), True, 0)  # never registered
    recovery.may_release(lock, Cancel(H), False, 0)  # no secret: free to give back
    recovery.may_release(lock, Claim(H, SECRET), True, 0)  # only Cancel/Expire are guarded


# ---------------------------------------------------------------- orphans


def test_recovery_plan_cancels_orphaned_incoming_lock():
    v, _ = incoming()
    assert recovery.plan([v], know(), NOW, 10) == [recovery.CancelOrphan(v.channel_id, H)]


def test_recovery_plan_keeps_forwarded_invoiced_or_unsynced_locks():
    v, _ = incoming()
    out_lock = Lock(0, 9, H, NOW + 50)  # we are A (me=0) on the next channel
    out = view(2, 0, (out_lock,))
    assert recovery.plan([v, out], know(), NOW, 10) == []  # forwarded
    proposed = view(2, 0, pending=Proposal((AddLock(out_lock),), out.latest.state, b""))
    assert recovery.plan([v, proposed], know(), NOW, 10) == [recovery.Resync(proposed.channel_id)]
    assert recovery.plan([v], know(invoices=[H]), NOW, 10) == []  # we are the payee
    assert recovery.plan([v], know(routing=[H]), NOW, 10) == []  # forward in flight
    assert recovery.plan([v], know(synced=False), NOW, 10) == []  # a peer may hold more
    assert recovery.plan([v], know(busy=[v.channel_id]), NOW, 10) == []


def test_forwarded_lock_not_released_while_downstream_can_claim_closed_channel():
    """Our forward sits in a channel that was closed (by the peer or by us): until its expiry the
    downstream can still take it on chain with the secret, so the incoming lock is kept; after
    it, the incoming lock is given back only through the chain check (CancelRefunded)."""
    v, _ = incoming()
    out = view(2, 0, (Lock(0, 9, H, NOW + 50),), closed=True)
    for now in (NOW, NOW + 50):
        assert recovery.plan([v, out], know(), now, 10) == []
    assert recovery.plan([v, out], know(), NOW + 51, 10) == [
        recovery.CancelRefunded(v.channel_id, H, NOW + 50)
    ]
    # the same hashlock also forwarded in an open channel: that forward decides
    still = view(3, 0, (Lock(0, 9, H, NOW + 40),))
    assert recovery.plan([v, out, still], know(), NOW + 51, 10) == [
        recovery.ExpireOutgoing(still.channel_id, H)
    ]
    # the secret showed up (e.g. registered on chain late): claimed, never given back
    assert recovery.plan([v, out], know({H: SECRET}), NOW + 51, 10) == [
        recovery.ClaimOffchain(v.channel_id, H, SECRET)
    ]


@settings(max_examples=100, deadline=None)
@given(
    st.lists(
        st.tuples(st.booleans(), st.integers(0, 1), st.integers(NOW - 60, NOW + 60)), max_size=4
    ),
    st.integers(NOW - 60, NOW + 120),
)
def test_forwarded_lock_not_released_while_downstream_can_claim_any_views(outs, now):
    """Whatever forwards exist, the incoming lock is released (CancelOrphan) only if no view
    holds an outgoing lock with its hashlock, and through the chain check (CancelRefunded) only
    if every such lock is in a closed channel and past its expiry."""
    v, _ = incoming(expiry=NOW + 200)
    views = [v] + [
        view(10 + i, me, (Lock(me, 9, H, exp),), closed=closed)
        for i, (closed, me, exp) in enumerate(outs)
    ]
    acts = [a for a in recovery.plan(views, know(), now, 10) if a.channel_id == v.channel_id]
    forwards = [(c, e) for c, _, e in outs]
    if not forwards:
        assert acts == [recovery.CancelOrphan(v.channel_id, H)]
    elif all(c and now > e for c, e in forwards):
        assert acts == [recovery.CancelRefunded(v.channel_id, H, max(e for _, e in forwards))]
    else:
        assert acts == []


# ---------------------------------------------------------------- expiry and leftovers


def test_recovery_plan_expires_outgoing_locks_by_timer():
    lock = Lock(1, 10, H, NOW)  # we are B and send
    v = view(1, 1, (lock,))
    assert recovery.plan([v], know(), NOW, 10) == []
    assert recovery.plan([v], know(), NOW + 1, 10) == [recovery.ExpireOutgoing(v.channel_id, H)]


def test_recovery_plan_resyncs_leftover_proposal_before_deciding_its_locks():
    lock = Lock(0, 10, H, NOW + 100)
    s = State(b"\x01" * 32, 4, 100, 100, ())
    v = view(1, 1, (lock,), pending=Proposal((Claim(H, SECRET),), s, b""))
    assert recovery.plan([v], know({H: SECRET}), NOW, 10) == [recovery.Resync(v.channel_id)]
    assert recovery.plan([v], know({H: SECRET}, busy=[v.channel_id]), NOW, 10) == [
        recovery.ClaimOffchain(v.channel_id, H, SECRET)
    ]


@settings(max_examples=60, deadline=None)
@given(
    st.integers(0, 1),
    st.integers(NOW - 50, NOW + 200),
    st.booleans(),
    st.booleans(),
    st.integers(0, 60),
)
def test_never_expire_known_secret_plan_never_gives_back_known_secret(
    sender, expiry, secret_known, invoiced, margin
):
    """Whatever the state, no planned action returns a lock whose secret we know to its sender,
    and every incoming lock with a known secret gets a claim or an on-chain reveal."""
    lock = Lock(sender, 10, H, expiry)
    v = view(1, 1, (lock,))
    k = know({H: SECRET} if secret_known else {}, invoices=[H] if invoiced else [])
    actions = recovery.plan([v], k, NOW, margin)
    if sender == 0 and secret_known:
        assert len(actions) == 1
        assert isinstance(actions[0], recovery.ClaimOffchain | recovery.RevealOnChain)
    for a in actions:
        assert not (secret_known and isinstance(a, recovery.CancelOrphan))
        if isinstance(a, recovery.ExpireOutgoing):
            assert sender == 1 and expiry < NOW


def test_recovery_plan_orders_fund_protecting_actions_first():
    v1, _ = incoming(h=OTHER)  # an orphan
    lock = Lock(0, 10, H, NOW + 100)
    v2 = view(3, 1, (lock,))
    actions = recovery.plan([v1, v2], know({H: SECRET}), NOW, 10)
    assert isinstance(actions[0], recovery.ClaimOffchain)
    assert isinstance(actions[1], recovery.CancelOrphan)
