"""Log a trained model to MLflow and register it, pointing an alias at the new version."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import mlflow
import mlflow.pyfunc
from mlflow import MlflowClient
from mlflow.pyfunc import PythonModel


class PyfuncModel(PythonModel):
    """Wraps our Model so that any MLflow consumer can load it with mlflow.pyfunc.load_model."""

    def __init__(self, model: Any) -> None:
        self.model = model

    def predict(self, context, model_input, params=None):  # MLflow reads these hints: keep them off
        import numpy as np

        return self.model.predict_proba(np.asarray(model_input, dtype=float))


def tracking_uri() -> str:
    """$MLFLOW_TRACKING_URI, else a local file store in ./mlruns (kept for offline, dependency-free use)."""
    configured = os.environ.get("MLFLOW_TRACKING_URI")
    if configured:
        return configured
    os.environ.setdefault("MLFLOW_ALLOW_FILE_STORE", "true")
    return Path("mlruns").resolve().as_uri()


def log_and_register(
    model: Any, params: dict[str, Any], metrics: dict[str, float], name: str, alias: str | None
) -> tuple[str, str | None]:
    """Log params, metrics and the model; register it and set `alias` when given. Returns run id and version."""
    mlflow.set_tracking_uri(tracking_uri())
    mlflow.set_experiment(name)
    with mlflow.start_run() as run:
        mlflow.log_params(params)
        mlflow.log_metrics(metrics)
        info = mlflow.pyfunc.log_model(name="model", python_model=PyfuncModel(model))
    if alias is None:
        return run.info.run_id, None
    version = mlflow.register_model(info.model_uri, name)
    MlflowClient().set_registered_model_alias(name, alias, version.version)
    return run.info.run_id, str(version.version)
