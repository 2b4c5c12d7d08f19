"""Adversarial tests of the class "a challenger's reward taken by someone who did not find the
fraud" (issue #9, item 4): commit-then-reveal, where the bounty goes to the earliest commitment
made in a block before the proof, while any proof rolls back at once."""

import os

import pytest
from eth_abi import encode as abi_encode
from rollup_helpers import (
    BOND,
    CHALLENGE_PERIOD,
    assert_reverts,
    bounty_of,
    empty_proof,
    lie,
    post_empty,
)

from offchain.rollup import adversary as adv
from offchain.rollup.hashing import keccak
from offchain.rollup.proofs import commitment_for

P, FINDER, COPIER, OTHER = 1, 9, 8, 7
SHARE = BOND * 2500 // 10_000
NONE = 2**64 - 1


def _a(env, i):
    return env.accounts[i].address


def _cheat(env):
    env.bond(P)
    post_empty(env, P, lie(0))
    return empty_proof(env, 0, lie(0))


def _commit(env, i, proof, challenger=None):
    c = commitment_for(proof, challenger or _a(env, i), os.urandom(32))
    env.signer(i).send(env.l1.rollup.functions.commitFraud(c.hash()), gas=100_000)
    return c


def _reveal(env, i, proof, c):
    fn = env.l1.rollup.functions.revealFraud(proof.as_abi(), c.challenger, c.salt)
    return env.signer(i).send(fn)


def _settle(env, receipt):
    env.advance(CHALLENGE_PERIOD)
    env.rollup.settleBounty(bounty_of(env, receipt), sender=env.accounts[OTHER])


def test_reward_theft_class_copied_reveal_pays_the_committer(env):
    proof = _cheat(env)
    c = _commit(env, FINDER, proof)
    receipt = _reveal(env, COPIER, proof, c)  # the reveal copied from the mempool, higher tip
    assert env.rollup.batchCount() == 0  # rolled back at once
    bounty = env.rollup.bounties(bounty_of(env, receipt))
    assert bounty.recipient == _a(env, FINDER)
    _settle(env, receipt)
    assert env.rollup.rewardOf(env.accounts[FINDER]) == SHARE
    assert env.rollup.rewardOf(env.accounts[COPIER]) == 0


def test_reward_theft_class_stripped_proof_loses_to_the_earlier_commitment(env):
    """The copier strips the commitment and sends a plain proveFraud first: it holds the bounty
    only until the finder shows its commitment from an earlier block."""
    proof = _cheat(env)
    c = _commit(env, FINDER, proof)
    stolen = env.signer(COPIER).send(env.l1.rollup.functions.proveFraud(proof.as_abi()))
    bid = bounty_of(env, stolen)
    assert env.rollup.bounties(bid).recipient == _a(env, COPIER)
    f = env.l1.rollup.functions
    assert_reverts(
        env.l1.rollup,
        f.revealFraud(proof.as_abi(), c.challenger, c.salt),
        "UnknownBatch",
        _a(env, FINDER),
    )
    env.rollup.claimBounty(bid, c.challenger, c.salt, sender=env.accounts[FINDER])
    assert env.rollup.bounties(bid).recipient == _a(env, FINDER)
    _settle(env, stolen)
    assert env.rollup.rewardOf(env.accounts[FINDER]) == SHARE
    assert env.rollup.rewardOf(env.accounts[COPIER]) == 0


def test_reward_theft_class_copied_commitment_binds_the_finder(env):
    """The copier front-runs the commitment itself: the same hash names the finder, so recording
    it first helps only the finder; revealing it under the copier's address matches nothing."""
    proof = _cheat(env)
    c = commitment_for(proof, _a(env, FINDER), os.urandom(32))
    f = env.l1.rollup.functions
    env.signer(COPIER).send(f.commitFraud(c.hash()), gas=100_000)
    first = env.rollup.fraudCommitmentBlock(c.hash())
    env.signer(FINDER).send(f.commitFraud(c.hash()), gas=100_000)  # no revert, first block kept
    assert env.rollup.fraudCommitmentBlock(c.hash()) == first
    receipt = env.signer(COPIER).send(f.revealFraud(proof.as_abi(), _a(env, COPIER), c.salt))
    bid = bounty_of(env, receipt)
    assert env.rollup.bounties(bid).recipient == _a(env, COPIER)
    assert env.rollup.bounties(bid).commitBlock == NONE  # no commitment behind it
    env.rollup.claimBounty(bid, c.challenger, c.salt, sender=env.accounts[OTHER])
    assert env.rollup.bounties(bid).recipient == _a(env, FINDER)


