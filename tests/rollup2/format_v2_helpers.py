"""Builders shared by the format-v2 tests: a pre-state, honest signed commitments, keys."""

from __future__ import annotations

from collections.abc import Sequence

from offchain.bls import PublicKey, SecretKey, signing_dst
from offchain.rollup.execute import Execution, commit, execute
from offchain.rollup.signatures import aggregate_commitment
from offchain.rollup.state import L2State
from offchain.rollup.types import (
    Account,
    Commitment,
    DepositTx,
    ForcedSlot,
    QueuedDeposit,
    QueuedForced,
    SignedTransfer,
    SignedWithdraw,
)
from offchain.rollup.wallet import sign_transfer, sign_withdraw

CHAIN_ID = 31337
ROLLUP = "0x" + "42" * 20
DST = signing_dst(CHAIN_ID, ROLLUP)
ETH = "0x" + "00" * 20
TOK = "0x" + "77" * 20
N_USERS = 40
SKS = [SecretKey(10_007 + 31 * i) for i in range(N_USERS)]
OWNERS = ["0x" + f"{i + 1:040x}" for i in range(N_USERS)]
KEYS: dict[str, PublicKey] = {OWNERS[i]: SKS[i].public_key() for i in range(N_USERS)}


def keys_at(owner: str) -> PublicKey | None:
    return KEYS.get(owner)


def make_state(n: int = N_USERS, balance: int = 10**18) -> L2State:
    """Accounts 0..n-1 owned by OWNERS[i] in ETH, nonce i % 3."""
    s = L2State()
    for i in range(n):
        put(s, i, Account(OWNERS[i], ETH, balance, i % 3))
    return s


def put(s: L2State, index: int, acc: Account) -> None:
    s.accounts[index] = acc
    s.tree.set_leaf(index, acc.leaf_hash())


def signed_for(
    state: L2State,
    transfers: Sequence[tuple[int, int, int, int]] = (),
    withdraws: Sequence[tuple[int, int, int]] = (),
) -> list[SignedTransfer | SignedWithdraw]:
    """Honest signatures: each sender's nonces follow its state nonce in posted order."""
    nonce = {}
    out: list[SignedTransfer | SignedWithdraw] = []
    for f, t, amount, fee in transfers:
        n = nonce.get(f, state.account(f).nonce)
        nonce[f] = n + 1
        out.append(sign_transfer(SKS[f % N_USERS], DST, f, t, amount, fee, n))
    for f, amount, fee in withdraws:
        n = nonce.get(f, state.account(f).nonce)
        nonce[f] = n + 1
        out.append(sign_withdraw(SKS[f % N_USERS], DST, f, amount, fee, n))
    return out


def build(
    state: L2State,
    *,
    deposits: Sequence[int] = (),
    signed: Sequence[SignedTransfer | SignedWithdraw] = (),
    forced: Sequence[bool] = (),
    fee_account: int = 0,
    queued_deposits: Sequence[QueuedDeposit] = (),
    queued_forced: Sequence[QueuedForced] = (),
    signature: bytes | None = None,
) -> tuple[Commitment, Execution]:
    """The honest commitment (true postRoot) over these sections, and its execution."""
    transfers = tuple(s.tx for s in signed if isinstance(s, SignedTransfer))
    withdraws = tuple(s.tx for s in signed if isinstance(s, SignedWithdraw))
    sig = signature
    if sig is None:
        sig = aggregate_commitment(list(signed)) if signed else b""
    fields = {
        "deposit_end": state.deposit_end + len(deposits),
        "forced_end": state.forced_end + len(forced),
        "fee_account": fee_account,
        "deposits": tuple(DepositTx(a) for a in deposits),
        "transfers": transfers,
        "withdraws": withdraws,
        "forced": tuple(ForcedSlot(f) for f in forced),
        "signature": sig,
    }
    draft = Commitment(bytes(32), **fields)
    run = execute(state, draft, queued_deposits, queued_forced, check_root=False)
    c = Commitment(run.root, **fields)
    return c, execute(state, c, queued_deposits, queued_forced)


def post_state(
    state: L2State,
    c: Commitment,
    queued_deposits: Sequence[QueuedDeposit] = (),
    queued_forced: Sequence[QueuedForced] = (),
) -> L2State:
    """A copy of `state` after the (valid) commitment."""
    post = state.copy()
    commit(post, execute(post, c, queued_deposits, queued_forced), c.deposit_end)
    return post
