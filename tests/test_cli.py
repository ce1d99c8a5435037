"""The CLI: exit codes, one line per problem, no tracebacks, and atomic writes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import EXAMPLES, CliRunner

from mlops_scaffold import __version__
from mlops_scaffold.spec.starters import SCHEMA_FILE


def test_version(cli: CliRunner) -> None:
    result = cli("--version")
    assert (result.code, result.out.strip()) == (0, f"mlops-scaffold {__version__}")


def test_validate_valid_files(cli: CliRunner) -> None:
    result = cli("validate", EXAMPLES / "mlops.yaml", EXAMPLES / "project-full.yaml")
    assert result.code == 0
    assert "platform 'demo'" in result.out
    assert "churn, vision, churn-model" in result.out


def test_validate_invalid_prints_one_line_per_error(cli: CliRunner, tmp_path: Path) -> None:
    spec = tmp_path / "bad.yaml"
    spec.write_text("name: Bad\ntarget: mars\nextra: 1\n")
    result = cli("validate", spec)
    assert result.code == 1
    lines = result.out.strip().splitlines()
    assert len(lines) == 3
    assert [line.split(":")[1] for line in lines] == ["1", "2", "3"]
    assert all(line.startswith(f"{spec}:") for line in lines)
    assert "Traceback" not in result.out + result.err


def test_validate_json(cli: CliRunner, tmp_path: Path) -> None:
    spec = tmp_path / "bad.yaml"
    spec.write_text("name: ok\nci: {provider: jenkins}\n")
    result = cli("validate", "--format", "json", spec)
    assert result.code == 1
    report = json.loads(result.out)
    assert report["valid"] is False
    assert report["errors"][0] | {"message": ""} == {
        "file": str(spec),
        "line": 2,
        "column": 6,
        "path": "ci.provider",
        "message": "",
    }
    ok = cli("validate", "--format", "json", EXAMPLES / "platform-minimal.yaml")
    assert (ok.code, json.loads(ok.out)["valid"]) == (0, True)


@pytest.mark.parametrize(
    "args",
    [
        ["validate"],
        ["validate", "missing.yaml"],
        ["validate", "--format", "xml", "x.yaml"],
        ["nope"],
        ["init", "--kind", "x"],
    ],
)
def test_misuse_exits_2_with_one_line(
    cli: CliRunner, args: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    result = cli(*args)
    assert result.code == 2
    assert len(result.err.strip().splitlines()) == 1
    assert result.err.startswith("mlops-scaffold: error: ")


def test_init_writes_valid_starters_with_schema(cli: CliRunner, tmp_path: Path) -> None:
    platform = tmp_path / "ml-platform" / "mlops.yaml"
    assert cli("init", platform).code == 0
    text = platform.read_text()
    assert text.startswith(f"# yaml-language-server: $schema=./{SCHEMA_FILE}\n")
    assert "name: ml-platform\n" in text
    schema = json.loads((platform.parent / SCHEMA_FILE).read_text())
    assert schema["$defs"]["Platform"]["properties"]["name"]
    project = tmp_path / "proj.yaml"
    assert cli("init", "--kind", "project", "--name", "churn", project).code == 0
    assert cli("validate", platform, project).code == 0
    assert oct(project.stat().st_mode & 0o777) == oct(0o666 & ~_umask())


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def test_init_never_overwrites_without_force(cli: CliRunner, tmp_path: Path) -> None:
    spec = tmp_path / "mlops.yaml"
    spec.write_text("name: mine\n# my edits\n")
    result = cli("init", spec)
    assert result.code == 2
    assert "already exists" in result.err
    assert spec.read_text() == "name: mine\n# my edits\n"
    assert cli("init", "--force", spec).code == 0
    assert "# my edits" not in spec.read_text()


def test_init_rejects_a_bad_name_and_writes_nothing(cli: CliRunner, tmp_path: Path) -> None:
    spec = tmp_path / "mlops.yaml"
    result = cli("init", "--name", "Not A Label", spec)
    assert result.code == 1
    assert "name: 'Not A Label' is not a DNS-1123 label" in result.err
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("kind", ["platform", "project"])
def test_schema_per_kind(cli: CliRunner, kind: str) -> None:
    result = cli("schema", "--kind", kind)
    assert result.code == 0
    assert json.loads(result.out)["title"] == kind.capitalize()


def test_schema_output_file(cli: CliRunner, tmp_path: Path) -> None:
    target = tmp_path / "s.json"
    assert cli("schema", "-o", target).code == 0
    assert json.loads(target.read_text())["$defs"]["Project"]


def test_real_process_has_no_traceback(tmp_path: Path) -> None:
    spec = tmp_path / "bad.yaml"
    spec.write_text("name: [unclosed\n")
    proc = subprocess.run(
        [sys.executable, "-m", "mlops_scaffold", "validate", str(spec)], capture_output=True, text=True, check=False
    )
    assert proc.returncode == 1
    assert "Traceback" not in proc.stderr
    assert proc.stdout.startswith(f"{spec}:2:1: (root): YAML syntax error")
