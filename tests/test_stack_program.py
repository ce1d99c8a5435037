"""Platform repositories: `stacks/platform` is exactly what `platform init` writes for the built-in
default, and a platform repository's thin program runs under mocks exactly as `pulumi up` runs it."""

from __future__ import annotations

import os
import runpy
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pulumi
import pytest
from conftest import REPO, CliRunner
from ruamel.yaml import YAML

from mlops_scaffold.testing import run_program

STACK = REPO / "stacks" / "platform"
EXAMPLES = REPO / "docs" / "examples"


@contextmanager
def inside(path: Path) -> Iterator[None]:
    before = Path.cwd()
    os.chdir(path)
    try:
        yield
    finally:
        os.chdir(before)


def _files(root: Path) -> dict[str, bytes]:
    return {
        p.relative_to(root).as_posix(): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file() and "__pycache__" not in p.parts and "venv" not in p.parts
    }


def test_stacks_platform_is_what_platform_init_writes(cli: CliRunner, tmp_path: Path) -> None:
    assert cli("platform", "init", tmp_path / "platform").code == 0
    fresh, kept = _files(tmp_path / "platform"), _files(STACK)
    assert sorted(fresh) == sorted(kept), (
        "files differ; regenerate: rm -r stacks/platform && mlops-scaffold platform init stacks/platform"
    )
    for name, data in fresh.items():
        assert kept[name] == data, f"stacks/platform/{name} drifted from `platform init`; regenerate it"


def _config(repo: Path, stack: str) -> dict[str, str]:
    """Project defaults from Pulumi.yaml under the stack's own settings, as the engine merges them."""
    project = YAML(typ="safe").load((repo / "Pulumi.yaml").read_text())
    config = {str(k): str(v["default"]) for k, v in project["config"].items() if "default" in v}
    own = YAML(typ="safe").load((repo / f"Pulumi.{stack}.yaml").read_text()).get("config") or {}
    return {**config, **{str(k): str(v) for k, v in own.items()}}


def _run(repo: Path, stack: str) -> Any:
    with inside(repo):
        return run_program(
            lambda: runpy.run_path("__main__.py"), project="platform", stack=stack, config=_config(repo, stack)
        )


@pytest.mark.parametrize("stack", ["dev", "staging", "prod"])
def test_the_default_platform_repository_builds_every_environment(stack: str) -> None:
    run = _run(STACK, stack)
    assert set(run.outputs) >= {"registryUrl", "mlflowUrl", "argocdUrl", "queues", "projects"}


def _repo_of(cli: CliRunner, tmp_path: Path, example: str) -> Path:
    repo = tmp_path / "repo"
    assert cli("platform", "init", "--spec", EXAMPLES / example, repo).code == 0
    return repo


def test_a_platform_repository_from_a_spec_with_a_channel(cli: CliRunner, tmp_path: Path) -> None:
    repo = _repo_of(cli, tmp_path, "platform-prod.yaml")
    stack_file = (repo / "Pulumi.prod.yaml").read_text()
    assert "pulumi config set --secret alert-ml-alerts --stack prod" in stack_file
    secret = {"alert-ml-alerts": "https://hooks.slack.com/services/T0/B0/x"}
    with inside(repo):
        run = run_program(
            lambda: runpy.run_path("__main__.py"),
            project="platform",
            stack="prod",
            config={**_config(repo, "prod"), "kubernetes:context": "prod-admin"},
            secret_config=secret,
        )
    provider = run.of_type("pulumi:providers:kubernetes")[0]
    assert provider.inputs["context"] == "prod-admin"
    assert run.outputs["queues"] == ["default", "gpu"]
    assert set(run.outputs["projects"]) == {"churn", "vision"}
    # without the channel's credential, the program stops and names the key to set
    with inside(repo), pytest.raises(pulumi.ConfigMissingError, match="platform:alert-ml-alerts"):
        run_program(
            lambda: runpy.run_path("__main__.py"), project="platform", stack="prod", config=_config(repo, "prod")
        )


def test_a_bad_spec_fails_the_program_with_located_lines(tmp_path: Path) -> None:
    spec = tmp_path / "bad.yaml"
    spec.write_text("name: Bad\n")
    with inside(STACK), pytest.raises(pulumi.RunError, match=r"bad.yaml:1:1: name: 'Bad' is not a DNS-1123 label"):
        run_program(lambda: runpy.run_path("__main__.py"), project="platform", stack="dev", config={"spec": str(spec)})


def test_the_pulumi_project_is_the_platform_python_project() -> None:
    project = YAML(typ="safe").load((STACK / "Pulumi.yaml").read_text())
    assert project["name"] == "platform"
    assert project["runtime"]["name"] == "python"
    assert project["config"]["platform:spec"]["default"] == "specs/platform.yaml"


def test_platform_init_refuses_a_non_empty_folder_and_keeps_it(cli: CliRunner, tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    repo.mkdir()
    (repo / "Pulumi.dev.yaml").write_text("config:\n  kubernetes:context: mine\n")
    result = cli("platform", "init", repo)
    assert result.code == 2
    assert "--force" in result.err
    assert [p.name for p in repo.iterdir()] == ["Pulumi.dev.yaml"]
    assert (repo / "Pulumi.dev.yaml").read_text() == "config:\n  kubernetes:context: mine\n"


def test_platform_init_needs_a_platform_document(cli: CliRunner, tmp_path: Path) -> None:
    spec = tmp_path / "project.yaml"
    spec.write_text("kind: Project\nname: churn\n")
    result = cli("platform", "init", "--spec", spec, tmp_path / "repo")
    assert result.code == 2
    assert "hold no Platform document" in result.err
    assert not (tmp_path / "repo").exists()


@pytest.mark.parametrize("example", ["platform-gcp.yaml", "platform-kind.yaml"])
def test_platform_repositories_pin_the_target_provider(cli: CliRunner, tmp_path: Path, example: str) -> None:
    from mlops_scaffold import __version__
    from mlops_scaffold.bundle import pulumi_pins

    repo = _repo_of(cli, tmp_path, example)
    lines = [line for line in (repo / "requirements.txt").read_text().splitlines() if not line.startswith("#")]
    pins = pulumi_pins()
    target = "gcp" if "gcp" in example else None
    head = f"mlops-scaffold[{target}]=={__version__}" if target else f"mlops-scaffold=={__version__}"
    expected = [head] + [f"{n}=={pins[n]}" for n in ("pulumi", "pulumi-kubernetes", "pulumi-random")]
    if target:
        expected.append(f"pulumi-{target}=={pins[f'pulumi-{target}']}")
    assert lines == expected
