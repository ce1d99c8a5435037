"""The template's configuration matrix: every framework x serving mode x CI provider x DVC on/off
x GPU (where the framework trains on GPUs), with every other copier question filled in so that
every pair of values of any two questions appears in some configuration (all-pairs coverage),
edge values included (the longest names, most environments, extreme replicas and thresholds).

The generator is greedy and deterministic: each row takes, question by question, the value that
covers the most pairs not yet covered, among values the template's rules allow.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from typing import Any

from pydantic import BaseModel

from mlops_scaffold.questions import BY_NAME, _bounds, choices, copier_type, defaults

LONG_NAME = "m" + "-long" * 7 + "-abc"  # 40 characters, the most a project name may have
ENVIRONMENTS: dict[str, list[dict[str, Any]]] = {
    "one": [{"name": "prod", "approval": True, "min_replicas": 1, "max_replicas": 3}],
    "default": [
        {"name": "dev", "approval": False, "min_replicas": 1, "max_replicas": 2},
        {"name": "staging", "approval": False, "min_replicas": 1, "max_replicas": 3},
        {"name": "prod", "approval": True, "min_replicas": 2, "max_replicas": 10},
    ],
    "eight": [
        {"name": f"{'e' * 20}-{i}", "approval": i >= 6, "min_replicas": 1, "max_replicas": 1000} for i in range(2, 10)
    ],
}

def values(name: str) -> list[Any]:
    """A question's values in the matrix, from the table (src/mlops_scaffold/questions.py): the
    default first, then the choices (the ends and the default, for long lists), both booleans, the
    bounds of numbers (one step inside an open bound), or the table's samples of strings."""
    question = BY_NAME[name]
    default = defaults()[name]
    options = choices(question)
    if options is not None:
        return list(dict.fromkeys([default, *(options if len(options) <= 4 else [options[0], options[-1]])]))
    kind = copier_type(question)
    if kind == "bool":
        return [default, not default]
    if kind in ("int", "float"):
        step = 1 if kind == "int" else 0.001
        assert question.model is not None, name
        assert question.field is not None, name
        fields: list[tuple[type[BaseModel], str]] = [(question.model, question.field)]
        if question.alternative is not None:
            fields.append(question.alternative[1:])
        found = [default]
        for model, field in fields:
            bounds = _bounds(model.model_fields[field])
            low = bounds.get("ge", bounds["gt"] + step if "gt" in bounds else None)
            high = bounds.get("le", bounds["lt"] - step if "lt" in bounds else None)
            found += [v for v in (low, high) if v is not None]
        return sorted(dict.fromkeys(found), key=lambda v: (v != default, v))
    return list(dict.fromkeys([default, *question.samples]))


CORE: dict[str, list[Any]] = {
    "framework": values("framework"),
    "serving_mode": values("serving_mode"),
    "ci_provider": values("ci_provider"),
    "dvc": values("dvc"),
    "training_gpus": [0, 1],
}
"""Crossed in full (where valid)."""

TABLE_QUESTIONS = [
    "python_version", "target", "project_name", "owners", "description", "training_queue", "training_cpu",
    "training_memory", "training_schedule", "drift_metric", "drift_threshold", "drift_schedule",
    "serving_autoscaling", "serving_replicas", "serving_max_replicas", "serving_target_cpu", "alert_error_rate",
    "latency_ms", "dvc_remote", "dvc_endpoint", "ci_organization", "platform_stack", "registry",
]  # fmt: skip

OTHERS: dict[str, list[Any]] = {name: values(name) for name in TABLE_QUESTIONS} | {
    "environments": list(ENVIRONMENTS),
    "training_gpus_count": [1, 64],
}
"""Every pair of these values (with each other and with the core) is covered."""


def allowed(config: dict[str, Any]) -> bool:
    """The template's cross-question rules, on a partial configuration."""
    get = config.get
    if get("training_gpus") and get("framework") in ("sklearn", "lightgbm"):
        return False
    no_gpus = get("training_gpus") == 0 or get("framework") in ("sklearn", "lightgbm")
    if no_gpus and get("training_gpus_count") not in (None, 1):
        return False  # the GPU count only varies when the project has GPUs
    if get("serving_mode") not in (None, "online"):
        for question, neutral in (("serving_autoscaling", True), ("serving_replicas", 1), ("serving_target_cpu", 70)):
            if get(question) not in (None, neutral):
                return False
        if get("alert_error_rate") not in (None, 0.05) or get("latency_ms") not in (None, 250):
            return False
    if get("serving_autoscaling") and get("serving_replicas") == 0:
        return False
    if get("serving_autoscaling") and get("serving_replicas", 0) > get("serving_max_replicas", 1000):
        return False
    if get("serving_replicas") == 0 and get("serving_target_cpu") not in (None, 70):
        return False  # no replicas means no autoscaler, whose target is then left at its default
    if get("serving_autoscaling") is False and get("serving_target_cpu") not in (None, 70):
        return False
    if not get("dvc", True) and (get("dvc_remote") or get("dvc_endpoint")):
        return False
    return not (get("dvc_endpoint") and not str(get("dvc_remote", "s3://")).startswith("s3://"))


