"""A typed client of the batcher's HTTP JSON API (see batcher_api.py for the endpoints).

One place that knows the wire format, for the CLI (and later the demo and tests). Failures are
two exceptions: `BatcherUnavailable` (nothing answered: the service is not running, or the URL is
wrong) and `BatcherRefused` (it answered with ``{"error": {"code", "message"}}``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from offchain.errors import SequencerError
from offchain.json_http import HttpNotJson, HttpRefused, HttpUnreachable, call_json
from offchain.rollup.types import SignedTransfer, SignedWithdraw

DEFAULT_URL = "http://127.0.0.1:8547"


class BatcherUnavailable(SequencerError):
    """The batcher did not answer."""


class BatcherRefused(SequencerError):
    """The batcher answered with an error."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(f"the batcher refused ({code}): {message}")
        self.status = status
        self.code = code
        self.message = message


@dataclass(frozen=True)
class AccountInfo:
    index: int
    owner: str
    token: str
    balance: int
    nonce: int
    confirmed_balance: int
    confirmed_nonce: int


@dataclass(frozen=True)
class TxInfo:
    tx_hash: str
    status: str
    kind: str
    batch: int | None
    note: str | None


@dataclass(frozen=True)
class WithdrawalInfo:
    withdrawal_id: str
    final: bool
    released: bool
    owner: str
    token: str
    amount: int
    batch_index: int
    proof: tuple

    @staticmethod
    def from_json(body: dict[str, Any]) -> WithdrawalInfo:
        proof = tuple(_abi_value(v) for v in body["proof"])
        return WithdrawalInfo(
            withdrawal_id=body["withdrawal_id"],
            final=bool(body["final"]),
            released=bool(body["released"]),
            owner=body["owner"],
            token=body["token"],
            amount=int(body["amount"]),
            batch_index=int(proof[0]),
            proof=proof,
        )


def _abi_value(v: Any) -> Any:
    """Undo the API's JSON form of an ABI value: 0x-hex is bytes, decimal strings are ints."""
    if isinstance(v, str) and v.startswith("0x"):
        return bytes.fromhex(v[2:])
    if isinstance(v, str):
        return int(v)
    if isinstance(v, list):
        return [_abi_value(x) for x in v]
    return v


class BatcherClient:
    def __init__(self, url: str = DEFAULT_URL, timeout: float = 10.0) -> None:
        self.url = url.rstrip("/")
        self.timeout = timeout

    def _call(self, method: str, path: str, body: dict | None = None) -> dict[str, Any]:
        try:
            return call_json(self.url + path, method, body, self.timeout)
        except HttpRefused as exc:
            raise BatcherRefused(exc.status, exc.code, exc.message) from None
        except HttpUnreachable as exc:
            raise BatcherUnavailable(
                f"no batcher at {self.url} ({exc.reason}): start it with `ape run batcher`, or "
                "pass --batcher <url>"
            ) from None
        except HttpNotJson:
            raise BatcherUnavailable(
                f"{self.url} did not answer JSON: is it the batcher?"
            ) from None

    # -- reads -------------------------------------------------------------------------------------

    def status(self) -> dict[str, Any]:
        return self._call("GET", "/status")

    def accounts_of(self, owner: str) -> list[int]:
        return [int(i) for i in self._call("GET", f"/accounts/{owner}")["accounts"]]

    def account(self, index: int) -> AccountInfo:
        b = self._call("GET", f"/account/{index}")
        return AccountInfo(
            index=int(b["index"]),
            owner=b["owner"],
            token=b["token"],
            balance=int(b["balance"]),
            nonce=int(b["nonce"]),
            confirmed_balance=int(b["confirmed_balance"]),
            confirmed_nonce=int(b["confirmed_nonce"]),
        )

    def tx(self, tx_hash: str) -> TxInfo:
        b = self._call("GET", f"/tx/{tx_hash}")
        return TxInfo(b["tx_hash"], b["status"], b["type"], b.get("batch"), b.get("note"))

    def withdrawal(self, tx_hash: str) -> WithdrawalInfo:
        return WithdrawalInfo.from_json(self._call("GET", f"/withdrawal/{tx_hash}"))

    # -- submissions -------------------------------------------------------------------------------

    def submit_transfer(self, signed: SignedTransfer, nonce: int) -> TxInfo:
        """POST /tx of a transfer with its BLS signature (48 bytes compressed, API v2)."""
        tx = signed.tx
        return self._submit(
            {
                "type": "transfer",
                "from": tx.sender,
                "to": tx.recipient,
                "amount": str(tx.amount),
                "fee": str(tx.fee),
                "nonce": nonce,
                "signature": "0x" + _compressed(signed.signature).hex(),
            }
        )

    def submit_withdraw(self, signed: SignedWithdraw, nonce: int) -> TxInfo:
        """POST /tx of a withdrawal with its BLS signature (48 bytes compressed, API v2)."""
        tx = signed.tx
        return self._submit(
            {
                "type": "withdraw",
                "from": tx.sender,
                "amount": str(tx.amount),
                "fee": str(tx.fee),
                "nonce": nonce,
                "signature": "0x" + _compressed(signed.signature).hex(),
            }
        )

    def _submit(self, body: dict[str, Any]) -> TxInfo:
        b = self._call("POST", "/tx", body)
        return TxInfo(b["tx_hash"], b["status"], b["type"], b.get("batch"), b.get("note"))


def _compressed(signature: bytes) -> bytes:
    """The 48-byte form the API takes (a 96-byte uncompressed signature is compressed)."""
    if len(signature) == 48:
        return bytes(signature)
    from offchain.rollup.signatures import signature_from_bytes

    return signature_from_bytes(signature).compressed
