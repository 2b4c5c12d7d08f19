"""The messages of the wire test vectors (tests/channels/vectors/wire_v2.json), built from fixed
inputs; `python tests/channels/wire_cases.py` rewrites the vectors after an intended change (and
the wire version must then change too)."""

from __future__ import annotations

import json
from pathlib import Path

from offchain.channels import crypto, wire
from offchain.channels.model import ErrorCode, Lock, SignedState, State

KEY = "0x" + "a1" * 32
SIGNER = crypto.Signer(KEY)
CID = bytes(range(32))
H = bytes(range(32, 64))
SECRET = bytes(range(64, 96))
SIG = bytes([0x11] * 64 + [27])
PEER = bytes.fromhex("70997970C51812dc3A010C7d01b50e0d17dc79C8")
LOCK = Lock(0, 10**18 + 5, H, 1_700_000_000)
STATE = State(CID, 7, 3 * 10**18, 2**200, (LOCK,))
VECTORS = Path(__file__).parent / "vectors" / "wire_v2.json"


def cases() -> dict[str, wire.Message]:
    lock = wire.lock_to_wire(LOCK)
    hop = wire.Hop(PEER, wire.u256(10**18), 1_699_999_940)
    signed = wire.signed_to_wire(SignedState(STATE, SIG, SIG))
    return {
        "update_pay": wire.Update(1, CID, 8, SIG, [wire.PayOp(wire.u256(1000))]),
        "update_batch": wire.Update(
            2,
            CID,
            9,
            SIG,
            [
                wire.PayOp(wire.u256(0)),
                wire.LockOp(lock, [hop]),
                wire.ClaimOp(H, SECRET),
                wire.CancelOp(H),
                wire.ExpireOp(H),
            ],
        ),
        "ack": wire.Ack(2, 9, SIG),
        "error": wire.Error(3, ErrorCode.CONFLICT, "conflict: retry"),
        "error_no_request": wire.Error(None, ErrorCode.MALFORMED, "malformed envelope"),
        "sync": wire.Sync(4, CID),
        "latest": wire.Latest(4, signed),
        "opened": wire.Opened(5, CID),
        "ok": wire.Ok(5),
        "adjust": wire.AdjustReq(
            6, CID, wire.state_to_wire(STATE), wire.u256(10**18), b"", 1_700_000_600, SIG
        ),
        "adjust_sig": wire.AdjustSig(6, SIG),
        "coop_close": wire.CoopClose(7, CID, 7, SIG),
        "watch": wire.Watch(8, signed, 2**40, SIG, PEER, PEER),
        "blob": wire.BlobReq(9, b"\x11" * 16, b"\x22" * 64),
        "blob_query": wire.BlobQuery(10, b"\x11" * 16),
        "blob_held": wire.BlobHeld(10, b"\x33" * 32, wire.u256(10**15)),
    }


def frames() -> dict[str, str]:
    """Each case as the full frame (length, envelope) signed with KEY, in hex."""
    return {name: wire.seal(msg, SIGNER).hex() for name, msg in cases().items()}


if __name__ == "__main__":
    VECTORS.write_text(
        json.dumps(
            {"wire_version": wire.WIRE_VERSION, "signer": SIGNER.address, **frames()}, indent=1
        )
        + "\n"
    )
    print(f"wrote {VECTORS}")
