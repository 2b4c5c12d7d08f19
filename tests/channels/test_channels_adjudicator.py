"""Contract tests of ChannelAdjudicator on Anvil: every operation and every revert path."""

from __future__ import annotations

import ape
import pytest
from channels_helpers import ETH, PERIOD, opened_id, warp
from eth_utils import keccak

from offchain.channels import crypto, merkle
from offchain.channels.model import Lock, State

E = 10**18


def st(cid, nonce, a, b, locks=()):
    return State(cid, nonce, a, b, tuple(sorted(locks, key=lambda x: x.leaf())))


def last_ts(chain):
    return chain.provider.web3.eth.get_block("latest")["timestamp"]


class Paid:
    """ETH balances of some accounts before a transaction sent by someone else (payouts are
    direct: what each gained is what the adjudicator paid it)."""

    def __init__(self, *accts):
        self.accts = accts
        self.before = [a.balance for a in accts]

    def gained(self) -> tuple[int, ...]:
        return tuple(a.balance - b for a, b in zip(self.accts, self.before, strict=True))


# ---------------------------------------------------------------- hashing parity


def test_digest_matches_offchain(adjudicator, eth_channel, domain):
    s = st(eth_channel, 7, 3 * E, 12 * E)
    assert bytes(adjudicator.stateDigest(s.as_tuple())) == crypto.state_digest(domain, s)
    assert bytes(adjudicator.domainSeparator()) == domain.separator()
    lock = Lock(1, 5, b"\x01" * 32, 99)
    assert bytes(adjudicator.lockLeaf((1, 5, b"\x01" * 32, 99))) == lock.leaf()


# ---------------------------------------------------------------- open and fund


def test_open_and_fund_eth(adjudicator, alice, bob, eth_channel):
    c = adjudicator.getChannel(eth_channel)
    assert c.a == alice.address and c.b == bob.address
    assert c.total == 15 * E and c.status == 1 and c.peerFunded


def test_channel_ids_never_reused(adjudicator, alice, bob):
    ids = {opened_id(adjudicator.open(bob, ETH, PERIOD, 0, sender=alice)) for _ in range(3)}
    assert len(ids) == 3


def test_open_erc20(adjudicator, token, alice, bob):
    token.approve(adjudicator, 100, sender=alice)
    cid = opened_id(adjudicator.open(bob, token, PERIOD, 100, sender=alice))
    token.approve(adjudicator, 40, sender=bob)
    adjudicator.fund(cid, 40, sender=bob)
    assert token.balanceOf(adjudicator) == 140
    assert adjudicator.getChannel(cid).total == 140


def test_open_reverts(adjudicator, project, deployer, alice, bob, token):
    with ape.reverts(adjudicator.InvalidPeer):
        adjudicator.open(ETH, ETH, PERIOD, 0, sender=alice)
    with ape.reverts(adjudicator.InvalidPeer):
        adjudicator.open(alice, ETH, PERIOD, 0, sender=alice)
    with ape.reverts(adjudicator.InvalidChallengePeriod):
        adjudicator.open(bob, ETH, 0, 0, sender=alice)
    with ape.reverts(adjudicator.InvalidChallengePeriod):
        adjudicator.open(bob, ETH, 31 * 86400, 0, sender=alice)
    with ape.reverts(adjudicator.NotAToken):
        adjudicator.open(bob, bob.address, PERIOD, 0, sender=alice)
    with ape.reverts(adjudicator.WrongValue):
        adjudicator.open(bob, ETH, PERIOD, 5, sender=alice, value=4)
    token.approve(adjudicator, 5, sender=alice)
    with ape.reverts(adjudicator.WrongValue):
        adjudicator.open(bob, token, PERIOD, 5, sender=alice, value=1)
    fee = deployer.deploy(project.FeeOnTransferToken, 100)
    fee.mint(alice, 1000, sender=deployer)
    fee.approve(adjudicator, 1000, sender=alice)
    with ape.reverts(adjudicator.TransferMismatch):
        adjudicator.open(bob, fee, PERIOD, 1000, sender=alice)
    with ape.reverts(adjudicator.InvalidPenalty):
        deployer.deploy(project.ChannelAdjudicator, 10_001)


