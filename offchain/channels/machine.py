"""The pure channel state machine.

Operations (`Op`) turn the latest fully signed state into the next one; the same function builds a
proposal and validates a received one, so a peer can never sneak in another change. The channel
view moves through inputs `(view, input) -> (view, events)`; the caller (the node) persists the new
view before it sends what the events ask for.

Protocol rule that the penalty relies on: a node signs nonce n+1 only while holding nonce n with
both signatures (`view.latest`), so a co-signed n+2 proves both held n+1. That is why updates are
not pipelined by nonce (a proposer with n+1 and n+2 in flight could be made to look two nonces
stale by a peer that withholds its acknowledgements): throughput comes from batching instead,
one update carrying many operations (`fold_ops`), with one signature and one fsync per side.

Besides updates the view moves through the on-chain transitions: `begin_adjust` / `resolve_adjust`
(a top-up or withdrawal frozen until it lands or expires), `coop_close_terms` / `mark_closed` /
`reopen` (closing).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from offchain.channels import crypto
from offchain.channels.model import (
    ChannelError,
    ErrorCode,
    Lock,
    RouteHop,
    SignedState,
    State,
    as_int,
    hashlock_of,
    hx,
    sort_locks,
    unhx,
)

MAX_LOCKS = 64  # the adjudicator resolves at most 64 locks per call


# ------------------------------------------------------------------ operations


@dataclass(frozen=True)
class Pay:
    amount: int


@dataclass(frozen=True)
class AddLock:
    lock: Lock
    route: tuple[RouteHop, ...] = ()  # the hops after the receiver (not signed: the mediator's)


@dataclass(frozen=True)
class Claim:
    """The lock's receiver takes it with the secret (before expiry)."""

    hashlock: bytes
    secret: bytes


@dataclass(frozen=True)
class Cancel:
    """The lock's receiver gives it back to the sender (payment failed downstream)."""

    hashlock: bytes


@dataclass(frozen=True)
class Expire:
    """The lock's sender takes back an expired lock."""

    hashlock: bytes


Op = Pay | AddLock | Claim | Cancel | Expire


def op_to_json(op: Op) -> dict:
    match op:
        case Pay(amount):
            return {"kind": "pay", "amount": amount}
        case AddLock(lock, route):
            return {"kind": "lock", "lock": lock.to_json(), "route": [h.to_json() for h in route]}
        case Claim(h, secret):
            return {"kind": "claim", "hashlock": hx(h), "secret": hx(secret)}
        case Cancel(h):
            return {"kind": "cancel", "hashlock": hx(h)}
        case Expire(h):
            return {"kind": "expire", "hashlock": hx(h)}
    raise ChannelError(f"unknown operation {op!r}")


def op_from_json(d: object) -> Op:
    if not isinstance(d, dict):
        raise ChannelError("an operation must be an object")
    kind = d.get("kind")
    if kind == "pay":
        return Pay(as_int(d.get("amount"), "amount"))
    if kind == "lock":
        route = d.get("route", [])
        if not isinstance(route, list):
            raise ChannelError("a lock's route must be a list")
        return AddLock(Lock.from_json(d.get("lock")), tuple(RouteHop.from_json(h) for h in route))
    if kind == "claim":
        return Claim(unhx(d.get("hashlock"), 32, "hashlock"), unhx(d.get("secret"), 32, "secret"))
    if kind == "cancel":
        return Cancel(unhx(d.get("hashlock"), 32, "hashlock"))
    if kind == "expire":
        return Expire(unhx(d.get("hashlock"), 32, "hashlock"))
    raise ChannelError(f"unknown operation kind {kind!r}: use pay, lock, claim, cancel or expire")


def _with_balance(s: State, party: int, delta: int) -> State:
    if party == 0:
        new = s.balance_a + delta
        if new < 0:
            raise ChannelError(f"A's balance {s.balance_a} is too small for {-delta}")
        return replace(s, balance_a=new)
    new = s.balance_b + delta
    if new < 0:
        raise ChannelError(f"B's balance {s.balance_b} is too small for {-delta}")
    return replace(s, balance_b=new)


