"""The copier template this version ships, the release version, and the Pulumi versions every
generated stack pins."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any, cast

from mlops_scaffold.errors import RenderError

PULUMI_PINS = "templates/_partials/pulumi-pins.txt"
"""Pulumi SDK and provider pins, relative to the template root; constraints.txt reads them too."""

def template_root() -> Path:
    """The template shipped with this version: the repository root in a checkout, else the package copy."""
    checkout = Path(__file__).resolve().parents[2]
    if (checkout / "copier.yml").is_file() and (checkout / "templates").is_dir():
        return checkout
    packaged = Path(__file__).resolve().parent / "_template"
    if (packaged / "copier.yml").is_file():
        return packaged
    raise RenderError("the bundled template is missing from this installation; reinstall mlops-scaffold")


def package_version() -> str:
    """The release version, from the installed package's metadata (pyproject.toml's `version`); in a
    checkout run without installing, from pyproject.toml itself."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("mlops-scaffold")
    except PackageNotFoundError:
        import tomllib

        checkout = Path(__file__).resolve().parents[2] / "pyproject.toml"
        return str(tomllib.loads(checkout.read_text(encoding="utf-8"))["project"]["version"])


def copier_documents(text: str) -> list[Any]:
    """The YAML documents of a copier.yml, as the YAML parser splits them; an included document
    (`--- !include FILE`, in older releases) is None."""
    from ruamel.yaml import YAML

    yaml = YAML(typ="safe", pure=True)
    yaml.constructor.add_constructor("!include", lambda _loader, _node: None)
    return list(yaml.load_all(text))


def copier_settings(text: str | None = None) -> dict[str, Any]:
    """copier.yml's settings and questions (of the bundled template, or of `text`): its last document."""
    text = (template_root() / "copier.yml").read_text(encoding="utf-8") if text is None else text
    documents = [d for d in copier_documents(text) if isinstance(d, dict)]
    return cast(dict[str, Any], documents[-1])


@cache
def pulumi_pins() -> dict[str, str]:
    """Distribution name to the exact version this release is tested with."""
    pins = {}
    for line in (template_root() / PULUMI_PINS).read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            name, _, version = line.partition("==")
            pins[name.strip().lower().replace("_", "-")] = version.strip()
    return pins
