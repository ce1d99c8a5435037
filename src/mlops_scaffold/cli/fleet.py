"""`mlops-scaffold fleet status|update`: template versions and updates across many repositories."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import click
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError

from mlops_scaffold.errors import InputFileError, UsageError
from mlops_scaffold.files import write_atomic
from mlops_scaffold.releases import RELEASE_TAGS, has_tags

FORMATS = click.Choice(["table", "json"])
STYLES = {"updated": "green", "up-to-date": "dim", "conflicted": "yellow", "refused": "red", "failed": "red"}


def _repos(paths: Sequence[Path], manifest: Path | None) -> list[Path]:
    """PATH arguments, or the `repos:` list of a manifest (relative to the manifest's folder)."""
    if manifest is not None and paths:
        raise UsageError("give repository paths or --manifest, not both")
    if manifest is None:
        if not paths:
            raise UsageError("give at least one repository path, or --manifest FILE")
        return [p.resolve() for p in paths]
    try:
        data = YAML(typ="safe").load(manifest.read_text())
    except OSError as error:
        raise InputFileError(str(manifest), str(error.strerror or error)) from error
    except YAMLError as error:
        raise UsageError(f"{manifest}: not valid YAML ({str(error).splitlines()[0]})") from error
    repos = data.get("repos") if isinstance(data, dict) else None
    if not isinstance(repos, list) or not repos or not all(isinstance(r, str) for r in repos):
        raise UsageError(f"{manifest}: repos: must be a non-empty list of repository paths")
    return [(manifest.parent / r).resolve() for r in repos]


def _shown(path: str) -> str:
    """A repository as the table shows it: relative to the current folder when inside it."""
    try:
        return str(Path(path).relative_to(Path.cwd())) or "."
    except ValueError:
        return path


def _table(*columns: str) -> Table:
    """A table that fits the terminal (80 columns when not a terminal), folding long cells, never cutting them."""
    table = Table(box=None)
    for column in columns:
        table.add_column(column, overflow="fold")
    return table


@click.group()
def fleet() -> None:
    """Template status and updates across many generated repositories."""


CLONE_HELP = (
    "A local clone of the template: repos whose recorded source is remote read it from here, without the network."
)


def _clone(path: Path | None) -> Path | None:
    if path is not None and not (path / ".git").exists() and not (path / "HEAD").is_file():
        raise UsageError(f"--template-clone {path}: not a git clone of the template")
    if path is not None and not has_tags(path):
        raise UsageError(
            f"--template-clone {path}: the clone has no tags, so no template version can be found; "
            f"run `{RELEASE_TAGS}` in it to recreate the release tags from CHANGELOG.md"
        )
    return path


@fleet.command()
@click.option("--manifest", type=click.Path(dir_okay=False, path_type=Path), help="YAML file with a `repos:` list.")
@click.option("--template-clone", type=click.Path(file_okay=False, exists=True, path_type=Path), help=CLONE_HELP)
@click.option("--format", "fmt", type=FORMATS, default="table", show_default=True)
@click.argument("paths", nargs=-1, type=click.Path(file_okay=False, path_type=Path))
def status(manifest: Path | None, template_clone: Path | None, fmt: str, paths: Sequence[Path]) -> int:
    """Template source, current and latest version, dirtiness and pending conflicts of each repo."""
    from mlops_scaffold.fleet import fleet_status
    from mlops_scaffold.fleet.update import templates_readable

    repos = _repos(paths, manifest)
    # without a clone, `status` asks each source for its tags directly; with one, it reads the clone
    clone = _clone(template_clone)
    if clone is None:
        found = fleet_status(repos)
    else:
        with templates_readable(repos, clone):
            found = fleet_status(repos)
    if fmt == "json":
        click.echo(json.dumps([s.as_dict() for s in found], indent=2))
    else:
        table = _table("repo", "template", "current", "latest", "dirty", "conflicts")
        for s in found:
            latest = s.latest or (f"[red]{s.error}[/]" if s.error else "?")
            current = f"[yellow]{s.current}[/]" if s.outdated else (s.current or "?")
            conflicts = ", ".join(s.conflicts) or "-"
            table.add_row(_shown(s.path), s.template or "?", current, latest, "yes" if s.dirty else "no", conflicts)
        Console().print(table)
    return 1 if any(s.error for s in found) else 0


@fleet.command()
@click.option("--to", "to", required=True, help="Template version (git tag or ref) to update to.")
@click.option("--jobs", type=click.IntRange(min=1), help="Parallel workers; default: the number of CPUs plus one.")
@click.option("--branch", help="Branch to create in each repo; default: template-update/<REF>.")
@click.option("--commit", is_flag=True, help="Commit clean updates on the branch.")
@click.option("--push", metavar="REMOTE", help="Push committed branches to REMOTE.")
@click.option("--conflict", type=click.Choice(["inline", "rej"]), default="inline", show_default=True)
@click.option("--allow-conflicts", is_flag=True, help="Commit updates with conflicts too.")
@click.option("--trust", is_flag=True, help="Allow the template's migrations and tasks (copier --trust).")
@click.option("--report", type=click.Path(dir_okay=False, path_type=Path), help="Also write the JSON report here.")
@click.option("--manifest", type=click.Path(dir_okay=False, path_type=Path), help="YAML file with a `repos:` list.")
@click.option("--template-clone", type=click.Path(file_okay=False, exists=True, path_type=Path), help=CLONE_HELP)
@click.option("--format", "fmt", type=FORMATS, default="table", show_default=True)
@click.argument("paths", nargs=-1, type=click.Path(file_okay=False, path_type=Path))
def update(
    to: str,
    jobs: int | None,
    branch: str | None,
    commit: bool,
    push: str | None,
    conflict: str,
    allow_conflicts: bool,
    trust: bool,
    report: Path | None,
    manifest: Path | None,
    template_clone: Path | None,
    fmt: str,
    paths: Sequence[Path],
) -> int:
    """Run copier update to REF on a new branch of every repo, in parallel; restore any repo that fails."""
    from mlops_scaffold.fleet import UpdateOptions, update_fleet

    if push and not commit:
        raise UsageError("--push needs --commit")
    repos = _repos(paths, manifest)
    options = UpdateOptions(to, branch, commit, push, "rej" if conflict == "rej" else "inline", allow_conflicts, trust)
    console = Console(stderr=True)
    columns = (TextColumn("updating"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=console, transient=True, disable=not console.is_terminal) as progress:
        task = progress.add_task("repos", total=len(repos))
        results, interrupted = update_fleet(
            repos, options, jobs, lambda _: progress.advance(task), template_clone=_clone(template_clone)
        )
    document = {
        "to": to,
        "interrupted": interrupted,
        "counts": {k: sum(r.outcome == k for r in results) for k in (*STYLES, "skipped")},
        "repos": [r.as_dict() for r in results],
    }
    text = json.dumps(document, indent=2) + "\n"
    if report is not None:
        write_atomic(report, text)
    if fmt == "json":
        click.echo(text, nl=False)
    else:
        table = _table("repo", "outcome", "branch", "files", "detail")
        for r in results:
            files = ", ".join(r.conflicts) if r.conflicts else (f"{len(r.files)} changed" if r.files else "-")
            table.add_row(
                _shown(r.path), f"[{STYLES.get(r.outcome, 'dim')}]{r.outcome}[/]", r.branch or "-", files, r.message
            )
        Console().print(table)
        counts = ", ".join(f"{n} {k}" for k, n in document["counts"].items() if n)  # type: ignore[attr-defined]
        click.echo(counts + (" (interrupted)" if interrupted else ""), err=True)
    if interrupted:
        return 130
    return 0 if all(r.outcome in ("updated", "up-to-date") for r in results) else 1
