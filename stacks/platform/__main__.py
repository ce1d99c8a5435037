"""Pulumi program of the shared platform: reads the spec path from stack config and builds it."""

from pathlib import Path

import pulumi

from mlops_scaffold import ScaffoldError, load_specs
from mlops_scaffold.components import build_platform

spec_paths = [Path(p.strip()) for p in pulumi.Config().require("spec").split(",")]
try:
    build_platform(load_specs(spec_paths))
except ScaffoldError as exc:
    # one line per problem, as the CLI prints them, instead of a Python traceback
    raise pulumi.RunError("\n".join(exc.lines())) from None
