"""Valid specs: the minimal and the maximal example, defaults, and the typed field helpers."""

from __future__ import annotations

import typing
from decimal import Decimal
from typing import Any

import pytest
from conftest import EXAMPLES
from pydantic import BaseModel
from ruamel.yaml import YAML

from mlops_scaffold.spec import Platform, Project, load_spec, parse_text
from mlops_scaffold.spec.fields import check_cron, parse_quantity
from mlops_scaffold.spec.schema import _nested
from mlops_scaffold.spec.starters import starter_spec


def test_a_name_alone_is_a_valid_platform() -> None:
    specs = load_spec(EXAMPLES / "platform-minimal.yaml")
    platform = specs.platform
    assert platform is not None
    assert platform.target == "kubernetes"
    assert [e.name for e in platform.environments] == ["dev", "staging", "prod"]
    assert platform.environment("prod").approval is True
    assert platform.registry_type == "zot"
    assert platform.database_type == "in-cluster"
    assert [q.name for q in platform.training.queues] == ["default"]


def test_a_name_alone_is_a_valid_project() -> None:
    (doc,) = parse_text("kind: Project\nname: p\n", "p.yaml")
    assert isinstance(doc.model, Project)
    assert doc.model.framework == "sklearn"
    assert doc.model.training.schedule == "0 3 * * 1"


def _missing_keys(model: type[BaseModel], data: object, where: str) -> list[str]:
    """Model fields that no item of the example data sets, anywhere in the tree."""
    items = [i for i in (data if isinstance(data, list) else [data]) if isinstance(i, dict)]
    missing: list[str] = []
    for name, info in model.model_fields.items():
        key = info.alias or name
        present = [i[key] for i in items if key in i]
        if not present:
            missing.append(f"{where}.{key}")
            continue
        for nested in _nested(info.annotation):
            values: list[object] = []
            for value in present:
                if isinstance(value, dict) and typing.get_origin(info.annotation) is dict:
                    values += list(value.values())
                elif isinstance(value, list):
                    values += value
                elif value is not None:
                    values.append(value)
            missing += _missing_keys(nested, values, f"{where}.{key}")
    return missing


@pytest.mark.parametrize(
    ("files", "model"),
    [(["platform-full.yaml", "platform-gcp.yaml"], Platform), (["project-full.yaml"], Project)],
)
def test_maximal_examples_set_every_field_and_validate(files: list[str], model: type[BaseModel]) -> None:
    # aws and gcp exclude each other, so the platform's maximal example spans two files
    data = [YAML(typ="safe").load((EXAMPLES / file).read_text()) for file in files]
    assert _missing_keys(model, data, "") == []
    for file in files:
        specs = load_spec(EXAMPLES / file)
        assert len(specs.documents) == 1
        assert isinstance(specs.documents[0].model, model)


def test_multi_document_spec_holds_platform_and_projects() -> None:
    specs = load_spec(EXAMPLES / "mlops.yaml")
    assert specs.platform is not None
    assert [p.name for p in specs.projects] == ["churn", "vision"]
    assert specs.platform.training.has_gpus


@pytest.mark.parametrize("kind", ["platform", "project"])
def test_starters_are_valid_and_match_the_defaults(kind: typing.Literal["platform", "project"]) -> None:
    (doc,) = parse_text(starter_spec(kind, "starter", "./schema.json"), "starter.yaml")
    model = Platform if kind == "platform" else Project
    default = model.model_validate({"name": "starter"})
    # the starter writes out the defaults, so it must equal a spec holding only the name;
    # per-target defaults are spelt out in the starter and left unset (None) by the model
    per_target: dict[str, Any] = {
        "container_registry": {"type"},
        "model_registry": {"database": {"type"}, "artifact_store": {"type"}},
    }
    exclude: dict[str, Any] = per_target if kind == "platform" else {}
    assert doc.model.model_dump(exclude=exclude) == default.model_dump(exclude=exclude)
    if isinstance(doc.model, Platform) and isinstance(default, Platform):
        assert doc.model.registry_type == default.registry_type
        assert doc.model.database_type == default.database_type
        assert doc.model.artifact_store_type == default.artifact_store_type


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("500m", Decimal("0.5")),
        ("4", Decimal(4)),
        ("16Gi", Decimal(16 * 2**30)),
        ("1.5G", Decimal("1.5e9")),
        ("1e3", Decimal(1000)),
        (".5", Decimal("0.5")),
    ],
)
def test_quantities_parse(text: str, value: Decimal) -> None:
    assert parse_quantity(text) == value


@pytest.mark.parametrize("text", ["", "Gi", "12 GB", "1.2.3", "4gi", "--1"])
def test_bad_quantities_are_refused(text: str) -> None:
    with pytest.raises(ValueError, match="not a Kubernetes quantity"):
        parse_quantity(text)


@pytest.mark.parametrize(
    "text", ["0 3 * * 1", "*/15 * * * *", "0 0 1,15 * mon-fri", "@daily", "5 4 * jan sun", "0 0 * * 7"]
)
def test_good_crons(text: str) -> None:
    assert check_cron(text) == text


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("* * * *", "expected 5 fields"),
        ("60 * * * *", "minute 60"),
        ("* * 0 * *", "day of month 0"),
        ("* * * 13 *", "month 13"),
        ("*/0 * * * *", "step"),
        ("@sometimes", "expected 5 fields"),
        ("x * * * *", "not a valid minute"),
    ],
)
def test_bad_crons(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        check_cron(text)


def test_a_range_that_runs_backwards_is_left_to_the_api_server() -> None:
    # one pattern decides, for the spec and copier.yml alike; a pattern cannot compare two numbers
    assert check_cron("5-1 * * * *") == "5-1 * * * *"
