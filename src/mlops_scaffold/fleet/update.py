"""`fleet update`: `copier update` on a branch of every repo, in parallel, restoring any repo that fails.

Each repo either ends updated on its own branch or exactly as it was: the same branch, HEAD,
index and working tree. Workers ignore SIGINT, so an interrupted run lets the repos in flight
finish (or restore) and never starts the rest.
"""

from __future__ import annotations

import multiprocessing
import multiprocessing.context
import os
import signal
import subprocess
import tempfile
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Literal

from mlops_scaffold.fleet.repo import GitError, Snapshot, conflicts, dirty_paths, git, is_repo, read_answers, reason

Outcome = Literal["updated", "up-to-date", "conflicted", "refused", "failed", "skipped"]
COMMIT_IDENTITY = {
    "GIT_AUTHOR_NAME": "mlops-scaffold fleet",
    "GIT_AUTHOR_EMAIL": "fleet@mlops-scaffold.invalid",
    "GIT_COMMITTER_NAME": "mlops-scaffold fleet",
    "GIT_COMMITTER_EMAIL": "fleet@mlops-scaffold.invalid",
}
"""Used only where a repo has no git identity of its own."""


@dataclass(frozen=True)
class UpdateOptions:
    to: str
    branch: str | None = None
    commit: bool = False
    push: str | None = None
    conflict: Literal["inline", "rej"] = "inline"
    allow_conflicts: bool = False
    trust: bool = False

    @property
    def branch_name(self) -> str:
        return self.branch or f"template-update/{self.to}"


@dataclass
class RepoResult:
    path: str
    outcome: Outcome
    message: str = ""
    from_version: str | None = None
    to_version: str | None = None
    branch: str | None = None
    commit: str | None = None
    files: list[str] = field(default_factory=list)
    conflicts: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


def _identity(repo: Path) -> dict[str, str]:
    has_name = git(repo, "config", "user.name", check=False).strip()
    has_email = git(repo, "config", "user.email", check=False).strip()
    return {} if has_name and has_email else COMMIT_IDENTITY


def _run_copier(repo: Path, options: UpdateOptions) -> None:
    from plumbum import local

    # copier runs git through plumbum, whose environment is a copy of os.environ taken when plumbum
    # was imported; the template rewrites (GIT_CONFIG_*) set since then must reach it explicitly
    rewrites = {k: v for k, v in os.environ.items() if k.startswith("GIT_CONFIG_")}
    with local.env(**rewrites):
        _copier_update(repo, options)


def _copier_update(repo: Path, options: UpdateOptions) -> None:
    import copier

    from mlops_scaffold.fleet import worker_caches

    worker_caches.new_update()

    copier.run_update(
        dst_path=repo,
        vcs_ref=options.to,
        defaults=True,
        overwrite=True,
        skip_answered=True,
        conflict=options.conflict,
        unsafe=options.trust,
        quiet=True,
    )


def update_repo(path: Path, options: UpdateOptions) -> RepoResult:
    """Update one repo; never raises, always leaves it updated on its branch or as it was."""
    result = RepoResult(str(path), "refused")
    try:
        if not is_repo(path):
            result.message = "not a git repository"
            return result
        answers = read_answers(path)
        result.from_version = str(answers.get("_commit") or "") or None
        dirty = dirty_paths(path)
        if dirty:
            result.message = f"dirty: {len(dirty)} uncommitted change(s), e.g. {dirty[0]}"
            return result
        if result.from_version == options.to:
            result.outcome, result.to_version = "up-to-date", options.to
            return result
        if git(path, "rev-parse", "--verify", "--quiet", f"refs/heads/{options.branch_name}", check=False).strip():
            result.message = f"branch {options.branch_name} already exists"
            return result
        before = Snapshot.take(path)
    except (GitError, OSError, ValueError) as error:
        result.message = str(error)
        return result
    created: str | None = None
    try:
        git(path, "checkout", "--quiet", "-b", options.branch_name)
        created = options.branch_name
        _run_copier(path, options)
        result.files = dirty_paths(path)
        result.to_version = str(read_answers(path).get("_commit") or options.to)
        if not result.files:
            before.restore(path, created)
            result.outcome = "up-to-date"
            return result
        result.branch = created
        result.conflicts = conflicts(path)
        if result.conflicts and not options.allow_conflicts:
            result.outcome, result.message = "conflicted", "resolve the conflicts on the branch, then commit"
            return result
        result.outcome = "conflicted" if result.conflicts else "updated"
        if options.commit:
            git(path, "add", "--all")
            message = f"Update the project template to {result.to_version}"
            git(path, "commit", "--quiet", "--no-verify", "-m", message, env=_identity(path))
            result.commit = git(path, "rev-parse", "HEAD").strip()
            pushed = _push(path, options.push, created) if options.push else None
            # the update lives on its branch; the working copy goes back to where the user was
            git(path, "checkout", "--quiet", before.branch or before.head)
            if pushed:  # the commit stays on its branch; only the push is to retry
                result.outcome, result.message = "failed", pushed
        return result
    except BaseException as error:  # whatever happened (even SIGTERM), the repo goes back
        before.restore(path, created)
        result.outcome, result.branch, result.commit = "failed", None, None
        result.message = _one_line(error)
        if not isinstance(error, Exception):
            raise
        return result


