"""Shared test vectors of rollup format v2 (tests/rollup/vectors/rollup_v2.json): the Python
side writes them, the Solidity side's tests read them. Regenerate with
`python -m offchain.rollup.vectors` only on a format change (then bump FORMAT_VERSION).

What they hold: amount and fee encodings (canonical, non-canonical, above 2^128-1), a pre-state,
a commitment with every section that executes validly to its postRoot (deposits, a sender with
two transfers, a withdraw, an applied and a skipped forced tx), its rest and hash, a two-
commitment batch and its hash, the forced-queue accumulator, every signed message, fixed
secret keys with their public keys (EIP-2537, 256 bytes) and signatures, the aggregate
(compressed 48 bytes and EIP-2537 128 bytes) and the signature dispute's signer evidence.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from offchain.bls import SecretKey, g1_to_eip2537, signing_dst
from offchain.bls.keys import CURVE_ORDER

from .codec import FORMAT_VERSION, encode_amount, encode_batch, encode_fee, encode_forced_tx
from .execute import commit, execute
from .hashes import batch_hash, forced_accumulator_next
from .hashing import keccak
from .merkle import EMPTY_ROOT
from .messages import tx_message
from .signatures import (
    aggregate_commitment,
    check_commitment_signature,
    signature_from_bytes,
    signed_nonces,
)
from .state import L2State
from .types import (
    Account,
    Commitment,
    DepositTx,
    ForcedSlot,
    QueuedDeposit,
    QueuedForced,
    SignedTx,
    Transfer,
    Withdraw,
)
from .wallet import sign_transfer, sign_withdraw

VECTOR_FILE = (
    Path(__file__).resolve().parents[2] / "tests" / "rollup" / "vectors" / "rollup_v2.json"
)
CHAIN_ID = 31337
ROLLUP = "0x" + "5f" * 20
ETH = "0x" + "00" * 20
OTHER_TOKEN = "0x" + "ab" * 20
OWNERS = ["0x" + (f"{i + 0xA1:02x}") * 20 for i in range(5)]
SECRETS = [
    SecretKey(int.from_bytes(keccak(b"l2kit v2 vector key %d" % i), "big") % CURVE_ORDER)
    for i in range(5)
]
DEPOSIT_START = 4
FORCED_START = 1

AMOUNTS = (0, 1, 10, 2000, 123_450_000, 10**18, 134_217_727, 134_217_726 * 10, 34_000_000 * 10**31)
NONCANONICAL_AMOUNTS = ((10 << 5) | 0, (2000 << 5) | 0, (100 << 5) | 16)  # 10, 2000, 10^18
MALFORMED_AMOUNTS = ((((1 << 27) - 1) << 5) | 31, (35_000_000 << 5) | 31)  # above 2^128-1
FEES = (0, 1, 2000, 2047, 2047 * 10**31)


def _pre_state() -> L2State:
    s = L2State(deposit_end=DEPOSIT_START, forced_end=FORCED_START)
    for i, acc in {
        0: Account(OWNERS[0], ETH, 10**18, 3),
        1: Account(OWNERS[1], ETH, 5 * 10**17, 0),
        2: Account(OWNERS[2], ETH, 10**18, 0),
        5: Account(OWNERS[4], OTHER_TOKEN, 7, 0),
    }.items():
        s.accounts[i] = acc
        s.tree.set_leaf(i, acc.leaf_hash())
    return s


def _account_json(index: int, acc: Account, state: L2State) -> dict:
    return {
        "index": index,
        "owner": acc.owner,
        "token": acc.token,
        "balance": str(acc.balance),
        "nonce": acc.nonce,
        "packed": acc.packed().hex(),
        "leafHash": acc.leaf_hash().hex(),
        "siblings": [x.hex() for x in state.tree.proof(index)],
    }


def build_vectors() -> dict:
    dst = signing_dst(CHAIN_ID, ROLLUP)
    pre = _pre_state()
    pre_json = [_account_json(i, a, pre) for i, a in sorted(pre.accounts.items())]
    pre_root = pre.root
    deposits = [QueuedDeposit(DEPOSIT_START, ETH, 2 * 10**17, OWNERS[3])]
    forced_txs: list[tuple[str, Transfer | Withdraw]] = [
        (OWNERS[1], Transfer(1, 2, 1000, 0)),  # B owns 1: applied
        (OWNERS[0], Withdraw(2, 5, 0)),  # A does not own 2: skipped
    ]
    forced = [
        QueuedForced(FORCED_START + k, sender, encode_forced_tx(tx))
        for k, (sender, tx) in enumerate(forced_txs)
    ]
    transfers = [
        sign_transfer(SECRETS[0], dst, 0, 1, 123_450_000, 2000, 3),
        sign_transfer(SECRETS[0], dst, 0, 3, 10**17, 0, 4),
        sign_transfer(SECRETS[2], dst, 2, 0, 1, 10, 0),
    ]
    withdraws = [sign_withdraw(SECRETS[1], dst, 1, 10**17, 0, 0)]
    signed: list[SignedTx] = [*transfers, *withdraws]

    def commitment(root: bytes, signature: bytes) -> Commitment:
        return Commitment(
            root,
            DEPOSIT_START + 1,
            FORCED_START + 2,
            0,
            deposits=(DepositTx(3),),
            transfers=tuple(t.tx for t in transfers),
            withdraws=tuple(w.tx for w in withdraws),
            forced=(ForcedSlot(True), ForcedSlot(False)),
            signature=signature,
        )

    run = execute(pre, commitment(bytes(32), bytes(48)), deposits, forced, check_root=False)
    assert run.ok, run.fault
    c = commitment(run.root, aggregate_commitment(signed))
    assert execute(pre, c, deposits, forced).ok
    post = pre.copy()
    commit(post, execute(post, c, deposits, forced), c.deposit_end)
    keys = {OWNERS[i]: SECRETS[i].public_key() for i in range(len(SECRETS))}
    assert check_commitment_signature(c, post, keys.get, dst) == 0
    empty = Commitment(c.post_root, c.deposit_end, c.forced_end, 0)
    batch = encode_batch([c, empty])
    acc = bytes(32)
    accumulators = [acc.hex()]
    for entry in forced:
        acc = forced_accumulator_next(acc, entry.sender, entry.data)
        accumulators.append(acc.hex())
    nonces = signed_nonces(c, post)
    aggregate = signature_from_bytes(c.signature)
    return {
        "formatVersion": FORMAT_VERSION,
        "chainId": CHAIN_ID,
        "rollup": ROLLUP,
        "dst": dst.hex(),
        "emptyRoot": EMPTY_ROOT.hex(),
        "amounts": [{"value": str(v), "packed": encode_amount(v).hex()} for v in AMOUNTS],
        "nonCanonicalAmounts": [
            {"packed": w.to_bytes(4, "big").hex(), "value": str((w >> 5) * 10 ** (w & 31))}
            for w in NONCANONICAL_AMOUNTS
        ],
        "malformedAmounts": [
            {"packed": w.to_bytes(4, "big").hex(), "value": str((w >> 5) * 10 ** (w & 31))}
            for w in MALFORMED_AMOUNTS
        ],
        "fees": [{"value": str(v), "packed": encode_fee(v).hex()} for v in FEES],
        "keys": [
            {
                "owner": OWNERS[i],
                "secret": hex(sk.value),
                "publicKey": sk.public_key().eip2537().hex(),
                "publicKeyCompressed": sk.public_key().compressed.hex(),
                "publicKeyHash": keccak(sk.public_key().eip2537()).hex(),
            }
            for i, sk in enumerate(SECRETS)
        ],
        "preState": {
            "root": pre_root.hex(),
            "depositEnd": DEPOSIT_START,
            "forcedEnd": FORCED_START,
            "accounts": pre_json,
        },
        "deposits": [
            {"index": d.index, "token": d.token, "amount": str(d.amount), "owner": d.owner}
            for d in deposits
        ],
        "forced": [{"index": f.index, "sender": f.sender, "l2tx": f.data.hex()} for f in forced],
        "forcedAccumulators": accumulators,
        "messages": [
            {
                "kind": "transfer" if isinstance(s.tx, Transfer) else "withdraw",
                "sender": s.tx.sender,
                "nonce": n,
                "message": tx_message(s.tx, n).hex(),
                "signature": s.signature.hex(),
                "signatureEip2537": g1_to_eip2537(signature_from_bytes(s.signature).point).hex(),
            }
            for s, n in zip(signed, nonces, strict=True)
        ],
        "aggregate": {
            "compressed": c.signature.hex(),
            "eip2537": aggregate.eip2537().hex(),
        },
        "commitment": {
            "postRoot": c.post_root.hex(),
            "depositEnd": c.deposit_end,
            "forcedEnd": c.forced_end,
            "feeAccount": c.fee_account,
            "rest": c.rest().hex(),
            "restHash": keccak(c.rest()).hex(),
            "encoded": (c.post_root + c.rest()).hex(),
            "hash": c.hash().hex(),
        },
        "emptyCommitment": {"rest": empty.rest().hex(), "hash": empty.hash().hex()},
        "batch": {
            "depositStart": DEPOSIT_START,
            "forcedStart": FORCED_START,
            "data": batch.hex(),
            "hash": batch_hash([c.hash(), empty.hash()]).hex(),
        },
        "postState": {
            "accounts": [_account_json(i, a, post) for i, a in sorted(post.accounts.items())],
        },
        "signers": [
            {
                "index": i,
                "account": post.account(i).packed().hex(),
                "siblings": [x.hex() for x in post.tree.proof(i)],
                "publicKey": keys[post.account(i).owner].eip2537().hex(),
            }
            for i in (0, 2, 1)
        ],
    }


def main() -> None:
    VECTOR_FILE.parent.mkdir(parents=True, exist_ok=True)
    VECTOR_FILE.write_text(json.dumps(build_vectors(), indent=2) + "\n")
    sys.stdout.write(f"wrote {VECTOR_FILE}\n")


if __name__ == "__main__":
    main()
