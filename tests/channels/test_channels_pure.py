"""Unit and property tests of the pure parts: Merkle tree, state machine, router, codecs."""

from __future__ import annotations

import contextlib

import pytest
from eth_utils import keccak
from hypothesis import given, settings
from hypothesis import strategies as st

from offchain.channels import crypto, machine, merkle, wire
from offchain.channels.machine import AddLock, Cancel, ChannelView, Claim, Expire, Pay
from offchain.channels.model import ChannelError, ErrorCode, Lock, SignedState, State
from offchain.channels.router import Edge, find_route

CID = b"\x07" * 32
KA, KB = "0x" + "a1" * 32, "0x" + "b2" * 32
SA, SB = crypto.Signer(KA), crypto.Signer(KB)
DOM = crypto.Domain(31337, "0x5FbDB2315678afecb367f032d93F642f64180aa3")

leaves_st = st.lists(st.binary(min_size=32, max_size=32), min_size=1, max_size=40)


@settings(max_examples=40, deadline=None)
@given(leaves_st)
def test_merkle_every_leaf_proves_and_others_do_not(leaves):
    r = merkle.root(leaves)
    for i, leaf in enumerate(leaves):
        path = merkle.proof(leaves, i)
        assert merkle.verify(path, r, leaf, i)
        if path and path[0] != leaf:
            assert not merkle.verify(path, r, leaf, i ^ 1)  # positional: one index per leaf
    outsider = keccak(b"outsider" + b"".join(leaves))
    assert not merkle.verify(merkle.proof(leaves, 0), r, outsider, 0)


def test_merkle_empty_and_bad_index():
    assert merkle.root([]) == merkle.ZERO
    with pytest.raises(IndexError):
        merkle.proof([b"\x01" * 32], 1)


@settings(max_examples=60, deadline=None)
@given(
    st.integers(0, 255),
    st.integers(0, 2**256 - 1),
    st.binary(min_size=32, max_size=32),
    st.integers(0, 2**64 - 1),
)
def test_lock_leaf_is_the_abi_encoding_hashed(sender, amount, hashlock, expiry):
    """The direct word concatenation equals keccak(abi.encode(...)) as the contract hashes it."""
    from eth_abi import encode

    want = keccak(
        encode(["uint8", "uint256", "bytes32", "uint64"], [sender, amount, hashlock, expiry])
    )
    assert merkle.lock_leaf(sender, amount, hashlock, expiry) == want
    lock = Lock(min(sender, 1), amount, hashlock, expiry)
    first = lock.leaf()  # hashed once, then kept on the frozen lock
    assert lock.leaf() is first
    assert first == merkle.lock_leaf(lock.sender, lock.amount, lock.hashlock, lock.expiry)
    twin = Lock(lock.sender, lock.amount, lock.hashlock, lock.expiry)
    assert twin == lock and hash(twin) == hash(lock)  # the kept leaf is no part of equality
    s = State(CID, 1, 0, 0, (lock,))
    assert s.locks_root == lock.leaf() == merkle.root([lock.leaf()])


@pytest.mark.parametrize(
    "args",
    [
        (256, 1, b"\x01" * 32, 1),  # sender above uint8
        (-1, 1, b"\x01" * 32, 1),
        (0, 2**256, b"\x01" * 32, 1),  # amount above uint256
        (0, 1, b"\x01" * 31, 1),  # hashlock not 32 bytes
        (0, 1, b"\x01" * 32, 2**64),  # expiry above uint64
        (0, True, b"\x01" * 32, 1),  # a bool is not an amount
    ],
)
def test_lock_leaf_refuses_values_outside_their_abi_types(args):
    with pytest.raises(ValueError, match="lock"):
        merkle.lock_leaf(*args)


locks_st = st.builds(
    Lock,
    st.integers(0, 1),
    st.integers(1, 10**30),
    st.binary(min_size=32, max_size=32),
    st.integers(0, 2**64 - 1),
)


@settings(max_examples=40, deadline=None)
@given(
    st.integers(0, 2**64 - 1),
    st.integers(0, 2**200),
    st.integers(0, 2**200),
    st.lists(locks_st, max_size=5),
)
def test_state_json_roundtrip(nonce, a, b, locks):
    s = State(CID, nonce, a, b, tuple(sorted(locks, key=lambda x: x.leaf())))
    assert State.from_json(s.to_json()) == s
    signed = SignedState(s, SA.sign(b"\x01" * 32), SB.sign(b"\x02" * 32))
    assert SignedState.from_json(signed.to_json()) == signed