def _recover(path: Path, options: UpdateOptions) -> RepoResult:
    """A worker died (killed, out of memory) before it could report: put its repo back if it was
    mid-update (on the update's branch, which it made from where the user was), and say so."""
    died = "a fleet worker process died (killed or out of memory)"
    branch = options.branch_name
    try:
        current = git(path, "symbolic-ref", "--quiet", "--short", "HEAD", check=False).strip()
        if current != branch:
            if git(path, "rev-parse", "--verify", "--quiet", f"refs/heads/{branch}", check=False).strip():
                # it had committed the update and gone back to the user's branch: the work is kept
                message = f"{died} after committing the update on {branch}; check that branch, then push it"
                return RepoResult(str(path), "failed", message, branch=branch)
            return RepoResult(str(path), "failed", f"{died} before this repo was updated; it is untouched")
        git(path, "reset", "--quiet", "--hard", "HEAD")
        git(path, "clean", "--quiet", "-d", "--force")
        git(path, "checkout", "--quiet", "--force", "@{-1}")
        git(path, "branch", "--quiet", "-D", options.branch_name, check=False)
    except GitError as error:
        return RepoResult(str(path), "failed", f"{died} mid-update, and restoring the repo failed: {error}")
    return RepoResult(str(path), "failed", f"{died} mid-update; the repo is restored")


def _push(path: Path, remote: str, branch: str) -> str | None:
    """Push the update's branch; on failure, a message saying what failed and what is kept."""
    try:
        git(path, "push", "--quiet", "--set-upstream", remote, branch)
    except GitError as error:
        reason = str(error).removeprefix("git push: ")
        return f"committed on {branch}, but the push to {remote} failed: {reason}"
    return None


def _one_line(error: BaseException) -> str:
    from copier.errors import UnsafeTemplateError

    if isinstance(error, UnsafeTemplateError):
        features = str(error).split(":", 1)[-1].split(".")[0].strip()
        return f"the template runs {features or 'scripts'} on update; pass --trust if you trust its source"
    text = str(error).strip().splitlines()
    return f"{type(error).__name__}: {text[0] if text else ''}".rstrip(": ")