def _pairs(config: dict[str, Any]) -> Iterator[tuple[tuple[str, Any], tuple[str, Any]]]:
    items = sorted(config.items(), key=lambda kv: kv[0])
    for (a, x), (b, y) in itertools.combinations(items, 2):
        yield (a, repr(x)), (b, repr(y))


def _all_pairs() -> set[tuple[tuple[str, Any], tuple[str, Any]]]:
    space = CORE | OTHERS
    wanted = set()
    for a, b in itertools.combinations(sorted(space), 2):
        if a in CORE and b in CORE:
            continue  # crossed in full already
        for x in space[a]:
            for y in space[b]:
                if allowed({a: x, b: y}):
                    wanted.add(((a, repr(x)), (b, repr(y))))
    return wanted


def _complete(row: dict[str, Any], uncovered: set[Any]) -> dict[str, Any]:
    for question in OTHERS:
        if question in row:
            continue  # given by the pair this row is for
        best, best_gain = None, -1
        for value in OTHERS[question]:
            trial = row | {question: value}
            if not allowed(trial):
                continue
            gain = sum(((question, repr(value)), (q, repr(v))) in uncovered or
                       ((q, repr(v)), (question, repr(value))) in uncovered for q, v in row.items())
            if gain > best_gain:
                best, best_gain = value, gain
        if best_gain < 0:
            raise AssertionError(f"no value of {question} fits {row}")
        row = row | {question: best}
    return row


def configurations() -> list[dict[str, Any]]:
    uncovered = _all_pairs()
    rows: list[dict[str, Any]] = []
    for values in itertools.product(*CORE.values()):
        core = dict(zip(CORE, values, strict=True))
        if allowed(core):
            row = _complete(core, uncovered)
            uncovered -= set(_pairs(row))
            rows.append(row)
    while uncovered:  # rows led by a pair still missing
        (a, x), (b, y) = min(uncovered)
        space = CORE | OTHERS
        seed = {a: next(v for v in space[a] if repr(v) == x), b: next(v for v in space[b] if repr(v) == y)}
        base = {q: vs[0] for q, vs in CORE.items() if q not in seed}
        core = next(
            c
            for c in (seed | dict(zip(base, vs, strict=True)) for vs in itertools.product(*(CORE[q] for q in base)))
            if allowed(c)
        )
        row = _complete(core, uncovered)
        row = {q: row[q] for q in (*CORE, *OTHERS)}
        covered = set(_pairs(row))
        if not covered & uncovered:
            raise AssertionError(f"cannot cover {(a, x), (b, y)}")
        uncovered -= covered
        rows.append(row)
    return rows


EDGES: list[dict[str, Any]] = [
    {"serving_autoscaling": False, "serving_replicas": 1000},
    {"serving_autoscaling": False, "serving_replicas": 0},
    {"serving_replicas": 1000, "serving_max_replicas": 1000},
    {"framework": "pytorch", "training_gpus": 1, "training_gpus_count": 64},
    {"framework": "xgboost", "training_gpus": 1, "target": "aws", "environments": "eight"},
    {"drift_threshold": 10.0, "alert_error_rate": 0.999, "latency_ms": 5000},
    {"dvc_remote": "gs://team-data/dvc", "target": "gcp"},
    {"dvc_remote": "s3://mlflow-artifacts/dvc/x", "dvc_endpoint": "http://s3.mlflow.svc.cluster.local:8333"},
]
"""Extreme combinations, on the default configuration."""

DEFAULT: dict[str, Any] = {q: vs[0] for q, vs in (CORE | OTHERS).items()} | {"environments": "default"}
"""The template's defaults (a project with no answers): each question's first value is its default."""


def matrix() -> list[dict[str, Any]]:
    """The all-pairs configurations; then each value of each question alone on the default
    configuration (one factor at a time), and the extreme combinations."""
    one_at_a_time = [
        DEFAULT | {question: value}
        for question, values in OTHERS.items()
        for value in values
        if value != DEFAULT[question] and allowed(DEFAULT | {question: value})
    ]
    edges = [DEFAULT | edge for edge in EDGES]
    assert all(allowed(row) for row in edges)
    return configurations() + one_at_a_time + edges


def answers(row: dict[str, Any]) -> dict[str, Any]:
    """copier answers for one configuration."""
    answers = {k: v for k, v in row.items() if k not in ("training_gpus_count", "environments")}
    answers["training_gpus"] = row["training_gpus_count"] if row["training_gpus"] else 0
    answers["environments"] = ENVIRONMENTS[row["environments"]]
    if row["serving_mode"] != "online":
        for question in ("serving_autoscaling", "serving_replicas", "serving_max_replicas", "serving_target_cpu",
                         "alert_error_rate", "latency_ms"):
            answers.pop(question)
    elif not row["serving_autoscaling"]:
        answers.pop("serving_max_replicas")
        answers.pop("serving_target_cpu")
    if not row["dvc"]:
        answers.pop("dvc_remote")
        answers.pop("dvc_endpoint")
    elif not row["dvc_remote"].startswith("s3://"):
        answers.pop("dvc_endpoint")
    return answers


def pairs_missing(rows: list[dict[str, Any]]) -> set[Any]:
    """Pairs no row covers: empty for a matrix with all-pairs coverage."""
    covered = set()
    for row in rows:
        assert allowed(row), row
        covered |= set(_pairs(row))
    return _all_pairs() - covered
