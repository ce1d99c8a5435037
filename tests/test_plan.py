"""`mlops-scaffold plan`: offline, deterministic, in text, JSON and Mermaid."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import EXAMPLES, REPO, CliRunner


def test_plan_text_groups_resources_by_component(cli: CliRunner) -> None:
    result = cli("plan", EXAMPLES / "mlops.yaml")
    assert result.code == 0
    graph = result.out.split("\noutputs:", 1)[0]
    headers = [line for line in graph.splitlines() if line and not line.startswith(" ")]
    assert headers[0].startswith("Platform demo")
    for component in (
        "ContainerRegistry registry",
        "TrainingCluster training",
        "ProjectTenant churn",
        "ProjectTenant vision",
        "ModelRegistry model-registry",
        "GitOps gitops",
    ):
        assert any(h.startswith(component) for h in headers), component
    assert "chart=oci://registry.k8s.io/kueue/charts/kueue@0.19.2 ns=kueue-system" in result.out
    counts = [re.search(r"\((\d+) (resources?)\)$", h) for h in headers if "(" in h]
    assert counts
    assert all(m and (m[2] == "resource") == (m[1] == "1") for m in counts), headers
    assert "Platform demo  (1 resource)" in headers


def test_plan_json_is_machine_readable_and_complete(cli: CliRunner) -> None:
    result = cli("plan", "--format", "json", EXAMPLES / "mlops.yaml")
    data = json.loads(result.out)
    assert sum(data["summary"].values()) == len(data["resources"])
    urns = {r["urn"] for r in data["resources"]}
    assert all(r["parent"] in urns for r in data["resources"] if r["type"] != "mlops-scaffold:index:Platform")


def test_plan_mermaid_is_a_graph_of_components(cli: CliRunner) -> None:
    out = cli("plan", "--format", "mermaid", EXAMPLES / "mlops.yaml").out
    assert out.startswith("graph LR\n")
    assert '["ProjectTenant<br/>vision"]' in out
    assert "LocalQueue ×1" in out


@pytest.mark.parametrize("fmt", ["text", "json", "mermaid"])
def test_plan_is_deterministic(cli: CliRunner, fmt: str) -> None:
    first = cli("plan", "--format", fmt, EXAMPLES / "mlops.yaml").out
    second = cli("plan", "--format", fmt, EXAMPLES / "mlops.yaml").out
    assert first == second


def test_plan_with_a_bad_spec_is_one_line_per_error(cli: CliRunner, tmp_path: Path) -> None:
    spec = tmp_path / "bad.yaml"
    spec.write_text("name: ok\ntraining: {queues: [{name: q, gpu: 1}]}\n")
    result = cli("plan", spec)
    assert result.code == 1
    assert result.err.strip() == f"{spec}:2:31: training.queues[0].gpu: queue 'q' has a GPU quota but no GPU node pool"


def test_plan_runs_with_no_network_and_no_pulumi_cli(tmp_path: Path) -> None:
    """A fresh process in a network namespace without interfaces, with a PATH holding only Python."""
    unshare = shutil.which("unshare")
    assert unshare is not None, "util-linux's unshare is needed for the offline check"
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "python").symlink_to(sys.executable)
    env = {"PATH": str(bin_dir), "HOME": str(tmp_path), "PYTHONPATH": os.environ.get("PYTHONPATH", "")}
    isolate = [unshare, "--net"] if os.geteuid() == 0 else [unshare, "--net", "--map-root-user"]
    proc = subprocess.run(
        [*isolate, sys.executable, "-m", "mlops_scaffold", "plan", str(REPO / "docs/examples/mlops.yaml")],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        check=False,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    assert "ProjectTenant vision" in proc.stdout
    assert shutil.which("pulumi", path=env["PATH"]) is None