def apply_op(s: State, op: Op, actor: int, now: int) -> State:
    """The state after `actor` (0 = A, 1 = B) performs `op` on `s`; ChannelError if invalid."""
    if type(op) is Pay:  # the hot path: built directly, no dataclasses.replace
        amount = op.amount
        if amount <= 0:
            raise ChannelError("a payment must be positive")
        if actor == 0:
            if s.balance_a < amount:
                raise ChannelError(f"A's balance {s.balance_a} is too small for {amount}")
            return State(
                s.channel_id, s.nonce + 1, s.balance_a - amount, s.balance_b + amount, s.locks
            )
        if s.balance_b < amount:
            raise ChannelError(f"B's balance {s.balance_b} is too small for {amount}")
        return State(s.channel_id, s.nonce + 1, s.balance_a + amount, s.balance_b - amount, s.locks)
    nxt = replace(s, nonce=s.nonce + 1)
    match op:
        case AddLock(lock, _):
            if lock.sender != actor:
                raise ChannelError("only the lock's sender may add it")
            if lock.amount <= 0:
                raise ChannelError("a lock amount must be positive")
            if lock.expiry <= now:
                raise ChannelError(f"lock expiry {lock.expiry} is not after now ({now})")
            if s.lock(lock.hashlock) is not None:
                raise ChannelError(f"hashlock {hx(lock.hashlock)} is already pending here")
            if len(s.locks) >= MAX_LOCKS:
                raise ChannelError(f"at most {MAX_LOCKS} pending locks per channel")
            nxt = _with_balance(nxt, actor, -lock.amount)
            return replace(nxt, locks=sort_locks((*s.locks, lock)))
        case Claim(h, secret):
            lock = _find(s, h)
            if lock.sender == actor:
                raise ChannelError("only the lock's receiver may claim it")
            if hashlock_of(secret) != h:
                raise ChannelError("the secret does not match the hashlock")
            if now > lock.expiry:
                raise ChannelError("the lock expired: it can only be refunded")
            return _with_balance(_without(nxt, lock), actor, lock.amount)
        case Cancel(h):
            lock = _find(s, h)
            if lock.sender == actor:
                raise ChannelError("only the lock's receiver may cancel it")
            return _with_balance(_without(nxt, lock), lock.sender, lock.amount)
        case Expire(h):
            lock = _find(s, h)
            if lock.sender != actor:
                raise ChannelError("only the lock's sender may expire it")
            if now <= lock.expiry:
                raise ChannelError(f"the lock expires at {lock.expiry}, now is {now}")
            return _with_balance(_without(nxt, lock), actor, lock.amount)
    raise ChannelError(f"unknown operation {op!r}")


def _find(s: State, h: bytes) -> Lock:
    lock = s.lock(h)
    if lock is None:
        raise ChannelError(f"no pending lock with hashlock {hx(h)}")
    return lock


def _without(s: State, lock: Lock) -> State:
    return replace(s, locks=tuple(x for x in s.locks if x != lock))


def apply_ops(s: State, ops: tuple[Op, ...], actor: int, now: int) -> State:
    """The state after `actor` performs every op of one update in order: one nonce up in all.
    ChannelError if any op is invalid (then nothing applies)."""
    if not ops:
        raise ChannelError("an update carries at least one operation", ErrorCode.MALFORMED)
    cur = s
    for op in ops:
        cur = apply_op(cur, op, actor, now)
    return replace(cur, nonce=s.nonce + 1)


def fold_ops(
    s: State, ops: tuple[Op, ...], actor: int, now: int
) -> tuple[State, tuple[int, ...], dict[int, ChannelError]]:
    """Batch building for a proposer: apply each queued op on top of the previous ones, keep
    the ones that apply and say why each other one does not. Returns (the state after the kept
    ops, with nonce + 1; indices kept; {index: error}). The kept ops replayed by `apply_ops`
    give the same state, which is what the receiver checks."""
    cur = s
    kept: list[int] = []
    bad: dict[int, ChannelError] = {}
    for i, op in enumerate(ops):
        try:
            cur = apply_op(cur, op, actor, now)
        except ChannelError as e:
            bad[i] = e
            continue
        kept.append(i)
    return replace(cur, nonce=s.nonce + 1), tuple(kept), bad


# ------------------------------------------------------------------ the channel view


@dataclass(frozen=True)
class Proposal:
    ops: tuple[Op, ...]
    state: State
    my_sig: bytes


