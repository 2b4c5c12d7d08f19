"""Shared test vectors (tests/rollup/vectors/rollup.json): both the Python and the Solidity side
must reproduce them. Regenerate with `python -m offchain.rollup.vectors` only on a format change."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from .codec import encode_amount, encode_batch, encode_fee, encode_tx
from .eip712 import Domain, address_of, transfer_digest, withdraw_digest
from .hashing import keccak
from .merkle import EMPTY_ROOT, SparseMerkleTree
from .types import Account, Commitment, DepositTx, ForcedSlot
from .wallet import sign_transfer, sign_withdraw

VECTOR_FILE = Path(__file__).resolve().parents[2] / "tests" / "rollup" / "vectors" / "rollup.json"
DOMAIN = Domain(chain_id=31337, rollup="0x" + "5f" * 20)
KEYS = [keccak(b"l2kit vector key %d" % i) for i in range(3)]
TOKEN = "0x" + "00" * 20


def build_vectors() -> dict:
    sep = DOMAIN.separator()
    owners = [address_of(k) for k in KEYS]
    accounts = [
        Account(owners[0], TOKEN, 10**18, 0),
        Account(owners[1], TOKEN, 5 * 10**17, 7),
        Account(owners[2], "0x" + "ab" * 20, (1 << 128) - 1, (1 << 32) - 1),
    ]
    tree = SparseMerkleTree()
    for i, a in zip((0, 1, (1 << 24) - 1), accounts, strict=True):
        tree.set_leaf(i, a.leaf_hash())
    transfer = sign_transfer(KEYS[0], sep, 0, 1, 123_450_000, 2_000, 0)
    withdraw = sign_withdraw(KEYS[1], sep, 1, 10**17, 0, 7)
    txs = (
        encode_tx(DepositTx(2))
        + encode_tx(transfer)
        + encode_tx(withdraw)
        + encode_tx(ForcedSlot(applied=True))
    )
    commitment = Commitment(tree.root, 3, 0, txs, forced_end=2)
    return {
        "domain": {
            "chainId": DOMAIN.chain_id,
            "rollup": DOMAIN.rollup,
            "separator": sep.hex(),
        },
        "emptyRoot": EMPTY_ROOT.hex(),
        "accounts": [
            {
                "index": i,
                "owner": a.owner,
                "token": a.token,
                "balance": str(a.balance),
                "nonce": a.nonce,
                "packed": a.packed().hex(),
                "leafHash": a.leaf_hash().hex(),
                "siblings": [s.hex() for s in tree.proof(i)],
            }
            for i, a in zip((0, 1, (1 << 24) - 1), accounts, strict=True)
        ],
        "root": tree.root.hex(),
        "amounts": [
            {"value": str(v), "packed": encode_amount(v).hex()}
            for v in (0, 1, 10**18, 123_450_000, (2**35 - 1) * 10**31)
        ],
        "fees": [
            {"value": str(v), "packed": encode_fee(v).hex()} for v in (0, 2_000, 2047 * 10**31)
        ],
        "transfer": {
            "from": 0,
            "to": 1,
            "amount": str(transfer.amount),
            "fee": str(transfer.fee),
            "nonce": 0,
            "signer": owners[0],
            "digest": transfer_digest(sep, 0, 1, transfer.amount, transfer.fee, 0).hex(),
            "encoded": encode_tx(transfer).hex(),
        },
        "withdraw": {
            "from": 1,
            "amount": str(withdraw.amount),
            "fee": "0",
            "nonce": 7,
            "signer": owners[1],
            "digest": withdraw_digest(sep, 1, withdraw.amount, 0, 7).hex(),
            "encoded": encode_tx(withdraw).hex(),
        },
        "deposit": {"account": 2, "encoded": encode_tx(DepositTx(2)).hex()},
        "forcedSlot": {
            "applied": encode_tx(ForcedSlot(True)).hex(),
            "skipped": encode_tx(ForcedSlot(False)).hex(),
        },
        "commitment": {
            "postRoot": commitment.post_root.hex(),
            "depositEnd": 3,
            "forcedEnd": 2,
            "feeAccount": 0,
            "txs": txs.hex(),
            "hash": commitment.hash().hex(),
            "batch": encode_batch([commitment]).hex(),
            "batchHash": keccak(commitment.hash()).hex(),
        },
    }


def main() -> None:
    VECTOR_FILE.parent.mkdir(parents=True, exist_ok=True)
    VECTOR_FILE.write_text(json.dumps(build_vectors(), indent=2) + "\n")
    sys.stdout.write(f"wrote {VECTOR_FILE}\n")


if __name__ == "__main__":
    main()
