"""Data and prediction drift: PSI and Kolmogorov-Smirnov per feature, exported as Prometheus metrics."""

from __future__ import annotations

import json
import os
import pickle
from pathlib import Path

import numpy as np

from .data import FEATURE_NAMES, make_dataset

EPSILON = 1e-6


def psi(reference: np.ndarray, current: np.ndarray, bins: int = 10) -> float:
    """Population stability index over `bins` quantile bins of the reference."""
    edges = np.unique(np.quantile(reference, np.linspace(0, 1, bins + 1)))
    edges[0], edges[-1] = -np.inf, np.inf
    expected = np.histogram(reference, edges)[0] / len(reference)
    actual = np.histogram(current, edges)[0] / len(current)
    expected = np.clip(expected, EPSILON, None)
    actual = np.clip(actual, EPSILON, None)
    return float(np.sum((actual - expected) * np.log(actual / expected)))


def ks(reference: np.ndarray, current: np.ndarray) -> float:
    """Two-sample Kolmogorov-Smirnov statistic: the largest gap between the two empirical CDFs."""
    values = np.sort(np.concatenate([reference, current]))
    ref_cdf = np.searchsorted(np.sort(reference), values, side="right") / len(reference)
    cur_cdf = np.searchsorted(np.sort(current), values, side="right") / len(current)
    return float(np.max(np.abs(ref_cdf - cur_cdf)))


def drift_report(reference: np.ndarray, current: np.ndarray, names: list[str]) -> dict[str, dict[str, float]]:
    return {
        name: {"psi": psi(reference[:, i], current[:, i]), "ks": ks(reference[:, i], current[:, i])}
        for i, name in enumerate(names)
    }


def to_prometheus(report: dict[str, dict[str, float]], model: str) -> str:
    """The report in the Prometheus text format, for a Pushgateway or a textfile collector."""
    lines = [
        "# HELP model_drift_score Drift of a feature or of predictions against the training data.",
        "# TYPE model_drift_score gauge",
    ]
    for feature, scores in sorted(report.items()):
        for method, value in sorted(scores.items()):
            labels = f'model="{model}",feature="{feature}",method="{method}"'
            lines.append("model_drift_score{" + labels + "} " + f"{value:.6f}")
    return "\n".join(lines) + "\n"


def main() -> None:
    from . import MODEL_NAME

    reference, _ = make_dataset()
    seed = int(os.environ.get("DRIFT_SEED", "99"))
    current, _ = make_dataset(n_rows=500, seed=seed, shift=float(os.environ.get("DRIFT_SHIFT", "0")))
    report = drift_report(reference, current, FEATURE_NAMES)
    model_path = Path(os.environ.get("MODEL_PATH", "artifacts/model.pkl"))
    if model_path.exists():
        with model_path.open("rb") as handle:
            model = pickle.load(handle)  # noqa: S301 - our own artifact
        report["prediction"] = {
            "psi": psi(model.predict_proba(reference), model.predict_proba(current)),
            "ks": ks(model.predict_proba(reference), model.predict_proba(current)),
        }
    text = to_prometheus(report, MODEL_NAME)
    gateway = os.environ.get("PUSHGATEWAY_URL")
    if gateway:
        from prometheus_client.exposition import default_handler

        url = f"{gateway}/metrics/job/drift/model/{MODEL_NAME}"
        default_handler(url, "PUT", 10, [("Content-Type", "text/plain")], text.encode())()
    print(json.dumps(report, indent=2, sort_keys=True))


if __name__ == "__main__":
    main()
