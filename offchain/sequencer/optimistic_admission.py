"""Admission of the optimistic rollup (the backend's part of the core's `admit_many`): decode and
recover the signer off the lock (`prepare`), then check each transaction on the dict ledger of
the pending state (offchain/sequencer/ledger.py), no Merkle work. No I/O: usable without a node
(bench/operator_admission.py measures it in process)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from offchain.rollup.codec import encode_tx, is_packable_amount, is_packable_fee
from offchain.rollup.eip712 import recover, transfer_digest, withdraw_digest
from offchain.rollup.hashing import keccak
from offchain.rollup.params import MAX_ACCOUNTS, MAX_BALANCE, MAX_NONCE
from offchain.rollup.types import Transfer, Tx, Withdraw
from offchain.sequencer.core import Rejected
from offchain.sequencer.http_api import bad_request, hex_field, int_field, str_field
from offchain.sequencer.ledger import Ledger, Overlay, admit_on
from offchain.sequencer.store import StoredTx


@dataclass(frozen=True)
class PreparedTx:
    """A decoded transfer or withdrawal with the address its signature recovers to (for the
    nonce it claims): what admission needs, computed off the lock."""

    tx: Transfer | Withdraw
    nonce: int
    payload: bytes
    tx_hash: bytes
    kind: str
    signer: str | None


class LedgerAdmission:
    """The admission methods of the Backend protocol over a pending `Ledger`. The class using it
    provides `separator` (EIP-712 domain), `pending`, `frozen` and `fee_account`."""

    separator: bytes
    pending: Ledger
    frozen: bool

    @property
    def fee_account(self) -> int:
        raise NotImplementedError

    def prepare(self, body: Mapping[str, Any]) -> PreparedTx:
        """POST /tx body -> PreparedTx (fields checked, signature recovered). CPU only."""
        kind = str_field(dict(body), "type", ("transfer", "withdraw"))
        fields = dict(body)
        sender = int_field(fields, "from", 0, MAX_ACCOUNTS - 1)
        amount = int_field(fields, "amount", 1, MAX_BALANCE)
        fee = int_field(fields, "fee", 0, MAX_BALANCE)
        nonce = int_field(fields, "nonce", 0, MAX_NONCE)
        signature = hex_field(fields, "signature", 64)
        if not is_packable_amount(amount):
            raise bad_request(
                "unpackable_amount",
                f"amount {amount} has no exact 40-bit packed form (35-bit mantissa x 10^exp): "
                "round it to fewer significant digits",
            )
        if not is_packable_fee(fee):
            raise bad_request(
                "unpackable_fee", f"fee {fee} has no exact 16-bit packed form: round it"
            )
        if kind == "transfer":
            tx: Transfer | Withdraw = Transfer(
                sender, int_field(fields, "to", 0, MAX_ACCOUNTS - 1), amount, fee, signature
            )
        else:
            tx = Withdraw(sender, amount, fee, signature)
        return self.prepare_tx(tx, nonce)

    def prepare_tx(self, tx: Tx, nonce: int) -> PreparedTx:
        """Encode, hash and recover the signer of `tx` for `nonce` (CPU only)."""
        if not isinstance(tx, Transfer | Withdraw):
            raise Rejected("bad_type", "only transfers and withdrawals are submitted")
        payload = encode_tx(tx)
        if isinstance(tx, Transfer):
            digest = transfer_digest(
                self.separator, tx.sender, tx.recipient, tx.amount, tx.fee, nonce
            )
        else:
            digest = withdraw_digest(self.separator, tx.sender, tx.amount, tx.fee, nonce)
        signer = recover(digest, tx.signature)
        return PreparedTx(tx, nonce, payload, keccak(payload), type(tx).__name__.lower(), signer)

    def check_frozen(self) -> bool:
        return self.frozen  # the posting loop reads L1's flag; admission never waits for L1

    def begin_group(self) -> Overlay:
        return Overlay(self.pending)

    def commit_group(self, scratch: Overlay) -> None:
        scratch.merge()

    def is_resend(self, item: Any, stored: StoredTx) -> bool:
        entry = self.pending.entries.get(item.tx.sender)
        return entry is not None and item.signer == entry[0]

    def admit(self, scratch: Overlay, item: Any) -> Rejected | None:
        """Check one prepared tx on the scratch ledger and apply it there (None), or refuse."""
        refused = admit_on(scratch, item.tx, item.nonce, item.signer, self.fee_account)
        return None if refused is None else Rejected(*refused)

    def tx_json(self, stored: StoredTx) -> dict[str, Any]:
        return {
            "tx_hash": "0x" + stored.tx_hash.hex(),
            "seq": stored.seq,
            "type": stored.kind,
            "status": stored.status.value,
            "batch": stored.batch_index,
            "note": stored.note,
        }
