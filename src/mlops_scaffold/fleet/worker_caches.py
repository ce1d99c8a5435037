"""Caches for many copier updates in one process; the output is unchanged.

One copier update renders the template three times (the old version, the new one over the
project, the new one alone), builds five `Template` objects for its two versions (each one
cloning the template, parsing copier.yml and asking git for its commit, version and file
modes), and runs one git process per rendered file to read `core.fileMode`. Across a fleet the
same two template versions are read and the same Jinja sources compiled hundreds of times, so
a worker keeps:

- one clone and one set of `Template` properties per (template, ref) (`_share_templates`);
- the compiled code of each Jinja source, per environment configuration (compilation is a
  pure function of the source and the parser settings; the file name only labels tracebacks);
- each destination's `core.fileMode`, for one update (`_once_per_destination_file_mode`).

All three hook functions that are not copier's public API, so each is installed only when the
installed versions have exactly the shape it was written for (`supported()`); otherwise plain
copier runs, slower and the same. They are installed in fleet worker processes only (the pool's
initializer), never by the package's render functions, so a process that renders with
`mlops-scaffold new` or `render_project` keeps jinja2 and copier as they are. The compile cache's
key holds every Environment setting that changes compiled code (`_env_key`), and it keeps at
most `COMPILE_CACHE_SIZE` entries, least recently used out first.
"""

from __future__ import annotations

import copy
import dataclasses
import functools
import inspect
import re
import shutil
import subprocess
from collections import OrderedDict
from collections.abc import Callable
from functools import cached_property
from multiprocessing.util import Finalize
from pathlib import Path
from typing import Any

_installed: set[str] = set()


COMPILE_CACHE_SIZE = 4096
"""Compiled sources a worker keeps: two template versions hold about 2,000."""


_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
"""A name as Jinja's lexer reads one: a filter or test the source uses occurs as one."""


def _callable_key(function: object) -> object:
    """A filter or test as the key holds it: itself, or for a `functools.partial` (jinja2-ansible-filters
    makes new ones per environment) its function and arguments, and for a bound method its function
    and class, so equal filters of two environments share compiled code and different ones do not."""
    if isinstance(function, functools.partial):
        keywords = tuple(sorted((k, _callable_key(v)) for k, v in function.keywords.items()))
        return ("partial", _callable_key(function.func), tuple(_callable_key(a) for a in function.args), keywords)
    method = getattr(function, "__func__", None)
    if method is not None:
        return ("method", method, type(getattr(function, "__self__", None)))
    return function


def _env_key(env: Any, name: str | None, source: str) -> tuple[object, ...]:
    """What jinja2's compiler reads from the environment: the syntax, the extensions, and what
    constant folding and autoescaping call (autoescape for this name, finalize, and the filters and
    tests the source can name: those whose name is one of its words). Functions are held by the key
    itself (so an id is never reused), through `_callable_key`."""
    autoescape = env.autoescape(name) if callable(env.autoescape) else env.autoescape
    names = set(_NAME.findall(source))
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
        env.finalize,
        env.is_async,
        env.code_generator_class,
        env.undefined,
        bool(autoescape),
        tuple(sorted((k, _callable_key(f)) for k, f in env.filters.items() if k in names)),
        tuple(sorted((k, _callable_key(f)) for k, f in env.tests.items() if k in names)),
        tuple(sorted((k, repr(v)) for k, v in env.policies.items())),
    )


_COMPILE_PARAMETERS = ["self", "source", "name", "filename", "raw", "defer_init"]
_TEMPLATE_FIELDS = ["url", "ref", "use_prereleases"]
_SYNC_PARAMETERS = ["self", "dst_relpath", "src_mode"]


def _parameters(function: object) -> list[str]:
    try:
        return list(inspect.signature(function).parameters)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return []


def supported() -> dict[str, bool]:
    """Which caches fit the installed jinja2 and copier (each checked by the shape it was written for)."""
    from jinja2 import Environment

    try:
        from copier._main import Worker
        from copier._template import Template
    except ImportError:  # pragma: no cover - every copier 9 has both modules
        return {
            "jinja": _parameters(Environment.compile) == _COMPILE_PARAMETERS,
            "templates": False,
            "file_mode": False,
        }
    fields = [f.name for f in dataclasses.fields(Template) if f.init] if dataclasses.is_dataclass(Template) else []
    templates = (
        fields == _TEMPLATE_FIELDS
        and isinstance(vars(Template).get("local_abspath"), cached_property)
        and _parameters(getattr(Template, "_cleanup", None)) == ["self"]
    )
    sync = getattr(Worker, "_sync_git_index_executable_bit", None)
    return {
        "jinja": _parameters(Environment.compile) == _COMPILE_PARAMETERS,
        "templates": templates,
        "file_mode": _parameters(sync) == _SYNC_PARAMETERS,
    }


