"""The shared vectors (tests/bls/vectors.json) hold on both sides: Python and BLS.sol on Anvil."""

from __future__ import annotations

import py_arkworks_bls12381 as ark
import pytest
from bls_helpers import VECTORS, g1_struct, g2_struct, point_bytes
from eth_account import Account
from py_ecc.bls.hash_to_curve import hash_to_G1
from py_ecc.optimized_bls12_381 import normalize

from offchain import bls

RFC = VECTORS["rfc9380_hash_to_g1"]
L2 = VECTORS["l2kit"]


def _rfc_point(case: dict) -> bytes:
    return bytes(16) + bytes.fromhex(case["x"]) + bytes(16) + bytes.fromhex(case["y"])


def test_python_expand_message_xmd_matches_rfc9380_vectors():
    v = VECTORS["rfc9380_expand_message_xmd"]
    for case in v["cases"]:
        out = bls.expand_message_xmd(case["msg"].encode(), v["dst"].encode(), case["len"])
        assert out.hex() == case["out"]


@pytest.mark.parametrize("case", RFC["cases"], ids=lambda c: repr(c["msg"]))
def test_python_hash_to_g1_matches_rfc9380_in_blst_arkworks_and_py_ecc(case):
    msg, dst = case["msg"].encode(), RFC["dst"].encode()
    expected = _rfc_point(case)
    assert bls.g1_to_eip2537(bls.hash_to_g1(msg, dst)) == expected
    ark_point = ark.G1Point.hash_to_curve(msg, dst).to_xy_bytes_be()
    assert ark_point.hex() == case["x"] + case["y"]
    x, y = normalize(hash_to_G1(msg, dst, __import__("hashlib").sha256))
    assert f"{x.n:096x}{y.n:096x}" == case["x"] + case["y"]


@pytest.mark.parametrize("case", RFC["cases"], ids=lambda c: repr(c["msg"]))
def test_solidity_hash_to_g1_matches_rfc9380(harness, case):
    got = harness.hashToG1(case["msg"].encode(), RFC["dst"].encode())
    assert point_bytes(got) == _rfc_point(case)


def test_l2kit_hash_to_g1_vectors_hold_on_both_sides(harness):
    dst = bytes.fromhex(L2["dst"])
    assert dst == bls.signing_dst(L2["chain_id"], L2["rollup"])
    for case in L2["hash_to_g1"]:
        msg, expected = bytes.fromhex(case["msg"]), bytes.fromhex(case["point_eip2537"])
        assert bls.g1_to_eip2537(bls.hash_to_g1(msg, dst)) == expected
        assert point_bytes(harness.hashToG1(msg, dst)) == expected


def test_derived_key_vectors_are_reproduced_from_the_wallet():
    for d in L2["derived_keys"]:
        account = Account.from_key(d["wallet_key"])
        assert account.address == d["wallet"]
        sk = bls.derive_secret_key_from_account(account, d["chain_id"], d["registry"], 0)
        assert f"{sk.value:064x}" == d["secret_key"]
        assert bls.derive_secret_key(bytes.fromhex(d["wallet_signature"])) == sk
        pk = sk.public_key()
        assert pk.compressed.hex() == d["public_key_compressed"]
        assert pk.eip2537().hex() == d["public_key_eip2537"]
        assert bls.PublicKey.from_eip2537(bytes.fromhex(d["public_key_eip2537"])) == pk


def _pk(i: int) -> bls.PublicKey:
    return bls.PublicKey.from_compressed(
        bytes.fromhex(L2["derived_keys"][i]["public_key_compressed"])
    )


def test_signature_and_aggregate_vectors_verify_in_python():
    dst = bytes.fromhex(L2["dst"])
    s = L2["signature"]
    sig = bls.Signature.from_compressed(bytes.fromhex(s["signature_compressed"]))
    assert sig.eip2537().hex() == s["signature_eip2537"]
    assert bls.verify(_pk(s["key"]), bytes.fromhex(s["message"]), sig, dst)
    sk = bls.SecretKey(int(L2["derived_keys"][0]["secret_key"], 16))
    assert bls.sign(sk, bytes.fromhex(s["message"]), dst) == sig
    a = L2["aggregate"]
    agg = bls.Signature.from_eip2537(bytes.fromhex(a["signature_eip2537"]))
    assert agg.compressed.hex() == a["signature_compressed"]
    msgs = [bytes.fromhex(m) for m in a["messages"]]
    assert bls.verify_aggregate([_pk(i) for i in a["keys"]], msgs, agg, dst)


def test_signature_and_aggregate_vectors_verify_on_chain(harness):
    dst = bytes.fromhex(L2["dst"])
    s = L2["signature"]
    pk = g2_struct(bytes.fromhex(L2["derived_keys"][s["key"]]["public_key_eip2537"]))
    sig = g1_struct(bytes.fromhex(s["signature_eip2537"]))
    assert harness.verifyAggregate([bytes.fromhex(s["message"])], [pk], sig, dst) is True
    a = L2["aggregate"]
    pks = [g2_struct(bytes.fromhex(L2["derived_keys"][i]["public_key_eip2537"])) for i in a["keys"]]
    msgs = [bytes.fromhex(m) for m in a["messages"]]
    agg = g1_struct(bytes.fromhex(a["signature_eip2537"]))
    assert harness.verifyAggregate(msgs, pks, agg, dst) is True
    assert harness.verifyAggregate(msgs[::-1], pks, agg, dst) is False
