"""`python -m generator build`: content → pages → docs/ → mkdocs → site/.

`build()` reads top to bottom as the pipeline. The content is loaded and every
page rendered before anything is written, so invalid content changes nothing.
Then each step of `STEPS` runs in order. mkdocs builds into a staging folder
and the last step renames it into place (generator/publish.py): a build that
fails or is interrupted leaves the previous site/ as it was.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

from spine_hemangioma.content import Content, load_from

from .calculator_assets import install_calculator_assets
from .context import (
    CONTENT_ENV,
    REPO_ROOT,
    BuildContext,
    Project,
    Step,
    log,
    mkdocs_env,
    run_child,
)
from .csp import add_csp
from .downloads import publish_downloads
from .headers import write_headers
from .offline import build_offline_bundle
from .pages import GeneratorError, load_diagram, render_pages
from .pdf import build_pdf
from .precompress import precompress
from .publish import discard_stage, publish_site, stage_site
from .scorm import build_scorm_package
from .service_worker import add_service_worker
from .write import write_pages

# What the command line and the tests import from here.
__all__ = ["CONTENT_ENV", "STEPS", "BuildContext", "Project", "build", "load_content"]


def load_content(content_dir: Path) -> Content:
    """The validated content; raises ContentError listing every problem."""
    return load_from(content_dir)


def write_docs(ctx: BuildContext) -> None:
    """Swap the rendered pages into docs/ (only the files whose bytes changed)."""
    changed = write_pages(ctx.pages, ctx.project.docs_dir)
    log(f"{len(ctx.pages)} pages in {ctx.project.docs_dir} ({len(changed)} changed)")


def run_mkdocs(ctx: BuildContext) -> None:
    """`mkdocs build --strict` into the staging folder: a warning (broken link or
    anchor, page off the nav) fails it."""
    project = ctx.project
    site_dir = ctx.stage_dir or project.site_dir
    args = [sys.executable, "-m", "mkdocs", "build", "--strict"]
    args += ["--config-file", str(project.config_file), "--site-dir", str(site_dir)]
    # Its own session: Ctrl-C reaches the build alone, which stops mkdocs and
    # prints one line, instead of mkdocs printing a traceback of its own.
    proc = run_child(args, cwd=REPO_ROOT, env=mkdocs_env(project))
    if proc.returncode != 0:
        raise GeneratorError(f"mkdocs build --strict failed (exit {proc.returncode}); see above")


# The build after the pages are rendered, in order.
STEPS: list[Step] = [
    write_docs,
    install_calculator_assets,
    run_mkdocs,
    add_csp,
    build_pdf,
    build_offline_bundle,
    build_scorm_package,
    publish_downloads,
    add_service_worker,
    precompress,
    write_headers,
    publish_site,
]


def build(project: Project | None = None, steps: list[Step] | None = None) -> BuildContext:
    """Load, render, then run every step (STEPS unless given); raises ContentError
    or GeneratorError (KeyboardInterrupt passes through), site/ untouched unless
    every step passed."""
    project = project or Project()
    started = time.monotonic()
    content = load_content(project.content_dir)
    pages = render_pages(content, load_diagram())
    ctx = BuildContext(project, content, pages, stage_dir=stage_site(project.site_dir))
    try:
        for step in STEPS if steps is None else steps:
            log(f"{step.__name__} ...")
            step_started = time.monotonic()
            step(ctx)
            log(f"{step.__name__} done in {time.monotonic() - step_started:.1f} s")
    finally:
        discard_stage(ctx.stage_dir)  # gone already once published
    log(f"built {project.site_dir} in {time.monotonic() - started:.1f} s")
    return ctx
