"""`mlops-scaffold platform preview|up|refresh|destroy`: misuse is one line and exit 2, before any engine runs."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from conftest import EXAMPLES, CliRunner


def test_destroy_needs_yes(cli: CliRunner) -> None:
    result = cli("platform", "destroy", "--stack", "dev", EXAMPLES / "mlops.yaml")
    assert result.code == 2
    assert result.err.strip().count("\n") == 0
    assert "--yes" in result.err
    assert "Traceback" not in result.err


def test_passphrase_is_required(cli: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for var in ("PULUMI_CONFIG_PASSPHRASE", "PULUMI_CONFIG_PASSPHRASE_FILE"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("PATH", f"{tmp_path}:{os.environ['PATH']}")
    (tmp_path / "pulumi").write_text("#!/bin/sh\nexit 1\n")
    (tmp_path / "pulumi").chmod(0o755)
    result = cli("platform", "preview", "--work-dir", tmp_path / "stack")
    assert result.code == 2
    assert "PULUMI_CONFIG_PASSPHRASE" in result.err
    assert not (tmp_path / "stack" / "Pulumi.yaml").exists()


def test_missing_cli_is_one_line(cli: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.setenv("PULUMI_CONFIG_PASSPHRASE", "x")
    result = cli("platform", "up", "--work-dir", tmp_path / "stack")
    assert result.code == 2
    assert "pulumi CLI is not on PATH" in result.err
    assert "Traceback" not in result.err


def test_another_pulumi_project_is_refused(cli: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PULUMI_CONFIG_PASSPHRASE", "x")
    monkeypatch.setenv("PATH", f"{tmp_path}:{os.environ['PATH']}")
    (tmp_path / "pulumi").write_text("#!/bin/sh\nexit 1\n")
    (tmp_path / "pulumi").chmod(0o755)
    (tmp_path / "Pulumi.yaml").write_text("name: something-else\nruntime: python\n")
    result = cli("platform", "preview", "--work-dir", tmp_path)
    assert result.code == 2
    assert "'something-else'" in result.err
    assert (tmp_path / "Pulumi.yaml").read_text() == "name: something-else\nruntime: python\n"


def test_secret_env_must_exist(cli: CliRunner, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NOT_SET_ANYWHERE", raising=False)
    result = cli("platform", "preview", "--secret-env", "alert-x=NOT_SET_ANYWHERE")
    assert result.code == 2
    assert "NOT_SET_ANYWHERE is not set" in result.err


def test_bad_config_pair(cli: CliRunner) -> None:
    result = cli("platform", "up", "--config", "novalue")
    assert result.code == 2
    assert "KEY=VALUE" in result.err


def test_engine_errors_are_the_engines_own_lines() -> None:
    from pulumi.automation._cmd import CommandResult
    from pulumi.automation.errors import CommandError

    from mlops_scaffold.automation import _engine_lines

    stdout = (
        "Previewing update (dev):\n + pulumi:pulumi:Stack platform-dev create\n\n"
        "Diagnostics:\n  kubernetes:helm.sh/v3:Release (zot):\n"
        "    error: chart \"zot\" version \"0.1.67\" not found in http://127.0.0.1:1 repository\n\n"
        "Resources:\n    + 3 to create\n"
    )
    lines = _engine_lines(CommandError(CommandResult(stdout, "error: preview failed\n", 255)))
    assert lines == ['chart "zot" version "0.1.67" not found in http://127.0.0.1:1 repository', "error: preview failed"]


def test_the_platform_readme_and_the_cli_share_one_state_backend() -> None:
    """A cloud engineer who follows the README and also runs `mlops-scaffold platform` sees one state."""
    from mlops_scaffold.automation import DEFAULT_BACKEND

    readme = (Path(__file__).resolve().parents[1] / "stacks/platform/README.md").read_text()
    logins = re.findall(r"`pulumi login ([^`\s]+)`", readme)
    assert logins[0] == DEFAULT_BACKEND
    assert "--local" not in readme
