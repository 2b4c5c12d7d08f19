"""offchain.bls without a chain: signing, replay, batch verification, derivation, encodings."""

from __future__ import annotations

import pytest
from bls_helpers import keys, malformed_g1, malformed_g2
from eth_account import Account
from hypothesis import given, settings
from hypothesis import strategies as st

from offchain import bls
from offchain.bls.batch import random_coefficients
from offchain.bls.keys import SECP256K1_N, canonical_signature

ROLLUP = "0x" + "cd" * 20
DST = bls.signing_dst(1, ROLLUP)


def _items(n: int, seed: int = 1) -> list[bls.BatchItem]:
    out = []
    for i, sk in enumerate(keys(n, seed)):
        m = bls.signing_message(i, 0, b"t")
        out.append(bls.BatchItem(sk.public_key(), m, bls.sign(sk, m, DST)))
    return out


def test_signature_verifies_and_a_changed_message_does_not():
    sk = keys(1)[0]
    m = bls.signing_message(4, 9, b"body")
    sig = bls.sign(sk, m, DST)
    assert bls.verify(sk.public_key(), m, sig, DST)
    assert not bls.verify(sk.public_key(), m + b"!", sig, DST)
    assert not bls.verify(keys(1, 2)[0].public_key(), m, sig, DST)


@pytest.mark.parametrize(
    "other",
    [
        ("chain", lambda: (bls.signing_dst(2, ROLLUP), bls.signing_message(4, 9, b"b"))),
        ("rollup", lambda: (bls.signing_dst(1, "0x" + "ce" * 20), bls.signing_message(4, 9, b"b"))),
        ("nonce", lambda: (DST, bls.signing_message(4, 10, b"b"))),
        ("sender", lambda: (DST, bls.signing_message(5, 9, b"b"))),
    ],
    ids=lambda o: o[0],
)
def test_signature_replayed_on_another_chain_rollup_nonce_or_sender_is_refused(other):
    sk = keys(1)[0]
    sig = bls.sign(sk, bls.signing_message(4, 9, b"b"), DST)
    dst, msg = other[1]()
    assert not bls.verify(sk.public_key(), msg, sig, dst)


def test_signing_message_layout_is_sender_nonce_body():
    assert (
        bls.signing_message(0x01020304, 0x0A0B0C0D, b"xy")
        == bytes.fromhex("010203040a0b0c0d") + b"xy"
    )
    for bad in [(-1, 0), (2**32, 0), (0, 2**32)]:
        with pytest.raises(bls.BLSError):
            bls.signing_message(*bad, b"")


def test_signing_dst_is_prefix_chain_id_address_and_at_most_255_bytes():
    dst = bls.signing_dst(31337, ROLLUP)
    assert dst.startswith(b"L2KIT-V2-BLS_SIG_BLS12381G1_XMD:SHA-256_SSWU_RO_NUL_")
    assert dst[-20:] == bytes.fromhex("cd" * 20) and int.from_bytes(dst[-52:-20], "big") == 31337
    assert len(dst) <= 255
    for bad in [(1, "0x1234"), (1, "zz" * 20), (-1, ROLLUP)]:
        with pytest.raises(bls.BLSError):
            bls.signing_dst(*bad)


def test_bad_dst_lengths_are_refused():
    for dst in [b"", b"d" * 256]:
        with pytest.raises(bls.BLSError):
            bls.hash_to_g1(b"m", dst)


@settings(max_examples=10, deadline=None)
@given(n=st.integers(1, 24), bad=st.sets(st.integers(0, 23), max_size=4))
def test_find_invalid_names_exactly_the_bad_signatures(n, bad):
    items = _items(n)
    bad = {b for b in bad if b < n}
    for b in bad:
        it = items[b]
        items[b] = bls.BatchItem(it.public_key, it.message + b"x", it.signature)
    assert bls.verify_batch(items, DST) is (not bad)
    assert bls.find_invalid(items, DST) == sorted(bad)


