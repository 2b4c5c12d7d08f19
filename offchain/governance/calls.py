"""Pure encoding and decoding of the calls a timelock operation makes.

A call is named by its canonical signature, ``"setChallengePeriod(uint256)"``; its calldata is
``selector(4) || abi.encode(args)`` where selector = keccak256(signature)[0:4].
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from eth_abi import decode, encode
from eth_utils import keccak, to_checksum_address

from offchain.errors import GovernanceError

_SIGNATURE = re.compile(r"^([A-Za-z_][A-Za-z0-9_]*)\((.*)\)$")


class CallError(GovernanceError):
    """A call signature or argument that cannot be encoded or decoded."""


@dataclass(frozen=True)
class DecodedCall:
    """What a calldata blob does, as far as the known signatures tell."""

    #: Canonical signature, or "" when the selector is unknown.
    signature: str
    #: Decoded arguments (empty when unknown).
    args: tuple[object, ...]
    #: The first 4 bytes of the calldata.
    selector: bytes
    #: Why a known selector could not be decoded ("" when decoded or unknown).
    problem: str = ""

    def describe(self) -> str:
        """One line: ``name(arg, ...)``, ``unknown selector 0x...`` or what failed to decode."""
        if self.problem:
            return f"UNDECODABLE 0x{self.selector.hex()}: {self.problem}"
        if not self.signature:
            return f"unknown selector 0x{self.selector.hex()}"
        name = self.signature.split("(", 1)[0]
        return f"{name}({', '.join(_show(a) for a in self.args)})"


def _show(value: object) -> str:
    if isinstance(value, bytes):
        return "0x" + value.hex()
    if isinstance(value, tuple | list):
        return "[" + ", ".join(_show(v) for v in value) + "]"
    return str(value)


def parse_signature(signature: str) -> tuple[str, list[str]]:
    """Split ``name(t1,t2)`` into the name and the list of ABI types (no nested tuples)."""
    m = _SIGNATURE.match(signature.replace(" ", ""))
    if not m:
        raise CallError(f"{signature!r} is not a function signature: write it as name(type,...)")
    return m.group(1), _split_types(m.group(2), signature)


def _split_types(body: str, signature: str) -> list[str]:
    """Split a parameter list at top-level commas (tuples like ``(uint256,bytes)[]`` stay whole)."""
    types, depth, start = [], 0, 0
    for i, ch in enumerate(body):
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
            if depth < 0:
                raise CallError(f"{signature!r}: unbalanced parentheses")
        elif ch == "," and depth == 0:
            types.append(body[start:i])
            start = i + 1
    if depth != 0:
        raise CallError(f"{signature!r}: unbalanced parentheses")
    if body[start:]:
        types.append(body[start:])
    if any(not t for t in types):
        raise CallError(f"{signature!r}: empty parameter type")
    return types


def selector(signature: str) -> bytes:
    """The 4-byte function selector of a canonical signature."""
    name, types = parse_signature(signature)
    return keccak(text=f"{name}({','.join(types)})")[:4]


def _convert(abi_type: str, text: str) -> object:
    """One command-line argument to the Python value eth_abi expects for `abi_type`."""
    try:
        if abi_type.endswith("[]"):
            inner = abi_type[:-2]
            items = [s for s in text.strip("[]").split(",") if s.strip()]
            return [_convert(inner, s.strip()) for s in items]
        if abi_type.startswith(("uint", "int")):
            return int(text, 0)
        if abi_type == "address":
            return to_checksum_address(text)
        if abi_type == "bool":
            if text.lower() not in ("true", "false", "1", "0"):
                raise ValueError("expected true or false")
            return text.lower() in ("true", "1")
        if abi_type.startswith("bytes"):
            raw = bytes.fromhex(text.removeprefix("0x"))
            if abi_type != "bytes" and len(raw) != int(abi_type[5:]):
                raise ValueError(f"expected {abi_type[5:]} bytes, got {len(raw)}")
            return raw
        if abi_type == "string":
            return text
    except ValueError as e:
        raise CallError(f"argument {text!r} is not a valid {abi_type}: {e}") from e
    raise CallError(f"type {abi_type} is not supported on the command line; pass the raw calldata")


def encode_call(signature: str, args: Sequence[str]) -> bytes:
    """Calldata for `signature` with command-line style arguments (numbers, 0x hex, true/false)."""
    _, types = parse_signature(signature)
    if len(args) != len(types):
        raise CallError(f"{signature} takes {len(types)} argument(s), {len(args)} given")
    values = [_convert(t, a) for t, a in zip(types, args, strict=True)]
    return selector(signature) + encode(types, values)


def signature_table(signatures: Iterable[str]) -> dict[bytes, str]:
    """selector -> signature for a set of known signatures (e.g. every method of the project)."""
    return {selector(s): s for s in signatures}


def decode_call(data: bytes, known: Mapping[bytes, str]) -> DecodedCall:
    """Decode calldata with the known signatures; an unknown or undecodable call says so."""
    sel = bytes(data[:4])
    signature = known.get(sel, "")
    if not signature:
        return DecodedCall("", (), sel)
    _, types = parse_signature(signature)
    body = bytes(data[4:])
    problem = f"arguments are not the canonical ABI encoding for {signature}; read the raw bytes"
    try:
        raw = decode(types, body)
    except Exception:  # malformed arguments: say so rather than guess
        return DecodedCall("", (), sel, problem)
    # INVARIANT: what is shown is exactly what executes: the bytes must re-encode identically
    # (no trailing data, no dirty padding, no truncation some decoders pad silently).
    if encode(types, list(raw)) != body:
        return DecodedCall("", (), sel, problem)
    args = tuple(
        to_checksum_address(v) if t == "address" else v for t, v in zip(types, raw, strict=True)
    )
    return DecodedCall(signature, args, sel)
