"""Regenerate tests/bls/vectors.json (python tests/bls/make_vectors.py).

The RFC 9380 entries are the published values (RFC 9380 Appendix J.9.1), typed in, not computed;
every other entry is computed here with offchain.bls and is checked again by test_vectors.py on the
Python side (blst, arkworks, py_ecc) and on chain (BLS.sol through BLSHarness).
"""

from __future__ import annotations

import json
from pathlib import Path

from eth_account import Account

from offchain import bls
from offchain.bls.keys import canonical_signature

OUT = Path(__file__).resolve().parent / "vectors.json"
RFC_DST = "QUUX-V01-CS02-with-BLS12381G1_XMD:SHA-256_SSWU_RO_"
RFC_G1_RO = [
    {
        "msg": "",
        "x": (
            "052926add2207b76ca4fa57a8734416c8dc95e24501772c8"
            "14278700eed6d1e4e8cf62d9c09db0fac349612b759e79a1"
        ),
        "y": (
            "08ba738453bfed09cb546dbb0783dbb3a5f1f566ed67bb6b"
            "e0e8c67e2e81a4cc68ee29813bb7994998f3eae0c9c6a265"
        ),
    },
    {
        "msg": "abc",
        "x": (
            "03567bc5ef9c690c2ab2ecdf6a96ef1c139cc0b2f284dca0"
            "a9a7943388a49a3aee664ba5379a7655d3c68900be2f6903"
        ),
        "y": (
            "0b9c15f3fe6e5cf4211f346271d7b01c8f3b28be689c8429"
            "c85b67af215533311f0b8dfaaa154fa6b88176c229f2885d"
        ),
    },
    {
        "msg": "abcdef0123456789",
        "x": (
            "11e0b079dea29a68f0383ee94fed1b940995272407e3bb91"
            "6bbf268c263ddd57a6a27200a784cbc248e84f357ce82d98"
        ),
        "y": (
            "03a87ae2caf14e8ee52e51fa2ed8eefe80f02457004ba4d4"
            "86d6aa1f517c0889501dc7413753f9599b099ebcbbd2d709"
        ),
    },
]
# RFC 9380 Appendix K.1 (expand_message_xmd, SHA-256, len_in_bytes = 0x20).
RFC_XMD_DST = "QUUX-V01-CS02-with-expander-SHA256-128"
RFC_XMD = [
    {
        "msg": "",
        "len": 32,
        "out": "68a985b87eb6b46952128911f2a4412bbc302a9d759667f87f7a21d803f07235",
    },
    {
        "msg": "abc",
        "len": 32,
        "out": "d8ccab23b5985ccea865c6c97b6e5b8350e794e603b4b97902f53a8a0d605615",
    },
]
CHAIN_ID = 31337
ROLLUP = "0x5FbDB2315678afecb367f032d93F642f64180aa3"
REGISTRY = "0xe7f1725E7734CE288F8367e1Bb143E90bb3F0512"
# Anvil's well-known test accounts 0..2 (public test keys, never funded anywhere real).
WALLET_KEYS = [
    "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80",
    "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d",
    "0x5de4111afa1a4b94908f83103eb1d1706367c2e68ca870fc3d71b46a8ca5ccd4",
]


def build() -> dict:
    from eth_account.messages import encode_typed_data

    dst = bls.signing_dst(CHAIN_ID, ROLLUP)
    derived = []
    keys = []
    for i, wallet_key in enumerate(WALLET_KEYS):
        account = Account.from_key(wallet_key)
        typed = bls.derivation_typed_data(CHAIN_ID, REGISTRY, 0)
        wallet_sig = bytes(account.sign_message(encode_typed_data(full_message=typed)).signature)
        sk = bls.derive_secret_key(wallet_sig)
        keys.append(sk)
        derived.append(
            {
                "wallet": account.address,
                "wallet_key": wallet_key,
                "chain_id": CHAIN_ID,
                "registry": REGISTRY,
                "key_index": 0,
                "wallet_signature": canonical_signature(wallet_sig).hex(),
                "secret_key": f"{sk.value:064x}",
                "public_key_compressed": sk.public_key().compressed.hex(),
                "public_key_eip2537": sk.public_key().eip2537().hex(),
                "index": i,
            }
        )
    messages = [bls.signing_message(i + 1, 7, b"\x01transfer-body") for i in range(3)]
    sigs = [bls.sign(sk, m, dst) for sk, m in zip(keys, messages, strict=True)]
    l2kit_h2c = [
        {"msg": m.hex(), "point_eip2537": bls.g1_to_eip2537(bls.hash_to_g1(m, dst)).hex()}
        for m in [b"", b"abc", messages[0]]
    ]
    agg = bls.aggregate(sigs)
    return {
        "about": "Shared BLS12-381 vectors; see tests/bls/make_vectors.py and docs/bls.md.",
        "rfc9380_expand_message_xmd": {"dst": RFC_XMD_DST, "cases": RFC_XMD},
        "rfc9380_hash_to_g1": {"dst": RFC_DST, "cases": RFC_G1_RO},
        "l2kit": {
            "chain_id": CHAIN_ID,
            "rollup": ROLLUP,
            "dst": dst.hex(),
            "hash_to_g1": l2kit_h2c,
            "derived_keys": derived,
            "signature": {
                "key": 0,
                "message": messages[0].hex(),
                "signature_compressed": sigs[0].compressed.hex(),
                "signature_eip2537": sigs[0].eip2537().hex(),
            },
            "aggregate": {
                "keys": [0, 1, 2],
                "messages": [m.hex() for m in messages],
                "signature_compressed": agg.compressed.hex(),
                "signature_eip2537": agg.eip2537().hex(),
            },
        },
    }


if __name__ == "__main__":
    OUT.write_text(json.dumps(build(), indent=2) + "\n")
    print(f"wrote {OUT}")
