"""Run the platform program for real through Pulumi's Automation API: preview, up, refresh, destroy.

The program is inline (the same `build_platform` that `stacks/platform` calls), so no Pulumi
language host is needed, only the `pulumi` CLI and the provider plugins. State goes to the
local file backend unless `PULUMI_BACKEND_URL` or `backend_url` says otherwise; secrets use
the passphrase provider (`PULUMI_CONFIG_PASSPHRASE` or `PULUMI_CONFIG_PASSPHRASE_FILE`).
"""

from __future__ import annotations

import os
import re
import shutil
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from mlops_scaffold.constants import PULUMI_PROJECT
from mlops_scaffold.errors import EngineError, UsageError
from mlops_scaffold.facts import FACTS
from mlops_scaffold.spec import SpecSet

Action = Literal["preview", "up", "refresh", "destroy"]
PROJECT = PULUMI_PROJECT
"""The Pulumi project name, as in `stacks/platform/Pulumi.yaml`: project stacks reference `<org>/platform/<stack>`."""
DEFAULT_BACKEND = FACTS.local_backend_url
PASSPHRASE_VARS = ("PULUMI_CONFIG_PASSPHRASE", "PULUMI_CONFIG_PASSPHRASE_FILE")


@dataclass(frozen=True)
class StackOptions:
    """Where the stack lives and how to reach the cluster."""

    stack: str = "dev"
    work_dir: Path = Path(".")
    backend_url: str | None = None
    kube_context: str | None = None
    kubeconfig: str | None = None
    config: Mapping[str, str] = field(default_factory=dict)
    secrets: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class RunResult:
    """What one engine run did: counts of operations by kind, the stack's plain outputs, wall time."""

    action: Action
    stack: str
    changes: dict[str, int]
    outputs: dict[str, Any]
    seconds: float

    @property
    def changed(self) -> int:
        """Operations other than `same` (and `read`): what a no-op run must report as 0."""
        return sum(n for op, n in self.changes.items() if op not in ("same", "read"))

    def as_dict(self) -> dict[str, Any]:
        return {
            "action": self.action,
            "stack": self.stack,
            "changes": self.changes,
            "changed": self.changed,
            "outputs": self.outputs,
            "seconds": round(self.seconds, 1),
        }


def _backend(options: StackOptions) -> str:
    url = options.backend_url or os.environ.get("PULUMI_BACKEND_URL") or DEFAULT_BACKEND
    if url.startswith("file://"):
        Path(os.path.expanduser(url.removeprefix("file://"))).mkdir(parents=True, exist_ok=True)
    return url


def _project_file_name(work_dir: Path) -> str | None:
    from ruamel.yaml import YAML

    for name in ("Pulumi.yaml", "Pulumi.yml"):
        path = work_dir / name
        if path.is_file():
            data = YAML(typ="safe").load(path.read_text(encoding="utf-8"))
            return str(data.get("name")) if isinstance(data, dict) else None
    return None


