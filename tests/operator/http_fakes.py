"""Fakes for the HTTP front's tests: an Admission that records its groups, raw-socket helpers."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Mapping, Sequence
from typing import Any

from offchain.sequencer.core import Rejected
from offchain.sequencer.http_api import hex_field, int_field


class RecordingAdmission:
    """prepare: `amount` (1..2^40) and a 4-byte `signature`; admit_many: accepts in order,
    refuses a repeated `id` ("duplicate") and amount 13 ("bad_nonce"), records group sizes.
    `gate` (an Event) holds admit_many until set; `commit_delay` simulates the fsync."""

    def __init__(self, commit_delay: float = 0.0) -> None:
        self.groups: list[int] = []
        self.accepted: list[int] = []
        self.seen: set[int] = set()
        self.commit_delay = commit_delay
        self.gate = threading.Event()
        self.gate.set()
        self.in_admit = threading.Event()
        self.threads: set[str] = set()

    def prepare(self, body: Mapping[str, Any]) -> tuple[int, int]:
        amount = int_field(dict(body), "amount", 1, 2**40)
        hex_field(dict(body), "signature", 4)
        if body.get("bad_sig"):
            raise Rejected("bad_signature", "the signature is not the sender's")
        return int(body.get("id", amount)), amount

    def admit_many(self, prepared: Sequence[tuple[int, int]]) -> list[Any]:
        self.in_admit.set()
        self.gate.wait()
        self.threads.add(threading.current_thread().name)
        self.groups.append(len(prepared))
        out: list[Any] = []
        for ident, amount in prepared:
            if ident in self.seen:
                out.append(Rejected("duplicate", f"id {ident} was accepted before"))
            elif amount == 13:
                out.append(Rejected("bad_nonce", "unlucky"))
            elif amount == 66:
                out.append(Rejected("frozen", "the rollup is frozen"))
            else:
                self.seen.add(ident)
                out.append(ident)
        if self.commit_delay:
            time.sleep(self.commit_delay)
        self.accepted.extend(x for x in out if isinstance(x, int))
        return [
            {"id": x, "seq": len(self.seen), "status": "pending"} if isinstance(x, int) else x
            for x in out
        ]


def tx(amount: int = 5, ident: int | None = None, **extra: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"amount": amount, "signature": "0x01020304", **extra}
    if ident is not None:
        body["id"] = ident
    return body


def host_port(url: str) -> tuple[str, int]:
    host, port = url.removeprefix("http://").split(":")
    return host, int(port)


def raw_exchange(url: str, data: bytes, half_close: bool = False, wait: float = 5.0) -> bytes:
    """Send raw bytes, read until the server closes (or `wait` passes); returns what came back."""
    sock = socket.create_connection(host_port(url), timeout=wait)
    try:
        sock.sendall(data)
        if half_close:
            sock.shutdown(socket.SHUT_WR)
        out = b""
        while True:
            try:
                chunk = sock.recv(65536)
            except TimeoutError:
                return out
            if not chunk:
                return out
            out += chunk
    finally:
        sock.close()


def answers(raw: bytes) -> list[tuple[int, dict]]:
    """Every (status, JSON body) in a raw HTTP/1.1 byte stream."""
    found = []
    while raw:
        head, _, rest = raw.partition(b"\r\n\r\n")
        lines = head.decode().split("\r\n")
        status = int(lines[0].split()[1])
        length = next(
            int(v)
            for k, _, v in (x.partition(": ") for x in lines[1:])
            if k.lower() == "content-length"
        )
        found.append((status, json.loads(rest[:length])))
        raw = rest[length:]
    return found


def post_bytes(body: bytes, length: int | None = None, extra: str = "", path: str = "/tx") -> bytes:
    n = len(body) if length is None else length
    return f"POST {path} HTTP/1.1\r\nHost: x\r\nContent-Length: {n}\r\n{extra}\r\n".encode() + body
