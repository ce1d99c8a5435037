"""mlops-scaffold: scaffold MLOps platforms and projects from one typed spec."""

__version__ = "0.2.0"

from mlops_scaffold.errors import ScaffoldError, SpecError, SpecIssue
from mlops_scaffold.spec import Platform, Project, SpecSet, load_spec, load_specs

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
