"""Dishonest proposer (for tests and the benchmark): builds batches that are wrong in each way a
fraud proof must catch. Each function returns the commitments a cheater would post on `state`
and the root it would claim. `copier_calls` is the mempool front-runner of fraud proofs."""

from __future__ import annotations

from collections.abc import Sequence
from enum import Enum
from typing import Any

from .builder import build_batch
from .codec import encode_tx, encode_txs
from .execute import Fault, execute
from .hashing import keccak
from .state import L2State
from .types import (
    Account,
    Commitment,
    DepositTx,
    ForcedSlot,
    QueuedDeposit,
    QueuedForced,
    Transfer,
    Tx,
)
from .wallet import sign_transfer


class FraudKind(Enum):
    """Ways a commitment can be wrong, with the fault the contract reports for each."""

    WRONG_ROOT = Fault.WRONG_ROOT
    BAD_SIGNATURE = Fault.BAD_SIGNATURE
    WRONG_NONCE = (Fault.BAD_SIGNATURE, "replayed nonce")
    OVERSPEND = Fault.OVERSPEND
    NO_ACCOUNT = Fault.NO_ACCOUNT
    DEPOSIT_SKIPPED = Fault.DEPOSIT_MISMATCH
    DEPOSIT_REORDERED = (Fault.WRONG_ROOT, "deposits reordered")
    DEPOSIT_ALTERED = (Fault.WRONG_ROOT, "deposit altered")
    DEPOSIT_FOREIGN = Fault.TOKEN_MISMATCH
    MALFORMED = Fault.MALFORMED
    TRUNCATED = (Fault.MALFORMED, "truncated")

    @property
    def fault(self) -> Fault:
        return self.value if isinstance(self.value, Fault) else self.value[0]


class ForcedFraudKind(Enum):
    """Ways a commitment can mishandle the forced queue, with the fault the contract reports."""

    SKIPPED = Fault.FORCED_MISMATCH
    OUTCOME_FLIPPED = Fault.FORCED_OUTCOME
    #: Reordering only matters when it changes a forced tx's validity (balances add up in any
    #: order otherwise), so it shows as a slot whose outcome is wrong for the real order.
    REORDERED = (Fault.FORCED_OUTCOME, "forced txs reordered")
    #: Another tx applied with the same outcomes: the claimed root is not the real one.
    ALTERED = (Fault.WRONG_ROOT, "forced tx altered")

    @property
    def fault(self) -> Fault:
        return self.value if isinstance(self.value, Fault) else self.value[0]


def forged_root(state: L2State, changes: dict[int, Account]) -> bytes:
    """The root a cheater claims after writing `changes` regardless of the rules."""
    tree = state.tree.overlay()
    for index, acc in changes.items():
        tree.set_leaf(index, acc.leaf_hash())
    return tree.root


def _single(
    state: L2State, post_root: bytes, txs: bytes, deposit_end: int | None = None
) -> list[Commitment]:
    end = state.deposit_end if deposit_end is None else deposit_end
    return [Commitment(post_root, end, 0, txs, state.forced_end)]


def wrong_root(state: L2State, txs: Sequence[Tx], separator: bytes) -> list[Commitment]:
    """Valid txs, but a post-root that is not theirs."""
    batch, _ = build_batch(state, [], txs, separator)
    cs = [bc.commitment for bc in batch.commitments]
    last = cs[-1]
    cs[-1] = Commitment(
        keccak(b"lie" + last.post_root), last.deposit_end, 0, last.tx_data, last.forced_end
    )
    return cs


def steal(
    state: L2State, separator: bytes, thief_key: bytes, victim: int, thief: int, amount: int
) -> list[Commitment]:
    """A transfer out of `victim` signed by someone else's key (invalid signature)."""
    v, t = state.account(victim), state.account(thief)
    tx = sign_transfer(thief_key, separator, victim, thief, amount, 0, v.nonce)
    root = forged_root(
        state,
        {
            victim: Account(v.owner, v.token, v.balance - amount, v.nonce + 1),
            thief: Account(t.owner, t.token, t.balance + amount, t.nonce),
        },
    )
    return _single(state, root, encode_tx(tx))


def replay_nonce(state: L2State, old_tx: Tx, sender: int, recipient: int) -> list[Commitment]:
    """Include again a transfer already executed (its nonce is spent): applied twice."""
    s, r = state.account(sender), state.account(recipient)
    if not isinstance(old_tx, Transfer):
        raise ValueError("replay_nonce replays a transfer")
    amount = old_tx.amount
    root = forged_root(
        state,
        {
            sender: Account(s.owner, s.token, s.balance - amount, s.nonce + 1),
            recipient: Account(r.owner, r.token, r.balance + amount, r.nonce),
        },
    )
    return _single(state, root, encode_tx(old_tx))


def overspend(
    state: L2State, separator: bytes, key: bytes, sender: int, recipient: int
) -> list[Commitment]:
    """A correctly signed transfer of more than the sender holds; the excess is minted."""
    s, r = state.account(sender), state.account(recipient)
    amount = 10 ** len(str(s.balance))  # a power of ten above the balance: packable
    tx = sign_transfer(key, separator, sender, recipient, amount, 0, s.nonce)
    root = forged_root(
        state,
        {
            sender: Account(s.owner, s.token, 0, s.nonce + 1),
            recipient: Account(r.owner, r.token, r.balance + amount, r.nonce),
        },
    )
    return _single(state, root, encode_tx(tx))


