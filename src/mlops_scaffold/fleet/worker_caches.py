"""Caches for many copier renders in one process; the output is unchanged.

One copier update renders the template three times (the old version, the new one over the
project, the new one alone) and clones the template for each. Across a fleet the same two
template versions are cloned and the same Jinja sources compiled hundreds of times, so a
worker keeps:

- one clone per (template, ref), copied into the fresh directory copier asks for;
- the compiled code of each Jinja source, per environment configuration (compilation is a
  pure function of the source and the parser settings; the file name only labels tracebacks).

Both hook functions that are not copier's public API, so each is installed only when the
installed versions have exactly the shape it was written for (`supported()`); otherwise plain
copier runs, slower and the same. The clone cache lives in fleet worker processes only. The
compile cache is also what `render_project` installs (`install_compile_cache`): one render
compiles ~950 Jinja sources, many of them the same path parts and defaults, and compiling was
half of its time (benchmarks/render_vs_copier.py). It patches `jinja2.Environment.compile` for the
whole process; cached code is what jinja2 itself would have compiled for the same source.
"""

from __future__ import annotations

import inspect
import shutil
import tempfile
from collections.abc import Callable
from multiprocessing.util import Finalize
from pathlib import Path
from typing import Any

_installed: set[str] = set()


def _env_key(env: Any) -> tuple[object, ...]:
    return (
        type(env),
        env.block_start_string,
        env.block_end_string,
        env.variable_start_string,
        env.variable_end_string,
        env.comment_start_string,
        env.comment_end_string,
        env.line_statement_prefix,
        env.line_comment_prefix,
        env.trim_blocks,
        env.lstrip_blocks,
        env.newline_sequence,
        env.keep_trailing_newline,
        tuple(sorted(env.extensions)),
        env.optimized,
        env.finalize is not None,
        env.is_async,
        env.code_generator_class,
    )


_COMPILE_PARAMETERS = ["self", "source", "name", "filename", "raw", "defer_init"]
_CLONE_PARAMETERS = ["url", "ref", "location"]


def _parameters(function: object) -> list[str]:
    try:
        return list(inspect.signature(function).parameters)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return []


def supported() -> dict[str, bool]:
    """Which caches fit the installed jinja2 and copier (both are checked by their signatures)."""
    from jinja2 import Environment

    try:
        from copier import _template, _vcs
    except ImportError:  # pragma: no cover - every copier 9 has both modules
        clones = False
    else:
        clone = getattr(_vcs, "clone", None)
        clones = _parameters(clone) == _CLONE_PARAMETERS and getattr(_template, "clone", None) is clone
    return {"jinja": _parameters(Environment.compile) == _COMPILE_PARAMETERS, "clones": clones}


def _cache_jinja_compilation() -> None:
    from jinja2 import Environment

    original: Callable[..., Any] = Environment.compile
    compiled: dict[tuple[object, ...], Any] = {}

    def compile_once(
        self: Environment,
        source: Any,
        name: str | None = None,
        filename: str | None = None,
        raw: bool = False,
        defer_init: bool = False,
    ) -> Any:
        if not isinstance(source, str):
            return original(self, source, name, filename, raw, defer_init)
        key = (source, name, raw, defer_init, _env_key(self))
        code = compiled.get(key)
        if code is None:
            code = compiled[key] = original(self, source, name, filename, raw, defer_init)
        return code

    Environment.compile = compile_once  # type: ignore[method-assign]


def _cache_template_clones() -> None:
    from copier import _template, _vcs

    original: Callable[..., str] = _vcs.clone
    root = Path(tempfile.mkdtemp(prefix="mlops-fleet-clones-"))
    # removed when the worker process exits (multiprocessing runs finalizers with a priority)
    Finalize(None, shutil.rmtree, args=(root,), kwargs={"ignore_errors": True}, exitpriority=10)
    clones: dict[tuple[str, str], Path] = {}

    def clone_once(url: str, ref: str = "HEAD", location: str | None = None) -> str:
        if ref == "HEAD" or location is None:  # HEAD of a local template may carry uncommitted changes
            return original(url, ref, location)
        cached = clones.get((url, ref))
        if cached is None:
            cached = Path(original(url, ref, str(root / f"clone-{len(clones)}")))
            clones[(url, ref)] = cached
        shutil.copytree(cached, location, symlinks=True, dirs_exist_ok=True)
        return location

    _vcs.clone = clone_once
    _template.clone = clone_once  # type: ignore[attr-defined]


def install_compile_cache() -> bool:
    """Install the Jinja compile cache in this process if jinja2 fits; idempotent. Says whether it is on."""
    if "jinja" not in _installed and supported()["jinja"]:
        _cache_jinja_compilation()
        _installed.add("jinja")
    return "jinja" in _installed


def install() -> dict[str, bool]:
    """Install the caches the installed versions support in this process (a fleet worker); idempotent.
    Returns which are installed."""
    fits = supported()
    install_compile_cache()
    if "clones" not in _installed and fits["clones"]:
        _cache_template_clones()
        _installed.add("clones")
    return fits
