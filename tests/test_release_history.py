"""Every release in CHANGELOG.md updates cleanly to the template of this checkout, the way users
update: projects rendered at the release by plain copier, then `copier update` to the new tag.

Untouched projects: no conflict, and the same bytes as a fresh render of the new version.
Edited projects: every edit kept, no conflict. A line both sides changed: reported, and only it."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import copier
import pytest
from conftest import REPO, CliRunner
from fleet_repos import GIT_ENV, OLD, RELEASE, build_real_template, git, head_tag, releases

from mlops_scaffold.bundle import copier_settings
from mlops_scaffold.fleet.repo import conflicts

COMBOS: dict[str, dict[str, object]] = {
    "defaults": {},
    "pytorch-batch-gitlab": {"framework": "pytorch", "serving_mode": "batch", "ci_provider": "gitlab"},
    "xgboost-gpu-none-aws": {
        "framework": "xgboost",
        "serving_mode": "none",
        "training_gpus": 1,
        "target": "aws",
        "project_name": "vision-gpu",
    },
}
RELEASES = [version for version, _ in releases()]
OLDER = [version for version in RELEASES if version != head_tag().removeprefix("v")]
"""Releases to update from: all but the current version, when it is released already."""


def test_the_changelog_records_releases_with_their_commits() -> None:
    text = (REPO / "CHANGELOG.md").read_text()
    headings = re.findall(r"(?m)^## \[([^\]]+)\].*$", text)
    assert headings[0] == "Unreleased" or headings[0] == RELEASES[-1]
    assert [h for h in headings if h != "Unreleased"] == list(reversed(RELEASES)), "every release needs a Commit line"
    assert len(RELEASE.findall(text)) == len(RELEASES) >= 2
    for version, commit in releases():
        # the commit exists, and its template states that version (0.1.0 predates copier.yml's)
        states = copier_settings(git(REPO, "show", f"{commit}:copier.yml")).get("scaffold_version")
        init = git(REPO, "show", f"{commit}:src/mlops_scaffold/__init__.py")
        stated = states["default"] if states else re.search(r'__version__ = "([^"]+)"', init)[1]  # type: ignore[index]
        assert stated == version


def test_the_version_is_new_or_the_last_release() -> None:
    from packaging.version import Version

    from mlops_scaffold import __version__

    assert Version(__version__) >= Version(RELEASES[-1])


@pytest.fixture(scope="module")
def origin(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_real_template(tmp_path_factory.mktemp("history"))


def _questions(origin: Path, tag: str) -> set[str]:
    config = copier_settings(git(origin, "show", f"{tag}:copier.yml"))
    return {k for k in config if not k.startswith("_")}


def _render(origin: Path, tag: str, combo: str, dst: Path) -> Path:
    data = {k: v for k, v in COMBOS[combo].items() if k in _questions(origin, tag)}
    copier.run_copy(str(origin), dst, data=data, vcs_ref=tag, defaults=True, quiet=True, unsafe=True)
    return dst


def _generated(origin: Path, tag: str, combo: str, dst: Path) -> Path:
    _render(origin, tag, combo, dst)
    git(dst, "init", "-q", "-b", "main")
    git(dst, "add", "-A")
    git(dst, "commit", "-q", "-m", f"generated at {tag}")
    return dst


def _update(repo: Path) -> subprocess.CompletedProcess[str]:
    copier_cli = str(Path(sys.executable).parent / "copier")
    args = [copier_cli, "update", "--trust", "--defaults", "--skip-answered", "--vcs-ref", head_tag()]
    return subprocess.run(args, cwd=repo, capture_output=True, text=True, check=False, env={**os.environ, **GIT_ENV})


def _files(root: Path) -> dict[str, bytes]:
    return {
        p.relative_to(root).as_posix(): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file() and ".git" not in p.parts
    }


@pytest.mark.parametrize("combo", COMBOS)
@pytest.mark.parametrize("release", OLDER)
def test_an_untouched_project_updates_to_a_fresh_render(origin: Path, tmp_path: Path, release: str, combo: str) -> None:
    repo = _generated(origin, f"v{release}", combo, tmp_path / "project")
    done = _update(repo)
    assert done.returncode == 0, done.stderr
    assert conflicts(repo) == []
    fresh = _render(origin, head_tag(), combo, tmp_path / "fresh")
    got, want = _files(repo), _files(fresh)
    assert sorted(got) == sorted(want)
    assert [name for name in want if got[name] != want[name]] == []


def _edit(repo: Path) -> dict[str, str]:
    """Edits a team makes, on files the template and the team share: path to a line that must survive."""
    package = next(p.name for p in (repo / "src").iterdir() if p.is_dir())
    edits = {
        "README.md": "Our team's on-call notes.",
        f"src/{package}/data.py": "# team: the warehouse extract runs at 02:00",
        "notes/decisions.md": "We chose the batch endpoint.",
    }
    for name, line in edits.items():
        path = repo / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text((path.read_text() if path.exists() else "") + line + "\n")
    if (repo / OLD).exists():  # the file a release renamed, edited before the rename
        (repo / OLD).write_text((repo / OLD).read_text() + "# team: also scan docs/\n")
        edits["ci/check_conflicts.py"] = "# team: also scan docs/"
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "team edits")
    return edits


@pytest.mark.parametrize("release", OLDER)
def test_an_edited_project_keeps_every_edit(origin: Path, tmp_path: Path, release: str) -> None:
    repo = _generated(origin, f"v{release}", "defaults", tmp_path / "project")
    edits = _edit(repo)
    done = _update(repo)
    assert done.returncode == 0, done.stderr
    assert conflicts(repo) == []
    for name, line in edits.items():
        assert line in (repo / name).read_text().splitlines(), f"{name} lost the team's edit"


@pytest.mark.parametrize("release", OLDER)
def test_only_a_line_both_sides_changed_conflicts(origin: Path, tmp_path: Path, release: str) -> None:
    old = _render(origin, f"v{release}", "defaults", tmp_path / "old")
    new = _render(origin, head_tag(), "defaults", tmp_path / "new")
    shared = sorted(
        name
        for name, data in _files(old).items()
        if name != ".copier-answers.yml" and (new / name).is_file() and (new / name).read_bytes() != data
    )
    assert shared, f"nothing changed between v{release} and {head_tag()}"

    def first_changed_line(name: str) -> int | None:
        before, after = (old / name).read_text().splitlines(), (new / name).read_text().splitlines()
        return next((i for i, line in enumerate(before) if i >= len(after) or after[i] != line), None)

    # the first line the template changed (not only appended after) in a file both versions have;
    # the team changes it too
    name, index = next((n, i) for n in shared if (i := first_changed_line(n)) is not None)
    repo = shutil.copytree(old, tmp_path / "project")
    git(repo, "init", "-q", "-b", "main")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "generated")
    lines = (repo / name).read_text().splitlines(keepends=True)
    lines[index] = "# changed by the team on both sides\n"
    (repo / name).write_text("".join(lines))
    git(repo, "commit", "-q", "-am", "team edit on a line the template changes")
    done = _update(repo)
    assert done.returncode == 0, done.stderr
    assert conflicts(repo) == [name]
    assert "# changed by the team on both sides" in (repo / name).read_text()


def test_fleet_update_keeps_a_platform_repository_current(origin: Path, tmp_path: Path, cli: CliRunner) -> None:
    # a platform repository from this release's template, with the team's own settings
    repo = tmp_path / "platform"
    assert cli("platform", "init", "--template", origin, "--vcs-ref", head_tag(), repo).code == 0
    git(repo, "init", "-q", "-b", "main")
    (repo / "Pulumi.dev.yaml").write_text((repo / "Pulumi.dev.yaml").read_text() + "  kubernetes:context: kind-mlops\n")
    (repo / "Pulumi.dev.yaml").write_text((repo / "Pulumi.dev.yaml").read_text().replace("config: {}\n", "config:\n"))
    spec = repo / "specs" / "platform.yaml"
    spec.write_text(spec.read_text().replace("name: demo", "name: acme"))
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "platform repository")
    # a later release of the template moves the Pulumi SDK pin
    pins = origin / "templates" / "_partials" / "pulumi-pins.txt"
    pins.write_text(re.sub(r"(?m)^pulumi==.*$", "pulumi==3.999.0", pins.read_text()))
    git(origin, "commit", "-q", "-am", "a newer Pulumi")
    git(origin, "tag", "v99.0.0")
    try:
        result = cli("fleet", "update", "--to", "v99.0.0", "--format", "json", repo)
    finally:
        git(origin, "tag", "-d", "v99.0.0")
        git(origin, "reset", "-q", "--hard", "HEAD~1")
    assert result.code == 0, result.out
    assert git(repo, "symbolic-ref", "--short", "HEAD").strip() == "template-update/v99.0.0"
    assert "pulumi==3.999.0" in (repo / "requirements.txt").read_text().splitlines()
    assert (
        "curl -fsSL https://get.pulumi.com | sh -s -- --version 3.999.0"
        in (repo / ".github" / "workflows" / "platform-up.yml").read_text()
    )
    assert "kubernetes:context: kind-mlops" in (repo / "Pulumi.dev.yaml").read_text()
    assert "name: acme" in spec.read_text()
    assert conflicts(repo) == []
