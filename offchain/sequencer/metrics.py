"""Prometheus metrics of the operator services, on a registry the caller passes in.

Two kinds:

* live instruments updated as things happen (request latency, intake outcomes, group sizes);
  they start at zero with the process, as Prometheus expects of a process's own counters;
* figures read from a status dict at every scrape by `StatusCollector` -- among them the
  counters the store keeps (`counters` of the status), which survive restarts, so
  `l2kit_batches_posted_total` never drops when the sequencer restarts.

The generic part (`StatusCollector` over a list of `Figure`s, `HttpMetrics`) serves any service
with a status dict; `SEQUENCER_FIGURES` and `VALIDATOR_FIGURES` say what each service exports.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

log = logging.getLogger("l2kit.metrics")

PREFIX = "l2kit"

#: Seconds; acknowledgement latency is expected in the low milliseconds.
LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)
GROUP_BUCKETS = (1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 2048, 4096)


@dataclass(frozen=True)
class Figure:
    """One metric read from the status dict: `path` is dotted ("l1.lag_blocks")."""

    name: str
    path: str
    help: str
    kind: str = "gauge"  # or "counter" (a monotonic total kept by the store)


def _lookup(status: Mapping[str, Any], path: str) -> float | None:
    value: Any = status
    for part in path.split("."):
        if not isinstance(value, Mapping) or part not in value:
            return None
        value = value[part]
    if isinstance(value, bool):
        return 1.0 if value else 0.0
    if isinstance(value, int | float):
        return float(value)
    return None  # absent, None (e.g. no batch final yet) or not a number: not exported


class StatusCollector(Collector):
    """Exports `figures` from `status()` at every scrape; a failing status exports `up 0`."""

    def __init__(self, status: Callable[[], Mapping[str, Any]], figures: Sequence[Figure]):
        self._status = status
        self._figures = tuple(figures)

    def describe(self) -> Iterable[Metric]:
        return []  # not described up front: status() must not run at registration

    def collect(self) -> Iterable[Metric]:
        up = GaugeMetricFamily(f"{PREFIX}_status_up", "1 if the service's status answered")
        try:
            status = self._status()
        except Exception as exc:  # a scrape must not fail: report it as a metric and a log line
            log.warning("status unavailable for /metrics: %s", exc)
            up.add_metric([], 0.0)
            yield up
            return
        up.add_metric([], 1.0)
        yield up
        for fig in self._figures:
            value = _lookup(status, fig.path)
            if value is None:
                continue
            family: Metric
            if fig.kind == "counter":
                family = CounterMetricFamily(f"{PREFIX}_{fig.name}", fig.help, value=value)
            else:
                family = GaugeMetricFamily(f"{PREFIX}_{fig.name}", fig.help, value=value)
            yield family


def _counter(name: str, what: str) -> Figure:
    return Figure(name, f"counters.{name}", what + " (persistent: kept by the store)", "counter")


#: What the sequencer exports from its `status()` (shared interface 3 of issue #10).
SEQUENCER_FIGURES: tuple[Figure, ...] = (
    Figure("ready", "ready", "1 if the sequencer is ready to accept transactions"),
    Figure("frozen", "frozen", "1 if the rollup is frozen on L1"),
    Figure("pending_txs", "l2.pending_txs", "accepted transactions not yet posted"),
    Figure("queued_deposits", "l2.queued_deposits", "L1 deposits not yet included"),
    Figure("queued_forced", "l2.queued_forced", "forced transactions not yet included"),
    Figure("confirmed_batches", "l2.confirmed_batches", "batches confirmed on L1"),
    Figure("l1_head_block", "l1.head_block", "L1 head block seen"),
    Figure("l1_synced_block", "l1.synced_block", "L1 block the sequencer has synced to"),
    Figure("l1_lag_blocks", "l1.lag_blocks", "blocks the sequencer is behind the L1 head"),
    Figure("last_final_batch", "finality.last_final_batch", "index of the last final batch"),
    Figure(
        "time_to_finality_seconds",
        "finality.last_time_to_finality_s",
        "seconds from posting to finality of the last final batch",
    ),
    _counter("txs_accepted", "transactions accepted"),
    _counter("txs_rejected", "transactions rejected"),
    _counter("batches_posted", "batches posted to L1"),
    _counter("txs_posted", "transactions posted to L1"),
    _counter("deposits_posted", "deposits included in posted batches"),
    _counter("l1_gas", "L1 gas spent posting"),
    _counter("l1_bytes", "L1 bytes posted"),
    _counter("sender_retries", "L1 transaction retries and fee bumps"),
    _counter("blob_postings", "postBlobBatches transactions mined"),
    _counter("blob_gas", "blob gas of the blob postings"),
    Figure("da_blob_postings", "da.postings.blobs", "postings sent in blobs (this process)"),
    Figure("da_calldata_postings", "da.postings.calldata", "postings sent as calldata"),
    Figure("da_last_blobs", "da.last_blobs", "1 if the DA choice of the last posting was blobs"),
)

#: What the validator service exports from its published status (offchain/validator/
#: status_http.py adds `ready` and `alarm_count` to it): lag, checks, alarms.
VALIDATOR_FIGURES: tuple[Figure, ...] = (
    Figure("validator_ready", "ready", "1 if the validator has checked and is not failing"),
    Figure("validator_l1_head_block", "l1.head_block", "L1 head block seen"),
    Figure("validator_l1_synced_block", "l1.synced_block", "L1 block checked up to"),
    Figure("validator_lag_blocks", "l1.lag_blocks", "blocks the validator is behind L1"),
    Figure("validator_lag_batches", "l1.lag_batches", "batches on L1 not yet verified"),
    Figure("validator_checks", "checks", "checks run since this process started", "counter"),
    Figure("validator_batches_verified", "batches_verified", "batches verified"),
    Figure("validator_frauds_found", "frauds_found", "invalid batches found", "counter"),
    Figure("validator_frauds_proven", "frauds_proven", "fraud proofs completed", "counter"),
    Figure("validator_errors_in_a_row", "errors_in_a_row", "failed checks since the last good"),
    Figure("validator_alarm", "alarm", "1 while any alarm is raised"),
    Figure("validator_alarms", "alarm_count", "alarms raised now"),
)


class HttpMetrics:
    """Request latency by route and status (generic: any aiohttp front)."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.latency = Histogram(
            f"{PREFIX}_http_request_seconds",
            "time from a request's headers to its answer",
            ["route", "status"],
            buckets=LATENCY_BUCKETS,
            registry=registry,
        )

        self._children: dict[tuple[str, int], Any] = {}

    def observe(self, route: str, status: int, seconds: float) -> None:
        child = self._children.get((route, status))
        if child is None:  # labels() costs a lock and a lookup: cache the child per label pair
            child = self._children[(route, status)] = self.latency.labels(route, str(status))
        child.observe(seconds)


