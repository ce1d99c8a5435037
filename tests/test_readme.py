"""The README and docs/ stay true: the reference matches the models, the diagram is the plan, the
test command is CI's, every link resolves, and the README stays a front door."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from conftest import REPO

from mlops_scaffold.spec.schema import reference_markdown

README = (REPO / "README.md").read_text()
DOCS = sorted((REPO / "docs").glob("*.md"))
PAGES = [REPO / "README.md", REPO / "CHANGELOG.md", *DOCS, REPO / "docs" / "examples" / "README.md"]
LINK = re.compile(r"\]\(([^)\s]+)\)")


def test_spec_reference_matches_the_models() -> None:
    spec = (REPO / "docs" / "spec.md").read_text()
    start, end = "<!-- spec-reference:start -->\n", "<!-- spec-reference:end -->"
    block = spec[spec.index(start) + len(start) : spec.index(end)]
    assert block == reference_markdown(), "regenerate with: bash scripts/regen-docs"


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


def test_the_readme_is_a_front_door() -> None:
    assert len(README.encode()) < 12 * 1024
    headings = re.findall(r"(?m)^## (.+)$", README)
    assert headings[:4] == ["Quick start", "Install", "Commands", "What you get"]


def test_the_plan_diagram_is_the_plan_of_the_built_in_default() -> None:
    from mlops_scaffold.plan import format_mermaid, plan_platform
    from mlops_scaffold.spec.starters import default_specs

    page = (REPO / "docs" / "platform.md").read_text()
    block = page.split("```mermaid\n", 1)[1].split("```", 1)[0]
    assert block == format_mermaid(plan_platform(default_specs()))


def test_every_command_is_in_the_readme() -> None:
    from mlops_scaffold.cli.main import cli

    table = README.split("## Commands", 1)[1].split("\n## ", 1)[0]
    for name, command in cli.commands.items():
        subcommands = getattr(command, "commands", {})
        for sub in subcommands or [""]:
            assert f"`mlops-scaffold {name} {sub}".rstrip() in table or f"mlops-scaffold {name} " in table, (name, sub)


def _anchor(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces to dashes."""
    text = re.sub(r"[^\w\- ]", "", heading.strip().lower().replace("`", ""))
    return text.replace(" ", "-")


def _anchors(page: Path) -> set[str]:
    text = re.sub(r"(?s)```.*?```", "", page.read_text())
    return {_anchor(h) for h in re.findall(r"(?m)^#+ (.+)$", text)}


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(REPO)))
def test_every_relative_link_resolves(page: Path) -> None:
    text = re.sub(r"(?s)```.*?```", "", page.read_text())
    for target in LINK.findall(text):
        if "://" in target or target.startswith("mailto:"):
            continue
        path, _, anchor = target.partition("#")
        resolved = (page.parent / path).resolve() if path else page
        assert resolved.exists(), f"{page.name}: {target} does not exist"
        if anchor and resolved.suffix == ".md":
            assert anchor in _anchors(resolved), f"{page.name}: {target} names no heading"
