"""The stacks a platform has: one per environment of its spec."""

from __future__ import annotations

from mlops_scaffold.errors import UsageError
from mlops_scaffold.spec import Platform, SpecSet


def require_environment_stack(specs: SpecSet, stack: str) -> None:
    """Refuse a `--stack` that names no environment of the spec (a typo would plan or deploy an
    environment nobody declared)."""
    platform = specs.platform or Platform.model_validate({"name": "platform"})
    names = [e.name for e in platform.environments]
    if stack not in names:
        raise UsageError(
            f"--stack {stack}: not an environment of platform {platform.name!r}; choose one of {', '.join(names)}"
        )
