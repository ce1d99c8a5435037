"""The copier template: promtool unit tests, hostile answers, determinism, and `new` against plain copier."""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import tomllib
from pathlib import Path
from typing import Any

import copier
import pytest
from conftest import REPO, CliRunner, require_tool
from fleet_repos import git
from project_renders import MATRIX, SERVING, answers_for, rendered
from ruamel.yaml import YAML

from mlops_scaffold.errors import RenderError
from mlops_scaffold.render import render_project
from mlops_scaffold.spec import Project, parse_text

# The render matrix and the field's tools over it: tests/test_template_matrix.py.


@pytest.mark.parametrize("serving", SERVING)
def test_rules_pass_promtool_check_and_unit_tests(serving: str) -> None:
    root = rendered(("sklearn", "github", serving, "kubernetes"))
    promtool = require_tool("promtool")
    check = subprocess.run(
        [promtool, "check", "rules", str(root / "monitoring" / "rules.yaml")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert check.returncode == 0, check.stdout + check.stderr
    tested = subprocess.run(
        [promtool, "test", "rules", "rules_test.yaml"],
        cwd=root / "monitoring",
        capture_output=True,
        text=True,
        check=False,
    )
    assert tested.returncode == 0, tested.stdout + tested.stderr
    rules = YAML(typ="safe").load((root / "monitoring" / "rules.yaml").read_text())["groups"][0]["rules"]
    tests_text = (root / "monitoring" / "rules_test.yaml").read_text()
    for rule in rules:
        assert tests_text.count(f"alertname: {rule['alert']}") >= 2, f"{rule['alert']} needs a firing and a quiet case"


def _tree_digest(root: Path) -> str:
    digest = hashlib.sha256()
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        digest.update(str(path.relative_to(root)).encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


def test_two_renders_are_byte_identical(tmp_path: Path) -> None:
    answers = answers_for(MATRIX[5])
    first = render_project(tmp_path / "a" / "p", answers)
    second = render_project(tmp_path / "b" / "p", answers)
    assert _tree_digest(first) == _tree_digest(second)


HOSTILE: list[tuple[str, Any]] = [
    ("description", 'say "hi"'),
    ("description", "${{ github.event.issue.title }}"),
    ("description", "{{ 7 * 7 }}"),
    ("description", "line one\nline two"),
    ("description", "$(rm -rf /)"),
    ("description", "x" * 201),
    ("project_name", "Bad_Name"),
    ("project_name", "a" * 41),
    ("project_name", "x\n- y"),
    ("owners", "alice; rm -rf /"),
    ("owners", "${{ secrets.TOKEN }}"),
    ("training_schedule", "* * * * *\n  - evil: true"),
    ("platform_stack", "org/proj/stack; curl evil"),
    ("registry", "evil.example/$(id)"),
    ("ci_organization", "org\ninjected: true"),
]


@pytest.mark.parametrize(("question", "value"), HOSTILE, ids=[f"{q}-{i}" for i, (q, _) in enumerate(HOSTILE)])
def test_hostile_answers_are_rejected(tmp_path: Path, question: str, value: Any) -> None:
    with pytest.raises(RenderError, match=f"question '{question}'"):
        render_project(tmp_path / "p", {question: value})
    assert not (tmp_path / "p").exists()


def test_unicode_and_punctuation_render_inert(tmp_path: Path) -> None:
    description = "Prévision de l'attrition, v2 — ünïcödé ✓ (beta) & more: 100%"
    root = render_project(
        tmp_path / "p", {"description": description, "owners": "alice, acme/ml-team, bob@acme.example"}
    )
    assert tomllib.loads((root / "pyproject.toml").read_text())["project"]["description"] == description
    (doc,) = parse_text((root / "mlops.yaml").read_text(), "mlops.yaml")
    assert isinstance(doc.model, Project)
    assert doc.model.description == description
    assert doc.model.owners == ["alice", "acme/ml-team", "bob@acme.example"]


def test_new_refuses_a_non_empty_destination_and_force_keeps_other_files(cli: CliRunner, tmp_path: Path) -> None:
    dst = tmp_path / "proj"
    dst.mkdir()
    (dst / "NOTES.md").write_text("mine")
    result = cli("new", "--defaults", dst)
    assert result.code == 2
    assert "not empty" in result.err
    assert sorted(p.name for p in dst.iterdir()) == ["NOTES.md"]
    assert cli("new", "--defaults", "--force", dst).code == 0
    assert (dst / "NOTES.md").read_text() == "mine"
    assert (dst / "Makefile").is_file()


def test_new_from_spec_uses_the_project_and_platform(cli: CliRunner, tmp_path: Path) -> None:
    spec = tmp_path / "mlops.yaml"
    spec.write_text(
        "name: plat\nci: {provider: gitlab, organization: acme}\nmonitoring: {drift: {schedule: '*/30 * * * *'}}\n"
        "---\nkind: Project\nname: churn\nframework: lightgbm\nserving: {mode: batch}\n"
    )
    assert cli("new", "--spec", spec, tmp_path / "churn").code == 0
    answers = YAML(typ="safe").load((tmp_path / "churn" / ".copier-answers.yml").read_text())
    assert (answers["project_name"], answers["framework"], answers["ci_provider"], answers["serving_mode"]) == (
        "churn",
        "lightgbm",
        "gitlab",
        "batch",
    )
    assert answers["_src_path"] == "https://github.com/mlops-scaffold/mlops-scaffold.git"
    assert answers["_commit"].startswith("v")
    cronjob = YAML(typ="safe").load((tmp_path / "churn" / "deploy" / "base" / "drift-cronjob.yaml").read_text())
    assert cronjob["spec"]["schedule"] == "*/30 * * * *"  # the platform's monitoring.drift.schedule


# copier leaves an os.scandir iterator open when a render fails midway (copier/_tools.py); not ours
@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
def test_a_failed_render_leaves_nothing_behind(tmp_path: Path) -> None:
    broken = tmp_path / "template"
    shutil.copytree(REPO / "templates", broken / "templates")
    (broken / "copier.yml").write_text((REPO / "copier.yml").read_text())
    (broken / "templates" / "broken.txt.jinja").write_text("{{ undefined_function() }}\n")
    with pytest.raises(RenderError):
        render_project(tmp_path / "out" / "p", {}, template=str(broken))
    assert list((tmp_path / "out").iterdir()) == []


def test_copier_copy_from_a_tagged_clone_equals_mlops_scaffold_new(cli: CliRunner, tmp_path: Path) -> None:
    origin = tmp_path / "origin"
    origin.mkdir()
    shutil.copy2(REPO / "copier.yml", origin / "copier.yml")
    shutil.copytree(REPO / "templates", origin / "templates")
    git(origin, "init", "-q", "-b", "main")
    git(origin, "add", "-A")
    git(origin, "commit", "-q", "-m", "template")
    git(origin, "tag", "v0.1.0")
    clone = tmp_path / "clone"
    git(tmp_path, "clone", "-q", str(origin), str(clone))
    spec = tmp_path / "p.yaml"
    spec.write_text("kind: Project\nname: churn\nframework: xgboost\nowners: [alice]\n")
    assert cli("new", "--spec", spec, "--template", clone, "--vcs-ref", "v0.1.0", tmp_path / "via-new").code == 0
    from mlops_scaffold.render import answers_from_spec

    (doc,) = parse_text(spec.read_text(), "p.yaml")
    assert isinstance(doc.model, Project)
    copier.run_copy(
        str(clone),
        tmp_path / "via-copier",
        data=answers_from_spec(doc.model).data(),
        defaults=True,
        vcs_ref="v0.1.0",
        quiet=True,
    )
    assert _tree_digest(tmp_path / "via-new") == _tree_digest(tmp_path / "via-copier")
    assert "_commit: v0.1.0" in (tmp_path / "via-new" / ".copier-answers.yml").read_text()


def test_pytorch_without_gpus_installs_torch_from_the_cpu_index_everywhere(tmp_path: Path) -> None:
    """pip (Makefile, Dockerfile, GitLab's test job) and uv read PyTorch's CPU index, the one fact in
    mlops_scaffold.facts; with GPUs, or with another framework, nothing names it."""
    from mlops_scaffold.facts import FACTS

    index = FACTS.indexes["pytorch_cpu"]
    places = ("Makefile", "Dockerfile", ".gitlab-ci.yml")
    cpu = render_project(tmp_path / "cpu", {"project_name": "vision", "framework": "pytorch", "ci_provider": "gitlab"})
    for name in places:
        assert any(f"--extra-index-url {index} " in line for line in (cpu / name).read_text().splitlines()), name
    pyproject = tomllib.loads((cpu / "pyproject.toml").read_text())
    assert pyproject["tool"]["uv"]["sources"]["torch"] == [{"index": "pytorch-cpu"}]
    assert pyproject["tool"]["uv"]["index"] == [{"name": "pytorch-cpu", "url": index, "explicit": True}]
    assert "torch==2" in " ".join(pyproject["project"]["dependencies"])  # a public pin: it matches 2.x+cpu
    for framework, gpus in (("pytorch", 1), ("xgboost", 0)):
        answers = {"project_name": "other", "ci_provider": "gitlab", "framework": framework, "training_gpus": gpus}
        other = render_project(tmp_path / framework, answers)
        for name in (*places, "pyproject.toml"):
            assert index not in (other / name).read_text(), (answers, name)


@pytest.mark.parametrize("serving_mode", ["online", "batch"])
def test_the_generated_package_has_no_import_cycle(tmp_path: Path, serving_mode: str) -> None:
    """Every intra-package import, function-local ones included, forms an acyclic graph."""
    import ast
    import graphlib

    out = render_project(tmp_path / "demo", {"project_name": "demo", "serving_mode": serving_mode})
    package = out / "src" / "demo"
    graph: dict[str, set[str]] = {}
    for path in package.glob("*.py"):
        module = path.stem
        edges = graph.setdefault(module, set())
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.level == 1:
                edges.add(node.module or "__init__")
    assert len(graph) >= 15
    assert "tracking" in graph["lineage"]
    assert "register" not in graph["lineage"]
    try:
        list(graphlib.TopologicalSorter(graph).static_order())
    except graphlib.CycleError as exc:
        raise AssertionError(f"import cycle in the generated package: {' -> '.join(exc.args[1])}") from None
