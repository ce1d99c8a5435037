"""The `mlops-scaffold` command: parses arguments, calls the library and prints results."""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Sequence
from pathlib import Path

import click

from mlops_scaffold import __version__
from mlops_scaffold.cli.stacks import require_environment_stack
from mlops_scaffold.errors import ScaffoldError, SpecError, UsageError
from mlops_scaffold.files import write_atomic
from mlops_scaffold.spec import SpecSet, load_specs, parse_text
from mlops_scaffold.spec.schema import json_schema_text, reference_markdown
from mlops_scaffold.spec.starters import SCHEMA_FILE, default_specs, starter_spec

PROG = "mlops-scaffold"
KINDS = click.Choice(["platform", "project"])


def _fail(message: str) -> None:
    click.echo(click.style(f"{PROG}: error: ", fg="red") + message, err=True)


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, "--version", prog_name=PROG, message="%(prog)s %(version)s")
def cli() -> None:
    """Scaffold MLOps platforms and projects from one typed spec."""


def _default_name(path: Path, kind: str) -> str:
    base = re.sub(r"[^a-z0-9-]+", "-", path.resolve().parent.name.lower()).strip("-")[:40].strip("-")
    return base or f"my-{kind}"


@cli.command()
@click.option("--kind", type=KINDS, default="platform", show_default=True, help="Which document to start.")
@click.option("--name", help="Value of `name`; default: the folder's name.")
@click.option("--force", is_flag=True, help="Overwrite an existing file.")
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path), default=Path("mlops.yaml"))
def init(kind: str, name: str | None, force: bool, path: Path) -> None:
    """Write a commented starter spec (and its JSON Schema beside it) to PATH."""
    if path.exists() and not force:
        raise UsageError(f"{path} already exists; pass --force to overwrite it")
    spec_name = name or _default_name(path, kind)
    text = starter_spec("platform" if kind == "platform" else "project", spec_name, f"./{SCHEMA_FILE}")
    parse_text(text, str(path))  # a bad --name is reported before anything is written
    write_atomic(path.parent / SCHEMA_FILE, json_schema_text())
    write_atomic(path, text)
    click.echo(f"wrote {path} and {path.parent / SCHEMA_FILE}")


def _summary(specs: SpecSet) -> str:
    parts = []
    if specs.platform is not None:
        parts.append(f"platform {specs.platform.name!r}")
    if specs.projects:
        parts.append(f"{len(specs.projects)} project(s): " + ", ".join(p.name for p in specs.projects))
    return "; ".join(parts)


@cli.command()
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=Path))
def validate(fmt: str, files: Sequence[Path]) -> None:
    """Check spec FILES together; exit 0 when valid, 1 when invalid, 2 on misuse."""
    try:
        specs = load_specs(list(files))
    except SpecError as exc:
        if fmt == "json":
            click.echo(json.dumps({"valid": False, "errors": [i.as_dict() for i in exc.issues]}, indent=2))
        else:
            for line in exc.lines():
                click.echo(line)
            click.echo(f"{len(exc.issues)} error(s)", err=True)
        raise SystemExit(1) from None
    if fmt == "json":
        click.echo(json.dumps({"valid": True, "errors": [], "summary": _summary(specs)}, indent=2))
    else:
        click.echo(f"valid: {_summary(specs)}")


@cli.command()
@click.option("--kind", type=KINDS, help="Schema of one kind only; default: any document.")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["json", "markdown"]),
    default="json",
    show_default=True,
    help="json: JSON Schema for editors; markdown: the reference tables in the README.",
)
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), help="Write here, not to stdout.")
def schema(kind: str | None, fmt: str, output: Path | None) -> None:
    """Print the spec's JSON Schema, or its Markdown reference."""
    if fmt == "markdown":
        text = reference_markdown(kind)
    else:
        text = json_schema_text("platform" if kind == "platform" else "project" if kind == "project" else None)
    if output is None:
        click.echo(text, nl=False)
    else:
        write_atomic(output, text)


@cli.command()
@click.option("--format", "fmt", type=click.Choice(["text", "json", "mermaid"]), default="text", show_default=True)
@click.option("--stack", default="dev", show_default=True, help="Stack name the program sees.")
@click.argument("specs", nargs=-1, type=click.Path(path_type=Path))
def plan(fmt: str, stack: str, specs: Sequence[Path]) -> None:
    """Show what `pulumi up` on the platform stack would create, offline, from SPECS (default: built in)."""
    from mlops_scaffold.cost import estimate
    from mlops_scaffold.plan import plan_platform, render_plan

    loaded = load_specs(list(specs)) if specs else default_specs()
    require_environment_stack(loaded, stack)
    run = plan_platform(loaded, stack=stack)
    cost = estimate(loaded.platform) if loaded.platform is not None else None
    click.echo(render_plan(run, "json" if fmt == "json" else "mermaid" if fmt == "mermaid" else "text", cost), nl=False)


