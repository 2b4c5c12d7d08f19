"""State transition: every fault in pure Python, and the same verdict, failing tx and root from
the on-chain executor (differential, fixed catalog + hypothesis random sequences)."""

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from offchain.rollup.builder import build_batch
from offchain.rollup.codec import decode_tx_at, encode_tx
from offchain.rollup.eip712 import Domain, address_of
from offchain.rollup.execute import Fault, commit, execute
from offchain.rollup.hashing import keccak
from offchain.rollup.params import MAX_BALANCE, MAX_NONCE
from offchain.rollup.state import L2State
from offchain.rollup.types import Account, DepositTx, QueuedDeposit, Withdraw
from offchain.rollup.wallet import sign_transfer, sign_withdraw

SEP = Domain(31337, "0x" + "42" * 20).separator()
KEYS = [keccak(b"exec key %d" % i) for i in range(5)]
OWN = [address_of(k) for k in KEYS]
ETH = "0x" + "00" * 20
TOK = "0x" + "77" * 20
MAXU = 2**256 - 1


def make_state() -> L2State:
    s = L2State()
    accs = {
        0: Account(OWN[0], ETH, 10**18, 0),
        1: Account(OWN[1], ETH, 10**18, 0),
        2: Account(OWN[2], TOK, 10**18, 0),
        3: Account(OWN[3], ETH, MAX_BALANCE - 5, 0),
        4: Account(OWN[0], ETH, 10**18, MAX_NONCE),
    }
    for i, a in accs.items():
        s.accounts[i] = a
        s.tree.set_leaf(i, a.leaf_hash())
    return s


def T(k, f, t, amount, fee=0, nonce=0):
    return encode_tx(sign_transfer(KEYS[k], SEP, f, t, amount, fee, nonce))


def W(k, f, amount, fee=0, nonce=0):
    return encode_tx(sign_withdraw(KEYS[k], SEP, f, amount, fee, nonce))


def D(i):
    return encode_tx(DepositTx(i))


def dep(n, owner=OWN[1], token=ETH, amount=10**17):
    return QueuedDeposit(n, token, amount, owner)


# name: (txs, fee_account, deposits, fault, tx_index)
CATALOG = {
    "valid-transfer-with-fee": (T(0, 0, 1, 10**17, 1000), 1, [], Fault.NONE, -1),
    "valid-withdraw": (W(1, 1, 10**17), 0, [], Fault.NONE, -1),
    "valid-self-transfer": (T(0, 0, 0, 5), 0, [], Fault.NONE, -1),
    "valid-deposit-new-account": (D(9), 0, [dep(0)], Fault.NONE, -1),
    "valid-deposit-existing": (D(1), 0, [dep(0)], Fault.NONE, -1),
    "empty-commitment": (b"", 0, [], Fault.NONE, -1),
    "unknown-type": (b"\x09\x00\x00\x00", 0, [], Fault.MALFORMED, 0),
    "truncated": (T(0, 0, 1, 5) + T(1, 1, 0, 5)[:50], 0, [], Fault.MALFORMED, 1),
    "33-txs": (D(9) * 33, 0, [dep(i) for i in range(33)], Fault.MALFORMED, 32),
    "bad-signature": (T(1, 0, 1, 5), 0, [], Fault.BAD_SIGNATURE, 0),
    "wrong-nonce": (T(0, 0, 1, 5, nonce=1), 0, [], Fault.BAD_SIGNATURE, 0),
    "replay": (T(0, 0, 1, 5) + T(0, 0, 1, 5), 0, [], Fault.BAD_SIGNATURE, 1),
    "overspend": (T(0, 0, 1, 10**18, 1), 0, [], Fault.OVERSPEND, 0),
    "sender-missing": (T(0, 7, 1, 5), 0, [], Fault.NO_ACCOUNT, 0),
    "recipient-missing": (T(0, 0, 7, 5), 0, [], Fault.NO_ACCOUNT, 0),
    "cross-token": (T(0, 0, 2, 5), 0, [], Fault.TOKEN_MISMATCH, 0),
    "recipient-overflow": (T(0, 0, 3, 10), 0, [], Fault.BALANCE_OVERFLOW, 0),
    "deposit-without-queue-entry": (D(1), 0, [], Fault.DEPOSIT_MISMATCH, 0),
    "deposit-skipped": (b"", 0, [dep(0)], Fault.DEPOSIT_MISMATCH, -1),
    "deposit-foreign-owner": (D(0), 0, [dep(0)], Fault.TOKEN_MISMATCH, 0),
    "deposit-foreign-token": (D(1), 0, [dep(0, token=TOK)], Fault.TOKEN_MISMATCH, 0),
    "deposit-overflow": (D(3), 0, [dep(0, owner=OWN[3])], Fault.BALANCE_OVERFLOW, 0),
    "zero-withdraw": (W(1, 1, 0), 0, [], Fault.ZERO_WITHDRAW, 0),
    "nonce-exhausted": (T(0, 4, 1, 5, nonce=MAX_NONCE), 0, [], Fault.NONCE_EXHAUSTED, 0),
    "fee-two-tokens": (T(0, 0, 1, 5, 10) + T(2, 2, 2, 5, 10), 0, [], Fault.TOKEN_MISMATCH, 1),
    "fee-account-missing": (T(0, 0, 1, 5, 10), 8, [], Fault.NO_ACCOUNT, -1),
    "fee-account-other-token": (T(0, 0, 1, 5, 10), 2, [], Fault.TOKEN_MISMATCH, -1),
    "fee-account-overflow": (T(0, 0, 1, 5, 10), 3, [], Fault.BALANCE_OVERFLOW, -1),
}


