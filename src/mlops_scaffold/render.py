"""Render project skeletons with copier, into a temporary place that is then moved into position."""

from __future__ import annotations

import os
import re
import shutil
import tempfile
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from mlops_scaffold import __version__
from mlops_scaffold.bundle import template_root
from mlops_scaffold.constants import ANSWERS_FILE
from mlops_scaffold.errors import RenderError, UsageError
from mlops_scaffold.questions import Answers, answers_from_spec, data_remote, environment_answers

__all__ = ["Answers", "answers_from_spec", "data_remote", "environment_answers", "local_template", "render_project"]

TEMPLATE_URL = "https://github.com/mlops-scaffold/mlops-scaffold.git"
"""Where the template is published; renders of the bundled copy record it, so `copier update` works."""


def local_template(template: str | None) -> str | None:
    """A template given as a local folder, made absolute so the answers file records a path that
    `copier update` can reach from the project; URLs and None pass through."""
    if template is None or "://" in template or template.startswith(("git@", "gh:", "gl:")):
        return template
    path = Path(template).expanduser()
    if not path.exists():
        raise UsageError(f"--template {template}: no such folder (give a local template checkout or a git URL)")
    if not (path / "copier.yml").is_file() and not (path / "copier.yaml").is_file():
        raise UsageError(f"--template {template}: not a copier template (no copier.yml in it)")
    return str(path.resolve())


def _is_empty_dir(path: Path) -> bool:
    return path.is_dir() and not any(path.iterdir())


def _record_published_source(answers_path: Path) -> None:
    """Point the answers file of a bundled-template render at the published template and its tag."""
    text = answers_path.read_text()
    text = re.sub(r"(?m)^_src_path: .*$", f"_commit: v{__version__}\n_src_path: {TEMPLATE_URL}", text, count=1)
    answers_path.write_text(text)


def render_project(
    dst: Path,
    answers: Answers | Mapping[str, Any],
    *,
    template: str | None = None,
    vcs_ref: str | None = None,
    force: bool = False,
    extra_files: Mapping[str, str] | None = None,
) -> Path:
    """Render the template into `dst` atomically; refuse a non-empty `dst` unless `force`.

    `extra_files` (relative path to text) are written beside the rendered files, in the same move."""
    import copier
    import jinja2
    from plumbum import ProcessExecutionError

    data = answers.data() if isinstance(answers, Answers) else dict(answers)
    dst = dst.resolve()
    if dst.exists() and not dst.is_dir():
        raise UsageError(f"{dst} exists and is not a directory")
    if dst.exists() and not _is_empty_dir(dst) and not force:
        raise UsageError(f"{dst} is not empty; pass --force to render over it (files the template owns are replaced)")
    dst.parent.mkdir(parents=True, exist_ok=True)
    with _scratch(prefix=f".{dst.name}.", parent=dst.parent) as tmp:
        work = Path(tmp) / dst.name
        source = template or str(_template_snapshot(Path(tmp) / "template"))
        try:
            copier.run_copy(
                source,
                work,
                data=data,
                vcs_ref=vcs_ref,
                defaults=True,
                unsafe=False,
                quiet=True,
                overwrite=True,
            )
        except (copier.errors.CopierError, jinja2.TemplateError, ValueError) as exc:
            message = " ".join(str(exc).split())
            if "Unknown revision" in message and template is not None and Path(template).is_dir():
                from mlops_scaffold.releases import missing_tags_hint

                message += missing_tags_hint(Path(template))
            raise RenderError(f"copier could not render {source}: {message}") from None
        except ProcessExecutionError as exc:
            # copier runs git to fetch a remote template or check out a ref; say what git said
            said = [line.strip() for line in str(exc.stderr or "").splitlines() if line.strip()]
            where = f"{source} at {vcs_ref}" if vcs_ref else source
            reason = said[-1] if said else f"git exited with {exc.retcode}"
            raise RenderError(f"could not fetch the template {where}: {reason}") from None
        if template is None:
            _record_published_source(work / ANSWERS_FILE)
        for relative, text in (extra_files or {}).items():
            target = work / relative
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text, encoding="utf-8")
        _move_into_place(work, dst)
    return dst


@contextmanager
def _scratch(prefix: str, parent: Path) -> Iterator[str]:
    """A temporary folder beside the destination, removed however the render ends. Interrupted,
    copier's git may still be writing into it for a moment (Ctrl-C reaches git too, a signal to
    this process alone does not): removal is retried until it is gone, for a few seconds."""
    tmp = tempfile.mkdtemp(prefix=prefix, dir=parent)
    try:
        yield tmp
    finally:
        for _ in range(50):
            shutil.rmtree(tmp, ignore_errors=True)
            if not os.path.exists(tmp):
                break
            time.sleep(0.1)


def _template_snapshot(target: Path) -> Path:
    """A copy of the bundled template without VCS metadata, so a checkout's git state cannot leak in."""
    root = template_root()
    target.mkdir()
    shutil.copy2(root / "copier.yml", target / "copier.yml")
    shutil.copytree(root / "templates", target / "templates", ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    return target


def _move_into_place(work: Path, dst: Path) -> None:
    if not dst.exists() or _is_empty_dir(dst):
        if dst.exists():
            dst.rmdir()
        os.replace(work, dst)
        return
    # --force over an existing tree: replace what the template renders, keep everything else
    for path in sorted(work.rglob("*")):
        target = dst / path.relative_to(work)
        if path.is_dir():
            target.mkdir(parents=True, exist_ok=True)
        else:
            shutil.copy2(path, target)
