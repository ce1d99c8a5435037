"""The platform for real: `mlops-scaffold platform preview/up/refresh/destroy` against a live API with every chart."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.cycle import Cycle
from engine.harness import REPO
from mlops_scaffold.spec import load_specs
from mlops_scaffold.spec.starters import default_spec_text

EXAMPLE = REPO / "docs" / "examples" / "mlops.yaml"
EXTRA_PROJECT = Path(__file__).parent / "specs" / "extra-project.yaml"


def _expected_releases(paths: list[Path]) -> int:
    """Helm releases the spec asks for: zot, kueue, argo-cd, kube-prometheus-stack and OpenCost with monitoring,
    one per operator, GPU daemons."""
    platform = load_specs(paths).platform
    assert platform is not None
    gpu = 2 if platform.training.has_gpus else 0
    monitoring = 2 if platform.monitoring.enabled else 0
    return 3 + monitoring + len(platform.training.frameworks) + gpu


# one worker runs both cycles, one after the other, while the other worker runs the rest of the suite
pytestmark = [pytest.mark.real_engine, pytest.mark.xdist_group("real-engine")]


def test_default_platform_full_cycle(tmp_path: Path) -> None:
    spec = tmp_path / "default.yaml"
    spec.write_text(default_spec_text())
    report = Cycle([spec], tmp_path / "work").run()
    assert report.helm_releases == _expected_releases([spec])
    assert report.created > 60
    assert report.workloads >= 10
    assert report.custom_resources >= 8
    assert {"argocdUrl", "mlflowUrl", "grafanaUrl", "pushgatewayUrl"} <= set(report.endpoints)
    assert report.second_preview_changes == 0
    assert report.refresh_changes == 0
    assert report.destroy_left == 0


def test_gpu_platform_with_projects_and_one_added(tmp_path: Path) -> None:
    report = Cycle([EXAMPLE], tmp_path / "work", extra_project=EXTRA_PROJECT).run()
    assert report.helm_releases == _expected_releases([EXAMPLE]) == 9
    assert report.second_preview_changes == 0
    assert report.refresh_changes == 0
    # the added project: its namespaces, quotas, policies, queue, CI identity and Argo CD objects, plus the
    # shared objects that list every project (registry accounts, network policies, monitors), now naming it
    assert report.added_project_changes.get("create", 0) > 20
    assert set(report.added_project_changes) <= {"create", "update"}
    assert report.added_project_changes.get("update", 0) == len(report.shared_updates) <= 6
    assert report.gpu_daemons == {"nvidia-device-plugin": 1, "dcgm-exporter": 1}
    assert report.destroy_left == 0
