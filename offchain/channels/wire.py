"""Length-prefixed, signed JSON messages over asyncio streams.

Frame: 4-byte big-endian length, then UTF-8 JSON {"body": {...}, "from": addr, "sig": hex}.
`sig` signs keccak(prefix || canonical body) with the sender's node key.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import re

from offchain.channels import crypto
from offchain.channels.model import ChannelError, hx, unhx

MAX_FRAME = 1 << 20
MAX_DEPTH = 32  # nesting of arrays/objects; the protocol needs 6


# One JSON string, or an unterminated one up to the end. Linear time: the possessive `*+` never
# backtracks, so no input (e.g. an unterminated run of `\"` pairs) makes the scan quadratic.
# Everything here runs before the signature check, on any bytes a stranger sends.
_STRING = re.compile(rb'"(?:[^"\\]|\\.)*+(?:"|\Z)', re.S)
_NOT_BRACKETS = bytes(b for b in range(256) if b not in b"[]{}")


def check_depth(raw: bytes, limit: int = MAX_DEPTH) -> None:
    """Raise ChannelError if the JSON text `raw` nests arrays/objects deeper than `limit`.
    Checked on the bytes before parsing: a deeply nested message must never reach the parser,
    whose C recursion can overflow the stack (a crash, not an exception) when the interpreter's
    recursion limit is raised."""
    brackets = _STRING.sub(b'""', raw).translate(None, _NOT_BRACKETS)
    if brackets.count(b"[") + brackets.count(b"{") <= limit:
        return
    steps = (1 if c in b"[{" else -1 for c in brackets)
    if max(itertools.accumulate(steps), default=0) > limit:
        raise ChannelError(f"message nests deeper than {limit} levels")


def canonical(body: dict) -> bytes:
    return json.dumps(body, sort_keys=True, separators=(",", ":")).encode()


def seal(body: dict, signer: crypto.Signer) -> bytes:
    sig = signer.sign(crypto.message_digest(canonical(body)))
    raw = json.dumps({"body": body, "from": signer.address, "sig": hx(sig)}).encode()
    return len(raw).to_bytes(4, "big") + raw


def open_envelope(raw: bytes) -> tuple[str, dict]:
    """(sender address, body) of a frame's payload; raises ChannelError if malformed or unsigned."""
    check_depth(raw)
    try:
        env = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as e:
        raise ChannelError(f"message is not JSON: {e}") from e
    except RecursionError as e:  # cannot happen after check_depth; kept as a second fence
        raise ChannelError(f"message nests deeper than {MAX_DEPTH} levels") from e
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