def test_fund_reverts(adjudicator, alice, bob, carol):
    cid = opened_id(adjudicator.open(bob, ETH, PERIOD, 1, sender=alice, value=1))
    with ape.reverts(adjudicator.WrongStatus):
        adjudicator.fund(b"\x09" * 32, 1, sender=bob, value=1)
    with ape.reverts(adjudicator.NotParticipant):
        adjudicator.fund(cid, 1, sender=alice, value=1)
    with ape.reverts(adjudicator.ZeroAmount):
        adjudicator.fund(cid, 0, sender=bob)
    adjudicator.fund(cid, 1, sender=bob, value=1)
    with ape.reverts(adjudicator.FundingClosed):
        adjudicator.fund(cid, 1, sender=bob, value=1)


def test_reentrant_token_is_stopped(adjudicator, project, deployer, alice, bob):
    t = deployer.deploy(project.ReentrantToken)
    t.mint(alice, 1000, sender=deployer)
    t.approve(adjudicator, 1000, sender=alice)
    payload = adjudicator.claim.encode_input(t.address)
    t.arm(adjudicator, payload, sender=alice)
    with ape.reverts(adjudicator.ReentrancyGuardReentrantCall):
        adjudicator.open(bob, t, PERIOD, 1000, sender=alice)


# ---------------------------------------------------------------- adjust (top up / withdraw)


def adj_sigs(domain, sa, sb, s, party, dep, wd, expiry):
    d = crypto.adjust_digest(domain, s, party, dep, wd, expiry)
    return (s.as_tuple(), party, dep, wd, expiry), sa.sign(d), sb.sign(d)


def test_adjust_topup_and_withdraw(
    adjudicator, chain, eth_channel, domain, sig_alice, sig_bob, bob
):
    exp = last_ts(chain) + 1000
    s1 = st(eth_channel, 1, 12 * E, 5 * E)  # A tops up 2
    adjudicator.adjust(
        *adj_sigs(domain, sig_alice, sig_bob, s1, 0, 2 * E, 0, exp), sender=bob, value=2 * E
    )
    assert adjudicator.getChannel(eth_channel).total == 17 * E
    s2 = st(eth_channel, 2, 12 * E, 1 * E)  # B withdraws 4
    adjudicator.adjust(*adj_sigs(domain, sig_alice, sig_bob, s2, 1, 0, 4 * E, exp), sender=bob)
    assert adjudicator.claimable(ETH, bob) == 4 * E
    before = bob.balance
    r = adjudicator.claim(ETH, sender=bob)
    assert bob.balance == before + 4 * E - r.total_fees_paid
    c = adjudicator.getChannel(eth_channel)
    assert c.total == 13 * E and c.minNonce == 2
    # the adjusted state is the anchor: it closes without signatures
    adjudicator.close(s2.as_tuple(), b"", b"", sender=bob)


def test_adjust_reverts(adjudicator, chain, eth_channel, domain, sig_alice, sig_bob, alice, carol):
    exp = last_ts(chain) + 1000
    s1 = st(eth_channel, 1, 10 * E, 6 * E)
    good = adj_sigs(domain, sig_alice, sig_bob, s1, 1, E, 0, exp)
    with ape.reverts(adjudicator.Expired):
        adjudicator.adjust(
            *adj_sigs(domain, sig_alice, sig_bob, s1, 1, E, 0, 1), sender=alice, value=E
        )
    with ape.reverts(adjudicator.InvalidParty):
        adjudicator.adjust(
            *adj_sigs(domain, sig_alice, sig_bob, s1, 2, E, 0, exp), sender=alice, value=E
        )
    with ape.reverts(adjudicator.ZeroAmount):
        adjudicator.adjust(*adj_sigs(domain, sig_alice, sig_bob, s1, 1, 0, 0, exp), sender=alice)
    s0 = st(eth_channel, 0, 10 * E, 6 * E)
    with ape.reverts(adjudicator.StaleNonce):
        adjudicator.adjust(
            *adj_sigs(domain, sig_alice, sig_bob, s0, 1, E, 0, exp), sender=alice, value=E
        )
    with ape.reverts(adjudicator.WithdrawalTooLarge):
        adjudicator.adjust(
            *adj_sigs(domain, sig_alice, sig_bob, s1, 1, 0, 16 * E, exp), sender=alice
        )
    bad = st(eth_channel, 1, 10 * E, 7 * E)
    with ape.reverts(adjudicator.BalanceMismatch):
        adjudicator.adjust(
            *adj_sigs(domain, sig_alice, sig_bob, bad, 1, E, 0, exp), sender=alice, value=E
        )
    with ape.reverts(adjudicator.BadSignature):
        adjudicator.adjust(good[0], good[1], good[1], sender=alice, value=E)
    high_s = flip_s(good[2])
    with ape.reverts(adjudicator.MalformedSignature):
        adjudicator.adjust(good[0], good[1], high_s, sender=alice, value=E)
    adjudicator.adjust(*good, sender=carol, value=E)  # anyone may pay a deposit
    with ape.reverts(adjudicator.StaleNonce):  # the same adjustment cannot be replayed
        adjudicator.adjust(*good, sender=carol, value=E)


