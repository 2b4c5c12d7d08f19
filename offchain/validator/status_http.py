"""The validator's status endpoint (`--status-port`), on the operator's JSON server
(offchain/sequencer/http_api.py):

- `GET /status`: the status of the last check (alarms, what was verified, `l1`: head block, synced
  block, lag in blocks and in batches, and the in-memory `checkpoint` summary);
- `GET /health`: the process answers and whether its check loop runs;
- `GET /checkpoint`: the validator's newest verified checkpoint (docs/checkpoints.md), hex in
  JSON, for a user who chooses to trust it (`l2kit rollup exit --checkpoint FILE`).

Handlers only read the snapshot the check loop publishes after every check (no RPC, no lock held
during a check), so the endpoint answers at once even while a long check runs.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from offchain.sequencer.http_api import JsonApiServer, Route, not_found

if TYPE_CHECKING:
    from offchain.validator.service import ValidatorService


def status_routes(service: ValidatorService) -> list[Route]:
    def status(_params: dict[str, str], _body: dict[str, Any]) -> Any:
        return service.snapshot()["status"]

    def health(_params: dict[str, str], _body: dict[str, Any]) -> Any:
        stats = service.stats
        return {
            "alive": True,
            "loop_running": service.running,
            "last_check_at": stats.last_check_at,
            "seconds_since_check": (
                time.time() - stats.last_check_at if stats.last_check_at is not None else None
            ),
        }

    def checkpoint(_params: dict[str, str], _body: dict[str, Any]) -> Any:
        snap = service.snapshot()
        raw = snap.get("checkpoint_bytes")
        if raw is None:
            raise not_found("no_checkpoint", "no batch verified yet: no checkpoint to export")
        summary = snap["status"].get("checkpoint") or {}
        return {**summary, "checkpoint": "0x" + raw.hex()}

    return [
        Route("GET", "/status", status),
        Route("GET", "/health", health),
        Route("GET", "/checkpoint", checkpoint),
    ]


def status_server(service: ValidatorService, host: str, port: int) -> JsonApiServer:
    """The status server (not started); OSError if the port cannot be bound."""
    return JsonApiServer(status_routes(service), host=host, port=port)
