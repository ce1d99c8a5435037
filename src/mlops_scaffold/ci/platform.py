"""Render the platform repository's CI: preview on change requests, up per environment, nightly drift."""

from __future__ import annotations

from pathlib import Path

import jinja2

from mlops_scaffold.catalog import GITHUB_ACTIONS, PULUMI_CLI_VERSION
from mlops_scaffold.files import write_atomic
from mlops_scaffold.spec import Platform

TEMPLATES = Path(__file__).resolve().parent / "templates"
KUBE_CONTEXT = "platform"
"""The kubeconfig context CI writes; the platform program prefers it over the stack's context in CI."""


def _environment() -> jinja2.Environment:
    # GitHub and GitLab both use ${{ }} / $VAR, so our own templating uses [[ ]] and [% %]
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        variable_start_string="[[",
        variable_end_string="]]",
        block_start_string="[%",
        block_end_string="%]",
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        undefined=jinja2.StrictUndefined,
        autoescape=False,
    )


def platform_ci_files(platform: Platform, stack_dir: str = "stacks/platform") -> dict[str, str]:
    """Path (relative to the repository root) to content, for the spec's CI provider."""
    env = _environment()
    context = {
        "actions": GITHUB_ACTIONS,
        "pulumi_version": PULUMI_CLI_VERSION,
        "stack_dir": stack_dir,
        "environments": [e.name for e in platform.environments],
        "environment_specs": platform.environments,
        "backend": platform.ci.state_backend,
        "organization": platform.ci.organization,
        "kube_context": KUBE_CONTEXT,
    }
    files = {
        "ci/kubeconfig.py": (TEMPLATES / "kubeconfig.py").read_text(),
        "renovate.json": (TEMPLATES / "renovate.json").read_text(),
    }
    if platform.ci.provider == "github":
        context["setup"] = env.get_template("_setup.yml").render(context).rstrip("\n")
        for name in ("platform-preview", "platform-up", "platform-drift"):
            files[f".github/workflows/{name}.yml"] = env.get_template(f"github/{name}.yml").render(context)
    else:
        files[".gitlab-ci.yml"] = env.get_template("gitlab/gitlab-ci.yml").render(context)
    return files


def write_platform_ci(platform: Platform, root: Path, stack_dir: str = "stacks/platform") -> list[Path]:
    written = []
    for relative, text in sorted(platform_ci_files(platform, stack_dir).items()):
        target = root / relative
        write_atomic(target, text)
        written.append(target)
    return written