@dataclass(frozen=True)
class ChannelView:
    """One participant's view of a channel: the latest co-signed state and its own proposal."""

    channel_id: bytes
    me: int
    addr_a: str
    addr_b: str
    token: str
    latest: SignedState
    pending: Proposal | None = None
    closed: bool = False
    adjusting: State | None = None
    adjust_expiry: int = 0

    @property
    def peer(self) -> str:
        return self.addr_b if self.me == 0 else self.addr_a

    def my_balance(self) -> int:
        return self.latest.state.balance(self.me)

    def peer_balance(self) -> int:
        return self.latest.state.balance(1 - self.me)


# events the node acts on
@dataclass(frozen=True)
class SendUpdate:
    ops: tuple[Op, ...]
    nonce: int
    sig: bytes


@dataclass(frozen=True)
class SendAck:
    nonce: int
    sig: bytes


@dataclass(frozen=True)
class Applied:
    """A new state is fully signed; `op` was performed by `actor`."""

    op: Op
    actor: int
    state: SignedState


Event = SendUpdate | SendAck | Applied


def _signed(view: ChannelView, s: State, mine: bytes, theirs: bytes) -> SignedState:
    return SignedState(s, mine, theirs) if view.me == 0 else SignedState(s, theirs, mine)


def check_usable(view: ChannelView) -> None:
    """ChannelError(FROZEN) if the channel takes no update now (closed, or adjusting)."""
    _check_usable(view)


def _check_usable(view: ChannelView) -> None:
    if view.closed:
        raise ChannelError(
            "the channel is closing or closed on chain: no more updates", ErrorCode.FROZEN
        )
    if view.adjusting is not None:
        raise ChannelError(
            "a top-up/withdrawal is awaiting the chain: wait until it lands or expires",
            ErrorCode.FROZEN,
        )


def propose(
    view: ChannelView,
    ops: Op | tuple[Op, ...],
    signer: crypto.Signer,
    domain: crypto.Domain,
    now: int,
) -> tuple[ChannelView, tuple[Event, ...]]:
    """Build and sign the next state (one op, or a batch applied in order); the view remembers
    it until the peer acknowledges."""
    ops = ops if isinstance(ops, tuple) else (ops,)
    _check_usable(view)
    if view.pending is not None:
        raise ChannelError("an update is already in flight on this channel: wait for its answer")
    s = apply_ops(view.latest.state, ops, view.me, now)
    sig = signer.sign(crypto.state_digest(domain, s))
    return replace(view, pending=Proposal(ops, s, sig)), (SendUpdate(ops, s.nonce, sig),)


def receive_update(
    view: ChannelView,
    ops: Op | tuple[Op, ...],
    nonce: int,
    peer_sig: bytes,
    signer: crypto.Signer,
    domain: crypto.Domain,
    now: int,
) -> tuple[ChannelView, tuple[Event, ...]]:
    """Validate the peer's proposal, co-sign it. On a simultaneous proposal A's wins."""
    ops = ops if isinstance(ops, tuple) else (ops,)
    _check_usable(view)
    expected = view.latest.state.nonce + 1
    if view.pending is not None and (view.me == 0 or nonce != expected):
        # Our own update is in flight: A's wins a tie; and if the peer is already past it,
        # its acknowledgement is still on the way to us. Either way the peer retries.
        raise ChannelError(
            "conflict: an update of ours is in flight; retry after it", ErrorCode.CONFLICT
        )
    if nonce != expected:
        raise ChannelError(
            f"update nonce {nonce} is not the next one ({expected})", ErrorCode.STALE_NONCE
        )
    s = apply_ops(view.latest.state, ops, 1 - view.me, now)
    digest = crypto.state_digest(domain, s)
    crypto.check_sig(digest, peer_sig, view.peer, "update")
    mine = signer.sign(digest)
    signed = _signed(view, s, mine, peer_sig)
    new = replace(view, latest=signed, pending=None)
    applied = tuple(Applied(op, 1 - view.me, signed) for op in ops)
    return new, (SendAck(s.nonce, mine), *applied)


def receive_ack(
    view: ChannelView, nonce: int, peer_sig: bytes, domain: crypto.Domain
) -> tuple[ChannelView, tuple[Event, ...]]:
    """The peer co-signed our proposal: it becomes the latest state."""
    p = view.pending
    if p is None or p.state.nonce != nonce:
        raise ChannelError(f"acknowledgement for nonce {nonce} matches no update in flight")
    crypto.check_sig(crypto.state_digest(domain, p.state), peer_sig, view.peer, "ack")
    signed = _signed(view, p.state, p.my_sig, peer_sig)
    applied = tuple(Applied(op, view.me, signed) for op in p.ops)
    return replace(view, latest=signed, pending=None), applied