@pytest.mark.parametrize(
    "bad",
    [
        None,
        {"channel_id": "0x12", "nonce": 0, "balance_a": 0, "balance_b": 0},
        {"channel_id": "0x" + "00" * 32, "nonce": -1, "balance_a": 0, "balance_b": 0},
        {"channel_id": "0x" + "00" * 32, "nonce": True, "balance_a": 0, "balance_b": 0},
        {"channel_id": "0x" + "00" * 32, "nonce": 0, "balance_a": "1", "balance_b": 0},
        {"channel_id": "0x" + "zz" * 32, "nonce": 0, "balance_a": 0, "balance_b": 0},
        {"channel_id": "0x" + "00" * 32, "nonce": 0, "balance_a": 0, "balance_b": 0, "locks": 5},
    ],
)
def test_state_decoding_rejects_bad_input(bad):
    with pytest.raises(ChannelError):
        State.from_json(bad)


def view(me: int, a_bal=100, b_bal=50) -> ChannelView:
    return ChannelView(
        CID,
        me,
        SA.address,
        SB.address,
        "0x" + "00" * 20,
        SignedState(State(CID, 0, a_bal, b_bal), b"", b""),
    )


SECRET = b"\x33" * 32
H = keccak(SECRET)


def test_apply_op_rules():
    s = State(CID, 0, 100, 50)
    assert machine.apply_op(s, Pay(30), 0, 0) == State(CID, 1, 70, 80)
    with pytest.raises(ChannelError, match="too small"):
        machine.apply_op(s, Pay(51), 1, 0)
    with pytest.raises(ChannelError, match="positive"):
        machine.apply_op(s, Pay(0), 0, 0)
    lock = Lock(0, 10, H, 1000)
    s1 = machine.apply_op(s, AddLock(lock), 0, 10)
    assert (s1.balance_a, s1.locked_amount, s1.total()) == (90, 10, 150)
    with pytest.raises(ChannelError, match="sender"):
        machine.apply_op(s, AddLock(lock), 1, 10)
    with pytest.raises(ChannelError, match="expiry"):
        machine.apply_op(s, AddLock(lock), 0, 1000)
    with pytest.raises(ChannelError, match="already pending"):
        machine.apply_op(s1, AddLock(lock), 0, 10)
    with pytest.raises(ChannelError, match="receiver"):
        machine.apply_op(s1, Claim(H, SECRET), 0, 10)
    with pytest.raises(ChannelError, match="secret"):
        machine.apply_op(s1, Claim(H, b"\x34" * 32), 1, 10)
    with pytest.raises(ChannelError, match="expired"):
        machine.apply_op(s1, Claim(H, SECRET), 1, 1001)
    claimed = machine.apply_op(s1, Claim(H, SECRET), 1, 999)
    assert (claimed.balance_a, claimed.balance_b, claimed.locks) == (90, 60, ())
    cancelled = machine.apply_op(s1, Cancel(H), 1, 10)
    assert (cancelled.balance_a, cancelled.balance_b) == (100, 50)
    with pytest.raises(ChannelError, match="receiver"):
        machine.apply_op(s1, Cancel(H), 0, 10)
    with pytest.raises(ChannelError, match="expires at"):
        machine.apply_op(s1, Expire(H), 0, 1000)
    with pytest.raises(ChannelError, match="sender"):
        machine.apply_op(s1, Expire(H), 1, 1001)
    assert machine.apply_op(s1, Expire(H), 0, 1001).balance_a == 100
    with pytest.raises(ChannelError, match="no pending lock"):
        machine.apply_op(s, Cancel(H), 1, 0)


ops_st = st.lists(
    st.tuples(
        st.integers(0, 1),
        st.sampled_from(["pay", "lock", "claim", "cancel", "expire"]),
        st.integers(1, 60),
        st.integers(0, 3),
    ),
    max_size=25,
)


