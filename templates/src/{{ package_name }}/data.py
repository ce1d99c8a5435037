"""A deterministic synthetic dataset, so that training works on the first try without downloads."""

from __future__ import annotations

import numpy as np

N_FEATURES = 8
FEATURE_NAMES = [f"f{i}" for i in range(N_FEATURES)]
_WEIGHTS = np.array([1.5, -2.0, 0.8, 0.0, 1.1, -0.6, 0.0, 0.4])


def make_dataset(n_rows: int = 2000, seed: int = 7, shift: float = 0.0) -> tuple[np.ndarray, np.ndarray]:
    """Features and binary labels; `shift` moves the feature distribution to simulate drift."""
    rng = np.random.default_rng(seed)
    features = rng.normal(loc=shift, scale=1.0, size=(n_rows, N_FEATURES))
    logits = features @ _WEIGHTS + rng.normal(scale=0.5, size=n_rows)
    labels = (logits > 0).astype(np.int64)
    return features, labels


def train_test_split(
    features: np.ndarray, labels: np.ndarray, test_share: float = 0.25, seed: int = 11
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    order = np.random.default_rng(seed).permutation(len(labels))
    cut = int(len(labels) * (1 - test_share))
    train, test = order[:cut], order[cut:]
    return features[train], features[test], labels[train], labels[test]
