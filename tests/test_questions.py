"""The one table between the spec and the template (src/mlops_scaffold/questions.py): copier.yml's
questions are generated from it, and for every question a generated set of boundary values is
put to both sides, the spec models (what `validate` runs) and copier's own question validation
(what `copier copy` runs on every answer): they accept and refuse the same values."""

from __future__ import annotations

import re
import shutil
import typing
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from copier._main import Worker
from copier._user_data import AnswersMap, Question
from pydantic import BaseModel, ValidationError

from mlops_scaffold.bundle import copier_settings, template_root
from mlops_scaffold.facts import FACTS
from mlops_scaffold.questions import (
    BY_NAME,
    PLATFORM,
    QUESTIONS,
    TEMPLATE_ONLY,
    _annotation,
    _bounds,
    _optional,
    answers_from_spec,
    asked,
    choices,
    copier_type,
    defaults,
    questions_block,
    regenerate,
)
from mlops_scaffold.questions import Question as TableQuestion
from mlops_scaffold.spec import Platform, Project
from mlops_scaffold.spec.fields import CRON, QUANTITY, python_pattern

COPIER_YML = template_root() / "copier.yml"


def test_copier_yml_questions_are_the_generated_ones() -> None:
    text = COPIER_YML.read_text(encoding="utf-8")
    assert regenerate(text) == text, "copier.yml is stale: run scripts/regen-docs"
    assert questions_block() in text


def test_every_question_of_copier_yml_is_in_the_table_or_the_template_own() -> None:
    asked = {k for k in copier_settings() if not k.startswith("_")}
    hidden = {"facts", "scaffold_version", "package_name", "torch_index"}
    assert asked == set(BY_NAME) | set(TEMPLATE_ONLY) | hidden


def test_the_template_facts_are_the_package_facts() -> None:
    assert copier_settings()["facts"]["default"] == FACTS.template_answer()
    assert set(FACTS.python_images) == set(typing.get_args(Project.model_fields["python_version"].annotation))


def test_the_tested_mlflow_is_the_shipped_mlflow() -> None:
    """The tests' MLflow server (constraints.txt) is the release the platform runs and projects pin."""
    from mlops_scaffold.catalog import IMAGES

    pins = dict(
        line.split("==", 1) for line in (template_root() / "constraints.txt").read_text().splitlines() if "==" in line
    )
    assert pins["mlflow"] == FACTS.mlflow.version
    assert IMAGES["mlflow"].endswith(f":{FACTS.mlflow.version}")


def test_answers_are_typed_and_only_questions() -> None:
    answers = answers_from_spec(Project.model_validate({"name": "demo"}))
    assert answers["project_name"] == "demo"
    with pytest.raises(KeyError, match="not questions of the template: nope"):
        type(answers)({"nope": 1})


# --- boundary values: the spec and copier accept and refuse the same ----------------------------

STRINGS = [
    "", "a", "-", "a-", "-a", "A", "a_b", "a.b", "é", " a", "a ", "a b", "a\n", "$x", "{x}", "<x>", '"x"', "x`",
    "my-model", "1a", "a" * 40, "a" * 41, "q" * 63, "q" * 64,
    "2", "+2", "500m", "500u", "1n", "4Gi", "1.5", ".5", "1.", "1e3", "1E-3", "16Mi", "2x", "Gi", "-1", "-0", "1 Gi",
    "0 3 * * 1", "@daily", "@reboot", "*/5 * * * *", "0 3 * *", "60 * * * *", "0 0 1 JAN mon", "0  3 * * 1",
    "*/0 * * * *", "0 0 31 12 7", "0 0 0 * *",
    "alice", "@alice", "org/ml-team", "bob@example.com", "ops&ml@example.com", "alice, bob", "alice,bob",
    "alice,, bob", "alice, ", "a,b@x.co", "x@y", "-alice",
    "s3://bucket/dvc/demo", "gs://my.bucket/x", "s3://ab", "s3://A/b", "data/remote", "/srv/dvc", "http://x/y",
    "http://s3.mlflow.svc.cluster.local:8333", "https://s3.example.com/", "ftp://x",
    "zot.registry.svc.cluster.local:5000", "123456789012.dkr.ecr.us-east-1.amazonaws.com", "Registry.example.com",
    "europe-docker.pkg.dev/p/r", "organization/platform/dev", "a/b", "a/b/c/d", "o" * 100, "o" * 101,
    "An ML project.", "x" * 200, "x" * 201,
]  # fmt: skip

