"""Shared vectors: the Python side regenerates them byte for byte, the Solidity side (through
RollupHarness and the Rollup views) computes the same hashes, roots, digests and numbers."""

import json

from eth_account import Account as EthAccount
from eth_account.messages import encode_typed_data

from offchain.rollup.eip712 import Domain, recover
from offchain.rollup.vectors import VECTOR_FILE, build_vectors

V = json.loads(VECTOR_FILE.read_text())


def b(h: str) -> bytes:
    return bytes.fromhex(h)


def test_python_reproduces_the_vectors():
    assert build_vectors() == V


def test_eip712_digests_match_eth_account():
    d = V["domain"]
    domain = Domain(d["chainId"], d["rollup"]).typed_data()
    t = V["transfer"]
    msg = {
        "from": t["from"],
        "to": t["to"],
        "amount": int(t["amount"]),
        "fee": int(t["fee"]),
        "nonce": t["nonce"],
    }
    types = {
        "Transfer": [
            {"name": "from", "type": "uint32"},
            {"name": "to", "type": "uint32"},
            {"name": "amount", "type": "uint128"},
            {"name": "fee", "type": "uint128"},
            {"name": "nonce", "type": "uint32"},
        ]
    }
    signable = encode_typed_data(domain, types, msg)
    from eth_utils import keccak

    assert keccak(b"\x19" + signable.version + signable.header + signable.body) == b(t["digest"])
    # the compact signature in the encoded tx recovers the signer
    sig = b(t["encoded"])[14:78]
    assert recover(b(t["digest"]), sig) == t["signer"]
    w = V["withdraw"]
    wsig = b(w["encoded"])[11:75]
    assert recover(b(w["digest"]), wsig) == w["signer"]
    # eth-account recovers the same signer from the same typed data
    assert EthAccount.recover_message(signable, signature=_full_sig(sig)) == _checksum(t["signer"])


def _full_sig(compact: bytes) -> bytes:
    r = compact[:32]
    vs = int.from_bytes(compact[32:], "big")
    s = (vs & ((1 << 255) - 1)).to_bytes(32, "big")
    return r + s + bytes([27 + (vs >> 255)])


def _checksum(a: str) -> str:
    from eth_utils import to_checksum_address

    return to_checksum_address(a)


def test_solidity_agrees_with_vectors(harness):
    assert harness.emptyRoot() == b(V["emptyRoot"])
    for a in V["accounts"]:
        assert harness.leafHash(b(a["packed"])) == b(a["leafHash"])
        siblings = b"".join(b(s) for s in a["siblings"])
        assert harness.rootFrom(a["index"], b(a["leafHash"]), siblings) == b(V["root"])
    for x in V["amounts"] + V["fees"]:
        assert harness.unpackFloat(int(x["packed"], 16)) == int(x["value"])
    sep = b(V["domain"]["separator"])
    t = V["transfer"]
    assert harness.transferDigest(
        sep, t["from"], t["to"], int(t["amount"]), int(t["fee"]), t["nonce"]
    ) == b(t["digest"])
    w = V["withdraw"]
    assert harness.withdrawDigest(sep, w["from"], int(w["amount"]), 0, w["nonce"]) == b(w["digest"])


def test_rollup_domain_and_commitment_hash(env, chain):
    d = Domain(chain.chain_id, env.rollup.address)
    assert env.rollup.domainSeparator() == d.separator()
    c = V["commitment"]
    from eth_utils import keccak

    assert env.rollup.commitmentHash(
        b(c["postRoot"]), c["depositEnd"], c["forcedEnd"], c["feeAccount"], keccak(b(c["txs"]))
    ) == b(c["hash"])
