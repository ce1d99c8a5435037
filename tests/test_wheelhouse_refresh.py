"""scripts/project_wheelhouse.py's refresh: atomic, reusing the old wheels, dropping what no pin needs.

The download itself is pip against PyPI (no network here), so these tests replace it with one that
writes the wheels a pin set would resolve to; the swap around it is the script's own code.
"""

from __future__ import annotations

import fcntl
import subprocess
import threading
from pathlib import Path
from types import ModuleType

import pytest
from servers import load_script


@pytest.fixture
def script() -> ModuleType:
    return load_script("project_wheelhouse")


def fake_download(wheels: list[str], calls: list[tuple[Path, Path]]) -> object:
    def download(into: Path, reuse: Path) -> None:
        calls.append((into, reuse))
        assert not (into / ".stamp").exists(), "the stamp is written only after every download"
        for name in wheels:
            (into / name).write_text(name)

    return download


def pin(script: ModuleType, monkeypatch: pytest.MonkeyPatch, digest: str, download: object) -> None:
    """The template's pins hash to `digest`, and a download of them does `download`."""
    monkeypatch.setattr(script, "digest", lambda: digest)
    monkeypatch.setattr(script, "download", download)


def run(script: ModuleType, wheelhouse: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("sys.argv", ["project_wheelhouse.py", str(wheelhouse)])
    script.main()


def test_a_refresh_swaps_in_the_new_wheels_and_drops_stale_ones(
    script: ModuleType, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    wheelhouse = tmp_path / "wheelhouse"
    calls: list[tuple[Path, Path]] = []
    pin(script, monkeypatch, "pins-1", fake_download(["torch-1.whl", "numpy-2.whl"], calls))
    run(script, wheelhouse, monkeypatch)
    assert sorted(p.name for p in wheelhouse.iterdir()) == [".stamp", "numpy-2.whl", "torch-1.whl"]
    (wheelhouse / ".uv-cache").mkdir()  # what the tests' make setup leaves there

    run(script, wheelhouse, monkeypatch)  # current: no download
    assert len(calls) == 1

    pin(script, monkeypatch, "pins-2", fake_download(["torch-2.whl", "numpy-2.whl"], calls))
    run(script, wheelhouse, monkeypatch)
    into, reuse = calls[-1]
    assert into == tmp_path / "wheelhouse.new"
    assert reuse == wheelhouse, "the old wheels are offered to pip"
    assert sorted(p.name for p in wheelhouse.iterdir()) == [".stamp", "numpy-2.whl", "torch-2.whl"]
    assert (wheelhouse / ".stamp").read_text() == "pins-2"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["wheelhouse", "wheelhouse.lock"], "no .new or .old left"


def test_a_failed_refresh_leaves_the_old_wheelhouse_whole(
    script: ModuleType, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    wheelhouse = tmp_path / "wheelhouse"
    pin(script, monkeypatch, "pins-1", fake_download(["torch-1.whl"], []))
    run(script, wheelhouse, monkeypatch)

    def offline(into: Path, reuse: Path) -> None:
        (into / "half.whl").write_text("")
        raise subprocess.CalledProcessError(1, ["pip", "download"])

    pin(script, monkeypatch, "pins-2", offline)
    with pytest.raises(subprocess.CalledProcessError):
        run(script, wheelhouse, monkeypatch)
    assert sorted(p.name for p in wheelhouse.iterdir()) == [".stamp", "torch-1.whl"]
    assert (wheelhouse / ".stamp").read_text() == "pins-1"


def test_a_clone_waits_for_another_clones_refresh_and_then_finds_it_current(
    script: ModuleType, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    wheelhouse = tmp_path / "wheelhouse"
    calls: list[tuple[Path, Path]] = []
    pin(script, monkeypatch, "pins-1", fake_download(["torch-1.whl"], calls))
    with open(tmp_path / "wheelhouse.lock", "w") as other_clone:
        fcntl.flock(other_clone, fcntl.LOCK_EX)
        waiting = threading.Thread(target=run, args=(script, wheelhouse, monkeypatch))
        waiting.start()
        waiting.join(timeout=1)
        assert waiting.is_alive(), "a refresh started while another clone held the lock"
        wheelhouse.mkdir()  # the other clone's refresh lands
        (wheelhouse / ".stamp").write_text("pins-1")
    waiting.join(timeout=30)
    assert not waiting.is_alive()
    assert calls == [], "the waiting clone downloaded what the other had just refreshed"


def test_the_default_wheelhouse_is_outside_the_clone(script: ModuleType, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MLOPS_WHEELHOUSE", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", "/somewhere/cache")
    assert script.default_wheelhouse() == Path("/somewhere/cache/mlops-scaffold/wheelhouse")
    monkeypatch.setenv("MLOPS_WHEELHOUSE", "/elsewhere")
    assert script.default_wheelhouse() == Path("/elsewhere")
