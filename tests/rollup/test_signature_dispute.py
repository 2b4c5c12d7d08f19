"""The signature dispute of rollup format v2 (issue 11) on Anvil: honest aggregates survive, bad
ones (wrong signer, wrong tag, wrong nonce, undecodable bytes, missing key) are proven, bad
evidence reverts; worst case of 32 distinct senders measured."""

from __future__ import annotations

import pytest
from eth_utils import keccak
from support.reverts import call_reverts
from v2_helpers import ACTIVATION_DELAY, Built, deploy, parse_rest, rest_bytes, transfer_bytes

from offchain.bls import SecretKey, decompression_hint, hint_words, sign, signing_dst

P = int(
    "1A0111EA397FE69A4B1BA7B6434BACD764774B84F38512BF6730D2A0F6B0F6241EABFFFEB153FFFFB9FEFFFFFFFFAAAB",
    16,
)
BAD_SIGNATURE, NO_ACCOUNT, MALFORMED, NO_KEY = 2, 4, 1, 13
E19 = 10**19


@pytest.fixture
def c(project, chain, accounts):
    """Accounts 0..3 owned by L1 accounts 1..4 (10 ETH each); owners 1..3 have keys, 4 has none."""
    c = deploy(project, chain, accounts)
    for i in range(1, 4):
        c.register(accounts[i], SecretKey(10_000 + i))
    owners = [accounts[i + 1].address.lower() for i in range(4)]
    for o in owners:
        c.deposit(accounts[0], o, E19)
    c.mine(ACTIVATION_DELAY)
    c.post([c.world.commit(deposits=[(i, owners[i], E19) for i in range(4)])])
    return c


def honest(c) -> Built:
    return c.world.commit(
        fee_account=0,
        transfers=[(1, 2, 10**18, 1000), (2, 0, 5 * 10**17, 0), (1, 0, 10**17, 0)],
        withdraws=[(2, 10**17, 0)],
    )


def prove(c, batch, built, signers, sender, ci=0):
    return c.rollup.proveSignatureFraud(c.sig_proof(batch, built, ci, signers), sender=sender)


def refuses(c, error, batch, built, signers, sender, ci=0) -> None:
    """`prove` reverts with `error` (an eth_call: `ape.reverts` decodes a trace, seconds each)."""
    proof = c.sig_proof(batch, built, ci, signers)
    call_reverts(c.rollup, error, "proveSignatureFraud", proof, sender=sender)


def fault_of(c, receipt) -> int:
    (log,) = list(receipt.decode_logs(c.rollup.FraudProven))
    return int(log.fault)


def assert_proven(c, accounts, built: Built, signer_indexes: list[int], fault: int) -> None:
    signers = [c.world.signer_evidence(i) for i in signer_indexes]
    batch, _ = c.post([built])
    receipt = prove(c, batch, [built], signers, accounts[9])
    assert fault_of(c, receipt) == fault
    assert c.rollup.batchCount() == batch  # rolled back
    assert c.rollup.batchBond(batch) == 0  # slashed


def test_dst_is_the_bls_tag(c, chain):
    assert c.world.dst == signing_dst(chain.chain_id, c.rollup.address)


def test_honest_commitment_survives(c, accounts):
    built = honest(c)
    signers = [c.world.signer_evidence(1), c.world.signer_evidence(2)]
    batch, _ = c.post([built])
    refuses(c, "NotFraudulent", batch, [built], signers, accounts[9])
    assert c.rollup.batchCount() == batch + 1


def test_bad_aggregate_is_proven(c, accounts):
    built = c.world.commit(transfers=[(1, 2, 10**18, 0)], sign_with={1: SecretKey(999)})
    assert_proven(c, accounts, built, [1], BAD_SIGNATURE)


@pytest.mark.parametrize("what", ["chain", "rollup", "nonce", "nonce_minus"])
def test_signature_for_other_chain_rollup_or_nonce_is_proven(c, accounts, chain, what):
    c.post([c.world.commit(transfers=[(1, 2, 1, 0)])])  # sender 1 at nonce 1 (for nonce - 1)
    kwargs: dict = {}
    if what == "chain":
        kwargs["dst"] = signing_dst(chain.chain_id + 1, c.rollup.address)
    elif what == "rollup":
        kwargs["dst"] = signing_dst(chain.chain_id, c.registry.address)
    elif what == "nonce":
        kwargs["nonce_delta"] = 1
    else:
        kwargs["nonce_delta"] = -1
    built = c.world.commit(transfers=[(1, 2, 10**18, 0)], **kwargs)
    assert_proven(c, accounts, built, [1], BAD_SIGNATURE)