ENVIRONMENTS: list[Any] = [
    [{"name": "dev"}],
    [{"name": "dev"}, {"name": "qa"}, {"name": "production", "approval": True}],
    [{"name": f"e{i}"} for i in range(8)],
    [{"name": f"e{i}"} for i in range(9)],
    [],
    [{"name": "Dev"}],
    [{"name": "e" * 22}],
    [{"name": "e" * 23}],
    [{"name": "dev", "min_replicas": 4, "max_replicas": 2}],
    [{"name": "prod"}],
    [{"name": "prod", "approval": True}],
    [{"name": "dev"}, {"name": "dev"}],
    {"name": "dev"},
]


def boundary_values(question: TableQuestion) -> list[Any]:
    """Values on both sides of every rule the question's field states, from the field itself."""
    if question.name == "environments":
        return ENVIRONMENTS
    options = choices(question)
    if options is not None:
        return [*options, "other" if isinstance(options[0], str) else 7]
    kind = copier_type(question)
    if kind == "bool":
        return [True, False]
    if kind in ("int", "float"):
        assert question.info is not None
        bounds = _bounds(question.info)
        step = 1 if kind == "int" else 0.001
        values = {question.info.get_default()}
        for name in ("ge", "gt", "le", "lt"):
            if name in bounds:
                values |= {bounds[name] - step, bounds[name], bounds[name] + step}
        return sorted(values)
    return [*STRINGS, *question.samples]


def _path(model: type[BaseModel], root: type[BaseModel], prefix: tuple[str, ...] = ()) -> tuple[str, ...] | None:
    if model is root:
        return prefix
    for name, info in root.model_fields.items():
        for candidate in (info.annotation, *typing.get_args(info.annotation)):
            if isinstance(candidate, type) and issubclass(candidate, BaseModel):
                found = _path(model, candidate, (*prefix, name))
                if found is not None:
                    return found
    return None


def _set(document: dict[str, Any], path: tuple[str, ...], value: Any) -> None:
    for key in path[:-1]:
        document = document.setdefault(key, {})
    document[path[-1]] = value


def spec_accepts(answers: dict[str, Any]) -> bool:
    """Whether the specs these answers stand for are valid: each answer is put at its field."""
    documents: dict[type[BaseModel], dict[str, Any]] = {Project: {"name": "demo"}, Platform: {"name": "demo"}}
    target = answers.get("target")
    if target in CLOUD_SECTIONS:  # a cloud target needs its section, which no question asks
        documents[Platform][target] = CLOUD_SECTIONS[target]
    for name, answer in answers.items():
        question = BY_NAME[name]
        model, field = question.model, question.field
        if model is None or field is None:
            assert question.checked is not None
            optional = question.default == ""  # empty means "not this": the endpoint of AWS S3 itself
            if (answer or not optional) and re.search(python_pattern(question.checked.pattern), answer) is None:
                return False
            continue
        if question.alternative is not None and not answers["serving_autoscaling"]:
            _, model, field = question.alternative
        value: Any = answer
        if question.joined:
            value = re.split(", ?", answer) if answer else []
        elif _optional(question.info) and answer == "":
            value = None
        root: type[BaseModel] = Project if _path(model, Project) is not None else Platform
        path = _path(model, root)
        assert path is not None, name
        _set(documents[root], (*path, field), value)
    try:
        for kind, document in documents.items():
            kind.model_validate(document)
    except (ValidationError, ValueError):
        return False
    return True


CLOUD_SECTIONS = {
    "aws": {"account_id": "123456789012", "region": "us-east-1"},
    "gcp": {"project": "demo-project-1", "region": "us-central1"},
}


@cache
def _worker(tmp: Path) -> Worker:
    snapshot = tmp / "template"
    snapshot.mkdir()
    shutil.copy2(COPIER_YML, snapshot / "copier.yml")
    return Worker(src_path=str(snapshot), dst_path=tmp / "dst", defaults=True, quiet=True)


