"""The template's configuration matrix (tests/pairwise.py: every framework x serving mode x CI
provider x DVC x GPU, all-pairs coverage of every other question, and the edge values), each
configuration rendered and checked by the field's own tools: ruff, hadolint, actionlint with
shellcheck, check-jsonschema and zizmor, GitLab's schema, kustomize with the Kubernetes and CRD
schemas, and promtool. Each tool runs once over the whole matrix, so it fits in CI's budget.
A sample of these projects also runs its own tests (tests/test_project_real_run.py)."""

from __future__ import annotations

import itertools
import re
import subprocess
import sys
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from ci_lint import check_github_structure, lint_github, lint_gitlab
from conftest import require_tool
from k8s_schemas import is_core, validate_core, validate_custom
from pairwise import CORE, answers, matrix, pairs_missing
from project_renders import RENDERS
from ruamel.yaml import YAML

from mlops_scaffold.render import render_project
from mlops_scaffold.spec import SpecSet, parse_text

pytestmark = pytest.mark.xdist_group("template-matrix")  # one worker renders the matrix once
ROWS = matrix()


@cache
def renders() -> list[tuple[dict[str, Any], Path]]:
    out = []
    for index, row in enumerate(ROWS):
        given = answers(row)
        out.append((given, render_project(RENDERS / "matrix" / f"{index:03d}" / given["project_name"], given)))
    return out


def run(argv: list[str], **kwargs: Any) -> subprocess.CompletedProcess[str]:
    return subprocess.run(argv, capture_output=True, text=True, check=False, **kwargs)


def test_the_matrix_covers_every_pair_and_the_core_in_full() -> None:
    assert len(ROWS) >= 100
    assert pairs_missing(ROWS) == set()
    cores = {tuple(row[q] for q in CORE) for row in ROWS}
    for combo in itertools.product(*CORE.values()):
        gpus_possible = combo[0] in ("xgboost", "pytorch")
        assert (combo in cores) == (gpus_possible or combo[-1] == 0), combo


def test_every_configuration_renders_its_answers_and_no_leftover_jinja() -> None:
    for given, root in renders():
        for path in (p for p in root.rglob("*") if p.is_file()):
            text = re.sub(r"\$\{\{[^}]*\}\}|\{\{ \$labels\.[a-z_]+ \}\}", "", path.read_text())
            assert "{{" not in text, path
            assert "{%" not in text, path
        project = SpecSet(parse_text((root / "mlops.yaml").read_text(), "mlops.yaml")).projects[0]
        assert project.name == given["project_name"]
        assert project.training.gpus == given["training_gpus"]
        assert project.data.dvc == given["dvc"]
        assert (root / "dvc.yaml").is_file() == given["dvc"]
        overlays = sorted(p.name for p in (root / "deploy" / "overlays").iterdir())
        assert overlays == sorted(e["name"] for e in given["environments"])


def test_python_is_ruff_clean() -> None:
    roots = [str(root) for _, root in renders()]
    done = run([sys.executable, "-m", "ruff", "check", "--no-cache", *roots])
    assert done.returncode == 0, done.stdout[-4000:]


def test_dockerfiles_pass_hadolint() -> None:
    # each distinct Dockerfile once (11 of 120): the same bytes lint the same, and hadolint's runtime
    # slows badly when the other test worker keeps the cores busy (1 s alone, 37 s in the suite)
    distinct = {(root / "Dockerfile").read_bytes(): root / "Dockerfile" for _, root in renders()}
    assert len(distinct) >= 8  # framework x serving mode x GPU vary it
    done = run([require_tool("hadolint"), *map(str, distinct.values())])
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]


def test_github_workflows_pass_actionlint_schema_and_zizmor() -> None:
    workflows = [
        path
        for given, root in renders()
        if given["ci_provider"] == "github"
        for path in sorted((root / ".github" / "workflows").glob("*.yml"))
    ]
    assert len(workflows) >= 4 * 36  # half the core, four workflows each
    lint_github(workflows)
    check_github_structure(workflows)


def test_gitlab_pipelines_pass_the_gitlab_schema() -> None:
    files = [root / ".gitlab-ci.yml" for given, root in renders() if given["ci_provider"] == "gitlab"]
    assert len(files) >= 36  # half the core
    lint_gitlab(*files)


def test_every_overlay_builds_and_validates() -> None:
    kustomize = require_tool("kustomize")
    checked = 0
    for given, root in renders():
        for env in given["environments"]:
            built = run([kustomize, "build", str(root / "deploy" / "overlays" / env["name"])])
            assert built.returncode == 0, built.stderr
            for obj in (o for o in YAML(typ="safe").load_all(built.stdout) if o):
                namespace = f"{given['project_name']}-{env['name']}"
                assert obj["metadata"]["namespace"] == namespace
                assert len(namespace) <= 63
                if obj["kind"] == "Deployment":
                    # an autoscaled Deployment leaves its count to the HPA, so Argo CD's selfHeal
                    # (the platform's Applications) has nothing to set back after each scaling
                    autoscaled = given.get("serving_autoscaling", True)
                    assert ("replicas" in obj["spec"]) == (not autoscaled), (root, env["name"])
                if is_core(obj):
                    validate_core(obj, "1.33")
                else:
                    assert validate_custom(obj) == [], (root, obj["metadata"]["name"])
                checked += 1
    assert checked > 1000


def test_alert_rules_pass_promtool_checks_and_unit_tests() -> None:
    promtool = require_tool("promtool")
    monitoring = [root / "monitoring" for _, root in renders()]
    check = run([promtool, "check", "rules", *(str(m / "rules.yaml") for m in monitoring)])
    assert check.returncode == 0, check.stdout[-4000:] + check.stderr[-2000:]
    tested = run([promtool, "test", "rules", *(str(m / "rules_test.yaml") for m in monitoring)])
    assert tested.returncode == 0, tested.stdout[-4000:] + tested.stderr[-2000:]
