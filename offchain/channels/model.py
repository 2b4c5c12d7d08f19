"""Frozen data types of the channel protocol and their JSON form."""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass, field

from offchain.channels import merkle
from offchain.errors import L2KitError


class ErrorCode(enum.IntEnum):
    """Machine-readable reason of a refusal, sent in the wire's `Error` reply (spec section 7).
    A node decides what to do from the code, never from the text of the reason."""

    MALFORMED = 1  # the frame or message does not decode (types, sizes, unknown tag)
    BAD_SIGNATURE = 2  # an envelope, state, ack or adjustment signature is wrong
    UNKNOWN_CHANNEL = 3  # no such channel here, or the sender is not its counterparty
    STALE_NONCE = 4  # the update's nonce is at or below the latest (a replay)
    CONFLICT = 5  # both sides proposed the same nonce and the receiver's update wins
    INVALID_UPDATE = 6  # the operation does not apply to the latest state (overspend, ...)
    FROZEN = 7  # the channel is closed on chain or an adjustment awaits the chain
    LOCK_REFUSED = 8  # the mediator refuses an incoming lock (fee, expiry, capacity, invoice)
    RELEASE_REFUSED = 9  # the receiver knows the secret: it will not give the lock back
    UNSUPPORTED = 10  # a message type this peer does not take (e.g. not a watchtower request)
    NO_CHAIN = 11  # the request needs the chain and this node has no chain client
    TOWER_REFUSED = 12  # the watchtower does not take this state or delegation
    INTERNAL = 13  # a bug on the answering side; the request changed nothing


class ChannelError(L2KitError, ValueError):
    """An input that the channel protocol rejects; the message says what was wrong, `code`
    says it for programs (and travels in the wire's error reply)."""

    def __init__(self, message: str, code: ErrorCode = ErrorCode.INVALID_UPDATE) -> None:
        super().__init__(message)
        self.code = code


def hx(b: bytes) -> str:
    return "0x" + b.hex()


def unhx(s: object, size: int | None = None, what: str = "value") -> bytes:
    if not isinstance(s, str) or not s.startswith("0x"):
        raise ChannelError(f"{what} must be a 0x-prefixed hex string, got {s!r}")
    try:
        b = bytes.fromhex(s[2:])
    except ValueError as e:
        raise ChannelError(f"{what} is not valid hex: {s!r}") from e
    if size is not None and len(b) != size:
        raise ChannelError(f"{what} must be {size} bytes, got {len(b)}")
    return b


def as_int(v: object, what: str) -> int:
    if not isinstance(v, int) or isinstance(v, bool) or v < 0 or v >= 2**256:
        raise ChannelError(f"{what} must be a non-negative integer below 2**256, got {v!r}")
    return v


def hashlock_of(secret: bytes) -> bytes:
    """The hashlock committed in a lock: keccak256(secret) over the 32-byte secret."""
    return merkle.keccak(secret)


@dataclass(frozen=True)
class Lock:
    """A hash-locked transfer. sender 0 = A pays B, 1 = B pays A."""

    sender: int
    amount: int
    hashlock: bytes
    expiry: int

    def leaf(self) -> bytes:
        # a frozen lock's leaf never changes: hashed once (states sort by it and root over it)
        leaf = self.__dict__.get("_leaf")
        if leaf is None:
            leaf = merkle.lock_leaf(self.sender, self.amount, self.hashlock, self.expiry)
            object.__setattr__(self, "_leaf", leaf)
        return leaf

    def to_json(self) -> dict:
        return {
            "sender": self.sender,
            "amount": self.amount,
            "hashlock": hx(self.hashlock),
            "expiry": self.expiry,
        }

    @staticmethod
    def from_json(d: object) -> Lock:
        if not isinstance(d, dict):
            raise ChannelError("a lock must be an object")
        sender = as_int(d.get("sender"), "lock.sender")
        if sender > 1:
            raise ChannelError(f"lock.sender must be 0 or 1, got {sender}")
        return Lock(
            sender,
            as_int(d.get("amount"), "lock.amount"),
            unhx(d.get("hashlock"), 32, "lock.hashlock"),
            as_int(d.get("expiry"), "lock.expiry"),
        )


