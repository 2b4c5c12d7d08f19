"""Length-prefixed, signed JSON messages over asyncio streams.

Frame: 4-byte big-endian length, then UTF-8 JSON {"body": {...}, "from": addr, "sig": hex}.
`sig` signs keccak(prefix || canonical body) with the sender's node key.
"""

from __future__ import annotations

import asyncio
import json

from offchain.channels import crypto
from offchain.channels.model import ChannelError, hx, unhx

MAX_FRAME = 1 << 20


def canonical(body: dict) -> bytes:
    return json.dumps(body, sort_keys=True, separators=(",", ":")).encode()


def seal(body: dict, signer: crypto.Signer) -> bytes:
    sig = signer.sign(crypto.message_digest(canonical(body)))
    raw = json.dumps({"body": body, "from": signer.address, "sig": hx(sig)}).encode()
    return len(raw).to_bytes(4, "big") + raw


def open_envelope(raw: bytes) -> tuple[str, dict]:
    """(sender address, body) of a frame's payload; raises ChannelError if malformed or unsigned."""
    try:
        env = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as e:
        raise ChannelError(f"message is not JSON: {e}") from e
    if not isinstance(env, dict) or not isinstance(env.get("body"), dict):
        raise ChannelError("message must be an object with a 'body' object")
    sender = env.get("from")
    if not isinstance(sender, str):
        raise ChannelError("message has no 'from' address")
    sig = unhx(env.get("sig"), 65, "message signature")
    crypto.check_sig(crypto.message_digest(canonical(env["body"])), sig, sender, "message")
    return sender, env["body"]


async def read_frame(reader: asyncio.StreamReader) -> bytes:
    head = await reader.readexactly(4)
    n = int.from_bytes(head, "big")
    if n == 0 or n > MAX_FRAME:
        raise ChannelError(f"frame length {n} outside 1..{MAX_FRAME}")
    return await reader.readexactly(n)
