"""BLS.sol on Anvil: hash_to_field, input validation, and every revert path of the library."""

from __future__ import annotations

import hashlib

import ape
import pytest
from bls_helpers import g1_struct, g2_struct, keys, malformed_g1, malformed_g2, selector
from eth_abi import encode
from py_ecc.bls.hash_to_curve import hash_to_field_FQ

from offchain import bls

DST = bls.signing_dst(31337, "0x" + "ab" * 20)


def _signed(n: int, seed: int = 1):
    sks = keys(n, seed)
    msgs = [bls.signing_message(i, 3, b"body") for i in range(n)]
    agg = bls.aggregate([bls.sign(sk, m, DST) for sk, m in zip(sks, msgs, strict=True)])
    return msgs, [g2_struct(sk.public_key().eip2537()) for sk in sks], agg


def test_solidity_expand_message_and_hash_to_field_match_py_ecc(harness):
    msg = b"l2kit hash_to_field"
    assert bytes(harness.expandMessageXmd(msg, DST)) == bls.expand_message_xmd(msg, DST, 128)
    u0, u1 = harness.hashToField(msg, DST)
    ref = hash_to_field_FQ(msg, 2, DST, hashlib.sha256)
    assert [int.from_bytes(bytes(u), "big") for u in (u0, u1)] == [e.n for e in ref]
    assert all(len(bytes(u)) == 64 for u in (u0, u1))


@pytest.mark.parametrize("length", [0, 256])
def test_dst_of_bad_length_reverts(harness, length):
    with ape.reverts(harness.BLSInvalidDst, length=length):
        harness.hashToG1(b"m", b"d" * length)


def test_dst_of_255_bytes_is_accepted_and_matches_blst(harness):
    dst = b"d" * 255
    got = harness.hashToG1(b"m", dst)
    assert bytes.fromhex("".join(f"{int(w):064x}" for w in got)) == bls.g1_to_eip2537(
        bls.hash_to_g1(b"m", dst)
    )


def test_verify_aggregate_with_more_keys_than_messages_reverts(harness):
    msgs, pks, agg = _signed(2)
    with ape.reverts(harness.BLSLengthMismatch, messages=1, pubkeys=2):
        harness.verifyAggregate(msgs[:1], pks, g1_struct(agg.eip2537()), DST)


def test_verify_aggregate_hashed_length_mismatch_reverts(harness):
    msgs, pks, agg = _signed(2)
    hashes = [g1_struct(bls.g1_to_eip2537(bls.hash_to_g1(m, DST))) for m in msgs]
    with ape.reverts(harness.BLSLengthMismatch, messages=2, pubkeys=1):
        harness.verifyAggregateHashed(hashes, pks[:1], g1_struct(agg.eip2537()))


def test_verify_aggregate_of_no_messages_reverts(harness):
    _, _, agg = _signed(1)
    with ape.reverts(harness.BLSNoMessages):
        harness.verifyAggregate([], [], g1_struct(agg.eip2537()), DST)


def test_verify_aggregate_hashed_agrees_with_verify_aggregate(harness):
    msgs, pks, agg = _signed(3)
    hashes = [g1_struct(bls.g1_to_eip2537(bls.hash_to_g1(m, DST))) for m in msgs]
    assert harness.verifyAggregateHashed(hashes, pks, g1_struct(agg.eip2537())) is True
    assert harness.verifyAggregateHashed(hashes[::-1], pks, g1_struct(agg.eip2537())) is False


@pytest.mark.parametrize("kind", ["off_curve", "padding_not_zero", "x_not_reduced", "off_subgroup"])
def test_malformed_signature_is_refused_not_reverted(harness, kind):
    msgs, pks, agg = _signed(2)
    bad = malformed_g1(agg.eip2537())[kind]
    assert harness.isValidG1(g1_struct(bad)) is False
    assert harness.verifyAggregate(msgs, pks, g1_struct(bad), DST) is False
    with pytest.raises(bls.BLSError):
        bls.Signature.from_eip2537(bad)


def test_identity_signature_is_a_valid_point_but_never_a_valid_aggregate(harness):
    msgs, pks, _ = _signed(2)
    identity = (0, 0, 0, 0)
    assert harness.isValidG1(identity) is True
    assert harness.verifyAggregate(msgs, pks, identity, DST) is False


@pytest.mark.parametrize("kind", ["off_curve", "padding_not_zero", "x_not_reduced", "off_subgroup"])
def test_unvalidated_bad_public_key_reverts_with_precompile_failed(harness, kind):
    msgs, _, agg = _signed(1)
    bad = malformed_g2(bls.SecretKey(9).public_key().eip2537())[kind]
    assert harness.isValidG2(g2_struct(bad)) is False
    with ape.reverts(
        harness.BLSPrecompileFailed, precompile="0x000000000000000000000000000000000000000F"
    ):
        harness.verifyAggregate(msgs, [g2_struct(bad)], g1_struct(agg.eip2537()), DST)


def test_valid_signature_is_never_called_invalid_for_lack_of_gas(harness, chain):
    """The G1 check runs under a fixed stipend: with too little gas it reverts
    BLSInsufficientGas, never returns false for a good point."""
    _, _, agg = _signed(1)
    w3 = chain.provider.web3
    data = selector("isValidG1((uint256,uint256,uint256,uint256))") + encode(
        ["(uint256,uint256,uint256,uint256)"], [g1_struct(agg.eip2537())]
    )
    insufficient = "0x" + selector("BLSInsufficientGas(uint256,uint256)").hex()
    outcomes = set()
    for gas in range(24_000, 60_000, 1_000):
        try:
            out = w3.eth.call({"to": harness.address, "data": data, "gas": gas})
            outcomes.add("true" if int.from_bytes(out, "big") == 1 else "false")
        except Exception as e:
            outcomes.add("insufficient" if insufficient in repr(e.args) else "out of gas")
    assert "false" not in outcomes
    assert {"true", "insufficient"} <= outcomes
