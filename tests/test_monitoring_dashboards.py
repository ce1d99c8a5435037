"""Dashboards validate against Grafana's dashboard schema, and every query parses as PromQL."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft7Validator
from platform_specs import planned
from promql import grafana_to_promql, promtool_parses

from mlops_scaffold.monitoring.dashboards import dashboards
from mlops_scaffold.spec.platform import MonitoringSettings

SCHEMA = json.loads((Path(__file__).parent / "schemas" / "grafana-dashboard.schema.json").read_text())
BOARDS = dashboards(MonitoringSettings())


def _queries(board: dict[str, Any]) -> list[str]:
    return [t["expr"] for p in board["panels"] for t in p.get("targets", [])]


@pytest.mark.parametrize("name", sorted(BOARDS))
def test_dashboard_validates_against_grafanas_schema(name: str) -> None:
    errors = sorted(Draft7Validator(SCHEMA).iter_errors(BOARDS[name]), key=str)
    assert errors == [], [f"{list(e.absolute_path)}: {e.message}" for e in errors]


def test_the_schema_check_can_fail() -> None:
    board = json.loads(json.dumps(BOARDS["mlops-gpus.json"]))
    board["panels"][0]["gridPos"]["w"] = "wide"
    board["refesh"] = "1m"
    messages = {e.message for e in Draft7Validator(SCHEMA).iter_errors(board)}
    assert any("is not valid under any of the given schemas" in m for m in messages), messages  # the panel
    assert any("refesh" in m for m in messages), messages


def test_every_dashboard_query_parses_as_promql(tmp_path: Path) -> None:
    queries = [grafana_to_promql(q) for board in BOARDS.values() for q in _queries(board)]
    assert len(queries) >= 25
    done = promtool_parses(queries, tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr


def test_the_promql_check_can_fail(tmp_path: Path) -> None:
    done = promtool_parses(["sum by (job (up)"], tmp_path)
    assert done.returncode != 0


def test_dashboards_cover_the_issue_list() -> None:
    titles = {board["title"] for board in BOARDS.values()}
    assert titles == {
        "MLOps / Training queues",
        "MLOps / GPUs",
        "MLOps / Model serving",
        "MLOps / Data and prediction drift",
        "MLOps / Platform health",
        "MLOps outcomes",
    }
    serving = " ".join(_queries(BOARDS["mlops-serving.json"]))
    for quantile in ("0.50", "0.95", "0.99"):
        assert f"histogram_quantile({quantile}," in serving
    gpu = " ".join(_queries(BOARDS["mlops-gpus.json"]))
    for field in ("GPU_UTIL", "FB_USED", "GPU_TEMP", "POWER_USAGE"):
        assert f"DCGM_FI_DEV_{field}" in gpu


def test_panels_do_not_overlap() -> None:
    for board in BOARDS.values():
        cells: set[tuple[int, int]] = set()
        for panel in board["panels"]:
            pos = panel["gridPos"]
            assert pos["x"] + pos["w"] <= 24
            mine = {(x, y) for x in range(pos["x"], pos["x"] + pos["w"]) for y in range(pos["y"], pos["y"] + pos["h"])}
            assert not cells & mine, (board["uid"], panel["title"])
            cells |= mine


def test_platform_provisions_every_dashboard_for_grafanas_sidecar() -> None:
    _, run = planned("minimal")
    maps = [m for m in run.manifests() if m["kind"] == "ConfigMap" and m["metadata"].get("namespace") == "monitoring"]
    provisioned = {key: json.loads(value) for m in maps for key, value in m["data"].items()}
    assert set(provisioned) == set(BOARDS)
    for m in maps:
        assert m["metadata"]["labels"]["grafana_dashboard"] == "1"


def test_every_outcomes_panel_reads_the_outcome_recording_rules() -> None:
    """The outcomes dashboard computes nothing itself: each query reads recording rules only, so the
    promtool-tested rules are exactly what it shows."""
    from promql import metric_names

    from mlops_scaffold.monitoring.outcomes import outcome_group
    from mlops_scaffold.spec.platform import Platform

    recorded = {
        r["record"] for r in outcome_group(Platform.model_validate({"name": "x"}), [])["rules"] if "record" in r
    }
    board = BOARDS["mlops-outcomes.json"]
    queries = [grafana_to_promql(t["expr"]) for p in board["panels"] for t in p["targets"]]
    assert len(queries) >= 12
    for query in queries:
        names = metric_names(query)
        assert names, query
        assert names <= recorded, f"{query} reads {sorted(names - recorded)}, which no outcome rule records"
    assert recorded - set().union(*(metric_names(q) for q in queries)) <= {
        "namespace:mlops_cost_usd:hourly",
        "job:mlops_training_duration_seconds",
    }
