"""The node-to-node wire, version 2: typed msgpack messages in signed, length-prefixed frames.

Frame: a 4-byte big-endian length (1 .. MAX_FRAME), then the msgpack `Envelope`
`[version, sender (20 bytes), sig (65 bytes), body (bytes)]`; `body` is the msgpack encoding of
one `Message` (a tagged union, tag first), and `sig` signs keccak(MESSAGE_PREFIX || body), i.e.
the exact bytes received: nothing is re-encoded before the signature check. Decoding is strict
(msgspec): wrong types, sizes out of range, unknown tags, unknown error codes and extra fields
are all `ChannelError(MALFORMED)` before any handler runs. docs/channels-spec.md, section 7, is
the normative description; tests/channels/test_channels_wire.py holds the test vectors.
"""

from __future__ import annotations

import asyncio
from typing import Annotated

import msgspec

from offchain.channels import crypto
from offchain.channels.model import (
    ChannelError,
    ErrorCode,
    Lock,
    SignedState,
    State,
    sort_locks,
)

WIRE_VERSION = 2
MAX_FRAME = 1 << 18  # 256 KiB: a full update (64 locks, 64-op batch) is under 16 KiB
MAX_OPS = 256  # operations in one update (one nonce)
MAX_ROUTE = 20  # hops carried by a lock
MAX_REASON = 512  # characters of an error's human-readable reason

Bytes20 = Annotated[bytes, msgspec.Meta(min_length=20, max_length=20)]
Bytes32 = Annotated[bytes, msgspec.Meta(min_length=32, max_length=32)]
Sig = Annotated[bytes, msgspec.Meta(min_length=65, max_length=65)]
MaybeSig = Annotated[bytes, msgspec.Meta(max_length=65)]  # empty for the unsigned anchor
U64 = Annotated[int, msgspec.Meta(ge=0)]  # msgpack integers end at 2**64 - 1
# uint256 amounts: msgpack integers stop at 64 bits, so amounts travel as minimal big-endian
# bytes (b"" is 0; a leading zero byte is refused: one value, one encoding)
U256 = Annotated[bytes, msgspec.Meta(max_length=32)]
Party = Annotated[int, msgspec.Meta(ge=0, le=1)]
ReqId = Annotated[int, msgspec.Meta(ge=0, le=2**63 - 1)]


