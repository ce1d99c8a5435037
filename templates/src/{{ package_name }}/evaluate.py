"""Metrics and the quality gate a model must pass before it is registered."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np

GATE = {"accuracy": 0.8, "roc_auc": 0.85}
"""Lowest acceptable value of each metric."""
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


def failed_gates(values: dict[str, float], gate: dict[str, float] = GATE) -> list[str]:
    return [f"{name} {values[name]:.3f} < {low}" for name, low in gate.items() if values[name] < low]


def main() -> None:
    path = ARTIFACTS / "metrics.json"
    if not path.exists():
        sys.exit("no artifacts/metrics.json: run `make train` first")
    values = json.loads(path.read_text())
    failures = failed_gates(values)
    print(json.dumps(values, indent=2))
    if failures:
        sys.exit("gate failed: " + "; ".join(failures))
    print("gate passed")


if __name__ == "__main__":
    main()