def _start_worker() -> None:
    """Workers ignore SIGINT (the parent decides what stops) and cache clones and compiled templates."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    from mlops_scaffold.fleet import worker_caches

    worker_caches.install()


def _is_remote(source: str) -> bool:
    return "://" in source or (":" in source and not Path(source).exists() and "@" in source.split(":", 1)[0])


@dataclass
class Mirrors:
    env: dict[str, str]
    """Environment that makes git read each reachable remote template from its local mirror."""
    unreachable: dict[str, str]
    """Template source to why it cannot be read (git's reason, or a missing local folder)."""


def url_rewrites(local_by_source: dict[str, str]) -> dict[str, str]:
    """Environment that makes every git command read each source from its local copy (insteadOf)."""
    env: dict[str, str] = {}
    for index, (source, local) in enumerate(sorted(local_by_source.items())):
        env[f"GIT_CONFIG_KEY_{index}"] = f"url.{local}.insteadOf"
        env[f"GIT_CONFIG_VALUE_{index}"] = source
    if env:
        env["GIT_CONFIG_COUNT"] = str(len(local_by_source))
    return env


@contextmanager
def template_mirrors(sources: set[str], clone: Path | None = None) -> Iterator[Mirrors]:
    """Clone each remote template once for the whole run; git then reads it instead of the network.

    The environment makes git rewrite the source URL to the local mirror (`url.<mirror>.insteadOf`),
    so copier's own clones of old and new versions stay local. With `clone`, a local clone of the
    template, every remote source is read from it and nothing is fetched. Sources that cannot be read
    are reported, not raised: the repos that use them fail with that reason, the others go on.
    """
    unreachable = {s: "the folder does not exist" for s in sources if not _is_remote(s) and not Path(s).exists()}
    remote = sorted(s for s in sources if _is_remote(s))
    if clone is not None:
        yield Mirrors(url_rewrites({source: clone.resolve().as_uri() for source in remote}), unreachable)
        return
    with tempfile.TemporaryDirectory(prefix="mlops-fleet-") as root:
        local: dict[str, str] = {}
        for index, source in enumerate(remote):
            mirror = Path(root, f"template-{index}.git")
            done = subprocess.run(
                ["git", "clone", "--quiet", "--mirror", source, str(mirror)],
                check=False,
                capture_output=True,
                text=True,
                env={**os.environ, "GIT_TERMINAL_PROMPT": "0", "LC_ALL": "C"},
            )
            if done.returncode != 0:
                unreachable[source] = reason(done.stderr) or f"git clone exited with {done.returncode}"
            else:
                local[source] = mirror.as_uri()
        yield Mirrors(url_rewrites(local), unreachable)


@contextmanager
def templates_readable(paths: Sequence[Path], clone: Path | None = None) -> Iterator[tuple[dict[int, str], Mirrors]]:
    """While inside, every git command of this process and of the workers it forks (copier's too)
    reads the repos' template sources from their mirrors, or from `clone`. Yields each repo's
    recorded source (by index) and the mirrors, whose `unreachable` says which sources cannot be read."""
    sources = _sources(paths)
    with template_mirrors(set(sources.values()), clone) as mirrors:
        saved = {k: os.environ.get(k) for k in mirrors.env}
        os.environ.update(mirrors.env)
        try:
            yield sources, mirrors
        finally:
            for key, value in saved.items():
                if value is None:
                    os.environ.pop(key, None)
                else:
                    os.environ[key] = value


def _context() -> multiprocessing.context.BaseContext:
    """Workers fork where the platform can: they inherit copier already imported and the template
    rewrites in the environment. Elsewhere they spawn, which only costs the import."""
    method = "fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn"
    return multiprocessing.get_context(method)


def default_jobs() -> int:
    """One worker per CPU and one more: while one waits on git, the others render."""
    return (os.cpu_count() or 1) + 1


def _sources(paths: Sequence[Path]) -> dict[int, str]:
    """Index of each repo to the template source its answers record (repos without one are left out)."""
    found = {}
    for index, path in enumerate(paths):
        try:
            found[index] = str(read_answers(path)["_src_path"])
        except (OSError, ValueError):
            continue
    return found


def update_fleet(
    paths: Sequence[Path],
    options: UpdateOptions,
    jobs: int | None = None,
    on_done: Callable[[RepoResult], None] | None = None,
    template_clone: Path | None = None,
) -> tuple[list[RepoResult], bool]:
    """Update every repo with up to `jobs` worker processes; returns results in `paths` order and
    whether the run was interrupted (repos not started then are `skipped`, and untouched).
    `template_clone`: a local clone to read every remote template source from, offline."""
    import copier  # noqa: F401 - imported once here; forked workers inherit it instead of each importing it

    results: dict[int, RepoResult] = {}
    interrupted = False
    with templates_readable(paths, template_clone) as (sources, mirrors):  # the workers inherit it
        for index, source in sources.items():
            if source in mirrors.unreachable:
                why = mirrors.unreachable[source]
                message = f"template source {source} is unreachable ({why}); fix _src_path in .copier-answers.yml or restore access"
                results[index] = RepoResult(str(paths[index]), "failed", message)
        pool = ProcessPoolExecutor(max_workers=jobs or default_jobs(), mp_context=_context(), initializer=_start_worker)
        with pool:
            futures: dict[Future[RepoResult], int] = {
                pool.submit(update_repo, path, options): i for i, path in enumerate(paths) if i not in results
            }
            try:
                for future in as_completed(futures):
                    index = futures[future]
                    try:
                        results[index] = future.result()
                    except BrokenProcessPool:
                        results[index] = _recover(paths[index], options)
                    if on_done is not None:
                        on_done(results[index])
            except KeyboardInterrupt:
                interrupted = True
                for future in futures:
                    future.cancel()
                for future, index in futures.items():
                    if index not in results and not future.cancelled():
                        try:
                            results[index] = future.result()  # in flight: let it finish or restore
                        except BrokenProcessPool:
                            results[index] = _recover(paths[index], options)
    for index, path in enumerate(paths):
        results.setdefault(index, RepoResult(str(path), "skipped", "interrupted before it started"))
    return [results[i] for i in range(len(paths))], interrupted