def u256(v: int) -> bytes:
    return v.to_bytes((v.bit_length() + 7) // 8, "big")


def from_u256(b: bytes, what: str = "amount") -> int:
    if b[:1] == b"\0":
        raise ChannelError(f"{what} has a leading zero byte (not minimal)", ErrorCode.MALFORMED)
    return int.from_bytes(b, "big")


class _S(msgspec.Struct, array_like=True, frozen=True, forbid_unknown_fields=True):
    pass


class WLock(_S, frozen=True):
    sender: Party
    amount: U256
    hashlock: Bytes32
    expiry: U64


class WState(_S, frozen=True):
    channel_id: Bytes32
    nonce: U64
    balance_a: U256
    balance_b: U256
    locks: Annotated[list[WLock], msgspec.Meta(max_length=64)]


class WSigned(_S, frozen=True):
    state: WState
    sig_a: MaybeSig
    sig_b: MaybeSig


class Hop(_S, frozen=True):
    """One remaining hop of a routed lock: the next node, what it is to receive, its expiry."""

    node: Bytes20
    amount: U256
    expiry: U64


# ------------------------------------------------------------------ operations (one update
# carries 1..MAX_OPS of them, applied in order, giving one state with one nonce)


class PayOp(_S, frozen=True, tag="pay"):
    amount: U256


class LockOp(_S, frozen=True, tag="lock"):
    lock: WLock
    route: Annotated[list[Hop], msgspec.Meta(max_length=MAX_ROUTE)]  # empty: we are the payee


class ClaimOp(_S, frozen=True, tag="claim"):
    hashlock: Bytes32
    secret: Bytes32


class CancelOp(_S, frozen=True, tag="cancel"):
    hashlock: Bytes32


class ExpireOp(_S, frozen=True, tag="expire"):
    hashlock: Bytes32


WireOp = PayOp | LockOp | ClaimOp | CancelOp | ExpireOp


# ------------------------------------------------------------------ messages


class Update(_S, frozen=True, tag="update"):
    id: ReqId
    channel_id: Bytes32
    nonce: U64
    sig: Sig
    ops: Annotated[list[WireOp], msgspec.Meta(min_length=1, max_length=MAX_OPS)]


class Ack(_S, frozen=True, tag="ack"):
    re: ReqId
    nonce: U64
    sig: Sig


class Error(_S, frozen=True, tag="error"):
    re: ReqId | None
    code: ErrorCode
    reason: Annotated[str, msgspec.Meta(max_length=MAX_REASON)]


class Sync(_S, frozen=True, tag="sync"):
    id: ReqId
    channel_id: Bytes32


class Latest(_S, frozen=True, tag="latest"):
    re: ReqId
    latest: WSigned


class Opened(_S, frozen=True, tag="opened"):
    id: ReqId
    channel_id: Bytes32


class Funded(_S, frozen=True, tag="funded"):
    id: ReqId
    channel_id: Bytes32


class Ok(_S, frozen=True, tag="ok"):
    re: ReqId


class AdjustReq(_S, frozen=True, tag="adjust"):
    id: ReqId
    channel_id: Bytes32
    state: WState
    deposit: U256
    withdrawal: U256
    expiry: U64
    sig: Sig


class AdjustSig(_S, frozen=True, tag="adjust_sig"):
    re: ReqId
    sig: Sig


class Adjusted(_S, frozen=True, tag="adjusted"):
    id: ReqId
    channel_id: Bytes32


class CoopClose(_S, frozen=True, tag="coop_close"):
    id: ReqId
    channel_id: Bytes32
    nonce: U64
    sig: Sig


class CloseSig(_S, frozen=True, tag="close_sig"):
    re: ReqId
    sig: Sig


class Watch(_S, frozen=True, tag="watch"):
    """To a watchtower: the newest co-signed state and a delegation to dispute with it. The
    expiry's range (0 .. 2**63-1, not past) is the tower's check, answered with TOWER_REFUSED."""

    id: ReqId
    signed: WSigned
    delegation_expiry: int  # any msgpack integer: -2**63 .. 2**64 - 1
    delegation_sig: Sig
    addr_a: Bytes20
    addr_b: Bytes20


Hint = Annotated[bytes, msgspec.Meta(min_length=16, max_length=16)]
MAX_BLOB = 8192  # offchain/channels/towerblob.py: a justice of 64 locks is under 6 KiB


class BlobReq(_S, frozen=True, tag="blob"):
    """To a watchtower (tower protocol v2): store an encrypted justice under its hint (a newer
    blob from the same client under the same hint replaces the older one)."""

    id: ReqId
    hint: Hint
    blob: Annotated[bytes, msgspec.Meta(min_length=29, max_length=MAX_BLOB)]


class BlobQuery(_S, frozen=True, tag="blob_query"):
    """To a watchtower: which blob do you hold for me under this hint?"""

    id: ReqId
    hint: Hint


class BlobHeld(_S, frozen=True, tag="blob_held"):
    """The tower's answer to `blob` and `blob_query`: keccak256 of the blob it holds for the
    client under the hint (empty: none), and the client's credit left (fees, u256)."""

    re: ReqId
    digest: Annotated[bytes, msgspec.Meta(max_length=32)]
    credit: U256


Request = (
    Update | Sync | Opened | Funded | AdjustReq | Adjusted | CoopClose | Watch | BlobReq | BlobQuery
)
Reply = Ack | Error | Latest | Ok | AdjustSig | CloseSig | BlobHeld
Message = Request | Reply


class Envelope(_S, frozen=True):
    version: int
    sender: Bytes20
    sig: Sig
    body: Annotated[bytes, msgspec.Meta(max_length=MAX_FRAME)]


_ENC = msgspec.msgpack.Encoder()
_ENVELOPE = msgspec.msgpack.Decoder(Envelope)
_MESSAGE = msgspec.msgpack.Decoder(Message)


# ------------------------------------------------------------------ frames


def encode_body(msg: Message) -> bytes:
    return _ENC.encode(msg)


def seal(msg: Message, signer: crypto.Signer) -> bytes:
    """The frame carrying `msg`, signed by `signer`."""
    body = _ENC.encode(msg)
    sig = signer.sign(crypto.message_digest(body))
    env = _ENC.encode(Envelope(WIRE_VERSION, bytes.fromhex(signer.address[2:]), sig, body))
    if len(env) > MAX_FRAME:
        raise ChannelError(f"message of {len(env)} bytes exceeds the {MAX_FRAME}-byte frame")
    return len(env).to_bytes(4, "big") + env


def decode_body(body: bytes) -> Message:
    try:
        return _MESSAGE.decode(body)
    except (msgspec.DecodeError, UnicodeDecodeError) as e:  # msgspec lets bad UTF-8 through
        raise ChannelError(f"malformed message: {e}", ErrorCode.MALFORMED) from e


def open_envelope(raw: bytes) -> tuple[str, Message]:
    """(sender address, message) of a frame's payload; ChannelError(MALFORMED) if it does not
    decode or is another wire version, BAD_SIGNATURE if the sender did not sign it."""
    try:
        env = _ENVELOPE.decode(raw)
    except (msgspec.DecodeError, UnicodeDecodeError) as e:
        raise ChannelError(f"malformed envelope: {e}", ErrorCode.MALFORMED) from e
    if env.version != WIRE_VERSION:
        raise ChannelError(
            f"wire version {env.version} is not supported (this node speaks {WIRE_VERSION})",
            ErrorCode.MALFORMED,
        )
    sender = crypto.recover(crypto.message_digest(env.body), env.sig)
    if bytes.fromhex(sender[2:]) != env.sender:
        raise ChannelError(
            f"message: signature is by {sender}, not by the sender it names",
            ErrorCode.BAD_SIGNATURE,
        )
    return sender, decode_body(env.body)


async def read_frame(reader: asyncio.StreamReader) -> bytes:
    head = await reader.readexactly(4)
    n = int.from_bytes(head, "big")
    if n == 0 or n > MAX_FRAME:
        raise ChannelError(f"frame length {n} outside 1..{MAX_FRAME}", ErrorCode.MALFORMED)
    return await reader.readexactly(n)


def error(re: int | None, e: ChannelError) -> Error:
    return Error(re, e.code, str(e)[:MAX_REASON])


# ------------------------------------------------------------------ model <-> wire


def lock_to_wire(lock: Lock) -> WLock:
    return WLock(lock.sender, u256(lock.amount), lock.hashlock, lock.expiry)


def lock_from_wire(w: WLock) -> Lock:
    return Lock(w.sender, from_u256(w.amount, "lock.amount"), w.hashlock, w.expiry)


def state_to_wire(s: State) -> WState:
    return WState(
        s.channel_id,
        s.nonce,
        u256(s.balance_a),
        u256(s.balance_b),
        [lock_to_wire(x) for x in s.locks],
    )


def state_from_wire(w: WState) -> State:
    locks = sort_locks(lock_from_wire(x) for x in w.locks)
    if len({x.hashlock for x in locks}) != len(locks):
        raise ChannelError("a state lists one hashlock twice", ErrorCode.MALFORMED)
    return State(
        w.channel_id,
        w.nonce,
        from_u256(w.balance_a, "balance_a"),
        from_u256(w.balance_b, "balance_b"),
        locks,
    )


def signed_to_wire(s: SignedState) -> WSigned:
    return WSigned(state_to_wire(s.state), s.sig_a, s.sig_b)


def signed_from_wire(w: WSigned) -> SignedState:
    return SignedState(state_from_wire(w.state), w.sig_a, w.sig_b)
