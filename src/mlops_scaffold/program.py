"""The platform's Pulumi program, shared by platform repositories (`__main__.py` calls it) and
`mlops-scaffold platform up` (which runs it inline through the Automation API)."""

from __future__ import annotations

from pathlib import Path

import pulumi

from mlops_scaffold.errors import ScaffoldError
from mlops_scaffold.spec import SpecSet, load_specs


def build_from_specs(specs: SpecSet) -> None:
    """Build the platform; a spec problem fails the program with the CLI's one line per problem."""
    from mlops_scaffold.components import build_platform

    try:
        build_platform(specs)
    except ScaffoldError as exc:
        raise pulumi.RunError("\n".join(exc.lines())) from None


def platform_program() -> None:
    """The program of a platform repository: the spec files named by `platform:spec`, comma-separated."""
    paths = [Path(p.strip()) for p in pulumi.Config().require("spec").split(",") if p.strip()]
    try:
        specs = load_specs(paths)
    except ScaffoldError as exc:
        raise pulumi.RunError("\n".join(exc.lines())) from None
    build_from_specs(specs)
