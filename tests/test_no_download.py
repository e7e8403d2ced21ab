"""Nothing is downloaded at build time, and the environment is the lock.

The calculator's wheel builds with no package index reachable (PIP_NO_INDEX,
no find-links): from the setuptools installed in the environment, not one
fetched into an isolated environment per build. `make site` runs the whole
build that way (its recipe sets PIP_NO_INDEX=1; CI runs it through `make
test`). requirements.lock pins every Python package with hashes (`make lock`
writes it, `make deps` installs it with --require-hashes), pip included, and
the installed environment matches it, package by package.
"""

from __future__ import annotations

import re
import tomllib
from importlib import metadata

import pytest
from build_copy import REPO_ROOT

from generator.pyodide_assets import CALCULATOR_DIR, _build_wheel

LOCK = REPO_ROOT / "requirements.lock"
PIN_RE = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s;\\]+)", re.M)


def locked() -> dict[str, str]:
    return {_norm(name): version for name, version in PIN_RE.findall(LOCK.read_text("utf-8"))}


def _norm(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def test_wheel_builds_with_no_index(tmp_path, monkeypatch):
    monkeypatch.setenv("PIP_NO_INDEX", "1")
    monkeypatch.setenv("PIP_FIND_LINKS", "")
    monkeypatch.setenv("PIP_CONFIG_FILE", "/dev/null")
    wheel = _build_wheel(CALCULATOR_DIR, tmp_path)
    assert wheel.name.startswith("spine_hemangioma-")


def test_every_locked_package_has_hashes():
    blocks = re.split(r"\n(?=[A-Za-z0-9])", LOCK.read_text("utf-8"))
    pinned = [b for b in blocks if PIN_RE.match(b)]
    assert len(pinned) == len(locked()) > 40
    assert [b.split(" ")[0] for b in pinned if "--hash=sha256:" not in b] == []
    assert {"pip", "setuptools"} <= set(locked())


def test_every_pin_of_pyproject_is_locked_at_its_version():
    project = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text("utf-8"))["project"]
    pins = [*project["dependencies"], *project["optional-dependencies"]["test"]]
    lock = locked()
    wrong = {
        pin: lock.get(_norm(pin.split("==")[0]))
        for pin in pins
        if lock.get(_norm(pin.split("==")[0])) != pin.split("==")[1]
    }
    assert wrong == {}


@pytest.mark.parametrize("name", sorted(locked()))
def test_environment_is_the_lock(name):
    assert metadata.version(name) == locked()[name]
