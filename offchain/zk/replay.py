# SPDX-License-Identifier: GPL-3.0-or-later
"""Replay an accepted zk batch from its public data alone: what anyone who did not build the
batch (another operator's batch, or our own after a crash) needs to bring an L2 state to L1's
root. Pure, no I/O: offchain/zk/l1_batches.py reads the data from L1.

The inputs are exactly what `ZkRollup.submitBatch` takes and the proof binds: the deposits with
the leaf each one credits, and the txData (public data format v2, offchain/zk/pubdata.py: compact
slots with type, from, to and a float amount, then a payout record per withdrawal). Tokens are
the leaves' (a payout record's token must be its sender's), nonces are implied (the circuit makes
every sender's nonce step by one), signatures are not needed (the proof checked them)."""

from __future__ import annotations

from dataclasses import dataclass, replace

from offchain.zk import pubdata
from offchain.zk.field import BALANCE_BITS
from offchain.zk.state import Account, L2State
from offchain.zk.txs import MAX_AMOUNT, Deposit, TxKind


class ReplayError(ValueError):
    """The public data does not apply to the state (the state is not the batch's pre-state)."""


@dataclass(frozen=True)
class PostedDeposit:
    """One deposit argument of `submitBatch`: the queued entry and the leaf it credits."""

    token: int
    amount: int
    ax: int
    ay: int
    leaf_index: int


@dataclass(frozen=True)
class PostedBatch:
    """An accepted batch as L1 shows it (`BatchVerified` plus the `submitBatch` arguments)."""

    batch_index: int
    old_root: int
    new_root: int
    first_deposit: int
    deposits: tuple[PostedDeposit, ...]
    tx_data: bytes
    l1_tx_hash: str
    l1_block: int
    submitter: str
    n_txs: int = 0
    """The rollup's transaction slots (`txSlots`), needed to split txData; 0 if unknown."""


@dataclass(frozen=True)
class ExecutedTx:
    """A transaction slot as executed, with the nonce it used (what its signer signed)."""

    kind: TxKind
    from_index: int
    to: int
    amount: int
    nonce: int


def replay_batch(state: L2State, batch: PostedBatch) -> L2State:
    """The state after `batch`; raises ReplayError unless it lands exactly on L1's new root."""
    return replay_batch_executed(state, batch)[0]


def replay_batch_executed(
    state: L2State, batch: PostedBatch
) -> tuple[L2State, tuple[ExecutedTx, ...]]:
    """`replay_batch`, also returning the transactions it executed, in slot order."""
    if batch.batch_index != state.batches_done:
        raise ReplayError(f"batch {batch.batch_index} follows batch {state.batches_done - 1}")
    if batch.first_deposit != state.deposits_done:
        raise ReplayError(
            f"batch {batch.batch_index} consumes deposits from {batch.first_deposit}, the state "
            f"has processed {state.deposits_done}"
        )
    if state.root != batch.old_root:
        raise ReplayError(
            f"batch {batch.batch_index} starts at root {batch.old_root:#x}, the state is at "
            f"{state.root:#x}"
        )
    if batch.n_txs < 1:
        raise ReplayError(f"batch {batch.batch_index}: the rollup's txSlots is not known")
    try:
        slots = pubdata.decode_tx_data(batch.tx_data, batch.n_txs, state.tree.depth)
    except pubdata.PubdataError as exc:
        raise ReplayError(f"batch {batch.batch_index}: {exc}") from exc
    cur = state
    for j, d in enumerate(batch.deposits):
        dep = Deposit(batch.first_deposit + j, d.token, d.amount, (d.ax, d.ay))
        if not dep.key_is_valid:
            continue  # voided on L1: consumed, credited to nobody
        cur = _credit(cur, dep, d.leaf_index, batch.batch_index)
    cur = replace(cur, deposits_done=state.deposits_done + len(batch.deposits))
    executed: list[ExecutedTx] = []
    for slot, posted in enumerate(slots):
        cur, done = _apply_slot(cur, posted, batch.batch_index, slot)
        if done is not None:
            executed.append(done)
    cur = replace(cur, batches_done=state.batches_done + 1)
    if cur.root != batch.new_root:
        raise ReplayError(
            f"replaying batch {batch.batch_index} gives root {cur.root:#x}, L1 accepted "
            f"{batch.new_root:#x}"
        )
    return cur, tuple(executed)


def _credit(state: L2State, dep: Deposit, leaf: int, batch_index: int) -> L2State:
    if not 0 <= leaf < state.tree.capacity:
        raise ReplayError(f"batch {batch_index}: deposit {dep.queue_index} to leaf {leaf}")
    acct = state.accounts.get(leaf)
    if acct is None:
        acct = Account(dep.pubkey[0], dep.pubkey[1], dep.token, 0, 0)
    elif (acct.pubkey, acct.token) != (dep.pubkey, dep.token):
        raise ReplayError(
            f"batch {batch_index}: deposit {dep.queue_index} credits leaf {leaf}, which holds "
            "another key or token"
        )
    if acct.balance + dep.amount >= 1 << BALANCE_BITS:
        raise ReplayError(f"batch {batch_index}: deposit {dep.queue_index} overflows leaf {leaf}")
    return state.with_account(leaf, replace(acct, balance=acct.balance + dep.amount))


def _apply_slot(
    state: L2State, posted: pubdata.Slot, batch_index: int, slot: int
) -> tuple[L2State, ExecutedTx | None]:
    kind, from_index, to, amount = posted.kind, posted.from_index, posted.to, posted.amount
    sender = state.accounts.get(from_index)
    # A transfer names no token: the sender's leaf holds it (the receiver must hold the same).
    token = posted.token if posted.token is not None else (sender.token if sender else -1)
    where = f"batch {batch_index} slot {slot}"
    if kind == TxKind.NOOP:
        return state, None
    if kind not in (TxKind.TRANSFER, TxKind.WITHDRAW, TxKind.FORCED):
        raise ReplayError(f"{where}: unknown transaction type {kind}")
    if kind == TxKind.FORCED:
        # A forced withdrawal (the L1 queue's next request, checked by the contract): the whole
        # balance, or the most a slot carries, leaves the leaf and its nonce steps by one.
        if sender is None or sender.token != token or amount != min(sender.balance, MAX_AMOUNT):
            raise ReplayError(f"{where}: forced withdrawal of {amount} from leaf {from_index}")
        after = replace(sender, balance=sender.balance - amount, nonce=sender.nonce + 1)
        state = replace(state.with_account(from_index, after), forced_done=state.forced_done + 1)
        return state, ExecutedTx(TxKind.FORCED, from_index, to, amount, sender.nonce)
    if sender is None or sender.token != token or sender.balance < amount:
        raise ReplayError(f"{where}: leaf {from_index} cannot pay {amount} of token {token:#x}")
    # The same order as the circuit and the builder: debit (and step the nonce), then credit.
    state = state.with_account(
        from_index, replace(sender, balance=sender.balance - amount, nonce=sender.nonce + 1)
    )
    done = ExecutedTx(TxKind(kind), from_index, to, amount, sender.nonce)
    if kind == TxKind.WITHDRAW:
        return state, done
    receiver = state.accounts.get(to)
    if receiver is None or receiver.token != token:
        raise ReplayError(f"{where}: no leaf {to} holding token {token:#x}")
    return state.with_account(to, replace(receiver, balance=receiver.balance + amount)), done
