"""Log set-up of the operator services: human text lines or structured JSON lines.

JSON lines (`--log-format json`) carry `time` (UTC, ISO 8601 with milliseconds), `level`,
`logger`, `message`, every extra field passed with `log.info(..., extra={...})`, and `exc` (the
formatted traceback) when an exception is logged; one object per line, for log shippers.
"""

from __future__ import annotations

import logging
import sys
import time
from typing import Any, TextIO

import orjson

#: Attributes every LogRecord has: anything else on a record is an extra field.
_STANDARD = frozenset(vars(logging.LogRecord("x", 0, "x", 0, "x", None, None))) | {
    "message",
    "asctime",
    "taskName",
}

TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s %(message)s"


class JsonFormatter(logging.Formatter):
    """One JSON object per record."""

    def format(self, record: logging.LogRecord) -> str:
        out: dict[str, Any] = {
            "time": _utc(record.created),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key, value in vars(record).items():
            if key not in _STANDARD and not key.startswith("_"):
                out[key] = value
        if record.exc_info:
            out["exc"] = self.formatException(record.exc_info)
        return orjson.dumps(out, default=str).decode()


def _utc(created: float) -> str:
    return (
        time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(created))
        + f".{int(created * 1000) % 1000:03d}Z"
    )


def configure_logging(fmt: str = "text", level: str = "info", stream: TextIO | None = None) -> None:
    """Route the root logger to `stream` (stderr) as `fmt` ("text" or "json") lines."""
    if fmt not in ("text", "json"):
        raise ValueError(f"log format {fmt!r} is not text or json")
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(JsonFormatter() if fmt == "json" else logging.Formatter(TEXT_FORMAT))
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level.upper())
    logging.getLogger("aiohttp.access").setLevel(logging.WARNING)