@settings(max_examples=60, deadline=None)
@given(ops_st)
def test_random_ops_conserve_funds_and_never_half_apply(ops):
    """Whatever sequence of (valid or invalid) operations, the total is conserved, the nonce
    rises by one per accepted op, and a rejected op leaves the state untouched."""
    secrets = [bytes([i + 1]) * 32 for i in range(4)]
    s = State(CID, 0, 100, 50)
    now = 100
    for actor, kind, amount, k in ops:
        h = keccak(secrets[k])
        op = {
            "pay": Pay(amount),
            "lock": AddLock(Lock(actor, amount, h, now + 50)),
            "claim": Claim(h, secrets[k]),
            "cancel": Cancel(h),
            "expire": Expire(h),
        }[kind]
        now += 7
        try:
            nxt = machine.apply_op(s, op, actor, now)
        except ChannelError:
            continue
        assert nxt.nonce == s.nonce + 1
        assert nxt.total() == 150
        assert nxt.balance_a >= 0 and nxt.balance_b >= 0
        s = nxt


def test_propose_receive_ack_roundtrip_and_conflicts():
    va, vb = view(0), view(1)
    va2, ev = machine.propose(va, Pay(10), SA, DOM, 0)
    upd = ev[0]
    with pytest.raises(ChannelError, match="in flight"):
        machine.propose(va2, Pay(1), SA, DOM, 0)
    vb2, evb = machine.receive_update(vb, Pay(10), upd.nonce, upd.sig, SB, DOM, 0)
    ack = evb[0]
    va3, _ = machine.receive_ack(va2, ack.nonce, ack.sig, DOM)
    assert va3.latest == vb2.latest and va3.pending is None
    d = crypto.state_digest(DOM, va3.latest.state)
    assert crypto.recover(d, va3.latest.sig_a) == SA.address
    assert crypto.recover(d, va3.latest.sig_b) == SB.address
    # replays and forgeries
    with pytest.raises(ChannelError, match="not the next"):
        machine.receive_update(vb2, Pay(10), upd.nonce, upd.sig, SB, DOM, 0)
    with pytest.raises(ChannelError, match="matches no update"):
        machine.receive_ack(va3, ack.nonce, ack.sig, DOM)
    with pytest.raises(ChannelError, match="signature"):
        machine.receive_update(vb2, Pay(10), 2, SB.sign(b"\x00" * 32), SB, DOM, 0)
    # simultaneous proposals: A rejects B's, B yields to A's
    va4, ea = machine.propose(va3, Pay(1), SA, DOM, 0)
    vb3, eb = machine.propose(vb2, Pay(2), SB, DOM, 0)
    with pytest.raises(ChannelError, match="conflict"):
        machine.receive_update(va4, Pay(2), eb[0].nonce, eb[0].sig, SA, DOM, 0)
    vb4, _ = machine.receive_update(vb3, Pay(1), ea[0].nonce, ea[0].sig, SB, DOM, 0)
    assert vb4.pending is None and vb4.latest.state.balance_b == 61


def test_view_json_roundtrip_and_adjust_state():
    va, _ = machine.propose(view(0), AddLock(Lock(0, 5, H, 99)), SA, DOM, 0)
    assert machine.view_from_json(machine.view_to_json(va)) == va
    with pytest.raises(ChannelError, match="in flight"):
        machine.adjusted_state(va, 0, 1, 0)
    s = machine.adjusted_state(view(0), 1, 7, 3)
    assert (s.nonce, s.balance_b) == (1, 54)
    with pytest.raises(ChannelError, match="too small"):
        machine.adjusted_state(view(0), 1, 0, 51)


def test_signatures_low_s_only():
    d = b"\x42" * 32
    sig = SA.sign(d)
    s = int.from_bytes(sig[32:64], "big")
    assert s <= crypto.HALF_N
    high = sig[:32] + (crypto.SECP256K1_N - s).to_bytes(32, "big") + bytes([55 - sig[64]])
    with pytest.raises(ChannelError, match="high"):
        crypto.recover(d, high)
    with pytest.raises(ChannelError, match="65 bytes"):
        crypto.recover(d, sig[:64])
    with pytest.raises(ChannelError, match="v must"):
        crypto.recover(d, sig[:64] + b"\x05")