def flip_s(sig: bytes) -> bytes:
    """The same signature with s -> n - s (valid for ecrecover, but high-s)."""
    s = int.from_bytes(sig[32:64], "big")
    v = 55 - sig[64]  # 27 <-> 28
    return sig[:32] + (crypto.SECP256K1_N - s).to_bytes(32, "big") + bytes([v])


# ---------------------------------------------------------------- cooperative close


def coop(domain, sa, sb, cid, nonce, a, b):
    d = crypto.coop_digest(domain, cid, nonce, a, b)
    return (cid, nonce, a, b), sa.sign(d), sb.sign(d)


def test_cooperative_close(adjudicator, eth_channel, domain, sig_alice, sig_bob, alice, bob, carol):
    paid = Paid(alice, bob)
    adjudicator.cooperativeClose(
        *coop(domain, sig_alice, sig_bob, eth_channel, 9, 4 * E, 11 * E), sender=carol
    )
    assert paid.gained() == (4 * E, 11 * E)  # paid out at once, nothing left to claim
    assert adjudicator.claimable(ETH, alice) == 0 and adjudicator.claimable(ETH, bob) == 0
    assert adjudicator.getChannel(eth_channel).total == 0
    with ape.reverts(adjudicator.WrongStatus):
        adjudicator.cooperativeClose(
            *coop(domain, sig_alice, sig_bob, eth_channel, 9, 4 * E, 11 * E), sender=alice
        )
    with ape.reverts(adjudicator.NothingToClaim):
        adjudicator.claim(token_none(), sender=alice)


def token_none():
    return "0x000000000000000000000000000000000000dEaD"


def test_cooperative_close_reverts(
    adjudicator, chain, eth_channel, domain, sig_alice, sig_bob, alice
):
    with ape.reverts(adjudicator.BalanceMismatch):
        adjudicator.cooperativeClose(
            *coop(domain, sig_alice, sig_bob, eth_channel, 1, 4 * E, 10 * E), sender=alice
        )
    args = coop(domain, sig_alice, sig_bob, eth_channel, 1, 4 * E, 11 * E)
    with ape.reverts(adjudicator.BadSignature):
        adjudicator.cooperativeClose(args[0], args[2], args[1], sender=alice)
    exp = last_ts(chain) + 1000
    s3 = st(eth_channel, 3, 10 * E, 6 * E)
    adjudicator.adjust(
        *adj_sigs(domain, sig_alice, sig_bob, s3, 1, E, 0, exp), sender=alice, value=E
    )
    old = coop(domain, sig_alice, sig_bob, eth_channel, 2, 5 * E, 11 * E)
    with ape.reverts(adjudicator.StaleNonce):
        adjudicator.cooperativeClose(*old, sender=alice)


# ---------------------------------------------------------------- unilateral close, dispute


def test_close_latest_then_settle(adjudicator, chain, eth_channel, cosign, alice, bob, carol):
    adjudicator.close(*cosign(st(eth_channel, 5, 6 * E, 9 * E)), sender=bob)
    with ape.reverts(adjudicator.ChallengeRunning):
        adjudicator.settle(eth_channel, sender=alice)
    warp(chain, PERIOD + 1)
    paid = Paid(alice, bob)
    r = adjudicator.settle(eth_channel, sender=carol)
    ev = next(e for e in r.events if e.event_name == "ChannelSettled")
    assert ev.penalty == 0
    assert paid.gained() == (6 * E, 9 * E)
    assert adjudicator.claimable(ETH, alice) == 0 and adjudicator.claimable(ETH, bob) == 0
    with ape.reverts(adjudicator.WrongStatus):
        adjudicator.settle(eth_channel, sender=alice)


