"""Format v2 evidence: the signature dispute's SignerEvidence (distinct senders in first-
appearance order, account and 24 siblings against postRoot, key), its ABI tuple and hash, and
the state dispute's witnesses for a v2 commitment."""

import json

import pytest
from eth_abi import decode as abi_decode
from eth_abi import encode as abi_encode
from format_v2_helpers import DST, KEYS, OWNERS, build, keys_at, make_state, post_state, signed_for

from offchain.bls import g2_words
from offchain.rollup.execute import Fault, execute
from offchain.rollup.hashes import batch_hash, forced_accumulator_next, withdrawal_id
from offchain.rollup.hashing import keccak
from offchain.rollup.merkle import verify_proof
from offchain.rollup.proofs import (
    FRAUD_PROOF_ABI,
    SIGNATURE_PROOF_ABI,
    FraudProof,
    commitment_for,
    fraud_proof,
    signature_proof,
    signer_evidence,
)
from offchain.rollup.signatures import check_commitment_signature
from offchain.rollup.types import Account, Commitment, QueuedForced
from offchain.rollup.vectors import VECTOR_FILE

V = json.loads(VECTOR_FILE.read_text())


def signed_commitment():
    s = make_state()
    signed = signed_for(
        s, [(5, 1, 10, 0), (2, 5, 3, 0), (5, 9, 1, 0), (7, 2, 4, 1)], [(2, 1, 0), (11, 3, 0)]
    )
    c, ex = build(s, signed=signed, fee_account=1)
    assert ex.ok
    return s, c, post_state(s, c)


def test_signer_evidence_is_distinct_senders_in_first_appearance_order():
    _s, c, post = signed_commitment()
    ev = signer_evidence(c, post, keys_at)
    assert [e.index for e in ev] == [5, 2, 7, 11]
    for e in ev:
        assert len(e.siblings) == 24
        assert e.account == post.account(e.index)
        assert verify_proof(c.post_root, e.index, e.account.leaf_hash(), e.siblings)
        assert e.key_eip2537 == KEYS[e.account.owner].eip2537()
        packed, _sibs, key = e.as_abi()
        assert len(packed) == 60 and key == g2_words(e.key_eip2537)


def test_evidence_from_another_state_is_refused_and_missing_keys_are_zero():
    s, c, post = signed_commitment()
    with pytest.raises(ValueError, match="post-state"):
        signer_evidence(c, s, keys_at)
    ev = signer_evidence(c, post, lambda o: None if o == OWNERS[7] else keys_at(o))
    assert ev[2].key_eip2537 is None and ev[2].as_abi()[2] == (0,) * 8
    assert (
        check_commitment_signature(c, post, lambda o: None if o == OWNERS[7] else keys_at(o), DST)
        == Fault.NO_KEY
    )
    # an empty post-state account (a dishonest postRoot) is evidence too: zeros, no key asked
    fake = post.copy()
    fake.accounts[7] = Account.EMPTY
    fake.tree.set_leaf(7, Account.EMPTY.leaf_hash())
    forged = Commitment(
        fake.root,
        c.deposit_end,
        c.forced_end,
        c.fee_account,
        c.deposits,
        c.transfers,
        c.withdraws,
        c.forced,
        c.signature,
    )
    ev = signer_evidence(forged, fake, keys_at)
    assert ev[2].account.is_empty and ev[2].key_eip2537 is None
    assert verify_proof(fake.root, 7, bytes(32), ev[2].siblings)
    assert check_commitment_signature(forged, fake, keys_at, DST) == Fault.NO_ACCOUNT


def test_signature_proof_abi_and_commitment():
    _s, c, post = signed_commitment()
    other = Commitment(c.post_root, c.deposit_end, c.forced_end, 0)
    p = signature_proof(3, [other, c], 1, post, keys_at)
    enc = abi_encode([SIGNATURE_PROOF_ABI], [p.as_abi()])
    (back,) = abi_decode([SIGNATURE_PROOF_ABI], enc)
    assert back[0] == 3 and back[2] == 1 and list(back[1]) == [other.hash(), c.hash()]
    assert back[3] == c.post_root and back[6] == c.rest()
    assert (
        keccak(back[3] + back[4].to_bytes(4, "big") + back[5].to_bytes(4, "big") + keccak(back[6]))
        == c.hash()
    )
    assert len(back[7]) == 4
    assert p.proof_hash() == keccak(enc)
    fc = commitment_for(p, OWNERS[0], b"\x01" * 32)
    assert fc.batch_hash == batch_hash([other.hash(), c.hash()])
    assert commitment_for(p, OWNERS[0], b"\x02" * 32).hash() != fc.hash()
    assert commitment_for(p, OWNERS[1], b"\x01" * 32).hash() != fc.hash()


def test_state_dispute_witnesses_for_a_v2_commitment():
    s = make_state()
    signed = signed_for(s, [(1, 2, 5, 0), (3, 4, 10**19, 0)])  # second overspends
    c, ex = build(s, signed=signed)
    assert ex.fault == Fault.OVERSPEND and ex.tx_index == 1
    assert len(ex.witness_bytes()) == 828 * 3  # sender, recipient, then the failing sender
    forced = (QueuedForced(0, OWNERS[0], bytes.fromhex("03000000000000200000")),)
    p = fraud_proof(0, [c], 0, [], ex, forced)
    enc = abi_encode([FRAUD_PROOF_ABI], [p.as_abi()])
    back = abi_decode([FRAUD_PROOF_ABI], enc)[0]
    assert back[3] == (bytes(32), 0, 0, bytes(32))  # no previous commitment
    assert back[7] == c.rest() and back[9] == ex.witness_bytes()
    assert back[10][0][1] == forced[0].data
    prev = Commitment(s.root, 0, 0, 0)
    p2 = FraudProof(0, (prev.hash(), c.hash()), 1, prev, c, (), ex.witness_bytes())
    assert p2.as_abi()[3] == (s.root, 0, 0, keccak(prev.rest()))
    assert p2.proof_hash() != p.proof_hash()
    assert execute(s, c, [], check_root=False).witness_bytes() == ex.witness_bytes()


def test_hash_and_id_helpers():
    acc = bytes(32)
    for f in V["forced"]:
        acc = forced_accumulator_next(acc, f["sender"], bytes.fromhex(f["l2tx"]))
    assert acc.hex() == V["forcedAccumulators"][-1]
    assert forced_accumulator_next(bytes(32), OWNERS[0], b"\x03" + bytes(9)) != (
        forced_accumulator_next(bytes(32), OWNERS[1], b"\x03" + bytes(9))
    )
    assert withdrawal_id(1, 2, 3) == keccak(
        (1).to_bytes(32, "big") + (2).to_bytes(32, "big") + (3).to_bytes(32, "big")
    )
    with pytest.raises(ValueError):
        forced_accumulator_next(bytes(31), OWNERS[0], b"")


def test_vector_signers_match_the_evidence_builder():
    from offchain.rollup.codec import decode_batch

    b = V["batch"]
    c = decode_batch(bytes.fromhex(b["data"]), b["depositStart"], b["forcedStart"])[0]
    for sv in V["signers"]:
        acc = Account.unpack(bytes.fromhex(sv["account"]))
        sibs = [bytes.fromhex(x) for x in sv["siblings"]]
        assert verify_proof(c.post_root, sv["index"], acc.leaf_hash(), sibs)
    assert [sv["index"] for sv in V["signers"]] == [0, 2, 1]
