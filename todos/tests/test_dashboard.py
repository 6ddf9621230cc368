"""ops/grafana-dashboard.json and ops/prometheus-alerts.yml ask only for metrics /metrics has,
and Prometheus' own checker accepts the alerting rules."""

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

ROOT = Path(__file__).resolve().parents[2]
SUFFIXES = {"counter": ("_total",), "histogram": ("_bucket", "_sum", "_count"), "gauge": ("",)}
METRIC = re.compile(r"\btodos_[a-z_]+\b")


@pytest.fixture
def exposed(client, db):
    """Every sample name /metrics can show: each family, with its type's suffixes."""
    text = client.get("/metrics").content.decode()
    return {
        family.name + suffix
        for family in text_string_to_metric_families(text)
        for suffix in SUFFIXES.get(family.type, ("",))
    }


def dashboard_queries():
    dashboard = json.loads((ROOT / "ops/grafana-dashboard.json").read_text())
    return [
        (panel["title"], target["expr"])
        for panel in dashboard["panels"]
        for target in panel["targets"]
    ]


def test_every_dashboard_query_names_metrics_that_exist(exposed):
    queries = dashboard_queries()
    assert len(queries) >= 10
    for title, expr in queries:
        names = set(METRIC.findall(expr))
        assert names, f"{title}: {expr} names no metric of the service"
        assert names <= exposed, f"{title}: {sorted(names - exposed)} not in /metrics"


def test_the_alerting_rules_pass_promtool_and_name_metrics_that_exist(exposed):
    rules = ROOT / "ops/prometheus-alerts.yml"
    promtool = shutil.which("promtool")
    assert promtool, "promtool is missing: run bin/install-prometheus"
    result = subprocess.run(
        [promtool, "check", "rules", str(rules)], capture_output=True, text=True, timeout=30
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS: 5 rules found" in result.stdout
    assert set(METRIC.findall(rules.read_text())) <= exposed
