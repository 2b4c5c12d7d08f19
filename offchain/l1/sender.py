"""The one L1 sender: local signing, fees and gas from the node, replacement, journal, nonces.

Every L1 transaction of l2kit's services, libraries, clients and scripts goes through
`send_transaction` (usually through an `L1Sender`, one per account). What it guarantees:

- **Fees from the node, never constants.** ``maxFeePerGas`` = the latest base fee * the policy's
  factor + the priority fee (the node's ``eth_maxPriorityFeePerGas`` unless the policy fixes one),
  ``maxFeePerBlobGas`` from ``eth_blobBaseFee`` for type-3 transactions, ``gasPrice`` on a chain
  without EIP-1559; above the policy's caps it waits rather than overpays (`offchain.l1.fees`).
- **Gas from the node.** ``eth_estimateGas`` plus the policy's margin, unless the caller states a
  gas limit. A call whose estimate reverts is refused (`WouldRevert`): nothing is signed or sent.
- **One nonce per logical transaction.** Every attempt (dropped, stuck behind a fee spike, RPC
  errors) reuses it and outbids the last version, so at most one version can ever be mined.
- **Across restarts too, with a `SendJournal`:** the nonce, fees and hash of every version are
  journaled *before* it is broadcast; a restarted sender first looks for a receipt of any
  journaled version, then replaces the last one. If the journaled nonce was used by some other
  transaction and none of ours was mined, none can ever be: `NonceConsumed`.
- **Nonces serialised per account.** An `L1Sender` sends one logical transaction at a time (a
  lock), so threads sharing it never race for the pending nonce. Share one `L1Sender` per
  account in a process; two processes must not send from one account.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol, cast

from eth_account.signers.local import LocalAccount
from eth_typing import ChecksumAddress, HexStr
from web3 import Web3
from web3.exceptions import (
    ContractLogicError,
    TimeExhausted,
    TransactionNotFound,
    Web3RPCError,
)
from web3.types import TxParams

from offchain.errors import L1Error, L2KitError

from .fees import FeeAboveCap, Fees, NodeFees, SendPolicy, choose_fees, gas_limit

log = logging.getLogger(__name__)

__all__ = [
    "EstimateRefused",
    "FeeAboveCap",
    "L1Sender",
    "NonceConsumed",
    "Reverted",
    "SendError",
    "SendJournal",
    "SendPolicy",
    "SendRecord",
    "Sent",
    "Sidecar",
    "WouldRevert",
    "call_tx",
    "max_fee_now",
    "node_fees",
    "rpc_message",
    "send_transaction",
]

BLOB_TX_TYPE = 3
DEFAULT_POLICY = SendPolicy()


class SendError(L1Error):
    """The transaction could not be brought on chain; the message says what to check."""


class Reverted(SendError):
    """The transaction was mined but reverted."""

    def __init__(self, tx_hash: str, receipt: dict) -> None:
        super().__init__(f"transaction {tx_hash} reverted in block {receipt['blockNumber']}")
        self.tx_hash = tx_hash
        self.receipt = receipt


class EstimateRefused(SendError):
    """The node refused to estimate the transaction's gas (e.g. insufficient funds): retrying
    would not help, so it is reported at once and this version is not sent."""

    what = "the node refused the gas estimate"

    def __init__(self, error: Exception, pending: tuple[str, ...] = ()) -> None:
        extra = (
            f"; {len(pending)} earlier version(s) of it may still be pending ({pending[-1]})"
            if pending
            else "; nothing was sent"
        )
        super().__init__(f"{self.what} ({rpc_message(error)}){extra}")
        self.error = error


class WouldRevert(EstimateRefused):
    """The node's gas estimate reverted: the call would fail, so nothing was sent."""

    what = "the call would revert"


def _rpc_error(error: Exception) -> Mapping[str, Any]:
    reply: Any = getattr(error, "rpc_response", None)
    body = reply.get("error") if isinstance(reply, Mapping) else None
    return body if isinstance(body, Mapping) else {}


def rpc_message(error: Exception) -> str:
    """The node's own message of a JSON-RPC error reply (or the exception's text)."""
    return str(_rpc_error(error).get("message") or error)


