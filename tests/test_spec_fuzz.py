"""Hypothesis: arbitrary text and mutated valid specs never raise anything but SpecError."""

from __future__ import annotations

from typing import Any

from conftest import EXAMPLES
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from ruamel.yaml import YAML

from mlops_scaffold.errors import SpecError
from mlops_scaffold.spec import parse_text

FUZZ = settings(max_examples=1000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
SEEDS = [(EXAMPLES / name).read_text() for name in ("platform-full.yaml", "project-full.yaml", "mlops.yaml")]
YAML_BITS = st.sampled_from(
    [
        ":",
        "- ",
        "[",
        "]",
        "{",
        "}",
        "&a ",
        "*a",
        "!!python/object:os.system ",
        "!x ",
        "<<: ",
        "\n",
        "  ",
        "'",
        '"',
        "#",
        "---\n",
        "...\n",
        "? ",
        "|\n",
        ">-\n",
        "\t",
        "%YAML 1.1\n",
        "\ufeff",
        "\x00",
        "1e9999",
        "-.inf",
        "0o777",
        "~",
        "name",
        "kind: Project\n",
        "apiVersion: mlops-scaffold/v1\n",
    ]
)


def _only_spec_errors(text: str) -> None:
    try:
        parse_text(text, "fuzz.yaml")
    except SpecError as exc:
        for issue in exc.issues:
            assert issue.line >= 1
            assert issue.column >= 1
            assert "\n" not in issue.message


@FUZZ
@given(st.text(max_size=300))
def test_arbitrary_text(text: str) -> None:
    _only_spec_errors(text)


@FUZZ
@given(st.lists(st.one_of(YAML_BITS, st.text(max_size=8)), max_size=40))
def test_yaml_shaped_noise(parts: list[str]) -> None:
    _only_spec_errors("".join(parts))


@FUZZ
@given(st.sampled_from(SEEDS), st.integers(min_value=0), st.integers(min_value=0, max_value=40), st.text(max_size=12))
def test_text_splices_of_valid_specs(seed: str, where: int, cut: int, insert: str) -> None:
    at = where % (len(seed) + 1)
    _only_spec_errors(seed[:at] + insert + seed[at + cut :])


SCALARS = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), st.text(max_size=20))


def _paths(data: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [prefix]
    if isinstance(data, dict):
        for key, value in data.items():
            out += _paths(value, (*prefix, key))
    elif isinstance(data, list):
        for index, value in enumerate(data):
            out += _paths(value, (*prefix, index))
    return out


@FUZZ
@given(st.sampled_from(SEEDS[:2]), st.data())
def test_structural_mutations_of_valid_specs(seed: str, data: st.DataObject) -> None:
    import io

    yaml = YAML(typ="safe")
    tree = yaml.load(seed)
    paths = [p for p in _paths(tree) if p]
    path = data.draw(st.sampled_from(paths))
    replacement = data.draw(
        st.one_of(SCALARS, st.lists(SCALARS, max_size=3), st.dictionaries(st.text(max_size=5), SCALARS, max_size=3))
    )
    parent = tree
    for part in path[:-1]:
        parent = parent[part]
    if data.draw(st.booleans()):
        parent[path[-1]] = replacement
    elif isinstance(parent, dict):
        del parent[path[-1]]
    else:
        parent.pop(path[-1])
    out = io.StringIO()
    YAML(typ="safe").dump(tree, out)
    _only_spec_errors(out.getvalue())
