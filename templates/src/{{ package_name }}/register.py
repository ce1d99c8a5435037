"""Pipeline step 4: log the evaluated model to MLflow with its lineage and model card, register it,
and move the `champion` alias to it only if it passed the gate.

Every version is registered, so a failed one stays traceable (tag `governance.gate: failed`); a
failure leaves `champion` where it was and exits non-zero, which fails the CI run.
"""

from __future__ import annotations

import json
import pickle
import sys
import time
from pathlib import Path
from typing import Any

import mlflow
import mlflow.pyfunc
from mlflow import MlflowClient
from mlflow.pyfunc import PythonModel

from .tracking import tracking_uri

CHAMPION = "champion"


class PyfuncModel(PythonModel):
    """Wraps our Model so that any MLflow consumer can load it with mlflow.pyfunc.load_model."""

    def __init__(self, model: Any) -> None:
        self.model = model

    def predict(self, context, model_input, params=None):  # MLflow reads these hints: keep them off
        import numpy as np

        return self.model.predict_proba(np.asarray(model_input, dtype=float))


def _flat(params: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    flat: dict[str, Any] = {}
    for key, value in params.items():
        if isinstance(value, dict):
            flat |= _flat(value, f"{prefix}{key}.")
        else:
            flat[f"{prefix}{key}"] = value
    return flat


def log_and_register(
    model: Any,
    params: dict[str, Any],
    metrics: dict[str, float],
    name: str,
    passed: bool,
    tags: dict[str, str] | None = None,
    artifacts: list[Path] | None = None,
) -> tuple[str, str]:
    """Log and register a version tagged with its lineage; point `champion` at it only if `passed`.
    Returns the run id and the new version."""
    mlflow.set_tracking_uri(tracking_uri())
    mlflow.set_experiment(name)
    tags = dict(tags or {})
    with mlflow.start_run(tags=tags) as run:
        mlflow.log_params(params)
        mlflow.log_metrics(metrics)
        for path in artifacts or []:
            if path.is_file():
                mlflow.log_artifact(str(path), artifact_path="model_card" if "model_card" in path.name else None)
        info = mlflow.pyfunc.log_model(name="model", python_model=PyfuncModel(model))
    tags["governance.gate"] = "passed" if passed else "failed"
    version = mlflow.register_model(info.model_uri, name, tags=tags)
    if passed:
        MlflowClient().set_registered_model_alias(name, CHAMPION, version.version)
    return run.info.run_id, str(version.version)


def champion(name: str) -> str | None:
    """The version `champion` points at, if any."""
    try:
        return str(MlflowClient().get_model_version_by_alias(name, CHAMPION).version)
    except mlflow.exceptions.MlflowException:
        return None


def main() -> None:
    from . import MODEL_NAME
    from .evaluate import ARTIFACTS
    from .lineage import REGISTERED, collect
    from .model import FRAMEWORK
    from .params import load
    from .pushgateway import push, training_success

    card_path = ARTIFACTS / "model_card.json"
    if not card_path.is_file():
        raise SystemExit(f"no {card_path}: run `make train` (the pipeline evaluates before it registers)")
    card = json.loads(card_path.read_text())
    with (ARTIFACTS / "model.pkl").open("rb") as handle:
        model = pickle.load(handle)  # noqa: S301 - our own artifact
    values = {name: metric["value"] for name, metric in card["metrics"].items()}
    params = {"framework": FRAMEWORK, **_flat(load())}
    passed = bool(card["gate"]["passed"])
    artifacts = [ARTIFACTS / n for n in ("model_card.md", "model_card.json", "metrics.json", "roc.csv")]
    run_id, version = log_and_register(model, params, values, MODEL_NAME, passed, collect(), artifacts)
    record = {"model": MODEL_NAME, "version": version, "run_id": run_id, "gate": "passed" if passed else "failed"}
    REGISTERED.write_text(json.dumps(record, sort_keys=True) + "\n")
    print(json.dumps({"tracking_uri": tracking_uri(), **record, **values}, sort_keys=True))
    if not passed:
        held = champion(MODEL_NAME)
        sys.exit(
            f"gate failed ({'; '.join(card['gate']['failures'])}): version {version} is registered, "
            f"champion stays at {'version ' + held if held else 'no version'}"
        )
    timing_path = ARTIFACTS / "training.json"
    timing = json.loads(timing_path.read_text()) if timing_path.is_file() else {}
    # the platform's staleness alert counts days since this gauge last moved
    push("training", {"model": MODEL_NAME}, training_success(MODEL_NAME, time.time(), timing.get("duration_seconds")))


if __name__ == "__main__":
    main()