#: Estimate refusals that say something about the transaction, not the node: retrying the same
#: transaction cannot help. Any other JSON-RPC error (rate limits, "header not found" from a load
#: balancer, timeouts) is retried.
REFUSALS = (
    "insufficient funds",
    "gas required exceeds",
    "intrinsic gas too low",
    "exceeds block gas limit",
    "execution reverted",
)


def _is_refusal(error: Web3RPCError) -> bool:
    message = rpc_message(error).lower()
    return any(r in message for r in REFUSALS)


class NonceConsumed(SendError):
    """The journaled nonce was used by another transaction; no journaled version was mined."""

    def __init__(self, nonce: int, hashes: tuple[str, ...]) -> None:
        super().__init__(
            f"nonce {nonce} was used by another transaction and none of the {len(hashes)} "
            "journaled versions was mined: they can never be; reconcile with L1 and send afresh"
        )
        self.nonce = nonce


@dataclass(frozen=True)
class SendRecord:
    """What was sent for one logical transaction: its nonce, every version's hash, last fees."""

    nonce: int
    tx_hashes: tuple[str, ...]
    max_fee: int
    priority_fee: int
    #: ``maxFeePerBlobGas`` of the last version (0: not a blob transaction).
    blob_fee: int = 0


class SendJournal(Protocol):
    """Durable memory of one logical transaction's versions (e.g. `OperatorStore.send_journal`)."""

    def load(self) -> SendRecord | None: ...

    def save(self, record: SendRecord) -> None: ...


class Sidecar(Protocol):
    """The blobs of a type-3 transaction (`offchain.blobs.tx.BlobSidecar`): their versioned
    hashes go into the signed body, and `wrap` adds blobs, commitments and proofs to it."""

    @property
    def versioned_hashes(self) -> tuple[bytes, ...]: ...

    def wrap(self, signed_body: bytes) -> bytes: ...


@dataclass(frozen=True)
class Sent:
    tx_hash: str
    receipt: dict
    attempts: int


def node_fees(w3: Web3, policy: SendPolicy, blob: bool = False) -> NodeFees:
    """Read what `choose_fees` needs from the node (only the figures the policy leaves open)."""
    block = w3.eth.get_block("latest")
    base = block.get("baseFeePerGas")
    if base is None:  # a chain without EIP-1559
        return NodeFees(base_fee=None, suggested_priority=0, gas_price=int(w3.eth.gas_price))
    priority = int(w3.eth.max_priority_fee) if policy.priority_fee is None else policy.priority_fee
    blob_base = int(w3.eth.blob_base_fee) if blob else None
    return NodeFees(int(base), priority, blob_base_fee=blob_base)


def max_fee_now(w3: Web3, policy: SendPolicy = DEFAULT_POLICY) -> int:
    """The max fee per gas a first version would offer now: for balance checks (gas reserve *
    this), so they price gas as the sender will, not with a constant. FeeAboveCap above the cap."""
    return choose_fees(node_fees(w3, policy), policy).max_fee


def call_tx(fn: Any, value: int = 0) -> dict[str, Any]:
    """The ``to``/``data``/``value`` of a web3 contract function call, for `send_transaction`."""
    # web3's own encoding of the bound call (selector + ABI-encoded arguments).
    return {"to": fn.address, "data": fn._encode_transaction_data(), "value": value}


