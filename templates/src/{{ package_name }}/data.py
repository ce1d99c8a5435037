"""A deterministic synthetic dataset, so that training works on the first try without downloads."""

from __future__ import annotations

from pathlib import Path

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


PREPARED = Path("data/prepared")
"""Where `prepare` writes the train/test split that training and evaluation read (a DVC output)."""


def write_split(
    directory: Path, x_train: np.ndarray, x_test: np.ndarray, y_train: np.ndarray, y_test: np.ndarray
) -> None:
    """train.csv and test.csv: the features, then the label; plain text, so the same data gives the same bytes."""
    directory.mkdir(parents=True, exist_ok=True)
    header = ",".join([*FEATURE_NAMES, "label"])
    for name, features, labels in (("train", x_train, y_train), ("test", x_test, y_test)):
        table = np.column_stack([features, labels])
        np.savetxt(directory / f"{name}.csv", table, delimiter=",", header=header, comments="", fmt="%.17g")


def read_split(directory: Path = PREPARED) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The split `prepare` wrote: x_train, x_test, y_train, y_test."""
    if not (directory / "train.csv").is_file():
        raise SystemExit(f"no prepared data in {directory}: run `make train` (or `python -m <package>.prepare`)")
    train = np.loadtxt(directory / "train.csv", delimiter=",", skiprows=1, ndmin=2)
    test = np.loadtxt(directory / "test.csv", delimiter=",", skiprows=1, ndmin=2)
    return train[:, :-1], test[:, :-1], train[:, -1].astype(np.int64), test[:, -1].astype(np.int64)
