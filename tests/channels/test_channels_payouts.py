"""Direct payouts with their pull fallback, the 96-bit amount cap, and unlockAll (every revert)."""

from __future__ import annotations

import ape
from channels_helpers import ETH, PERIOD, opened_id, warp
from eth_utils import keccak

from offchain.channels import crypto, merkle
from offchain.channels.model import Lock, State

E = 10**18
MAX_TOTAL = 2**96 - 1
ZERO = b"\x00" * 32


def last_ts(chain):
    return chain.provider.web3.eth.get_block("latest")["timestamp"]


def sorted_locks(locks):
    return tuple(sorted(locks, key=lambda x: x.leaf()))


def tuples(locks):
    return [(x.sender, x.amount, x.hashlock, x.expiry) for x in locks]


def settled_with_locks(adjudicator, chain, cosign, cid, locks, a, b, closer, relay):
    """Close `cid` with a co-signed state holding `locks`, wait, settle; returns the state."""
    s = State(cid, 7, a, b, sorted_locks(locks))
    adjudicator.close(*cosign(s), sender=closer)
    warp(chain, PERIOD + 1)
    adjudicator.settle(cid, sender=relay)
    return s


def make_locks(tag, n, sender, amount, expiry):
    secrets = [keccak(text=f"payouts-{tag}-{i}") for i in range(n)]
    return secrets, [Lock(sender, amount, keccak(x), expiry) for x in secrets]


# ---------------------------------------------------------------- the amount cap


def test_amounts_above_96_bits_rejected(
    adjudicator, token, chain, alice, bob, domain, sig_alice, sig_bob
):
    with ape.reverts(adjudicator.AmountTooLarge):
        adjudicator.open(bob, token, PERIOD, MAX_TOTAL + 1, sender=alice)
    token.mint(alice, MAX_TOTAL, sender=alice)
    token.mint(bob, 1, sender=bob)
    token.approve(adjudicator, 2**256 - 1, sender=alice)
    token.approve(adjudicator, 2**256 - 1, sender=bob)
    cid = opened_id(adjudicator.open(bob, token, PERIOD, MAX_TOTAL, sender=alice))
    assert adjudicator.getChannel(cid).total == MAX_TOTAL
    with ape.reverts(adjudicator.AmountTooLarge):
        adjudicator.fund(cid, 1, sender=bob)
    s = State(cid, 1, MAX_TOTAL + 1, 0)
    exp = last_ts(chain) + 1000
    d = crypto.adjust_digest(domain, s, 0, 1, 0, exp)
    with ape.reverts(adjudicator.AmountTooLarge):
        adjudicator.adjust(
            (s.as_tuple(), 0, 1, 0, exp), sig_alice.sign(d), sig_bob.sign(d), sender=alice
        )


# ---------------------------------------------------------------- payouts that fail


def test_gas_burning_recipient_is_bounded_and_deferred(
    adjudicator, project, deployer, chain, alice, carol
):
    burner = deployer.deploy(project.ChannelGasBurner)
    cid = opened_id(adjudicator.open(burner, ETH, PERIOD, 3, sender=alice, value=3))
    burner.fund(adjudicator, cid, sender=alice, value=7)
    adjudicator.close((cid, 0, 3, 7, ZERO, 0), b"", b"", sender=alice)  # the funding anchor
    warp(chain, PERIOD + 1)
    before = alice.balance
    r = adjudicator.settle(cid, sender=carol)
    assert alice.balance == before + 3  # A is paid although B's payout failed
    assert adjudicator.claimable(ETH, burner) == 7
    deferred = [e for e in r.events if e.event_name == "PayoutDeferred"]
    assert [(e.account, e.amount) for e in deferred] == [(burner.address, 7)]
    # the burner took at most its allowance
    assert r.gas_used < 21_000 + adjudicator.ETH_PAYOUT_GAS() + 100_000


def test_refusing_token_recipient_is_deferred(adjudicator, project, deployer, chain, alice, bob):
    t = deployer.deploy(project.BlockingToken)
    t.mint(alice, 100, sender=alice)
    t.approve(adjudicator, 100, sender=alice)
    cid = opened_id(adjudicator.open(bob, t, PERIOD, 100, sender=alice))
    t.setBlocked(alice, sender=alice)
    adjudicator.close((cid, 0, 100, 0, ZERO, 0), b"", b"", sender=bob)
    warp(chain, PERIOD + 1)
    r = adjudicator.settle(cid, sender=bob)
    assert any(e.event_name == "PayoutDeferred" for e in r.events)
    assert adjudicator.claimable(t, alice) == 100 and t.balanceOf(alice) == 0
    t.setBlocked(bob, sender=alice)  # unblocked: the pull path pays
    adjudicator.claim(t, sender=alice)
    assert t.balanceOf(alice) == 100