def send_transaction(
    w3: Web3,
    account: LocalAccount,
    build: Callable[[], Mapping[str, Any]],
    policy: SendPolicy = DEFAULT_POLICY,
    sleep: Callable[[float], None] = time.sleep,
    journal: SendJournal | None = None,
    sidecar: Sidecar | None = None,
    on_sent: Callable[[str], None] | None = None,
) -> Sent:
    """Sign and send the transaction `build()` returns (to, data, value, optionally gas; no
    nonce or fees), waiting for its receipt and replacing it while it is not mined.

    With `journal`, continue what it records (same nonce, outbid the last version) and record
    every new version before broadcasting it. With `sidecar`, send a type-3 transaction carrying
    its blobs. `on_sent` is told each broadcast hash. Raises WouldRevert if the node's estimate
    reverts, Reverted if it is mined and reverts, NonceConsumed if the journaled nonce went to
    another transaction, SendError if every attempt failed.
    """
    record = journal.load() if journal is not None else None
    nonce: int | None = record.nonce if record else None
    sent_hashes: list[str] = list(record.tx_hashes) if record else []
    last: Fees | None = None
    if record is not None and sent_hashes:
        last = Fees(record.max_fee, record.priority_fee, record.blob_fee)
    delay = policy.backoff
    last_error: Exception | None = None
    chain_id: int | None = None
    for attempt in range(1, policy.max_attempts + 1):
        try:
            # Read the account's mined nonce *before* looking for our receipts: a version mined
            # in between is then still found, and never mistaken for a foreign transaction.
            used = w3.eth.get_transaction_count(account.address, "latest") if sent_hashes else 0
            mined = _find_mined(w3, sent_hashes)  # a version may have been mined meanwhile
            if mined is not None:
                return _finish(mined, attempt)
            if nonce is not None and sent_hashes and used > nonce:
                raise NonceConsumed(nonce, tuple(sent_hashes))
            if nonce is None:
                nonce = w3.eth.get_transaction_count(account.address, "pending")
            if chain_id is None:
                chain_id = w3.eth.chain_id
            blob = sidecar is not None
            fees = choose_fees(node_fees(w3, policy, blob), policy, last, blob)
            tx: dict[str, Any] = dict(build())
            tx.update({"from": account.address, "nonce": nonce, "chainId": chain_id})
            tx.update(fees.fields())
            if sidecar is not None:
                tx["type"] = BLOB_TX_TYPE
                tx["blobVersionedHashes"] = list(sidecar.versioned_hashes)
            if "gas" not in tx:
                tx["gas"] = gas_limit(_estimate(w3, tx, sent_hashes), policy)
            signable = {k: v for k, v in tx.items() if not (sidecar is not None and k == "from")}
            signed = account.sign_transaction(signable)
            tx_hash = Web3.to_hex(signed.hash)
            raw = bytes(signed.raw_transaction)
            if sidecar is not None:
                raw = sidecar.wrap(raw)
            sent_hashes.append(tx_hash)
            last = fees
            if journal is not None:  # write-ahead: a crash after the broadcast still knows it
                journal.save(
                    SendRecord(
                        nonce, tuple(sent_hashes), fees.max_fee, fees.priority_fee, fees.blob_fee
                    )
                )
            try:
                w3.eth.send_raw_transaction(raw)
            except ValueError as exc:  # e.g. "nonce too low": an earlier version got mined
                mined = _find_mined(w3, sent_hashes)
                if mined is not None:
                    return _finish(mined, attempt)
                raise SendError(f"node refused the transaction: {exc}") from exc
            log.info(
                "sent %s (nonce %d, attempt %d, max fee %d, tip %d)",
                tx_hash,
                nonce,
                attempt,
                fees.max_fee,
                fees.priority_fee,
            )
            if on_sent is not None:
                _tell(on_sent, tx_hash)
            try:
                receipt = dict(
                    w3.eth.wait_for_transaction_receipt(
                        signed.hash, timeout=policy.receipt_timeout, poll_latency=0.1
                    )
                )
            except TimeExhausted:
                log.warning(
                    "%s not mined after %.0f s: replacing it", tx_hash, policy.receipt_timeout
                )
                continue
            return _finish(receipt, attempt)
        except (Reverted, NonceConsumed, EstimateRefused):
            raise
        except _MinedMeanwhile:
            continue
        except Exception as exc:  # RPC hiccup, refused send, fee above the cap: back off, retry
            last_error = exc
            log.warning("attempt %d failed: %s; retrying in %.1f s", attempt, exc, delay)
            sleep(delay)
            delay = min(delay * 2, policy.max_backoff)
    mined = _find_mined_quietly(w3, sent_hashes)
    if mined is not None:
        return _finish(mined, policy.max_attempts)
    raise SendError(
        f"gave up after {policy.max_attempts} attempts ({last_error}); check the RPC endpoint, "
        "the account's balance and the fee cap, then retry: nothing was sent twice"
    )