@dataclass(frozen=True)
class State:
    """An off-chain channel state. Locks are kept sorted by leaf so the root is canonical."""

    channel_id: bytes
    nonce: int
    balance_a: int
    balance_b: int
    locks: tuple[Lock, ...] = field(default=())

    @property
    def locked_amount(self) -> int:
        return sum(lock.amount for lock in self.locks)

    @property
    def locks_root(self) -> bytes:
        root = self.__dict__.get("_root")
        if root is None:  # a frozen state's root never changes: computed once
            root = merkle.root([lock.leaf() for lock in self.locks])
            object.__setattr__(self, "_root", root)
        return root

    def balance(self, party: int) -> int:
        return self.balance_a if party == 0 else self.balance_b

    def lock(self, hashlock: bytes) -> Lock | None:
        for lock in self.locks:
            if lock.hashlock == hashlock:
                return lock
        return None

    def total(self) -> int:
        return self.balance_a + self.balance_b + self.locked_amount

    def as_tuple(self) -> tuple:
        """The ABI tuple of ChannelAdjudicator.State."""
        return (
            self.channel_id,
            self.nonce,
            self.balance_a,
            self.balance_b,
            self.locks_root,
            self.locked_amount,
        )

    def to_json(self) -> dict:
        return {
            "channel_id": hx(self.channel_id),
            "nonce": self.nonce,
            "balance_a": self.balance_a,
            "balance_b": self.balance_b,
            "locks": [lock.to_json() for lock in self.locks],
        }

    @staticmethod
    def from_json(d: object) -> State:
        if not isinstance(d, dict):
            raise ChannelError("a state must be an object")
        locks = d.get("locks", [])
        if not isinstance(locks, list):
            raise ChannelError("state.locks must be a list")
        return State(
            unhx(d.get("channel_id"), 32, "state.channel_id"),
            as_int(d.get("nonce"), "state.nonce"),
            as_int(d.get("balance_a"), "state.balance_a"),
            as_int(d.get("balance_b"), "state.balance_b"),
            sort_locks(Lock.from_json(x) for x in locks),
        )


@dataclass(frozen=True)
class RouteHop:
    """One remaining hop of a routed lock: the next node, what it receives, its lock's expiry."""

    node: str
    amount: int
    expiry: int

    def to_json(self) -> dict:
        return {"node": self.node, "amount": self.amount, "expiry": self.expiry}

    @staticmethod
    def from_json(d: object) -> RouteHop:
        if not isinstance(d, dict) or not isinstance(d.get("node"), str):
            raise ChannelError("a route hop must be an object with a node address")
        return RouteHop(
            d["node"], as_int(d.get("amount"), "hop.amount"), as_int(d.get("expiry"), "hop.expiry")
        )


def sort_locks(locks: Iterable[Lock]) -> tuple[Lock, ...]:
    return tuple(sorted(locks, key=lambda lock: lock.leaf()))


@dataclass(frozen=True)
class SignedState:
    """A state with both participants' signatures (65 bytes each, r||s||v)."""

    state: State
    sig_a: bytes
    sig_b: bytes

    def to_json(self) -> dict:
        return {"state": self.state.to_json(), "sig_a": hx(self.sig_a), "sig_b": hx(self.sig_b)}

    @staticmethod
    def from_json(d: object) -> SignedState:
        if not isinstance(d, dict):
            raise ChannelError("a signed state must be an object")
        return SignedState(
            State.from_json(d.get("state")),
            unhx(d.get("sig_a"), None, "sig_a"),
            unhx(d.get("sig_b"), None, "sig_b"),
        )
