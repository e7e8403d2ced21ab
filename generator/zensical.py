"""`python -m generator zensical` (`make site-zensical`): the same docs/ built by
Zensical, mkdocs-material's successor, into site-zensical/.

mkdocs builds the published site (generator/build.py, `make site`); this build
is the trial of a move. tests/test_zensical.py holds its output against the
mkdocs build and names each thing Zensical does not do yet (README: Zensical).

`build_with_zensical(project)` runs generator.build's pipeline with these steps:

    1. write_docs: the pages rendered into docs/ as `make site` renders them
       (the same function); check_calculator_assets: the calculator's files
       that `make site` installed in docs/ are there (the Makefile runs it
       first: the wheel is not built twice);
    2. run_zensical: `zensical build --strict --clean` of mkdocs.zensical.yml
       (mkdocs.yml as it is, the classic theme variant) into the staging
       folder beside site-zensical/ (--clean: nothing from Zensical's cache
       of an earlier build);
    3. add_zensical_csp: a content security policy in every page, as site/
       gets it (generator/csp.py; the inline code Zensical's templates produce
       is known in place of mkdocs-material's); allow_search_style: plus the
       sha256 of the one <style> Zensical's script writes (its search dialog's
       stylesheet, in a shadow root), read from the bundle, where it loads;
    4. publish_downloads, precompress, write_headers: the downloads `make
       site` built (the zip, the PDF, the SCORM package) linked with their
       sizes, the precompressed copies and _headers, as for site/ (the same
       functions). Not add_service_worker: its Workbox
       globs name mkdocs-material's search index (README: Zensical);
    5. publish_site: the staged folder replaces site-zensical/ (generator/
       publish.py), so a failed build leaves the previous one as it was.
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import sys
from dataclasses import replace
from pathlib import Path

from .build import build, write_docs
from .calculator_assets import ASSETS_PATH, PYODIDE_PATH
from .context import (
    DEFAULT_SOURCE_DATE_EPOCH,
    REPO_ROOT,
    BuildContext,
    Project,
    Step,
    log,
    run_child,
)
from .csp import META_RE, OUR_TEMPLATES, apply_csp, known_inline, sha256_source
from .downloads import publish_downloads
from .headers import write_headers
from .pages import GeneratorError
from .precompress import precompress
from .publish import publish_site

# Zensical's config: mkdocs.yml plus its own; the other steps read mkdocs.yml
# (Project.config_file) for the site's name and address, as for site/.
CONFIG_FILE = REPO_ROOT / "mkdocs.zensical.yml"
# The folder mkdocs.zensical.yml names, for `zensical serve` too (tests/test_zensical.py
# checks they agree); the build itself stages beside it and swaps it in.
SITE_DIR = REPO_ROOT / "site-zensical"
# Zensical ends a failed strict build with a Python traceback; its own report
# (file, line, what is wrong) comes before it.
TRACEBACK_RE = re.compile(r"^Traceback \(most recent call last\):.*", re.M | re.S)


# The search dialog's stylesheet: `C("style",{},Name.toString())` in the
# minified bundle, Name a string literal (Zensical 0.0.x).
BUNDLE_GLOB = "assets/javascripts/bundle.*.min.js"
SEARCH_STYLE_RE = re.compile(r'\("style",\{\},(\w+)\.toString\(\)\)')
STYLE_SRC_RE = re.compile(r"(\bstyle-src [^;\"]*)")


class ZensicalError(GeneratorError):
    """Zensical failed or is missing; the message says which and what to run."""


def zensical_project(project: Project) -> Project:
    """The project as Zensical builds it: the same content and docs/, its own site."""
    return replace(project, site_dir=SITE_DIR)


def check_calculator_assets(ctx: BuildContext) -> None:
    """The calculator's scripts and Pyodide runtime are in docs/ (`make site`)."""
    docs = ctx.project.docs_dir
    needed = [f"{ASSETS_PATH}/loader.js", f"{PYODIDE_PATH}/pyodide-lock.json"]
    missing = [rel for rel in needed if not (docs / rel).is_file()]
    if missing:
        raise ZensicalError(
            f"{docs} lacks {', '.join(missing)}: run `make site` first (it installs them)"
        )


