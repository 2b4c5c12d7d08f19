"""The validator's status endpoint (`--status-port`), on the operator's aiohttp front
(offchain/sequencer/http_server.py, without an intake):

- `GET /status`: the status of the last check (alarms, what was verified, `l1`: head block, synced
  block, lag in blocks and in batches, and the in-memory `checkpoint` summary);
- `GET /health`: the process answers and whether its check loop runs;
- `GET /ready`: 200 once a check succeeded and checks are not failing, else 503 with the reason;
- `GET /metrics`: Prometheus text (`VALIDATOR_FIGURES` of offchain/sequencer/metrics.py: lag,
  checks, frauds, alarms, and the request latency);
- `GET /checkpoint`: the validator's newest verified checkpoint (docs/checkpoints.md), hex in
  JSON, for a user who chooses to trust it (`l2kit rollup exit --checkpoint FILE`).

Handlers only read the snapshot the check loop publishes after every check (no RPC, no lock held
during a check), so the endpoint answers at once even while a long check runs.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from offchain.sequencer.http_api import Route, not_found
from offchain.sequencer.http_server import HttpFront, HttpServer
from offchain.sequencer.metrics import validator_registry

if TYPE_CHECKING:
    from offchain.validator.service import ValidatorService

#: Failed checks in a row after which the validator is not ready (its status raises an alarm).
NOT_READY_AFTER_ERRORS = 3


class ValidatorProbes:
    """/health, /ready and the status /metrics reads, from the published snapshot."""

    def __init__(self, service: ValidatorService) -> None:
        self.service = service

    def health(self) -> dict[str, Any]:
        stats = self.service.stats
        return {
            "alive": True,
            "loop_running": self.service.running,
            "last_check_at": stats.last_check_at,
            "seconds_since_check": (
                time.time() - stats.last_check_at if stats.last_check_at is not None else None
            ),
        }

    def ready(self) -> tuple[bool, str]:
        status = self.service.snapshot()["status"]
        if status.get("last_check_at") is None:
            return False, "no check has completed yet"
        errors = int(status.get("errors_in_a_row") or 0)
        if errors >= NOT_READY_AFTER_ERRORS:
            return False, f"the last {errors} checks failed: {status.get('last_error')}"
        return True, "checking"

    def metrics_status(self) -> dict[str, Any]:
        status = dict(self.service.snapshot()["status"])
        status["ready"] = self.ready()[0]
        status["alarm_count"] = len(status.get("alarms") or [])
        return status


def status_routes(service: ValidatorService) -> list[Route]:
    def status(_params: dict[str, str], _body: dict[str, Any]) -> Any:
        return service.snapshot()["status"]

    def checkpoint(_params: dict[str, str], _body: dict[str, Any]) -> Any:
        snap = service.snapshot()
        raw = snap.get("checkpoint_bytes")
        if raw is None:
            raise not_found("no_checkpoint", "no batch verified yet: no checkpoint to export")
        summary = snap["status"].get("checkpoint") or {}
        return {**summary, "checkpoint": "0x" + raw.hex()}

    return [Route("GET", "/status", status), Route("GET", "/checkpoint", checkpoint)]


def status_server(service: ValidatorService, host: str, port: int) -> HttpServer:
    """The status server (not started; `start()` raises OSError if the port cannot be bound)."""
    probes = ValidatorProbes(service)
    front = HttpFront(
        status_routes(service),
        probes=probes,
        registry=validator_registry(probes.metrics_status),
        query_workers=2,
    )
    return HttpServer(front, host, port)
