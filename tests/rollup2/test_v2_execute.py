"""Format v2 state transition: sections in order, no signatures, one case per fault kind,
forced txs authenticated by their L1 sender (no nonce change, no fee), witnesses as v1."""

import json

import pytest
from format_v2_helpers import ETH, OWNERS, TOK, build, make_state, put, signed_for
from hypothesis import given, settings
from hypothesis import strategies as st

from offchain.rollup.codec import decode_batch, encode_forced_tx
from offchain.rollup.execute import Fault, commit, execute
from offchain.rollup.merkle import root_from_proof, verify_proof
from offchain.rollup.params import MAX_BALANCE, MAX_NONCE
from offchain.rollup.state import L2State
from offchain.rollup.types import (
    Account,
    Commitment,
    DepositTx,
    ForcedSlot,
    QueuedDeposit,
    QueuedForced,
    Transfer,
    Withdraw,
)
from offchain.rollup.vectors import VECTOR_FILE

V = json.loads(VECTOR_FILE.read_text())
SIG = bytes(48)  # execution never reads the signature


def state() -> L2State:
    s = make_state(6)
    put(s, 6, Account(OWNERS[6], TOK, 10**18, 0))
    put(s, 7, Account(OWNERS[7], ETH, MAX_BALANCE - 5, 0))
    put(s, 8, Account(OWNERS[8], ETH, 10**18, MAX_NONCE))
    return s


def C(**kw) -> Commitment:
    s = kw.pop("pre")
    kw.setdefault("fee_account", 0)
    signed = kw.get("transfers") or kw.get("withdraws")
    kw.setdefault("signature", SIG if signed else b"")
    kw.setdefault("deposit_end", s.deposit_end + len(kw.get("deposits", ())))
    kw.setdefault("forced_end", s.forced_end + len(kw.get("forced", ())))
    return Commitment(bytes(32), **kw)


def dep(n, owner=OWNERS[1], token=ETH, amount=10**17):
    return QueuedDeposit(n, token, amount, owner)


def fx(n, sender, tx):
    return QueuedForced(n, sender, encode_forced_tx(tx))


T, W, D, F = Transfer, Withdraw, DepositTx, ForcedSlot
BIG = ((1 << 27) - 1) * 10**31  # decodes, above 2^128-1