def test_reentering_from_a_payout_is_stopped_and_deferred(
    adjudicator, project, deployer, chain, alice, bob
):
    t = deployer.deploy(project.ReentrantToken)
    t.mint(alice, 100, sender=deployer)
    t.approve(adjudicator, 100, sender=alice)
    cid = opened_id(adjudicator.open(bob, t, PERIOD, 100, sender=alice))
    adjudicator.close((cid, 0, 100, 0, ZERO, 0), b"", b"", sender=bob)
    warp(chain, PERIOD + 1)
    # the token re-enters settle during A's payout: the guard stops it, the payout is deferred
    t.arm(adjudicator, adjudicator.settle.encode_input(cid), sender=alice)
    r = adjudicator.settle(cid, sender=bob)
    assert any(e.event_name == "PayoutDeferred" for e in r.events)
    assert not t.reentered()
    assert adjudicator.claimable(t, alice) == 100
    t.arm(ETH, b"", sender=alice)  # disarmed (the failed transfer reverted its own disarming)
    adjudicator.claim(t, sender=alice)
    assert t.balanceOf(alice) == 100


def test_payout_cannot_be_starved_of_gas(adjudicator, chain, eth_channel, cosign, alice, carol):
    adjudicator.close(*cosign(State(eth_channel, 2, 6 * E, 9 * E)), sender=alice)
    warp(chain, PERIOD + 1)
    with ape.reverts(adjudicator.PayoutGasTooLow):
        adjudicator.settle(eth_channel, sender=carol, gas=110_000)
    adjudicator.settle(eth_channel, sender=carol)  # with gas enough, both are paid directly
    assert adjudicator.claimable(ETH, alice) == 0


# ---------------------------------------------------------------- unlockAll


def test_unlock_all_pays_resolvable_then_the_rest(
    adjudicator, chain, eth_channel, cosign, alice, bob, carol
):
    exp = last_ts(chain) + 1000
    secrets, locks = make_locks("all", 3, 0, E, exp)  # A -> B
    adjudicator.registerSecret(secrets[0], sender=carol)
    with ape.reverts(adjudicator.WrongStatus):  # not settled yet
        adjudicator.unlockAll(eth_channel, tuples(locks), sender=bob)
    s = settled_with_locks(
        adjudicator, chain, cosign, eth_channel, locks, 7 * E, 5 * E, alice, carol
    )
    ls = tuples(s.locks)
    i0 = [x.hashlock for x in s.locks].index(keccak(secrets[0]))
    b0 = bob.balance
    r = adjudicator.unlockAll(eth_channel, ls, sender=carol)
    assert bob.balance == b0 + E  # the revealed lock, paid at once
    ev = next(e for e in r.events if e.event_name == "LocksUnlocked")
    assert ev.resolved == 1 << i0 and ev.toB == E and ev.toA == 0
    assert adjudicator.unlockedBits(eth_channel, 0) == 1 << i0
    assert adjudicator.getChannel(eth_channel).lockedAmount == 2 * E
    with ape.reverts(adjudicator.NothingToUnlock):  # the others wait for their expiry
        adjudicator.unlockAll(eth_channel, ls, sender=carol)
    warp(chain, 1000)
    a0 = alice.balance
    adjudicator.unlockAll(eth_channel, ls, sender=carol)
    assert alice.balance == a0 + 2 * E  # expired: refunded to the sender
    c = adjudicator.getChannel(eth_channel)
    assert c.lockedAmount == 0 and c.locksRoot == ZERO and c.total == 0
    assert adjudicator.unlockedBits(eth_channel, 0) == 2**256 - 1
    with ape.reverts(adjudicator.LockNotInRoot):  # nothing unlocks twice
        adjudicator.unlockAll(eth_channel, ls, sender=carol)
    leaves = [x.leaf() for x in s.locks]
    with ape.reverts(adjudicator.LockedFundsExceeded):  # and no proof either: nothing is left
        adjudicator.unlock(eth_channel, ls[:1], [0], [merkle.proof(leaves, 0)], sender=carol)


def test_unlock_all_after_proof_unlocks(adjudicator, chain, eth_channel, cosign, alice, bob, carol):
    exp = last_ts(chain) + 1000
    secrets, locks = make_locks("mixed", 4, 1, E, exp)  # B -> A
    for x in secrets:
        adjudicator.registerSecret(x, sender=carol)
    s = settled_with_locks(adjudicator, chain, cosign, eth_channel, locks, 10 * E, E, bob, carol)
    leaves = [x.leaf() for x in s.locks]
    ls = tuples(s.locks)
    adjudicator.unlock(eth_channel, [ls[2]], [2], [merkle.proof(leaves, 2)], sender=carol)
    a0 = alice.balance
    r = adjudicator.unlockAll(eth_channel, ls, sender=carol)
    assert alice.balance == a0 + 3 * E  # lock 2 was paid before, not again
    ev = next(e for e in r.events if e.event_name == "LocksUnlocked")
    assert ev.resolved == 0b1011
    assert adjudicator.unlockedBits(eth_channel, 0) == 2**256 - 1
    assert adjudicator.getChannel(eth_channel).lockedAmount == 0


