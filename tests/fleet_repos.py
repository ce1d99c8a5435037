"""Real template and project repositories for the fleet tests and benchmark: this repository's
template with its real release history, a small template tagged v1 and v2 (with a migration that
renames a file), and projects generated from them by copier."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import copier
from servers import load_script

GIT_ENV = {
    "GIT_AUTHOR_NAME": "Test",
    "GIT_AUTHOR_EMAIL": "test@example.com",
    "GIT_COMMITTER_NAME": "Test",
    "GIT_COMMITTER_EMAIL": "test@example.com",
    "GIT_CONFIG_GLOBAL": os.devnull,
    "GIT_CONFIG_NOSYSTEM": "1",
}
README_V1 = "# {{ project_name }}\n\nline 1\nline 2\nline 3\nline 4\nline 5\nline 6\nline 7\nline 8\n"
README_V2 = README_V1.replace("line 7\n", "line 7 (template v2)\n") + "line 9 (added in v2)\n"
RENAME = (
    "import os, sys\n"
    "if os.path.exists('FAIL'): sys.exit('migration refused: FAIL exists')\n"
    "import subprocess\n"
    "if os.path.exists('old_name.txt'): subprocess.run(['git', 'mv', 'old_name.txt', 'new_name.txt'], check=True)\n"
)


def git(repo: Path, *args: str) -> str:
    done = subprocess.run(
        ["git", "-C", str(repo), *args], capture_output=True, text=True, check=True, env={**os.environ, **GIT_ENV}
    )
    return done.stdout


def write_tree(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)


def _commit_all(repo: Path, message: str) -> None:
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", message)


OLD, NEW = "ci/check_merge_leftovers.py", "ci/check_conflicts.py"
REPO = Path(__file__).resolve().parent.parent


RELEASE_TAGS = load_script("release_tags")
RELEASE = RELEASE_TAGS.RELEASE


def releases() -> list[tuple[str, str]]:
    """(version, commit) of every release CHANGELOG.md records, oldest first."""
    return RELEASE_TAGS.releases(REPO / "CHANGELOG.md")  # type: ignore[no-any-return]


def head_tag() -> str:
    from mlops_scaffold import __version__

    return f"v{__version__}"


def _full_history() -> None:
    """The release commits must be reachable; a shallow clone is deepened from its origin."""
    if git(REPO, "rev-parse", "--is-shallow-repository").strip() == "true":
        done = subprocess.run(["git", "-C", str(REPO), "fetch", "-q", "--unshallow"], capture_output=True, text=True)
        if done.returncode != 0:
            raise RuntimeError(f"this clone is shallow and its history could not be fetched: {done.stderr.strip()}")


def build_real_template(root: Path) -> Path:
    """This repository's template as users get it from git: a clone with a tag at each release
    CHANGELOG.md records, plus the template as it is in this checkout, tagged with its version
    (unless that version is already released, in which case it must not differ from the release)."""
    _full_history()
    origin = root / "origin"
    subprocess.run(["git", "clone", "-q", "--no-checkout", str(REPO), str(origin)], check=True, capture_output=True)
    RELEASE_TAGS.tag_releases(origin, REPO / "CHANGELOG.md")
    git(origin, "checkout", "-q", "-B", "main", "HEAD")
    (origin / "copier.yml").unlink()
    shutil.rmtree(origin / "templates", ignore_errors=True)
    shutil.copy2(REPO / "copier.yml", origin / "copier.yml")
    # symlinks stay symlinks, as git keeps them (templates share a module of the package that way)
    shutil.copytree(
        REPO / "templates", origin / "templates", symlinks=True, ignore=shutil.ignore_patterns("__pycache__", "*.pyc")
    )
    git(origin, "add", "-A", "copier.yml", "templates")
    git(origin, "commit", "-q", "--allow-empty", "-m", "the template of this checkout")
    tag = head_tag()
    if tag in git(origin, "tag", "--list").split():
        changed = git(origin, "diff", "--stat", tag, "HEAD", "--", "copier.yml", "templates").strip()
        if changed:
            raise RuntimeError(f"the template changed since the release {tag}; give it a new version in copier.yml")
    else:
        git(origin, "tag", tag)
    return origin


def build_template(root: Path) -> Path:
    """A copier template repository with tags v1 and v2."""
    template = root / "template"
    template.mkdir()
    git(template, "init", "-q", "-b", "main")
    config = '_min_copier_version: "9.4"\n_skip_if_exists: [notes.md]\nproject_name: {type: str, default: demo}\n'
    write_tree(
        template,
        {
            "copier.yml": config,
            "{{ _copier_conf.answers_file }}.jinja": "{{ _copier_answers | to_nice_yaml }}",
            "README.md.jinja": README_V1,
            "settings.toml.jinja": '[project]\nname = "{{ project_name }}"\nlevel = 1\n',
            "old_name.txt": "shipped in v1\n",
            "notes.md": "# Notes\n\nyours to edit\n",
        },
    )
    _commit_all(template, "v1")
    git(template, "tag", "v1")
    migration = (
        "_migrations:\n  - version: v2\n    when: \"{{ _stage == 'before' }}\"\n"
        f"    command: [{sys.executable!r}, -c, {RENAME!r}]\n"
    )
    (template / "copier.yml").write_text(config + migration)
    write_tree(
        template,
        {
            "README.md.jinja": README_V2,
            "settings.toml.jinja": '[project]\nname = "{{ project_name }}"\nlevel = 2\n',
        },
    )
    git(template, "mv", "old_name.txt", "new_name.txt")
    _commit_all(template, "v2: rename old_name.txt, bump level, edit the README")
    git(template, "tag", "v2")
    return template


def generate(template: Path, dst: Path, name: str, ref: str = "v1") -> Path:
    """A project generated from `template` at `ref`, committed in its own git repository."""
    copier.run_copy(
        str(template), dst, data={"project_name": name}, vcs_ref=ref, defaults=True, quiet=True, unsafe=True
    )
    git(dst, "init", "-q", "-b", "main")
    _commit_all(dst, "generated")
    return dst


def edit(repo: Path, name: str, old: str, new: str, commit: bool = True) -> None:
    path = repo / name
    path.write_text(path.read_text().replace(old, new))
    if commit:
        _commit_all(repo, f"edit {name}")


def fingerprint(repo: Path) -> dict[str, object]:
    """Everything that `restored exactly` means: branch, HEAD, branches, index and every file's bytes."""
    files = {
        str(p.relative_to(repo)): p.read_bytes()
        for p in sorted(repo.rglob("*"))
        if p.is_file() and ".git" not in p.parts
    }
    return {
        "branch": git(repo, "symbolic-ref", "--short", "HEAD").strip(),
        "head": git(repo, "rev-parse", "HEAD").strip(),
        "branches": git(repo, "branch", "--format=%(refname:short)").split(),
        "status": git(repo, "status", "--porcelain", "--untracked-files=all"),
        "index": git(repo, "ls-files", "--stage"),
        "files": files,
    }
