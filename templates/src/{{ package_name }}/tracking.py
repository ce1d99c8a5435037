"""Where MLflow runs and the model registry live: one answer for every pipeline step."""

from __future__ import annotations

import os
from pathlib import Path


def tracking_uri() -> str:
    """$MLFLOW_TRACKING_URI, else a local file store in ./mlruns (kept for offline, dependency-free use)."""
    configured = os.environ.get("MLFLOW_TRACKING_URI")
    if configured:
        return configured
    os.environ.setdefault("MLFLOW_ALLOW_FILE_STORE", "true")
    return Path("mlruns").resolve().as_uri()
