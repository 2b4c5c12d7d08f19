"""Format v2 on Anvil: L1 bytes and gas of postings (1, 32, 256, 1,024 transfers) and the
worst case of the state dispute (a full commitment of transfers with a wrong root: 65 leaf
witnesses). Figures are printed (run with -s); the signature dispute's worst case is measured in
test_signature_dispute.py. Marked slow: a 1,024-transfer batch is signed and built in Python."""

import pytest

from offchain.rollup import adversary as adv
from offchain.rollup.codec import encode_batch
from offchain.rollup.wallet import sign_transfer

USERS = (1, 2, 3, 5)


def _txs(env, op, n: int) -> list:
    """n transfers, round robin over the users' accounts (0..3), nonces in order."""
    nonce = {i: op.state.account(i).nonce for i in range(len(USERS))}
    out = []
    for k in range(n):
        s = k % len(USERS)
        r = (s + 1) % len(USERS)
        out.append(sign_transfer(env.bls(USERS[s]), env.dst, s, r, 10**12, 0, nonce[s]))
        nonce[s] += 1
    return out


@pytest.mark.slow
def test_posting_bytes_and_gas_per_transfer(env):
    env.bond(0, 10 * 10**18)
    env.register(*USERS)
    for i in USERS:
        env.deposit_eth(i, 10**18)
    op = env.operator()
    op.step([])
    lines = []
    for n in (1, 32, 256, 1024):
        batch, receipt = op.step(_txs(env, op, n))
        assert batch.rejected == ()
        gas = receipt["gasUsed"]
        lines.append(
            f"{n:5d} transfers: {len(batch.data):6d} bytes ({len(batch.data) / n:6.2f}/transfer), "
            f"{gas:8d} gas ({gas / n:8.1f}/transfer)"
        )
        if n == 1024:
            assert len(batch.data) / n <= 16
    result = env.validator().check()
    assert result.fraud is None
    print("\n" + "\n".join(lines))


@pytest.mark.slow
def test_state_dispute_worst_case_full_commitment(env):
    env.bond(0)
    env.bond(4, 2 * 10**18)
    env.register(*USERS)
    for i in USERS:
        env.deposit_eth(i, 10**18)
    op = env.operator(fee_account=0)
    op.step([])
    txs = [
        sign_transfer(env.bls(USERS[k % 4]), env.dst, k % 4, (k + 1) % 4, 10**12, 1, k // 4)
        for k in range(32)
    ]
    cs = adv.wrong_root(op.state, txs)
    assert len(cs) == 1 and len(cs[0].transfers) == 32
    env.signer(4).send(env.l1.rollup.functions.postBatch(op.state.root, encode_batch(cs)))
    result, receipt = env.validator(9).challenge()
    assert result.fraud is not None and len(result.fraud.proof.witnesses) == 65 * 828
    gas = receipt["gasUsed"]
    print(f"\nstate dispute, 32 transfers + fee credit (65 witnesses): {gas} gas")
    assert gas <= 3_000_000
