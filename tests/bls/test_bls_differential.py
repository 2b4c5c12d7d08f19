"""Differential property tests: Python (blst) and BLS.sol (EIP-2537 on Anvil) agree on random
inputs for hash-to-G1 and aggregate verification, bad aggregates are refused by both, and a
signature replayed across chain, rollup, nonce or sender is refused by both."""

from __future__ import annotations

from bls_helpers import g1_struct, g2_struct, malformed_g1, point_bytes
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from offchain import bls

SETTINGS = settings(
    max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
addresses = st.binary(min_size=20, max_size=20).map(lambda b: "0x" + b.hex())
chain_ids = st.integers(1, 2**64)


@SETTINGS
@given(message=st.binary(max_size=300), dst=st.binary(min_size=1, max_size=255))
def test_hash_to_g1_agrees_on_random_messages_and_tags(harness, message, dst):
    assert point_bytes(harness.hashToG1(message, dst)) == bls.g1_to_eip2537(
        bls.hash_to_g1(message, dst)
    )


def _sign_all(seed: int, n: int, nonce: int, dst: bytes, body: bytes):
    sks = [bls.SecretKey(seed + 7919 * i) for i in range(n)]
    msgs = [bls.signing_message(i, nonce, body) for i in range(n)]
    sigs = [bls.sign(sk, m, dst) for sk, m in zip(sks, msgs, strict=True)]
    return sks, msgs, sigs


def _both(harness, pks, msgs, agg, dst) -> tuple[bool, bool]:
    on_chain = harness.verifyAggregate(
        msgs, [g2_struct(pk.eip2537()) for pk in pks], g1_struct(agg.eip2537()), dst
    )
    return bool(on_chain), bls.verify_aggregate(pks, msgs, agg, dst)


corruptions = st.sampled_from(["none", "message", "drop_signer", "swap_keys", "tweak_signature"])


@SETTINGS
@given(
    seed=st.integers(1, 2**200),
    n=st.integers(1, 5),
    nonce=st.integers(0, 2**32 - 1),
    body=st.binary(max_size=40),
    chain_id=chain_ids,
    rollup=addresses,
    corruption=corruptions,
)
def test_aggregate_verification_agrees_and_bad_aggregates_are_refused_by_both(
    harness, seed, n, nonce, body, chain_id, rollup, corruption
):
    dst = bls.signing_dst(chain_id, rollup)
    sks, msgs, sigs = _sign_all(seed, n, nonce, dst, body)
    pks = [sk.public_key() for sk in sks]
    agg = bls.aggregate(sigs)
    if corruption == "message":
        msgs = [msgs[0] + b"\x00", *msgs[1:]]
    elif corruption == "drop_signer":
        agg = bls.aggregate(sigs[1:])
    elif corruption == "swap_keys" and n > 1:
        pks = [pks[1], pks[0], *pks[2:]]
    elif corruption == "tweak_signature":
        agg = bls.Signature.from_point(agg.point + bls.sign(bls.SecretKey(3), b"x", dst).point)
    expected = corruption == "none" or (corruption == "swap_keys" and n == 1)
    assert _both(harness, pks, msgs, agg, dst) == (expected, expected)


replays = st.sampled_from(["chain", "rollup", "nonce", "sender"])


@SETTINGS
@given(
    seed=st.integers(1, 2**200),
    nonce=st.integers(0, 2**32 - 2),
    chain_id=chain_ids,
    rollup=addresses,
    replay=replays,
)
def test_replay_across_chain_rollup_nonce_or_sender_is_refused_by_both(
    harness, seed, nonce, chain_id, rollup, replay
):
    dst = bls.signing_dst(chain_id, rollup)
    sk = bls.SecretKey(seed)
    sig = bls.sign(sk, bls.signing_message(5, nonce, b"pay"), dst)
    other_dst, other_msg = dst, bls.signing_message(5, nonce, b"pay")
    if replay == "chain":
        other_dst = bls.signing_dst(chain_id + 1, rollup)
    elif replay == "rollup":
        other_dst = bls.signing_dst(
            chain_id, "0x" + bytes(b ^ 1 for b in bytes.fromhex(rollup[2:])).hex()
        )
    elif replay == "nonce":
        other_msg = bls.signing_message(5, nonce + 1, b"pay")
    else:
        other_msg = bls.signing_message(6, nonce, b"pay")
    pk = sk.public_key()
    assert _both(harness, [pk], [bls.signing_message(5, nonce, b"pay")], sig, dst) == (True, True)
    assert _both(harness, [pk], [other_msg], sig, other_dst) == (False, False)


malformations = st.sampled_from(["off_curve", "padding_not_zero", "x_not_reduced", "off_subgroup"])


@SETTINGS
@given(seed=st.integers(1, 2**200), n=st.integers(1, 3), kind=malformations)
def test_malformed_aggregate_encoding_is_an_invalid_aggregate_on_both_sides(harness, seed, n, kind):
    dst = bls.signing_dst(31337, "0x" + "42" * 20)
    sks, msgs, sigs = _sign_all(seed, n, 0, dst, b"t")
    pks = [sk.public_key() for sk in sks]
    bad = malformed_g1(bls.aggregate(sigs).eip2537())[kind]
    on_chain = harness.verifyAggregate(
        msgs, [g2_struct(pk.eip2537()) for pk in pks], g1_struct(bad), dst
    )
    assert (bool(on_chain), bls.verify_aggregate_encoded(pks, msgs, bad, dst)) == (False, False)
    good = bls.aggregate(sigs).eip2537()
    assert bls.verify_aggregate_encoded(pks, msgs, good, dst) is True
