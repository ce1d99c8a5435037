"""PromQL helpers for tests: metric names an expression reads, and parsing through promtool."""

from __future__ import annotations

import json
import re
import subprocess
from collections.abc import Iterable
from pathlib import Path

from conftest import require_tool

KEYWORDS = {
    "by", "without", "on", "ignoring", "group_left", "group_right", "and", "or", "unless", "bool",
    "offset", "inf", "nan", "atan2",
}  # fmt: skip
_STRINGS = re.compile(r'"(?:\\.|[^"\\])*"|\'(?:\\.|[^\'\\])*\'')
_MATCHERS = re.compile(r"\{[^{}]*\}")
_RANGES = re.compile(r"\[[^\]]*\]")
_GROUPING = re.compile(r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)")
_NAME = re.compile(r"(?<![\w:.])([A-Za-z_:][A-Za-z0-9_:]*)\b(?!\s*\()")

GRAFANA_VARIABLES = {"$__rate_interval": "5m", "$__interval": "1m", "$__range": "1h"}


def grafana_to_promql(expr: str) -> str:
    """Replace Grafana's variables the way Grafana does before it sends a query."""
    for variable, value in GRAFANA_VARIABLES.items():
        expr = expr.replace(variable, value)
    return re.sub(r"\$\{?\w+\}?", ".*", expr)


def metric_names(expr: str) -> set[str]:
    """Names of the series an expression selects (functions, keywords and labels excluded)."""
    text = _STRINGS.sub('""', expr)
    text = _MATCHERS.sub("{}", text)
    text = _RANGES.sub("", text)
    text = _GROUPING.sub("", text)
    return {name for name in _NAME.findall(text) if name.lower() not in KEYWORDS and not name.startswith("__")}


def promtool_parses(exprs: Iterable[str], tmp: Path) -> subprocess.CompletedProcess[str]:
    """Feed expressions to Prometheus' own parser, as recording rules of one file."""
    rules = [{"record": f"check:expr_{i}", "expr": expr} for i, expr in enumerate(exprs)]
    path = tmp / "exprs.yaml"
    path.write_text(json.dumps({"groups": [{"name": "exprs", "rules": rules}]}))  # JSON is YAML
    return subprocess.run(
        [require_tool("promtool"), "check", "rules", str(path)], capture_output=True, text=True, check=False
    )
