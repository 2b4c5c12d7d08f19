"""Send one L1 transaction reliably: local signing, fee caps, replacement and retry with backoff.

Every attempt for one logical transaction reuses the same nonce, so however often it is resent
(dropped, replaced, RPC errors) at most one version can ever be mined: retries never double-post.

With a `SendJournal` this holds across restarts too: the nonce, the fees and the hash of every
version are journaled *before* that version is broadcast, and a restarted sender first looks for
a receipt of any journaled version, then replaces the last one with the same nonce (outbidding
its fees, as nodes require). A version in the mempool at restart is therefore never joined by a
second transaction with a fresh nonce. If the journaled nonce was used by some other transaction
and none of ours was mined, none can ever be: `NonceConsumed` tells the caller to reconcile.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol, cast

from eth_account.signers.local import LocalAccount
from eth_typing import HexStr
from web3 import Web3
from web3.exceptions import TimeExhausted, TransactionNotFound
from web3.types import TxParams

from offchain.errors import L2KitError

log = logging.getLogger(__name__)


class SendError(L2KitError):
    """The transaction could not be brought on chain; the message says what to check."""


class Reverted(SendError):
    """The transaction was mined but reverted."""

    def __init__(self, tx_hash: str, receipt: dict) -> None:
        super().__init__(f"transaction {tx_hash} reverted in block {receipt['blockNumber']}")
        self.tx_hash = tx_hash
        self.receipt = receipt


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


class SendJournal(Protocol):
    """Durable memory of one logical transaction's versions (e.g. `OperatorStore.send_journal`)."""

    def load(self) -> SendRecord | None: ...

    def save(self, record: SendRecord) -> None: ...


@dataclass(frozen=True)
class SendPolicy:
    """How hard to try. Defaults suit a local node and a public testnet alike."""

    #: Attempts (first send included) before giving up.
    max_attempts: int = 8
    #: Seconds to wait for a receipt before treating a send as dropped and replacing it.
    receipt_timeout: float = 30.0
    #: First back-off after an RPC error; doubles each time up to `max_backoff`.
    backoff: float = 0.5
    max_backoff: float = 15.0
    #: Priority fee (wei) and the cap on the max fee (wei per gas): above the cap we wait
    #: for the gas price to come down rather than overpay.
    priority_fee: int = 1_000_000_000
    max_fee_cap: int = 500_000_000_000
    #: Replacement bump in percent (nodes require at least 10 %).
    bump_percent: int = 15
    #: Extra gas over the estimate, in percent.
    gas_margin_percent: int = 20


@dataclass(frozen=True)
class Sent:
    tx_hash: str
    receipt: dict
    attempts: int


def send_transaction(
    w3: Web3,
    account: LocalAccount,
    build: Callable[[], dict],
    policy: SendPolicy = SendPolicy(),
    sleep: Callable[[float], None] = time.sleep,
    journal: SendJournal | None = None,
) -> Sent:
    """Sign and send the transaction `build()` returns (to, data, value; no nonce or fees).

    With `journal`, continue what it records (same nonce, outbid the last version) and record
    every new version before broadcasting it. Raises Reverted if it is mined and reverts,
    NonceConsumed if the journaled nonce went to another transaction, SendError if every attempt
    failed.
    """
    record = journal.load() if journal is not None else None
    nonce: int | None = record.nonce if record else None
    sent_hashes: list[str] = list(record.tx_hashes) if record else []
    max_fee, priority = (record.max_fee, record.priority_fee) if record else (0, 0)
    delay = policy.backoff
    last_error: Exception | None = None
    for attempt in range(1, policy.max_attempts + 1):
        try:
            # Read the account's mined nonce *before* looking for our receipts: a version mined
            # in between is then still found, and never mistaken for a foreign transaction.
            used = w3.eth.get_transaction_count(account.address, "latest") if sent_hashes else 0
            # A previous version may have been mined while we were not looking.
            mined = _find_mined(w3, sent_hashes)
            if mined is not None:
                return _finish(mined, attempt)
            if nonce is not None and sent_hashes and used > nonce:
                raise NonceConsumed(nonce, tuple(sent_hashes))
            if nonce is None:
                nonce = w3.eth.get_transaction_count(account.address, "pending")
            tx = dict(build())
            base_fee = int(w3.eth.get_block("latest").get("baseFeePerGas", 0) or 0)
            want_priority = policy.priority_fee
            want_max = 2 * base_fee + want_priority
            if sent_hashes:  # a replacement must outbid the last version
                bump = 100 + policy.bump_percent
                want_priority = max(want_priority, priority * bump // 100 + 1)
                want_max = max(want_max, max_fee * bump // 100 + 1)
            if want_max > policy.max_fee_cap:
                raise SendError(
                    f"gas price {want_max} wei is above the cap {policy.max_fee_cap}: waiting"
                )
            priority, max_fee = min(want_priority, want_max), want_max
            tx.update(
                {
                    "from": account.address,
                    "nonce": nonce,
                    "chainId": w3.eth.chain_id,
                    "maxPriorityFeePerGas": priority,
                    "maxFeePerGas": max_fee,
                }
            )
            if "gas" not in tx:
                gas = w3.eth.estimate_gas(cast(TxParams, tx))
                tx["gas"] = gas * (100 + policy.gas_margin_percent) // 100
            signed = account.sign_transaction(tx)
            tx_hash = Web3.to_hex(signed.hash)
            sent_hashes.append(tx_hash)
            if journal is not None:  # write-ahead: a crash after the broadcast still knows it
                journal.save(SendRecord(nonce, tuple(sent_hashes), max_fee, priority))
            try:
                w3.eth.send_raw_transaction(signed.raw_transaction)
            except ValueError as exc:  # e.g. "nonce too low": an earlier version got mined
                mined = _find_mined(w3, sent_hashes)
                if mined is not None:
                    return _finish(mined, attempt)
                raise SendError(f"node refused the transaction: {exc}") from exc
            log.info("sent %s (nonce %d, attempt %d)", tx_hash, nonce, attempt)
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
        except (Reverted, NonceConsumed):
            raise
        except Exception as exc:  # RPC hiccup, refused send, gas spike: back off and retry
            last_error = exc
            log.warning("attempt %d failed: %s; retrying in %.1f s", attempt, exc, delay)
            sleep(delay)
            delay = min(delay * 2, policy.max_backoff)
    mined = _find_mined_quietly(w3, sent_hashes)
    if mined is not None:
        return _finish(mined, policy.max_attempts)
    raise SendError(
        f"gave up after {policy.max_attempts} attempts ({last_error}); check the RPC endpoint, "
        "the account's balance and the fee cap, then restart: nothing is lost"
    )


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
