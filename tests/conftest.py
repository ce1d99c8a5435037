"""Shared fixtures: paths of the repo, example specs, and an in-process CLI runner."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

# the real servers (PostgreSQL, S3, MLflow) and the scratch folder that the real-project tests share
from servers import mlflow_server, postgres, s3, workdir  # noqa: F401

from mlops_scaffold.cli.main import main

REPO = Path(__file__).resolve().parent.parent
EXAMPLES = REPO / "docs" / "examples"


@dataclass
class CliResult:
    code: int
    out: str
    err: str


CliRunner = Callable[..., CliResult]


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str]) -> CliRunner:
    """Run `mlops-scaffold ARGS...` in-process through the real entry point."""

    def run(*args: str | os.PathLike[str]) -> CliResult:
        capsys.readouterr()
        code = main([str(a) for a in args])
        captured = capsys.readouterr()
        return CliResult(code, captured.out, captured.err)

    return run


def crds_dir() -> Path:
    """The upstream CRDs folder: $MLOPS_SCAFFOLD_CRDS, else ../shared/crds; a missing one fails under CI."""
    path = Path(os.environ.get("MLOPS_SCAFFOLD_CRDS", REPO.parent / "shared" / "crds"))
    if not path.is_dir():
        how = f"get it with `scripts/fetch-crds {path}` (downloads the pinned upstream CRDs) or set MLOPS_SCAFFOLD_CRDS"
        if os.environ.get("CI") == "true":
            pytest.fail(f"CRD folder {path} is missing; {how}")
        pytest.skip(f"CRD folder {path} is missing; {how}")
    return path


def require_tool(name: str) -> str:
    """Path of a tool the suite installs (scripts/install-tools); missing is a failure under CI."""
    import shutil

    candidates = [REPO / ".tools" / "bin" / name, Path(sys.executable).parent / name]
    found = next((str(c) for c in candidates if c.is_file()), None) or shutil.which(name)
    if found is None:
        if os.environ.get("CI") == "true":
            pytest.fail(f"{name} is missing; scripts/install-tools installs it")
        pytest.skip(f"{name} is missing; run scripts/install-tools")
    return found
