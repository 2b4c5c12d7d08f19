"""The optimistic backend of the sequencer (offchain/sequencer/core.py owns admission, the loop
and the status): decodes and checks signed L2 transactions, keeps the pending ledger, builds and
posts batches, reconciles with L1 (offchain/sequencer/reconcile.py) and tracks finality.

Durability rules (what makes a restart or a crash safe):
- a transaction is validated against the *pending* ledger (L1 head + unconsumed deposits + every
  accepted transaction: balances and nonces in a dict, no tree; offchain/sequencer/ledger.py)
  and written to the store before it is acknowledged (one write for a whole admission group);
- a batch is recorded in the store as an intent before it is sent, and every resend of it uses
  the same L1 nonce, so at most one version is ever mined; `postBatch` also takes the pre-root it
  builds on, so a batch can never be applied twice or on top of the wrong state;
- on start the L2 state is rebuilt from L1 alone (posting calldata + bridge logs), the store's
  batches are reconciled with the chain, and the pending state is replayed from the store.

Forced inclusion: txs queued on L1 (`Rollup.forceTransaction`) go into the next batch, right after
the deposits and before every submitted tx, oldest first; any unconsumed one makes a batch due at
once (the contract lets anyone freeze the rollup once one waits `forcedInclusionDelay`). The
pending state applies them in that same order, so `submit` validates against what will execute.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from eth_account import Account as EthAccount
from eth_typing import HexStr
from web3 import Web3
from web3.contract import Contract

from offchain.blobs.cost import PostingMode
from offchain.errors import L2KitError
from offchain.l1.sender import L1Sender, NonceConsumed, Reverted, SendPolicy, WouldRevert
from offchain.rollup import blob_post
from offchain.rollup.blob_read import beacon_for, with_blob_fraud
from offchain.rollup.checkpoint import (
    Anchor,
    Checkpoint,
    CheckpointError,
    newest_valid,
    verify_from,
)
from offchain.rollup.codec import decode_batch, encode_batch
from offchain.rollup.execute import commit, execute
from offchain.rollup.hashing import keccak
from offchain.rollup.l1 import BatchReading, Posting, QueueReading, RollupL1, UnreadableBatch
from offchain.rollup.params import (
    MAX_COMMITMENTS_PER_BATCH,
    MAX_TXS_PER_COMMITMENT,
)
from offchain.rollup.proofs import WithdrawalClaim
from offchain.rollup.replay import PostedBatch, ReplayResult
from offchain.rollup.state import L2State
from offchain.rollup.types import Commitment, SignedTransfer, SignedWithdraw
from offchain.sequencer import failpoints
from offchain.sequencer.batch_plan import plan_batch
from offchain.sequencer.core import Rejected, Sequencer
from offchain.sequencer.due import DueInputs, is_due
from offchain.sequencer.ledger import Ledger, Overlay, admit_on
from offchain.sequencer.optimistic_admission import LedgerAdmission, PreparedTx
from offchain.sequencer.payload import decode_payload
from offchain.sequencer.preflight import check_funds, read_binding
from offchain.sequencer.queue_tail import QueueTail
from offchain.sequencer.reconcile import Action, BatchRecord, L1View, reconcile
from offchain.sequencer.signing_keys import KeyBook, KeyWatcher
from offchain.sequencer.store import BatchStatus, StoredBatch, StoredTx, TxStatus
from offchain.sequencer.store_open import open_store

#: Version of the optimistic HTTP API: 2 = rollup format v2 (48-byte BLS signatures; tx ids are
#: keccak of the signed message). Shown in /status.
API_VERSION = 2

#: Gas a bond top-up needs (the `bond()` call), for the funds check before sending it.
BOND_TX_GAS = 100_000

log = logging.getLogger("l2kit.batcher")

#: Largest number of user transactions one batch can carry next to `deposits` deposit txs.
BATCH_TX_SLOTS = MAX_COMMITMENTS_PER_BATCH * MAX_TXS_PER_COMMITMENT


__all__ = ["Batcher", "BatcherSettings", "PreparedTx", "Rejected"]


@dataclass(frozen=True)
class BatcherSettings:
    """Every knob of the batcher. Defaults run against a local Anvil node."""

    #: JSON-RPC endpoint of the L1 node.
    rpc: str
    #: Addresses of the rollup and its bridge (from the deployment file).
    rollup: str
    bridge: str
    #: Private key of the proposer account that bonds and posts (hex or bytes).
    proposer_key: bytes
    #: The store holding every accepted transaction and batch, bound to one deployment: an
    #: SQLite file or a postgresql:// URL (opened as the sequencer leader: `open_store`).
    store_path: Path | str = Path("var/ethereum-local/batcher.sqlite")
    #: Block the rollup was deployed in (the deployment file's `block`): with the chain id and
    #: the rollup address, its hash identifies the deployment the store belongs to.
    deployment_block: int = 0
    #: Beacon API (or blob archiver) a recovery reads blob batches' blobs from; None: `rpc`
    #: (Anvil serves the API on its RPC port).
    beacon_url: str | None = None
    #: Post as soon as this many user transactions are pending...
    max_batch_txs: int = 256
    #: ... or once the oldest pending transaction (or unconsumed deposit) waited this long (s).
    max_batch_delay: float = 5.0
    #: How often the posting loop wakes up (s).
    poll_interval: float = 0.25
    #: Bond to hold in the rollup; topped up at start-up if below the contract's requirement.
    bond: int | None = None
    #: L2 account receiving fees (its token is the only fee token accepted).
    fee_account: int = 0
    #: Post an empty batch when no batch was posted for this long (s), so an idle rollup keeps
    #: finalizing and can never be frozen for lack of liveness. None: a quarter of the
    #: contract's liveness period. 0 turns heartbeats off.
    heartbeat: float | None = None
    #: Retry/backoff/fee policy for L1 transactions.
    send_policy: SendPolicy = field(default_factory=SendPolicy)
    #: Checkpoint the confirmed L2 state in the store every this many posted batches (and after
    #: every recovery), so a restart replays only what came after it. 0: only at recovery.
    checkpoint_every: int = 16
    #: Checkpoints kept (the newest and older ones a rollback at or below it falls back to).
    checkpoints_kept: int = 3
    #: Where batch data goes (op-batcher's data-availability type): "calldata" (one postBatch
    #: per batch), "blobs" (postBlobBatches: up to `blob_max_batches` batches per type-3
    #: transaction) or "auto" (per posting, the cheaper at the node's fees; offchain/rollup/
    #: blob_post.py).
    da: str = "auto"
    #: Most batches one blob posting groups (1..32; each locks its own bond).
    blob_max_batches: int = 32
    #: Blob wrapper form: True = Osaka cell proofs (EIP-7594), False = Prague blob proofs,
    #: None = ask the node (`blob_post.detect_cell_proofs`).
    cell_proofs: bool | None = None
    #: Where the auto mode reads fees (None: the node). A seam for tests.
    fee_source: blob_post.FeeSource | None = None


@dataclass
class BatcherStats:
    batches_posted: int = 0
    txs_posted: int = 0
    deposits_posted: int = 0
    l1_bytes: int = 0
    l1_gas: int = 0
    last_post_at: float = 0.0


class Batcher(LedgerAdmission):
    """The optimistic backend, and its service object: `core` is the Sequencer built on it
    (start/stop, prepare/admit_many, status/health/ready). Thread-safe."""

    mode = "optimistic"

    def __init__(self, settings: BatcherSettings, w3: Web3 | None = None) -> None:
        self.settings = settings
        # Settings first: a bad one is refused before anything is opened.
        self.da = blob_post.parse_da(settings.da)
        if not 1 <= settings.blob_max_batches <= blob_post.MAX_BATCHES_PER_CALL:
            raise blob_post.BlobPostError(
                f"blob_max_batches {settings.blob_max_batches} is not 1..32 (a blob posting "
                "carries at most 32 batches)"
            )
        self.w3 = w3 or Web3(Web3.HTTPProvider(settings.rpc, request_kwargs={"timeout": 30}))
        self.l1 = RollupL1(
            self.w3, settings.rollup, settings.bridge, beacon_for(settings.beacon_url, self.w3)
        )
        self.account = EthAccount.from_key(settings.proposer_key)
        self.store = open_store(settings.store_path, leader=True)
        try:  # a store of another deployment must not be touched: refuse before recovery
            self.store.bind(read_binding(self.w3, settings.rollup, settings.deployment_block))
        except BaseException:
            self.store.close()
            raise
        #: The proposer's one L1 sender (bond and postings), journaled in the store.
        self.sender = L1Sender(
            self.w3, self.account, settings.send_policy, journals=self.store.send_journal
        )
        #: The BLS tag of every L2 signature (chain id, rollup): format v2's signing domain.
        self.dst = self.l1.signing_dst()
        #: The registry's key history, followed from its logs (admission reads the snapshot).
        self.keys = KeyWatcher(self.w3, self.l1.registry.address, settings.deployment_block)
        self.stats = BatcherStats()
        self.core = Sequencer(self, threading.RLock(), settings.poll_interval)
        self._lock = self.core.lock
        # The unconsumed tails of the L1 queues (offchain/sequencer/queue_tail.py).
        self._deposits = QueueTail()
        self._deposits_seen_at: dict[int, float] = {}
        self._forced = QueueTail()
        self._posted_since_checkpoint = 0
        self.confirmed = L2State()  # the state after every live batch on L1
        self.pending = Ledger()  # confirmed + unconsumed deposits + accepted transactions
        self._heartbeat: float | None = None
        self.frozen = False
        self._posted_at: dict[int, float] = {}  # batches awaiting finality -> when posted
        self._last_final: int | None = None
        self._last_ttf: float | None = None
        self._l1_head = 0
        self._synced_block = 0
        self._fees = settings.fee_source or blob_post.node_fees_source(
            self.w3, settings.send_policy
        )
        self._cell_proofs = settings.cell_proofs
        #: The last posting's DA choice (shown in /status) and postings per mode (this process).
        self.da_last: blob_post.DaChoice | None = None  # with both costs, when computed
        self.da_last_mode: PostingMode | None = None
        self.da_last_reason = ""
        self.da_postings = {m.value: 0 for m in PostingMode}

    # ------------------------------------------------------------------ lifecycle

    def start(self) -> None:
        """Recover from L1 and the store, make sure the bond is posted, start the posting loop."""
        self.recover()
        self.ensure_bond()
        self.core.start_loop()

    def stop(self) -> None:
        self.core.stop_loop()
        self.store.close()

    @property
    def proposer(self) -> str:
        return str(self.account.address)

    @property
    def fee_account(self) -> int:
        return self.settings.fee_account

    @property
    def key_book(self) -> KeyBook:
        return self.keys.book

    def _refresh_keys(self) -> None:
        """Read new key registrations. A registration takes effect `activationDelay` blocks
        later; from then on a tx signed with the owner's previous key no longer verifies, so
        the owner's pending txs (all signed before: admission refuses an owner with a rotation
        pending) are dropped now, to be re-signed with the new key (docs/bls.md §6.3)."""
        entries = self.keys.refresh()
        owners = {e.owner.lower() for e in entries}
        if not owners:
            return
        dropped = 0
        for stored in self.store.txs(TxStatus.PENDING):
            sender = decode_payload(stored.payload).tx.sender
            if self.pending.account(sender).owner in owners:
                self.store.drop_tx(
                    stored.seq,
                    "the sender's BLS key changed: re-sign with the new key once it is in effect",
                )
                dropped += 1
        if dropped:
            log.warning("%d pending tx(s) dropped after a key registration", dropped)
            self._rebuild_pending()

    def ensure_bond(self, batches: int = 1) -> None:
        """Before a posting of `batches` batches: if the free bond (what the posting locks) is
        below `batches` x requiredBond, top it up to max(that, --bond). A `--bond` of
        k·requiredBond bonds once per k batches instead of once per batch (each batch locks
        requiredBond until it is final)."""
        required = batches * self.l1.rollup.functions.requiredBond().call()
        held = self.l1.rollup.functions.bondOf(self.account.address).call()
        want = max(required, self.settings.bond or 0)
        journal = self.store.send_journal("bond")
        if held >= required and journal.load() is None:
            # The gas reserve is checked once, at start-up (service preflight): here a fee spike
            # must not stop a proposer that can still pay for its postings.
            return
        if journal.load() is None:  # a bond tx journaled before a restart is continued as is
            check_funds(
                self.w3,
                self.account.address,
                want - held,
                reserve_gas=BOND_TX_GAS,
                policy=self.settings.send_policy,
            )
        rollup = self.l1.rollup
        log.info("bonding %d wei from %s", want - held, self.account.address)
        try:
            self.sender.send(
                {"to": rollup.address, "value": want - held, "data": _data(rollup, "bond")},
                key="bond",
            )
        except NonceConsumed:
            self.store.clear_l1_send("bond")
            raise
        self.store.clear_l1_send("bond")

    def recover(self) -> None:
        """Rebuild state from L1, reconcile the store's batches with L1 (the pure plan of
        offchain/sequencer/reconcile.py), replay pending txs."""
        with self._lock:
            self._check_frozen()
            self._refresh_keys()
            result = self._replay_l1()
            if result.fraud is not None:
                log.error(
                    "batch %d on L1 is fraudulent (%s): building on the state before it; "
                    "run the validator to roll it back",
                    result.fraud.batch_index,
                    result.fraud.fault.name,
                )
            self.confirmed = result.state
            live = result.batches_ok
            stored = {b.batch_index: b for b in self.store.open_batches()}
            roots = {i: self._l1_post_root(i) for i in stored if i < live}
            plan = reconcile(
                [
                    BatchRecord(b.batch_index, b.status.value, b.pre_root, b.post_root)
                    for b in stored.values()
                ],
                L1View(live, roots, self.confirmed.root),
            )
            for step in plan.steps:
                b = stored[step.index]
                if step.action is Action.DELETE:
                    self.store.delete_batch(b.batch_index)
                elif step.action is Action.MARK_POSTED:
                    self._mark_recovered(b)
                elif step.action is Action.RESEND:
                    log.info("batch %d was recorded but not posted: will resend", b.batch_index)
                elif step.action is Action.ROLL_BACK:
                    log.warning(
                        "batch %d: %s: its txs are pending again", b.batch_index, step.reason
                    )
                    self.store.mark_batch(b.batch_index, BatchStatus.ROLLED_BACK)
                    self.store.delete_batch(b.batch_index)
                    self.store.clear_l1_send(_send_key(b))
                    self.store.clear_l1_sends(f"blobs:{b.batch_index}:")
                    self._posted_at.pop(b.batch_index, None)
                elif b.status is BatchStatus.POSTED:
                    self._posted_at.setdefault(b.batch_index, time.time())
            self._rebuild_pending()
            self._synced_block = self._l1_head
            self.core.recovered()

    def _replay_l1(self) -> ReplayResult:
        """The confirmed L2 state from L1, replaying only the batches after the newest checkpoint
        in the store that L1 still supports (offchain/rollup/checkpoint.py; from genesis if none
        is), with the queue tails read from that checkpoint's positions; then checkpoints the
        result, so the next restart starts from here."""
        self._l1_head = int(self.w3.eth.block_number)
        start, refused = newest_valid(self.l1, self._saved_checkpoints())
        for line in refused:
            log.warning("%s", line)
        if start is None and refused:
            log.warning("no stored checkpoint is valid: replaying L1 from genesis")
        state = start.state() if start else L2State()
        self._deposits = _tail(
            self.l1.read_deposit_queue(state.deposit_end, start.deposit_from_block if start else 0),
            state.deposit_end,
            start.deposit_from_block if start else 0,
        )
        self._forced = _tail(
            self.l1.read_forced_queue(state.forced_end, start.forced_from_block if start else 0),
            state.forced_end,
            start.forced_from_block if start else 0,
        )
        now = time.time()
        seen = self._deposits_seen_at  # a recovery while running keeps when each was seen
        self._deposits_seen_at = {d.index: seen.get(d.index, now) for d in self._deposits.entries}
        reading = self.l1.read_batches(
            None, start.batches if start else 0, start.anchor.block_number if start else 0
        )
        if reading.unreadable is not None:
            reading = self._own_batches(reading)
        if reading.unreadable is not None:
            raise reading.unreadable
        result, ckpt = verify_from(
            self.l1,
            self.dst,
            start,
            reading,
            self._deposits.entries,
            self._forced.entries,
        )
        result = with_blob_fraud(result, reading)  # built on like any fraudulent batch
        if ckpt is not None and (start is None or ckpt.batches > start.batches):
            self._save_checkpoint(ckpt)
        self._deposits.drop_below(result.state.deposit_end)  # consumed after the checkpoint
        self._forced.drop_below(result.state.forced_end)
        return result

    def _own_batches(self, reading: BatchReading) -> BatchReading:
        """`reading` continued past its first unreadable batch with this batcher's own batches
        from the store, each only if its recorded bytes hash to the batch hash L1 stores (so
        they are exactly what L1 accepted): a restart after a blob posting does not depend on
        the beacon endpoint for batches it posted itself."""
        batches, postings = list(reading.batches), list(reading.postings)
        index = reading.start + len(batches)
        unreadable = reading.unreadable
        ends = (0, 0)
        if index > 0:
            record = self.l1.batch_record(index - 1)
            ends = (record.deposit_end, record.forced_end)
        while index < reading.count:
            own = self.store.batch(index)
            if own is None:
                break
            try:
                commitments = decode_batch(own.data, ends[0], ends[1])
            except ValueError:
                break
            if (
                keccak(b"".join(c.hash() for c in commitments))
                != reading.hashes[index - reading.start]
            ):
                break
            tx_hash, block = self._posting_tx(index)
            if tx_hash is None or block is None:
                break
            block_hash = bytes(self.w3.eth.get_block(block)["hash"])
            batches.append(PostedBatch(index, own.data, block))
            postings.append(Posting(index, bytes.fromhex(tx_hash[2:]), block, block_hash))
            log.info("batch %d read from the store (own batch, hash checked against L1)", index)
            ends = (commitments[-1].deposit_end, commitments[-1].forced_end)
            index += 1
            unreadable = None
        if index < reading.count and unreadable is None:
            unreadable = UnreadableBatch(index, "neither L1 nor the store can give its data")
        return replace(
            reading,
            batches=tuple(batches),
            postings=tuple(postings),
            unreadable=unreadable if index < reading.count else None,
        )

    # ------------------------------------------------------------------ checkpoints

    def _replay_batch(self, index: int) -> ReplayResult:
        """Replay live batch `index` (its withdrawal claims) from the newest valid checkpoint at
        or below it: work since that checkpoint, not since genesis (genesis if none is)."""
        live = int(self.l1.rollup.functions.batchCount().call())
        if index >= live:
            raise Rejected("not_found", f"batch {index} is not live on L1 (rolled back?)")
        below = [c for c in self._saved_checkpoints() if c.batches <= index]
        start, _ = newest_valid(self.l1, below)
        reading = self.l1.read_batches(
            index + 1, start.batches if start else 0, start.anchor.block_number if start else 0
        )
        if reading.unreadable is not None:
            raise reading.unreadable
        result, _ckpt = verify_from(self.l1, self.dst, start, reading)
        return result

    def _saved_checkpoints(self) -> list[Checkpoint]:
        """The checkpoints kept in the store (newest first); unreadable ones are logged, skipped."""
        out = []
        for name in _checkpoint_names(self.settings.checkpoints_kept):
            data = self.store.load_checkpoint(name)
            if data is None:
                continue
            try:
                out.append(Checkpoint.from_bytes(data))
            except CheckpointError as exc:
                log.warning("stored checkpoint %r ignored: %s", name, exc)
        return sorted(out, key=lambda c: -c.batches)

    def _save_checkpoint(self, ckpt: Checkpoint) -> None:
        """Keep `ckpt` as the newest checkpoint (`optimistic`), the one it replaces as an older
        one (a rollback at or below the newest falls back to it instead of genesis)."""
        ckpt = Checkpoint.of(
            ckpt.anchor,
            ckpt.state(),
            self._deposits.block_of(ckpt.anchor.record.deposit_end),
            self._forced.block_of(ckpt.anchor.record.forced_end),
        )
        kept = [c for c in self._saved_checkpoints() if c.batches < ckpt.batches]
        names = _checkpoint_names(self.settings.checkpoints_kept)
        for name, c in zip(names, [ckpt, *kept], strict=False):
            self.store.save_checkpoint(name, c.to_bytes())
        self._posted_since_checkpoint = 0
        log.info("saved %s", ckpt.describe())

    def _checkpoint_posted(self, index: int, receipt: Any) -> None:
        """After our batch `index` was posted: every `checkpoint_every` batches, checkpoint the
        confirmed state anchored at that posting (non-final: a restart re-validates it)."""
        self._posted_since_checkpoint += 1
        every = self.settings.checkpoint_every
        if not every or self._posted_since_checkpoint < every:
            return
        anchor = Anchor(
            int(self.w3.eth.chain_id),
            self.l1.rollup.address.lower(),
            index,
            self.l1.batch_record(index),
            int(receipt["blockNumber"]),
            bytes(receipt["blockHash"]),
            bytes(receipt["transactionHash"]),
        )
        self._save_checkpoint(Checkpoint.of(anchor, self.confirmed.copy(), 0, 0))

    def _mark_recovered(self, b: StoredBatch) -> None:
        """An intent found mined on L1 after a restart: POSTED, with its L1 transaction (looked
        up from the send journal) and its counters."""
        key = _send_key(b)
        record = self.store.l1_send(key)
        tx_hash, block, gas = None, None, 0
        counters: dict[str, int] = {}
        if record is None:  # a blob posting: its tx is the one whose event names the batch
            tx_hash, block = self._posting_tx(b.batch_index)
            counters = self._blob_posting_counters(b.batch_index, tx_hash)
        for h in record.tx_hashes if record else ():
            try:
                receipt = self.w3.eth.get_transaction_receipt(HexStr(h))
            except Exception:  # not mined (dropped or replaced): try the next version
                continue
            if receipt is not None and receipt["status"] == 1:
                tx_hash, block, gas = h, int(receipt["blockNumber"]), int(receipt["gasUsed"])
                break
        log.info("batch %d reached L1 before the restart (tx %s)", b.batch_index, tx_hash)
        n_txs = self.store.count_batch_txs(b.batch_index)
        counters.update({"batches_posted": 1, "txs_posted": n_txs, "l1_bytes": len(b.data)})
        counters.setdefault("l1_gas", gas)
        self.store.mark_batch(b.batch_index, BatchStatus.POSTED, tx_hash, block, counters)
        self.store.clear_l1_send(key)
        self.store.clear_l1_sends(f"blobs:{b.batch_index}:")
        self._posted_at[b.batch_index] = time.time()

    def _blob_posting_counters(self, index: int, tx_hash: str | None) -> dict[str, int]:
        """The posting's own counters (gas, blob gas, one posting) for the first batch of a blob
        posting found mined after a restart; nothing for its other batches."""
        if tx_hash is None:
            return {}
        receipt: dict[str, Any] = dict(self.w3.eth.get_transaction_receipt(HexStr(tx_hash)))
        indexes, _ = blob_post.posted_indexes(receipt, self.l1.rollup.address)
        if not indexes or min(indexes) != index:
            return {"l1_gas": 0}
        return {
            "l1_gas": int(receipt["gasUsed"]),
            "blob_postings": 1,
            "blob_gas": int(receipt.get("blobGasUsed") or 0),
        }

    def _posting_tx(self, index: int) -> tuple[str | None, int | None]:
        """(tx hash, block) of the live posting of batch `index`: its newest BatchPosted event
        naming the batch hash L1 stores."""
        stored = bytes(self.l1.rollup.functions.batches(index).call()[0])
        logs = self.l1.rollup.events.BatchPosted.get_logs(
            from_block=self.settings.deployment_block, argument_filters={"index": index}
        )
        for entry in reversed(list(logs)):
            if bytes(entry["args"]["batchHash"]) == stored:
                return Web3.to_hex(entry["transactionHash"]), int(entry["blockNumber"])
        return None, None

    def _rebuild_pending(self) -> None:
        """pending = confirmed + intent batch (if any) + unconsumed deposits and forced txs
        (applied on the tree by the same execute/builder code the validator replays) + pending
        txs (applied on the ledger), in the order the next batch executes them."""
        state = self.confirmed.copy()
        for intent in self._intents():
            if not self._apply_batch(state, intent.data):
                raise L2KitError(
                    f"recorded batch {intent.batch_index} no longer applies: the store and L1 "
                    "disagree; move the store aside to resync"
                )
        self._apply_deposits(state)
        ledger = Ledger.of(state.accounts, state.deposit_end, state.forced_end)
        view = Overlay(ledger)
        for stored in self.store.txs(TxStatus.PENDING):
            # The intent batch's own (BATCHED) txs were replayed above from its recorded bytes,
            # so only PENDING txs reach this loop: one that no longer applies is dropped. Their
            # signatures were verified at admission, for the nonce stored with them.
            p = decode_payload(stored.payload)
            refused = admit_on(view, p.tx, p.nonce, self.settings.fee_account)
            if refused is not None:
                log.warning("dropping tx #%d: no longer valid (%s)", stored.seq, refused[0])
                self.store.drop_tx(stored.seq, f"no longer valid after a rollback: {refused[1]}")
        view.merge()
        self.pending = ledger

    def _apply_batch(self, state: L2State, data: bytes) -> bool:
        """Execute posted batch bytes on `state` (in place); False if they do not re-execute."""
        work = state.copy()
        for c in decode_batch(data, work.deposit_end, work.forced_end):
            deps = tuple(self._deposits[work.deposit_end : c.deposit_end])
            frc = tuple(self._forced[work.forced_end : c.forced_end])
            ex = execute(work, c, deps, frc)
            if not ex.ok:
                return False
            commit(work, ex, c.deposit_end)
        state.tree, state.accounts = work.tree, work.accounts
        state.deposit_end, state.forced_end = work.deposit_end, work.forced_end
        return True

    def _apply_deposits(self, state: L2State) -> None:
        """Credit every queued deposit not yet in `state`, then run every forced tx not yet in it
        (applied or skipped), as the next batch will (the same plan, offchain/sequencer/
        batch_plan.py)."""
        deposits = self._deposits[state.deposit_end :]
        forced = self._forced[state.forced_end :]
        if not deposits and not forced:
            return
        post = plan_batch(state, deposits, forced, (), self.settings.fee_account).post_state
        state.tree, state.accounts = post.tree, post.accounts
        state.deposit_end, state.forced_end = post.deposit_end, post.forced_end

    def _refresh_deposits(self) -> None:
        """Read deposits and forced txs queued since the last read (from the block of the newest
        held), and forget the entries the confirmed state consumed: O(new entries) per poll."""
        if self.l1.bridge.functions.depositCount().call() != len(self._deposits):
            read = self.l1.read_deposit_queue(len(self._deposits), self._deposits.from_block)
            now = time.time()
            for d in read.entries:
                self._deposits_seen_at.setdefault(d.index, now)
            self._deposits.extend(read.entries, read.blocks)
        if self.l1.rollup.functions.forcedCount().call() != len(self._forced):
            read = self.l1.read_forced_queue(len(self._forced), self._forced.from_block)
            self._forced.extend(read.entries, read.blocks)
        self._deposits.drop_below(self.confirmed.deposit_end)
        self._forced.drop_below(self.confirmed.forced_end)

    def _l1_post_root(self, index: int) -> bytes:
        return bytes(self.l1.rollup.functions.batches(index).call()[1])

    def _intent(self) -> StoredBatch | None:
        intents = self.store.batches(BatchStatus.INTENT)
        return intents[0] if intents else None

    def _intents(self) -> list[StoredBatch]:
        """Every recorded, not yet posted batch, in index order (a blob posting records several,
        each building on the one before it)."""
        return self.store.batches(BatchStatus.INTENT)

    # ------------------------------------------------------------------ submissions

    def submit(self, signed: SignedTransfer | SignedWithdraw, nonce: int) -> StoredTx:
        """Check `signed` (its BLS signature, then the pending state), persist it, apply it;
        returns what was stored (one transaction through the core's admission path)."""
        if not isinstance(signed, SignedTransfer | SignedWithdraw):
            raise Rejected(
                "bad_type",
                "only transfers and withdrawals are submitted; deposits go through the bridge",
            )
        return self.core.submit_prepared(self.prepare_tx(signed.tx, nonce, signed.signature))

    # ------------------------------------------------------------------ posting

    def post_if_due(self, force: bool = False) -> int | None:
        """Post a batch if the size or time threshold is reached (or `force`).

        Returns the index of the batch accepted on L1 (0 for the first), or None if nothing was
        posted; `ZkBatcher.post_if_due` returns the same quantity."""
        if self._check_frozen():
            return None
        with self._lock:
            intents = self._intents()
            if not intents:
                self._refresh_keys()
                self._refresh_deposits()
                if (
                    len(self._forced) > self.pending.forced_end
                    or len(self._deposits) > self.pending.deposit_end
                ):
                    # deposits and forced txs run before the pending txs: replay those after
                    self._rebuild_pending()
                heartbeat = self._heartbeat_due()
                if not (force or heartbeat or self._due()):
                    return None
                intents = self._build_intents(heartbeat=heartbeat)
                if not intents:
                    return None
                failpoints.hit("after_intent")
        return self._send_intents(intents)

    def _due(self) -> bool:
        oldest = self.store.txs(TxStatus.PENDING, limit=1)
        first_deposit = self.confirmed.deposit_end
        return is_due(
            DueInputs(
                now=time.time(),
                pending_txs=self.store.count_txs(TxStatus.PENDING),
                oldest_tx_at=oldest[0].received_at if oldest else None,
                waiting_deposits=len(self._deposits) - first_deposit,
                oldest_deposit_at=self._deposits_seen_at.get(first_deposit, time.time()),
                waiting_forced=len(self._forced) - self.confirmed.forced_end,
                max_batch_txs=self.settings.max_batch_txs,
                max_batch_delay=self.settings.max_batch_delay,
            )
        )

    def _check_frozen(self) -> bool:
        """Once the rollup is frozen nothing can be posted: stop, and say what users should do."""
        if not self.frozen and self.l1.rollup.functions.frozen().call():
            self.frozen = True
            log.error(
                "the rollup is FROZEN: no batch can be posted any more. Users withdraw their "
                "balances from the last finalized state with `ape run exit --owner <address>`"
            )
        return self.frozen

    def _heartbeat_due(self) -> bool:
        """True when no batch was posted for the heartbeat interval (chain time)."""
        if self._heartbeat is None:
            if self.settings.heartbeat is not None:
                self._heartbeat = float(self.settings.heartbeat)
            else:
                self._heartbeat = self.l1.rollup.functions.livenessPeriod().call() / 4
        if not self._heartbeat:
            return False
        functions = self.l1.rollup.functions
        count = functions.batchCount().call()
        now = self.w3.eth.get_block("latest")["timestamp"]
        last = functions.batches(count - 1).call()[3] if count else 0
        if not count:
            last = functions.lastFinalizationTime().call()
        return now - last >= self._heartbeat

    def _build_intents(self, heartbeat: bool = False) -> list[StoredBatch]:
        """Record the next batch; unless the DA mode is calldata, also the batches after it
        that one blob posting can carry with it (pending txs left, at most `blob_max_batches`,
        payload within 6 blobs), each building on the one before."""
        first = self._build_intent(heartbeat=heartbeat)
        if first is None:
            return []
        out = [first]
        if self.da is blob_post.DaSetting.CALLDATA:
            return out
        state = self.confirmed.copy()
        if not self._apply_batch(state, first.data):
            raise L2KitError(f"own batch {first.batch_index} does not re-execute: operator bug")
        size = len(blob_post.lay_out([blob_post.split_calldata_batch(first.data)]).payload)
        while len(out) < self.settings.blob_max_batches and self.store.count_txs(TxStatus.PENDING):
            nxt = self._plan_intent(state)
            if nxt is None:
                break
            data, post_root, seqs, post_state = nxt
            extra = sum(len(r) for _, r in blob_post.split_calldata_batch(data))
            if size + extra > blob_post.encoding.MAX_PAYLOAD_BYTES:
                break
            out.append(
                self.store.record_batch_intent(
                    out[-1].batch_index + 1, state.root, post_root, data, seqs
                )
            )
            size += extra
            state = post_state
        return out

    def _plan_intent(self, base: L2State) -> tuple[bytes, bytes, list[int], L2State] | None:
        """The batch after `base` from the oldest pending txs (no deposits or forced txs left
        in the queues past `base` are skipped): (data, post root, tx seqs, post state), or None
        if the plan drops txs (the next round rebuilds without them) or has none."""
        deposits = self._deposits[base.deposit_end :][: BATCH_TX_SLOTS // 2]
        forced = self._forced[base.forced_end :][: BATCH_TX_SLOTS // 4]
        room = min(self.settings.max_batch_txs, BATCH_TX_SLOTS - len(deposits) - len(forced))
        # The txs after the ones the batches before this one took (every intent takes the
        # oldest pending ones).
        stored = self.store.txs(TxStatus.PENDING, limit=room)
        if not stored:
            return None
        txs = [decode_payload(t.payload) for t in stored]
        plan = plan_batch(base, deposits, forced, txs, self.settings.fee_account)
        if plan.dropped or not plan.commitments:
            return None
        if len(plan.included) != len(stored):
            stored = [stored[i] for i in sorted(plan.included)]
            if [t.seq for t in stored] != [t.seq for t in self.store.txs(TxStatus.PENDING)][
                : len(stored)
            ]:
                return None  # not a prefix of the pending txs: leave it to the next round
        return plan.data, plan.post_root, [t.seq for t in stored], plan.post_state

    def _build_intent(self, heartbeat: bool = False) -> StoredBatch | None:
        deposits = self._deposits[self.confirmed.deposit_end :][: BATCH_TX_SLOTS // 2]
        forced = self._forced[self.confirmed.forced_end :][: BATCH_TX_SLOTS // 4]
        room = min(self.settings.max_batch_txs, BATCH_TX_SLOTS - len(deposits) - len(forced))
        stored = self.store.txs(TxStatus.PENDING, limit=room)
        if not deposits and not forced and not stored:
            if not heartbeat:
                return None
            # An empty commitment: same root, same queue positions. It keeps batches finalizing
            # while nobody transacts, so the rollup is never frozen for lack of liveness.
            c = self.confirmed
            empty = Commitment(c.root, c.deposit_end, c.forced_end, self.settings.fee_account)
            index = self.l1.rollup.functions.batchCount().call()
            log.info("no batch for %.0f s: posting heartbeat batch %d", self._heartbeat, index)
            return self.store.record_batch_intent(index, c.root, c.root, encode_batch([empty]), [])
        txs = [decode_payload(t.payload) for t in stored]
        plan = plan_batch(self.confirmed, deposits, forced, txs, self.settings.fee_account)
        if plan.dropped or not plan.commitments:
            # A forced tx queued after they were accepted invalidated them (e.g. it drained the
            # sender), or an earlier tx of their sender went: drop them; the next round posts
            # without them.
            for i, why in plan.dropped:
                log.warning("dropping tx #%d: invalid when batched (%s)", stored[i].seq, why)
                self.store.drop_tx(stored[i].seq, f"invalid when batched: {why}")
            self._rebuild_pending()
            return None
        included = plan.included
        if len(included) != len(stored):
            # the batch was full (64 commitments): post what fits, in acceptance order
            stored = [stored[i] for i in sorted(included)]
        index = self.l1.rollup.functions.batchCount().call()
        return self.store.record_batch_intent(
            index, plan.pre_root, plan.post_root, plan.data, [t.seq for t in stored]
        )

    def _send_intents(self, intents: list[StoredBatch]) -> int | None:
        """Post the recorded batches: all in one blob posting, or the first by calldata (the
        next rounds post the others), as the DA setting and, in auto mode, the fees say. A
        posting journaled before a restart continues in the mode it was sent in."""
        first = intents[0]
        pairs = [blob_post.split_calldata_batch(b.data) for b in intents]
        try:
            layout = blob_post.lay_out(pairs)
            blob_key = blob_post.posting_key(first.batch_index, first.pre_root, layout.data)
        except blob_post.BlobPostError:  # more than one posting holds: post the first by calldata
            blob_key = None
        if blob_key is not None and self.store.l1_send(blob_key) is not None:
            mode, reason = PostingMode.BLOBS, "continuing the blob posting sent before a restart"
        elif self.store.l1_send(_send_key(first)) is not None:
            mode, reason = PostingMode.CALLDATA, "continuing the calldata posting sent before"
        elif self.da is blob_post.DaSetting.CALLDATA or blob_key is None:
            # No fees read: calldata mode works on any chain, with or without blobs.
            mode, reason = PostingMode.CALLDATA, "forced by --da calldata (no fees read)"
            self.da_last = None
        else:
            choice = blob_post.choose_da(self.da, first.pre_root, pairs, self._fees())
            self.da_last = choice
            mode, reason = choice.mode, choice.reason
        self.da_last_mode, self.da_last_reason = mode, reason
        log.info(
            "posting batch(es) %d..%d: %s (%s)",
            first.batch_index,
            intents[-1].batch_index,
            mode.value,
            reason,
        )
        if mode is PostingMode.CALLDATA:
            index = self._send_intent(first)
            if index is not None:
                self.da_postings[mode.value] += 1
            return index
        index = self._send_blob_posting(intents, pairs)
        if index is not None:
            self.da_postings[mode.value] += 1
        return index

    def cell_proofs(self) -> bool:
        """The blob wrapper form: the setting, else what the node runs (asked once)."""
        if self._cell_proofs is None:
            self._cell_proofs = blob_post.detect_cell_proofs(self.w3)
            log.info("blob wrapper: %s", "Osaka cell proofs" if self._cell_proofs else "Prague")
        return self._cell_proofs

    def _send_blob_posting(
        self, intents: list[StoredBatch], pairs: list[list[tuple[bytes, bytes]]]
    ) -> int | None:
        """One postBlobBatches of every intent (journaled under its posting key); on success
        every batch is marked POSTED. Returns the last batch index posted (None if nothing)."""
        first = intents[0]
        posting = blob_post.lay_out(pairs)
        key = blob_post.posting_key(first.batch_index, first.pre_root, posting.data)
        self.ensure_bond(len(intents))  # every batch locks its own requiredBond
        try:
            posted = blob_post.post_blob_batches(
                self.sender,
                self.l1.rollup.address,
                first.pre_root,
                posting,
                first_index=first.batch_index,
                cell_proofs=self.cell_proofs(),
            )
        except WouldRevert as exc:
            log.warning(
                "blob posting of batch %d would revert (%s): reconciling with L1",
                first.batch_index,
                exc,
            )
            self.recover()
            return None
        except (Reverted, NonceConsumed) as exc:
            log.warning("blob posting of batch %d: %s: reconciling", first.batch_index, exc)
            self.store.clear_l1_send(key)
            self.recover()
            return None
        failpoints.hit("after_post")
        with self._lock:
            state = self.confirmed.copy()
            for k, intent in enumerate(intents):
                before = state.deposit_end
                if not self._apply_batch(state, intent.data):
                    raise L2KitError(
                        f"own batch {intent.batch_index} does not re-execute: operator bug"
                    )
                n_txs = self.store.count_batch_txs(intent.batch_index)
                counters = {
                    "batches_posted": 1,
                    "txs_posted": n_txs,
                    "deposits_posted": state.deposit_end - before,
                    "l1_bytes": len(intent.data),
                }
                if k == 0:  # the posting's own figures, once
                    counters.update(
                        {
                            "l1_gas": posted.gas_used,
                            "blob_postings": 1,
                            "blob_gas": posted.blob_gas_used,
                            "sender_retries": max(0, posted.attempts - 1),
                        }
                    )
                self.store.mark_batch(
                    intent.batch_index, BatchStatus.POSTED, posted.tx_hash, posted.block, counters
                )
                self._posted_at[intent.batch_index] = time.time()
                self.stats.batches_posted += 1
                self.stats.txs_posted += n_txs
            self.store.clear_l1_send(key)
            self.confirmed = state
            try:
                self._checkpoint_posted(intents[-1].batch_index, posted.receipt)
            except CheckpointError as exc:
                log.error("no checkpoint after batch %d: %s", intents[-1].batch_index, exc)
            for i in [i for i in self._deposits_seen_at if i < state.deposit_end]:
                del self._deposits_seen_at[i]
            self.stats.l1_bytes += len(posting.data)
            self.stats.l1_gas += posted.gas_used
            self.stats.last_post_at = time.time()
            log.info(
                "batches %d..%d posted in %d blob(s): %d payload bytes, %d gas, %d blob gas, "
                "versioned hashes %s, tx %s",
                first.batch_index,
                intents[-1].batch_index,
                len(posted.blob_hashes),
                len(posting.payload),
                posted.gas_used,
                posted.blob_gas_used,
                ", ".join("0x" + h.hex() for h in posted.blob_hashes),
                posted.tx_hash,
            )
        return intents[-1].batch_index

    def _send_intent(self, intent: StoredBatch) -> int | None:
        rollup = self.l1.rollup
        self.ensure_bond()  # every posting locks `requiredBond` of the free bond until final
        data = _data(rollup, "postBatch", intent.pre_root, intent.data)
        key = _send_key(intent)
        try:
            sent = self.sender.send({"to": rollup.address, "data": data}, key=key)
        except WouldRevert as exc:
            # Refused before signing (L1 moved: another batch, a rollback, a freeze). Versions
            # sent earlier may still be pending, so the journal stays: reconcile keeps the intent
            # (resend, same nonce) while it still fits L1's head, or rolls it back.
            log.warning(
                "posting batch %d would revert (%s): reconciling with L1", intent.batch_index, exc
            )
            self.recover()
            return None
        except Reverted as exc:
            log.warning(
                "posting batch %d reverted (%s): reconciling with L1", intent.batch_index, exc
            )
            self.store.clear_l1_send(key)
            self.recover()
            return intent.batch_index
        except NonceConsumed as exc:
            # None of its versions can be mined any more: safe to send afresh after reconciling.
            log.warning("batch %d: %s", intent.batch_index, exc)
            self.store.clear_l1_send(key)
            self.recover()
            return intent.batch_index
        failpoints.hit("after_post")
        with self._lock:
            state = self.confirmed.copy()
            if not self._apply_batch(state, intent.data):
                raise L2KitError(
                    f"own batch {intent.batch_index} does not re-execute: operator bug"
                )
            n_txs = self.store.count_batch_txs(intent.batch_index)
            self.store.mark_batch(
                intent.batch_index,
                BatchStatus.POSTED,
                sent.tx_hash,
                int(sent.receipt["blockNumber"]),
                counters={
                    "batches_posted": 1,
                    "txs_posted": n_txs,
                    "deposits_posted": state.deposit_end - self.confirmed.deposit_end,
                    "l1_gas": int(sent.receipt["gasUsed"]),
                    "l1_bytes": len(intent.data),
                    "sender_retries": max(0, int(sent.attempts) - 1),
                },
            )
            self.store.clear_l1_send(key)
            self.confirmed = state
            self._posted_at[intent.batch_index] = time.time()
            try:
                self._checkpoint_posted(intent.batch_index, sent.receipt)
            except CheckpointError as exc:  # never stop posting for a checkpoint
                log.error("no checkpoint after batch %d: %s", intent.batch_index, exc)
            for i in [i for i in self._deposits_seen_at if i < state.deposit_end]:
                del self._deposits_seen_at[i]  # consumed: keep memory flat
            self.stats.batches_posted += 1
            self.stats.txs_posted += n_txs
            self.stats.l1_bytes += len(intent.data)
            self.stats.l1_gas += int(sent.receipt["gasUsed"])
            self.stats.last_post_at = time.time()
            log.info(
                "batch %d posted: %d txs, %d bytes, %d gas, tx %s",
                intent.batch_index,
                n_txs,
                len(intent.data),
                sent.receipt["gasUsed"],
                sent.tx_hash,
            )
        return intent.batch_index

    def track_finality(self) -> None:
        """O(1) L1 reads per poll: the rollup's batch count (a rollback shows as fewer batches)
        and its finalized count; every POSTED batch below it becomes FINAL in one store write."""
        self._synced_block = int(self.w3.eth.block_number)
        posted = self.store.batch_indexes(BatchStatus.POSTED)
        if not posted:
            return
        functions = self.l1.rollup.functions
        count = functions.batchCount().call()
        if posted[-1] >= count:
            log.warning("batch %d was rolled back on L1: recovering", posted[-1])
            self.recover()
            return
        done = self.store.mark_batches_final(int(functions.finalizedCount().call()))
        now = time.time()
        for index in done:
            posted_at = self._posted_at.pop(index, None)
            self._last_final = index
            self._last_ttf = None if posted_at is None else now - posted_at

    def status_parts(self) -> dict[str, Any]:
        head = int(self.w3.eth.block_number)
        with self._lock:
            root = "0x" + self.confirmed.root.hex()
            l2 = {
                "confirmed_root": root,
                "confirmed_batches": int(self.l1.rollup.functions.batchCount().call()),
                "pending_txs": self.store.count_txs(TxStatus.PENDING),
                "queued_deposits": len(self._deposits) - self.confirmed.deposit_end,
                "queued_forced": len(self._forced) - self.confirmed.forced_end,
            }
            synced = self._synced_block
            deposits_consumed = self.confirmed.deposit_end
        return {
            "l2": l2,
            "l1": {"head_block": head, "synced_block": synced, "lag_blocks": max(0, head - synced)},
            "finality": {
                "last_final_batch": self._last_final,
                "last_time_to_finality_s": self._last_ttf,
            },
            # Kept for older clients (the l2kit CLI reads deposits_consumed; tests read txs).
            "extra": {
                "da": {
                    "setting": self.da.value,
                    "postings": dict(self.da_postings),
                    "last_mode": None if self.da_last_mode is None else self.da_last_mode.value,
                    "last_reason": self.da_last_reason or None,
                    "last": None if self.da_last is None else self.da_last.as_dict(),
                    "last_blobs": None
                    if self.da_last_mode is None
                    else self.da_last_mode is PostingMode.BLOBS,
                },
                "api_version": API_VERSION,
                "format_version": 2,
                "root": root,
                "l2_root": root,
                "deposits_consumed": deposits_consumed,
                "txs": {k.value: self.store.count_txs(k) for k in TxStatus},
            },
        }

    # ------------------------------------------------------------------ queries

    def account_view(self, index: int) -> dict:
        with self._lock:
            confirmed, pending = self.confirmed.account(index), self.pending.account(index)
        if pending.is_empty:
            raise Rejected("unknown_account", f"account {index} does not exist")
        return {
            "index": index,
            "owner": Web3.to_checksum_address(pending.owner),
            "token": Web3.to_checksum_address(pending.token),
            "balance": str(pending.balance),
            "nonce": pending.nonce,
            "confirmed_balance": str(confirmed.balance),
            "confirmed_nonce": confirmed.nonce,
        }

    def find_accounts(self, owner: str) -> list[int]:
        owner = owner.lower()
        with self._lock:
            return sorted(i for i, o in self.pending.owners() if o == owner)

    def withdrawal_claim(self, tx_hash: bytes) -> WithdrawalClaim:
        """The inclusion proof a user needs to finalize a withdrawal, built from L1 data (its
        batch replayed from the nearest stored checkpoint below it)."""
        stored = self.store.tx(tx_hash)
        if stored is None:
            raise Rejected("unknown_tx", f"no transaction 0x{tx_hash.hex()}")
        if stored.kind != "withdraw":
            raise Rejected("not_a_withdrawal", "that transaction is not a withdrawal")
        if stored.status not in (TxStatus.POSTED, TxStatus.FINAL) or stored.batch_index is None:
            raise Rejected(
                "not_posted", f"the withdrawal is {stored.status.value}: wait for its batch"
            )
        # Only its batch is replayed, from the newest checkpoint at or below it.
        result = self._replay_batch(stored.batch_index)
        want = decode_payload(stored.payload).tx
        for claim in result.withdrawals:
            if claim.batch_index != stored.batch_index or claim.forced_tx:
                continue
            c = claim.commitment
            slot = claim.tx_index - len(c.deposits) - len(c.transfers)
            if 0 <= slot < len(c.withdraws) and c.withdraws[slot] == want:
                return claim
        raise Rejected("not_found", "the withdrawal is not in the live L1 batches (rolled back?)")


#: Store name of the newest checkpoint; older ones are `optimistic.1`, `optimistic.2`, ...
CHECKPOINT = "optimistic"


def _checkpoint_names(kept: int) -> list[str]:
    return [CHECKPOINT] + [f"{CHECKPOINT}.{i}" for i in range(1, max(kept, 1))]


def _tail(reading: QueueReading, base: int, from_block: int) -> QueueTail:
    return QueueTail(base, list(reading.entries), list(reading.blocks), from_block)


def _send_key(intent: StoredBatch) -> str:
    """The send-journal key of a batch intent: its index and exactly what it posts."""
    return f"batch:{intent.batch_index}:0x{keccak(intent.pre_root + intent.data).hex()}"


def _data(contract: Contract, fn_name: str, *args: Any) -> str:
    return contract.encode_abi(fn_name, args=list(args))