def copier_accepts(tmp: Path, name: str, answers: dict[str, Any]) -> bool:
    """What copier's own question validation says of `answers[name]` (as for every `--data` answer),
    and of the answers whose rules read it (a rule between two questions sits on the later one)."""
    worker = _worker(tmp)
    context = {**defaults(), "kind": "platform" if BY_NAME[name].when == PLATFORM else "project", **answers}
    data = worker.template.questions_data
    readers = [n for n, d in data.items() if n != name and re.search(rf"\b{name}\b", str(d.get("validator", "")))]
    for checked in (name, *readers):
        if checked not in answers:
            continue
        question = Question(
            var_name=checked, answers=AnswersMap(), context=context, jinja_env=worker.jinja_env, **data[checked]
        )
        try:
            question.validate_answer(question.parse_answer(answers[checked]))
        except ValueError:
            return False
    return True


OTHERS: dict[str, list[dict[str, Any]]] = {
    "training_gpus": [{"framework": "pytorch"}, {"framework": "sklearn"}],
    "serving_replicas": [{"serving_autoscaling": True}, {"serving_autoscaling": False}],
    "serving_max_replicas": [{"serving_replicas": 2}, {"serving_replicas": 1000}],
    "dvc_endpoint": [{"dvc_remote": "s3://bucket/dvc"}],
}
"""Answers that other questions' rules read, tried both ways."""


@pytest.fixture(scope="module")
def copier_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("questions")


@pytest.mark.parametrize("question", QUESTIONS, ids=lambda q: q.name)
def test_validate_and_copier_accept_and_refuse_the_same_values(question: TableQuestion, copier_dir: Path) -> None:
    base = {q.name: v for q in QUESTIONS if (v := defaults()[q.name]) is not None}
    disagree = []
    for others in OTHERS.get(question.name, [{}]):
        for value in boundary_values(question):
            given = base | others | {question.name: value}
            kind = {"kind": "platform" if question.when == PLATFORM else "project"}
            answers = {n: v for n, v in given.items() if asked(BY_NAME[n], kind | given)}
            assert question.name in answers, f"{question.name} is not asked: the test would prove nothing"
            spec, copier = spec_accepts(answers), copier_accepts(copier_dir, question.name, answers)
            if spec != copier:
                disagree.append(f"{value!r} with {others}: validate {'accepts' if spec else 'refuses'}, copier "
                                f"{'accepts' if copier else 'refuses'}")
    assert disagree == []


def test_the_boundary_values_reach_both_sides_of_every_rule() -> None:
    """Each question's values are both accepted and refused somewhere (else the test proves nothing)."""
    base = {q.name: v for q in QUESTIONS if (v := defaults()[q.name]) is not None}
    for question in QUESTIONS:
        if copier_type(question) == "bool":
            continue
        verdicts = {spec_accepts(base | {question.name: v}) for v in boundary_values(question)}
        assert verdicts == {True, False}, question.name


def test_the_quantity_and_cron_rules_are_one_pattern_each() -> None:
    text = COPIER_YML.read_text()
    for rule in (QUANTITY, CRON):
        jinja = rule.pattern[:-1].replace("\\", "\\\\") + "\\\\Z"
        assert jinja in text


def test_issue_cases_that_validate_accepted_now_render(tmp_path: Path) -> None:
    from mlops_scaffold.render import render_project

    spec = Project.model_validate(
        {"name": "demo", "owners": ["ops&ml@example.com"], "training": {"cpu": "+2", "memory": "500u"}}
    )
    out = render_project(tmp_path / "demo", answers_from_spec(spec))
    assert 'CPU = "+2"' in (out / "ci/cluster.py").read_text()
    assert "ops&ml@example.com" in (out / "src/demo/__init__.py").read_text()


def test_a_question_type_follows_its_field() -> None:
    for question in QUESTIONS:
        annotation = _annotation(question.info)
        kind = copier_type(question)
        if annotation is bool:
            assert kind == "bool"
        elif annotation is int:
            assert kind == "int"