class IntakeMetrics:
    """What the intake sees: submissions by outcome and code, group sizes, queue depth."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.accepted = Counter(
            f"{PREFIX}_intake_accepted",
            "transactions accepted (durable) since this process started",
            registry=registry,
        )
        self.rejected = Counter(
            f"{PREFIX}_intake_rejected",
            "transactions refused since this process started, by code",
            ["code"],
            registry=registry,
        )
        self.groups = Histogram(
            f"{PREFIX}_intake_group_size",
            "transactions per group commit (one admit_many call, one store commit)",
            buckets=GROUP_BUCKETS,
            registry=registry,
        )
        self.group_seconds = Histogram(
            f"{PREFIX}_intake_group_seconds",
            "time one group commit took (admission and the durable store write)",
            buckets=LATENCY_BUCKETS,
            registry=registry,
        )
        self.queued = Gauge(
            f"{PREFIX}_intake_queued", "transactions waiting for a group", registry=registry
        )

    def on_group(self, size: int, seconds: float) -> None:
        self.groups.observe(size)
        self.group_seconds.observe(seconds)

    def outcome(self, code: str | None) -> None:
        """Count one item: `code` None for accepted, else the refusal's code."""
        if code is None:
            self.accepted.inc()
        else:
            self.rejected.labels(code).inc()


def sequencer_registry(status: Callable[[], Mapping[str, Any]]) -> CollectorRegistry:
    """A fresh registry with the sequencer's status figures (add HTTP/intake metrics to it)."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(StatusCollector(status, SEQUENCER_FIGURES))
    return registry


def validator_registry(status: Callable[[], Mapping[str, Any]]) -> CollectorRegistry:
    """A fresh registry with the validator's status figures."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(StatusCollector(status, VALIDATOR_FIGURES))
    return registry