def _stack(specs: SpecSet, options: StackOptions) -> Any:
    from pulumi import automation as auto

    from mlops_scaffold.program import build_from_specs

    if specs.platform is None:
        raise UsageError("the spec holds no Platform document")
    if shutil.which("pulumi") is None:
        raise UsageError("the pulumi CLI is not on PATH: install it (https://www.pulumi.com/docs/install/)")
    if not any(os.environ.get(v) for v in PASSPHRASE_VARS):
        raise UsageError(
            "set PULUMI_CONFIG_PASSPHRASE (or PULUMI_CONFIG_PASSPHRASE_FILE): stack secrets are encrypted with it"
        )
    work_dir = options.work_dir.resolve()
    work_dir.mkdir(parents=True, exist_ok=True)
    existing = _project_file_name(work_dir)
    if existing not in (None, PROJECT):
        raise UsageError(
            f"{work_dir}/Pulumi.yaml is project {existing!r}; the platform stack needs project {PROJECT!r}"
        )

    def program() -> None:
        build_from_specs(specs)

    backend = _backend(options)
    settings = None
    if existing is None:
        settings = auto.ProjectSettings(
            name=PROJECT,
            runtime="python",
            description="The shared MLOps platform, built by mlops-scaffold.",
            backend=auto.ProjectBackend(url=backend),
        )
    env = {"PULUMI_BACKEND_URL": backend, "PULUMI_SKIP_UPDATE_CHECK": "true"}
    ws_opts = auto.LocalWorkspaceOptions(
        work_dir=str(work_dir), project_settings=settings, secrets_provider="passphrase", env_vars=env
    )
    try:
        stack = auto.create_or_select_stack(
            stack_name=options.stack, project_name=PROJECT, program=program, opts=ws_opts
        )
        if options.kube_context:
            stack.set_config("kubernetes:context", auto.ConfigValue(options.kube_context))
        if options.kubeconfig:
            stack.set_config("kubernetes:kubeconfig", auto.ConfigValue(options.kubeconfig))
        for key, value in sorted(options.config.items()):
            stack.set_config(key, auto.ConfigValue(value))
        for key, value in sorted(options.secrets.items()):
            stack.set_config(key, auto.ConfigValue(value, secret=True))
    except auto.CommandError as exc:
        raise EngineError(_engine_lines(exc)) from None
    return stack


def _engine_lines(exc: Exception) -> list[str]:
    """The engine's own error lines from a failed command, without the Automation API's wrapping.

    The Automation API folds the CLI's result into the message as `code: N / stdout: ... / stderr: ...`;
    the errors are the `error:` lines of stdout's Diagnostics section and whatever the CLI wrote to stderr.
    """
    text = str(exc)
    stdout, _, stderr = text.partition("\n stderr: ")
    stdout = stdout.partition("\n stdout: ")[2]
    diagnostics = stdout.split("Diagnostics:", 1)[1] if "Diagnostics:" in stdout else ""
    diagnostics = re.split(r"\n(?:Outputs|Resources):", diagnostics, maxsplit=1)[0]
    lines = [
        line.strip().removeprefix("error:").strip()
        for line in diagnostics.splitlines()
        if line.strip().startswith("error:")
    ]
    lines += [line.strip() for line in stderr.splitlines() if line.strip()]
    if not lines:
        lines = [line.strip() for line in stdout.splitlines() if line.strip()][-20:]
    return lines or [text.strip().splitlines()[0] if text.strip() else type(exc).__name__]


def _plain(outputs: Mapping[str, Any]) -> dict[str, Any]:
    """Stack outputs without secrets: a secret is shown as `[secret]`, as `pulumi stack output` does."""
    return {key: "[secret]" if out.secret else out.value for key, out in sorted(outputs.items())}


def run_platform(
    action: Action,
    specs: SpecSet,
    options: StackOptions,
    on_output: Callable[[str], None] | None = None,
    expect_no_changes: bool = False,
) -> RunResult:
    """Run one engine action on the platform stack and say what it did; `EngineError` when the engine fails."""
    from pulumi import automation as auto

    stack = _stack(specs, options)
    started = time.monotonic()
    try:
        if action == "preview":
            summary = stack.preview(on_output=on_output).change_summary
        else:
            run_action = {"up": stack.up, "refresh": stack.refresh, "destroy": stack.destroy}[action]
            summary = run_action(on_output=on_output).summary.resource_changes or {}
        changes = {str(op): int(n) for op, n in summary.items()}
        outputs = _plain(stack.outputs()) if action != "destroy" else {}
    except auto.CommandError as exc:
        raise EngineError(_engine_lines(exc)) from None
    run = RunResult(action, options.stack, changes, outputs, time.monotonic() - started)
    if expect_no_changes and run.changed:
        detail = ", ".join(f"{n} to {op}" for op, n in sorted(changes.items()) if op not in ("same", "read"))
        raise EngineError([f"{action} of stack {options.stack!r} found changes where none were expected: {detail}"], 3)
    return run
