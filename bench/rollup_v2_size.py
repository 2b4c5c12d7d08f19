"""L1 bytes and EIP-7623 floor gas per transfer of rollup format v2 (issue 11), from the encoder.

Batches of 1, 32, 256 and 1,024 transfers, each commitment full (32 transfers, one 48-byte BLS
aggregate), every transfer from a distinct sender to a random recipient among 2^20 accounts, with
amounts of three significant digits and fees of one to four. Signatures are real (blst), the
post-roots random. The calldata is the whole `postBatch(bytes32,bytes)` input (selector, ABI
words and padding). Gas: the EIP-7623 floor 21,000 + 10 x tokens (tokens = zero bytes + 4 x
non-zero bytes), what a transaction pays at least; the standard rate (4 / 16 per byte) with
postBatch's execution gas added is measured on chain by bench/rollup.py once the contract is v2.
Run: python bench/rollup_v2_size.py from the repository root (no node needed).
"""

from __future__ import annotations

import random
import time

from bench.common import print_table, write_results
from offchain.blobs.cost import TOTAL_COST_FLOOR_PER_TOKEN, TX_BASE_GAS, calldata_tokens
from offchain.bls import SecretKey, signing_dst
from offchain.rollup.codec import encode_batch
from offchain.rollup.params import MAX_TXS_PER_COMMITMENT
from offchain.rollup.posting import encode_posting
from offchain.rollup.signatures import aggregate_commitment
from offchain.rollup.types import Commitment
from offchain.rollup.wallet import sign_transfer

SIZES = (1, 32, 256, 1024)
DST = signing_dst(31337, "0x" + "5f" * 20)


def batch_of(n: int, rng: random.Random) -> bytes:
    commitments = []
    senders = rng.sample(range(1 << 20), n)
    for start in range(0, n, MAX_TXS_PER_COMMITMENT):
        signed = []
        for sender in senders[start : start + MAX_TXS_PER_COMMITMENT]:
            amount = rng.randint(100, 999) * 10 ** rng.randint(12, 18)
            fee = rng.randint(1, 2047) * 10 ** rng.randint(9, 12)
            signed.append(
                sign_transfer(
                    SecretKey(sender + 1), DST, sender, rng.randrange(1 << 20), amount, fee, 0
                )
            )
        commitments.append(
            Commitment(
                post_root=rng.randbytes(32),
                deposit_end=0,
                forced_end=0,
                fee_account=rng.randrange(1 << 20),
                transfers=tuple(s.tx for s in signed),
                signature=aggregate_commitment(signed),
            )
        )
    return encode_batch(commitments)


def _signature_check_rate(rng: random.Random) -> dict:
    """Validator side, one core: check_commitment_signature on full commitments of 32 distinct
    senders (32 hash-to-G1, 33 Miller loops, one final exponentiation each)."""
    from offchain.rollup.signatures import check_commitment_signature
    from offchain.rollup.state import L2State
    from offchain.rollup.types import Account

    runs = []
    for j in range(8):
        state = L2State()
        signed = []
        for i in range(MAX_TXS_PER_COMMITMENT):
            sender = j * 32 + i
            owner = "0x" + f"{sender + 1:040x}"
            state.accounts[sender] = Account(owner, "0x" + "00" * 20, 10**18, 1)
            signed.append(sign_transfer(SecretKey(sender + 1), DST, sender, 0, 10**15, 0, 0))
        keys = {a.owner: SecretKey(i + 1).public_key() for i, a in state.accounts.items()}
        c = Commitment(
            rng.randbytes(32),
            0,
            0,
            0,
            transfers=tuple(s.tx for s in signed),
            signature=aggregate_commitment(signed),
        )
        runs.append((c, state, keys))
    t0 = time.perf_counter()
    for c, state, keys in runs:
        assert check_commitment_signature(c, state, keys.get, DST) == 0
    one = (time.perf_counter() - t0) / len(runs)
    return {"one_commitment_32_signers_s": one, "tx_per_s": MAX_TXS_PER_COMMITMENT / one}


def main() -> None:
    rng = random.Random(11)
    rows, figures = [], {}
    for n in SIZES:
        data = batch_of(n, rng)
        calldata = encode_posting(rng.randbytes(32), data)
        tokens = calldata_tokens(calldata)
        floor = TX_BASE_GAS + TOTAL_COST_FLOOR_PER_TOKEN * tokens
        figures[str(n)] = {
            "transfers": n,
            "commitments": -(-n // MAX_TXS_PER_COMMITMENT),
            "batch_bytes": len(data),
            "calldata_bytes": len(calldata),
            "bytes_per_transfer": len(calldata) / n,
            "calldata_tokens": tokens,
            "floor_gas": floor,
            "floor_gas_per_transfer": floor / n,
            "floor_gas_per_transfer_without_base": TOTAL_COST_FLOOR_PER_TOKEN * tokens / n,
        }
        rows.append(
            (
                n,
                -(-n // MAX_TXS_PER_COMMITMENT),
                len(data),
                len(calldata),
                len(calldata) / n,
                floor,
                floor / n,
            )
        )
    print_table(
        "rollup format v2: postBatch calldata per transfer (EIP-7623 floor)",
        (
            "transfers",
            "commitments",
            "batch B",
            "calldata B",
            "B/transfer",
            "floor gas",
            "floor gas/transfer",
        ),
        rows,
    )
    rate = _signature_check_rate(rng)
    print(
        f"\nvalidator aggregate check, one core: {rate['tx_per_s']:,.0f} tx/s "
        f"({rate['one_commitment_32_signers_s'] * 1e3:.1f} ms per full commitment of distinct "
        "senders)"
    )
    write_results(
        "rollup_v2_size",
        {
            "signature_check": rate,
            "format_version": 2,
            "note": "computed from the encoder, not on chain; gas = EIP-7623 floor only",
            "bytes_per_transfer": figures["1024"]["bytes_per_transfer"],
            "floor_gas_per_transfer": figures["1024"]["floor_gas_per_transfer"],
            "posting": figures,
        },
    )


if __name__ == "__main__":
    main()