def drop_pending(view: ChannelView) -> ChannelView:
    """Forget our unanswered proposal (the peer rejected it or won a conflict)."""
    return replace(view, pending=None)


def view_to_json(v: ChannelView) -> dict:
    return {
        "channel_id": hx(v.channel_id),
        "me": v.me,
        "addr_a": v.addr_a,
        "addr_b": v.addr_b,
        "token": v.token,
        "latest": v.latest.to_json(),
        "pending": None
        if v.pending is None
        else {
            "ops": [op_to_json(op) for op in v.pending.ops],
            "state": v.pending.state.to_json(),
            "sig": hx(v.pending.my_sig),
        },
        "closed": v.closed,
        "adjusting": None if v.adjusting is None else v.adjusting.to_json(),
        "adjust_expiry": v.adjust_expiry,
    }


def view_from_json(d: dict) -> ChannelView:
    p = d.get("pending")
    return ChannelView(
        channel_id=unhx(d["channel_id"], 32),
        me=d["me"],
        addr_a=d["addr_a"],
        addr_b=d["addr_b"],
        token=d["token"],
        latest=SignedState.from_json(d["latest"]),
        pending=None
        if p is None
        else Proposal(
            # "op": a single-operation proposal stored before batching
            tuple(op_from_json(x) for x in p["ops"]) if "ops" in p else (op_from_json(p["op"]),),
            State.from_json(p["state"]),
            unhx(p["sig"]),
        ),
        closed=d.get("closed", False),
        adjusting=None if d.get("adjusting") is None else State.from_json(d["adjusting"]),
        adjust_expiry=d.get("adjust_expiry", 0),
    )


def adjusted_state(view: ChannelView, party: int, deposit: int, withdrawal: int) -> State:
    """The state after `party` deposits and/or withdraws (pure; raises if it overdraws)."""
    _check_usable(view)
    if view.pending is not None:
        raise ChannelError("an update is in flight on this channel: wait for its answer")
    if party not in (0, 1):
        raise ChannelError("party must be 0 (A) or 1 (B)")
    if deposit == 0 and withdrawal == 0:
        raise ChannelError("an adjustment must deposit or withdraw something")
    s = replace(view.latest.state, nonce=view.latest.state.nonce + 1)
    return _with_balance(s, party, deposit - withdrawal)


# ------------------------------------------------------------------ on-chain transitions


def begin_adjust(view: ChannelView, state: State, expiry: int) -> ChannelView:
    """Freeze the channel on a co-signed adjustment until it lands on chain or expires."""
    return replace(view, adjusting=state, adjust_expiry=expiry)


def cancel_adjust(view: ChannelView) -> ChannelView:
    """The adjustment was not co-signed or not sent: unfreeze, nothing changed."""
    return replace(view, adjusting=None, adjust_expiry=0)


def resolve_adjust(view: ChannelView, min_nonce: int, now: int) -> ChannelView:
    """What the chain says of a frozen adjustment: it landed (the chain's minNonce is its nonce:
    its state becomes the unsigned anchor), it expired (dropped), or it is still pending."""
    if view.adjusting is None:
        return view
    if min_nonce == view.adjusting.nonce:
        anchor = SignedState(view.adjusting, b"", b"")
        return replace(view, latest=anchor, adjusting=None, adjust_expiry=0)
    if now > view.adjust_expiry:
        return cancel_adjust(view)
    return view


def coop_close_terms(view: ChannelView, nonce: int | None = None) -> State:
    """The state a cooperative close settles: our latest, with no lock and nothing in flight;
    `nonce` (the initiator's) must be that state's."""
    s = view.latest.state
    if view.closed:
        raise ChannelError("the channel is already closing or closed", ErrorCode.FROZEN)
    if s.locks or view.pending is not None:
        raise ChannelError(
            "cooperative close must be on our latest state, without locks or an update in flight"
        )
    if nonce is not None and nonce != s.nonce:
        raise ChannelError(
            f"cooperative close at nonce {nonce}, our latest is {s.nonce}", ErrorCode.STALE_NONCE
        )
    return s


def mark_closed(view: ChannelView) -> ChannelView:
    """Closing (or closed) on chain: no more updates; the locks resolve on chain."""
    return replace(view, closed=True)


def reopen(view: ChannelView) -> ChannelView:
    """Our close transaction failed: the channel is open again (the timer retries)."""
    return replace(view, closed=False)
