"""The exported JSON Schema is valid, checked in, and agrees with the models on every example."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from conftest import EXAMPLES, REPO
from jsonschema import Draft202012Validator
from ruamel.yaml import YAML

from mlops_scaffold.errors import SpecError
from mlops_scaffold.spec import parse_text
from mlops_scaffold.spec.schema import json_schema, json_schema_text

FENCE = re.compile(r"^```yaml\n(.*?)^```", re.DOTALL | re.MULTILINE)


def _example_texts() -> list[tuple[str, str]]:
    found = [(str(p.relative_to(REPO)), p.read_text()) for p in sorted(EXAMPLES.glob("*.yaml"))]
    for doc in [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]:
        for index, block in enumerate(FENCE.findall(doc.read_text())):
            if "apiVersion: mlops-scaffold/v1" in block or block.startswith("name:"):
                found.append((f"{doc.relative_to(REPO)}#{index}", block))
    return found


EXAMPLE_TEXTS = _example_texts()


def _validator() -> Draft202012Validator:
    return Draft202012Validator(json_schema())


def test_schema_is_valid_json_schema() -> None:
    for schema in (json_schema(), json_schema("platform"), json_schema("project")):
        Draft202012Validator.check_schema(schema)


def test_checked_in_schema_is_current() -> None:
    assert (REPO / "docs" / "mlops-scaffold.schema.json").read_text() == json_schema_text()


def test_there_are_examples_in_readme_and_docs() -> None:
    sources = {name.split("#")[0] for name, _ in EXAMPLE_TEXTS}
    assert "docs/spec.md" in sources
    assert len(EXAMPLE_TEXTS) >= 6


@pytest.mark.parametrize(("name", "text"), EXAMPLE_TEXTS, ids=[n for n, _ in EXAMPLE_TEXTS])
def test_every_example_passes_models_and_schema(name: str, text: str) -> None:
    parse_text(text, name)
    validator = _validator()
    for document in YAML(typ="safe").load_all(text):
        errors = [e.message for e in validator.iter_errors(document)]
        assert errors == [], errors


INVALID_FOR_BOTH: list[dict[str, Any]] = [
    {"name": "a", "target": "azure"},
    {"name": "a", "unknown": 1},
    {"kind": "Project", "name": "a", "framework": "julia"},
    {"kind": "Project", "name": "a" * 41},
    {"name": "a", "kubernetes_version": 1.3},
    {"name": "Upper"},
]


@pytest.mark.parametrize("document", INVALID_FOR_BOTH)
def test_schema_and_models_reject_the_same_basic_mistakes(document: dict[str, Any]) -> None:
    assert list(_validator().iter_errors(document)), document
    with pytest.raises(SpecError):
        parse_text(json.dumps(document), "doc.json")


def test_schema_file_in_examples_resolves() -> None:
    head = (EXAMPLES / "platform-full.yaml").read_text().splitlines()[0]
    relative = head.split("$schema=")[1]
    assert (EXAMPLES / relative).resolve() == (REPO / "docs" / "mlops-scaffold.schema.json").resolve()
    assert Path(EXAMPLES / relative).is_file()
