# SPDX-License-Identifier: GPL-3.0-or-later
"""The zk batch builder: apply deposits, then forced withdrawals (the L1 forced queue, in order),
then transactions to an L2 state and produce the new state, the packed public data and the
circuit witness inputs. Pure: no I/O."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from offchain.zk import pubdata
from offchain.zk.babyjub import PrivateKey, compress, verify
from offchain.zk.field import BALANCE_BITS, SNARK_FIELD
from offchain.zk.params import CircuitParams
from offchain.zk.state import Account, L2State
from offchain.zk.txs import (
    MAX_AMOUNT,
    Deposit,
    ForcedWithdrawal,
    Tx,
    TxKind,
    domain_of,
    tx_message,
)

# Padding slots still run the signature gadget (disabled); they use this throwaway key.
_PAD_KEY = PrivateKey(b"l2kit-zk-padding-key-not-secret!")


class BatchError(ValueError):
    """A transaction or deposit cannot go into the batch; the message says which and why."""


@dataclass(frozen=True)
class Withdrawal:
    """A withdrawal the L1 contract releases when the batch is accepted."""

    slot: int
    token: int
    to: int
    amount: int


@dataclass(frozen=True)
class Batch:
    """Everything needed to prove and post one batch."""

    params: CircuitParams
    old_state: L2State
    new_state: L2State
    deposits: tuple[Deposit, ...]
    deposit_leaves: tuple[int, ...]
    txs: tuple[Tx, ...]
    data: bytes
    inputs: dict[str, Any]
    withdrawals: tuple[Withdrawal, ...]
    forced: tuple[ForcedWithdrawal, ...] = ()

    @property
    def public_inputs(self) -> tuple[int, int, int]:
        return (self.old_state.root, self.new_state.root, pubdata.data_hash(self.data))

    @property
    def tx_data(self) -> bytes:
        """The compact slots and the used payout records, as posted in calldata (the contract
        rebuilds the header, the deposit slots and the zero records)."""
        start = pubdata.HEADER_BYTES + self.params.n_deposits * pubdata.DEPOSIT_SLOT_BYTES
        payouts = len(self.forced) + sum(1 for tx in self.txs if tx.kind == TxKind.WITHDRAW)
        end = start + self.params.n_txs * self.params.slot_bytes + payouts * pubdata.RECORD_BYTES
        return self.data[start:end]


def _zeros(depth: int) -> list[int]:
    return [0] * depth


def build_batch(
    params: CircuitParams,
    state: L2State,
    chain_id: int,
    rollup: int,
    deposits: tuple[Deposit, ...],
    txs: tuple[Tx, ...],
    *,
    forced: tuple[ForcedWithdrawal, ...] = (),
    strict: bool = True,
) -> Batch:
    """Apply `deposits` (the next ones of the bridge queue, in order), then `forced` (the next
    requests of the rollup's forced queue, in order, in the first transaction slots; at most
    `params.n_payouts` of them are taken, `Batch.forced` says which), then `txs`.

    With `strict` (the default) any invalid transaction raises BatchError and nothing is applied.
    `strict=False` builds the witness of an invalid batch anyway; only adversarial tests use it
    to show such a batch cannot get a proof accepted."""
    if state.tree.depth != params.depth:
        raise BatchError(f"state tree depth {state.tree.depth} != circuit depth {params.depth}")
    if len(deposits) > params.n_deposits:
        raise BatchError(f"{len(deposits)} deposits > {params.n_deposits} deposit slots")
    # A batch pays out at most W (payout records): later forced requests wait for the next batch,
    # so an operator handed the whole queue still builds (and serves it W per batch, the pace the
    # contract's deadlines ask for).
    forced = forced[: params.n_payouts]
    if len(forced) + len(txs) > params.n_txs:
        raise BatchError(
            f"{len(forced)} forced withdrawals + {len(txs)} transactions > {params.n_txs} slots"
        )
    payouts = len(forced) + sum(1 for tx in txs if tx.kind == TxKind.WITHDRAW)
    if payouts > params.n_payouts:
        raise BatchError(
            f"{payouts} withdrawals and forced withdrawals > {params.n_payouts} payout records "
            "per batch: put the rest in the next batch"
        )
    for k, req in enumerate(forced):
        if req.queue_index != state.forced_done + k:
            raise BatchError(
                f"forced withdrawal {req.queue_index} out of order: expected "
                f"{state.forced_done + k}"
            )
    for k, queued in enumerate(deposits):
        if queued.queue_index != state.deposits_done + k:
            raise BatchError(
                f"deposit {queued.queue_index} out of order: expected {state.deposits_done + k}"
            )
    domain = domain_of(chain_id, rollup)
    depth = params.depth
    inputs: dict[str, Any] = {
        "oldRoot": state.root,
        "chainId": chain_id,
        "rollup": rollup,
        "batchIndex": state.batches_done,
    }
    data = bytearray(pubdata.header(chain_id, rollup, state.batches_done))
    cur = state

    dep_fields: dict[str, list[Any]] = {
        k: []
        for k in [
            "depIndex",
            "depSign",
            "depAy",
            "depToken",
            "depAmount",
            "depAx",
            "depIsEmpty",
            "depBalance",
            "depNonce",
            "depSiblings",
        ]
    }
    leaves: list[int] = []
    for j in range(params.n_deposits):
        dep = deposits[j] if j < len(deposits) else None
        row: list[Any]  # one witness row: field elements and sibling lists
        if dep is None or not dep.key_is_valid:
            row = [0, 0, 0, 0, 0, 0, 0, 0, 0, _zeros(depth)]
            data += pubdata.empty_deposit_slot()
            if dep is not None:
                leaves.append(-1)
        else:
            idx = cur.find(dep.pubkey, dep.token)
            if idx is None:
                try:
                    idx = cur.free_index()
                except OverflowError as exc:
                    raise BatchError(str(exc)) from exc
                before = Account(dep.pubkey[0], dep.pubkey[1], dep.token, 0, 0)
                empty = 1
            else:
                before = cur.account(idx)
                empty = 0
            after = replace(before, balance=before.balance + dep.amount)
            if after.balance >= 1 << BALANCE_BITS:
                raise BatchError(f"deposit {dep.queue_index} overflows leaf {idx}'s balance")
            packed = compress(dep.pubkey)
            row = [
                idx,
                packed >> 255,
                dep.pubkey[1],
                dep.token,
                dep.amount,
                dep.pubkey[0],
                empty,
                before.balance if not empty else 0,
                before.nonce if not empty else 0,
                list(cur.tree.siblings(idx)),
            ]
            data += pubdata.deposit_slot(idx, packed, dep.token, dep.amount)
            cur = cur.with_account(idx, after)
            leaves.append(idx)
        for key, val in zip(dep_fields, row, strict=True):
            dep_fields[key].append(val)
    inputs.update(dep_fields)
    cur = replace(cur, deposits_done=state.deposits_done + len(deposits))

    tx_keys = [
        "txType",
        "txFrom",
        "txTo",
        "txAmount",
        "txToken",
        "txNonce",
        "txAx",
        "txAy",
        "txBalance",
        "txFromSiblings",
        "txR8x",
        "txR8y",
        "txS",
        "txToAx",
        "txToAy",
        "txToBalance",
        "txToNonce",
        "txToSiblings",
        "txMant",
        "txExp",
    ]
    tx_fields: dict[str, list[Any]] = {k: [] for k in tx_keys}
    withdrawals: list[Withdrawal] = []
    slots: list[bytes] = []
    records: list[tuple[int, int, int]] = []
    for t in range(params.n_txs):
        tx = txs[t - len(forced)] if len(forced) <= t < len(forced) + len(txs) else None
        if t < len(forced):
            cur, row, wd = _apply_forced(cur, forced[t], t, domain, depth)
            slots.append(pubdata.compact_slot(int(TxKind.FORCED), row[1], 0, 0, depth))
            records.append((row[2], row[4], row[3]))
            if wd is not None:
                withdrawals.append(wd)
        elif tx is None:
            pad = _PAD_KEY.public_key
            sig = _PAD_KEY.sign(tx_message(domain, 0, 0, 0, 0, 0))
            row = [0, 0, 0, 0, 0, 0, pad[0], pad[1], 0, _zeros(depth)]
            row += [sig.r8[0], sig.r8[1], sig.s, 0, 0, 0, 0, _zeros(depth)]
            slots.append(pubdata.compact_slot(0, 0, 0, 0, depth))
        else:
            cur, row, wd = _apply_tx(cur, tx, t, domain, depth, strict)
            if tx.kind == TxKind.TRANSFER:
                slots.append(_transfer_slot(tx.from_index, tx.to, tx.amount, depth, t, strict))
            else:
                slots.append(pubdata.compact_slot(int(tx.kind), tx.from_index, 0, 0, depth))
                records.append((tx.to, row[4], tx.amount))
            if wd is not None:
                withdrawals.append(wd)
        row += _float_witness(row[0], row[3])
        for key, val in zip(tx_keys, row, strict=True):
            tx_fields[key].append(val)
    inputs.update(tx_fields)
    padded = records + [(0, 0, 0)] * (params.n_payouts - len(records))
    inputs["recTo"] = [r[0] for r in padded]
    inputs["recToken"] = [r[1] for r in padded]
    inputs["recAmount"] = [r[2] for r in padded]
    data += b"".join(slots)
    data += b"".join(pubdata.payout_record(*r) for r in padded)

    new_state = replace(
        cur, batches_done=state.batches_done + 1, forced_done=state.forced_done + len(forced)
    )
    inputs["newRoot"] = new_state.root
    inputs["dataHash"] = pubdata.data_hash(bytes(data))
    return Batch(
        params=params,
        old_state=state,
        new_state=new_state,
        deposits=deposits,
        deposit_leaves=tuple(leaves),
        txs=txs,
        data=bytes(data),
        inputs=inputs,
        withdrawals=tuple(withdrawals),
        forced=forced,
    )


def _transfer_slot(
    from_index: int, to: int, amount: int, depth: int, slot: int, strict: bool
) -> bytes:
    """The compact slot of a transfer; its amount must be a float (at most 10 significant
    digits' worth of mantissa). Non-strict builds (adversarial tests) may name leaves outside
    the tree: they get a slot of zeros, which the proof then cannot match."""
    try:
        return pubdata.compact_slot(int(TxKind.TRANSFER), from_index, to, amount, depth)
    except pubdata.PubdataError as exc:
        if strict:
            raise BatchError(f"slot {slot}: {exc}") from exc
        return bytes(pubdata.slot_bytes(depth))


def _float_witness(kind: int, amount: int) -> list[int]:
    """Mantissa and exponent of a transfer's amount for the circuit (0, 0 for other slots)."""
    if kind != TxKind.TRANSFER or not pubdata.is_float_amount(amount):
        return [0, 0]
    packed = pubdata.encode_float(amount)
    return [packed >> pubdata.EXPONENT_BITS, packed & pubdata.MAX_EXPONENT]


def _apply_forced(
    state: L2State, req: ForcedWithdrawal, slot: int, domain: int, depth: int
) -> tuple[L2State, list[Any], Withdrawal | None]:
    """One forced withdrawal: the leaf's whole balance (at most 2^128 - 1) to the recipient, no
    signature (the L1 contract checks the slot against its queue). The request's exit proof
    showed the leaf with this token in an accepted root, and leaves never change key or token,
    so an honest queue always applies; a mismatch means the state is not the rollup's."""
    if req.leaf_index not in state.accounts:
        raise BatchError(f"slot {slot}: forced withdrawal {req.queue_index} of empty leaf")
    acct = state.account(req.leaf_index)
    if acct.token != req.token:
        raise BatchError(
            f"slot {slot}: forced withdrawal {req.queue_index} names token {req.token:#x}, "
            f"leaf {req.leaf_index} holds {acct.token:#x}"
        )
    # The signature gadget is disabled for type 3; it still needs curve points to compute on.
    pad = _PAD_KEY.sign(tx_message(domain, 0, 0, 0, 0, 0))
    # The whole balance, or the most a slot carries (balances have 192 bits, amounts 128).
    amount = min(acct.balance, MAX_AMOUNT)
    row: list[Any] = [
        int(TxKind.FORCED),
        req.leaf_index,
        req.recipient,
        amount,
        acct.token,
        acct.nonce,
        acct.ax,
        acct.ay,
        acct.balance,
        list(state.tree.siblings(req.leaf_index)),
        pad.r8[0],
        pad.r8[1],
        pad.s,
        0,
        0,
        0,
        0,
        _zeros(depth),
    ]
    after = replace(acct, balance=acct.balance - amount, nonce=acct.nonce + 1)
    state = state.with_account(req.leaf_index, after)
    wd = Withdrawal(slot, acct.token, req.recipient, amount) if amount else None
    return state, [v % SNARK_FIELD if isinstance(v, int) else v for v in row], wd


def _apply_tx(
    state: L2State, tx: Tx, slot: int, domain: int, depth: int, strict: bool
) -> tuple[L2State, list[Any], Withdrawal | None]:
    """One transaction: checks (when strict), the new state and the witness row."""
    capacity = 1 << depth
    if not 0 <= tx.from_index < capacity or tx.from_index not in state.accounts:
        raise BatchError(f"slot {slot}: no account at leaf {tx.from_index}")
    sender = state.account(tx.from_index)
    if strict:
        if tx.nonce != sender.nonce:
            raise BatchError(
                f"slot {slot}: nonce {tx.nonce} but leaf {tx.from_index} is at {sender.nonce}"
            )
        if tx.amount > sender.balance:
            raise BatchError(
                f"slot {slot}: spends {tx.amount}, leaf {tx.from_index} holds {sender.balance}"
            )
        if not verify(sender.pubkey, tx.message(domain), tx.signature):
            raise BatchError(f"slot {slot}: the signature is not by leaf {tx.from_index}'s key")
    from_sibs = list(state.tree.siblings(tx.from_index))
    row: list[Any] = [
        int(tx.kind),
        tx.from_index,
        tx.to,
        tx.amount,
        sender.token,
        tx.nonce,
        sender.ax,
        sender.ay,
        sender.balance,
        from_sibs,
        tx.signature.r8[0],
        tx.signature.r8[1],
        tx.signature.s,
    ]
    # The circuit hashes the leaf with the transaction's nonce: a wrong nonce cannot match.
    after = replace(sender, balance=sender.balance - tx.amount, nonce=tx.nonce + 1)
    state = state.with_account(tx.from_index, after)
    withdrawal = None
    if tx.kind == TxKind.TRANSFER:
        if not 0 <= tx.to < capacity or tx.to not in state.accounts:
            raise BatchError(f"slot {slot}: no account at receiving leaf {tx.to}")
        receiver = state.account(tx.to)
        if receiver.token != sender.token:
            raise BatchError(
                f"slot {slot}: leaf {tx.from_index} holds token {sender.token:#x}, "
                f"leaf {tx.to} holds {receiver.token:#x}"
            )
        row += [
            receiver.ax,
            receiver.ay,
            receiver.balance,
            receiver.nonce,
            list(state.tree.siblings(tx.to)),
        ]
        state = state.with_account(tx.to, replace(receiver, balance=receiver.balance + tx.amount))
    else:
        row += [0, 0, 0, 0, _zeros(depth)]
        withdrawal = Withdrawal(slot, sender.token, tx.to, tx.amount)
    row = [v % SNARK_FIELD if isinstance(v, int) else v for v in row]
    return state, row, withdrawal