def test_stale_close_disputed_with_penalty(
    adjudicator, chain, eth_channel, cosign, alice, bob, carol
):
    # B closes with nonce 3 although nonce 5 exists: proven stale, B forfeits its balance.
    adjudicator.close(*cosign(st(eth_channel, 3, 5 * E, 10 * E)), sender=bob)
    r = adjudicator.dispute(*cosign(st(eth_channel, 5, 8 * E, 7 * E)), sender=alice)
    assert r.events[0].nonce == 5
    warp(chain, PERIOD + 1)
    paid = Paid(alice, bob)
    r = adjudicator.settle(eth_channel, sender=carol)
    ev = next(e for e in r.events if e.event_name == "ChannelSettled")
    assert ev.penalty == 7 * E
    assert paid.gained() == (15 * E, 0)


def test_one_behind_is_corrected_without_penalty(
    adjudicator, chain, eth_channel, cosign, alice, bob, carol
):
    adjudicator.close(*cosign(st(eth_channel, 4, 5 * E, 10 * E)), sender=bob)
    adjudicator.dispute(*cosign(st(eth_channel, 5, 8 * E, 7 * E)), sender=alice)
    warp(chain, PERIOD + 1)
    paid = Paid(alice, bob)
    adjudicator.settle(eth_channel, sender=carol)
    assert paid.gained() == (8 * E, 7 * E)


def test_partial_penalty_contract(project, deployer, chain, alice, bob, carol):
    adj = deployer.deploy(project.ChannelAdjudicator, 5_000)
    cid = opened_id(adj.open(bob, ETH, PERIOD, 10, sender=alice, value=10))
    dom = crypto.Domain(chain.chain_id, adj.address)
    sa, sb = crypto.Signer(alice.private_key), crypto.Signer(bob.private_key)

    def cs(s):
        d = crypto.state_digest(dom, s)
        return s.as_tuple(), sa.sign(d), sb.sign(d)

    adj.close(*cs(st(cid, 2, 10, 0)), sender=alice)
    adj.dispute(*cs(st(cid, 9, 6, 4)), sender=bob)
    warp(chain, PERIOD + 1)
    paid = Paid(alice, bob)
    adj.settle(cid, sender=carol)
    assert paid.gained() == (3, 7)


@pytest.mark.slow  # >10 s in a --durations run (every close/dispute revert, one after another)
def test_close_and_dispute_reverts(
    adjudicator, chain, eth_channel, cosign, alice, bob, carol, domain, sig_alice, sig_bob
):
    with ape.reverts(adjudicator.NotParticipant):
        adjudicator.close(*cosign(st(eth_channel, 1, 5 * E, 10 * E)), sender=carol)
    with ape.reverts(adjudicator.BalanceMismatch):
        adjudicator.close(*cosign(st(eth_channel, 1, 5 * E, 11 * E)), sender=alice)
    lockless_root = st(eth_channel, 1, 5 * E, 10 * E)
    t, sa, _ = cosign(lockless_root)
    with ape.reverts(adjudicator.BadSignature):
        adjudicator.close(t, sa, sa, sender=alice)
    with ape.reverts(adjudicator.WrongStatus):
        adjudicator.dispute(*cosign(st(eth_channel, 2, 5 * E, 10 * E)), sender=bob)
    adjudicator.close(*cosign(st(eth_channel, 4, 5 * E, 10 * E)), sender=alice)
    with ape.reverts(adjudicator.WrongStatus):
        adjudicator.close(*cosign(st(eth_channel, 5, 5 * E, 10 * E)), sender=bob)
    with ape.reverts(adjudicator.NotParticipant):  # the closer cannot dispute itself
        adjudicator.dispute(*cosign(st(eth_channel, 5, 5 * E, 10 * E)), sender=alice)
    with ape.reverts(adjudicator.StaleNonce):  # older nonce
        adjudicator.dispute(*cosign(st(eth_channel, 3, 1 * E, 14 * E)), sender=bob)
    with ape.reverts(adjudicator.StaleNonce):  # equal nonce
        adjudicator.dispute(*cosign(st(eth_channel, 4, 1 * E, 14 * E)), sender=bob)
    warp(chain, PERIOD + 1)
    with ape.reverts(adjudicator.ChallengeOver):
        adjudicator.dispute(*cosign(st(eth_channel, 9, 1 * E, 14 * E)), sender=bob)