# name: (sections, queued deposits, queued forced, fault, slot)
CATALOG = {
    "valid-transfer-with-fee": (
        dict(transfers=(T(0, 1, 10**17, 1000),), fee_account=1),
        [],
        [],
        Fault.NONE,
        -1,
    ),
    "valid-withdraw": (dict(withdraws=(W(1, 10**17, 0),)), [], [], Fault.NONE, -1),
    "valid-self-transfer": (dict(transfers=(T(0, 0, 5, 0),)), [], [], Fault.NONE, -1),
    "valid-deposit-new": (dict(deposits=(D(20),)), [dep(0)], [], Fault.NONE, -1),
    "valid-deposit-existing": (dict(deposits=(D(1),)), [dep(0)], [], Fault.NONE, -1),
    "empty": (dict(), [], [], Fault.NONE, -1),
    "amount-above-2^128": (dict(transfers=(T(0, 1, BIG, 0),)), [], [], Fault.MALFORMED, 0),
    "withdraw-above-2^128": (dict(withdraws=(W(0, BIG, 0),)), [], [], Fault.MALFORMED, 0),
    "outcome-byte-2": (
        dict(forced=(F(False, raw_outcome=2),)),
        [],
        [fx(0, OWNERS[0], W(0, 1, 0))],
        Fault.MALFORMED,
        0,
    ),
    "overspend": (dict(transfers=(T(0, 1, 10**18, 1),)), [], [], Fault.OVERSPEND, 0),
    "sender-missing": (dict(transfers=(T(30, 1, 5, 0),)), [], [], Fault.NO_ACCOUNT, 0),
    "recipient-missing": (dict(transfers=(T(0, 30, 5, 0),)), [], [], Fault.NO_ACCOUNT, 0),
    "withdraw-sender-missing": (dict(withdraws=(W(30, 5, 0),)), [], [], Fault.NO_ACCOUNT, 0),
    "cross-token": (dict(transfers=(T(0, 6, 5, 0),)), [], [], Fault.TOKEN_MISMATCH, 0),
    "fee-token-mix": (
        dict(transfers=(T(0, 1, 5, 1), T(6, 6, 5, 1))),
        [],
        [],
        Fault.TOKEN_MISMATCH,
        1,
    ),
    "recipient-overflow": (dict(transfers=(T(0, 7, 10, 0),)), [], [], Fault.BALANCE_OVERFLOW, 0),
    "nonce-exhausted": (dict(transfers=(T(8, 1, 5, 0),)), [], [], Fault.NONCE_EXHAUSTED, 0),
    "zero-withdraw": (dict(withdraws=(W(0, 0, 0),)), [], [], Fault.ZERO_WITHDRAW, 0),
    "zero-withdraw-no-account": (dict(withdraws=(W(30, 0, 0),)), [], [], Fault.ZERO_WITHDRAW, 0),
    "deposit-without-entry": (dict(deposits=(D(1),)), [], [], Fault.DEPOSIT_MISMATCH, 0),
    "deposit-skipped": (dict(deposit_end=1), [dep(0)], [], Fault.DEPOSIT_MISMATCH, -1),
    "deposit-foreign-owner": (dict(deposits=(D(0),)), [dep(0)], [], Fault.TOKEN_MISMATCH, 0),
    "deposit-foreign-token": (
        dict(deposits=(D(1),)),
        [dep(0, token=TOK)],
        [],
        Fault.TOKEN_MISMATCH,
        0,
    ),
    "deposit-overflow": (
        dict(deposits=(D(7),)),
        [dep(0, owner=OWNERS[7])],
        [],
        Fault.BALANCE_OVERFLOW,
        0,
    ),
    "fee-account-missing": (
        dict(transfers=(T(0, 1, 5, 1),), fee_account=30),
        [],
        [],
        Fault.NO_ACCOUNT,
        -1,
    ),
    "fee-account-token": (
        dict(transfers=(T(0, 1, 5, 1),), fee_account=6),
        [],
        [],
        Fault.TOKEN_MISMATCH,
        -1,
    ),
    "fee-account-overflow": (
        dict(transfers=(T(0, 1, 5, 10),), fee_account=7),
        [],
        [],
        Fault.BALANCE_OVERFLOW,
        -1,
    ),
    "forced-without-entry": (dict(forced=(F(True),)), [], [], Fault.FORCED_MISMATCH, 0),
    "forced-skipped-entry": (
        dict(forced_end=1),
        [],
        [fx(0, OWNERS[0], W(0, 1, 0))],
        Fault.FORCED_MISMATCH,
        -1,
    ),
    "forced-claims-skip-of-valid": (
        dict(forced=(F(False),)),
        [],
        [fx(0, OWNERS[0], W(0, 1, 0))],
        Fault.FORCED_OUTCOME,
        0,
    ),
    "forced-claims-apply-of-foreign": (
        dict(forced=(F(True),)),
        [],
        [fx(0, OWNERS[1], W(0, 1, 0))],
        Fault.FORCED_OUTCOME,
        0,
    ),
    "wrong-root": (dict(transfers=(T(0, 1, 5, 0),)), [], [], Fault.WRONG_ROOT, -1),
}


@pytest.mark.parametrize("name", sorted(CATALOG))
def test_catalog(name):
    sections, deps, forced, fault, slot = CATALOG[name]
    s = state()
    c = C(pre=s, **sections)
    ex = execute(s, c, deps, forced, check_root=False)
    if fault == Fault.WRONG_ROOT:
        assert ex.ok
        ex = execute(s, c, deps, forced)
    assert (ex.fault, ex.tx_index) == (fault, slot), name
    if fault == Fault.NONE:  # the true root makes it a valid commitment
        good = Commitment(
            ex.root,
            c.deposit_end,
            c.forced_end,
            c.fee_account,
            c.deposits,
            c.transfers,
            c.withdraws,
            c.forced,
            c.signature,
        )
        assert execute(s, good, deps, forced).ok


def test_sections_run_in_order_and_slots_count_across_them():
    s = state()
    # deposit into 20, transfer 20 -> 0 (needs the deposit first), withdraw, forced
    c = C(
        pre=s,
        deposits=(D(20),),
        transfers=(T(20, 0, 10**16, 0),),
        withdraws=(W(20, 1, 0),),
        forced=(F(True),),
    )
    forced = [fx(0, OWNERS[1], W(20, 1, 0))]  # OWNERS[1] owns the deposited account 20
    ex = execute(s, c, [dep(0)], forced, check_root=False)
    assert ex.ok
    assert [w.tx_index for w in ex.withdrawals] == [2, 3]
    assert ex.withdrawals[1].forced_tx == forced[0].data
    # accesses: deposit 20; transfer sender 20, recipient 0; withdraw 20; forced 20
    assert [a.index for a in ex.accesses] == [20, 20, 0, 20, 20]
    post = dict(ex.writes)
    assert post[20].nonce == 2  # the transfer and the withdraw; the forced tx does not count
    assert post[20].balance == 10**17 - 10**16 - 2
    # a transfer before the deposit that funds it fails: the deposit section runs first only
    bad = C(pre=s, transfers=(T(20, 0, 1, 0),))
    assert execute(s, bad, [], check_root=False).fault == Fault.NO_ACCOUNT