def to_nowhere(
    state: L2State, separator: bytes, key: bytes, sender: int, empty_index: int, amount: int
) -> list[Commitment]:
    """A transfer to an account that does not exist (the funds would vanish)."""
    s = state.account(sender)
    if not state.account(empty_index).is_empty:
        raise ValueError(f"account {empty_index} exists; pick an empty index")
    tx = sign_transfer(key, separator, sender, empty_index, amount, 0, s.nonce)
    root = forged_root(state, {sender: Account(s.owner, s.token, s.balance - amount, s.nonce + 1)})
    return _single(state, root, encode_tx(tx))


def skip_deposit(state: L2State, queued: int) -> list[Commitment]:
    """Declare the next `queued` deposits consumed without crediting them."""
    return _single(state, state.root, b"", state.deposit_end + queued)


def misapply_deposits(
    state: L2State,
    deposits: Sequence[QueuedDeposit],
    applied: Sequence[QueuedDeposit],
    separator: bytes,
) -> list[Commitment]:
    """Declare `deposits` consumed but credit `applied` instead (reordered or altered)."""
    batch, _ = build_batch(state, deposits, [], separator)
    txs = batch.commitments[0].commitment.tx_data
    ex = execute(state, txs, 0, applied, separator)
    if not ex.ok:
        raise ValueError(f"cheater's own execution failed ({ex.fault.name}); use new accounts")
    return _single(state, ex.root, txs, state.deposit_end + len(deposits))


def deposit_into_foreign(state: L2State, deposit: QueuedDeposit, victim: int) -> list[Commitment]:
    """Credit a deposit to an existing account of another owner."""
    v = state.account(victim)
    root = forged_root(
        state, {victim: Account(v.owner, v.token, v.balance + deposit.amount, v.nonce)}
    )
    return _single(state, root, encode_tx(DepositTx(victim)), state.deposit_end + 1)


def malformed(
    state: L2State, txs: Sequence[Tx], separator: bytes, truncate: bool
) -> list[Commitment]:
    """Valid txs followed by garbage: an unknown type byte, or a transfer cut short."""
    batch, _ = build_batch(state, [], txs, separator)
    c = batch.commitments[0].commitment
    tail = encode_txs(list(txs[:1]))[:40] if truncate else b"\x07\x00\x00\x01"
    return [Commitment(c.post_root, c.deposit_end, 0, c.tx_data + tail, c.forced_end)]


def empty_on_top(post_root: bytes, deposit_end: int) -> list[Commitment]:
    """A no-op commitment extending a (possibly fraudulent) claimed state."""
    return [Commitment(post_root, deposit_end, 0, b"")]


def skip_forced(state: L2State, forced: Sequence[QueuedForced]) -> list[Commitment]:
    """Declare the forced range consumed without any forced slot (the txs are silently dropped)."""
    return [Commitment(state.root, state.deposit_end, 0, b"", state.forced_end + len(forced))]


def flip_forced_outcome(
    state: L2State, forced: Sequence[QueuedForced], separator: bytes
) -> list[Commitment]:
    """Mark every forced tx skipped (state untouched), valid ones included."""
    slots = encode_txs([ForcedSlot(False) for _ in forced])
    return [Commitment(state.root, state.deposit_end, 0, slots, state.forced_end + len(forced))]


def misapply_forced(
    state: L2State,
    forced: Sequence[QueuedForced],
    applied: Sequence[bytes],
    separator: bytes,
) -> list[Commitment]:
    """Declare `forced` consumed but execute the encoded txs `applied` instead (reordered or
    altered); the slots carry the outcomes of `applied`."""
    fake = [QueuedForced(state.forced_end + i, data) for i, data in enumerate(applied)]
    batch, _ = build_batch(state, [], [], separator, forced=fake)
    c = batch.commitments[0].commitment
    return [
        Commitment(c.post_root, state.deposit_end, 0, c.tx_data, state.forced_end + len(forced))
    ]


def copier_calls(rollup: Any, tx_input: bytes, copier: str) -> dict[str, tuple[str, list]]:
    """What a mempool front-runner makes of a challenger's pending `revealFraud` or `proveFraud`
    transaction (`rollup` is a web3 contract, used only to decode and re-encode the ABI): the
    verbatim copy, the reveal re-addressed to itself, the plain proof with the commitment
    stripped, and that plain proof re-encoded to hash differently (witness bytes padded, or the
    unused `prev` of a first commitment filled in). Each value is (function name, args) to send
    from the copier's account."""
    fn, args = rollup.decode_function_input(tx_input)
    proof = args["p"]
    calls: dict[str, tuple[str, list]] = {"stripped": ("proveFraud", [proof])}
    fields = list(proof.values()) if isinstance(proof, dict) else list(proof)
    padded = list(fields)
    padded[9] = bytes(fields[9]) + b"\x00" * 32
    calls["padded"] = ("proveFraud", [tuple(padded)])
    if fields[2] == 0:
        refilled = list(fields)
        refilled[3] = (b"\x01" * 32, 0, 0, b"\x00" * 32, 0)
        calls["refilled"] = ("proveFraud", [tuple(refilled)])
    if fn.fn_name == "revealFraud":
        calls["verbatim"] = ("revealFraud", [proof, args["challenger"], args["salt"]])
        calls["readdressed"] = ("revealFraud", [proof, copier, args["salt"]])
    return calls
