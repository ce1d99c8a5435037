"""mlops-scaffold: scaffold MLOps platforms and projects from one typed spec."""

from __future__ import annotations

TYPE_CHECKING = False  # not typing's: importing typing would slow the CLI's first milliseconds

if TYPE_CHECKING:
    from typing import Any

    from mlops_scaffold.errors import ScaffoldError, SpecError, SpecIssue
    from mlops_scaffold.spec import Platform, Project, SpecSet, load_spec, load_specs

_EXPORTS = {
    "Platform": "mlops_scaffold.spec",
    "Project": "mlops_scaffold.spec",
    "SpecSet": "mlops_scaffold.spec",
    "load_spec": "mlops_scaffold.spec",
    "load_specs": "mlops_scaffold.spec",
    "ScaffoldError": "mlops_scaffold.errors",
    "SpecError": "mlops_scaffold.errors",
    "SpecIssue": "mlops_scaffold.errors",
}


def __getattr__(name: str) -> Any:
    # the public names load on first use, so `import mlops_scaffold` (and the CLI's start) stays light
    if name == "__version__":
        from mlops_scaffold.bundle import package_version

        return package_version()
    if name in _EXPORTS:
        from importlib import import_module

        return getattr(import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'mlops_scaffold' has no attribute {name!r}")


__all__ = [
    "Platform",
    "Project",
    "ScaffoldError",
    "SpecError",
    "SpecIssue",
    "SpecSet",
    "__version__",
    "load_spec",
    "load_specs",
]
