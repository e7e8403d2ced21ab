"""A copy of the repository to build in, for tests that build hostile, broken
or interrupted sites: their docs/, site/, dist/ and build/ are the copy's, so
the checkout's outputs (which other tests read) are never touched.

The copy holds the sources (git's view of them: no outputs); node_modules is
a symlink to the checkout's. `python -m generator` run in the copy imports the
copy's generator (the current folder comes first on sys.path).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
OUTPUTS = {".git", ".venv", "node_modules", "site", "dist", "build", "__pycache__"}
OUTPUTS |= {"site-zensical", ".cache"}  # make site-zensical's


def copy_repo(dest: Path) -> Path:
    """The sources of the checkout in dest (docs/ only its hand-written assets)."""

    def ignore(folder: str, names: list[str]) -> set[str]:
        skip = {n for n in names if n in OUTPUTS or n.endswith(".egg-info")}
        if Path(folder) == REPO_ROOT / "docs":
            skip |= {n for n in names if n != "assets"}
        if Path(folder) == REPO_ROOT / "docs" / "assets":
            skip.add("calculator")
        if Path(folder) == REPO_ROOT / "calculator":
            skip.add("build")
        return skip

    shutil.copytree(REPO_ROOT, dest, ignore=ignore)
    (dest / "node_modules").symlink_to(REPO_ROOT / "node_modules")
    return dest


def build_env() -> dict[str, str]:
    """The environment of `make site`'s build: no index, no content override."""
    env = {k: v for k, v in os.environ.items() if k != "GUIDE_CONTENT"}
    return {**env, "PIP_NO_INDEX": "1", "SOURCE_DATE_EPOCH": "1765065600"}


def build_command(*args: str) -> list[str]:
    return [sys.executable, "-m", "generator", "build", *args]


def run_build(repo: Path, *args: str, timeout: int = 600) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        build_command(*args),
        cwd=repo,
        env=build_env(),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