def test_forced_tx_is_authenticated_by_its_l1_sender_and_keeps_the_nonce():
    s = state()
    put(s, 9, Account(OWNERS[9], ETH, 100, MAX_NONCE))  # no nonce room: forced still applies
    cases = [
        (fx(0, OWNERS[9], W(9, 40, 2047)), True),  # fee never charged
        (fx(1, OWNERS[9], T(9, 1, 60, 0)), True),
        (fx(2, OWNERS[1], T(9, 1, 1, 0)), False),  # not the owner
        (fx(3, OWNERS[9], T(9, 1, 1, 0)), False),  # balance now 0
        (fx(4, OWNERS[0], W(0, 0, 0)), False),  # zero withdraw
        (fx(5, OWNERS[0], T(0, 30, 1, 0)), False),  # recipient missing
        (fx(6, OWNERS[0], T(0, 6, 1, 0)), False),  # other token
        (fx(7, OWNERS[0], T(0, 7, 10, 0)), False),  # recipient overflow
        (
            QueuedForced(8, OWNERS[0], bytes.fromhex("02000000000001ffffffff0000")),
            False,
        ),  # amount above 2^128-1: skipped (not the commitment's fault)
        (fx(9, OWNERS[0], W(30, 1, 0)), False),  # no account
    ]
    forced = [f for f, _ in cases]
    c = C(pre=s, forced=tuple(F(ok) for _, ok in cases), fee_account=5)
    ex = execute(s, c, [], forced, check_root=False)
    assert ex.ok, ex.fault
    post = dict(ex.writes)
    assert post[9] == Account(OWNERS[9], ETH, 0, MAX_NONCE)
    assert post[1].balance == 10**18 + 60
    assert 5 not in post  # no fee credited
    assert len(ex.withdrawals) == 1 and ex.withdrawals[0].amount == 40
    for k, (_, ok) in enumerate(cases):  # each outcome byte is checked
        flipped = list(c.forced)
        flipped[k] = F(not ok)
        c2 = C(pre=s, forced=tuple(flipped), fee_account=5)
        assert execute(s, c2, [], forced, check_root=False).fault == Fault.FORCED_OUTCOME


def test_witnesses_are_828_bytes_per_access_and_verify_in_order():
    s = state()
    c, ex = build(s, signed=signed_for(s, [(0, 1, 5, 1), (1, 2, 3, 0)], [(2, 1, 0)]), fee_account=3)
    assert ex.ok
    assert len(ex.witness_bytes()) == 828 * len(ex.accesses) == 828 * 6
    # replay the accesses: each witness proves the leaf against the root at that moment
    # (each access is followed by its write: the next access of that leaf, or the final value)
    tree = s.tree.overlay()
    writes = dict(ex.writes)
    for k, a in enumerate(ex.accesses):
        assert verify_proof(tree.root, a.index, a.account.leaf_hash(), a.siblings)
        later = [b.account for b in ex.accesses[k + 1 :] if b.index == a.index]
        tree.set_leaf(a.index, (later[0] if later else writes[a.index]).leaf_hash())
    assert tree.root == c.post_root
    assert root_from_proof(0, ex.accesses[0].account.leaf_hash(), ex.accesses[0].siblings) == s.root


def test_execution_is_pure_and_commit_is_the_only_write():
    s = state()
    before = (s.root, dict(s.accounts))
    c, ex = build(s, signed=signed_for(s, [(0, 1, 5, 0)]))
    assert (s.root, s.accounts) == before
    commit(s, ex, c.deposit_end)
    assert s.root == c.post_root
    bad = execute(s, C(pre=s, transfers=(T(0, 30, 1, 0),)), [], check_root=False)
    with pytest.raises(ValueError, match="invalid execution"):
        commit(s, bad, 0)