def _onchain(harness, state, txs, fee_account, deposits, ex):
    proof = (
        0,
        [],
        0,
        (b"\x00" * 32, 0, 0, b"\x00" * 32, 0),
        b"\x00" * 32,
        0,
        fee_account,
        txs,
        [(d.token, d.amount, d.owner) for d in deposits],
        ex.witness_bytes(),
        0,
        [],
    )
    return harness.execute(state.root, SEP, proof)


@pytest.mark.parametrize("name", list(CATALOG))
def test_catalog_python_and_solidity_agree(harness, name):
    txs, fee_account, deposits, fault, tx_index = CATALOG[name]
    state = make_state()
    ex = execute(state, txs, fee_account, deposits, SEP)
    assert (ex.fault, ex.tx_index) == (fault, tx_index)
    got = _onchain(harness, state, txs, fee_account, deposits, ex)
    assert got[0] == fault.value
    assert got[1] == (MAXU if tx_index < 0 else tx_index)
    assert got[2] == ex.root


def test_execution_is_pure_and_commit_is_the_only_write():
    state = make_state()
    root = state.root
    ex = execute(state, T(0, 0, 1, 10**17, 1000), 1, [], SEP)
    assert state.root == root and state.account(0).balance == 10**18
    commit(state, ex, 0)
    assert state.root == ex.root
    assert state.account(0) == Account(OWN[0], ETH, 10**18 - 10**17 - 1000, 1)
    assert state.account(1).balance == 10**18 + 10**17 + 1000
    bad = execute(state, T(1, 0, 1, 5), 0, [], SEP)
    with pytest.raises(ValueError, match="invalid"):
        commit(state, bad, 0)
    stale = execute(make_state(), b"", 0, [], SEP)
    with pytest.raises(ValueError, match="another state"):
        commit(state, stale, 0)


def test_builder_drops_invalid_txs_and_routes_deposits():
    state = make_state()
    txs = [
        sign_transfer(KEYS[1], SEP, 0, 1, 5, 0, 0),  # not the owner: dropped
        sign_transfer(KEYS[0], SEP, 0, 1, 5, 0, 0),
        sign_withdraw(KEYS[1], SEP, 1, 0, 0, 0),  # zero withdraw: dropped
    ]
    deposits = [dep(0, owner=OWN[1]), dep(1, owner=OWN[4]), dep(2, owner=OWN[4])]
    batch, post = build_batch(state, deposits, txs, SEP)
    assert [r[1] for r in batch.rejected] == ["BAD_SIGNATURE", "ZERO_WITHDRAW"]
    assert post.account(1).balance == 10**18 + 10**17 + 5
    assert post.account(5) == Account(OWN[4], ETH, 2 * 10**17, 0)  # one new account, in order
    assert state.root != post.root and post.deposit_end == 3
    with pytest.raises(ValueError, match="queue position"):
        build_batch(state, deposits[1:], [], SEP)
    with pytest.raises(ValueError, match="nothing to post"):
        build_batch(state, [], [txs[0]], SEP)


