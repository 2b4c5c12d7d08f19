"""Chain I/O (the edge): read postings and the deposit queue from L1, send transactions."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from eth_account import Account as EthAccount
from eth_typing import ChecksumAddress
from hexbytes import HexBytes
from web3 import Web3

from offchain.bls import PublicKey, SecretKey, g2_words, signing_dst
from offchain.bls.registry import KEY_REGISTERED_TOPIC, KeyEntry, KeyHistory, decode_key_registered
from offchain.bls.registry import build as build_history
from offchain.bridge import read_deposits, verify_queue
from offchain.chain import abi_of
from offchain.l1.sender import L1Sender, Reverted, SendPolicy, WouldRevert, call_tx
from offchain.recipient import AddressRecipient, decode_recipient

from .codec import CodecError, decode_batch
from .hashes import forced_accumulator_next
from .hashing import keccak
from .posting import NonCanonicalPosting, decode_posting
from .replay import PostedBatch
from .types import QueuedDeposit, QueuedForced

if TYPE_CHECKING:
    from offchain.blobs.beacon import BeaconReader

    from .blob_read import BlobCache, BlobFraud


@dataclass(frozen=True)
class Bounty:
    """A challenger's share of a slashed bond, as `Rollup.bounties(id)` stores it."""

    id: int
    batch_index: int
    batch_hash: bytes
    recipient: str
    amount: int  # 0 once settled
    proof_hash: bytes  # keccak256(abi.encode(proof)): what a claiming commitment must cover
    proven_block: int
    commit_block: int  # 2**64 - 1: the holder revealed no commitment
    claim_until: int


class TxFailed(RuntimeError):
    """An L1 transaction was mined but reverted."""


class UnreadableBatch(ValueError):
    """A live batch whose data cannot be read from L1: the contract should have made that
    impossible, so this is an alarm (every later batch builds on a state nobody can check)."""

    def __init__(self, index: int, reason: str) -> None:
        super().__init__(f"batch {index} cannot be read from L1: {reason}")
        self.index = index
        self.reason = reason


@dataclass(frozen=True)
class Posting:
    """Where a live batch was posted: its BatchPosted log's tx and block."""

    index: int
    tx_hash: bytes
    block_number: int
    block_hash: bytes


@dataclass(frozen=True)
class BatchRecord:
    """`Rollup.batches(i)` without the bond (which a slash or a release changes)."""

    batch_hash: bytes
    post_root: bytes
    proposer: str
    posted_at: int
    deposit_end: int
    forced_end: int
    posted_block: int = 0  # block of the posting: signers' keys are those valid then


@dataclass(frozen=True)
class QueueReading:
    """Entries of a deposit or forced queue from some index on, and the L1 block of each."""

    entries: tuple[Any, ...]
    blocks: tuple[int, ...]


@dataclass(frozen=True)
class BatchReading:
    """What L1 says about the live batches from index `start` on: the readable prefix, and the
    first unreadable one."""

    #: The batch hash the rollup stored for each live batch from `start`, readable or not.
    hashes: tuple[bytes, ...]
    batches: tuple[PostedBatch, ...]
    unreadable: UnreadableBatch | None
    #: Index of the first batch read (0: from genesis).
    start: int = 0
    #: Where each batch of `batches` was posted (same order).
    postings: tuple[Posting, ...] = ()
    #: The blob batch right after `batches` whose blobs do not hold what its headers say (the
    #: reading stops there; the validator proves it with proveBlobFraud).
    blob_fraud: BlobFraud | None = None

    @property
    def count(self) -> int:
        return self.start + len(self.hashes)


