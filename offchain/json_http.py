"""One JSON-over-HTTP call for the clients of l2kit's local APIs (the batcher, the channel node).

Both APIs answer JSON, and every refusal as ``{"error": {"code": ..., "message": ...}}`` with a
4xx/5xx status. `call_json` turns the three ways a call can fail into three exceptions; each
client maps them to its own errors (with its own "start it with ..." hint).
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from typing import Any

from offchain.errors import HttpCallError


class HttpRefused(HttpCallError):
    """The server answered with an error status and (usually) a JSON error body."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


class HttpUnreachable(HttpCallError):
    """Nothing answered at the URL (refused, reset, timed out, bad host)."""

    def __init__(self, reason: object) -> None:
        super().__init__(str(reason))
        self.reason = reason


class HttpNotJson(HttpCallError):
    """Something answered, but not with JSON: not the API the client expects."""


def call_json(url: str, method: str, body: dict | None, timeout: float) -> dict[str, Any]:
    """`method` `url` with `body` as JSON; the JSON answer, or one of the three errors above."""
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(
        url, data=data, method=method, headers={"Content-Type": "application/json"}
    )
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            return json.loads(resp.read())
    except urllib.error.HTTPError as exc:
        try:
            err = json.loads(exc.read()).get("error", {})
        except ValueError:
            err = {}
        raise HttpRefused(
            exc.code, str(err.get("code", "http_error")), str(err.get("message", exc.reason))
        ) from None
    except (urllib.error.URLError, OSError) as exc:
        raise HttpUnreachable(getattr(exc, "reason", exc)) from None
    except ValueError:
        raise HttpNotJson(url) from None