def test_builder_splits_into_bounded_commitments():
    state = make_state()
    txs = [sign_transfer(KEYS[0], SEP, 0, 1, 1, 0, n) for n in range(70)]
    batch, post = build_batch(state, [], txs, SEP)
    assert [len(c.execution.accesses) for c in batch.commitments] == [64, 64, 12]
    assert post.account(0).nonce == 70


op_strategy = st.tuples(
    st.sampled_from(["t", "w", "d"]),
    st.integers(0, 5),  # from / account
    st.integers(0, 5),  # to
    st.sampled_from([0, 1, 10**15, 10**17, 10**18, 2 * 10**18]),
    st.sampled_from([0, 0, 7]),
    st.booleans(),  # right signer
    st.integers(-1, 1),  # nonce offset
)


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.lists(op_strategy, max_size=10), st.integers(0, 3))
def test_random_sequences_agree_on_chain(harness, ops, fee_account):
    state = make_state()
    nonces = {i: state.account(i).nonce for i in range(6)}
    parts, deposits = [], []
    for kind, f, t, amount, fee, right, off in ops:
        if kind == "d":
            deposits.append(dep(len(deposits), owner=OWN[f % 5], amount=amount or 1))
            parts.append(D(f))
            continue
        key = KEYS[f % 5] if right else KEYS[(f + 1) % 5]
        n = max(0, min(MAX_NONCE, nonces.get(f, 0) + off))
        if kind == "t":
            parts.append(_t(key, f, t, amount, fee, n))
        else:
            parts.append(encode_tx(Withdraw(f, amount, fee, _w(key, f, amount, fee, n))))
        nonces[f] = nonces.get(f, 0) + 1
    txs = b"".join(parts)
    ex = execute(state, txs, fee_account, deposits, SEP)
    got = _onchain(harness, state, txs, fee_account, deposits, ex)
    assert got[0] == ex.fault.value
    assert got[2] == ex.root
    # the operator's path: invalid txs dropped, the rest committed; the chain agrees on each root
    user_txs = [decode_tx_at(p, 0)[0] for p in parts if p[0] != 1]
    if not deposits and not user_txs:
        return
    try:
        batch, _ = build_batch(state, deposits, user_txs, SEP, fee_account=1)
    except ValueError as e:
        assert "nothing to post" in str(e)
        return
    pre = state.root
    for bc in batch.commitments:
        c = bc.commitment
        proof = (0, [], 0, (b"\x00" * 32, 0, 0, b"\x00" * 32, 0), b"\x00" * 32, 0, c.fee_account)
        proof += (c.tx_data, [(d.token, d.amount, d.owner) for d in bc.deposits])
        proof += (bc.execution.witness_bytes(), 0, [])
        assert harness.execute(pre, SEP, proof) == (0, MAXU, c.post_root)
        pre = c.post_root


def _t(key, f, t, amount, fee, n):
    return encode_tx(sign_transfer(key, SEP, f, t, amount, fee, n))


def _w(key, f, amount, fee, n):
    return sign_withdraw(key, SEP, f, amount, fee, n).signature


def test_replay_rejects_inputs_that_are_not_posted_data():
    from offchain.rollup.replay import PostedBatch, replay

    with pytest.raises(ValueError, match="consecutive"):
        replay([PostedBatch(1, b"")], [], SEP)
    with pytest.raises(ValueError, match="does not decode"):
        replay([PostedBatch(0, b"\x00" * 10)], [], SEP)
    from offchain.rollup.codec import encode_batch
    from offchain.rollup.merkle import EMPTY_ROOT
    from offchain.rollup.types import Commitment

    ahead = encode_batch([Commitment(EMPTY_ROOT, 2, 0, b"")])
    with pytest.raises(ValueError, match="known"):
        replay([PostedBatch(0, ahead)], [dep(0)], SEP)
