"""Fleet status and update on real template and project git repositories.

The template is tagged v1 and v2; v2 edits the README, bumps a setting and renames a file
through a `_migrations` step. Projects generated at v1 carry assorted user edits.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import CliRunner
from fleet_repos import README_V2, build_template, edit, fingerprint, generate, git

from mlops_scaffold.fleet import UpdateOptions, fleet_status, update_fleet

BRANCH = "template-update/v2"


@pytest.fixture
def template(tmp_path: Path) -> Path:
    return build_template(tmp_path)


@pytest.fixture
def fleet(template: Path, tmp_path: Path) -> dict[str, Path]:
    repos = {name: generate(template, tmp_path / name, name) for name in "abcdef"}
    edit(repos["a"], "README.md", "line 2\n", "line 2 (user)\n")  # far from the template's change
    edit(repos["a"], "notes.md", "yours to edit\n", "mine now\n")  # a file the user owns
    edit(repos["b"], "README.md", "line 7\n", "line 7 (user)\n")  # the very line v2 changes
    edit(repos["d"], "old_name.txt", "shipped in v1\n", "shipped in v1, edited by d\n")  # v2 renames it
    edit(repos["e"], "README.md", "line 1\n", "line 1 (uncommitted)\n", commit=False)  # dirty
    (repos["f"] / "FAIL").write_text("the migration refuses this repo\n")
    git(repos["f"], "add", "FAIL")
    git(repos["f"], "commit", "-q", "-m", "a repo whose update fails")
    repos["g"] = generate(template, tmp_path / "g", "g", ref="v2")  # already current
    return repos


def test_round_trip_keeps_edits_surfaces_conflicts_and_restores_failures(fleet: dict[str, Path]) -> None:
    before = {name: fingerprint(repo) for name, repo in fleet.items()}
    results, interrupted = update_fleet(list(fleet.values()), UpdateOptions("v2", trust=True), jobs=2)
    assert not interrupted
    outcome = {Path(r.path).name: r for r in results}
    assert {n: r.outcome for n, r in outcome.items()} == {
        "a": "updated",
        "b": "conflicted",
        "c": "updated",
        "d": "conflicted",
        "e": "refused",
        "f": "failed",
        "g": "up-to-date",
    }
    a, b, c, d = (fleet[n] for n in "abcd")
    # non-overlapping edits are kept byte for byte, next to the template's changes
    assert (a / "README.md").read_text() == README_V2.replace("{{ project_name }}", "a").replace(
        "line 2\n", "line 2 (user)\n"
    )
    assert (a / "notes.md").read_text() == "# Notes\n\nmine now\n"
    assert (a / "settings.toml").read_text() == '[project]\nname = "a"\nlevel = 2\n'
    # the migration renamed the file
    assert not (c / "old_name.txt").exists()
    assert (c / "new_name.txt").read_text() == "shipped in v1\n"
    # overlapping edits are conflicts, with both sides kept
    readme = (b / "README.md").read_text()
    assert "line 7 (user)" in readme
    assert "line 7 (template v2)" in readme
    assert outcome["b"].conflicts == ["README.md"]
    assert "shipped in v1, edited by d" in (d / "new_name.txt").read_text()
    assert outcome["d"].conflicts == ["new_name.txt"]
    for repo in (a, b, c, d):
        assert git(repo, "symbolic-ref", "--short", "HEAD").strip() == BRANCH
        assert "_commit: v2" in (repo / ".copier-answers.yml").read_text()
    # refused, failed and current repos are exactly as they were
    for name in "efg":
        assert fingerprint(fleet[name]) == before[name], name
    assert "dirty" in outcome["e"].message
    assert "migration" in outcome["f"].message


def test_commit_puts_clean_updates_on_their_branch_and_the_user_back_on_main(fleet: dict[str, Path]) -> None:
    a, b = fleet["a"], fleet["b"]
    head_a = git(a, "rev-parse", "HEAD").strip()
    results, _ = update_fleet([a, b], UpdateOptions("v2", trust=True, commit=True), jobs=2)
    assert [r.outcome for r in results] == ["updated", "conflicted"]
    assert git(a, "symbolic-ref", "--short", "HEAD").strip() == "main"
    assert git(a, "rev-parse", "HEAD").strip() == head_a
    assert git(a, "status", "--porcelain") == ""
    assert git(a, "rev-parse", BRANCH).strip() == results[0].commit
    assert "line 2 (user)" in git(a, "show", f"{BRANCH}:README.md")
    # a conflicted update is not committed unless asked
    assert results[1].commit is None
    assert git(b, "rev-parse", BRANCH).strip() == git(b, "rev-parse", "main").strip()


def test_allow_conflicts_commits_them_and_rej_mode_leaves_rej_files(fleet: dict[str, Path]) -> None:
    b = fleet["b"]
    options = UpdateOptions("v2", trust=True, commit=True, allow_conflicts=True, conflict="rej")
    (result,) = update_fleet([b], options, jobs=1)[0]
    assert result.outcome == "conflicted"
    assert result.commit is not None
    assert "README.md.rej" in result.conflicts
    assert "README.md.rej" in git(b, "ls-tree", "-r", "--name-only", BRANCH)


def test_without_trust_a_migration_fails_and_the_repo_is_restored(fleet: dict[str, Path]) -> None:
    c = fleet["c"]
    before = fingerprint(c)
    (result,) = update_fleet([c], UpdateOptions("v2"), jobs=1)[0]
    assert result.outcome == "failed"
    assert "migrations" in result.message
    assert fingerprint(c) == before


def test_status_shows_versions_dirtiness_and_conflicts(fleet: dict[str, Path]) -> None:
    update_fleet([fleet["b"]], UpdateOptions("v2", trust=True), jobs=1)
    found = {Path(s.path).name: s for s in fleet_status([fleet[n] for n in "abeg"])}
    assert (found["a"].current, found["a"].latest, found["a"].dirty, found["a"].outdated) == ("v1", "v2", False, True)
    assert found["b"].conflicts == ["README.md"]
    assert found["b"].dirty
    assert found["e"].dirty
    assert not found["g"].outdated
    assert found["a"].template == str(fleet["a"].parent / "template")


def test_cli_update_and_status(fleet: dict[str, Path], cli: CliRunner, tmp_path: Path) -> None:
    manifest = tmp_path / "fleet.yaml"
    manifest.write_text("repos: [a, c, e]\n")
    report = tmp_path / "report.json"
    result = cli("fleet", "update", "--to", "v2", "--trust", "--manifest", manifest, "--report", report)
    assert result.code == 1  # e is refused
    data = json.loads(report.read_text())
    assert data["counts"] == {"updated": 2, "up-to-date": 0, "conflicted": 0, "refused": 1, "failed": 0, "skipped": 0}
    assert [Path(r["path"]).name for r in data["repos"]] == ["a", "c", "e"]
    status = cli("fleet", "status", "--format", "json", fleet["a"], fleet["g"])
    assert status.code == 0
    assert [s["current"] for s in json.loads(status.out)] == ["v2", "v2"]
    bad = cli("fleet", "update", "--to", "v2", "--push", "origin", fleet["a"])
    assert bad.code == 2
    assert bad.err.strip() == "mlops-scaffold: error: --push needs --commit"


def _state(repo: Path, original: dict[str, object]) -> str:
    if fingerprint(repo) == original:
        return "untouched"
    branches = git(repo, "branch", "--format=%(refname:short)").split()
    on_main = fingerprint(repo)
    assert BRANCH in branches, f"{repo} changed without its branch"
    assert {k: on_main[k] for k in ("branch", "head", "status")} == {
        k: original[k] for k in ("branch", "head", "status")
    }, f"{repo}: the working copy moved"
    assert "_commit: v2" in git(repo, "show", f"{BRANCH}:.copier-answers.yml")
    return "updated"


def _many(template: Path, root: Path, prefix: str) -> list[Path]:
    """Enough repos that a run is still going when a signal lands: a warm worker updates one of
    these small projects in about a tenth of a second. Copies of one, which is all these tests need."""
    first = generate(template, root / f"{prefix}00", f"{prefix}00")
    return [first] + [Path(shutil.copytree(first, root / f"{prefix}{i:02d}", symlinks=True)) for i in range(1, 60)]


def _update_until_a_branch_appears(repos: list[Path], *options: str) -> subprocess.Popen[str]:
    """`fleet update` with 2 workers as a user runs it, returned once some repo is mid-update."""
    command = [sys.executable, "-m", "mlops_scaffold", "fleet", "update", "--to", "v2", "--trust", *options]
    # as from a terminal: SIGINT neither blocked nor ignored, whatever this test process inherited
    # or an earlier test left (a child keeps an ignored signal ignored, and the caller's mask)
    blocked = signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})
    handler = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        process = subprocess.Popen(
            [*command, "--jobs", "2", *map(str, repos)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
    finally:
        signal.signal(signal.SIGINT, handler)
        signal.pthread_sigmask(signal.SIG_SETMASK, blocked)
    deadline = time.monotonic() + 120
    # a new branch is a loose ref file: cheap to look for in many repos, many times a second
    while not any((r / ".git" / "refs" / "heads" / BRANCH).exists() for r in repos):
        assert process.poll() is None, process.communicate()
        assert time.monotonic() < deadline
        time.sleep(0.02)
    return process


def test_sigint_leaves_every_repo_updated_on_its_branch_or_untouched(template: Path, tmp_path: Path) -> None:
    repos = _many(template, tmp_path, "r")
    before = {repo: fingerprint(repo) for repo in repos}
    process = _update_until_a_branch_appears(repos, "--commit")
    status = Path(f"/proc/{process.pid}/status").read_text()
    masks = {line.split(":")[0]: int(line.split()[1], 16) for line in status.splitlines() if line.startswith(("SigBlk", "SigIgn"))}
    assert not (masks["SigBlk"] | masks["SigIgn"]) & (1 << (signal.SIGINT - 1)), status  # it can be interrupted
    process.send_signal(signal.SIGINT)
    out, err = process.communicate(timeout=120)
    assert process.returncode == 130, out + err
    states = [_state(repo, before[repo]) for repo in repos]
    assert "updated" in states
    assert "untouched" in states, "the run ended before the interrupt"


def test_a_remote_template_is_cloned_once_and_read_locally(template: Path, tmp_path: Path) -> None:
    from mlops_scaffold.fleet.update import template_mirrors

    url = template.as_uri()  # file:// counts as remote, like https://
    with template_mirrors({url, str(template)}) as mirrors:
        env = mirrors.env
        assert mirrors.unreachable == {}
        assert env["GIT_CONFIG_COUNT"] == "1"  # the local path needs no mirror
        template.rename(tmp_path / "gone")  # the "network" is gone; git reads the mirror instead
        done = subprocess.run(
            ["git", "ls-remote", "--tags", url], capture_output=True, text=True, env={**os.environ, **env}, check=False
        )
    assert done.returncode == 0, done.stderr
    assert "refs/tags/v2" in done.stdout


def test_a_worker_killed_mid_update_fails_its_repos_and_restores_them(template: Path, tmp_path: Path) -> None:
    repos = _many(template, tmp_path, "k")
    before = {repo: fingerprint(repo) for repo in repos}
    process = _update_until_a_branch_appears(repos, "--format", "json")
    workers = subprocess.run(["pgrep", "-P", str(process.pid)], capture_output=True, text=True, check=False)
    os.kill(int(workers.stdout.split()[0]), signal.SIGKILL)  # as the OOM killer would
    out, err = process.communicate(timeout=120)
    assert process.returncode == 1, out + err
    assert "Traceback" not in err, err
    results = json.loads(out)["repos"]
    died = [r for r in results if "fleet worker process died" in r["message"]]
    assert died, results
    assert all(r["outcome"] == "failed" for r in died)
    for repo in repos:  # nothing is left half-updated
        _state(repo, before[repo])
    for result in died:
        assert _state(Path(result["path"]), before[Path(result["path"])]) == "untouched"


def test_fleet_status_names_a_template_source_that_never_answers(
    cli: CliRunner, fleet: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    import socket

    from mlops_scaffold.fleet import status

    repo = fleet["a"]
    with socket.socket() as silent:  # accepts connections and never says a word
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        url = f"http://127.0.0.1:{silent.getsockname()[1]}/template.git"
        answers = repo / ".copier-answers.yml"
        answers.write_text(
            answers.read_text().replace(
                f"_src_path: {answers.read_text().split('_src_path: ')[1].splitlines()[0]}", f"_src_path: {url}"
            )
        )
        git(repo, "commit", "-qam", "a silent source")
        monkeypatch.setattr(status, "LS_REMOTE_TIMEOUT", 2)
        status.latest_version.cache_clear()
        result = cli("fleet", "status", "--format", "json", repo)
    assert result.code == 1
    assert "Traceback" not in result.err
    (found,) = json.loads(result.out)
    assert found["error"] == f"template source {url} is unreachable: no answer in 2 s"


def test_the_worker_caches_follow_the_installed_copier_or_stand_aside(
    fleet: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    """On a copier whose internals have another shape, the fleet runs plain copier, same result."""
    import copier
    from copier._main import Worker
    from copier._template import Template

    from mlops_scaffold.fleet import worker_caches

    expected = os.environ.get("MLOPS_EXPECT_COPIER")  # scripts/test runs this file on the lowest copier too
    if expected:
        assert f"copier-{expected}" in str(copier.__file__)
    fits = worker_caches.supported()
    assert fits["jinja"]
    assert fits["templates"]
    # copier 9.10 has no per-file executable-bit sync; the copiers after it have it, and its cache fits
    assert fits["file_mode"] is hasattr(Worker, "_sync_git_index_executable_bit")

    def cleanup(self: Template, force: bool = False) -> None:
        raise AssertionError("never called by this test")

    monkeypatch.setattr(Template, "_cleanup", cleanup)
    assert worker_caches.supported()["templates"] is False
    monkeypatch.undo()
    results, _ = update_fleet([fleet["a"], fleet["c"]], UpdateOptions("v2", trust=True), jobs=1)
    assert [r.outcome for r in results] == ["updated", "updated"]


def test_the_copier_range_is_stated_alike_for_pip_and_for_copier() -> None:
    import tomllib

    from mlops_scaffold.bundle import copier_settings

    project = tomllib.loads((Path(__file__).parents[1] / "pyproject.toml").read_text())["project"]
    (requirement,) = [d for d in project["dependencies"] if d.startswith("copier")]
    low = requirement.split(">=")[1].split(",")[0]
    assert copier_settings()["_min_copier_version"] == low
    pinned = (Path(__file__).parents[1] / "constraints.txt").read_text().split("copier==")[1].split()[0]
    high = requirement.split(",<")[1]
    assert pinned.rsplit(".", 1)[0] < high


def test_recovery_after_a_dead_worker_restores_or_keeps_what_it_finds(fleet: dict[str, Path]) -> None:
    """What the parent finds when a worker dies: the repo mid-update on the branch (put back), the
    update committed and the user back on main (kept, and said), or nothing started (untouched)."""
    from mlops_scaffold.fleet.update import _recover

    options = UpdateOptions("v2")
    mid, committed, untouched = fleet["a"], fleet["c"], fleet["d"]
    before = fingerprint(mid)
    git(mid, "checkout", "-q", "-b", options.branch_name)
    (mid / "half-written.txt").write_text("a render cut short\n")
    edit(mid, "README.md", "line 2\n", "line 2 (half updated)\n", commit=False)
    result = _recover(mid, options)
    assert result.message.endswith("mid-update; the repo is restored")
    assert fingerprint(mid) == before
    assert BRANCH not in git(mid, "branch")

    git(committed, "checkout", "-q", "-b", options.branch_name)
    edit(committed, "README.md", "line 2\n", "line 2 (updated)\n")
    git(committed, "checkout", "-q", "main")
    kept = _recover(committed, options)
    assert "after committing the update on template-update/v2" in kept.message
    assert kept.branch == options.branch_name
    assert BRANCH in git(committed, "branch")

    assert _recover(untouched, options).message.endswith("before this repo was updated; it is untouched")


def test_a_malformed_answers_file_fails_that_repo_only(fleet: dict[str, Path], cli: CliRunner, tmp_path: Path) -> None:
    """Status and update go on for every other repo and name the broken file and line."""
    broken = fleet["c"] / ".copier-answers.yml"
    broken.write_text(broken.read_text() + "project_name: [unclosed\n")
    git(fleet["c"], "commit", "-qam", "a broken answers file")
    status = cli("fleet", "status", "--format", "json", fleet["a"], fleet["c"], fleet["g"])
    assert status.code == 1
    assert "Traceback" not in status.err
    found = {Path(s["path"]).name: s for s in json.loads(status.out)}
    assert found["a"]["error"] is None
    assert found["g"]["current"] == "v2"
    assert found["c"]["error"].startswith(f"{broken}:")
    assert "fix the answers file" in found["c"]["error"]
    report = tmp_path / "report.json"
    update = cli("fleet", "update", "--to", "v2", "--trust", "--report", report, fleet["a"], fleet["c"])
    assert update.code == 1
    assert "Traceback" not in update.err
    outcomes = {Path(r["path"]).name: r for r in json.loads(report.read_text())["repos"]}
    assert outcomes["a"]["outcome"] == "updated"
    assert outcomes["c"]["outcome"] in ("refused", "failed")
    assert str(broken) in outcomes["c"]["message"]
