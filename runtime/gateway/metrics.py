"""Prometheus metrics of the gateway, on an explicit registry (base units, `_total` counters)."""
from __future__ import annotations

from typing import Any

from aiohttp import web
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

from sandbox.outcome import ERROR_CLASSES


class GatewayMetrics:
    """Everything `/metrics` exposes; one instance per app."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.executions = Counter(
            "actions_executions_total", "Flows answered, by trigger and flow status.",
            ["trigger", "status"], registry=self.registry)
        self.action_runs = Counter(
            "actions_action_runs_total", "Action runs inside answered flows, by status.",
            ["trigger", "status"], registry=self.registry)
        self.action_errors = Counter(
            "actions_action_errors_total", "Failed action runs inside answered flows, by error "
            "class (invalid_effect: a child's result failed the worker's re-validation).",
            ["trigger", "class"], registry=self.registry)
        self.rejected = Counter(
            "actions_rejected_total", "Execute requests refused before running, by error code.",
            ["code"], registry=self.registry)
        self.duration = Histogram(
            "actions_execution_duration_seconds", "Gateway time per blocking execution.",
            ["trigger"], registry=self.registry,
            buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20))
        self.waiting = Gauge(
            "actions_waiting_requests", "Requests waiting for a result in this gateway.",
            registry=self.registry)
        self.queue_length = Gauge(
            "actions_queue_length", "Jobs in the stream not yet answered (sampled at scrape).",
            registry=self.registry)
        self.workers_alive = Gauge(
            "actions_workers_alive", "Workers with a recent heartbeat (sampled at scrape).",
            registry=self.registry)

    def observe_result(self, result: dict[str, Any], duration_s: float) -> None:
        trigger = str(result.get("trigger", ""))
        self.executions.labels(trigger, str(result.get("status", ""))).inc()
        self.duration.labels(trigger).observe(duration_s)
        for action in result.get("actions") or []:
            self.action_runs.labels(trigger, str(action.get("status", ""))).inc()
            error = action.get("error")
            if isinstance(error, dict) and error.get("class") in ERROR_CLASSES:
                self.action_errors.labels(trigger, error["class"]).inc()


METRICS_KEY: web.AppKey[GatewayMetrics] = web.AppKey("metrics", GatewayMetrics)
