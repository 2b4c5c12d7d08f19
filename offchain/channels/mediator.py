"""The pure mediator: what a node decides about hash-locked transfers it pays, forwards or takes.

As in Raiden's mediator, every decision is a function of the inputs, without I/O; the node
executes what comes back (proposes an update, cancels upstream, goes on chain). Rules (spec,
section 6):

- **Expiries** shrink by `hop_delta` per hop towards the payee, the last one `final_margin +
  hop_delta` in the future (`plan_payment`).
- **Fees**: an intermediary asks `base_fee + out_amount * fee_ppm / 10^6` (`fee`).
- **Admission** of an incoming lock (`admit_lock`): as payee, only for an unpaid invoice we hold
  the secret of, paying at least its amount, with `final_margin` left; as intermediary, only if
  `in.amount >= out.amount + fee`, `in.expiry - out.expiry >= hop_delta`, the outgoing lock has
  `final_margin` left and our channel to the next node has the capacity. Anything else is
  refused with `ErrorCode.LOCK_REFUSED` before we co-sign.
- **A failed forward** (`after_forward_failure`): nothing was delivered downstream (peer
  unreachable, or refused and no proposal of ours left) → give the incoming lock back at once;
  unknown (no answer, a proposal still pending) → wait for the resynchronisation, after which the
  lock rules (`recovery.plan`) see it either forwarded or orphaned.
- **Going on chain** (`after_claim_refused`): a peer that refuses our claim of a lock whose
  secret we hold will not pay: register the secret and close while the lock has not expired.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from offchain.channels.model import ChannelError, ErrorCode, Lock, RouteHop
from offchain.channels.router import Hop


@dataclass(frozen=True)
class Policy:
    base_fee: int = 0
    fee_ppm: int = 0
    hop_delta: int = 60
    final_margin: int = 30


def fee(policy: Policy, out_amount: int) -> int:
    """The fee an intermediary asks for forwarding `out_amount`."""
    return policy.base_fee + out_amount * policy.fee_ppm // 1_000_000


@dataclass(frozen=True)
class PaymentPlan:
    """The payer's first lock (amount, expiry) and the hops it carries."""

    amount: int
    expiry: int
    route: tuple[RouteHop, ...]


def plan_payment(
    route: list[Hop], now: int, policy: Policy, first_expiry: int | None = None
) -> PaymentPlan:
    """Expiries for a route found by `router.find_route` (first hop first): the payee's lock
    expires `final_margin + hop_delta` from now, each earlier hop `hop_delta` later.
    `first_expiry` overrides the payer's own lock's expiry (tests of the admission rules)."""
    if not route:
        raise ChannelError("a payment needs at least one hop", ErrorCode.INVALID_UPDATE)
    n = len(route)
    expiries = [now + policy.final_margin + policy.hop_delta * (n - i) for i in range(n)]
    if first_expiry is not None:
        expiries[0] = first_expiry
    hops = tuple(
        RouteHop(h.node, h.amount, e) for h, e in zip(route[1:], expiries[1:], strict=True)
    )
    return PaymentPlan(route[0].amount, expiries[0], hops)


@dataclass(frozen=True)
class Invoice:
    """What the node knows of its own invoice for a hashlock."""

    amount: int
    secret_known: bool
    paid: bool


@dataclass(frozen=True)
class TakeAsPayee:
    """The lock pays one of our invoices: co-sign it (and claim it with the secret)."""


@dataclass(frozen=True)
class Forward:
    """Co-sign the incoming lock, then offer `lock` to `hop.node` carrying `rest`."""

    hop: RouteHop
    rest: tuple[RouteHop, ...]


Admission = TakeAsPayee | Forward


def _refuse(why: str) -> ChannelError:
    return ChannelError(why, ErrorCode.LOCK_REFUSED)


def admit_lock(
    lock: Lock,
    route: tuple[RouteHop, ...],
    now: int,
    policy: Policy,
    invoice: Invoice | None,
    capacity_to: int | None,
) -> Admission:
    """Whether we co-sign an incoming `lock` carrying `route` (the hops after us). `invoice` is
    ours for the lock's hashlock (None if we have none); `capacity_to` is our balance in the
    open channel to the route's next node (None if we have no such channel)."""
    if not route:
        if invoice is None or not invoice.secret_known:
            raise _refuse("no invoice for this hashlock")
        if invoice.paid:
            raise _refuse("this invoice is already paid: ask the payee for a new one")
        if lock.amount < invoice.amount:
            raise _refuse(f"lock pays {lock.amount}, the invoice asks {invoice.amount}")
        if lock.expiry - now < policy.final_margin:
            raise _refuse("the lock expires too soon to be claimed safely")
        return TakeAsPayee()
    nxt = route[0]
    need = nxt.amount + fee(policy, nxt.amount)
    if lock.amount < need:
        raise _refuse(f"the fee is too low: need {need}, got {lock.amount}")
    if lock.expiry - nxt.expiry < policy.hop_delta:
        raise _refuse("incoming and outgoing expiries are too close")
    if nxt.expiry - now < policy.final_margin:
        raise _refuse("the lock expires too soon to be forwarded")
    if capacity_to is None:
        raise _refuse(f"no open channel to the next hop {nxt.node}")
    if capacity_to < nxt.amount:
        raise _refuse("not enough capacity on the next channel")
    return Forward(nxt, route[1:])


class ForwardFailure(Enum):
    UNREACHABLE = "unreachable"  # nothing was delivered
    REFUSED = "refused"  # the next node answered no (or we could not propose)
    NO_ANSWER = "no_answer"  # delivered, but no answer: it may have co-signed


@dataclass(frozen=True)
class CancelUpstream:
    """Give the incoming lock back to the upstream peer now."""


@dataclass(frozen=True)
class AwaitResync:
    """Do nothing now: the lock rules decide once the channel is resynchronised."""


def after_forward_failure(
    failure: ForwardFailure, proposal_pending: bool
) -> CancelUpstream | AwaitResync:
    if failure is ForwardFailure.UNREACHABLE:
        return CancelUpstream()
    if failure is ForwardFailure.REFUSED and not proposal_pending:
        return CancelUpstream()
    return AwaitResync()


@dataclass(frozen=True)
class GoOnChain:
    """Register the secret on chain (if it is not) and close the channel."""


@dataclass(frozen=True)
class Nothing:
    """Nothing to do (the lock was settled meanwhile, or it expired)."""


def after_claim_refused(
    lock: Lock | None, we_receive: bool, closed: bool, has_chain: bool, now: int
) -> GoOnChain | Nothing:
    """Our claim of an incoming lock whose secret we hold was refused by the peer."""
    if lock is None or not we_receive or closed or not has_chain:
        return Nothing()  # settled meanwhile (e.g. by a resync), or nothing we can enforce
    if now > lock.expiry:
        return Nothing()  # too late for the secret to count on chain
    return GoOnChain()
