"""`python -m generator build`: content → pages → docs/ → mkdocs → site/.

`build()` reads top to bottom as the pipeline. The content is loaded and every
page rendered before anything is written, so invalid content changes nothing.
Then each step of `STEPS` runs in order.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from spine_hemangioma.content import CONTENT_DIR, Content, load_from

from .calculator_assets import install_calculator_assets
from .csp import add_csp
from .offline import build_offline_bundle
from .pages import GeneratorError, load_diagram, render_pages
from .write import write_pages

REPO_ROOT = Path(__file__).resolve().parent.parent
# The mkdocs hook reads the content folder from here (see generator/hooks.py).
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


Step = Callable[[BuildContext], None]


def log(message: str) -> None:
    print(f"generator: {message}", file=sys.stderr, flush=True)


def load_content(content_dir: Path) -> Content:
    """The validated content; raises ContentError listing every problem."""
    return load_from(content_dir)


def write_docs(ctx: BuildContext) -> None:
    """Swap the rendered pages into docs/ (only the files whose bytes changed)."""
    changed = write_pages(ctx.pages, ctx.project.docs_dir)
    log(f"{len(ctx.pages)} pages in {ctx.project.docs_dir} ({len(changed)} changed)")


def mkdocs_env(project: Project) -> dict[str, str]:
    env = dict(os.environ)
    env.setdefault("SOURCE_DATE_EPOCH", DEFAULT_SOURCE_DATE_EPOCH)
    # The end-of-life banner of mkdocs-material would bury the build's own messages.
    env.setdefault("NO_MKDOCS_2_WARNING", "1")
    env[CONTENT_ENV] = str(project.content_dir)
    return env


def run_mkdocs(ctx: BuildContext) -> None:
    """`mkdocs build --strict`: a warning (broken link or anchor, page off the nav) fails it."""
    project = ctx.project
    args = [sys.executable, "-m", "mkdocs", "build", "--strict"]
    args += ["--config-file", str(project.config_file), "--site-dir", str(project.site_dir)]
    proc = subprocess.run(args, cwd=REPO_ROOT, env=mkdocs_env(project), check=False)
    if proc.returncode != 0:
        raise GeneratorError(f"mkdocs build --strict failed (exit {proc.returncode}); see above")


# The build after the pages are rendered, in order.
STEPS: list[Step] = [
    write_docs,
    install_calculator_assets,
    run_mkdocs,
    add_csp,
    build_offline_bundle,
]


def build(project: Project | None = None) -> BuildContext:
    """Load, render, then run every step; raises ContentError or GeneratorError."""
    project = project or Project()
    started = time.monotonic()
    content = load_content(project.content_dir)
    pages = render_pages(content, load_diagram())
    ctx = BuildContext(project, content, pages)
    for step in STEPS:
        step_started = time.monotonic()
        step(ctx)
        log(f"{step.__name__} done in {time.monotonic() - step_started:.1f} s")
    log(f"built {project.site_dir} in {time.monotonic() - started:.1f} s")
    return ctx