def test_two_compensating_bad_signatures_pass_a_plain_sum_but_not_the_batch_check():
    items = _items(6)
    delta = bls.sign(bls.SecretKey(777), b"anything", DST).point
    a, b = items[1], items[4]
    items[1] = bls.BatchItem(
        a.public_key, a.message, bls.Signature.from_point(a.signature.point + delta)
    )
    items[4] = bls.BatchItem(
        b.public_key, b.message, bls.Signature.from_point(b.signature.point + (-delta))
    )
    agg = bls.aggregate([i.signature for i in items])
    # The plain aggregate check cannot see them ...
    assert bls.verify_aggregate([i.public_key for i in items], [i.message for i in items], agg, DST)
    # ... nor a "batch" with equal coefficients, which is the same check ...
    assert bls.verify_batch(items, DST, coefficients=lambda n: [(1 << 63) | 5] * n)
    # ... while random coefficients catch them and the fallback names both.
    assert not bls.verify_batch(items, DST)
    assert bls.find_invalid(items, DST) == [1, 4]


def test_batch_groups_messages_of_one_key_and_stays_correct():
    sk = keys(1)[0]
    items = []
    for nonce in range(5):
        m = bls.signing_message(3, nonce, b"t")
        items.append(bls.BatchItem(sk.public_key(), m, bls.sign(sk, m, DST)))
    assert bls.verify_batch(items, DST)
    items[2] = bls.BatchItem(items[2].public_key, items[2].message, items[3].signature)
    assert bls.find_invalid(items, DST) == [2]


def test_random_coefficients_are_64_bit_and_distinct():
    cs = random_coefficients(1000)
    assert all(2**63 <= c < 2**64 for c in cs)
    assert len(set(cs)) == 1000


def test_aggregate_verification_refuses_a_missing_or_extra_signer():
    items = _items(4)
    agg = bls.aggregate([i.signature for i in items[:3]])
    pks, msgs = [i.public_key for i in items], [i.message for i in items]
    assert not bls.verify_aggregate(pks, msgs, agg, DST)
    assert bls.verify_aggregate(pks[:3], msgs[:3], agg, DST)
    with pytest.raises(bls.BLSError):
        bls.verify_aggregate(pks, msgs[:3], agg, DST)
    with pytest.raises(bls.BLSError):
        bls.verify_aggregate([], [], agg, DST)


def _wallet_sig(account, chain_id=1, registry=ROLLUP, key_index=0) -> bytes:
    from eth_account.messages import encode_typed_data

    typed = bls.derivation_typed_data(chain_id, registry, key_index)
    return bytes(account.sign_message(encode_typed_data(full_message=typed)).signature)


def test_key_derivation_is_deterministic_and_bound_to_chain_registry_and_index():
    acct = Account.from_key("0x" + "11" * 32)
    k = bls.derive_secret_key_from_account(acct, 1, ROLLUP)
    assert k == bls.derive_secret_key_from_account(acct, 1, ROLLUP)
    others = {
        bls.derive_secret_key_from_account(acct, 2, ROLLUP),
        bls.derive_secret_key_from_account(acct, 1, "0x" + "ce" * 20),
        bls.derive_secret_key_from_account(acct, 1, ROLLUP, key_index=1),
        bls.derive_secret_key_from_account(Account.from_key("0x" + "12" * 32), 1, ROLLUP),
    }
    assert k not in others and len(others) == 4


def test_high_s_twin_and_v_0_1_derive_the_same_key():
    sig = _wallet_sig(Account.from_key("0x" + "13" * 32))
    r, s, v = sig[:32], int.from_bytes(sig[32:64], "big"), sig[64]
    twin = r + (SECP256K1_N - s).to_bytes(32, "big") + bytes([55 - v])
    assert bls.derive_secret_key(twin) == bls.derive_secret_key(sig)
    assert bls.derive_secret_key(sig[:64] + bytes([v - 27])) == bls.derive_secret_key(sig)
    assert canonical_signature(twin) == canonical_signature(sig)