class Signer:
    """Signs and sends this library's L1 transactions through the one L1 sender (local key; fees
    and gas from the node, replacement, one nonce at a time; `offchain.l1.sender`)."""

    def __init__(
        self, w3: Web3, private_key: bytes | str, policy: SendPolicy | None = None
    ) -> None:
        self.w3 = w3
        self.sender = L1Sender(w3, EthAccount.from_key(private_key), policy)

    @classmethod
    def of(cls, sender: L1Sender) -> Signer:
        """A Signer sending through an existing `L1Sender` (sharing its nonce lock)."""
        signer = cls.__new__(cls)
        signer.w3 = sender.w3
        signer.sender = sender
        return signer

    @property
    def address(self) -> ChecksumAddress:
        return self.sender.address

    @property
    def private_key(self) -> bytes:
        """The key (tests sign hand-made transactions with it, e.g. to order a mempool)."""
        return bytes(self.sender.account.key)

    def send(self, fn: Any, value: int = 0, gas: int | None = None) -> Any:
        """Send the contract call `fn`; returns its receipt, TxFailed if it would revert or did.
        `gas` states a limit instead of the node's estimate plus the policy's margin."""
        try:
            return self.sender.send(call_tx(fn, value), gas=gas).receipt
        except (Reverted, WouldRevert) as exc:
            raise TxFailed(str(exc)) from exc


