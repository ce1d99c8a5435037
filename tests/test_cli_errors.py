"""The CLI's closed error tree: every failure a user can cause is one line and a documented exit
code (1 failed or invalid, 2 misuse, 130 interrupted), never a traceback; and rendering leaves the
process's jinja2 and copier as they were."""

from __future__ import annotations

import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from conftest import EXAMPLES, CliRunner

BIN = Path(sys.executable).parent / "mlops-scaffold"


@pytest.fixture
def a_file(tmp_path: Path) -> Path:
    path = tmp_path / "afile"
    path.write_text("not a folder\n")
    return path


@pytest.mark.parametrize(
    "args",
    [
        ("schema", "-o", "{f}/schema.json"),
        ("init", "{f}/mlops.yaml"),
        ("new", "{f}/project", "--defaults"),
        ("platform", "init", "{f}/platform"),
    ],
    ids=["schema-o", "init", "new", "platform-init"],
)
def test_a_path_under_a_file_is_one_line(cli: CliRunner, a_file: Path, args: tuple[str, ...]) -> None:
    result = cli(*(a.format(f=a_file) for a in args))
    assert result.code == 2
    lines = result.err.strip().splitlines()
    assert len(lines) == 1, result.err
    assert str(a_file.name) in lines[0]
    assert "Traceback" not in result.err
    assert a_file.read_text() == "not a folder\n"  # nothing lost


def test_bad_yaml_is_one_located_line(cli: CliRunner, tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: [\n")
    result = cli("validate", bad)
    assert result.code == 1
    assert result.out.startswith(f"{bad}:2:1: ")
    assert "YAML syntax error" in result.out
    assert "Traceback" not in result.err


@pytest.mark.parametrize("command", [("plan",), ("platform", "preview")])
def test_a_stack_that_is_no_environment_is_refused(cli: CliRunner, command: tuple[str, ...]) -> None:
    result = cli(*command, "--stack", "nope", EXAMPLES / "mlops.yaml")
    assert result.code == 2
    assert "--stack nope: not an environment of platform" in result.err
    assert "dev, staging, prod" in result.err


def test_plan_of_an_environment_still_works(cli: CliRunner) -> None:
    assert cli("plan", "--stack", "prod", "--format", "json").code == 0


@pytest.mark.parametrize("delay", [0.03, 0.08, 0.15, 0.25, 0.4, 0.6])
def test_ctrl_c_at_any_moment_is_one_line_and_exit_130(delay: float, tmp_path: Path) -> None:
    """SIGINT while the CLI loads its modules and while it renders: one line, exit 130 (or it had
    already finished), no traceback, and no half-written project."""
    dst = tmp_path / "project"
    process = subprocess.Popen(
        [str(BIN), "new", str(dst), "--defaults"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    time.sleep(delay)
    process.send_signal(signal.SIGINT)
    _out, err = process.communicate(timeout=120)
    if process.returncode == 0:
        assert (dst / ".copier-answers.yml").is_file()
        return
    # Python's own start (its `site` imports) comes before any code of ours can answer a signal
    if "<frozen site>" in err:
        return
    assert process.returncode in (130, -signal.SIGINT), err
    assert "Traceback" not in err, err
    if process.returncode == 130:
        assert err.strip().splitlines()[-1] in ("mlops-scaffold: error: interrupted", "mlops-scaffold: error: aborted")
    assert not dst.exists() or not any(dst.iterdir())
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".project.")]  # no leftover temporary render


def test_rendering_patches_nothing_in_the_process(tmp_path: Path) -> None:
    """After `new` and the render functions, jinja2 and copier are the originals, an autoescaping
    Environment escapes, and the renderer has not imported the fleet."""
    script = textwrap.dedent(
        f"""
        import sys
        import jinja2, copier
        from copier._main import Worker
        from copier._template import Template
        before = (jinja2.Environment.compile, dict(vars(Worker)), dict(vars(Template)))
        from mlops_scaffold.cli.main import main
        assert main(["new", {str(tmp_path / "a")!r}, "--defaults"]) == 0
        from pathlib import Path
        from mlops_scaffold.render import render_project
        render_project(Path({str(tmp_path / "b")!r}), {{"project_name": "b", "framework": "pytorch"}})
        from mlops_scaffold.platform_repo import init_platform_repo
        init_platform_repo(Path({str(tmp_path / "c")!r}), [])
        assert jinja2.Environment.compile is before[0], "jinja2.Environment.compile was replaced"
        assert dict(vars(Worker)) == before[1], "copier's Worker was patched"
        assert dict(vars(Template)) == before[2], "copier's Template was patched"
        escaped = jinja2.Environment(autoescape=True).from_string("{{{{ x }}}}").render(x="<script>")
        assert escaped == "&lt;script&gt;", escaped
        assert not [m for m in sys.modules if m.startswith("mlops_scaffold.fleet")], "the renderer imported the fleet"
        print("ok")
        """
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip().endswith("ok")


def test_the_fleet_compile_cache_keys_on_every_setting_that_changes_code() -> None:
    """In a fleet worker's process: autoescape, filters and tests each get their own compiled code."""
    script = textwrap.dedent(
        """
        import jinja2
        from mlops_scaffold.fleet import worker_caches
        worker_caches.install()
        plain = jinja2.Environment().from_string("{{ x }}").render(x="<script>")
        escaped = jinja2.Environment(autoescape=True).from_string("{{ x }}").render(x="<script>")
        assert (plain, escaped) == ("<script>", "&lt;script&gt;"), (plain, escaped)
        one, two = jinja2.Environment(), jinja2.Environment()
        one.filters["f"] = lambda v: "one"
        two.filters["f"] = lambda v: "two"
        source = "{{ 'x' | f }}"  # constant-folded at compile time
        assert (one.from_string(source).render(), two.from_string(source).render()) == ("one", "two")
        t1, t2 = jinja2.Environment(), jinja2.Environment()
        t1.tests["big"] = lambda v: True
        t2.tests["big"] = lambda v: False
        assert t1.from_string("{{ 1 is big }}").render() == "True"
        assert t2.from_string("{{ 1 is big }}").render() == "False"
        env = jinja2.Environment()
        for i in range(worker_caches.COMPILE_CACHE_SIZE + 50):
            env.from_string("{{ %d }}" % i)
        cell = [c.cell_contents for c in jinja2.Environment.compile.__closure__ if isinstance(c.cell_contents, dict)]
        assert len(cell[0]) <= worker_caches.COMPILE_CACHE_SIZE
        print("ok")
        """
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr[-2000:]


def test_importing_the_package_reads_no_file() -> None:
    script = textwrap.dedent(
        """
        import sys
        opened = []
        sys.addaudithook(lambda event, args: opened.append(args[0]) if event == "open" else None)
        import mlops_scaffold, mlops_scaffold.constants, mlops_scaffold.questions
        # pydantic's plugin discovery reads installed packages' entry points: not ours
        mine = [p for p in opened if isinstance(p, str) and ".dist-info" not in p
                and p.endswith((".yml", ".yaml", ".toml", ".json", ".jinja", ".txt"))]
        assert mine == [], mine
        print("ok")
        """
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
