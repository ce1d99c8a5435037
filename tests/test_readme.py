"""The README stays true: its reference matches the models and its test command is CI's."""

from __future__ import annotations

import re

from conftest import REPO

from mlops_scaffold.spec.schema import reference_markdown

README = (REPO / "README.md").read_text()


def test_spec_reference_matches_the_models() -> None:
    start, end = "<!-- spec-reference:start -->\n", "<!-- spec-reference:end -->"
    block = README[README.index(start) + len(start) : README.index(end)]
    assert block == reference_markdown(), "regenerate with: mlops-scaffold schema --format markdown"


def _quick_start() -> list[str]:
    section = README.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    block = re.search(r"```sh\n(.*?)```", section, re.DOTALL)
    assert block is not None
    return [line.split("#")[0].strip() for line in block.group(1).splitlines() if line.strip()]


def test_quick_start_is_exactly_two_commands_and_ci_runs_the_test_one() -> None:
    main_job, test_command = _quick_start()
    assert main_job == "bash scripts/quickstart"
    ci = (REPO / ".ci" / "run").read_text()
    assert test_command in ci.splitlines()
    assert (REPO / "scripts" / "quickstart").is_file()


def test_readme_diagram_is_the_plan_of_the_built_in_default() -> None:
    from mlops_scaffold.plan import format_mermaid, plan_platform
    from mlops_scaffold.spec.starters import default_specs

    block = README.split("```mermaid\n", 1)[1].split("```", 1)[0]
    assert block == format_mermaid(plan_platform(default_specs()))