def test_close_below_adjusted_nonce_rejected(
    adjudicator, chain, eth_channel, cosign, domain, sig_alice, sig_bob, alice
):
    exp = last_ts(chain) + 1000
    s5 = st(eth_channel, 5, 10 * E, 6 * E)
    adjudicator.adjust(
        *adj_sigs(domain, sig_alice, sig_bob, s5, 1, E, 0, exp), sender=alice, value=E
    )
    with ape.reverts(adjudicator.StaleNonce):
        adjudicator.close(*cosign(st(eth_channel, 4, 10 * E, 6 * E)), sender=alice)


def test_locks_root_must_match_locked_amount(adjudicator, eth_channel, cosign, alice):
    s = State(eth_channel, 1, 5 * E, 10 * E)
    t = (eth_channel, 1, 5 * E, 10 * E - 1, b"\x00" * 32, 1)  # locked 1 but no root
    d = crypto.state_digest(cosign.domain, s)  # signatures irrelevant: rejected before
    with ape.reverts(adjudicator.BalanceMismatch):
        adjudicator.close(t, cosign.sa.sign(d), cosign.sb.sign(d), sender=alice)


# ---------------------------------------------------------------- watchtower delegation


def deleg(domain, signer, cid, tower, expiry):
    return (cid, tower, expiry), signer.sign(crypto.delegation_digest(domain, cid, tower, expiry))


def test_watchtower_disputes_for_client(
    adjudicator, chain, eth_channel, cosign, domain, sig_alice, sig_bob, alice, bob, carol
):
    exp = last_ts(chain) + 10_000
    adjudicator.close(*cosign(st(eth_channel, 1, 10 * E, 5 * E)), sender=bob)
    d, dsig = deleg(domain, sig_alice, eth_channel, carol.address, exp)
    newer = cosign(st(eth_channel, 6, 12 * E, 3 * E))
    with ape.reverts(adjudicator.InvalidDelegation):  # caller is not the named tower
        adjudicator.disputeFor(*newer, d, dsig, sender=bob)
    other = deleg(domain, sig_alice, b"\x01" * 32, carol.address, exp)
    with ape.reverts(adjudicator.InvalidDelegation):
        adjudicator.disputeFor(*newer, *other, sender=carol)
    with ape.reverts(adjudicator.BadSignature):  # delegation signed by the closer itself
        adjudicator.disputeFor(
            *newer, *deleg(domain, sig_bob, eth_channel, carol.address, exp), sender=carol
        )
    with ape.reverts(adjudicator.Expired):
        adjudicator.disputeFor(
            *newer, *deleg(domain, sig_alice, eth_channel, carol.address, 1), sender=carol
        )
    r = adjudicator.disputeFor(*newer, d, dsig, sender=carol)
    assert r.events[0].by == carol.address
    warp(chain, PERIOD + 1)
    paid = Paid(alice, bob)
    adjudicator.settle(eth_channel, sender=carol)
    assert paid.gained() == (15 * E, 0)


# ---------------------------------------------------------------- replays


def test_replays_rejected(
    adjudicator, project, deployer, chain, eth_channel, cosign, alice, bob, sig_alice, sig_bob
):
    # another channel's state
    other = opened_id(adjudicator.open(bob, ETH, PERIOD, 15 * E, sender=alice, value=15 * E))
    t, sa, sb = cosign(st(other, 3, 5 * E, 10 * E))
    moved = (eth_channel, *t[1:])
    with ape.reverts(adjudicator.BadSignature):
        adjudicator.close(moved, sa, sb, sender=alice)
    # another chain id
    wrong_chain = crypto.Domain(chain.chain_id + 1, adjudicator.address)
    s = st(eth_channel, 3, 5 * E, 10 * E)
    d = crypto.state_digest(wrong_chain, s)
    with ape.reverts(adjudicator.BadSignature):
        adjudicator.close(s.as_tuple(), sig_alice.sign(d), sig_bob.sign(d), sender=alice)
    # another contract
    adj2 = deployer.deploy(project.ChannelAdjudicator, 10_000)
    d = crypto.state_digest(crypto.Domain(chain.chain_id, adj2.address), s)
    with ape.reverts(adjudicator.BadSignature):
        adjudicator.close(s.as_tuple(), sig_alice.sign(d), sig_bob.sign(d), sender=alice)
    # a reopened channel between the same parties cannot take the old channel's states
    old_state = cosign(st(eth_channel, 8, 5 * E, 10 * E))
    adjudicator.close(*old_state, sender=alice)
    warp(chain, PERIOD + 1)
    adjudicator.settle(eth_channel, sender=alice)
    reopened = opened_id(adjudicator.open(bob, ETH, PERIOD, 15 * E, sender=alice, value=15 * E))
    assert reopened not in (eth_channel, other)
    with ape.reverts(adjudicator.BadSignature):
        adjudicator.close((reopened, *old_state[0][1:]), old_state[1], old_state[2], sender=alice)
    with ape.reverts(adjudicator.WrongStatus):  # and the settled one is gone for good
        adjudicator.close(*old_state, sender=alice)


