"""Pure rules for a node's locks over time: what to do with each pending lock, now.

The node's timer (and its start-up recovery) calls `plan` with what it knows and executes the
actions it returns; nothing here does I/O, so each rule is unit-tested on its own. The rules:

- **Secret known, claim it.** An incoming lock whose secret we hold (learned from downstream, from
  the chain, or our own invoice once we decided to claim it) is claimed off chain while it has not
  expired; from `expiry - reveal_margin` on, the secret is registered on chain and the channel
  closed, so the adjudicator pays us even if the peer never co-signs.
- **Never give back a lock whose secret we know** (`may_release`): no `Cancel` of such a lock, and
  no co-signature on the sender's `Expire` unless the lock expired without the secret on chain
  by its expiry (the adjudicator would refund the sender then anyway).
- **A closed channel still binds.** Closing moves a channel's locks to the adjudicator, it does
  not end them: an incoming lock there is ours on chain if the secret is registered by its
  expiry, so a secret we know (whenever we learn it) is registered while `now <= expiry`
  (`RevealOnChain`; the executor skips the close, which already happened); and an outgoing lock
  there can still be taken by the peer with the secret until its expiry.
- **Orphans are cancelled at once.** An incoming lock that we neither forward (no outgoing lock or
  proposal with its hashlock, no forward in flight) nor are paid for (no invoice) can never be
  claimed by us; it is given back without waiting for its expiry. Only decided once every open
  channel was synchronised with its peer since start, so a lock forwarded just before a crash
  (co-signed downstream, lost here) is seen first.
- **Forwarded into a closed channel: released only once the downstream cannot take it.** While
  an outgoing lock with the hashlock sits in a closed channel and has not expired, the incoming
  lock is forwarded, not an orphan. After that expiry it is `CancelRefunded`: the executor
  gives it back upstream only if the chain shows no secret registered (the adjudicator then
  refunds our outgoing lock to us), otherwise the secret is ours to claim upstream with.
- **Expired outgoing locks are taken back** (`Expire`), driven by the timer.
- **Leftover proposals are resynchronised** with the peer (it may have co-signed them).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from offchain.channels.machine import AddLock, Cancel, ChannelView, Expire, Op
from offchain.channels.model import ChannelError, ErrorCode, Lock, hx


@dataclass(frozen=True)
class ClaimOffchain:
    channel_id: bytes
    hashlock: bytes
    secret: bytes


@dataclass(frozen=True)
class RevealOnChain:
    """Register the secret on chain (if it is not) and close the channel (once)."""

    channel_id: bytes
    hashlock: bytes
    secret: bytes


@dataclass(frozen=True)
class CancelOrphan:
    channel_id: bytes
    hashlock: bytes


@dataclass(frozen=True)
class CancelRefunded:
    """Give back an incoming lock whose only forward sits in a closed channel past `expiry`,
    if the chain shows no secret registered for it (then that forward is refunded to us)."""

    channel_id: bytes
    hashlock: bytes
    expiry: int


@dataclass(frozen=True)
class ExpireOutgoing:
    channel_id: bytes
    hashlock: bytes


@dataclass(frozen=True)
class Resync:
    channel_id: bytes


Action = ClaimOffchain | RevealOnChain | CancelOrphan | CancelRefunded | ExpireOutgoing | Resync


@dataclass(frozen=True)
class Knowledge:
    """What the node knows besides its channel views."""

    secrets: Mapping[bytes, bytes]  # hashlock -> secret we are entitled to claim with
    invoices: frozenset[bytes]  # hashlocks of our own invoices (we are the payee)
    routing: frozenset[bytes]  # hashlocks with a forward in flight right now
    busy: frozenset[bytes]  # channels with an update of ours in flight right now
    synced: bool  # every open channel was synchronised with its peer since start
    registered: frozenset[bytes] = frozenset()  # hashlocks whose secret we saw on chain


def plan(views: Iterable[ChannelView], k: Knowledge, now: int, reveal_margin: int) -> list[Action]:
    """The actions due now, in a stable order (claims and reveals first: they protect funds)."""
    views = list(views)
    live: set[bytes] = set()  # forwards the downstream may still take: never an orphan's
    closed_out: dict[bytes, int] = {}  # forwards in closed channels past expiry -> latest expiry
    for v in views:
        for lock in v.latest.state.locks:
            if lock.sender != v.me:
                continue
            if not v.closed or now <= lock.expiry:
                live.add(lock.hashlock)
            else:
                closed_out[lock.hashlock] = max(lock.expiry, closed_out.get(lock.hashlock, 0))
        if not v.closed and v.pending is not None:  # a batch: any of its locks
            live.update(op.lock.hashlock for op in v.pending.ops if isinstance(op, AddLock))
    first: list[Action] = []
    rest: list[Action] = []
    for v in views:
        cid = v.channel_id
        if v.closed:
            first.extend(_closed_channel(v, k, now))
            continue
        if v.pending is not None and cid not in k.busy:
            rest.append(Resync(cid))
            continue  # decide on this channel's locks once it is in sync
        for lock in v.latest.state.locks:
            h = lock.hashlock
            if lock.sender == v.me:
                if now > lock.expiry:
                    rest.append(ExpireOutgoing(cid, h))
                continue
            secret = k.secrets.get(h)
            if secret is not None:
                if now >= lock.expiry - reveal_margin:  # also after expiry: the executor asks
                    # the chain whether the secret made it in time, and closes only if it did
                    first.append(RevealOnChain(cid, h, secret))
                else:
                    first.append(ClaimOffchain(cid, h, secret))
            elif (
                k.synced
                and h not in k.invoices
                and h not in live
                and h not in k.routing
                and cid not in k.busy
            ):
                if h in closed_out:
                    rest.append(CancelRefunded(cid, h, closed_out[h]))
                else:
                    rest.append(CancelOrphan(cid, h))
    return first + rest


def _closed_channel(v: ChannelView, k: Knowledge, now: int) -> list[Action]:
    """A closed channel takes no more updates; only the chain can still pay our incoming locks:
    register every secret we know for them while it still counts (by the lock's expiry)."""
    return [
        RevealOnChain(v.channel_id, lock.hashlock, k.secrets[lock.hashlock])
        for lock in v.latest.state.locks
        if lock.sender != v.me
        and lock.hashlock in k.secrets
        and lock.hashlock not in k.registered
        and now <= lock.expiry
    ]


def may_release(lock: Lock, op: Op, secret_known: bool, revealed_at: int) -> None:
    """Raise ChannelError if we, the receiver of `lock`, must not sign `op` (Cancel or Expire)
    because we know its secret. `revealed_at` is the secret's on-chain registration time (0 if
    not registered)."""
    if not secret_known or not isinstance(op, Cancel | Expire):
        return
    if isinstance(op, Expire) and not (0 < revealed_at <= lock.expiry):
        return  # expired and the secret missed the chain: the adjudicator refunds it anyway
    raise ChannelError(
        f"we know the secret of lock {hx(lock.hashlock)}: it is claimed, not given back; "
        "settle it with the secret (or on chain)",
        ErrorCode.RELEASE_REFUSED,
    )
