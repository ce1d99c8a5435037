"""stacks/platform: the thin Pulumi program, run under mocks exactly as `pulumi up` would run it."""

from __future__ import annotations

import os
import runpy
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pulumi
import pytest
from conftest import REPO
from ruamel.yaml import YAML

from mlops_scaffold.testing import run_program

STACK = REPO / "stacks" / "platform"


@contextmanager
def inside(path: Path) -> Iterator[None]:
    before = Path.cwd()
    os.chdir(path)
    try:
        yield
    finally:
        os.chdir(before)


CHANNEL_SECRETS = {"dev": {}, "prod": {"alert-ml-alerts": "https://hooks.slack.com/services/T0/B0/x"}}


def _stack_config(stack: str) -> dict[str, str]:
    config = YAML(typ="safe").load((STACK / f"Pulumi.{stack}.yaml").read_text())["config"]
    return {str(k): str(v) for k, v in config.items()}


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_example_stacks_build_the_platform(stack: str) -> None:
    with inside(STACK):
        run = run_program(
            lambda: runpy.run_path("__main__.py"),
            project="platform",
            stack=stack,
            config=_stack_config(stack),
            secret_config=CHANNEL_SECRETS[stack],
        )
    provider = run.of_type("pulumi:providers:kubernetes")[0]
    assert provider.inputs["context"] == _stack_config(stack)["kubernetes:context"]
    assert set(run.outputs) >= {"registryUrl", "mlflowUrl", "argocdUrl", "queues", "projects"}
    if stack == "prod":
        assert run.outputs["queues"] == ["default", "gpu"]
        assert set(run.outputs["projects"]) == {"churn", "vision"}


def test_a_missing_alert_channel_credential_stops_the_program() -> None:
    with inside(STACK), pytest.raises(pulumi.ConfigMissingError, match="platform:alert-ml-alerts"):
        run_program(
            lambda: runpy.run_path("__main__.py"), project="platform", stack="prod", config=_stack_config("prod")
        )


def test_a_bad_spec_fails_the_program_with_located_lines(tmp_path: Path) -> None:
    spec = tmp_path / "bad.yaml"
    spec.write_text("name: Bad\n")
    with inside(STACK), pytest.raises(pulumi.RunError, match=r"bad.yaml:1:1: name: 'Bad' is not a DNS-1123 label"):
        run_program(lambda: runpy.run_path("__main__.py"), project="platform", stack="dev", config={"spec": str(spec)})


def test_stack_project_is_a_python_pulumi_project() -> None:
    project = YAML(typ="safe").load((STACK / "Pulumi.yaml").read_text())
    assert project["name"] == "platform"
    assert project["runtime"]["name"] == "python"
    assert "platform:spec" in project["config"]
