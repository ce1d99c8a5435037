"""A known secret never appears in plaintext: not in captured inputs, outputs, plan output or stack config."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest
from conftest import REPO, CliRunner
from platform_specs import fleet_spec

from mlops_scaffold.components import build_platform
from mlops_scaffold.plan import render_plan
from mlops_scaffold.spec import SpecSet, parse_text
from mlops_scaffold.testing import SECRET, run_program

KNOWN = {
    "mlflowAdminPassword": "Kn0wn-Admin-Secret-7f3a",
    "mlflowDbPassword": "Kn0wn-Db-Secret-19cc",
    "mlflowS3SecretKey": "Kn0wn-S3-Secret-5be2",
    "mlflowFlaskSecretKey": "Kn0wn-Flask-Secret-aa01",
    "grafanaAdminPassword": "Kn0wn-Grafana-Secret-d00d",
    "alert-pager": "https://hooks.example.com/Kn0wn-Webhook-Secret-4242",
}


@pytest.fixture(scope="module")
def run_with_known_secrets():  # type: ignore[no-untyped-def]
    text = fleet_spec(2).replace(
        "name: fleet\n", "name: fleet\nmonitoring:\n  channels: [{name: pager, type: webhook}]\n", 1
    )
    specs = SpecSet(parse_text(text, "fleet.yaml"))
    return run_program(lambda: build_platform(specs), project="platform", stack="dev", secret_config=KNOWN)


def test_known_secrets_never_appear_in_captured_inputs_or_outputs(run_with_known_secrets) -> None:  # type: ignore[no-untyped-def]
    blob = json.dumps([r.inputs for r in run_with_known_secrets.resources]) + json.dumps(run_with_known_secrets.outputs)
    for value in KNOWN.values():
        assert value not in blob
    # the generated registry passwords are secrets too
    assert "mock-password-registry" not in blob
    assert run_with_known_secrets.outputs["mlflowAdminPassword"] == SECRET


def test_secrets_still_reach_the_objects_that_need_them(run_with_known_secrets) -> None:  # type: ignore[no-untyped-def]
    secrets = {
        (m["metadata"]["namespace"], m["metadata"]["name"]): m
        for m in run_with_known_secrets.manifests()
        if m["kind"] == "Secret"
    }
    mlflow = secrets[("mlflow", "mlflow")]["stringData"]
    assert mlflow["basic_auth.ini"] == SECRET
    assert mlflow["backend-store-uri"] == SECRET
    assert secrets[("mlflow", "postgres")]["stringData"] == {"password": SECRET}
    assert secrets[("project-0", "registry-push")]["stringData"] == {".dockerconfigjson": SECRET}
    assert secrets[("monitoring", "alertmanager-mlops")]["stringData"] == {"alertmanager.yaml": SECRET}
    assert secrets[("monitoring", "grafana-admin")]["stringData"]["admin-password"] == SECRET


@pytest.mark.parametrize("fmt", ["text", "json", "mermaid"])
def test_plan_output_holds_no_secret(run_with_known_secrets, fmt: str) -> None:  # type: ignore[no-untyped-def]
    out = render_plan(run_with_known_secrets, fmt)  # type: ignore[arg-type]
    for value in KNOWN.values():
        assert value not in out


SECRET_WORDS = ("password", "secret", "token", "key", "webhook")


def plaintext_secrets(config: dict[str, object]) -> list[str]:
    """Keys of a stack config that name a secret but hold plain text (not `{secure: ...}`)."""
    return [
        key
        for key, value in config.items()
        if any(word in key.lower() for word in SECRET_WORDS)
        and not (isinstance(value, dict) and set(value) == {"secure"})
    ]


def _stack_config(path: Path) -> dict[str, object]:
    from ruamel.yaml import YAML

    return YAML(typ="safe").load(path.read_text()).get("config") or {}


def test_stack_config_files_hold_no_plaintext_secret(tmp_path: Path) -> None:
    """The checked-in stack files, and the same files after `pulumi config set` as the README says:
    a secret set with --secret is ciphertext; one set without is caught (the check can fail)."""
    from engine.harness import toolchain

    configs = sorted((REPO / "stacks").glob("*/Pulumi.*.yaml"))
    assert len(configs) >= 2
    for path in configs:
        assert plaintext_secrets(_stack_config(path)) == [], path
    repo = tmp_path / "platform"
    shutil.copytree(REPO / "stacks" / "platform", repo)
    env = {
        **os.environ,
        "PATH": f"{toolchain()}:{os.environ['PATH']}",
        "PULUMI_BACKEND_URL": (tmp_path / "state").as_uri(),
        "PULUMI_CONFIG_PASSPHRASE": "test",
        "PULUMI_SKIP_UPDATE_CHECK": "true",
        "PULUMI_HOME": str(tmp_path / "pulumi-home"),
    }
    (tmp_path / "state").mkdir()

    def pulumi(*args: str) -> None:
        done = subprocess.run(
            ["pulumi", *args, "--stack", "dev"], cwd=repo, env=env, capture_output=True, text=True, check=False
        )
        assert done.returncode == 0, done.stderr

    subprocess.run(["pulumi", "stack", "init", "dev"], cwd=repo, env=env, capture_output=True, check=True)
    pulumi("config", "set", "--secret", "mlflowAdminPassword", KNOWN["mlflowAdminPassword"])
    pulumi("config", "set", "--secret", "alert-pager", KNOWN["alert-pager"])
    stack = repo / "Pulumi.dev.yaml"
    assert plaintext_secrets(_stack_config(stack)) == []
    for known in KNOWN.values():
        assert known not in stack.read_text()
    pulumi("config", "set", "--plaintext", "mlflowDbPassword", KNOWN["mlflowDbPassword"])  # the mistake it catches
    assert plaintext_secrets(_stack_config(stack)) == ["platform:mlflowDbPassword"]


def test_plan_cli_prints_no_secret(cli: CliRunner) -> None:
    result = cli("plan", "--format", "json")
    assert result.code == 0
    assert "mock-password" not in result.out
    assert json.loads(result.out)["outputs"]["mlflowAdminPassword"] == SECRET
