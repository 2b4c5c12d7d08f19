"""The admission ledger accepts exactly what execute() accepts, in order, with the same balances
and nonces (random sequences with bad nonces, overspends, unknown accounts, wrong signers,
token mismatches and fees)."""

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from offchain.rollup.codec import encode_txs
from offchain.rollup.eip712 import address_of, recover, transfer_digest, withdraw_digest
from offchain.rollup.execute import commit, execute
from offchain.rollup.state import L2State
from offchain.rollup.types import Account, Transfer, Withdraw
from offchain.rollup.wallet import sign_transfer, sign_withdraw
from offchain.sequencer.ledger import Ledger, Overlay, admit_on

SEP = b"\x42" * 32
KEYS = [bytes([k + 1]) * 32 for k in range(3)]
OWNERS = [address_of(k) for k in KEYS]
TOKEN_A, TOKEN_B = "0x" + "aa" * 20, "0x" + "bb" * 20
FEE_ACCOUNT = 0
N_INDEXES = 6  # 0..4 exist, 5 never does

GENESIS = {
    0: Account(OWNERS[0], TOKEN_A, 10, 0),
    1: Account(OWNERS[1], TOKEN_A, 1000, 0),
    2: Account(OWNERS[2], TOKEN_A, 500, 0),
    3: Account(OWNERS[1], TOKEN_B, 700, 0),
    4: Account(OWNERS[2], TOKEN_A, 2**128 - 50, 0),
}
OWNER_KEY = {o: k for o, k in zip(OWNERS, KEYS, strict=True)}

op = st.tuples(
    st.sampled_from(["transfer", "withdraw"]),
    st.integers(0, N_INDEXES - 1),  # sender
    st.integers(0, N_INDEXES - 1),  # recipient
    st.sampled_from([0, 1, 5, 100, 400, 999, 1000]),  # amount
    st.sampled_from([0, 0, 1, 3]),  # fee
    st.sampled_from([0, 0, 0, -1, 1]),  # nonce offset from the right one
    st.booleans(),  # signed by a stranger
)


def genesis_state() -> L2State:
    state = L2State()
    for i, acc in GENESIS.items():
        state.tree.set_leaf(i, acc.leaf_hash())
        state.accounts[i] = acc
    return state


def sign(kind, sender, recipient, amount, fee, nonce, key):
    if kind == "transfer":
        return sign_transfer(key, SEP, sender, recipient, amount, fee, nonce)
    return sign_withdraw(key, SEP, sender, amount, fee, nonce)


def signer_of(tx, nonce):
    if isinstance(tx, Transfer):
        d = transfer_digest(SEP, tx.sender, tx.recipient, tx.amount, tx.fee, nonce)
    else:
        d = withdraw_digest(SEP, tx.sender, tx.amount, tx.fee, nonce)
    return recover(d, tx.signature)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(op, min_size=1, max_size=14))
def test_ledger_admits_what_execute_accepts(ops):
    state = genesis_state()
    ledger = Ledger.of(state.accounts, 0, 0)
    for kind, sender, recipient, amount, fee, offset, stranger in ops:
        acc = state.account(sender)
        nonce = max(0, acc.nonce + offset)
        owner_key = OWNER_KEY.get(acc.owner, KEYS[0])
        key = KEYS[(KEYS.index(owner_key) + 1) % 3] if stranger else owner_key
        tx = sign(kind, sender, recipient, amount, fee, nonce, key)

        # The reference: the operator's old admission = nonce check + execute() of the one tx.
        ex = execute(state, encode_txs([tx]), FEE_ACCOUNT, (), SEP)
        expect_ok = (
            not acc.is_empty
            and nonce == acc.nonce
            and (isinstance(tx, Withdraw) or not state.account(recipient).is_empty)
            and ex.ok
        )
        view = Overlay(ledger)
        refused = admit_on(view, tx, nonce, signer_of(tx, nonce), FEE_ACCOUNT)
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