def test_reward_theft_class_same_block_commitment_does_not_count(env):
    """Commit and reveal in one block (what a front-runner bundling a copied proof would do):
    the commitment is ignored and an earlier commitment still takes the bounty."""
    proof = _cheat(env)
    c = _commit(env, FINDER, proof)
    w3, f = env.w3, env.l1.rollup.functions
    mine = commitment_for(proof, _a(env, COPIER), os.urandom(32))
    w3.provider.make_request("evm_setAutomine", [False])
    try:
        signer = env.signer(COPIER)
        nonce = w3.eth.get_transaction_count(signer.address)
        hashes = []
        for k, fn in enumerate(
            (f.commitFraud(mine.hash()), f.revealFraud(proof.as_abi(), mine.challenger, mine.salt))
        ):
            tx = fn.build_transaction(
                {
                    "from": signer.address,
                    "nonce": nonce + k,
                    "gas": 3_000_000,
                    "chainId": w3.eth.chain_id,
                }
            )
            signed = w3.eth.account.sign_transaction(tx, signer.private_key)
            hashes.append(w3.eth.send_raw_transaction(signed.raw_transaction))
        w3.provider.make_request("evm_mine", [])
    finally:
        w3.provider.make_request("evm_setAutomine", [True])
    receipts = [w3.eth.get_transaction_receipt(h) for h in hashes]
    assert receipts[0]["blockNumber"] == receipts[1]["blockNumber"]
    assert all(r["status"] == 1 for r in receipts)
    bid = bounty_of(env, receipts[1])
    bounty = env.rollup.bounties(bid)
    assert bounty.recipient == _a(env, COPIER) and bounty.commitBlock == NONE
    assert_reverts(
        env.l1.rollup,
        f.claimBounty(bid, mine.challenger, mine.salt),
        "CommitmentNotEarlier",
        _a(env, COPIER),
    )
    env.rollup.claimBounty(bid, c.challenger, c.salt, sender=env.accounts[FINDER])
    assert env.rollup.bounties(bid).recipient == _a(env, FINDER)


def test_reward_theft_class_earliest_commitment_wins(env):
    proof = _cheat(env)
    early = _commit(env, OTHER, proof)
    late = _commit(env, FINDER, proof)
    receipt = _reveal(env, FINDER, proof, late)
    bid = bounty_of(env, receipt)
    assert env.rollup.bounties(bid).recipient == _a(env, FINDER)
    env.rollup.claimBounty(bid, early.challenger, early.salt, sender=env.accounts[OTHER])
    assert env.rollup.bounties(bid).recipient == _a(env, OTHER)
    f = env.l1.rollup.functions
    # the later one cannot take it back, nor a commitment made after the proof
    assert_reverts(
        env.l1.rollup,
        f.claimBounty(bid, late.challenger, late.salt),
        "CommitmentNotEarlier",
        _a(env, FINDER),
    )
    after = _commit(env, COPIER, proof)
    assert_reverts(
        env.l1.rollup,
        f.claimBounty(bid, after.challenger, after.salt),
        "CommitmentNotEarlier",
        _a(env, COPIER),
    )
    _settle(env, receipt)
    assert env.rollup.rewardOf(env.accounts[OTHER]) == SHARE


def test_bounty_window_reverts(env):
    proof = _cheat(env)
    c = _commit(env, FINDER, proof)
    receipt = env.signer(COPIER).send(env.l1.rollup.functions.proveFraud(proof.as_abi()))
    bid = bounty_of(env, receipt)
    f = env.l1.rollup.functions
    assert_reverts(env.l1.rollup, f.settleBounty(bid), "BountyOpen", _a(env, OTHER))
    assert_reverts(
        env.l1.rollup, f.claimBounty(bid + 1, c.challenger, c.salt), "BountyClosed", _a(env, FINDER)
    )
    env.advance(CHALLENGE_PERIOD)
    # the window is over: the copier keeps it (the finder was too late to claim)
    assert_reverts(
        env.l1.rollup, f.claimBounty(bid, c.challenger, c.salt), "BountyClosed", _a(env, FINDER)
    )
    env.rollup.settleBounty(bid, sender=env.accounts[OTHER])
    assert env.rollup.rewardOf(env.accounts[COPIER]) == SHARE
    assert_reverts(env.l1.rollup, f.settleBounty(bid), "NothingToWithdraw", _a(env, OTHER))
    assert_reverts(
        env.l1.rollup, f.claimBounty(bid, c.challenger, c.salt), "BountyClosed", _a(env, FINDER)
    )


