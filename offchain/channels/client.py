"""A typed client of the channel node's REST API (offchain/channels/service.py).

Failures are two exceptions: `NodeUnavailable` (nothing answered: the node is not running or the
URL is wrong) and `NodeRefused` (it answered ``{"ok": false, "error": {"code", "message"}}``).
"""

from __future__ import annotations

import urllib.parse
from dataclasses import dataclass
from typing import Any

from offchain.errors import HttpCallError
from offchain.json_http import HttpNotJson, HttpRefused, HttpUnreachable, call_json

DEFAULT_API = "http://127.0.0.1:8550"


class NodeUnavailable(HttpCallError):
    """The channel node's API did not answer."""


class NodeRefused(HttpCallError):
    """The channel node answered with an error."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(f"the channel node refused ({code}): {message}")
        self.status = status
        self.code = code
        self.message = message


@dataclass(frozen=True)
class ChannelInfo:
    channel_id: str
    peer: str
    role: str
    token: str
    balance: int
    peer_balance: int
    nonce: int
    locks: int
    closed: bool

    @staticmethod
    def from_json(b: dict[str, Any]) -> ChannelInfo:
        return ChannelInfo(
            channel_id=b["channel_id"],
            peer=b["peer"],
            role=b["role"],
            token=b["token"],
            balance=int(b["balance"]),
            peer_balance=int(b["peer_balance"]),
            nonce=int(b["nonce"]),
            locks=int(b["locks"]),
            closed=bool(b["closed"]),
        )


class ChannelNodeClient:
    def __init__(self, url: str = DEFAULT_API, timeout: float = 120.0) -> None:
        self.url = url.rstrip("/")
        self.timeout = timeout

    def _call(self, method: str, path: str, body: dict | None = None) -> dict[str, Any]:
        try:
            return call_json(self.url + path, method, body, self.timeout)
        except HttpRefused as exc:
            raise NodeRefused(exc.status, exc.code, exc.message) from None
        except HttpUnreachable as exc:
            raise NodeUnavailable(
                f"no channel node at {self.url} ({exc.reason}): start it with "
                "`l2kit channels node`, or pass --api <url>"
            ) from None
        except HttpNotJson:
            raise NodeUnavailable(
                f"{self.url} did not answer JSON: is it a channel node?"
            ) from None

    @staticmethod
    def _ref(channel: str) -> str:
        return urllib.parse.quote(channel, safe="")

    # -- reads -------------------------------------------------------------------------------------

    def status(self) -> dict[str, Any]:
        return self._call("GET", "/status")

    def channels(self) -> list[ChannelInfo]:
        return [ChannelInfo.from_json(c) for c in self._call("GET", "/channels")["channels"]]

    def peers(self) -> list[dict[str, Any]]:
        return list(self._call("GET", "/peers")["peers"])

    # -- actions -----------------------------------------------------------------------------------

    def add_peer(self, address: str, host: str, port: int) -> dict[str, Any]:
        return self._call("POST", "/peers", {"address": address, "host": host, "port": port})

    def open(self, peer: str, amount: int) -> ChannelInfo:
        b = self._call("POST", "/channels", {"peer": peer, "amount": str(amount)})
        return ChannelInfo.from_json(b["channel"])

    def fund(self, channel: str, amount: int) -> ChannelInfo:
        b = self._call("POST", f"/channels/{self._ref(channel)}/fund", {"amount": str(amount)})
        return ChannelInfo.from_json(b["channel"])

    def pay(self, peer: str, amount: int) -> ChannelInfo:
        b = self._call("POST", "/pay", {"peer": peer, "amount": str(amount)})
        return ChannelInfo.from_json(b["channel"])

    def invoice(self, amount: int) -> dict[str, Any]:
        return dict(self._call("POST", "/invoices", {"amount": str(amount)})["invoice"])

    def route(self, invoice: dict[str, Any], timeout: float = 10.0) -> dict[str, Any]:
        return self._call("POST", "/route", {"invoice": invoice, "timeout": timeout})

    def close(self, channel: str, force: bool = False) -> dict[str, Any]:
        return self._call("POST", f"/channels/{self._ref(channel)}/close", {"force": force})

    def settle(self, channel: str) -> dict[str, Any]:
        return self._call("POST", f"/channels/{self._ref(channel)}/settle", {})

    def claim(self, token: str) -> dict[str, Any]:
        return self._call("POST", "/claim", {"token": token})

    def delegate(self, tower: str, host: str, port: int, expiry: int) -> dict[str, Any]:
        body = {"tower": tower, "host": host, "port": port, "expiry": expiry}
        return self._call("POST", "/delegate", body)
