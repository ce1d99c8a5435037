"""The pipeline's parameters: params.yaml at the project root, the file `dvc.yaml` reads too.

$PARAMS_PATH points elsewhere (the image keeps it at /app/params.yaml).
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any

import yaml


def path() -> Path:
    return Path(os.environ.get("PARAMS_PATH", "params.yaml"))


def load(source: Path | None = None) -> dict[str, Any]:
    source = source or path()
    if not source.is_file():
        raise SystemExit(f"no {source}: run from the project root, or set PARAMS_PATH")
    loaded = yaml.safe_load(source.read_text())
    if not isinstance(loaded, dict):
        raise SystemExit(f"{source}: expected a mapping of parameter sections")
    return loaded


def digest(params: dict[str, Any]) -> str:
    """sha256 of the parameters as canonical JSON: the same values give the same hash, whatever the layout."""
    canonical = json.dumps(params, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()