def test_safety_never_waits_for_a_commitment(env):
    """A proof with no commitment, or a wrong one, still rolls back in the same transaction."""
    proof = _cheat(env)
    f = env.l1.rollup.functions
    bogus = f.revealFraud(proof.as_abi(), _a(env, FINDER), os.urandom(32))
    receipt = env.signer(COPIER).send(bogus)
    assert env.rollup.batchCount() == 0
    assert env.rollup.bounties(bounty_of(env, receipt)).recipient == _a(env, COPIER)


def test_validator_claims_when_another_prover_was_first(env):
    """The validator's commit, then someone else's plain proof, then the validator's claim."""
    proof = _cheat(env)
    v = env.validator(FINDER)
    c, committed = v.commit(proof)
    env.signer(COPIER).send(env.l1.rollup.functions.proveFraud(proof.as_abi()))
    receipt = v.claim(c, committed["blockNumber"])
    assert receipt is not None
    assert v.claim(c, committed["blockNumber"]) is None  # already ours
    (b,) = env.l1.bounties_for(c.batch_index, c.batch_hash)
    assert b.recipient == _a(env, FINDER) and b.amount == SHARE


def _send_raw(env, i, fn, gas_price):
    signer, w3 = env.signer(i), env.w3
    tx = fn.build_transaction(
        {
            "from": signer.address,
            "nonce": w3.eth.get_transaction_count(signer.address, "pending"),
            "gas": 3_000_000,
            "gasPrice": gas_price,
            "chainId": w3.eth.chain_id,
        }
    )
    return w3.eth.send_raw_transaction(
        w3.eth.account.sign_transaction(tx, signer.private_key).raw_transaction
    )


@pytest.mark.parametrize("attempt", ["stripped", "readdressed", "verbatim"])
def test_reward_theft_class_mempool_front_runner(env, attempt):
    """The finder's reveal waits in the mempool; the copier reads it, sends its version with a
    ten times higher tip and is mined first. Whatever it sends, the bounty ends with the finder."""
    proof = _cheat(env)
    c = _commit(env, FINDER, proof)
    w3, f = env.w3, env.l1.rollup.functions
    w3.provider.make_request("evm_setAutomine", [False])
    try:
        mine = _send_raw(env, FINDER, f.revealFraud(proof.as_abi(), c.challenger, c.salt), 10**9)
        seen = w3.eth.get_transaction(mine)["input"]
        name, args = adv.copier_calls(env.l1.rollup, bytes(seen), _a(env, COPIER))[attempt]
        theirs = _send_raw(env, COPIER, getattr(f, name)(*args), 10 * 10**9)
        w3.provider.make_request("evm_mine", [])
    finally:
        w3.provider.make_request("evm_setAutomine", [True])
    copied, original = (w3.eth.get_transaction_receipt(h) for h in (theirs, mine))
    assert copied["blockNumber"] == original["blockNumber"]
    assert copied["transactionIndex"] < original["transactionIndex"]
    assert copied["status"] == 1 and original["status"] == 0  # the copier won the race
    assert env.rollup.batchCount() == 0  # and the lie is gone at once
    bid = bounty_of(env, copied)
    if env.rollup.bounties(bid).recipient != _a(env, FINDER):
        env.rollup.claimBounty(bid, c.challenger, c.salt, sender=env.accounts[FINDER])
    _settle(env, copied)
    assert env.rollup.rewardOf(env.accounts[FINDER]) == SHARE
    assert env.rollup.rewardOf(env.accounts[COPIER]) == 0


def _blind(env, i):
    """What a watcher that never executed the batch can compute: a hash over the public batch
    index and stored batch hash (the pre-fix commitment scheme), under its own address."""
    salt = os.urandom(32)
    bh = bytes(env.l1.rollup.functions.batches(0).call()[0])
    h = keccak(abi_encode(["uint256", "bytes32", "address", "bytes32"], [0, bh, _a(env, i), salt]))
    return h, salt


