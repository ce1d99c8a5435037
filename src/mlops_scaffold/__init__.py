"""mlops-scaffold: scaffold MLOps platforms and projects from one typed spec."""

from mlops_scaffold.bundle import template_version
from mlops_scaffold.errors import ScaffoldError, SpecError, SpecIssue
from mlops_scaffold.spec import Platform, Project, SpecSet, load_spec, load_specs

__version__ = template_version()

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
