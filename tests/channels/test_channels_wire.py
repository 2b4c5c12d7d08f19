"""The v2 wire: test vectors both ways, strict typed decoding with error codes, frame limits, and
the fast EIP-712 digests against eth_account's."""

from __future__ import annotations

import asyncio
import contextlib
import json

import msgspec
import pytest
from eth_account.messages import encode_typed_data
from eth_utils import keccak
from hypothesis import example, given, settings
from hypothesis import strategies as st
from wire_cases import SIGNER, VECTORS, cases, frames

from offchain.channels import crypto, wire
from offchain.channels.model import ChannelError, ErrorCode, Lock, SignedState, State

DOM = crypto.Domain(31337, "0x5FbDB2315678afecb367f032d93F642f64180aa3")


def test_vectors_encode_to_the_committed_frames():
    committed = json.loads(VECTORS.read_text())
    assert committed["wire_version"] == wire.WIRE_VERSION == 2
    assert committed["signer"] == SIGNER.address
    assert frames() == {k: v for k, v in committed.items() if k not in ("wire_version", "signer")}


@pytest.mark.parametrize("name", sorted(cases()))
def test_vectors_decode_to_the_messages(name):
    raw = bytes.fromhex(json.loads(VECTORS.read_text())[name])
    assert int.from_bytes(raw[:4], "big") == len(raw) - 4
    sender, msg = wire.open_envelope(raw[4:])
    assert sender == SIGNER.address
    assert msg == cases()[name]


def signed_body(body: bytes, version: int = wire.WIRE_VERSION) -> bytes:
    sig = SIGNER.sign(crypto.message_digest(body))
    env = wire.Envelope(version, bytes.fromhex(SIGNER.address[2:]), sig, body)
    return msgspec.msgpack.encode(env)


def code_of(raw: bytes) -> ErrorCode:
    with pytest.raises(ChannelError) as e:
        wire.open_envelope(raw)
    return e.value.code


BAD_BODIES = {
    "unknown error code": ["error", 1, 999, "x"],
    "unknown tag": ["steal", 1, b"\0" * 32],
    "int as string": ["sync", "1", b"\0" * 32],
    "short channel id": ["sync", 1, b"\0" * 31],
    "extra field": ["sync", 1, b"\0" * 32, 5],
    "negative nonce": ["ack", 1, -1, b"\1" * 65],
    "short signature": ["ack", 1, 1, b"\1" * 64],
    "amount over 32 bytes": ["update", 1, b"\0" * 32, 1, b"\1" * 65, [["pay", b"\1" * 33]]],
    "no operations": ["update", 1, b"\0" * 32, 1, b"\1" * 65, []],
    "too many operations": [
        "update", 1, b"\0" * 32, 1, b"\1" * 65, [["pay", b"\1"]] * (wire.MAX_OPS + 1)
    ],
    "lock sender 2": [
        "update", 1, b"\0" * 32, 1, b"\1" * 65,
        [["lock", [2, b"\1", b"\0" * 32, 5], []]],
    ],
    "a map, not an array": {"type": "sync", "id": 1},
}  # fmt: skip


@pytest.mark.parametrize("body", BAD_BODIES.values(), ids=BAD_BODIES.keys())
def test_strict_decoding_gives_malformed(body):
    assert code_of(signed_body(msgspec.msgpack.encode(body))) == ErrorCode.MALFORMED


def test_envelope_version_signature_and_minimal_amounts():
    body = wire.encode_body(wire.Sync(1, b"\0" * 32))
    assert code_of(signed_body(body, version=1)) == ErrorCode.MALFORMED
    assert code_of(signed_body(body, version=3)) == ErrorCode.MALFORMED
    env = msgspec.msgpack.decode(signed_body(body))
    env[1] = bytes(20)  # names someone else as the sender
    assert code_of(msgspec.msgpack.encode(env)) == ErrorCode.BAD_SIGNATURE
    env = msgspec.msgpack.decode(signed_body(body))
    env[3] = wire.encode_body(wire.Sync(2, b"\0" * 32))  # body swapped under the signature
    assert code_of(msgspec.msgpack.encode(env)) == ErrorCode.BAD_SIGNATURE
    with pytest.raises(ChannelError) as e:
        wire.from_u256(b"\0\1")
    assert e.value.code == ErrorCode.MALFORMED
    assert wire.from_u256(b"") == 0 and wire.u256(0) == b""
    dup = wire.state_to_wire(State(b"\0" * 32, 1, 0, 0, (Lock(0, 1, b"\2" * 32, 9),) * 2))
    with pytest.raises(ChannelError) as e:
        wire.state_from_wire(dup)
    assert e.value.code == ErrorCode.MALFORMED


def test_frame_size_limits():
    async def run():
        for head in (b"\0\0\0\0", (wire.MAX_FRAME + 1).to_bytes(4, "big")):
            r = asyncio.StreamReader()
            r.feed_data(head + b"\0" * 8)
            with pytest.raises(ChannelError) as e:
                await wire.read_frame(r)
            assert e.value.code == ErrorCode.MALFORMED
        r = asyncio.StreamReader()
        r.feed_data(wire.MAX_FRAME.to_bytes(4, "big") + b"\0" * wire.MAX_FRAME)
        assert len(await wire.read_frame(r)) == wire.MAX_FRAME

    asyncio.run(run())
    huge = wire.Error(1, ErrorCode.INTERNAL, "x" * 100)
    big = wire.Latest(1, wire.WSigned(wire.WState(b"\0" * 32, 1, b"", b"", []), b"", b""))
    assert wire.seal(huge, SIGNER) and wire.seal(big, SIGNER)
    too_big = wire.Update(1, b"\0" * 32, 1, b"\1" * 65, [wire.PayOp(b"\1" * 32)] * 9000)
    with pytest.raises(ChannelError, match="exceeds"):
        wire.seal(too_big, SIGNER)
    # and a decoder refuses a long reason even if someone else encoded it
    long_reason = msgspec.msgpack.encode(["error", 1, 5, "x" * (wire.MAX_REASON + 1)])
    assert code_of(signed_body(long_reason)) == ErrorCode.MALFORMED