def run_zensical(ctx: BuildContext) -> None:
    """`zensical build --strict` into the staging folder: a broken link or anchor fails it."""
    project = ctx.project
    site_dir = ctx.stage_dir or project.site_dir
    # Zensical takes no --site-dir and refuses a site_dir outside the config's
    # folder: a config of this build alone, beside the project's, inherits it.
    config = CONFIG_FILE.with_name(f".{CONFIG_FILE.stem}.{os.getpid()}.yml")
    inherit = f"INHERIT: {CONFIG_FILE.name}\nsite_dir: {json.dumps(str(site_dir))}\n"
    args = [sys.executable, "-m", "zensical", "build", "--strict", "--clean"]
    args += ["--config-file", str(config)]
    env = dict(os.environ)
    env.setdefault("SOURCE_DATE_EPOCH", DEFAULT_SOURCE_DATE_EPOCH)
    env["NO_COLOR"] = "1"  # its report is read in logs, not only on a terminal
    try:
        config.write_text(inherit, encoding="utf-8")
        # Its own session, as run_mkdocs: Ctrl-C stops the build, not Zensical.
        proc = run_child(args, cwd=CONFIG_FILE.parent, env=env, capture_output=True, text=True)
    finally:
        config.unlink(missing_ok=True)
    report = TRACEBACK_RE.sub("", proc.stdout + proc.stderr).strip()
    if report:
        print(report, file=sys.stderr)
    if proc.returncode != 0 or not (site_dir / "index.html").is_file():
        raise ZensicalError(f"zensical build --strict failed (exit {proc.returncode}); see above")


def search_style(bundle: str, where: str) -> str:
    """The stylesheet text Zensical's search puts in a <style> of its own."""
    call = SEARCH_STYLE_RE.search(bundle)
    literal = call and re.search(rf"\b{call.group(1)}='([^'\\]*)'", bundle)
    if not literal:
        raise ZensicalError(
            f"{where}: not a Zensical bundle this step knows (no search stylesheet found);"
            " update generator/zensical.py for the pinned version"
        )
    return literal.group(1)


def allow_search_style(ctx: BuildContext) -> None:
    """Build step after add_csp: each page loading the bundle allows its search style."""
    site_dir = ctx.stage_dir or ctx.project.site_dir
    bundles = sorted(site_dir.glob(BUNDLE_GLOB))
    if len(bundles) != 1:
        raise ZensicalError(f"{site_dir}: expected one {BUNDLE_GLOB}, found {len(bundles)}")
    bundle = bundles[0]
    where = bundle.relative_to(site_dir).as_posix()
    source = sha256_source(search_style(bundle.read_text(encoding="utf-8"), where))
    pages: dict[Path, str] = {}
    for page in sorted(site_dir.rglob("*.html")):
        text = page.read_text(encoding="utf-8")
        if bundle.name not in text:
            continue
        meta = META_RE.search(text)
        if not meta or not STYLE_SRC_RE.search(meta.group(0)):
            raise ZensicalError(f"{page.relative_to(site_dir)}: no style-src to add to")
        policy = STYLE_SRC_RE.sub(rf"\1 {source}", meta.group(0), count=1)
        pages[page] = text.replace(meta.group(0), policy, 1)
    # Every page checked before one is written.
    for page, text in pages.items():
        page.write_text(text, encoding="utf-8")
    log(f"Zensical's search stylesheet allowed in {len(pages)} pages")


def templates_dir() -> Path:
    """The folder of Zensical's own templates (its theme), from the installed package."""
    spec = importlib.util.find_spec("zensical")
    if spec is None or not spec.submodule_search_locations:
        raise ZensicalError("Zensical is not installed: `make deps` installs it (pyproject.toml)")
    return Path(spec.submodule_search_locations[0]) / "templates"


def add_zensical_csp(ctx: BuildContext) -> None:
    """add_csp with Zensical's templates in place of mkdocs-material's: the inline
    code they (and ours) produce is hashed, any other fails the build."""
    known = known_inline((templates_dir(), *OUR_TEMPLATES))
    count = apply_csp(ctx.stage_dir or ctx.project.site_dir, known=known)
    log(f"content security policy in {count} pages")


STEPS: list[Step] = [
    write_docs,
    check_calculator_assets,
    run_zensical,
    add_zensical_csp,
    allow_search_style,
    publish_downloads,
    precompress,
    write_headers,
    publish_site,
]


def build_with_zensical(project: Project | None = None) -> BuildContext:
    """docs/ rendered as for `make site`, then built by Zensical into site-zensical/."""
    ctx = build(zensical_project(project or Project()), STEPS)
    log(f"next: serve {SITE_DIR.name}/ (e.g. `python -m http.server -d {SITE_DIR.name}`)")
    return ctx
