"""Pipeline stage 3: metrics on the test split, the quality gate, the ROC curve and the model card.

The gate (the lowest acceptable value of each metric) is `evaluate.gate` in params.yaml. This stage
records whether the model passed; `register` then moves the `champion` alias only if it did.
"""

from __future__ import annotations

import json
import pickle
from pathlib import Path

import numpy as np

ARTIFACTS = Path("artifacts")


def roc_auc(labels: np.ndarray, scores: np.ndarray) -> float:
    """Area under the ROC curve via the rank-sum (Mann-Whitney U) identity, with ties averaged."""
    order = np.argsort(scores, kind="mergesort")
    ranks = np.empty(len(scores))
    sorted_scores = scores[order]
    i = 0
    while i < len(scores):
        j = i
        while j + 1 < len(scores) and sorted_scores[j + 1] == sorted_scores[i]:
            j += 1
        ranks[order[i : j + 1]] = (i + j) / 2 + 1
        i = j + 1
    positives = labels == 1
    n_pos, n_neg = int(positives.sum()), int((~positives).sum())
    if n_pos == 0 or n_neg == 0:
        raise ValueError("ROC AUC needs both classes")
    return float((ranks[positives].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


def metrics(labels: np.ndarray, scores: np.ndarray) -> dict[str, float]:
    predictions = (scores >= 0.5).astype(labels.dtype)
    return {"accuracy": float((predictions == labels).mean()), "roc_auc": roc_auc(labels, scores)}


def gate() -> dict[str, float]:
    """The lowest acceptable value of each metric: params.yaml's `evaluate.gate`."""
    from .params import load

    return {name: float(low) for name, low in load()["evaluate"]["gate"].items()}


def failed_gates(values: dict[str, float], thresholds: dict[str, float] | None = None) -> list[str]:
    thresholds = gate() if thresholds is None else thresholds
    return [f"{name} {values[name]:.3f} < {low}" for name, low in thresholds.items() if values[name] < low]


def roc_points(labels: np.ndarray, scores: np.ndarray, steps: int = 50) -> list[tuple[float, float, float]]:
    """(threshold, false positive rate, true positive rate) at evenly spaced thresholds, for `dvc plots`."""
    positives, negatives = max(int((labels == 1).sum()), 1), max(int((labels != 1).sum()), 1)
    points = []
    for threshold in np.linspace(1.0, 0.0, steps + 1):
        predicted = scores >= threshold
        tpr = float((predicted & (labels == 1)).sum() / positives)
        fpr = float((predicted & (labels != 1)).sum() / negatives)
        points.append((round(float(threshold), 4), round(fpr, 6), round(tpr, 6)))
    return points


def main() -> None:
    from .model_card import build, markdown
    from .prepare import read_split

    model_path = ARTIFACTS / "model.pkl"
    if not model_path.is_file():
        raise SystemExit(f"no {model_path}: run `make train` first")
    with model_path.open("rb") as handle:
        model = pickle.load(handle)  # noqa: S301 - our own artifact
    _, x_test, _, y_test = read_split()
    scores = np.asarray(model.predict_proba(x_test), dtype=float)
    values = metrics(y_test, scores)
    thresholds = gate()
    (ARTIFACTS / "metrics.json").write_text(json.dumps(values, indent=2, sort_keys=True) + "\n")
    rows = "".join(f"{t},{f},{p}\n" for t, f, p in roc_points(y_test, scores))
    (ARTIFACTS / "roc.csv").write_text("threshold,fpr,tpr\n" + rows)
    card = build(values, thresholds, failed_gates(values, thresholds))
    (ARTIFACTS / "model_card.json").write_text(json.dumps(card, indent=2, sort_keys=True) + "\n")
    (ARTIFACTS / "model_card.md").write_text(markdown(card))
    print(json.dumps(values, sort_keys=True))
    print("gate passed" if card["gate"]["passed"] else "gate failed: " + "; ".join(card["gate"]["failures"]))


if __name__ == "__main__":
    main()