# ---------------------------------------------------------------- hash locks


def make_locks(n, sender, amount, expiry):
    secrets = [keccak(text=f"secret-{sender}-{i}") for i in range(n)]
    locks = [Lock(sender, amount, keccak(x), expiry) for x in secrets]
    return secrets, locks


def lock_state(cid, nonce, a, b, locks):
    return st(cid, nonce, a, b, locks)


def unlock_args(s, subset):
    leaves = [x.leaf() for x in s.locks]
    ls = [(x.sender, x.amount, x.hashlock, x.expiry) for x in subset]
    idx = [leaves.index(x.leaf()) for x in subset]
    proofs = [merkle.proof(leaves, i) for i in idx]
    return ls, idx, proofs


@pytest.mark.slow  # 18 s in a --durations run (every unlock path, with time travel)
def test_unlock_paths(adjudicator, chain, eth_channel, cosign, alice, bob, carol):
    now = last_ts(chain)
    exp = now + 1000
    secrets, locks = make_locks(3, 0, E, exp)  # A -> B, 1 ETH each
    s = lock_state(eth_channel, 4, 7 * E, 5 * E, locks)
    adjudicator.registerSecret(secrets[0], sender=carol)  # revealed in time
    with ape.reverts(adjudicator.SecretAlreadyRegistered):
        adjudicator.registerSecret(secrets[0], sender=carol)
    with ape.reverts(adjudicator.WrongStatus):
        adjudicator.unlock(eth_channel, *unlock_args(s, locks[:1]), sender=bob)
    adjudicator.close(*cosign(s), sender=alice)
    warp(chain, PERIOD + 1)
    paid = Paid(alice, bob)
    adjudicator.settle(eth_channel, sender=carol)
    assert paid.gained() == (7 * E, 5 * E)
    paid = Paid(alice, bob)
    adjudicator.unlock(eth_channel, *unlock_args(s, locks[:1]), sender=carol)
    assert paid.gained() == (0, E)
    with ape.reverts(adjudicator.LockAlreadyUnlocked):
        adjudicator.unlock(eth_channel, *unlock_args(s, locks[:1]), sender=bob)
    with ape.reverts(adjudicator.LockUnresolved):  # not revealed, not expired
        adjudicator.unlock(eth_channel, *unlock_args(s, locks[1:2]), sender=bob)
    with ape.reverts(adjudicator.InvalidLockBatch):
        adjudicator.unlock(eth_channel, [], [], [], sender=bob)
    ls, idx, proofs = unlock_args(s, locks[1:2])
    with ape.reverts(adjudicator.InvalidLockBatch):
        adjudicator.unlock(eth_channel, ls, idx, [], sender=bob)
    with ape.reverts(adjudicator.InvalidLockBatch):
        adjudicator.unlock(eth_channel, ls, [], proofs, sender=bob)
    forged = [(0, 2 * E, locks[1].hashlock, exp)]
    with ape.reverts(adjudicator.LockNotInRoot):
        adjudicator.unlock(eth_channel, forged, idx, proofs, sender=bob)
    with ape.reverts(adjudicator.LockNotInRoot):  # right lock, wrong position
        adjudicator.unlock(eth_channel, ls, [idx[0] ^ 1], proofs, sender=bob)
    with ape.reverts(adjudicator.LockNotInRoot):  # index beyond the tree
        adjudicator.unlock(eth_channel, ls, [idx[0] + 4], proofs, sender=bob)
    with ape.reverts(adjudicator.LockNotInRoot):  # proof deeper than allowed
        adjudicator.unlock(eth_channel, ls, idx, [proofs[0] + [b"\x00" * 32] * 15], sender=bob)
    with ape.reverts(adjudicator.InvalidParty):
        adjudicator.unlock(eth_channel, [(2, E, locks[1].hashlock, exp)], idx, proofs, sender=bob)
    warp(chain, 1000)
    adjudicator.registerSecret(secrets[1], sender=bob)  # revealed after expiry: too late
    paid = Paid(alice, bob)
    adjudicator.unlock(eth_channel, *unlock_args(s, locks[1:]), sender=carol)
    assert paid.gained() == (2 * E, 0)  # two refunds
    assert adjudicator.getChannel(eth_channel).lockedAmount == 0