def test_wire_envelope():
    raw = wire.seal(wire.Sync(5, CID), SA)
    sender, msg = wire.open_envelope(raw[4:])
    assert sender == SA.address and msg == wire.Sync(5, CID)
    tampered = raw[4:].replace(CID, b"\x08" * 32)
    with pytest.raises(ChannelError, match="signature") as e:
        wire.open_envelope(tampered)
    assert e.value.code == ErrorCode.BAD_SIGNATURE


def test_router_picks_cheapest_path_with_capacity():
    a, b, c, d, e = "0xa", "0xb", "0xc", "0xd", "0xe"
    edges = [
        Edge(a, b, 1000),
        Edge(b, d, 1000, base_fee=5),
        Edge(a, c, 1000),
        Edge(c, d, 1000, base_fee=1, fee_ppm=1000),
        Edge(a, e, 1000),
        Edge(e, d, 50),  # cheapest but too small
    ]
    route = find_route(edges, a, d, 100)
    assert [h.node for h in route] == [c, d]
    assert route[0].amount == 100 + 1 and route[1].amount == 100
    with pytest.raises(ChannelError, match="no route"):
        find_route(edges, a, d, 5000)
    with pytest.raises(ChannelError, match="same"):
        find_route(edges, a, a, 1)
    with pytest.raises(ChannelError, match="positive"):
        find_route(edges, a, d, 0)


@settings(max_examples=30, deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(0, 5), st.integers(0, 5), st.integers(0, 200), st.integers(0, 3)),
        max_size=20,
    ),
    st.integers(1, 100),
)
def test_router_routes_respect_capacity_and_fees(raw, amount):
    edges = [Edge(f"0x{u}", f"0x{v}", cap, base_fee=fee) for u, v, cap, fee in raw if u != v]
    try:
        route = find_route(edges, "0x0", "0x5", amount)
    except ChannelError:
        return
    assert route[-1].node == "0x5" and route[-1].amount == amount
    prev = "0x0"
    for hop in route:
        caps = [e.capacity for e in edges if e.src == prev and e.dst == hop.node]
        assert caps and max(caps) >= hop.amount
        prev = hop.node
    for i in range(len(route) - 1):  # each intermediary gets exactly its fee
        assert route[i].amount >= route[i + 1].amount


@settings(max_examples=80, deadline=None)
@given(st.one_of(st.binary(max_size=300), st.text(max_size=200).map(str.encode)))
def test_envelope_fuzz_only_channel_errors(raw):
    """Arbitrary bytes from the network either open as a signed envelope or raise ChannelError."""
    with contextlib.suppress(ChannelError):
        wire.open_envelope(raw)


json_st = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=10),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner),
    max_leaves=12,
)


@settings(max_examples=80, deadline=None)
@given(json_st)
def test_decoders_fuzz_only_channel_errors(obj):
    for decode in (State.from_json, Lock.from_json, SignedState.from_json, machine.op_from_json):
        with contextlib.suppress(ChannelError):
            decode(obj)


# ------------------------------------------------------ unauthenticated input, linear cost

ADVERSARIAL_FRAMES = {
    # msgpack arrays nested as deep as the frame allows (fixarray of one element)
    "deep nesting": b"\x91" * (wire.MAX_FRAME - 1) + b"\xc0",
    "long string claims": b"\xdb\xff\xff\xff\xff" + b"a" * (wire.MAX_FRAME - 5),
    "huge array claims": b"\xdd\xff\xff\xff\xff" + b"\xc0" * (wire.MAX_FRAME - 5),
    "many maps": b"\xdc\xff\xff" + b"\x80" * (wire.MAX_FRAME - 3),
}


@pytest.mark.parametrize("raw", ADVERSARIAL_FRAMES.values(), ids=ADVERSARIAL_FRAMES.keys())
def test_unauthenticated_input_linear_cost_frame_rejected_fast(raw):
    """Everything that runs before the signature check is linear in the frame and typed: a
    full-size frame built to nest deeply or to claim huge lengths is refused as MALFORMED in
    well under a second, before any signature work."""
    import time

    assert len(raw) <= wire.MAX_FRAME
    t0 = time.perf_counter()
    with pytest.raises(ChannelError) as e:
        wire.open_envelope(raw)
    assert e.value.code == ErrorCode.MALFORMED
    assert time.perf_counter() - t0 < 0.5
