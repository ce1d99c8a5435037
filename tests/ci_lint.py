"""The field's linters for CI files, shared by the tests: actionlint (with shellcheck),
check-jsonschema and zizmor for GitHub workflows, GitLab's schema, and our structure rules.
Each takes many files at once, so a large matrix costs one run of each tool."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path
from typing import Any

from conftest import require_tool
from ruamel.yaml import YAML

SHA_PIN = re.compile(r"^[^@\s]+@[0-9a-f]{40}$")


def load_yaml(path: Path) -> dict[str, Any]:
    data = YAML(typ="safe").load(path.read_text())
    assert isinstance(data, dict)
    return data


def lint_github(workflows: list[Path]) -> None:
    """actionlint (with shellcheck), check-jsonschema and zizmor, each with zero findings that matter."""
    shellcheck = require_tool("shellcheck")
    lint = subprocess.run(
        [require_tool("actionlint"), f"-shellcheck={shellcheck}", *map(str, workflows)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert lint.returncode == 0, lint.stdout + lint.stderr
    schema = subprocess.run(
        [require_tool("check-jsonschema"), "--builtin-schema", "vendor.github-workflows", *map(str, workflows)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert schema.returncode == 0, schema.stdout + schema.stderr
    audit = subprocess.run(
        [require_tool("zizmor"), "--offline", "--format", "json", *map(str, workflows)],
        capture_output=True,
        text=True,
        check=False,
    )
    findings = json.loads(audit.stdout)
    serious = [f for f in findings if f["determinations"]["severity"].lower() in ("medium", "high")]
    assert serious == [], [(f["ident"], f["desc"]) for f in serious]


def lint_gitlab(path: Path, *more: Path) -> dict[str, Any]:
    """check-jsonschema with GitLab's CI schema, on one or more files; returns the first, parsed."""
    schema = subprocess.run(
        [require_tool("check-jsonschema"), "--builtin-schema", "vendor.gitlab-ci", str(path), *map(str, more)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert schema.returncode == 0, schema.stdout + schema.stderr
    return load_yaml(path)


def check_github_structure(workflows: list[Path]) -> None:
    for path in workflows:
        workflow = load_yaml(path)
        triggers = workflow["on"]  # ruamel reads YAML 1.2, where `on` stays a string
        assert "pull_request_target" not in triggers, path
        assert workflow["permissions"] == {}, f"{path}: no default permissions at the top"
        assert "concurrency" in workflow, path
        for name, job in workflow["jobs"].items():
            assert isinstance(job.get("timeout-minutes"), int), f"{path}:{name} needs timeout-minutes"
            assert isinstance(job.get("permissions"), dict), f"{path}:{name} needs explicit permissions"
            assert "write-all" not in json.dumps(job["permissions"])
            for step in job["steps"]:
                if "uses" in step:
                    assert SHA_PIN.match(step["uses"]), f"{path}:{name}: {step['uses']} is not SHA-pinned"
                    if step["uses"].startswith("actions/checkout@"):
                        assert step["with"]["persist-credentials"] is False
                if "run" in step:
                    assert "${{" not in step["run"], f"{path}:{name}: expressions belong in env, not run"
        text = path.read_text()
        for line in text.splitlines():
            if "uses:" in line:
                assert re.search(r"@[0-9a-f]{40} # v\d", line), f"{path}: {line.strip()} lacks a version comment"