def test_a_randomised_nonce_wallet_derives_a_key_that_does_not_match():
    """Another valid signature of the same message (made with another nonce k, as a wallet that
    randomises nonces would) derives another key: the caller notices because its public key is
    not the registered one (docs/bls.md, "Key derivation")."""
    from coincurve import PublicKey as EcPublicKey
    from eth_account.messages import _hash_eip191_message, encode_typed_data

    secret = 0x14 * (2**256 - 1) // 255
    account = Account.from_key(secret.to_bytes(32, "big"))
    signable = encode_typed_data(full_message=bls.derivation_typed_data(1, ROLLUP, 0))
    z = int.from_bytes(_hash_eip191_message(signable), "big")
    k = 0x1234567890ABCDEF  # a nonce RFC 6979 would not pick
    point = EcPublicKey.from_secret(k.to_bytes(32, "big")).format(compressed=False)
    r = int.from_bytes(point[1:33], "big") % SECP256K1_N
    s = pow(k, -1, SECP256K1_N) * (z + r * secret) % SECP256K1_N
    v = 27 + (point[64] & 1)
    randomised = r.to_bytes(32, "big") + s.to_bytes(32, "big") + bytes([v])
    assert Account.recover_message(signable, signature=randomised) == account.address
    deterministic = _wallet_sig(account)
    assert bls.derive_secret_key(randomised) != bls.derive_secret_key(deterministic)


@pytest.mark.parametrize("sig", [b"\x00" * 64, b"\x00" * 65, b"\x01" * 64 + b"\x1d"])
def test_malformed_wallet_signature_is_refused(sig):
    with pytest.raises(bls.BLSError):
        bls.derive_secret_key(sig)


def test_point_encodings_round_trip_and_malformed_ones_are_refused():
    sk = keys(1)[0]
    pk = sk.public_key()
    sig = bls.sign(sk, b"m", DST)
    assert bls.PublicKey.from_eip2537(pk.eip2537()) == pk
    assert bls.PublicKey.from_compressed(pk.compressed) == pk
    assert bls.Signature.from_eip2537(sig.eip2537()) == sig
    assert bls.Signature.from_compressed(sig.compressed) == sig
    for bad in malformed_g2(pk.eip2537()).values():
        with pytest.raises(bls.BLSError):
            bls.PublicKey.from_eip2537(bad)
    for bad in malformed_g1(sig.eip2537()).values():
        with pytest.raises(bls.BLSError):
            bls.Signature.from_eip2537(bad)
    for bad in [pk.eip2537()[:-1], b"\x00" * 95, b"\xff" * 96]:
        with pytest.raises(bls.BLSError):
            (bls.PublicKey.from_eip2537 if len(bad) == 255 else bls.PublicKey.from_compressed)(bad)


def test_identity_public_key_and_out_of_range_secret_keys_are_refused():
    with pytest.raises(bls.BLSError, match="identity"):
        bls.PublicKey.from_eip2537(bytes(256))
    for v in [0, bls.keys.CURVE_ORDER]:
        with pytest.raises(bls.BLSError):
            bls.SecretKey(v)
    assert "value" not in repr(bls.generate_secret_key())


@settings(max_examples=8, deadline=None)
@given(n=st.sampled_from([1, 5, 16, 40, 130]), seed=st.integers(1, 2**60))
def test_bucket_msm_equals_the_sum_of_blst_scalar_multiplications(n, seed):
    from offchain.bls.batch import _msm

    points = [bls.hash_to_g1(seed.to_bytes(8, "big") + bytes([i]), DST) for i in range(n)]
    scalars = random_coefficients(n)
    expected = bls.aggregate(
        [bls.Signature.from_point(p.scalar_mul(k)) for p, k in zip(points, scalars, strict=True)]
    )
    assert _msm(points, scalars).compress() == expected.compressed


@settings(max_examples=8, deadline=None)
@given(n=st.integers(1, 17), seed=st.integers(1, 2**60), small=st.booleans())
def test_shared_doubling_sum_equals_the_sum_of_blst_scalar_multiplications(n, seed, small):
    """The per-key sum of c_i * H(m_i) (one double-and-add over all points of one key), with
    full-length coefficients or short ones (and zero) where the shared loop must still be right."""
    import random

    from offchain.bls.batch import _interleaved, _msm

    rng = random.Random(seed)
    points = [bls.hash_to_g1(seed.to_bytes(8, "big") + bytes([i]), DST) for i in range(n)]
    scalars = [rng.randrange(0, 300) for _ in range(n)] if small else random_coefficients(n)
    expected = bls.aggregate(
        [bls.Signature.from_point(p.scalar_mul(k)) for p, k in zip(points, scalars, strict=True)]
    )
    assert _interleaved(points, scalars).compress() == expected.compressed
    assert _msm(points, scalars).compress() == expected.compressed