class RollupL1:
    """Read-side view of one rollup and its bridge on L1. `beacon`: where blob batches' blobs
    are read from (docs/rollup-blobs.md §4); None: the L1 RPC URL (Anvil serves the API there)."""

    def __init__(
        self, w3: Web3, rollup: str, bridge: str, beacon: BeaconReader | None = None
    ) -> None:
        self.w3 = w3
        if beacon is None:
            from .blob_read import default_beacon

            beacon = default_beacon(w3)
        self.beacon = beacon
        self.rollup = w3.eth.contract(
            address=Web3.to_checksum_address(rollup), abi=abi_of("Rollup")
        )
        self.bridge = w3.eth.contract(
            address=Web3.to_checksum_address(bridge), abi=abi_of("L1Bridge")
        )
        self._registry: Any = None

    def signing_dst(self) -> bytes:
        """The BLS tag every L2 signature of this rollup is made under (chain id, rollup)."""
        return signing_dst(int(self.w3.eth.chain_id), self.rollup.address)

    # ------------------------------------------------------------------ BLS keys (registry)

    @property
    def registry(self) -> Any:
        """The BLSKeyRegistry the rollup reads signers' keys from."""
        if self._registry is None:
            address = self.rollup.functions.registry().call()
            self._registry = self.w3.eth.contract(address=address, abi=abi_of("BLSKeyRegistry"))
        return self._registry

    def activation_delay(self) -> int:
        """Blocks between a key's registration and the first posting block it is valid at."""
        return int(self.registry.functions.activationDelay().call())

    def register_key(self, signer: Signer, key: SecretKey | PublicKey) -> KeyEntry:
        """Register `key` (a secret's public key, e.g. offchain.rollup.wallet.derive_key's) as
        the signer's L2 signing key; returns the registered entry (valid from its
        `from_block`). TxFailed if the registry refuses (invalid or unchanged key)."""
        public = key.public_key() if isinstance(key, SecretKey) else key
        receipt = signer.send(self.registry.functions.register(g2_words(public.eip2537())))
        for log in receipt["logs"]:
            topics = [bytes(t) for t in log["topics"]]
            if topics and topics[0] == KEY_REGISTERED_TOPIC:
                return decode_key_registered(topics, bytes(log["data"]))
        raise TxFailed("register() was mined without a KeyRegistered event")

    def wait_key_active(
        self, entry: KeyEntry, *, mine: bool = False, poll: float = 0.5, timeout: float = 120.0
    ) -> None:
        """Return once blocks from `entry.from_block` on are being produced (a posting in the
        next block then uses the key). `mine=True` mines the missing blocks (a dev node such
        as Anvil); otherwise polls the node until `timeout` seconds, then TimeoutError."""
        import time

        target = entry.from_block
        if mine:
            missing = target - int(self.w3.eth.block_number)
            if missing > 0:
                self.w3.provider.make_request("anvil_mine", [hex(missing)])  # type: ignore[arg-type]
            return
        deadline = time.monotonic() + timeout
        while int(self.w3.eth.block_number) < target:
            if time.monotonic() > deadline:
                raise TimeoutError(
                    f"key of {entry.owner} becomes valid at block {target}; the node is at "
                    f"{self.w3.eth.block_number} after {timeout} s"
                )
            time.sleep(poll)

    def register_and_activate(
        self, signer: Signer, key: SecretKey | PublicKey, *, mine: bool = False
    ) -> KeyEntry:
        """register_key, then wait_key_active."""
        entry = self.register_key(signer, key)
        self.wait_key_active(entry, mine=mine)
        return entry

    def key_entries(self, from_block: int = 0) -> list[KeyEntry]:
        """Every KeyRegistered event of the registry from `from_block`, in chain order."""
        logs = self.w3.eth.get_logs(
            {
                "address": self.registry.address,
                "topics": [HexBytes(KEY_REGISTERED_TOPIC)],
                "fromBlock": from_block,
                "toBlock": "latest",
            }
        )
        return [
            decode_key_registered([bytes(t) for t in lg["topics"]], bytes(lg["data"]))
            for lg in logs
        ]

    def key_history(self) -> KeyHistory:
        """Every address's key history from the registry's events alone (offchain.bls.registry);
        `history.key_at(owner, batch.posted_block)` is the key a batch's signer had."""
        return build_history(self.key_entries())

    def disputable_end(self) -> int:
        """One past the last batch that may still be disputable: the live count, or after a freeze
        the end of the batches it discarded (provable until their windows end)."""
        f = self.rollup.functions
        return max(f.batchCount().call(), f.discardedEnd().call())

    def posted_batches(
        self, count: int | None = None, start: int = 0, from_block: int = 0
    ) -> list[PostedBatch]:
        """The live batches from index `start` (or up to `count` postings, e.g. `disputable_end()`),
        each with the `data` its posting tx carried (a blob batch in the calldata form);
        UnreadableBatch if one cannot be read, BlobFraud (one of those) if a blob batch's blobs
        do not match its headers (read_batches)."""
        reading = self.read_batches(count, start, from_block)
        if reading.unreadable is not None:
            raise reading.unreadable
        if reading.blob_fraud is not None:
            raise reading.blob_fraud
        return list(reading.batches)

    def read_batches(
        self, count: int | None = None, start: int = 0, from_block: int = 0
    ) -> BatchReading:
        """Read every live batch from index `start` (or the postings up to `count`, discarded ones
        after a freeze included) from its posting tx's input, stopping at the first that cannot be
        read. A batch is read only if its tx calls the rollup directly with the canonical
        postBatch calldata (offchain/rollup/posting.py) and the data hashes to the batch hash the
        rollup stored, so what is replayed is exactly what the contract accepted. A blob batch
        (postBlobBatches) is read from its headers, its BlobBatchPosted event (checked against
        `blobRef`) and its blobs from `beacon` (offchain/rollup/blob_read.py): a blob endpoint
        that fails is an unreadable batch (BlobsUnavailable), a commitment the blobs do not hold
        stops the reading at `blob_fraud`.

        Incremental: only the batches from `start` are read, and only BatchPosted logs from
        `from_block`, which must be at or before the live posting of batch `start` (the block of
        batch `start - 1`'s live posting is: a live batch is posted after the one before it)."""
        live = self.rollup.functions.batchCount().call()
        if count is None:
            count = live
        if not 0 <= start <= count:
            raise ValueError(f"start {start} outside 0..{count}")
        logs: dict[int, list[Any]] = {}
        if start < count:
            for log in self.rollup.events.BatchPosted.get_logs(from_block=from_block):
                if log["args"]["index"] >= start:
                    logs.setdefault(log["args"]["index"], []).append(log)
        # Live batches: the hash the rollup stores. Batches a freeze discarded are no longer in
        # `batches()`; their hash is the one the rollup emitted for the last posting at that index
        # (nothing is posted after a freeze).
        hashes = tuple(
            bytes(self.rollup.functions.batches(i).call()[0])
            if i < live
            else (bytes(logs[i][-1]["args"]["batchHash"]) if logs.get(i) else b"")
            for i in range(start, count)
        )
        out: list[PostedBatch] = []
        postings: list[Posting] = []
        ends = self._ends_before(start, live, logs)
        from .blob_read import BlobCache, BlobFraud

        cache = BlobCache()
        for i in range(start, count):
            try:
                data, posting, ends = self._read_batch(
                    i, hashes[i - start], logs.get(i, []), ends, cache
                )
            except BlobFraud as e:
                return BatchReading(hashes, tuple(out), None, start, tuple(postings), e)
            except UnreadableBatch as e:
                return BatchReading(hashes, tuple(out), e, start, tuple(postings))
            out.append(PostedBatch(i, data, posting.block_number))
            postings.append(posting)
        return BatchReading(hashes, tuple(out), None, start, tuple(postings))

    def batch_record(self, index: int) -> BatchRecord:
        """What the rollup stores for live batch `index` (bond left out)."""
        b = self.rollup.functions.batches(index).call()
        return BatchRecord(bytes(b[0]), bytes(b[1]), str(b[2]).lower(), b[3], b[4], b[5], b[7])

    def _ends_before(self, index: int, live: int, logs: dict[int, list[Any]]) -> tuple[int, int]:
        """(depositEnd, forcedEnd) of the state batch `index` builds on (format v2 derives the
        commitments' queue positions from them)."""
        if index == 0:
            return 0, 0
        if index - 1 < live:
            b = self.rollup.functions.batches(index - 1).call()
            return int(b[4]), int(b[5])
        prev = logs.get(index - 1) or []
        if not prev:
            raise ValueError(f"no BatchPosted event for batch {index - 1}: read from earlier")
        a = prev[-1]["args"]
        return int(a["depositEnd"]), int(a["forcedEnd"])

    def _read_batch(
        self,
        index: int,
        stored: bytes,
        logs: list[Any],
        ends: tuple[int, int],
        cache: BlobCache | None = None,
    ) -> tuple[bytes, Posting, tuple[int, int]]:
        # A rollback frees the index, so several postings may carry it: the live one is the
        # latest whose event names the stored batch hash.
        mine = [x for x in logs if bytes(x["args"]["batchHash"]) == stored]
        if not mine:
            raise UnreadableBatch(index, f"no BatchPosted event with batch hash 0x{stored.hex()}")
        log = mine[-1]
        tx_hash = log["transactionHash"]
        tx = self.w3.eth.get_transaction(tx_hash)
        if (tx.get("to") or "").lower() != self.rollup.address.lower():
            raise UnreadableBatch(index, f"tx 0x{tx_hash.hex()} is not a call to the rollup")
        posting = Posting(index, bytes(tx_hash), int(log["blockNumber"]), bytes(log["blockHash"]))
        from .blob_read import BlobCache, is_blob_posting, read_blob_batch

        if is_blob_posting(bytes(tx["input"])):
            data, blob_ends = read_blob_batch(
                self.rollup,
                self.w3,
                self.beacon,
                index,
                stored,
                tx,
                posting.block_number,
                ends,
                cache if cache is not None else BlobCache(),
            )
            return data, posting, blob_ends
        try:
            call = decode_posting(bytes(tx["input"]))
            commitments = decode_batch(call.data, ends[0], ends[1])
        except (NonCanonicalPosting, CodecError) as e:
            raise UnreadableBatch(index, f"tx 0x{tx_hash.hex()}: {e}") from e
        if keccak(b"".join(c.hash() for c in commitments)) != stored:
            raise UnreadableBatch(
                index, f"data of tx 0x{tx_hash.hex()} does not hash to the stored batch hash"
            )
        return call.data, posting, (commitments[-1].deposit_end, commitments[-1].forced_end)

    def ensure_free_bond(self, signer: Signer, batches: int = 1) -> Any | None:
        """Top the signer's free bond up to `batches` x `requiredBond` (each batch posted locks
        that much until it is final); returns the bonding receipt, or None when nothing was
        needed."""
        f = self.rollup.functions
        required = batches * f.requiredBond().call()
        free = f.bondOf(signer.address).call()
        if free >= required:
            return None
        return signer.send(f.bond(), value=required - free)

    def bounties_for(
        self, batch_index: int, batch_hash: bytes, from_block: int = 0
    ) -> list[Bounty]:
        """Bounties opened by proofs of that batch posting (BountyOpened logs, newest last)."""
        out = []
        logs = self.rollup.events.BountyOpened.get_logs(
            from_block=from_block, argument_filters={"batchIndex": batch_index}
        )
        for log in logs:
            a = log["args"]
            if bytes(a["batchHash"]) != batch_hash:
                continue
            stored = self.rollup.functions.bounties(a["id"]).call()
            out.append(
                Bounty(
                    a["id"],
                    batch_index,
                    batch_hash,
                    stored[2],
                    stored[3],
                    bytes(stored[1]),
                    stored[5],
                    stored[6],
                    stored[7],
                )
            )
        return out

    def deposit_queue(self, start: int = 0, from_block: int = 0) -> list[QueuedDeposit]:
        """Every queued deposit from index `start` (offchain.bridge checks the accumulator chain
        link by link, from the bridge's own accumulator at `start`). `from_block` must be at or
        before the block that queued deposit `start`; a read that misses it fails loudly."""
        return list(self.read_deposit_queue(start, from_block).entries)

    def read_deposit_queue(self, start: int = 0, from_block: int = 0) -> QueueReading:
        """`deposit_queue`, with the L1 block of each entry."""
        if start == 0 and from_block == 0:
            deposits = read_deposits(self.w3, self.bridge.address)
        else:
            queued = self.bridge.functions.depositCount().call()
            deposits = [
                d
                for d in read_deposits(self.w3, self.bridge.address, from_block=from_block)
                if d.index >= start
            ]
            acc = bytes(self.bridge.functions.accumulatorAt(start).call())
            verify_queue(deposits, acc, start)
            if start + len(deposits) < queued:
                raise ValueError(
                    f"deposits {start + len(deposits)}..{queued - 1} are not in the logs from "
                    f"block {from_block}: read from an earlier block"
                )
        out = []
        for d in deposits:
            owner = decode_recipient(d.recipient)
            if not isinstance(owner, AddressRecipient):
                raise ValueError(f"deposit {d.index} has a recipient this rollup cannot credit")
            out.append(QueuedDeposit(d.index, d.token, d.amount, owner.address))
        return QueueReading(tuple(out), tuple(d.block_number for d in deposits))

    def forced_queue(self, start: int = 0, from_block: int = 0) -> list[QueuedForced]:
        """Every forced tx from index `start`, checked against the rollup's forced hash chain
        (from the rollup's own accumulator at `start`). `from_block` must be at or before the block
        that queued forced tx `start`."""
        return list(self.read_forced_queue(start, from_block).entries)

    def read_forced_queue(self, start: int = 0, from_block: int = 0) -> QueueReading:
        """`forced_queue`, with the L1 block of each entry."""
        acc = b"\x00" * 32 if start == 0 else bytes(self.rollup.functions.forcedAccAt(start).call())
        queued = self.rollup.functions.forcedCount().call()
        out: list[QueuedForced] = []
        blocks: list[int] = []
        for log in self.rollup.events.TransactionForced.get_logs(from_block=from_block):
            a = log["args"]
            if a["index"] < start:
                continue
            data = bytes(a["l2tx"])
            acc = forced_accumulator_next(acc, a["sender"], data)
            if acc != bytes(a["accumulator"]) or a["index"] != start + len(out):
                raise ValueError(f"forced log {a['index']} breaks the forced accumulator chain")
            out.append(QueuedForced(a["index"], a["sender"], data))
            blocks.append(int(log["blockNumber"]))
        if start + len(out) < queued:
            raise ValueError(
                f"forced txs {start + len(out)}..{queued - 1} are not in the logs from block "
                f"{from_block}: read from an earlier block"
            )
        return QueueReading(tuple(out), tuple(blocks))
