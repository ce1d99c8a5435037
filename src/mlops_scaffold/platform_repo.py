"""`mlops-scaffold platform init`: a platform repository rendered from the template (kind: platform),
with the spec files and one Pulumi stack file per environment, which are the user's from then on."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from mlops_scaffold.errors import UsageError
from mlops_scaffold.questions import platform_answers
from mlops_scaffold.render import render_project
from mlops_scaffold.spec import Platform, SpecSet, load_specs
from mlops_scaffold.spec.schema import json_schema_text
from mlops_scaffold.spec.starters import SCHEMA_FILE, default_spec_text, default_specs

SPEC_DIR = "specs"
DEFAULT_SPEC = "platform.yaml"


def stack_file(platform: Platform, environment: str) -> str:
    """Pulumi.<environment>.yaml as `platform init` writes it once; `pulumi config set` adds to it."""
    secrets = [
        f"#   pulumi config set --secret {c.secret_key} --stack {environment}" for c in platform.monitoring.channels
    ]
    lines = [
        f"# The {environment} stack of the platform {platform.name}. Yours: `pulumi config set` writes here,",
        "# and template updates never touch this file. The spec files come from `platform:spec` in Pulumi.yaml.",
        "# The cluster (CI uses the context it writes, MLOPS_SCAFFOLD_KUBE_CONTEXT, instead):",
        f"#   pulumi config set kubernetes:context <kube context> --stack {environment}",
        *(["# Alert channel credentials the spec names:", *secrets] if secrets else []),
        "# Passwords you do not set (e.g. mlflowAdminPassword) are generated and kept as secrets in state.",
        "config: {}",
    ]
    return "\n".join(lines) + "\n"


def _spec_sources(spec_paths: Sequence[Path]) -> tuple[SpecSet, dict[str, str]]:
    if not spec_paths:
        return default_specs(), {f"{SPEC_DIR}/{DEFAULT_SPEC}": default_spec_text()}
    specs = load_specs(list(spec_paths))
    files: dict[str, str] = {}
    for path in spec_paths:
        relative = f"{SPEC_DIR}/{path.name}"
        if relative in files:
            raise UsageError(f"two spec files are named {path.name}; rename one so both fit in {SPEC_DIR}/")
        files[relative] = path.read_text(encoding="utf-8")
    return specs, files


def init_platform_repo(
    dst: Path,
    spec_paths: Sequence[Path] = (),
    *,
    force: bool = False,
    template: str | None = None,
    vcs_ref: str | None = None,
) -> Path:
    """Render the platform repository into `dst` (atomically; a non-empty `dst` needs `force`)."""
    specs, spec_files = _spec_sources(spec_paths)
    if specs.platform is None:
        names = ", ".join(str(p) for p in spec_paths)
        raise UsageError(f"{names} hold no Platform document; a platform repository starts from one")
    platform = specs.platform
    extra = dict(spec_files)
    extra[f"{SPEC_DIR}/{SCHEMA_FILE}"] = json_schema_text()
    for env in platform.environments:
        extra[f"Pulumi.{env.name}.yaml"] = stack_file(platform, env.name)
    answers = platform_answers(platform, list(spec_files))
    return render_project(dst, answers, template=template, vcs_ref=vcs_ref, force=force, extra_files=extra)
