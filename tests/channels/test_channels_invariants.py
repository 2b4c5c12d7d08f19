"""Invariants I1-I4 of ChannelAdjudicator (its NatSpec, docs/channels-spec.md) under random
sequences of open / fund / off-chain payments and locks / adjust (top-up, withdrawal) /
cooperative close / close (latest or stale) / dispute / settle / registerSecret / unlock / claim,
plus a state replayed on another channel. Checked after every operation:

- I1: an open or closing channel's `total` is what the contract holds for it, and a closing
  channel's recorded balanceA + balanceB + lockedAmount equals it;
- I2: channel ids are all distinct, the counter grew by one per open, and a state signed for one
  channel is refused on another;
- I3: no channel pays out more than it received, and the adjudicator's ETH balance is exactly
  what its channels still hold plus what is claimable;
- I4: payouts of cooperative closes, settlements and unlocks reach the participants in the same
  transaction (checked inside those operations: their balances grow by the evented payouts,
  nothing is deferred to `claimable`).
"""

from __future__ import annotations

import random
import traceback
from dataclasses import dataclass, field

import ape
import pytest
from channels_helpers import ETH, PERIOD, opened_id
from eth_utils import keccak

from offchain.channels import crypto, merkle
from offchain.channels.model import Lock, State

pytestmark = pytest.mark.slow  # random operation sequences on Anvil (three seeds, ~15 s each)

UNIT = 10**16
AMOUNTS = (1, 3, 10)  # in UNIT
LOCK_LIFETIME = 500
#: A deadline nearer than this to the latest block is not asserted either way: the next block's
#: time runs with the wall clock (a loaded machine can add seconds between two transactions).
MARGIN = 30
SEEDS = (1, 2, 3)
STEPS = 150  # operations per seed (each seed about 15 s here)


@dataclass
class Channel:
    cid: bytes
    received: int = 0  # everything deposited into it
    paid: int = 0  # everything paid out or credited to claimable from it
    status: str = "open"  # open, closing, settled
    states: list[State] = field(default_factory=list)  # co-signed, by nonce
    min_nonce: int = 0  # the last adjusted nonce: older states are void
    closer: int = -1
    secret: bytes | None = None  # of the pending lock of the latest state, if any
    settled_locks: tuple[Lock, ...] = ()  # locks left pending by the settled state
    unlocked: set[bytes] = field(default_factory=set)
    funded: bool = False
    closed_with: State | None = None  # the state on record while closing

    @property
    def on_record(self) -> State:
        assert self.closed_with is not None
        return self.closed_with

    @property
    def latest(self) -> State:
        return self.states[-1]

    @property
    def held(self) -> int:
        return self.received - self.paid


def _state(cid: bytes, nonce: int, a: int, b: int, locks: tuple[Lock, ...] = ()) -> State:
    return State(cid, nonce, a, b, tuple(sorted(locks, key=lambda x: x.leaf())))