def test_vector_commitment_executes_to_its_post_root():
    pre = L2State(deposit_end=V["preState"]["depositEnd"], forced_end=V["preState"]["forcedEnd"])
    for a in V["preState"]["accounts"]:
        put(pre, a["index"], Account(a["owner"], a["token"], int(a["balance"]), a["nonce"]))
    assert pre.root.hex() == V["preState"]["root"]
    b = V["batch"]
    cs = decode_batch(bytes.fromhex(b["data"]), b["depositStart"], b["forcedStart"])
    deps = [
        QueuedDeposit(d["index"], d["token"], int(d["amount"]), d["owner"]) for d in V["deposits"]
    ]
    forced = [QueuedForced(f["index"], f["sender"], bytes.fromhex(f["l2tx"])) for f in V["forced"]]
    ex = execute(pre, cs[0], deps, forced)
    assert ex.ok
    commit(pre, ex, cs[0].deposit_end)
    assert execute(pre, cs[1], [], []).ok
    for a in V["postState"]["accounts"]:
        assert pre.account(a["index"]).packed().hex() == a["packed"]


def _model(accounts, transfers, withdraws, fee_account):
    """An independent, naive reading of the v2 rules for transfers and withdraws (no deposits,
    no forced): (fault, slot, final accounts)."""
    acc = {i: [a.owner, a.token, a.balance, a.nonce] for i, a in accounts.items()}
    fee_token, fees = None, 0
    ops = [("t", t) for t in transfers] + [("w", w) for w in withdraws]
    for slot, (_, tx) in enumerate(ops):  # decoding first: MALFORMED before any other fault
        if tx.amount > MAX_BALANCE:
            return Fault.MALFORMED, slot, None
    for slot, (kind, tx) in enumerate(ops):
        if kind == "w" and tx.amount == 0:
            return Fault.ZERO_WITHDRAW, slot, None
        s = acc.get(tx.sender)
        if s is None:
            return Fault.NO_ACCOUNT, slot, None
        if tx.amount + tx.fee > s[2]:
            return Fault.OVERSPEND, slot, None
        if s[3] == MAX_NONCE:
            return Fault.NONCE_EXHAUSTED, slot, None
        if tx.fee:
            if fee_token is None:
                fee_token = s[1]
            elif fee_token != s[1]:
                return Fault.TOKEN_MISMATCH, slot, None
            fees += tx.fee
        s[2] -= tx.amount + tx.fee
        s[3] += 1
        if kind == "t":
            r = acc.get(tx.recipient)
            if r is None:
                return Fault.NO_ACCOUNT, slot, None
            if r[1] != s[1]:
                return Fault.TOKEN_MISMATCH, slot, None
            if r[2] + tx.amount > MAX_BALANCE:
                return Fault.BALANCE_OVERFLOW, slot, None
            r[2] += tx.amount
    if fees:
        f = acc.get(fee_account)
        if f is None:
            return Fault.NO_ACCOUNT, -1, None
        if f[1] != fee_token:
            return Fault.TOKEN_MISMATCH, -1, None
        if f[2] + fees > MAX_BALANCE:
            return Fault.BALANCE_OVERFLOW, -1, None
        f[2] += fees
    return Fault.NONE, -1, {i: Account(*v) for i, v in acc.items()}


# accounts 0..9 exist (6 in another token, 7 near the balance cap, 8 at the last nonce), 10 and
# 11 do not; amounts mostly small so that sequences get past their first tx
_idx = st.one_of(st.integers(0, 9), st.integers(0, 11), st.sampled_from([6, 7, 8, 9]))
_amt = st.one_of(
    st.sampled_from([1, 5, 10**17]),
    st.sampled_from([0, 5 * 10**17, 10**18, MAX_BALANCE - 3, BIG]),
)
_fee = st.sampled_from([0, 0, 1, 2000])


@settings(max_examples=300, deadline=None)
@given(
    st.lists(st.builds(T, _idx, _idx, _amt, _fee), max_size=8),
    st.lists(st.builds(W, _idx, _amt, _fee), max_size=4),
    st.integers(0, 11),
)
def test_execution_agrees_with_a_naive_model(transfers, withdraws, fee_account):
    s = state()
    put(s, 9, Account(OWNERS[9], ETH, MAX_BALANCE - 10, 2))
    c = C(pre=s, transfers=tuple(transfers), withdraws=tuple(withdraws), fee_account=fee_account)
    ex = execute(s, c, [], check_root=False)
    fault, slot, final = _model(dict(s.accounts), transfers, withdraws, fee_account)
    assert (ex.fault, ex.tx_index) == (fault, slot)
    if fault == Fault.NONE:
        got = {**s.accounts, **dict(ex.writes)}
        assert got == final
