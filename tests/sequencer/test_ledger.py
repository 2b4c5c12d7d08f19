"""The admission ledger accepts exactly what execute() (format v2, no signatures: those are
checked apart, tests/sequencer/test_bls_admission.py) accepts, in order, with the same balances
and nonces (random sequences with bad nonces, overspends, unknown accounts, token mismatches and
fees)."""

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from offchain.rollup.execute import commit, execute
from offchain.rollup.state import L2State
from offchain.rollup.types import Account, Commitment, Transfer, Withdraw
from offchain.sequencer.ledger import Ledger, Overlay, admit_on

OWNERS = ["0x" + f"{k + 1:02x}" * 20 for k in range(3)]
TOKEN_A, TOKEN_B = "0x" + "aa" * 20, "0x" + "bb" * 20
FEE_ACCOUNT = 0
N_INDEXES = 6  # 0..4 exist, 5 never does
SIG = b"\xc0" + bytes(47)  # execute() never reads it (format v2: the signature dispute does)

GENESIS = {
    0: Account(OWNERS[0], TOKEN_A, 10, 0),
    1: Account(OWNERS[1], TOKEN_A, 1000, 0),
    2: Account(OWNERS[2], TOKEN_A, 500, 0),
    3: Account(OWNERS[1], TOKEN_B, 700, 0),
    4: Account(OWNERS[2], TOKEN_A, 2**128 - 50, 0),
}

op = st.tuples(
    st.sampled_from(["transfer", "withdraw"]),
    st.integers(0, N_INDEXES - 1),  # sender
    st.integers(0, N_INDEXES - 1),  # recipient
    st.sampled_from([0, 1, 5, 100, 400, 999, 1000]),  # amount
    st.sampled_from([0, 0, 1, 3]),  # fee
    st.sampled_from([0, 0, 0, -1, 1]),  # nonce offset from the right one
)


def genesis_state() -> L2State:
    state = L2State()
    for i, acc in GENESIS.items():
        state.tree.set_leaf(i, acc.leaf_hash())
        state.accounts[i] = acc
    return state


def one_tx_commitment(state: L2State, tx) -> Commitment:
    transfers = (tx,) if isinstance(tx, Transfer) else ()
    withdraws = (tx,) if isinstance(tx, Withdraw) else ()
    return Commitment(
        state.root,
        state.deposit_end,
        state.forced_end,
        FEE_ACCOUNT,
        transfers=transfers,
        withdraws=withdraws,
        signature=SIG,
    )


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(op, min_size=1, max_size=14))
def test_ledger_admits_what_execute_accepts(ops):
    state = genesis_state()
    ledger = Ledger.of(state.accounts, 0, 0)
    for kind, sender, recipient, amount, fee, offset in ops:
        acc = state.account(sender)
        nonce = max(0, acc.nonce + offset)
        tx = Transfer(sender, recipient, amount, fee) if kind == "transfer" else None
        if tx is None:
            tx = Withdraw(sender, amount, fee)

        # The reference: nonce check + execute() of a commitment holding only this tx.
        ex = execute(state, one_tx_commitment(state, tx), (), check_root=False)
        expect_ok = (
            not acc.is_empty
            and nonce == acc.nonce
            and (isinstance(tx, Withdraw) or not state.account(recipient).is_empty)
            and ex.ok
        )
        view = Overlay(ledger)
        refused = admit_on(view, tx, nonce, FEE_ACCOUNT)
        assert (refused is None) == expect_ok, (tx, refused, ex.fault)
        if refused is not None and ex.ok is False and not acc.is_empty and nonce == acc.nonce:
            recipient_known = isinstance(tx, Withdraw) or not state.account(recipient).is_empty
            if recipient_known:
                assert refused[0] == ex.fault.name.lower()
        if expect_ok:
            commit(state, ex, state.deposit_end)
            view.merge()
        else:
            assert view.writes == {}  # a refused tx leaves no trace
        assert {i: ledger.account(i) for i in ledger.entries} == state.accounts
