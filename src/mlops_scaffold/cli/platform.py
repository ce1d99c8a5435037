"""`mlops-scaffold platform preview|up|refresh|destroy`: the platform program run by the real Pulumi engine."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import click

from mlops_scaffold.cli.stacks import require_environment_stack
from mlops_scaffold.errors import UsageError
from mlops_scaffold.facts import FACTS
from mlops_scaffold.spec import load_specs
from mlops_scaffold.spec.starters import default_specs


def _pairs(values: Sequence[str], option: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for item in values:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise UsageError(f"{option} {item!r}: expected KEY=VALUE")
        out[key] = value
    return out


def _secrets_from_env(values: Sequence[str]) -> dict[str, str]:
    out: dict[str, str] = {}
    for key, var in _pairs(values, "--secret-env").items():
        if var not in os.environ:
            raise UsageError(f"--secret-env {key}={var}: environment variable {var} is not set")
        out[key] = os.environ[var]
    return out


def _engine_options(function: Any) -> Any:
    options = [
        click.option("--stack", default="dev", show_default=True, help="Stack name (one per environment or cluster)."),
        click.option(
            "--work-dir",
            type=click.Path(file_okay=False, path_type=Path),
            default=Path("."),
            show_default=True,
            help="Folder of Pulumi.yaml and Pulumi.<stack>.yaml (stack config and the secrets salt); created if missing.",
        ),
        click.option("--backend", help=f"State backend URL; default $PULUMI_BACKEND_URL, else {FACTS.local_backend_url}."),
        click.option("--kube-context", help="kubeconfig context of the cluster (stack config kubernetes:context)."),
        click.option("--kubeconfig", help="kubeconfig path or contents (stack config kubernetes:kubeconfig)."),
        click.option("--config", "config", multiple=True, metavar="KEY=VALUE", help="Set a stack config value."),
        click.option(
            "--secret-env",
            multiple=True,
            metavar="KEY=ENV_VAR",
            help="Set a secret stack config value from an environment variable (never from the command line).",
        ),
        click.option(
            "--json", "as_json", is_flag=True, help="Progress on stderr, then one JSON summary line on stdout."
        ),
        click.argument("specs", nargs=-1, type=click.Path(path_type=Path)),
    ]
    for option in reversed(options):
        function = option(function)
    return function


def _run(action: str, expect_no_changes: bool, params: dict[str, Any]) -> None:
    from mlops_scaffold.automation import StackOptions, run_platform

    specs = load_specs(list(params["specs"])) if params["specs"] else default_specs()
    require_environment_stack(specs, params["stack"])
    options = StackOptions(
        stack=params["stack"],
        work_dir=params["work_dir"],
        backend_url=params["backend"],
        kube_context=params["kube_context"],
        kubeconfig=params["kubeconfig"],
        config=_pairs(params["config"], "--config"),
        secrets=_secrets_from_env(params["secret_env"]),
    )
    as_json = params["as_json"]
    stream = sys.stderr if as_json else sys.stdout

    def show(line: str) -> None:
        stream.write(line if line.endswith("\n") else line + "\n")
        stream.flush()

    result = run_platform(action, specs, options, on_output=show, expect_no_changes=expect_no_changes)  # type: ignore[arg-type]
    if as_json:
        click.echo(json.dumps(result.as_dict(), sort_keys=True))
    else:
        counts = ", ".join(f"{n} {op}" for op, n in sorted(result.changes.items())) or "nothing"
        click.echo(f"{action} of stack {result.stack!r}: {counts} ({result.seconds:.0f} s)")


@click.group()
def platform() -> None:
    """Start a platform repository (init), or run the platform program with the real Pulumi engine
    (preview, up, refresh, destroy; they need the pulumi CLI and a cluster).

    Exit codes: 0 done, 1 the engine failed (its diagnostics are printed), 2 misuse,
    3 --expect-no-changes found changes.
    """


@platform.command()
@click.option("--expect-no-changes", is_flag=True, help="Exit 3 if the preview has any change (drift checks).")
@_engine_options
def preview(expect_no_changes: bool, **params: Any) -> None:
    """Show what `up` would change on the cluster, from SPECS (default: built in)."""
    _run("preview", expect_no_changes, params)


@platform.command()
@_engine_options
def up(**params: Any) -> None:
    """Create or update the platform on the cluster, from SPECS (default: built in)."""
    _run("up", False, params)


@platform.command()
@click.option("--expect-no-changes", is_flag=True, help="Exit 3 if the cluster drifted from the state.")
@_engine_options
def refresh(expect_no_changes: bool, **params: Any) -> None:
    """Read every resource back from the cluster into the stack's state."""
    _run("refresh", expect_no_changes, params)


@platform.command()
@click.option("--yes", is_flag=True, help="Confirm: delete every resource of the stack.")
@_engine_options
def destroy(yes: bool, **params: Any) -> None:
    """Delete every resource of the stack from the cluster."""
    if not yes:
        raise UsageError(f"destroy deletes every resource of stack {params['stack']!r}; pass --yes to confirm")
    _run("destroy", False, params)


@platform.command()
@click.option(
    "--spec",
    "spec_paths",
    multiple=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="Spec file (repeatable; together they hold one Platform); default: the built-in starter.",
)
@click.option("--template", help="Template source (path or git URL); default: the template bundled with this version.")
@click.option("--vcs-ref", help="Git tag, branch or commit of --template.")
@click.option("--force", is_flag=True, help="Render into a non-empty DIR, replacing files of the same names.")
@click.argument("directory", metavar="DIR", type=click.Path(file_okay=False, path_type=Path))
def init(spec_paths: Sequence[Path], template: str | None, vcs_ref: str | None, force: bool, directory: Path) -> None:
    """Write a platform repository into DIR: the Pulumi project, one stack per environment, the spec files,
    requirements pinned to this release, the platform CI and a README with the `pulumi` commands."""
    from mlops_scaffold.platform_repo import init_platform_repo
    from mlops_scaffold.render import local_template

    written = init_platform_repo(directory, spec_paths, force=force, template=local_template(template), vcs_ref=vcs_ref)
    click.echo(f"rendered {written}")
    click.echo(f"next: cd {directory} and follow README.md (pulumi login, then pulumi up --stack <environment>)")