def test_reward_theft_class_blind_commitment_same_block_as_finder(env):
    """Review M1: the copier sees the finder's commitFraud pending and commits blindly to the
    live batch in the same block, then front-runs the finder's reveal with a copy of the proof.
    The blind commitment is over no proof, so it counts for nothing: the finder claims."""
    proof = _cheat(env)
    w3, f = env.w3, env.l1.rollup.functions
    finder = commitment_for(proof, _a(env, FINDER), os.urandom(32))
    blind, salt = _blind(env, COPIER)
    w3.provider.make_request("evm_setAutomine", [False])
    try:
        h1 = _send_raw(env, FINDER, f.commitFraud(finder.hash()), 10**9)
        h2 = _send_raw(env, COPIER, f.commitFraud(blind), 10**9)
        w3.provider.make_request("evm_mine", [])
        r1, r2 = (w3.eth.get_transaction_receipt(h) for h in (h1, h2))
        assert r1["blockNumber"] == r2["blockNumber"] and r1["status"] == r2["status"] == 1
        reveal = _send_raw(
            env, FINDER, f.revealFraud(proof.as_abi(), finder.challenger, finder.salt), 10**9
        )
        theirs = _send_raw(
            env, COPIER, f.revealFraud(proof.as_abi(), _a(env, COPIER), salt), 10 * 10**9
        )
        w3.provider.make_request("evm_mine", [])
    finally:
        w3.provider.make_request("evm_setAutomine", [True])
    copied = w3.eth.get_transaction_receipt(theirs)
    assert copied["status"] == 1 and w3.eth.get_transaction_receipt(reveal)["status"] == 0
    bid = bounty_of(env, copied)
    assert env.rollup.bounties(bid).commitBlock == NONE  # the blind commitment matched nothing
    assert env.rollup.bounties(bid).proofHash == proof.proof_hash()
    env.rollup.claimBounty(bid, finder.challenger, finder.salt, sender=env.accounts[FINDER])
    _settle(env, copied)
    assert env.rollup.rewardOf(env.accounts[FINDER]) == SHARE
    assert env.rollup.rewardOf(env.accounts[COPIER]) == 0


def test_reward_theft_class_blind_commitment_right_after_posting(env):
    """The copier commits blindly to every batch as soon as it is posted, blocks before any
    finder, then proves with a copied proof: earlier than the finder, yet it cannot claim."""
    proof = _cheat(env)
    blind, salt = _blind(env, COPIER)
    f = env.l1.rollup.functions
    env.signer(COPIER).send(f.commitFraud(blind), gas=100_000)
    c = _commit(env, FINDER, proof)
    receipt = env.signer(COPIER).send(f.revealFraud(proof.as_abi(), _a(env, COPIER), salt))
    bid = bounty_of(env, receipt)
    assert env.rollup.bounties(bid).commitBlock == NONE
    assert_reverts(
        env.l1.rollup,
        f.claimBounty(bid, _a(env, COPIER), salt),
        "CommitmentNotEarlier",
        _a(env, COPIER),
    )
    env.rollup.claimBounty(bid, c.challenger, c.salt, sender=env.accounts[FINDER])
    _settle(env, receipt)
    assert env.rollup.rewardOf(env.accounts[FINDER]) == SHARE
    assert env.rollup.rewardOf(env.accounts[COPIER]) == 0


@pytest.mark.parametrize("attempt", ["padded", "refilled"])
def test_reward_theft_class_reencoded_copy_is_rejected(env, attempt):
    """A proof has one encoding, so a copier cannot front-run with a variant whose hash no
    commitment covers (which would leave the finder's commitment unable to claim): padding the
    witnesses or filling the unused `prev` reverts, and the finder's reveal goes through."""
    proof = _cheat(env)
    c = _commit(env, FINDER, proof)
    w3, f = env.w3, env.l1.rollup.functions
    w3.provider.make_request("evm_setAutomine", [False])
    try:
        mine = _send_raw(env, FINDER, f.revealFraud(proof.as_abi(), c.challenger, c.salt), 10**9)
        seen = w3.eth.get_transaction(mine)["input"]
        name, args = adv.copier_calls(env.l1.rollup, bytes(seen), _a(env, COPIER))[attempt]
        theirs = _send_raw(env, COPIER, getattr(f, name)(*args), 10 * 10**9)
        w3.provider.make_request("evm_mine", [])
    finally:
        w3.provider.make_request("evm_setAutomine", [True])
    copied, original = (w3.eth.get_transaction_receipt(h) for h in (theirs, mine))
    assert copied["status"] == 0 and original["status"] == 1
    bid = bounty_of(env, original)
    assert env.rollup.bounties(bid).recipient == _a(env, FINDER)
    name, args = adv.copier_calls(env.l1.rollup, bytes(seen), _a(env, COPIER))[attempt]
    error = "UnusedWitness" if attempt == "padded" else "CommitmentMismatch"
    env.bond(P)
    post_empty(env, P, lie(0))  # the same lie again, to show the variant itself is refused
    assert_reverts(env.l1.rollup, getattr(f, name)(*args), error, _a(env, COPIER))