def _estimate(w3: Web3, tx: dict[str, Any], sent_hashes: list[str]) -> int:
    try:
        return int(w3.eth.estimate_gas(cast(TxParams, tx)))
    except (ContractLogicError, Web3RPCError) as exc:
        if isinstance(exc, Web3RPCError) and not _is_refusal(exc):
            raise  # the node's trouble, not the transaction's: retried after the back-off
        # A replacement's estimate also fails once the original was mined: look first.
        if sent_hashes and _find_mined(w3, sent_hashes) is not None:
            raise _MinedMeanwhile() from exc
        if isinstance(exc, ContractLogicError):
            raise WouldRevert(exc, tuple(sent_hashes)) from exc
        raise EstimateRefused(exc, tuple(sent_hashes)) from exc


class _MinedMeanwhile(Exception):
    """An earlier version was mined during this attempt: the next attempt returns its receipt."""


def _tell(on_sent: Callable[[str], None], tx_hash: str) -> None:
    """A failing observer must not make the sender think the broadcast failed."""
    try:
        on_sent(tx_hash)
    except Exception:
        log.exception("on_sent callback failed for %s (the transaction was sent)", tx_hash)


def _finish(receipt: dict, attempts: int) -> Sent:
    tx_hash = Web3.to_hex(receipt["transactionHash"])
    if receipt.get("status") != 1:
        raise Reverted(tx_hash, receipt)
    return Sent(tx_hash, receipt, attempts)


def _find_mined(w3: Web3, hashes: list[str]) -> dict | None:
    for h in hashes:
        try:
            return dict(w3.eth.get_transaction_receipt(HexStr(h)))
        except TransactionNotFound:
            continue
    return None


def _find_mined_quietly(w3: Web3, hashes: list[str]) -> dict | None:
    try:
        return _find_mined(w3, hashes)
    except Exception:
        return None


class L1Sender:
    """One account's sender: what libraries and clients take instead of a raw key.

    Sends one logical transaction at a time (threads queue on a lock), so the pending nonce is
    never raced for; `journals` (e.g. `OperatorStore.send_journal`) makes keyed sends resumable
    after a restart.
    """

    def __init__(
        self,
        w3: Web3,
        account: LocalAccount,
        policy: SendPolicy | None = None,
        journals: Callable[[str], SendJournal] | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.w3 = w3
        self.account = account
        self.policy = policy or SendPolicy()
        self.journals = journals
        self._sleep = sleep
        #: Held for each logical transaction; re-entrant, so a caller may hold it around a
        #: check and the send that depends on it (as the channel chain client does).
        self.lock = threading.RLock()

    @property
    def address(self) -> ChecksumAddress:
        return self.account.address

    def send(
        self,
        tx: Mapping[str, Any] | Callable[[], Mapping[str, Any]],
        *,
        key: str | None = None,
        journal: SendJournal | None = None,
        sidecar: Sidecar | None = None,
        policy: SendPolicy | None = None,
        on_sent: Callable[[str], None] | None = None,
        gas: int | None = None,
    ) -> Sent:
        """Send `tx` (a dict of to/data/value, or a function building one per attempt).

        `key` journals it under that name in `journals` (or pass a `journal`); `policy`
        overrides this sender's for this one transaction; `gas` states the gas limit instead of
        the node's estimate plus the policy's margin (say why where you do it).
        """
        if key is not None:
            if journal is not None or self.journals is None:
                raise L2KitError("a keyed send needs a sender with journals, and no journal")
            journal = self.journals(key)
        if gas is not None and gas <= 0:
            raise L2KitError(f"gas limit {gas} must be positive")
        build = _with_gas(tx if callable(tx) else (lambda: tx), gas)
        with self.lock:
            return send_transaction(
                self.w3,
                self.account,
                build,
                policy or self.policy,
                self._sleep,
                journal,
                sidecar,
                on_sent,
            )

    def send_call(self, fn: Any, value: int = 0, **kwargs: Any) -> Sent:
        """Send a web3 contract function call (e.g. ``contract.functions.bond()``)."""
        return self.send(call_tx(fn, value), **kwargs)


def _with_gas(
    build: Callable[[], Mapping[str, Any]], gas: int | None
) -> Callable[[], Mapping[str, Any]]:
    if gas is None:
        return build
    return lambda: {**build(), "gas": gas}