@cli.command()
@click.option(
    "--spec",
    "spec_paths",
    multiple=True,
    type=click.Path(path_type=Path),
    help="Spec file with the Project (repeatable: e.g. the platform's file and the project's, read together).",
)
@click.option("--project", "project_name", help="Which Project of the specs, when they hold several.")
@click.option("--defaults", is_flag=True, help="Use the template's defaults for anything the spec does not set.")
@click.option("--template", help="Template source (path or git URL); default: the template bundled with this version.")
@click.option("--vcs-ref", help="Git tag, branch or commit of --template.")
@click.option("--force", is_flag=True, help="Render over a non-empty DST, replacing files the template owns.")
@click.argument("dst", type=click.Path(file_okay=False, path_type=Path))
def new(
    spec_paths: Sequence[Path],
    project_name: str | None,
    defaults: bool,
    template: str | None,
    vcs_ref: str | None,
    force: bool,
    dst: Path,
) -> None:
    """Render a new project into DST from a Project spec, non-interactively."""
    from mlops_scaffold.questions import Answers, answers_from_spec
    from mlops_scaffold.render import local_template, render_project

    if not spec_paths and not defaults:
        raise UsageError("give --spec FILE, or --defaults to take every answer from the template's defaults")
    answers = Answers()
    if spec_paths:
        specs = load_specs(list(spec_paths))
        given = " + ".join(str(p) for p in spec_paths)
        projects = [p for p in specs.projects if project_name in (None, p.name)]
        if not projects:
            raise UsageError(f"{given}: no Project" + (f" named {project_name!r}" if project_name else ""))
        if len(projects) > 1:
            names = ", ".join(p.name for p in projects)
            raise UsageError(f"{given}: several projects ({names}); choose one with --project")
        answers = answers_from_spec(projects[0], specs.platform)
    rendered = render_project(dst, answers, template=local_template(template), vcs_ref=vcs_ref, force=force)
    click.echo(f"rendered {rendered}")


@cli.command("platform-ci")
@click.option(
    "--spec", "spec_path", required=True, type=click.Path(path_type=Path), help="Spec file with the Platform."
)
@click.option("--stack-dir", default=".", show_default=True, help="The Pulumi project, relative to ROOT.")
@click.option("--force", is_flag=True, help="Replace CI files that already exist.")
@click.argument("root", type=click.Path(file_okay=False, path_type=Path), default=Path("."))
def platform_ci(spec_path: Path, stack_dir: str, force: bool, root: Path) -> None:
    """Write the platform repository's CI (preview, up per environment, nightly drift) into ROOT.

    `platform init` writes the whole repository, CI included; this is for an existing one."""
    from mlops_scaffold.ci.platform import write_platform_ci

    specs = load_specs([spec_path])
    if specs.platform is None:
        raise UsageError(f"{spec_path} holds no Platform document")
    for path in write_platform_ci(specs.platform, root, stack_dir, force=force):
        click.echo(f"wrote {path}")


from mlops_scaffold.cli.fleet import fleet  # noqa: E402 - registered after the root group exists
from mlops_scaffold.cli.platform import platform  # noqa: E402

cli.add_command(fleet)
cli.add_command(platform)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point: every user mistake becomes one line per problem and an exit code, never a traceback."""
    try:
        code = cli.main(args=list(argv) if argv is not None else None, prog_name=PROG, standalone_mode=False)
    except click.UsageError as exc:
        _fail(f"{exc.format_message()} (see '{PROG} --help')")
        return 2
    except click.exceptions.Abort:
        _fail("aborted")
        return 130
    except KeyboardInterrupt:
        _fail("interrupted")
        return 130
    except SpecError as exc:
        for line in exc.lines():
            click.echo(line, err=True)
        return exc.exit_code
    except ScaffoldError as exc:
        for line in exc.lines():
            _fail(line)
        return exc.exit_code
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else 1
    except OSError as exc:
        # a path the user named that cannot be written or read: its parent is a file, a folder is
        # missing or read-only, the disk is full
        where = exc.filename if exc.filename is not None else "a file"
        _fail(f"{where}: {exc.strerror or exc}; choose a path in a folder you can write to")
        return 2
    return code if isinstance(code, int) else 0


def run() -> None:
    sys.exit(main())
