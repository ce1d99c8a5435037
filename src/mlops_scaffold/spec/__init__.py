"""The typed spec: models for Platform and Project documents and the located-error loader."""

from mlops_scaffold.spec.loader import SpecDocument, SpecSet, load_spec, load_specs, parse_text
from mlops_scaffold.spec.platform import API_VERSION, Platform
from mlops_scaffold.spec.project import Project

__all__ = ["API_VERSION", "Platform", "Project", "SpecDocument", "SpecSet", "load_spec", "load_specs", "parse_text"]