def _cache_jinja_compilation() -> None:
    from jinja2 import Environment

    original: Callable[..., Any] = Environment.compile
    compiled: OrderedDict[tuple[object, ...], Any] = OrderedDict()

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
        key = (source, name, raw, defer_init, _env_key(self, name, source))
        try:
            code = compiled.get(key)
        except TypeError:  # a filter or test that cannot be a key: compile as jinja2 would
            return original(self, source, name, filename, raw, defer_init)
        if code is None:
            code = compiled[key] = original(self, source, name, filename, raw, defer_init)
            if len(compiled) > COMPILE_CACHE_SIZE:
                compiled.popitem(last=False)
        else:
            compiled.move_to_end(key)
        return code

    Environment.compile = compile_once  # type: ignore[method-assign]


def _share_templates() -> None:
    """Each template version is cloned and read once per worker, not once per copier `Template`.

    One update builds five `Template` objects for two versions, and each clones the template,
    parses its copier.yml and asks git for its commit, version and file modes. Every cached
    property of a `Template` is a function of its fields (url, ref, prereleases) and of the
    clone's content, which does not change for a given ref; so the first object's values are
    kept and later objects with the same fields get copies. The first clone is kept too (its
    `Template` cleanup leaves it alone) and removed when the worker exits. A local template's
    HEAD, which may carry uncommitted changes, and the latest tag (no ref) are never shared.
    """
    from copier._template import Template

    values: dict[tuple[object, ...], Any] = {}
    kept: set[Path] = set()
    # the kept clones are removed when the worker process exits (multiprocessing runs finalizers)
    Finalize(None, _remove_all, args=(kept,), exitpriority=10)

    def shared(name: str, compute: Callable[[Any], Any]) -> Callable[[Any], Any]:
        def value(template: Any) -> Any:
            if template.ref in (None, "HEAD"):
                return compute(template)
            key = (name, template.url, template.ref, template.use_prereleases)
            if key not in values:
                values[key] = compute(template)
                if name == "local_abspath":
                    kept.add(Path(values[key]))
            found = values[key]
            return found if isinstance(found, str | int | float | bool | Path | type(None)) else copy.deepcopy(found)

        value.__name__ = value.__qualname__ = name
        return value

    for name, attribute in list(vars(Template).items()):
        if isinstance(attribute, cached_property):
            replacement = cached_property(shared(name, attribute.func))
            replacement.__set_name__(Template, name)
            setattr(Template, name, replacement)

    cleanup: Callable[[Any], None] = Template._cleanup

    def cleanup_unless_kept(template: Any) -> None:
        if template.__dict__.get("local_abspath") not in kept:
            cleanup(template)

    Template._cleanup = cleanup_unless_kept  # type: ignore[method-assign,assignment]


def _once_per_destination_file_mode() -> None:
    """copier 9.19+ asks git for `core.fileMode` once per rendered file (~170 processes per update)
    to learn whether to sync the executable bit into the index; the answer is the same for every
    file of a destination, so it is asked once per destination and update. Where it is not
    `false`, copier's own method would return without doing anything, and so does this."""
    from copier._main import Worker

    original: Callable[..., None] = Worker._sync_git_index_executable_bit

    @functools.wraps(original)  # keeps the signature `supported()` checks, once installed too
    def sync(worker: Any, dst_relpath: Path, src_mode: int) -> None:
        root = str(worker.subproject.local_abspath)
        if root not in _file_modes:
            try:
                done = subprocess.run(
                    ["git", "config", "--type=bool", "--get", "core.fileMode"],
                    cwd=root,
                    capture_output=True,
                    text=True,
                    check=False,
                )
            except OSError:  # no git, or no such folder: copier's method would return too
                _file_modes[root] = False
            else:
                _file_modes[root] = done.returncode == 0 and done.stdout.strip() == "false"
        if _file_modes[root]:
            original(worker, dst_relpath, src_mode)

    Worker._sync_git_index_executable_bit = sync  # type: ignore[method-assign,assignment]


_file_modes: dict[str, bool] = {}


def _remove_all(paths: set[Path]) -> None:
    for path in paths:
        shutil.rmtree(path, ignore_errors=True)


def new_update() -> None:
    """Forget what one update learned about its destinations (their git settings)."""
    _file_modes.clear()


def install() -> dict[str, bool]:
    """Install the caches the installed versions support in this process (a fleet worker); idempotent.
    Returns which are installed."""
    fits = supported()
    if "jinja" not in _installed and fits["jinja"]:
        _cache_jinja_compilation()
        _installed.add("jinja")
    if "file_mode" not in _installed and fits["file_mode"]:
        _once_per_destination_file_mode()
        _installed.add("file_mode")
    if "templates" not in _installed and fits["templates"]:
        _share_templates()
        _installed.add("templates")
    return fits