def test_missing_key_is_proven(c, accounts):
    # Account 3's owner (L1 account 4) never registered a key.
    built = c.world.commit(transfers=[(3, 2, 10**18, 0)], sign_with={3: SecretKey(777)})
    assert_proven(c, accounts, built, [3], NO_KEY)


def test_key_registered_after_posting_does_not_count(c, accounts):
    secret = SecretKey(777)
    built = c.world.commit(transfers=[(3, 2, 10**18, 0)], sign_with={3: secret})
    signers = [c.world.signer_evidence(3)]
    batch, _ = c.post([built])
    c.register(accounts[4], secret)  # valid from a later block than the posting
    c.mine(ACTIVATION_DELAY)
    assert fault_of(c, prove(c, batch, [built], signers, accounts[9])) == NO_KEY


def test_a_key_must_be_zero_when_none_is_registered(c, accounts):
    built = c.world.commit(transfers=[(3, 2, 10**18, 0)], sign_with={3: SecretKey(777)})
    account, siblings, _ = c.world.signer_evidence(3)
    other_key = c.world.signer_evidence(1)[2]
    batch, _ = c.post([built])
    refuses(c, "KeyMismatch", batch, [built], [(account, siblings, other_key)], accounts[9])


def test_wrong_key_passed_reverts(c, accounts):
    built = honest(c)
    s1, s2 = c.world.signer_evidence(1), c.world.signer_evidence(2)
    batch, _ = c.post([built])
    refuses(c, "KeyMismatch", batch, [built], [(s1[0], s1[1], s2[2]), s2], accounts[9])
    refuses(c, "KeyMismatch", batch, [built], [(s1[0], s1[1], (0,) * 8), s2], accounts[9])


def test_signers_must_be_the_distinct_senders_in_order(c, accounts):
    built = honest(c)
    s1, s2, s0 = (c.world.signer_evidence(i) for i in (1, 2, 0))
    batch, _ = c.post([built])
    for signers in ([s1], [s1, s2, s0], [s1, s2, s2], []):
        refuses(c, "BadSigners", batch, [built], signers, accounts[9])
    refuses(
        c, "BadAccountProof", batch, [built], [s2, s1], accounts[9]
    )  # swapped: leaves at the wrong index
    short = (s1[0][:59], s1[1], s1[2])
    refuses(c, "BadAccountProof", batch, [built], [short, s2], accounts[9])
    refuses(c, "BadAccountProof", batch, [built], [(s1[0], s1[1][:23], s1[2]), s2], accounts[9])


