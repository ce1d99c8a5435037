"""The copier template this version ships, and the facts it holds for the package: the release
version (copier.yml's `scaffold_version`) and the Pulumi versions every generated stack pins."""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path
from typing import Any, cast

from mlops_scaffold.errors import RenderError

PULUMI_PINS = "templates/_partials/pulumi-pins.txt"
"""Pulumi SDK and provider pins, relative to the template root; constraints.txt reads them too."""
VERSION_PATTERN = re.compile(r'(?m)^scaffold_version:\n  type: str\n  default: "(?P<version>[^"]+)"')
"""Where copier.yml states the version (pyproject.toml's hatch pattern is the same, as a build cannot import it)."""


def template_root() -> Path:
    """The template shipped with this version: the repository root in a checkout, else the package copy."""
    checkout = Path(__file__).resolve().parents[2]
    if (checkout / "copier.yml").is_file() and (checkout / "templates").is_dir():
        return checkout
    packaged = Path(__file__).resolve().parent / "_template"
    if (packaged / "copier.yml").is_file():
        return packaged
    raise RenderError("the bundled template is missing from this installation; reinstall mlops-scaffold")


@cache
def template_version() -> str:
    """The release version, as copier.yml states it once for the package and the template."""
    found = VERSION_PATTERN.search((template_root() / "copier.yml").read_text())
    if found is None:
        raise RenderError("copier.yml states no scaffold_version; the installation is damaged")
    return found["version"]


def copier_settings(text: str | None = None) -> dict[str, Any]:
    """copier.yml's settings and questions (of the bundled template, or of `text`), without the
    documents it includes (`!include templates/_partials/facts.yml`; see `constants.facts`)."""
    from ruamel.yaml import YAML

    text = (template_root() / "copier.yml").read_text() if text is None else text
    documents = [d for d in text.split("\n---\n") if "!include" not in d.split("\n", 1)[0]]
    return cast(dict[str, Any], YAML(typ="safe").load(documents[-1]))


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
