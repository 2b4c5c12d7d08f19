"""Admission of the optimistic rollup, format v2 (the backend's part of the core's `admit_many`).

1. `prepare` (off the lock, one body): field checks, the sender's owner from the pending ledger
   (owners never change), the BLS key valid for it now (`KeyBook.signing_key`: refused with no
   key or a rotation pending), the stored payload and the tx id. No pairing yet.
2. `verify_group` (off the lock, the whole admission group): every signature checked at once,
   batched with random coefficients (offchain.rollup.signatures.find_bad_signatures), so one bad
   signature cannot hide among good ones, and bisection names each bad one (refused
   `bad_signature`); the cost is about one pairing per distinct message plus one, not two per tx.
3. `admit` (under the lock, in order): the nonce and the state rules on the dict ledger of the
   pending state (offchain/sequencer/ledger.py), no Merkle work.

No I/O here (the key book is a snapshot kept current by the backend): usable without a node
(bench/operator_admission.py measures it in process).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from offchain.bls import PublicKey
from offchain.rollup.codec import is_packable_amount, is_packable_fee
from offchain.rollup.params import MAX_ACCOUNTS, MAX_BALANCE, MAX_NONCE
from offchain.rollup.signatures import PendingSignature, find_bad_signatures
from offchain.rollup.types import SignedTransfer, SignedWithdraw, Transfer, Tx, Withdraw
from offchain.sequencer.core import Rejected
from offchain.sequencer.http_api import bad_request, hex_field, int_field, str_field
from offchain.sequencer.ledger import Ledger, Overlay, admit_on
from offchain.sequencer.payload import SIGNATURE_LEN, decode_payload, encode_payload, tx_id
from offchain.sequencer.signing_keys import KeyBook
from offchain.sequencer.store import StoredTx

#: What a bad signature is answered with.
BAD_SIGNATURE_MESSAGE = (
    "the BLS signature does not verify under the sender owner's registered key for this "
    "(sender, nonce, tx) and this chain and rollup: sign with the key derived from the owner's "
    "L1 wallet (`l2kit rollup key show`) for the account's next nonce"
)


@dataclass(frozen=True)
class PreparedTx:
    """A decoded transfer or withdrawal, the nonce it claims, its signature and the key that
    signature is checked under: what admission needs, computed off the lock."""

    tx: Transfer | Withdraw
    nonce: int
    payload: bytes
    tx_hash: bytes
    kind: str
    signature: bytes
    key: PublicKey


class LedgerAdmission:
    """The admission methods of the Backend protocol over a pending `Ledger`. The class using it
    provides `dst` (the BLS signing tag), `key_book`, `pending`, `frozen` and `fee_account`."""

    dst: bytes
    pending: Ledger
    frozen: bool

    @property
    def key_book(self) -> KeyBook:
        raise NotImplementedError

    @property
    def fee_account(self) -> int:
        raise NotImplementedError

    def prepare(self, body: Mapping[str, Any]) -> PreparedTx:
        """POST /tx body -> PreparedTx (fields checked, key looked up). CPU only."""
        kind = str_field(dict(body), "type", ("transfer", "withdraw"))
        fields = dict(body)
        sender = int_field(fields, "from", 0, MAX_ACCOUNTS - 1)
        amount = int_field(fields, "amount", 1, MAX_BALANCE)
        fee = int_field(fields, "fee", 0, MAX_BALANCE)
        nonce = int_field(fields, "nonce", 0, MAX_NONCE)
        signature = hex_field(fields, "signature", SIGNATURE_LEN)
        if not is_packable_amount(amount):
            raise bad_request(
                "unpackable_amount",
                f"amount {amount} has no exact 32-bit packed form (27-bit mantissa x 10^exp): "
                "round it to fewer significant digits",
            )
        if not is_packable_fee(fee):
            raise bad_request(
                "unpackable_fee", f"fee {fee} has no exact 16-bit packed form: round it"
            )
        if kind == "transfer":
            tx: Transfer | Withdraw = Transfer(
                sender, int_field(fields, "to", 0, MAX_ACCOUNTS - 1), amount, fee
            )
        else:
            tx = Withdraw(sender, amount, fee)
        return self.prepare_tx(tx, nonce, signature)

    def prepare_tx(self, tx: Tx, nonce: int, signature: bytes) -> PreparedTx:
        """Encode `tx` for `nonce` with its 48-byte signature and look up the signer's key."""
        if not isinstance(tx, Transfer | Withdraw):
            raise Rejected("bad_type", "only transfers and withdrawals are submitted")
        if len(signature) != SIGNATURE_LEN:
            raise Rejected("bad_length", f"a signature is {SIGNATURE_LEN} bytes (compressed G1)")
        entry = self.pending.entries.get(tx.sender)  # a dict read: owners never change
        if entry is None:
            raise Rejected("unknown_account", f"account {tx.sender} does not exist: deposit first")
        key = self.key_book.signing_key(entry[0])
        payload = encode_payload(tx, nonce, signature)
        return PreparedTx(
            tx, nonce, payload, tx_id(tx, nonce), type(tx).__name__.lower(), signature, key
        )

    def verify_group(self, prepared: Sequence[Any]) -> list[Rejected | None]:
        """The signature verdict of every item of one admission group (batched check)."""
        pending = [PendingSignature(_signed(p.tx, p.signature), p.nonce, p.key) for p in prepared]
        bad = set(find_bad_signatures(pending, self.dst))
        return [
            Rejected("bad_signature", BAD_SIGNATURE_MESSAGE) if i in bad else None
            for i in range(len(prepared))
        ]

    def check_frozen(self) -> bool:
        return self.frozen  # the posting loop reads L1's flag; admission never waits for L1

    def begin_group(self) -> Overlay:
        return Overlay(self.pending)

    def commit_group(self, scratch: Overlay) -> None:
        scratch.merge()

    def is_resend(self, item: Any, stored: StoredTx) -> bool:
        """Same id (same sender, nonce and body) and the same signature: BLS signatures are
        deterministic, so only the same key gives the same bytes."""
        return bool(decode_payload(stored.payload).signature == item.signature)

    def admit(self, scratch: Overlay, item: Any) -> Rejected | None:
        """Check one prepared tx on the scratch ledger and apply it there (None), or refuse."""
        refused = admit_on(scratch, item.tx, item.nonce, self.fee_account)
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


def _signed(tx: Transfer | Withdraw, signature: bytes) -> SignedTransfer | SignedWithdraw:
    if isinstance(tx, Transfer):
        return SignedTransfer(tx, signature)
    return SignedWithdraw(tx, signature)