def test_one_forged_signature_among_many_of_one_key_is_caught_and_named():
    """40 txs of one key (one Miller loop for all of them) plus 8 of other keys; one of the 40
    carries another valid signature of the same key (for another nonce): the batch fails, and
    bisection names exactly that one."""
    sk, *others = keys(9, seed=5)
    items = []
    for nonce in range(40):
        m = bls.signing_message(3, nonce, b"t")
        items.append(bls.BatchItem(sk.public_key(), m, bls.sign(sk, m, DST)))
    for i, other in enumerate(others):
        m = bls.signing_message(10 + i, 0, b"t")
        items.append(bls.BatchItem(other.public_key(), m, bls.sign(other, m, DST)))
    assert bls.verify_batch(items, DST)
    forged = bls.sign(sk, bls.signing_message(3, 99, b"t"), DST)
    items[17] = bls.BatchItem(items[17].public_key, items[17].message, forged)
    assert not bls.verify_batch(items, DST)
    assert bls.find_invalid(items, DST) == [17]


def test_fp12_multi_exponentiation_of_miller_loops_equals_scaled_pairings():
    """Keys with one message each get their coefficient in Fp12: prod ML(H_i, pk_i)^c_i has the
    final exponentiation of prod ML(c_i H_i, pk_i); a changed coefficient does not."""
    import pyblst

    from offchain.bls.batch import _gt_msm

    items = _items(9, seed=3)
    cs = random_coefficients(9)
    hs = [bls.hash_to_g1(it.message, DST) for it in items]
    loops = [pyblst.miller_loop(h, it.public_key.point) for h, it in zip(hs, items, strict=True)]
    scaled = None
    for h, it, c in zip(hs, items, cs, strict=True):
        loop = pyblst.miller_loop(h.scalar_mul(c), it.public_key.point)
        scaled = loop if scaled is None else scaled * loop
    assert pyblst.final_verify(_gt_msm(loops, cs), scaled)
    assert not pyblst.final_verify(_gt_msm(loops, [cs[0] + 1, *cs[1:]]), scaled)


def test_many_distinct_keys_one_bad_or_two_compensating_are_caught_and_named():
    """From GT_MSM_MIN distinct keys on, coefficients go to the Miller loops (Fp12): a batch of
    70 keys with one wrong signature, or two that cancel in the plain sum, fails and bisection
    names exactly them; a mix of lone keys and one repeated key verifies."""
    from offchain.bls.batch import GT_MSM_MIN

    n = GT_MSM_MIN + 6
    items = _items(n, seed=11)
    assert bls.verify_batch(items, DST)
    sk = keys(1, seed=12)[0]
    mixed = list(items)
    for nonce in range(3):
        m = bls.signing_message(500, nonce, b"t")
        mixed.append(bls.BatchItem(sk.public_key(), m, bls.sign(sk, m, DST)))
    assert bls.verify_batch(mixed, DST)
    one_bad = list(items)
    one_bad[40] = bls.BatchItem(items[40].public_key, items[40].message, items[41].signature)
    assert not bls.verify_batch(one_bad, DST)
    assert bls.find_invalid(one_bad, DST) == [40]
    delta = bls.sign(bls.SecretKey(99), b"d", DST).point
    pair = list(items)
    a, b = items[3], items[65]
    pair[3] = bls.BatchItem(
        a.public_key, a.message, bls.Signature.from_point(a.signature.point + delta)
    )
    pair[65] = bls.BatchItem(
        b.public_key, b.message, bls.Signature.from_point(b.signature.point + (-delta))
    )
    assert not bls.verify_batch(pair, DST)
    assert bls.find_invalid(pair, DST) == [3, 65]