def test_unlock_cannot_exceed_locked(adjudicator, chain, eth_channel, cosign, alice, bob):
    exp = last_ts(chain) + 1000
    secrets, locks = make_locks(2, 1, 3 * E, exp)  # B -> A, leaves claim 6 but only 3 locked
    s = lock_state(eth_channel, 2, 9 * E, 3 * E, locks)
    t = (eth_channel, 2, 9 * E, 3 * E, s.locks_root, 3 * E)
    d = adjudicator.stateDigest(t)
    adjudicator.close(t, cosign.sa.sign(bytes(d)), cosign.sb.sign(bytes(d)), sender=bob)
    warp(chain, PERIOD + 1)
    adjudicator.settle(eth_channel, sender=bob)
    for x in secrets:
        adjudicator.registerSecret(x, sender=alice)
    with ape.reverts(adjudicator.LockedFundsExceeded):
        adjudicator.unlock(eth_channel, *unlock_args(s, list(s.locks)), sender=alice)


def test_unlock_ten_locks(adjudicator, chain, eth_channel, cosign, alice, bob, carol):
    exp = last_ts(chain) + 1000
    secrets, locks = make_locks(10, 1, E // 2, exp)  # B -> A
    s = lock_state(eth_channel, 9, 10 * E, 0, locks)
    adjudicator.close(*cosign(s), sender=bob)
    for x in secrets[:6]:
        adjudicator.registerSecret(x, sender=alice)
    warp(chain, 1001)
    adjudicator.settle(eth_channel, sender=alice)
    paid = Paid(alice, bob)
    adjudicator.unlock(eth_channel, *unlock_args(s, list(s.locks)), sender=carol)
    assert paid.gained() == (3 * E, 2 * E)


# ---------------------------------------------------------------- claims


def test_settle_pays_erc20_and_defers_failed_eth(
    adjudicator, project, deployer, token, chain, alice, bob
):
    token.approve(adjudicator, 100, sender=alice)
    cid = opened_id(adjudicator.open(bob, token, PERIOD, 100, sender=alice))
    adjudicator.close((cid, 0, 100, 0, b"\x00" * 32, 0), b"", b"", sender=alice)  # the anchor
    warp(chain, PERIOD + 1)
    before = token.balanceOf(alice)
    adjudicator.settle(cid, sender=bob)
    assert token.balanceOf(alice) == before + 100
    with ape.reverts(adjudicator.NothingToClaim):
        adjudicator.claim(token, sender=alice)
    rej = deployer.deploy(project.ChannelEthRejecter)
    cid2 = opened_id(adjudicator.open(rej, ETH, PERIOD, 0, sender=alice))
    rej.fund(adjudicator, cid2, sender=alice, value=7)
    adjudicator.close((cid2, 0, 0, 7, b"\x00" * 32, 0), b"", b"", sender=alice)
    warp(chain, PERIOD + 1)
    r = adjudicator.settle(cid2, sender=alice)  # the refused payout does not block settling
    ev = next(e for e in r.events if e.event_name == "PayoutDeferred")
    assert ev.account == rej.address and ev.amount == 7
    assert adjudicator.claimable(ETH, rej) == 7
    with ape.reverts(adjudicator.EthTransferFailed):
        rej.claimEth(adjudicator, sender=alice)


@pytest.mark.parametrize("n", [1])
def test_merkle_single_leaf_root_is_leaf(n):
    lock = Lock(0, 1, b"\x02" * 32, 5)
    assert merkle.root([lock.leaf()]) == lock.leaf()
