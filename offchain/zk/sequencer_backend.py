# SPDX-License-Identifier: GPL-3.0-or-later
"""The zk backend of the sequencer (offchain/sequencer/core.py owns admission, the loop and the
status): accept BabyJubJub-signed L2 transactions, persist them,
build a batch (next deposits + the forced withdrawals queued on L1 + oldest pending transactions),
prove it, verify the proof locally,
post it, and only then adopt the new state.

Same durability rules as the optimistic batcher (offchain/sequencer/optimistic.py): a transaction is
validated on the pending state and written to the SQLite store before it is acknowledged; a batch
is recorded as an intent (with its calldata) and its post-state saved to `<state>.next` before it
is sent, with the retrying same-nonce sender; on start the state file, the `.next` file and the
store are reconciled with the rollup's root on L1.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from eth_account.signers.local import LocalAccount
from eth_utils import keccak
from web3 import Web3

from offchain.chain import abi_of
from offchain.errors import L2KitError
from offchain.l1.sender import L1Sender, NonceConsumed, Reverted, SendPolicy, WouldRevert
from offchain.sequencer import failpoints
from offchain.sequencer.core import Rejected, Sequencer
from offchain.sequencer.http_api import bad_request, field, int_field, not_found, str_field
from offchain.sequencer.reconcile import Action, BatchRecord, L1View, reconcile
from offchain.sequencer.store import BatchStatus, StoredBatch, StoredTx, TxStatus
from offchain.sequencer.store_open import Store, open_store
from offchain.zk.babyjub import Signature
from offchain.zk.batch import Batch, BatchError, build_batch
from offchain.zk.chain import decode_submit, read_deposits, read_forced, submit_calldata
from offchain.zk.field import SNARK_FIELD
from offchain.zk.l1_batches import read_posted_batches
from offchain.zk.params import CircuitParams
from offchain.zk.prover import Prover, prove_checked
from offchain.zk.replay import PostedBatch, ReplayError, replay_batch_executed
from offchain.zk.state import L2State
from offchain.zk.txs import MAX_ADDRESS, MAX_AMOUNT, ForcedWithdrawal, Tx, TxKind, domain_of

log = logging.getLogger("l2kit.zk-batcher")
# Send-journal keys (OperatorStore.send_journal) of the batch transaction in flight: its nonce and
# every signed version's hash, written before each broadcast and kept until L1 resolves it. The key
# names the batch and its calldata, so a journal left by a crash can never be taken for another
# batch's send (whose receipt would then be "found").
SEND_PREFIX = "zk-batch:"


def _send_key(intent: Any) -> str:
    return f"{SEND_PREFIX}{intent.batch_index}:{keccak(intent.data).hex()}"


def encode_tx(tx: Tx) -> bytes:
    """Canonical JSON of a signed zk transaction (what the store keeps)."""
    body = {
        "kind": int(tx.kind),
        "from": tx.from_index,
        "to": str(tx.to),
        "amount": str(tx.amount),
        "nonce": tx.nonce,
        "r8x": str(tx.signature.r8[0]),
        "r8y": str(tx.signature.r8[1]),
        "s": str(tx.signature.s),
    }
    return json.dumps(body, sort_keys=True, separators=(",", ":")).encode()


def decode_tx(raw: bytes) -> Tx:
    b = json.loads(raw)
    return Tx(
        TxKind(b["kind"]),
        b["from"],
        int(b["to"]),
        int(b["amount"]),
        b["nonce"],
        Signature((int(b["r8x"]), int(b["r8y"])), int(b["s"])),
    )


@dataclass(frozen=True)
class PreparedZkTx:
    """A decoded zk transaction with its canonical encoding and hash (from `prepare`)."""

    tx: Tx
    payload: bytes
    tx_hash: bytes
    kind: str


@dataclass
class _Group:
    """The scratch pending state of one admission group."""

    state: L2State
    forced_leaves: set[int]


@dataclass
class ZkStats:
    batches_posted: int = 0
    txs_posted: int = 0
    prove_seconds: float = 0.0
    l1_gas: int = 0


class ZkBatcher:
    """The zk backend, and its service object: `core` is the Sequencer built on it. Thread-safe:
    the HTTP API and the posting loop share it."""

    mode = "zk"

    def __init__(
        self,
        w3: Web3,
        account: LocalAccount,
        rollup: str,
        bridge: str,
        params: CircuitParams,
        prover: Prover,
        store_path: Path | str | Store,
        state_path: Path,
        max_batch_delay: float = 5.0,
        policy: SendPolicy | None = None,
    ) -> None:
        self.w3 = w3
        self.account = account
        self.params = params
        self.prover = prover
        self.rollup = w3.eth.contract(
            address=Web3.to_checksum_address(rollup), abi=abi_of("ZkRollup")
        )
        self.bridge = w3.eth.contract(
            address=Web3.to_checksum_address(bridge), abi=abi_of("L1Bridge")
        )
        self.chain_id = int(w3.eth.chain_id)
        self.domain = domain_of(self.chain_id, self.rollup.address)
        # A path or URL is opened here (as the sequencer leader); an opened store is taken over.
        self.store: Store = (
            open_store(store_path, leader=True)
            if isinstance(store_path, str | Path)
            else store_path
        )
        self.state_path = state_path
        self.next_path = state_path.with_name(state_path.name + ".next")
        self.max_batch_delay = max_batch_delay
        self.policy = policy or SendPolicy()
        #: The proposer's one L1 sender, journaled in the store.
        self.sender = L1Sender(w3, account, self.policy, journals=self.store.send_journal)
        self.stats = ZkStats()
        self.frozen = False
        self.core = Sequencer(self, threading.RLock(), 0.5)
        self._lock = self.core.lock
        self.confirmed = L2State.empty(params.depth)
        self.pending = self.confirmed
        self._ttf: float | None = None  # last time from building a batch to its finality
        self._ttf_start = 0.0

    # ------------------------------------------------------------------ lifecycle

    def recover(self) -> None:
        """Bring the operator's state, the `.next` file and the store up to L1.

        Every batch L1 accepted past the state file is read back from L1 and replayed from its
        public data, whoever posted it: our own batch sent before a crash (its intent becomes
        final; `.next` is adopted when it is that batch's post-state), or a foreign one (any
        prover can post: the proof is the only authority). An intent L1 shows at a different
        batch or root was overtaken: it is rolled back and its transactions return to pending,
        where those a foreign batch made invalid (nonce used, balance spent) are dropped with
        the reason. An intent still at L1's head is kept with its `.next` and its recorded L1
        sends, so the posting loop resends it with the same nonce. The decision for each stored
        batch is the shared pure plan of offchain/sequencer/reconcile.py (as in the optimistic
        backend); the state file is the checkpoint: only batches after it are read from L1."""
        with self._lock:
            head = int(self.w3.eth.block_number)  # one block: count and root agree
            l1_count = int(self.rollup.functions.batchCount().call(block_identifier=head))
            l1_root = int(self.rollup.functions.stateRoot().call(block_identifier=head))
            state = (
                L2State.load(self.state_path)
                if self.state_path.exists()
                else L2State.empty(self.params.depth)
            )
            if state.batches_done > l1_count or (
                state.batches_done == l1_count and state.root != l1_root
            ):
                raise L2KitError(
                    f"the state file {self.state_path} (batch {state.batches_done}, root "
                    f"{state.root:#x}) is not a state of this rollup (L1: {l1_count} batches, "
                    f"root {l1_root:#x}): restore the matching state file, or move it away to "
                    "rebuild the state from L1"
                )
            nxt = L2State.load(self.next_path) if self.next_path.exists() else None
            # Only the batches past the state file are read: the state file is the checkpoint.
            posted = read_posted_batches(self.w3, self.rollup.address, state.batches_done, l1_count)
            batches = {b.batch_index: b for b in self.store.open_batches()}
            plan = reconcile(
                [
                    BatchRecord(b.batch_index, b.status.value, b.pre_root, b.post_root)
                    for b in batches.values()
                ],
                L1View(l1_count, self._l1_post_roots(batches, posted), _b32(l1_root)),
            )
            accepted = set(plan.of(Action.MARK_POSTED))  # ours, mined before the restart
            # Acknowledged transactions someone else's batch executed: (from, nonce) -> where.
            executed_elsewhere: dict[tuple, str] = {}
            for batch in posted:
                intent = batches.get(batch.batch_index) if batch.batch_index in accepted else None
                if intent is not None and nxt is not None and nxt.root == batch.new_root:
                    state = nxt
                else:
                    try:
                        state, executed = replay_batch_executed(state, batch)
                    except ReplayError as exc:
                        raise L2KitError(
                            f"cannot replay batch {batch.batch_index} from L1 onto the state "
                            f"file ({exc}): restore the state file of batch "
                            f"{state.batches_done} or move it away to rebuild from L1"
                        ) from exc
                if intent is not None:
                    log.info("batch %d sent before the restart was accepted", batch.batch_index)
                    self.store.mark_batch(
                        intent.batch_index,
                        BatchStatus.FINAL,  # a zk batch accepted on L1 is final at once
                        batch.l1_tx_hash,
                        batch.l1_block,
                        counters={
                            "batches_posted": 1,
                            "txs_posted": self.store.count_batch_txs(intent.batch_index),
                            "l1_bytes": len(intent.data),
                        },
                    )
                    self._clear_send()
                else:
                    log.warning(
                        "batch %d was posted by %s (tx %s): replayed from its public data",
                        batch.batch_index,
                        batch.submitter,
                        batch.l1_tx_hash,
                    )
                    for e in executed:
                        executed_elsewhere[(e.kind, e.from_index, e.to, e.amount, e.nonce)] = (
                            f"executed on L1 in batch {batch.batch_index}, posted by "
                            f"{batch.submitter} (tx {batch.l1_tx_hash}), not by this operator"
                        )
            if posted:
                state.save(self.state_path)
            for step in plan.steps:
                if step.action is Action.ROLL_BACK:
                    log.warning(
                        "batch intent %d: %s: its transactions return to pending",
                        step.index,
                        step.reason,
                    )
                    self.store.mark_batch(step.index, BatchStatus.ROLLED_BACK)
                    self.store.delete_batch(step.index)
                    self._clear_send()
                elif step.action is Action.DELETE:
                    self.store.delete_batch(step.index)
            if not plan.of(Action.RESEND):
                # No batch in flight: a journal left by a crash after its batch resolved goes.
                self._clear_send()
                if self.next_path.exists():
                    self.next_path.unlink()
            for stored in self.store.txs(TxStatus.PENDING):
                tx = decode_tx(stored.payload)
                where = executed_elsewhere.get((tx.kind, tx.from_index, tx.to, tx.amount, tx.nonce))
                if where is not None:
                    self.store.drop_tx(stored.seq, where)
            self.confirmed = state
            self._rebuild_pending()
            self.core.recovered()

    def _l1_post_roots(
        self, stored: Mapping[int, StoredBatch], posted: list[PostedBatch]
    ) -> dict[int, bytes]:
        """What `reconcile` compares a stored batch with: the post-root of the L1 batch at its
        index when that batch is exactly the stored one (same arguments), else a root no stored
        batch has (b""): another batch at its index supersedes it even with an equal root."""
        roots: dict[int, bytes] = {}
        for batch in posted:
            mine = stored.get(batch.batch_index)
            if mine is not None:
                same = self._is_intent(mine, batch)
                roots[batch.batch_index] = _b32(batch.new_root) if same else b""
        return roots

    def _is_intent(self, intent: StoredBatch, batch: PostedBatch) -> bool:
        """Whether the accepted `batch` is the one `intent` recorded (same arguments)."""
        if intent.batch_index != batch.batch_index:
            return False
        mine = decode_submit(intent.data)
        return (mine.new_root, mine.deposits, mine.tx_data) == (
            batch.new_root,
            batch.deposits,
            batch.tx_data,
        )

    # ------------------------------------------------------------ recorded L1 sends

    def _clear_send(self) -> None:
        """Forget the batch transaction's send journal (resolved, or safe to send afresh). One
        intent is in flight at a time, so every zk batch journal goes."""
        self.store.clear_l1_sends(SEND_PREFIX)

    def start(self) -> None:
        self.recover()
        self.core.start_loop()

    def stop(self) -> None:
        self.core.stop_loop(timeout=120)
        self.store.close()

    @property
    def proposer(self) -> str:
        return str(self.account.address)

    # ------------------------------------------------------------------ state

    def _queued(self) -> int:
        return int(self.bridge.functions.depositCount().call())

    def _rebuild_pending(self) -> None:
        state = self._with_deposits(self.confirmed)
        for stored in self.store.txs(TxStatus.BATCHED) + self.store.txs(TxStatus.PENDING):
            try:
                state = self._apply(state, decode_tx(stored.payload))
            except BatchError as exc:
                if stored.status is not TxStatus.PENDING:
                    raise L2KitError(f"recorded zk batch no longer applies ({exc})") from exc
                self.store.drop_tx(stored.seq, f"no longer valid on L1's state: {exc}")
        self.pending = state

    def _with_deposits(self, state: L2State) -> L2State:
        """`state` with every queued deposit it has not processed, D at a time as batches do."""
        queued = self._queued()
        while state.deposits_done < queued:
            count = min(self.params.n_deposits, queued - state.deposits_done)
            deps = read_deposits(self.w3, self.bridge.address, state.deposits_done, count)
            state = self._build(state, deps, ()).new_state
        return state

    def _build(self, state: L2State, deposits: tuple, txs: tuple, forced: tuple = ()) -> Batch:
        return build_batch(
            self.params,
            state,
            self.chain_id,
            int(self.rollup.address, 16),
            deposits,
            txs,
            forced=forced,
        )

    # ------------------------------------------------------------------ forced queue

    def _forced_queued(self) -> int:
        return int(self.rollup.functions.forcedCount().call())

    def _next_forced(self) -> tuple[ForcedWithdrawal, ...]:
        """The oldest forced withdrawals the confirmed state has not processed, one batch's worth.
        They go first into every batch: a request left past its deadline freezes the rollup."""
        waiting = self._forced_queued() - self.confirmed.forced_done
        count = min(self.params.n_txs, waiting)
        return read_forced(self.w3, self.rollup.address, self.confirmed.forced_done, count)

    def _forced_leaves(self) -> set[int]:
        """Leaves with a forced withdrawal queued and not yet processed by the confirmed state."""
        waiting = self._forced_queued() - self.confirmed.forced_done
        found = read_forced(self.w3, self.rollup.address, self.confirmed.forced_done, waiting)
        return {r.leaf_index for r in found}

    def _apply(self, state: L2State, tx: Tx) -> L2State:
        return self._build(state, (), (tx,)).new_state

    def _intent(self) -> StoredBatch | None:
        intents = self.store.batches(BatchStatus.INTENT)
        return intents[0] if intents else None

    # ------------------------------------------------------------------ submissions

    def submit(self, tx: Tx) -> StoredTx:
        """One transaction through the core's admission path: the stored record or Rejected."""
        return self.core.submit_prepared(self.prepare_tx(tx))

    def prepare(self, body: Mapping[str, Any]) -> PreparedZkTx:
        """POST /tx body -> PreparedZkTx (fields checked; the EdDSA signature is checked on the
        pending state at admission, by the batch builder). CPU only."""
        fields = dict(body)
        kind = str_field(fields, "type", ("transfer", "withdraw"))
        sender = int_field(fields, "from", 0, (1 << self.params.depth) - 1)
        if kind == "transfer":
            to = int_field(fields, "to", 0, (1 << self.params.depth) - 1)
        else:
            to = int_field(fields, "to", 1, MAX_ADDRESS)  # the L1 address paid ("0x..." accepted)
        amount = int_field(fields, "amount", 1, MAX_AMOUNT)
        nonce = int_field(fields, "nonce", 0, 2**32 - 1)
        sig = field(fields, "signature")
        if not isinstance(sig, dict):
            raise bad_request("bad_type", "'signature' must be an object {r8x, r8y, s}")
        r8x, r8y, s = (int_field(sig, k, 0, SNARK_FIELD - 1) for k in ("r8x", "r8y", "s"))
        try:
            tx = Tx(
                TxKind.TRANSFER if kind == "transfer" else TxKind.WITHDRAW,
                sender,
                to,
                amount,
                nonce,
                Signature((r8x, r8y), s),
            )
        except ValueError as exc:
            raise bad_request("invalid", str(exc)) from None
        return self.prepare_tx(tx)

    def prepare_tx(self, tx: Tx) -> PreparedZkTx:
        payload = encode_tx(tx)
        return PreparedZkTx(tx, payload, keccak(payload), TxKind(tx.kind).name.lower())

    def check_frozen(self) -> bool:
        if not self.frozen and self.rollup.functions.frozen().call():
            self.frozen = True
        return self.frozen

    def begin_group(self) -> _Group:
        if self.pending.deposits_done < self._queued():
            self.pending = self._with_deposits(self.pending)
        return _Group(self.pending, self._forced_leaves())

    def commit_group(self, scratch: _Group) -> None:
        self.pending = scratch.state

    def is_resend(self, item: Any, stored: StoredTx) -> bool:
        return True  # the hash covers the signed fields and the signature: the same tx

    def admit(self, scratch: _Group, item: Any) -> Rejected | None:
        tx = item.tx
        if tx.from_index in scratch.forced_leaves:
            return Rejected(
                "forced_pending",
                f"leaf {tx.from_index} has a forced withdrawal queued on L1: it takes the "
                "whole balance first; submit again after it is processed",
            )
        sender = scratch.state.account(tx.from_index)
        if tx.nonce != sender.nonce:
            return Rejected(
                "bad_nonce",
                f"nonce {tx.nonce} is not the next nonce of leaf "
                f"{tx.from_index} (expected {sender.nonce})",
            )
        try:
            scratch.state = self._apply(scratch.state, tx)
        except BatchError as exc:
            return Rejected("invalid", str(exc))
        return None

    def tx_json(self, stored: StoredTx) -> dict[str, Any]:
        return {
            "tx_hash": "0x" + stored.tx_hash.hex(),
            "seq": stored.seq,
            "status": stored.status.value,
        }

    def track_finality(self) -> None:
        """Nothing to track: a zk batch is final once L1 accepts its proof."""

    def status_parts(self) -> dict[str, Any]:
        head = int(self.w3.eth.block_number)
        with self._lock:
            c = self.confirmed
            root = f"0x{c.root:064x}"
            l2 = {
                "confirmed_root": root,
                "confirmed_batches": c.batches_done,
                "pending_txs": self.store.count_txs(TxStatus.PENDING),
                "queued_deposits": self._queued() - c.deposits_done,
                "queued_forced": self._forced_queued() - c.forced_done,
            }
        last = self.store.last_batch()
        final = None if last is None or last.status is not BatchStatus.FINAL else last.batch_index
        return {
            "l2": l2,
            "l1": {"head_block": head, "synced_block": head, "lag_blocks": 0},
            "finality": {"last_final_batch": final, "last_time_to_finality_s": self._ttf},
            "extra": {
                "root": root,
                "deposits_consumed": c.deposits_done,
                "txs": {k.value: self.store.count_txs(k) for k in TxStatus},
                "prove_seconds": round(self.stats.prove_seconds, 2),
            },
        }

    # ------------------------------------------------------------------ posting

    def post_if_due(self, force: bool = False) -> int | None:
        """Prove and post a batch if one is due.

        Returns the index of the batch accepted on L1 (0 for the first), or None if nothing was
        posted: the same quantity as `Batcher.post_if_due`."""
        if self.frozen or self.rollup.functions.frozen().call():
            self.frozen = True
            return None
        intent = self._intent()
        if intent is not None:
            return self._send(intent)
        self._ttf_start = time.time()
        if int(self.rollup.functions.batchCount().call()) != self.confirmed.batches_done:
            self.recover()  # a batch we did not post landed: replay it before building on it
        with self._lock:
            pending = self.store.txs(TxStatus.PENDING)
            waiting = self._queued() - self.confirmed.deposits_done
            forced = self._next_forced()
            due = (
                force
                or bool(forced)
                or len(pending) >= self.params.n_txs
                or (
                    (pending or waiting)
                    and time.time() - min([t.received_at for t in pending[:1]] or [0])
                    >= self.max_batch_delay
                )
            )
            if not due or not (pending or waiting or forced):
                return None
            count = min(self.params.n_deposits, waiting)
            deps = read_deposits(self.w3, self.bridge.address, self.confirmed.deposits_done, count)
            batch, chosen = None, []
            # The queued forced withdrawals first, then the oldest pending txs that apply after
            # them (a tx that spends a deposit still queued behind them waits for the next batch).
            for n in range(min(self.params.n_txs - len(forced), len(pending)), -1, -1):
                try:
                    batch = self._build(
                        self.confirmed,
                        deps,
                        tuple(decode_tx(t.payload) for t in pending[:n]),
                        forced,
                    )
                    chosen = pending[:n]
                    break
                except BatchError:
                    continue
            if batch is None or (not deps and not chosen and not forced):
                return None
        started = time.perf_counter()
        proof = prove_checked(
            self.prover, batch.inputs, batch.public_inputs
        )  # never post unchecked
        self.stats.prove_seconds += time.perf_counter() - started
        index = batch.old_state.batches_done
        with self._lock:
            batch.new_state.save(self.next_path)
            intent = self.store.record_batch_intent(
                index,
                _b32(batch.old_state.root),
                _b32(batch.new_state.root),
                submit_calldata(batch, proof),
                [t.seq for t in chosen],
            )
            failpoints.hit("after_intent")
        return self._send(intent)

    def _send(self, intent: StoredBatch) -> int | None:
        rollup = self.rollup.address
        if (
            int(self.rollup.functions.batchCount().call()) != intent.batch_index
            or _b32(int(self.rollup.functions.stateRoot().call())) != intent.pre_root
        ):
            # L1 moved (our batch landed unseen, or someone else's did): catch up first.
            self.recover()
            return None
        try:
            # The journal makes a restart continue this send with the same nonce (replacing the
            # version in the mempool) instead of adding a second transaction with a fresh one.
            sent = self.sender.send(  # the current policy: a caller may have changed it
                {"to": rollup, "data": Web3.to_hex(intent.data)},
                key=_send_key(intent),
                policy=self.policy,
            )
        except WouldRevert as exc:
            # Refused before signing: L1 moved under the intent (or the proof no longer
            # verifies there). Earlier versions may still be pending: the journal stays.
            log.warning("zk batch %d would revert (%s): reconciling", intent.batch_index, exc)
            self.recover()
            return None
        except NonceConsumed as exc:
            # Another transaction of this key took the nonce: none of ours can land.
            log.warning("zk batch %d: %s", intent.batch_index, exc)
            self._clear_send()
            self.recover()
            return None
        except Reverted as exc:
            # A mined, reverted version used the nonce: resending it can only find that receipt
            # again, so the journal goes before reconciling (as the optimistic batcher does).
            log.warning("zk batch %d reverted (%s): reconciling with L1", intent.batch_index, exc)
            self._clear_send()
            self.recover()
            return None
        failpoints.hit("after_post")
        intent_started = self._ttf_start or time.time()
        with self._lock:
            nxt = L2State.load(self.next_path)
            # Accepted with a valid proof: final at once. The store first, then the state file:
            # a crash in between leaves the state file one batch behind, and recovery replays
            # that batch from L1 (never the reverse, a state ahead of an unresolved intent).
            self.store.mark_batch(
                intent.batch_index,
                BatchStatus.FINAL,
                sent.tx_hash,
                int(sent.receipt["blockNumber"]),
                counters={
                    "batches_posted": 1,
                    "txs_posted": self.store.count_batch_txs(intent.batch_index),
                    "deposits_posted": nxt.deposits_done - self.confirmed.deposits_done,
                    "l1_gas": int(sent.receipt["gasUsed"]),
                    "l1_bytes": len(intent.data),
                    "sender_retries": max(0, int(sent.attempts) - 1),
                },
            )
            self._ttf = time.time() - intent_started
            self._clear_send()
            nxt.save(self.state_path)
            self.next_path.unlink()
            forced_done = nxt.forced_done > self.confirmed.forced_done
            self.confirmed = nxt
            if forced_done:
                # A forced withdrawal emptied a leaf and bumped its nonce: pending txs of it
                # that no longer apply are dropped (with their reason) instead of blocking.
                self._rebuild_pending()
            n = self.store.count_batch_txs(intent.batch_index)
            self.stats.batches_posted += 1
            self.stats.txs_posted += n
            self.stats.l1_gas += int(sent.receipt["gasUsed"])
            log.info(
                "zk batch %d accepted: %d txs, %d gas, tx %s",
                intent.batch_index,
                n,
                sent.receipt["gasUsed"],
                sent.tx_hash,
            )
        return intent.batch_index

    # ------------------------------------------------------------------ queries

    def account_view(self, leaf: int) -> dict[str, Any]:
        """A leaf's pending and confirmed balance and nonce. Deposits queued on L1 (or credited
        by a deposit-only batch) since the last submission are added to the pending state first,
        as `submit` does; a leaf no deposit created is a 404 "no_such_account"."""
        with self._lock:
            if self.pending.deposits_done < self._queued():
                self.pending = self._with_deposits(self.pending)
            p = self.pending.accounts.get(leaf)
            if p is None:
                raise not_found("no_such_account", f"no zk account at leaf {leaf}")
            # Confirmed: zero until the batch with its deposit is accepted.
            c = self.confirmed.accounts.get(leaf)
        return {
            "leaf": leaf,
            "balance": str(p.balance),
            "nonce": p.nonce,
            "token": str(p.token),
            "confirmed_balance": str(c.balance if c is not None else 0),
            "confirmed_nonce": c.nonce if c is not None else 0,
        }


def _b32(x: int) -> bytes:
    return x.to_bytes(32, "big")
