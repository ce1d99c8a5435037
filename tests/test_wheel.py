"""The package as users get it: `python -m build` makes a wheel that carries everything the CLI
needs; a fresh virtualenv with that wheel alone (dependencies from the package index) runs `new`,
`plan` and `platform init` away from the source tree; and every requirements file those write
installs in a fresh virtualenv, this release resolved from the wheel, at exactly the pinned versions."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tarfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

import pytest
from conftest import REPO

from mlops_scaffold import __version__

pytestmark = pytest.mark.xdist_group("wheel")


@dataclass(frozen=True)
class Build:
    dist: Path
    wheel: Path
    sdist: Path


def _run(*args: str | Path, cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV", "PIP_CONSTRAINT")}
    done = subprocess.run(
        [str(a) for a in args], cwd=cwd, capture_output=True, text=True, check=False, env={**clean, **(env or {})}
    )
    assert done.returncode == 0, f"{' '.join(map(str, args))}\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    return done


@pytest.fixture(scope="module")
def build(tmp_path_factory: pytest.TempPathFactory) -> Build:
    dist = tmp_path_factory.mktemp("dist")
    # as a release builds it; without isolation, so the pinned hatchling of the test venv is used
    _run(sys.executable, "-m", "build", "--no-isolation", "--wheel", "--sdist", "--outdir", dist, REPO, cwd=REPO)
    return Build(dist, next(dist.glob("*.whl")), next(dist.glob("*.tar.gz")))


def _venv(path: Path) -> Path:
    _run(sys.executable, "-m", "venv", path, cwd=path.parent)
    return path / "bin"


def _pip(bin_dir: Path, *args: str | Path) -> None:
    _run(bin_dir / "python", "-m", "pip", "install", "-q", "--disable-pip-version-check", *args, cwd=bin_dir.parent)


def test_the_wheel_and_sdist_carry_the_template_and_one_version(build: Build) -> None:
    assert build.wheel.name == f"mlops_scaffold-{__version__}-py3-none-any.whl"
    with zipfile.ZipFile(build.wheel) as wheel:
        names = set(wheel.namelist())
        metadata = wheel.read(f"mlops_scaffold-{__version__}.dist-info/METADATA").decode()
    assert f"Version: {__version__}\n" in metadata
    template = "mlops_scaffold/_template/"
    shipped = {n[len(template) :] for n in names if n.startswith(template)}
    in_repo = {
        p.relative_to(REPO).as_posix()
        for p in [REPO / "copier.yml", *(REPO / "templates").rglob("*")]
        if p.is_file() and "__pycache__" not in p.parts
    }
    assert shipped == in_repo
    assert {"mlops_scaffold/program.py", "mlops_scaffold/py.typed", "mlops_scaffold/bundle.py"} <= names
    assert not [n for n in names if n.endswith(".pyc")]
    with tarfile.open(build.sdist) as sdist:
        members = {m.name.split("/", 1)[1] for m in sdist.getmembers() if "/" in m.name}
    assert {"copier.yml", "CHANGELOG.md", "pyproject.toml", "templates/_platform/Pulumi.yaml.jinja"} <= members


@dataclass(frozen=True)
class Installed:
    bin: Path
    work: Path


@pytest.fixture(scope="module")
def installed(build: Build, tmp_path_factory: pytest.TempPathFactory) -> Installed:
    """A fresh venv holding the wheel (dependencies from the index, at the tested versions)."""
    root = tmp_path_factory.mktemp("from-wheel")
    bin_dir = _venv(root / "venv")
    _pip(bin_dir, build.wheel, "-c", REPO / "constraints.txt")
    work = root / "work"
    work.mkdir()
    return Installed(bin_dir, work)


def test_the_wheel_runs_new_plan_and_platform_init_away_from_the_source(installed: Installed) -> None:
    cli, work = installed.bin / "mlops-scaffold", installed.work
    where = _run(installed.bin / "python", "-c", "import mlops_scaffold; print(mlops_scaffold.__file__)", cwd=work)
    assert Path(where.stdout.strip()).is_relative_to(installed.bin.parent), "imported from outside the venv"
    assert _run(cli, "--version", cwd=work).stdout.strip() == f"mlops-scaffold {__version__}"
    _run(cli, "new", "--defaults", "project", cwd=work)
    assert f"_commit: v{__version__}" in (work / "project" / ".copier-answers.yml").read_text()
    plan = json.loads(_run(cli, "plan", "--format", "json", cwd=work).stdout)
    assert plan["resources"]
    _run(cli, "platform", "init", "platform", cwd=work)
    assert (work / "platform" / "Pulumi.yaml").is_file()
    assert (work / "platform" / "Pulumi.prod.yaml").is_file()


def _pins(requirements: Path) -> dict[str, str]:
    pins = {}
    for line in requirements.read_text().splitlines():
        if line and not line.startswith("#"):
            name, _, version = line.partition("==")
            pins[name.split("[")[0]] = version
    return pins


def _installed_versions(bin_dir: Path, names: list[str]) -> dict[str, str]:
    code = "import json, sys; from importlib.metadata import version; print(json.dumps({n: version(n) for n in sys.argv[1:]}))"
    return json.loads(_run(bin_dir / "python", "-c", code, *names, cwd=bin_dir.parent).stdout)  # type: ignore[no-any-return]


@pytest.mark.parametrize("requirements", ["platform/requirements.txt", "project/infra/requirements.txt"])
def test_generated_requirements_install_at_their_pins(
    installed: Installed, build: Build, tmp_path: Path, requirements: str
) -> None:
    if not (installed.work / requirements).is_file():  # the other test renders them; run it first here
        test_the_wheel_runs_new_plan_and_platform_init_away_from_the_source(installed)
    file = installed.work / requirements
    bin_dir = _venv(tmp_path / "venv")
    # as a user would, except that this release is not on the index yet: it comes from the wheel
    _pip(bin_dir, "-r", file, "--find-links", build.dist)
    pins = _pins(file)
    assert pins["mlops-scaffold"] == __version__
    assert _installed_versions(bin_dir, sorted(pins)) == pins
    if requirements.startswith("platform/"):
        # the README's offline check, inside the new repository with its own venv
        _run(bin_dir / "mlops-scaffold", "validate", "specs/platform.yaml", cwd=file.parent)
        plan = _run(bin_dir / "mlops-scaffold", "plan", "specs/platform.yaml", cwd=file.parent)
        assert "ContainerRegistry registry" in plan.stdout
