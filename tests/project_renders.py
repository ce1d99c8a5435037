"""The template's render matrix, rendered once per test process and shared by the test modules."""

from __future__ import annotations

import atexit
import itertools
import shutil
import tempfile
from functools import cache
from pathlib import Path
from typing import Any

from mlops_scaffold.render import render_project

FRAMEWORKS = ("sklearn", "xgboost", "lightgbm", "pytorch")
PROVIDERS = ("github", "gitlab")
SERVING = ("online", "batch", "none")
TARGETS = ("kubernetes", "aws", "gcp")
MATRIX = [
    (framework, provider, serving, TARGETS[i % len(TARGETS)])
    for i, (framework, provider, serving) in enumerate(itertools.product(FRAMEWORKS, PROVIDERS, SERVING))
]
IDS = ["-".join(c) for c in MATRIX]
RENDERS = Path(tempfile.mkdtemp(prefix="mlops-renders-"))
atexit.register(shutil.rmtree, RENDERS, True)  # shared by this process's tests; gone when it ends


def answers_for(combo: tuple[str, str, str, str]) -> dict[str, Any]:
    framework, provider, serving, target = combo
    return {
        "project_name": f"{framework}-{serving}",
        "framework": framework,
        "ci_provider": provider,
        "serving_mode": serving,
        "target": target,
        "training_gpus": 1 if framework in ("pytorch", "xgboost") else 0,
    }


@cache
def rendered(combo: tuple[str, str, str, str]) -> Path:
    return render_project(RENDERS / "-".join(combo), answers_for(combo))