def test_unlock_all_reverts(adjudicator, chain, eth_channel, cosign, alice, bob, carol):
    exp = last_ts(chain) + 1000
    secrets, locks = make_locks("rev", 3, 0, E, exp)
    for x in secrets:
        adjudicator.registerSecret(x, sender=carol)
    s = settled_with_locks(
        adjudicator, chain, cosign, eth_channel, locks, 7 * E, 5 * E, alice, carol
    )
    ls = tuples(s.locks)
    with ape.reverts(adjudicator.InvalidLockBatch):
        adjudicator.unlockAll(eth_channel, [], sender=carol)
    with ape.reverts(adjudicator.InvalidLockBatch):
        adjudicator.unlockAll(eth_channel, ls * 22, sender=carol)  # 66 > MAX_UNLOCKS
    with ape.reverts(adjudicator.LockNotInRoot):  # a subset is not the whole list
        adjudicator.unlockAll(eth_channel, ls[:2], sender=carol)
    with ape.reverts(adjudicator.LockNotInRoot):  # nor another order
        adjudicator.unlockAll(eth_channel, [ls[1], ls[0], ls[2]], sender=carol)
    forged = [(0, 2 * E, *ls[0][2:]), *ls[1:]]
    with ape.reverts(adjudicator.LockNotInRoot):
        adjudicator.unlockAll(eth_channel, forged, sender=carol)
    with ape.reverts(adjudicator.InvalidLockBatch):  # sender must be 0 or 1
        adjudicator.unlockAll(eth_channel, [(2, *ls[0][1:]), *ls[1:]], sender=carol)
    with ape.reverts(adjudicator.WrongStatus):  # no such channel
        adjudicator.unlockAll(b"\x07" * 32, ls, sender=carol)


def test_unlock_all_cannot_exceed_locked(adjudicator, chain, eth_channel, cosign, alice, bob):
    exp = last_ts(chain) + 1000
    secrets, locks = make_locks("over", 2, 1, 3 * E, exp)  # the leaves claim 6, 3 are locked
    s = State(eth_channel, 2, 9 * E, 3 * E, sorted_locks(locks))
    t = (eth_channel, 2, 9 * E, 3 * E, s.locks_root, 3 * E)
    d = bytes(adjudicator.stateDigest(t))
    adjudicator.close(t, cosign.sa.sign(d), cosign.sb.sign(d), sender=bob)
    warp(chain, PERIOD + 1)
    adjudicator.settle(eth_channel, sender=bob)
    for x in secrets:
        adjudicator.registerSecret(x, sender=alice)
    with ape.reverts(adjudicator.LockedFundsExceeded):
        adjudicator.unlockAll(eth_channel, tuples(s.locks), sender=alice)


def test_unlock_all_matches_the_offchain_root(adjudicator, chain, eth_channel, cosign, alice, bob):
    """Five leaves (padded to eight): the contract rebuilds exactly merkle.root."""
    exp = last_ts(chain) + 1000
    secrets, locks = make_locks("five", 5, 0, E, exp)
    for x in secrets:
        adjudicator.registerSecret(x, sender=bob)
    s = settled_with_locks(adjudicator, chain, cosign, eth_channel, locks, 5 * E, 5 * E, alice, bob)
    assert merkle.root([x.leaf() for x in s.locks]) == s.locks_root
    r = adjudicator.unlockAll(eth_channel, tuples(s.locks), sender=bob)
    ev = next(e for e in r.events if e.event_name == "LocksUnlocked")
    assert ev.resolved == 0b11111 and ev.toB == 5 * E


def test_unlock_all_at_the_limit_refunds_expired_locks(
    adjudicator, chain, eth_channel, cosign, alice, bob, carol
):
    """MAX_UNLOCKS (64) locks, none revealed: once expired, one call refunds them all."""
    exp = last_ts(chain) + 300
    _, locks = make_locks("max", 64, 1, E // 64, exp)  # B -> A, 1 ETH in all
    s = settled_with_locks(
        adjudicator, chain, cosign, eth_channel, locks, 10 * E, 4 * E, bob, carol
    )
    with ape.reverts(adjudicator.NothingToUnlock):  # neither revealed nor expired yet
        adjudicator.unlockAll(eth_channel, tuples(s.locks), sender=carol)
    warp(chain, 300)
    b0 = bob.balance
    r = adjudicator.unlockAll(eth_channel, tuples(s.locks), sender=carol)
    assert bob.balance == b0 + 64 * (E // 64)  # every lock back to its sender
    ev = next(e for e in r.events if e.event_name == "LocksUnlocked")
    assert ev.resolved == 2**64 - 1 and ev.toA == 0
    assert adjudicator.getChannel(eth_channel).lockedAmount == 0
