"""What every build step shares: where the build reads and writes, and the
context each step of `generator.build.STEPS` is a function of.

It sits below the steps: `build.py` imports the steps, the steps import this
module, and nothing here imports either (no import cycle).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from spine_hemangioma.content import CONTENT_DIR, Content

REPO_ROOT = Path(__file__).resolve().parent.parent
# The default of --content (`python -m generator`).
CONTENT_ENV = "GUIDE_CONTENT"
# Same value as the Makefile's: a build run by hand gives the same bytes.
DEFAULT_SOURCE_DATE_EPOCH = "1765065600"


@dataclass(frozen=True)
class Project:
    """Where the build reads and writes."""

    content_dir: Path = CONTENT_DIR
    docs_dir: Path = REPO_ROOT / "docs"
    site_dir: Path = REPO_ROOT / "site"
    config_file: Path = REPO_ROOT / "mkdocs.yml"


@dataclass(frozen=True)
class BuildContext:
    """What every step gets: the paths, the validated content, the rendered pages."""

    project: Project
    content: Content
    pages: dict[str, str]  # path under docs/ -> Markdown
    # Where run_mkdocs builds and add_csp works; publish_site renames it to
    # project.site_dir once every step has passed (None: a step run on its own).
    stage_dir: Path | None = None


Step = Callable[[BuildContext], None]


def log(message: str) -> None:
    print(f"generator: {message}", file=sys.stderr, flush=True)


def mkdocs_env(project: Project) -> dict[str, str]:
    """The environment of every mkdocs run: fixed timestamps."""
    env = dict(os.environ)
    env.setdefault("SOURCE_DATE_EPOCH", DEFAULT_SOURCE_DATE_EPOCH)
    # The end-of-life banner of mkdocs-material would bury the build's own messages.
    env.setdefault("NO_MKDOCS_2_WARNING", "1")
    return env


def run_child(
    args: list[str], *, capture_output: bool = False, timeout: float | None = None, **kwargs
) -> subprocess.CompletedProcess:
    """`subprocess.run` for a child in a session of its own, so that Ctrl-C
    reaches the build alone (which then stops the child and says one line).

    A Ctrl-C that lands while the child is being started would leave it
    running: CPython raises KeyboardInterrupt inside Popen() (waiting for the
    exec), before run() has the handle it kills. So SIGINT is held while the
    child starts and acted on once the handle exists."""
    if capture_output:
        kwargs |= {"stdout": subprocess.PIPE, "stderr": subprocess.PIPE}
    if threading.current_thread() is not threading.main_thread():
        # Signal handlers are the main thread's: no Ctrl-C lands here.
        return subprocess.run(args, start_new_session=True, timeout=timeout, check=False, **kwargs)
    held: list[int] = []
    previous = signal.signal(signal.SIGINT, lambda signum, _frame: held.append(signum))
    try:
        proc = subprocess.Popen(args, start_new_session=True, **kwargs)
    finally:
        signal.signal(signal.SIGINT, previous)
    with proc:
        try:
            if held:
                raise KeyboardInterrupt
            stdout, stderr = proc.communicate(timeout=timeout)
        except BaseException:
            proc.kill()
            raise
    return subprocess.CompletedProcess(args, proc.returncode, stdout, stderr)
