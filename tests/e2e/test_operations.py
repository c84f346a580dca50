"""Health, readiness and metrics endpoints; the alert rules name metrics that exist."""
from __future__ import annotations

import re
from pathlib import Path

import yaml
from prometheus_client.parser import text_string_to_metric_families

from runtime.gateway.metrics import GatewayMetrics
from tests.e2e.test_walkthrough import LOGIN_EVENT, execute
from tests.service import Service

ROOT = Path(__file__).resolve().parents[2]


def test_healthz_and_readyz(service: Service) -> None:
    assert service.request("GET", "/healthz").body == {"status": "ok"}
    ready = service.request("GET", "/readyz")
    assert ready.status == 200
    assert ready.body["workers"] == 2


def test_metrics_count_executions(service: Service, tenant: dict) -> None:
    execute(service, tenant, "post-login", LOGIN_EVENT)
    reply = service.request("GET", "/metrics")
    assert reply.status == 200
    families = {f.name: f for f in text_string_to_metric_families(reply.body.decode())}
    executed = [s for s in families["actions_executions"].samples
                if s.name == "actions_executions_total"
                and s.labels == {"trigger": "post-login", "status": "success"}]
    assert executed and executed[0].value >= 1
    assert families["actions_workers_alive"].samples[0].value == 2


def test_alert_rules_use_existing_metrics() -> None:
    exposed = {m.name for m in GatewayMetrics().registry.collect()}
    exposed |= {f"{name}_total" for name in exposed} | {f"{name}_bucket" for name in exposed}
    rules = yaml.safe_load((ROOT / "deploy/prometheus/rules.yaml").read_text())
    used = set()
    for group in rules["groups"]:
        for rule in group["rules"]:
            used |= set(re.findall(r"\bactions_[a-z_]+", rule["expr"]))
    assert used and used <= exposed, used - exposed


def test_kubernetes_manifests_parse() -> None:
    for path in (ROOT / "deploy/kubernetes").glob("*.yaml"):
        docs = [d for d in yaml.safe_load_all(path.read_text()) if d]
        assert docs and all("kind" in d for d in docs), path
