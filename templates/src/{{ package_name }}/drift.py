"""Data and prediction drift of this model: PSI and Kolmogorov-Smirnov per feature, pushed as metrics."""

from __future__ import annotations

import json
import os
import pickle
import time
from pathlib import Path

import numpy as np

from .data import FEATURE_NAMES, make_dataset
from .drift_stats import drift_report, to_prometheus
from .pushgateway import drift_check, drift_detected, push


def columns(features: np.ndarray) -> dict[str, list[float]]:
    return {name: features[:, i].tolist() for i, name in enumerate(FEATURE_NAMES)}


def detected(report: dict[str, dict[str, float]], metric: str, threshold: float) -> bool:
    """Whether any feature or the predictions drifted past the platform's threshold."""
    return any(scores.get(metric, 0.0) > threshold for scores in report.values())


def main() -> None:
    from . import DRIFT_METRIC, DRIFT_THRESHOLD, MODEL_NAME

    reference, _ = make_dataset()
    seed = int(os.environ.get("DRIFT_SEED", "99"))
    current, _ = make_dataset(n_rows=500, seed=seed, shift=float(os.environ.get("DRIFT_SHIFT", "0")))
    ref_columns, cur_columns = columns(reference), columns(current)
    model_path = Path(os.environ.get("MODEL_PATH", "artifacts/model.pkl"))
    if model_path.exists():
        with model_path.open("rb") as handle:
            model = pickle.load(handle)  # noqa: S301 - our own artifact
        ref_columns["prediction"] = np.asarray(model.predict_proba(reference)).tolist()
        cur_columns["prediction"] = np.asarray(model.predict_proba(current)).tolist()
    report = drift_report(ref_columns, cur_columns)
    now = time.time()
    push("drift", {"model": MODEL_NAME}, to_prometheus(report, MODEL_NAME) + drift_check(MODEL_NAME, now))
    if detected(report, DRIFT_METRIC, DRIFT_THRESHOLD):
        push("drift", {"model": MODEL_NAME, "signal": "detected"}, drift_detected(MODEL_NAME, now))
    print(json.dumps(report, indent=2, sort_keys=True))


if __name__ == "__main__":
    main()
