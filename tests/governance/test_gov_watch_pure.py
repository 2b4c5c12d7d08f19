"""Pure governance logic: call encoding/decoding and the watcher's fold over timelock events."""

import pytest
from eth_abi import encode
from hypothesis import given
from hypothesis import strategies as st

from offchain.governance.calls import (
    CallError,
    decode_call,
    encode_call,
    parse_signature,
    selector,
    signature_table,
)
from offchain.governance.operations import Call, operation_id
from offchain.governance.watch import Cancelled, Executed, Salt, Scheduled, Status, changes, pending

TARGET = "0x00000000000000000000000000000000000000aa"
KNOWN = signature_table(
    ["setChallengePeriod(uint256)", "sweep(address)", "f((uint256,bytes)[],bool)"]
)


def _sched(op: bytes, at: int, delay: int, index: int = 0, data: bytes = b"") -> Scheduled:
    return Scheduled(op, index, TARGET, 0, data, b"\x00" * 32, delay, at)


def test_selector_matches_the_abi_rule():
    assert selector("transfer(address,uint256)").hex() == "a9059cbb"


@given(st.integers(min_value=0, max_value=2**256 - 1))
def test_encode_then_decode_gives_the_same_call(n):
    data = encode_call("setChallengePeriod(uint256)", [str(n)])
    d = decode_call(data, KNOWN)
    assert d.signature == "setChallengePeriod(uint256)" and d.args == (n,)
    assert d.describe() == f"setChallengePeriod({n})"


def test_tuple_parameters_decode():
    data = selector("f((uint256,bytes)[],bool)") + encode(
        ["(uint256,bytes)[]", "bool"], [[(1, b"\x02")], True]
    )
    d = decode_call(data, KNOWN)
    assert d.args == (((1, b"\x02"),), True)
    assert parse_signature("f((uint256,bytes)[],bool)")[1] == ["(uint256,bytes)[]", "bool"]


def test_unknown_or_malformed_calls_say_so():
    assert decode_call(b"\xde\xad\xbe\xef", KNOWN).describe() == "unknown selector 0xdeadbeef"
    good = encode_call("setChallengePeriod(uint256)", ["5"])
    for bad in (good[:-1], good + b"\x00", good[:4] + b"\x01"):  # truncated, trailing bytes
        d = decode_call(bad, KNOWN)
        assert d.signature == "" and d.describe().startswith("UNDECODABLE 0x")


@pytest.mark.parametrize(
    ("sig", "args"),
    [
        ("setChallengePeriod(uint256)", []),
        ("setChallengePeriod(uint256)", ["x"]),
        ("sweep(address)", ["0x12"]),
        ("notasignature", []),
        ("f(bytes4)", ["0x0102"]),
        ("f(bool)", ["maybe"]),
        ("f((uint256,bytes))", ["1"]),
        ("f(uint256", ["1"]),
    ],
)
def test_bad_command_line_calls_are_refused_with_the_reason(sig, args):
    with pytest.raises(CallError):
        encode_call(sig, args)


def test_operation_id_matches_the_timelock_hashing():
    # the same encoding OZ hashOperation uses; checked against the chain in the Anvil tests
    c = Call(TARGET, 0, b"\x01")
    assert operation_id([c]) != operation_id([c], batch=True)
    assert operation_id([c], salt=b"\x01" * 32) != operation_id([c])


def test_status_follows_time_and_events():
    op = b"\x01" * 32
    evs = [_sched(op, 1000, 500)]
    assert changes(evs, 1200, 100)[0].status is Status.WAITING
    assert changes(evs, 1500, 100)[0].status is Status.READY
    assert changes([*evs, Executed(op, 0)], 1500, 100)[0].status is Status.DONE
    assert changes([*evs, Cancelled(op)], 1200, 100)[0].status is Status.CANCELLED


def test_a_rescheduled_operation_after_a_cancel_is_live_again():
    op = b"\x02" * 32
    evs = [_sched(op, 1000, 500), Cancelled(op), _sched(op, 2000, 500)]
    [c] = changes(evs, 2100, 100)
    assert c.status is Status.WAITING and c.ready_at == 2500


def test_batch_calls_are_grouped_in_index_order_with_their_salt():
    op = b"\x03" * 32
    a = _sched(op, 10, 100, 1, encode_call("sweep(address)", [TARGET]))
    b = _sched(op, 10, 100, 0, encode_call("setChallengePeriod(uint256)", ["7"]))
    [c] = changes([a, b, Salt(op, b"\x09" * 32)], 20, 5, KNOWN)
    assert c.batch and [d.signature for d in c.decoded] == [
        "setChallengePeriod(uint256)",
        "sweep(address)",
    ]
    assert c.salt == b"\x09" * 32


@given(
    at=st.integers(0, 2**40),
    delay=st.integers(0, 2**32),
    exit_time=st.integers(0, 2**32),
    elapsed=st.integers(0, 2**33),
)
def test_time_left_to_exit_is_ready_at_minus_now_minus_exit_time(at, delay, exit_time, elapsed):
    now = at + elapsed
    [c] = changes([_sched(b"\x04" * 32, at, delay)], now, exit_time)
    assert c.ready_at == at + delay
    assert c.time_left_to_exit == at + delay - now - exit_time
    assert c.seconds_until_ready == max(at + delay - now, 0)
    # a user starting to exit with time_left >= 0 is out no later than the change can execute
    if c.time_left_to_exit >= 0:
        assert now + exit_time <= c.ready_at
    assert (c in pending([c])) == (c.status in (Status.WAITING, Status.READY))


def _facts(**kw):
    from offchain.governance.stage import Facts

    base = dict(
        wired=True,
        upgrade_delay_s=38 * 86400,
        exit_time_s=8 * 86400,
        council_members=9,
        council_threshold=7,
        council_needs_proven_bug=True,
        permissionless_proofs=True,
        forced_exit=True,
    )
    return Facts(**{**base, **kw})


@pytest.mark.parametrize(
    ("kw", "expected"),
    [
        ({}, 2),
        ({"wired": False}, 0),
        ({"upgrade_delay_s": 37 * 86400}, 1),  # exit window 29 days
        ({"upgrade_delay_s": 15 * 86400 - 1}, 0),  # exit window just under 7 days
        ({"council_needs_proven_bug": False}, 1),
        ({"council_threshold": 6}, 0),  # 6 of 9 < 75%
        ({"council_members": 7, "council_threshold": 7}, 0),
        ({"zk": True, "trusted_setup_ok": False}, 0),  # single-party Groth16 keys
        ({"zk": True}, 2),
    ],
)
def test_stage_follows_the_l2beat_requirements(kw, expected):
    from offchain.governance.stage import stage

    assert stage(_facts(**kw)) == expected