def _sqrt(a: int) -> int | None:
    y = pow(a, (P + 1) // 4, P)
    return y if y * y % P == a else None


def _compressed(x: int, y_largest: bool, flags: int = 0x80) -> bytes:
    raw = bytearray(x.to_bytes(48, "big"))
    raw[0] |= flags | (0x20 if y_largest else 0)
    return bytes(raw)


def _off_curve_x() -> int:
    x = 5
    while _sqrt((x**3 + 4) % P) is not None:
        x += 1
    return x


def _outside_subgroup() -> bytes:
    x = 5
    while _sqrt((x**3 + 4) % P) is None:
        x += 1
    return _compressed(x, False)  # a random curve point: in G1 with probability ~2^-126


BAD_SIGNATURES = {
    "uncompressed flag": bytes(48),
    "x >= p": _compressed(P, False),
    "x off the curve": _compressed(_off_curve_x(), False),
    "infinity with a sign": bytes([0xE0]) + bytes(47),
    "infinity with x": bytes([0xC0]) + bytes(46) + b"\x01",
    "identity": bytes([0xC0]) + bytes(47),
    "outside the subgroup": _outside_subgroup(),
}


@pytest.mark.parametrize("name", sorted(BAD_SIGNATURES))
def test_undecodable_or_invalid_signature_is_proven(c, accounts, name):
    built = c.world.commit(transfers=[(1, 2, 10**18, 0)], signature=BAD_SIGNATURES[name])
    assert_proven(c, accounts, built, [1], BAD_SIGNATURE)


def _words(h: int) -> list[int]:
    return [h >> 256, h % 2**256]


def test_decompression_matches_blst(project, accounts):
    harness = accounts[0].deploy(project.RollupHarness)
    from offchain.bls import g1_words

    for k in range(1, 9):
        sig = sign(SecretKey(k * 7919), k.to_bytes(4, "big"), b"TAG")
        ok, valid, point = harness.decompressG1(sig.compressed, hint_words(sig.compressed))
        assert ok and valid
        assert tuple(point) == g1_words(sig.eip2537())
    for name, raw in BAD_SIGNATURES.items():
        ok, valid, _ = harness.decompressG1(raw, hint_words(raw))
        assert valid == (name == "identity"), name
        assert ok == (name in ("identity", "outside the subgroup")), name
    assert harness.decompressG1(bytes(47), [0, 0])[0] is False


def _wrong_hints(raw: bytes) -> list[int]:
    h = decompression_hint(raw)
    wrong = [h + 1, (h + 2) % P, P + h, P, 2**381 - 1, 2**512 - 1 - h]
    if h:
        wrong += [P - h, 0]
    else:
        wrong += [1]
    return [w for w in wrong if w != h and w < 2**512]


@pytest.mark.parametrize("name", ["valid", *sorted(BAD_SIGNATURES)])
def test_a_wrong_hint_reverts_and_never_changes_the_decompression(project, accounts, name):
    """Every hint but the one the bytes call for reverts G1BadHint: a disputer cannot make a
    valid signature decompress to nothing or to another point."""
    harness = accounts[0].deploy(project.RollupHarness)
    raw = (
        sign(SecretKey(4242), b"m", b"TAG").compressed if name == "valid" else BAD_SIGNATURES[name]
    )
    for w in _wrong_hints(raw):
        call_reverts(harness, "G1BadHint", "decompressG1", raw, _words(w), sender=accounts[0])


def test_hint_is_the_flagged_root_or_a_non_square_witness():
    x = _off_curve_x()
    w = decompression_hint(_compressed(x, False))
    assert w <= P - w and w * w % P == (-(x**3 + 4)) % P
    sig = sign(SecretKey(99), b"m", b"TAG")
    y = int.from_bytes(sig.eip2537()[64 + 16 :], "big")
    assert decompression_hint(sig.compressed) == y


def test_honest_commitment_survives_a_dispute_with_any_wrong_hint(c, accounts):
    built = honest(c)
    signers = [c.world.signer_evidence(1), c.world.signer_evidence(2)]
    batch, _ = c.post([built])
    raw = parse_rest(built.rest).signature
    for w in _wrong_hints(raw):
        proof = c.sig_proof(batch, [built], 0, signers, hint=tuple(_words(w)))
        call_reverts(c.rollup, "G1BadHint", "proveSignatureFraud", proof, sender=accounts[9])
    refuses(c, "NotFraudulent", batch, [built], signers, accounts[9])
    assert c.rollup.batchCount() == batch + 1


def test_bad_signature_is_proven_only_with_its_hint(c, accounts):
    built = c.world.commit(
        transfers=[(1, 2, 10**18, 0)], signature=BAD_SIGNATURES["x off the curve"]
    )
    batch, _ = c.post([built])
    signers = [c.world.signer_evidence(1)]
    proof = c.sig_proof(batch, [built], 0, signers, hint=(0, 0))
    call_reverts(c.rollup, "G1BadHint", "proveSignatureFraud", proof, sender=accounts[9])
    receipt = prove(c, batch, [built], signers, accounts[9])
    assert fault_of(c, receipt) == BAD_SIGNATURE


def test_commitment_without_signed_txs_takes_a_zero_hint(c, accounts):
    built = c.world.commit(deposits=[])
    batch, _ = c.post([built])
    proof = c.sig_proof(batch, [built], 0, [], hint=(0, 1))
    call_reverts(c.rollup, "G1BadHint", "proveSignatureFraud", proof, sender=accounts[9])


def _unsigned_post(c, frm: int, signature_from: int) -> Built:
    """A transfer from `frm` that the post-root does not apply (the root stays as it is)."""
    sig = sign(c.world.secrets[c.world.acc(signature_from).owner], b"x", c.world.dst).compressed
    rest = rest_bytes(0, [], [transfer_bytes(frm, 0, 10**18, 0)], [], [], sig)
    return Built(c.world.root(), c.world.deposit_end, c.world.forced_end, rest, b"", [], [])


def test_sender_without_account_is_proven(c, accounts):
    assert_proven(c, accounts, _unsigned_post(c, 9, 1), [9], NO_ACCOUNT)


def test_sender_whose_nonce_did_not_move_is_proven(c, accounts):
    assert_proven(c, accounts, _unsigned_post(c, 1, 1), [1], BAD_SIGNATURE)


def test_undecodable_amount_is_proven(c, accounts):
    # A valid transfer whose posted amount is then replaced by one above 2^128 - 1.
    built = c.world.commit(transfers=[(1, 2, 10**18, 0)])
    huge = ((2**27 - 1) << 5 | 31).to_bytes(4, "big")
    built.rest = built.rest[: 7 + 48 + 6] + huge + built.rest[7 + 48 + 10 :]
    assert_proven(c, accounts, built, [1], MALFORMED)


def test_commitment_without_signed_txs_is_not_fraudulent(c, accounts):
    built = c.world.commit(deposits=[])
    batch, _ = c.post([built])
    refuses(c, "NotFraudulent", batch, [built], [], accounts[9])
    refuses(c, "BadSigners", batch, [built], [c.world.signer_evidence(1)], accounts[9])


def test_batch_and_commitment_checks(c, accounts, chain):
    built = honest(c)
    signers = [c.world.signer_evidence(1), c.world.signer_evidence(2)]
    batch, _ = c.post([built])
    good = c.sig_proof(batch, [built], 0, signers)
    call_reverts(
        c.rollup, "UnknownBatch", "proveSignatureFraud", (batch + 1, *good[1:]), sender=accounts[9]
    )
    call_reverts(
        c.rollup,
        "BatchHashMismatch",
        "proveSignatureFraud",
        (good[0], [keccak(b"x")], *good[2:]),
        sender=accounts[9],
    )
    call_reverts(
        c.rollup,
        "CommitmentMismatch",
        "proveSignatureFraud",
        (*good[:2], 1, *good[3:]),
        sender=accounts[9],
    )
    call_reverts(
        c.rollup,
        "CommitmentMismatch",
        "proveSignatureFraud",
        (*good[:6], good[6] + b"\0", *good[7:]),
        sender=accounts[9],
    )
    chain.pending_timestamp += 3601
    chain.mine()
    call_reverts(c.rollup, "BatchFinal", "proveSignatureFraud", good, sender=accounts[9])


def test_commit_then_reveal_pays_the_committer(c, accounts, project):
    built = c.world.commit(transfers=[(1, 2, 10**18, 0)], sign_with={1: SecretKey(999)})
    signers = [c.world.signer_evidence(1)]
    batch, _ = c.post([built])
    proof = c.sig_proof(batch, [built], 0, signers)
    challenger, salt = accounts[7].address, b"\x11" * 32
    from eth_abi import encode

    from offchain.rollup.proofs import SIGNATURE_PROOF_ABI

    proof_hash = keccak(encode([SIGNATURE_PROOF_ABI], [proof]))
    c.rollup.commitFraud(
        keccak(encode(["bytes32", "address", "bytes32"], [proof_hash, challenger, salt])),
        sender=accounts[7],
    )
    c.mine(1)
    receipt = c.rollup.revealSignatureFraud(proof, challenger, salt, sender=accounts[6])
    assert fault_of(c, receipt) == BAD_SIGNATURE
    bounty = c.rollup.bounties(c.rollup.bountyCount() - 1)
    assert bounty.recipient == challenger
    assert bytes(bounty.proofHash) == proof_hash
    # Without an earlier commitment the revealer holds it.
    assert c.rollup.batchCount() == batch


@pytest.mark.slow
def test_worst_case_32_distinct_senders(project, chain, accounts):
    """32 transfers from 32 accounts of 32 owners with 32 registered keys; the last signature is
    wrong, so the whole check runs (every leaf, key, message and pairing)."""
    c = deploy(project, chain, accounts)
    owners = []
    for k in range(32):
        owner = accounts.generate_test_account()
        accounts[0].transfer(owner, 10**17)
        c.register(owner, SecretKey(50_000 + k))
        owners.append(owner.address.lower())
        c.deposit(accounts[0], owners[-1], E19)
    c.mine(ACTIVATION_DELAY)
    c.post([c.world.commit(deposits=[(k, owners[k], E19) for k in range(32)])])
    transfers = [(k, (k + 1) % 32, 10**18, 1000) for k in range(32)]
    built = c.world.commit(transfers=transfers, sign_with={31: SecretKey(1)})
    signers = [c.world.signer_evidence(k) for k in range(32)]
    batch, _ = c.post([built])
    receipt = prove(c, batch, [built], signers, accounts[9])
    assert fault_of(c, receipt) == BAD_SIGNATURE
    print(f"\nsignature dispute, 32 distinct senders: {receipt.gas_used} gas")
    assert receipt.gas_used <= 3_000_000


def test_signer_created_by_a_deposit_of_the_same_commitment_survives(c, accounts):
    owner = accounts[1].address.lower()
    c.deposit(accounts[0], owner, E19)
    built = c.world.commit(deposits=[(4, owner, E19)], transfers=[(4, 0, 10**18, 0)])
    signers = [c.world.signer_evidence(4)]
    batch, _ = c.post([built])
    refuses(c, "NotFraudulent", batch, [built], signers, accounts[9])


def test_non_canonical_empty_leaf_is_bad_evidence(c, accounts):
    built = _unsigned_post(c, 9, 1)
    _, siblings, key = c.world.signer_evidence(9)
    batch, _ = c.post([built])
    forged = bytes(40) + (1).to_bytes(16, "big") + bytes(4)  # owner 0 with a balance
    refuses(c, "BadAccountProof", batch, [built], [(forged, siblings, key)], accounts[9])
