"""Rough edges a new user met, each pinned down: spec files read together by `new`, one-line errors
for bad templates, `schema --kind` in markdown, CIDR ranges, the documented example combinations,
the generated Makefile's interpreter, and the fleet table, push and trust messages."""

from __future__ import annotations

import json
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import REPO, CliRunner
from fleet_repos import build_template, generate, git
from ruamel.yaml import YAML

from mlops_scaffold.fleet import UpdateOptions, update_fleet

EXAMPLES = REPO / "docs" / "examples"


def test_new_reads_every_spec_file_given(cli: CliRunner, tmp_path: Path) -> None:
    platform = tmp_path / "platform.yaml"
    platform.write_text("name: acme\nci: {provider: gitlab, organization: acme-ml}\n")
    project = tmp_path / "project.yaml"
    project.write_text("kind: Project\nname: churn\n")
    result = cli("new", "--spec", platform, "--spec", project, tmp_path / "churn")
    assert result.code == 0, result.err
    answers = YAML(typ="safe").load((tmp_path / "churn" / ".copier-answers.yml").read_text())
    assert (answers["ci_provider"], answers["ci_organization"]) == ("gitlab", "acme-ml")
    assert (tmp_path / "churn" / ".gitlab-ci.yml").is_file()


@pytest.mark.parametrize(
    ("template", "ref", "says"),
    [
        (
            "https://git.invalid/acme/template.git",
            None,
            "could not fetch the template https://git.invalid/acme/template.git",
        ),
        ("{clone}", "v9.9.9", "Unknown revision: 'v9.9.9'"),
        ("{missing}", None, "no such folder"),
    ],
)
def test_new_with_a_bad_template_is_one_line(
    cli: CliRunner, tmp_path: Path, template: str, ref: str | None, says: str
) -> None:
    clone = build_template(tmp_path)
    source = template.format(clone=clone, missing=tmp_path / "nowhere")
    args = ["new", "--defaults", "--template", source, *(["--vcs-ref", ref] if ref else []), tmp_path / "out"]
    result = cli(*args)
    assert result.code != 0
    assert len(result.err.strip().splitlines()) == 1, result.err
    assert says in result.err
    assert "Traceback" not in result.err
    assert not (tmp_path / "out").exists()


def test_new_records_a_local_template_as_an_absolute_path(
    cli: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    clone = build_template(tmp_path)
    monkeypatch.chdir(tmp_path)
    assert cli("new", "--defaults", "--template", clone.name, "--vcs-ref", "v1", "out").code == 0
    answers = YAML(typ="safe").load((tmp_path / "out" / ".copier-answers.yml").read_text())
    assert answers["_src_path"] == str(clone)
    assert answers["_commit"] == "v1"


def test_schema_markdown_honours_kind(cli: CliRunner) -> None:
    project = cli("schema", "--kind", "project", "--format", "markdown").out
    platform = cli("schema", "--kind", "platform", "--format", "markdown").out
    both = cli("schema", "--format", "markdown").out
    assert re.findall(r"(?m)^#### (\w+)$", project)[0] == "Project"
    assert "#### Platform\n" not in project
    assert "#### Project\n" not in platform
    assert len(both) > len(project)
    assert len(both) > len(platform)


@pytest.mark.parametrize(
    ("cidr", "says"),
    [("10.0.0.0/33", "not a CIDR block"), ("10.0.0.0/8", "prefix /8 is out of range"), ("10.0.0.1/16", "host bits")],
)
def test_a_vpc_cidr_out_of_range_is_refused_with_its_place(
    cli: CliRunner, tmp_path: Path, cidr: str, says: str
) -> None:
    spec = tmp_path / "aws.yaml"
    spec.write_text(
        f'name: p\ntarget: aws\naws:\n  region: eu-west-1\n  account_id: "123456789012"\n  vpc_cidr: {cidr}\n'
    )
    result = cli("validate", spec)
    assert result.code == 1
    assert result.out.startswith(f"{spec}:6:3: aws.vpc_cidr: ")
    assert says in result.out


def _documented_combinations() -> list[list[str]]:
    text = (EXAMPLES / "README.md").read_text()
    return [
        shlex.split(line.split("#")[0])[2:] for line in text.splitlines() if line.startswith("mlops-scaffold validate ")
    ]


def test_every_example_file_is_in_a_documented_combination() -> None:
    used = {Path(f).name for combo in _documented_combinations() for f in combo}
    assert used == {p.name for p in EXAMPLES.glob("*.yaml")}


@pytest.mark.parametrize("files", _documented_combinations(), ids=lambda files: "+".join(Path(f).stem for f in files))
def test_documented_example_combinations_validate(cli: CliRunner, files: list[str]) -> None:
    result = cli("validate", *[REPO / f for f in files])
    assert result.code == 0, result.out


def _make(project: Path, path: str, *flags: str) -> subprocess.CompletedProcess[str]:
    make = shutil.which("make")
    assert make is not None, "make is needed (scripts/install-tools installs it)"
    return subprocess.run(
        [make, *flags, ".venv/bin/python"], cwd=project, env={"PATH": path}, capture_output=True, text=True, check=False
    )


def test_the_generated_makefile_finds_a_suitable_python(cli: CliRunner, tmp_path: Path) -> None:
    here = f"{sys.version_info.major}.{sys.version_info.minor}"  # the interpreter running the tests
    newer = f"{sys.version_info.major}.{sys.version_info.minor + 1}"
    spec = tmp_path / "p.yaml"
    spec.write_text(f'kind: Project\nname: finder\npython_version: "{here}"\n')
    assert cli("new", "--spec", spec, tmp_path / "p").code == 0
    # a PATH whose only interpreter is `python3`, this very one: chosen for a project of its version
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "python3").symlink_to(Path(sys.executable).resolve())
    done = _make(tmp_path / "p", str(bin_dir), "-n")
    assert done.returncode == 0, done.stderr
    assert "python3 -m venv .venv" in done.stdout
    # the same PATH for a project that needs a newer Python: a clear message, not a wrong interpreter
    makefile = tmp_path / "p" / "Makefile"
    needs = here.replace(".", ", "), newer.replace(".", ", ")
    makefile.write_text(makefile.read_text().replace(needs[0], needs[1]).replace(f">= {here}", f">= {newer}"))
    refused = _make(tmp_path / "p", str(bin_dir))
    assert refused.returncode != 0
    assert f"no Python >= {newer} on PATH; install one or pass PYTHON=" in refused.stderr
    assert not (tmp_path / "p" / ".venv").exists()


