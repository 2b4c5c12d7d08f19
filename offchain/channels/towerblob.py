"""Watchtower blobs (tower protocol v2, pure): states the tower cannot read until a close.

A client does not give the tower its states; for each nonce `k` that its counterparty could close
with, it gives a **blob**: the state to dispute with (and the delegation), encrypted with
ChaCha20-Poly1305 under a key derived from what a close with `k` publishes on chain, and indexed
by a hint derived the same way:

    close data  = channel_id (32) || nonce_k (8, big-endian) || sig_a_k || sig_b_k
    hint        = keccak256("l2kit-tower/hint/v2" || close data)[:16]
    key         = keccak256("l2kit-tower/key/v2"  || close data)
    blob        = iv (12) || ChaCha20-Poly1305(key, iv, justice, aad = "l2kit-tower/v2" || hint)
    justice     = msgpack [1, Signed, delegation_expiry: u64, delegation_sig: bin 65]

Before a close the tower holds random-looking hints and ciphertexts; it learns a channel, its
balances and its delegation only when `close(state k, sig_a_k, sig_b_k)` appears on chain.
`which_blobs` is the upload rule (docs/channels-spec.md, section 8, explains why it skips one
nonce after the anchor).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Annotated

import msgspec
from Crypto.Cipher import ChaCha20_Poly1305

from offchain.channels import crypto, wire
from offchain.channels.model import ChannelError, ErrorCode, SignedState

TOWER_PROTOCOL = 2
JUSTICE_VERSION = 1
HINT_LEN = 16
IV_LEN = 12
TAG_LEN = 16
MAX_BLOB = 8192  # a justice with 64 locks is under 6 KiB
MIN_BLOB = IV_LEN + TAG_LEN + 1
_AAD = b"l2kit-tower/v2"

Sig = Annotated[bytes, msgspec.Meta(min_length=65, max_length=65)]


class Justice(msgspec.Struct, array_like=True, frozen=True, forbid_unknown_fields=True):
    version: int
    signed: wire.WSigned
    delegation_expiry: Annotated[int, msgspec.Meta(ge=0, le=2**63 - 1)]
    delegation_sig: Sig


_DEC = msgspec.msgpack.Decoder(Justice)


@dataclass(frozen=True)
class CloseData:
    """What a unilateral close with one state publishes: its channel, nonce and signatures."""

    channel_id: bytes
    nonce: int
    sig_a: bytes
    sig_b: bytes

    def raw(self) -> bytes:
        return self.channel_id + self.nonce.to_bytes(8, "big") + self.sig_a + self.sig_b

    @staticmethod
    def of(s: SignedState) -> CloseData:
        return CloseData(s.state.channel_id, s.state.nonce, s.sig_a, s.sig_b)


def hint(c: CloseData) -> bytes:
    return crypto.keccak(b"l2kit-tower/hint/v2" + c.raw())[:HINT_LEN]


def key(c: CloseData) -> bytes:
    return crypto.keccak(b"l2kit-tower/key/v2" + c.raw())


def seal_justice(
    close: CloseData, justice: SignedState, dexpiry: int, dsig: bytes, iv: bytes | None = None
) -> tuple[bytes, bytes]:
    """(hint, blob) telling the tower to dispute a close with `close` using `justice`."""
    if justice.state.channel_id != close.channel_id or justice.state.nonce <= close.nonce:
        raise ChannelError("a justice state must be of the same channel and newer than the close")
    body = msgspec.msgpack.encode(
        Justice(JUSTICE_VERSION, wire.signed_to_wire(justice), dexpiry, dsig)
    )
    h = hint(close)
    iv = os.urandom(IV_LEN) if iv is None else iv
    c = ChaCha20_Poly1305.new(key=key(close), nonce=iv)
    c.update(_AAD + h)
    ct, tag = c.encrypt_and_digest(body)
    blob = iv + ct + tag
    if len(blob) > MAX_BLOB:
        raise ChannelError(f"justice blob of {len(blob)} bytes exceeds {MAX_BLOB}")
    return h, blob


@dataclass(frozen=True)
class Opened:
    signed: SignedState
    delegation_expiry: int
    delegation_sig: bytes


def open_justice(close: CloseData, blob: bytes) -> Opened:
    """Decrypt and decode a blob with the close that appeared on chain; ChannelError
    (TOWER_REFUSED) if it is not a justice for this close (garbage, another key, old format)."""
    if not MIN_BLOB <= len(blob) <= MAX_BLOB:
        raise ChannelError("blob size out of range", ErrorCode.TOWER_REFUSED)
    c = ChaCha20_Poly1305.new(key=key(close), nonce=blob[:IV_LEN])
    c.update(_AAD + hint(close))
    try:
        body = c.decrypt_and_verify(blob[IV_LEN:-TAG_LEN], blob[-TAG_LEN:])
        j = _DEC.decode(body)
    except (ValueError, msgspec.DecodeError) as e:
        raise ChannelError(f"blob does not open: {e}", ErrorCode.TOWER_REFUSED) from e
    if j.version != JUSTICE_VERSION:
        raise ChannelError(f"justice version {j.version} unknown", ErrorCode.TOWER_REFUSED)
    signed = wire.signed_from_wire(j.signed)
    if signed.state.channel_id != close.channel_id or signed.state.nonce <= close.nonce:
        raise ChannelError("justice is not newer than the close", ErrorCode.TOWER_REFUSED)
    return Opened(signed, j.delegation_expiry, j.delegation_sig)


def which_blobs(latest_nonce: int, anchor_nonce: int) -> list[int]:
    """Close nonces to (re)upload a blob for, holding the state `latest_nonce` as justice.

    Each close nonce k gets the state k+1 once (a correction) and then k+2 (a proven-stale close:
    the closer forfeits its penalty), so at most two blobs per co-signed state. The anchor's close
    data is public (no signatures), so its blob is readable before any close: it only ever holds
    state anchor+2, and that state's own blob is never uploaded (it would be readable too, and its
    content would open the next, and so on)."""
    m, a = latest_nonce, anchor_nonce
    out = []
    for k in (m - 1, m - 2):
        if k < a or k == a + 2:
            continue
        if k == a and m != a + 2:
            continue
        out.append(k)
    return out