@pytest.mark.parametrize("seed", SEEDS)
def test_invariants_i1_to_i4_hold_under_random_operations(
    seed, chain, adjudicator, domain, sig_alice, sig_bob, alice, bob, carol
):
    parties = (alice, bob)
    w3 = chain.provider.web3

    def now() -> int:
        return w3.eth.get_block("latest")["timestamp"]

    def cosigned(s: State) -> tuple:
        d = crypto.state_digest(domain, s)
        return s.as_tuple(), sig_alice.sign(d), sig_bob.sign(d)

    def claimable_total() -> int:
        return sum(adjudicator.claimable(ETH, p) for p in (alice, bob, carol))

    class Payouts:
        """I4: balances of A and B around a transaction carol sends."""

        def __init__(self) -> None:
            self.before = [p.balance for p in parties]
            self.claimable = [adjudicator.claimable(ETH, p) for p in parties]

        def check(self, expected: tuple[int, int]) -> None:
            gained = tuple(p.balance - b for p, b in zip(parties, self.before, strict=True))
            assert gained == expected, "a payout did not reach its participant at once"
            assert [adjudicator.claimable(ETH, p) for p in parties] == self.claimable

    class Adjudicator:
        def __init__(self) -> None:
            self.snapshot = chain.snapshot()
            self.count0 = adjudicator.channelCount()
            self.channels: list[Channel] = []
            self.claimable0 = claimable_total()
            self.balance0 = w3.eth.get_balance(adjudicator.address)
            self.credited = 0  # adjust withdrawals credited to claimable
            self.claimed = 0

        def _pick(self, pick: int, status: str) -> Channel | None:
            live = [c for c in self.channels if c.status == status]
            return live[pick % len(live)] if live else None

        # ------------------------------------------------------------ funding

        def open(self, amount):
            value = amount * UNIT
            r = adjudicator.open(bob, ETH, PERIOD, value, sender=alice, value=value)
            cid = opened_id(r)
            ch = Channel(cid, received=value)
            ch.states.append(_state(cid, 0, value, 0))
            self.channels.append(ch)

        def fund(self, pick, amount):
            ch = self._pick(pick, "open")
            if ch is None:
                return
            value = amount * UNIT
            if ch.funded:
                with ape.reverts(adjudicator.FundingClosed):
                    adjudicator.fund(ch.cid, value, sender=bob, value=value)
                return
            adjudicator.fund(ch.cid, value, sender=bob, value=value)
            ch.funded = True
            ch.received += value
            s = ch.latest
            # the anchor moves to (deposit A, deposit B); the payments so far are re-signed on it
            ch.states.append(_state(ch.cid, s.nonce + 1, s.balance_a, s.balance_b + value, s.locks))

        def adjust(self, pick, party, amount):
            ch = self._pick(pick, "open")
            if ch is None or ch.latest.locks:
                return
            s = ch.latest
            mine = s.balance_a if party == 0 else s.balance_b
            withdraw = min(mine, amount * UNIT) if pick % 2 else 0
            deposit = 0 if withdraw else amount * UNIT
            delta = deposit - withdraw
            a = s.balance_a + (delta if party == 0 else 0)
            b = s.balance_b + (delta if party == 1 else 0)
            new = _state(ch.cid, s.nonce + 1, a, b)
            expiry = now() + 1000
            d = crypto.adjust_digest(domain, new, party, deposit, withdraw, expiry)
            args = (new.as_tuple(), party, deposit, withdraw, expiry)
            if deposit == 0 and withdraw == 0:
                with ape.reverts(adjudicator.ZeroAmount):
                    adjudicator.adjust(args, sig_alice.sign(d), sig_bob.sign(d), sender=carol)
                return
            adjudicator.adjust(
                args, sig_alice.sign(d), sig_bob.sign(d), sender=parties[party], value=deposit
            )
            ch.received += deposit
            ch.paid += withdraw
            self.credited += withdraw
            ch.funded = True
            ch.min_nonce = new.nonce
            ch.states.append(new)

        # ------------------------------------------------------ off-chain updates

        def pay(self, pick, to_b, amount):
            ch = self._pick(pick, "open")
            if ch is None:
                return
            s = ch.latest
            x = min(amount * UNIT, s.balance_a if to_b else s.balance_b)
            a, b = (
                (s.balance_a - x, s.balance_b + x) if to_b else (s.balance_a + x, s.balance_b - x)
            )
            ch.states.append(_state(ch.cid, s.nonce + 1, a, b, s.locks))

        def lock(self, pick, amount):
            ch = self._pick(pick, "open")
            if ch is None or ch.latest.locks:
                return
            s = ch.latest
            x = min(amount * UNIT, s.balance_a)
            if x == 0:
                return
            ch.secret = keccak(text=f"{ch.cid.hex()}-{s.nonce}")
            held = Lock(0, x, keccak(ch.secret), now() + LOCK_LIFETIME)
            ch.states.append(_state(ch.cid, s.nonce + 1, s.balance_a - x, s.balance_b, (held,)))

        def register_secret(self, pick):
            live = [c for c in self.channels if c.secret is not None]
            if not live:
                return
            ch = live[pick % len(live)]
            secret, ch.secret = ch.secret, None
            if adjudicator.secretRevealedAt(keccak(secret)) != 0:
                with ape.reverts(adjudicator.SecretAlreadyRegistered):
                    adjudicator.registerSecret(secret, sender=carol)
                return
            adjudicator.registerSecret(secret, sender=carol)

        # ---------------------------------------------------------------- closing

        def cooperative_close(self, pick):
            ch = self._pick(pick, "open")
            if ch is None or ch.latest.locks:
                return
            s = ch.latest
            nonce = s.nonce + 1
            d = crypto.coop_digest(domain, ch.cid, nonce, s.balance_a, s.balance_b)
            args = (ch.cid, nonce, s.balance_a, s.balance_b)
            if pick % 3 == 0:  # the sums must match what the channel holds
                bad = (ch.cid, nonce, s.balance_a + 1, s.balance_b)
                bd = crypto.coop_digest(domain, ch.cid, nonce, s.balance_a + 1, s.balance_b)
                with ape.reverts(adjudicator.BalanceMismatch):
                    adjudicator.cooperativeClose(
                        bad, sig_alice.sign(bd), sig_bob.sign(bd), sender=carol
                    )
            paid = Payouts()
            adjudicator.cooperativeClose(args, sig_alice.sign(d), sig_bob.sign(d), sender=carol)
            paid.check((s.balance_a, s.balance_b))
            ch.paid += s.balance_a + s.balance_b
            ch.status = "settled"

        def close(self, pick, closer, back):
            ch = self._pick(pick, "open")
            if ch is None:
                return
            valid = [
                s
                for s in ch.states
                if s.nonce >= ch.min_nonce
                and s.balance_a + s.balance_b + s.locked_amount == ch.held
            ]
            s = valid[max(0, len(valid) - 1 - back)]  # possibly stale
            adjudicator.close(*cosigned(s), sender=parties[closer])
            ch.status, ch.closer, ch.closed_with = "closing", closer, s

        def dispute(self, pick):
            ch = self._pick(pick, "closing")
            if ch is None:
                return
            peer = parties[1 - ch.closer]
            left = adjudicator.getChannel(ch.cid).deadline - now()
            if left < 0:
                with ape.reverts(adjudicator.ChallengeOver):
                    adjudicator.dispute(*cosigned(ch.latest), sender=peer)
            elif left <= MARGIN:
                return
            elif ch.latest.nonce <= ch.on_record.nonce:
                with ape.reverts(adjudicator.StaleNonce):
                    adjudicator.dispute(*cosigned(ch.latest), sender=peer)
            else:
                adjudicator.dispute(*cosigned(ch.latest), sender=peer)
                ch.closed_with = ch.latest

        def wait(self, seconds):
            w3.provider.make_request("evm_mine", [now() + seconds])

        def settle(self, pick):
            ch = self._pick(pick, "closing")
            if ch is None:
                return
            left = adjudicator.getChannel(ch.cid).deadline - now()
            if left > MARGIN:
                with ape.reverts(adjudicator.ChallengeRunning):
                    adjudicator.settle(ch.cid, sender=carol)
                return
            if left >= 0:
                return
            paid = Payouts()
            r = adjudicator.settle(ch.cid, sender=carol)
            ev = next(e for e in r.events if e.event_name == "ChannelSettled")
            paid.check((ev.payoutA, ev.payoutB))
            s = ch.on_record
            assert ev.payoutA + ev.payoutB == s.balance_a + s.balance_b
            assert ev.lockedAmount == sum(x.amount for x in s.locks)
            ch.paid += ev.payoutA + ev.payoutB
            ch.status = "settled"
            ch.settled_locks = s.locks

        def unlock(self, pick):
            live = [c for c in self.channels if c.status == "settled" and c.settled_locks]
            if not live:
                return
            ch = live[pick % len(live)]
            held = ch.settled_locks[0]
            leaves = [x.leaf() for x in ch.settled_locks]
            args = (
                [(held.sender, held.amount, held.hashlock, held.expiry)],
                [0],
                [merkle.proof(leaves, 0)],
            )
            if held.hashlock in ch.unlocked:
                # (I3) refuses first: the settled state's locked funds are already drained
                with ape.reverts(adjudicator.LockedFundsExceeded):
                    adjudicator.unlock(ch.cid, *args, sender=carol)
                return
            revealed = adjudicator.secretRevealedAt(held.hashlock)
            in_time = revealed != 0 and revealed <= held.expiry
            if not in_time and held.expiry - now() > MARGIN:
                with ape.reverts(adjudicator.LockUnresolved):
                    adjudicator.unlock(ch.cid, *args, sender=carol)
                return
            if not in_time and held.expiry >= now():
                return
            paid = Payouts()
            adjudicator.unlock(ch.cid, *args, sender=carol)
            paid.check((0, held.amount) if in_time else (held.amount, 0))
            ch.paid += held.amount
            ch.unlocked.add(held.hashlock)

        def claim(self, who):
            owed = adjudicator.claimable(ETH, parties[who])
            if owed == 0:
                with ape.reverts(adjudicator.NothingToClaim):
                    adjudicator.claim(ETH, sender=parties[who])
                return
            adjudicator.claim(ETH, sender=parties[who])
            self.claimed += owed

        def replay_on_another_channel(self, pick):
            if len(self.channels) < 2:
                return
            src = self.channels[pick % len(self.channels)]
            dst = self.channels[(pick + 1) % len(self.channels)]
            if dst.status != "open" or dst is src:
                return
            s = src.latest
            _, sa, sb = cosigned(s)
            forged = State(dst.cid, s.nonce, s.balance_a, s.balance_b, s.locks)
            with ape.reverts():
                adjudicator.close(forged.as_tuple(), sa, sb, sender=alice)

        # ------------------------------------------------------------- invariants

        def i1_accepted_states_sum_to_what_the_channel_holds(self):
            for ch in self.channels:
                c = adjudicator.getChannel(ch.cid)
                if ch.status in ("open", "closing"):
                    assert c.total == ch.held
                if ch.status == "closing":
                    assert c.balanceA + c.balanceB + c.lockedAmount == c.total
                if ch.status == "settled":
                    assert c.lockedAmount == ch.held

        def i2_channel_ids_are_never_reused(self):
            ids = [ch.cid for ch in self.channels]
            assert len(set(ids)) == len(ids)
            assert adjudicator.channelCount() == self.count0 + len(ids)

        def i3_never_pays_more_than_it_received(self):
            for ch in self.channels:
                assert 0 <= ch.paid <= ch.received
            owed = claimable_total() - self.claimable0
            assert owed == self.credited - self.claimed
            held = w3.eth.get_balance(adjudicator.address) - self.balance0
            assert held == sum(ch.held for ch in self.channels) + owed

        def teardown(self):
            chain.restore(self.snapshot)

    rng = random.Random(seed)
    amount = lambda: rng.choice(AMOUNTS)  # noqa: E731
    pick = lambda: rng.randrange(100)  # noqa: E731
    party = lambda: rng.randrange(2)  # noqa: E731
    # (weight, operation, its random arguments)
    operations = [
        (1, "open", lambda: {"amount": amount()}),
        (2, "fund", lambda: {"pick": pick(), "amount": amount()}),
        (2, "adjust", lambda: {"pick": pick(), "party": party(), "amount": amount()}),
        (5, "pay", lambda: {"pick": pick(), "to_b": rng.random() < 0.5, "amount": amount()}),
        (2, "lock", lambda: {"pick": pick(), "amount": amount()}),
        (2, "register_secret", lambda: {"pick": pick()}),
        (1, "cooperative_close", lambda: {"pick": pick()}),
        (3, "close", lambda: {"pick": pick(), "closer": party(), "back": rng.randrange(4)}),
        (2, "dispute", lambda: {"pick": pick()}),
        (2, "wait", lambda: {"seconds": rng.choice((PERIOD + 1, LOCK_LIFETIME + 1))}),
        (3, "settle", lambda: {"pick": pick()}),
        (2, "unlock", lambda: {"pick": pick()}),
        (1, "claim", lambda: {"who": party()}),
        (1, "replay_on_another_channel", lambda: {"pick": pick()}),
    ]
    weights = [w for w, _, _ in operations]
    machine = Adjudicator()
    machine.open(10)
    machine.open(3)
    done: list[str] = []
    try:
        for _ in range(STEPS):
            _, name, args = rng.choices(operations, weights)[0]
            kwargs = args()
            done.append(f"{name}({kwargs})")
            getattr(machine, name)(**kwargs)
            machine.i1_accepted_states_sum_to_what_the_channel_holds()
            machine.i2_channel_ids_are_never_reused()
            machine.i3_never_pays_more_than_it_received()
    except Exception as exc:
        steps = "\n".join(done)
        where = "".join(traceback.format_exception(exc)[-4:])
        raise AssertionError(f"seed {seed}, operations so far:\n{steps}\n{where}") from exc
    finally:
        machine.teardown()