lock_st = st.builds(
    Lock,
    st.integers(0, 1),
    st.integers(1, 2**256 - 1),
    st.binary(min_size=32, max_size=32),
    st.integers(0, 2**64 - 1),
)
state_st = st.builds(
    State,
    st.binary(min_size=32, max_size=32),
    st.integers(0, 2**64 - 1),
    st.integers(0, 2**256 - 1),
    st.integers(0, 2**256 - 1),
    st.lists(lock_st, max_size=4, unique_by=lambda x: x.hashlock).map(
        lambda xs: tuple(sorted(xs, key=lambda x: x.leaf()))
    ),
)


@settings(max_examples=60, deadline=None)
@given(state_st)
def test_state_roundtrips_through_the_wire(s):
    signed = SignedState(s, b"\1" * 65, b"")
    msg = wire.Latest(3, wire.signed_to_wire(signed))
    _, back = wire.open_envelope(wire.seal(msg, SIGNER)[4:])
    assert wire.signed_from_wire(back.latest) == signed


@settings(max_examples=150, deadline=None)
@given(st.binary(max_size=400))
@example(b"\x91\xa5\x00\x00\x00\x00\x80")  # a tag that is not UTF-8 (msgspec: UnicodeDecodeError)
def test_arbitrary_bytes_only_channel_errors(raw):
    with contextlib.suppress(ChannelError):
        wire.open_envelope(raw)
    with contextlib.suppress(ChannelError):
        wire.decode_body(raw)


# ------------------------------------------------------------------ EIP-712 fast path


def eth_account_digest(primary: str, types: dict, message: dict) -> bytes:
    data = {
        "types": {
            "EIP712Domain": [
                {"name": "name", "type": "string"},
                {"name": "version", "type": "string"},
                {"name": "chainId", "type": "uint256"},
                {"name": "verifyingContract", "type": "address"},
            ],
            **types,
        },
        "primaryType": primary,
        "domain": {
            "name": DOM.name,
            "version": DOM.version,
            "chainId": DOM.chain_id,
            "verifyingContract": DOM.contract,
        },
        "message": message,
    }
    m = encode_typed_data(full_message=data)
    return keccak(b"\x19" + m.version + m.header + m.body)


STATE_FIELDS = [
    {"name": "channelId", "type": "bytes32"},
    {"name": "nonce", "type": "uint64"},
    {"name": "balanceA", "type": "uint256"},
    {"name": "balanceB", "type": "uint256"},
    {"name": "locksRoot", "type": "bytes32"},
    {"name": "lockedAmount", "type": "uint256"},
]


def state_msg(s: State) -> dict:
    return {
        "channelId": s.channel_id,
        "nonce": s.nonce,
        "balanceA": s.balance_a,
        "balanceB": s.balance_b,
        "locksRoot": s.locks_root,
        "lockedAmount": s.locked_amount,
    }


@settings(max_examples=40, deadline=None)
@given(
    state_st,
    st.integers(0, 1),
    st.integers(0, 2**256 - 1),
    st.integers(0, 2**256 - 1),
    st.integers(0, 2**64 - 1),
)
def test_fast_digests_equal_eth_account(s, party, dep, wd, expiry):
    if s.balance_a + s.balance_b + s.locked_amount >= 2**256:
        return
    assert crypto.state_digest(DOM, s) == eth_account_digest(
        "State", {"State": STATE_FIELDS}, state_msg(s)
    )
    adjust = [
        {"name": "state", "type": "State"},
        {"name": "party", "type": "uint8"},
        {"name": "deposit", "type": "uint256"},
        {"name": "withdrawal", "type": "uint256"},
        {"name": "expiry", "type": "uint64"},
    ]
    assert crypto.adjust_digest(DOM, s, party, dep, wd, expiry) == eth_account_digest(
        "Adjust",
        {"Adjust": adjust, "State": STATE_FIELDS},
        {"state": state_msg(s), "party": party, "deposit": dep, "withdrawal": wd, "expiry": expiry},
    )
    coop = [
        {"name": "channelId", "type": "bytes32"},
        {"name": "nonce", "type": "uint64"},
        {"name": "balanceA", "type": "uint256"},
        {"name": "balanceB", "type": "uint256"},
    ]
    got = crypto.coop_digest(DOM, s.channel_id, s.nonce, s.balance_a, s.balance_b)
    assert got == eth_account_digest(
        "CooperativeClose",
        {"CooperativeClose": coop},
        {
            k: v
            for k, v in state_msg(s).items()
            if k in ("channelId", "nonce", "balanceA", "balanceB")
        },
    )
    tower = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"
    deleg = [
        {"name": "channelId", "type": "bytes32"},
        {"name": "watchtower", "type": "address"},
        {"name": "expiry", "type": "uint64"},
    ]
    assert crypto.delegation_digest(DOM, s.channel_id, tower, expiry) == eth_account_digest(
        "Delegation",
        {"Delegation": deleg},
        {"channelId": s.channel_id, "watchtower": tower, "expiry": expiry},
    )