@pytest.fixture
def small_fleet(tmp_path: Path) -> tuple[Path, Path]:
    template = build_template(tmp_path)
    repo = generate(template, tmp_path / "a-repository-with-a-rather-long-name-to-see-the-table-fold", "demo")
    return template, repo


def test_the_fleet_table_fits_80_columns_and_keeps_whole_paths(
    cli: CliRunner, small_fleet: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    _, repo = small_fleet
    monkeypatch.setenv("COLUMNS", "80")
    for args in (("status",), ("update", "--to", "v2", "--trust")):
        result = cli("fleet", *args, repo)
        lines = result.out.splitlines()
        assert lines
        assert max(len(line) for line in lines) <= 80, result.out
        assert repo.name in "".join(line.split()[0] for line in lines[1:] if line.strip())


def test_an_untrusted_template_says_to_pass_trust(small_fleet: tuple[Path, Path]) -> None:
    _, repo = small_fleet
    (result,), _ = update_fleet([repo], UpdateOptions("v2"), jobs=1)
    assert result.outcome == "failed"
    assert "pass --trust" in result.message


def test_a_failed_push_keeps_the_commit_and_says_why(small_fleet: tuple[Path, Path]) -> None:
    _, repo = small_fleet
    (result,), _ = update_fleet([repo], UpdateOptions("v2", commit=True, push="nowhere", trust=True), jobs=1)
    assert result.outcome == "failed"
    assert result.message.startswith(
        "committed on template-update/v2, but the push to nowhere failed: fatal: 'nowhere'"
    )
    assert git(repo, "rev-parse", "template-update/v2").strip() == result.commit
    assert git(repo, "symbolic-ref", "--short", "HEAD").strip() == "main"


def test_an_unreachable_template_source_is_named(
    cli: CliRunner, small_fleet: tuple[Path, Path], tmp_path: Path
) -> None:
    template, repo = small_fleet
    template.rename(tmp_path / "moved")
    status = cli("fleet", "status", "--format", "json", repo)
    assert status.code == 1
    (found,) = json.loads(status.out)
    assert found["error"] == f"template source {template} is unreachable: the folder does not exist"
    (result,), _ = update_fleet([repo], UpdateOptions("v2", trust=True), jobs=1)
    assert result.outcome == "failed"
    assert f"template source {template} is unreachable" in result.message
    url = "https://git.invalid/acme/template.git"
    answers = repo / ".copier-answers.yml"
    answers.write_text(re.sub(r"(?m)^_src_path: .*$", f"_src_path: {url}", answers.read_text()))
    git(repo, "commit", "-qam", "a remote source")
    (remote,), _ = update_fleet([repo], UpdateOptions("v2", trust=True), jobs=1)
    assert remote.outcome == "failed"
    assert f"template source {url} is unreachable (fatal: unable to access" in remote.message


def test_a_tagless_clone_names_the_script_that_makes_the_tags(cli: CliRunner, tmp_path: Path) -> None:
    """A clone made without tags (or a fork): `new --vcs-ref` and `fleet --template-clone` say to run
    scripts/release_tags.py instead of only "unknown revision" or blaming the remote."""
    from mlops_scaffold.releases import RELEASE_TAGS

    template = build_template(tmp_path)
    for tag in subprocess.run(["git", "tag"], cwd=template, capture_output=True, text=True, check=True).stdout.split():
        subprocess.run(["git", "tag", "-d", tag], cwd=template, capture_output=True, check=True)
    result = cli("new", "--defaults", "--template", template, "--vcs-ref", "v1", tmp_path / "out")
    assert result.code == 1
    assert "Unknown revision: 'v1'" in result.err
    assert RELEASE_TAGS in result.err
    project = tmp_path / "project"
    project.mkdir()
    status = cli("fleet", "status", "--template-clone", template, project)
    assert status.code == 2
    assert f"--template-clone {template}: the clone has no tags" in status.err
    assert RELEASE_TAGS in status.err
