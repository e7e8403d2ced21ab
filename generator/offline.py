"""The offline bundle: the whole guide in one zip that opens from file://.

`build_offline_bundle(ctx)`, a step of generator.build.STEPS after run_mkdocs:

    1. docs/ copied to build/offline-docs/, its home page with the edition
       (version, build date) under its title (`with_edition`), then
       `mkdocs build --strict -f mkdocs.offline.yml` from there into a staging
       folder (the offline plugin: links end in .html, the search index is inlined);
    2. the iframe-worker shim, which runs search's Web Worker on file://;
    3. the calculator's file:// payload in pyodide/ (build_offline_payload),
       in place of the files it carries;
    4. without the files only a server uses (404.html, the sitemap);
       README.txt and VERSION.txt beside index.html; the PDF in downloads/
       (generator/downloads.py links the other downloads online); a content security
       policy in every page (generator/csp.py, file:// variant);
    5. dist/spine-hemangioma-guide-<version>-offline.zip, with every entry under
       one folder of that name, deterministic (sorted entries, timestamps from
       SOURCE_DATE_EPOCH) and atomic (a temporary file renamed into place);
       the same tree, unzipped, replaces build/offline-site/.

No mkdocs hook: the site engine only reads Markdown this step wrote (Zensical
runs no hooks).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import sys
import tempfile
import zipfile
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

from generator.context import BuildContext, Project, mkdocs_env, run_child
from generator.csp import apply_csp
from generator.downloads import link_downloads
from generator.pages import GeneratorError
from generator.pyodide_assets import (
    DEFAULT_SOURCE_DATE_EPOCH,
    OFFLINE_MANIFEST,
    PyodideAssetsError,
    build_offline_payload,
    replace_dir,
)
from generator.render import long_date

REPO_ROOT = Path(__file__).resolve().parent.parent
CONFIG_FILE = REPO_ROOT / "mkdocs.offline.yml"
SITE_DIR = REPO_ROOT / "build" / "offline-site"
# The pages the offline site is built from (mkdocs.offline.yml's docs_dir).
DOCS_DIR = REPO_ROOT / "build" / "offline-docs"
HOME_PAGE = "index.md"
DIST_DIR = REPO_ROOT / "dist"
# The decision module's version (calculator/pyproject.toml reads it from there too).
CALCULATOR_VERSION = REPO_ROOT / "calculator" / "spine_hemangioma" / "_version.py"
VERSION_LINE = re.compile(r'^__version__ = "([^"]*)"$', re.M)
SHIM_PACKAGE = REPO_ROOT / "node_modules" / "iframe-worker"
# Inside the bundle; the path mkdocs.offline.yml lists under extra.polyfills.
SHIM_PATH = "assets/javascripts/iframe-worker.js"
SHIM_LICENSE_PATH = "assets/javascripts/iframe-worker.LICENSE.txt"
PYODIDE_PATH = "pyodide"
CALCULATOR_PAGE = "calculator/index.html"
SERVER_FILES = ("404.html", "sitemap.xml", "sitemap.xml.gz")
NAME = "spine-hemangioma-guide"
# Zip's DOS timestamps cannot go below 1980.
ZIP_EPOCH_MIN = datetime(1980, 1, 1, tzinfo=UTC)
VERSION_RE = re.compile(r"[0-9A-Za-z][0-9A-Za-z.+_-]*")
# Tags that make a browser load something as the page opens (links the reader
# clicks, canonical links and the like load nothing).
LOADING_TAG_RE = re.compile(
    r"<(?:script|img|iframe)\b[^>]*\bsrc=[\"']?((?:https?:)?//[^\"'\s>]+)"
    r"|<link\b(?=[^>]*\brel=[\"']?(?:stylesheet|preload|modulepreload|icon|manifest)\b)"
    r"[^>]*\bhref=[\"']?((?:https?:)?//[^\"'\s>]+)",
    re.IGNORECASE,
)


class OfflineBundleError(GeneratorError):
    """The bundle cannot be built; the message is one line naming the file at fault."""


@dataclass(frozen=True)
class Edition:
    """What a trainee's copy says it is: the calculator's version and the build date."""

    version: str
    built: date
    epoch: int  # SOURCE_DATE_EPOCH: every timestamp in the zip

    @property
    def slug(self) -> str:
        """The zip's name without .zip, and the folder its entries are under."""
        return f"{NAME}-{self.version}-offline"

    @property
    def line(self) -> str:
        return f"Offline edition: version {self.version}, built {long_date(self.built)}."


@dataclass(frozen=True)
class OfflinePaths:
    """Where the step reads and writes; tests point it at temporary folders."""

    config_file: Path = CONFIG_FILE
    docs_dir: Path = DOCS_DIR
    site_dir: Path = SITE_DIR
    dist_dir: Path = DIST_DIR
    calculator_version: Path = CALCULATOR_VERSION
    shim_package: Path = SHIM_PACKAGE


def read_edition(
    version_file: Path = CALCULATOR_VERSION, environ: dict[str, str] | None = None
) -> Edition:
    """The decision module's version (its _version.py), the date from SOURCE_DATE_EPOCH."""
    environ = os.environ if environ is None else environ
    raw = environ.get("SOURCE_DATE_EPOCH") or DEFAULT_SOURCE_DATE_EPOCH
    try:
        epoch = int(raw)
    except ValueError:
        raise OfflineBundleError(
            f"SOURCE_DATE_EPOCH: expected whole seconds since 1970, got {raw!r}"
        ) from None
    try:
        found = VERSION_LINE.search(version_file.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise OfflineBundleError(f"{version_file}: cannot read the version ({exc})") from None
    version = found.group(1) if found else None
    if version is None or not VERSION_RE.fullmatch(version):
        raise OfflineBundleError(
            f"{version_file}: __version__: expected a version such as 0.1.0, got {version!r}"
        )
    return Edition(version, datetime.fromtimestamp(epoch, UTC).date(), epoch)


# --- The build step -------------------------------------------------------------


def build_offline_bundle(ctx: BuildContext, paths: OfflinePaths | None = None) -> None:
    """Build the offline site, complete it, zip it; OfflineBundleError on failure,
    with the previous zip and build/offline-site left as they were."""
    paths = paths or OfflinePaths()
    edition = read_edition(paths.calculator_version)
    shim = _check_inputs(paths)
    paths.site_dir.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{paths.site_dir.name}.", dir=paths.site_dir.parent))
    try:
        _stage_docs(ctx.project.docs_dir, paths.docs_dir, edition)
        _run_mkdocs(ctx.project, paths.config_file, staging)
        _add_shim(shim, staging)
        _add_calculator_payload(staging)
        _drop_server_files(staging)
        _write_notes(staging, edition, ctx)
        link_downloads(staging, carried=("pdf",))  # the PDF travels; the rest is online
        apply_csp(staging, offline=True)  # after the shim: its iframe script is hashed
        _check_nothing_loads_from_outside(staging)
        zip_path = paths.dist_dir / f"{edition.slug}.zip"
        count = write_zip(staging, edition.slug, zip_path, edition.epoch)
        staging.chmod(0o755)
        replace_dir(staging, paths.site_dir)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    finally:
        shutil.rmtree(paths.docs_dir, ignore_errors=True)
    log(f"{zip_path}: {count} files, {zip_path.stat().st_size / 1e6:.1f} MB")
    log(f"next: unzip {zip_path.name} anywhere and open {edition.slug}/index.html")


def log(message: str) -> None:
    print(f"generator: {message}", file=sys.stderr, flush=True)


def _check_inputs(paths: OfflinePaths) -> Path:
    """Fail before building anything if an input is missing; returns the shim."""
    if not paths.config_file.is_file():
        raise OfflineBundleError(f"{paths.config_file} missing: the offline build's config")
    shim = paths.shim_package / "shim" / "index.js"
    if not shim.is_file():
        raise OfflineBundleError(
            f"{shim} missing (is the npm package iframe-worker installed? `make deps`)"
        )
    return shim


def with_edition(markdown: str, edition: Edition) -> str:
    """The home page's Markdown with the edition line under its title."""
    lines = markdown.split("\n")
    title = next((i for i, line in enumerate(lines) if line.startswith("# ")), None)
    if title is None:
        raise OfflineBundleError(f"{HOME_PAGE}: no '# ' title to put the edition under")
    lines[title + 1 : title + 1] = ["", edition.line, "{ .sh-edition }", ""]
    return "\n".join(lines)


def _stage_docs(docs_dir: Path, dest: Path, edition: Edition) -> None:
    """docs/ as the offline build reads it: a copy, the home page naming the edition."""
    home = docs_dir / HOME_PAGE
    if not home.is_file():
        raise OfflineBundleError(f"{home} missing: the pages must be written before this step")
    shutil.rmtree(dest, ignore_errors=True)
    shutil.copytree(docs_dir, dest)
    (dest / HOME_PAGE).write_text(
        with_edition(home.read_text(encoding="utf-8"), edition), encoding="utf-8", newline="\n"
    )


def _run_mkdocs(project: Project, config_file: Path, site_dir: Path) -> None:
    args = [sys.executable, "-m", "mkdocs", "build", "--strict"]
    args += ["--config-file", str(config_file), "--site-dir", str(site_dir)]
    # Its own session, as in build.run_mkdocs: Ctrl-C stops the build, not mkdocs with a traceback.
    proc = run_child(args, cwd=REPO_ROOT, env=mkdocs_env(project))
    if proc.returncode != 0:
        raise OfflineBundleError(
            f"mkdocs build --strict -f {config_file.name} failed"
            f" (exit {proc.returncode}); see above"
        )


def _add_shim(shim: Path, site_dir: Path) -> None:
    # Minified, without its notice: the MIT licence travels beside it.
    dest = site_dir / SHIM_PATH
    dest.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(shim, dest)
    licence = shim.parent.parent / "LICENSE"
    if licence.is_file():
        shutil.copyfile(licence, site_dir / SHIM_LICENSE_PATH)


def _add_calculator_payload(site_dir: Path) -> None:
    """The classic scripts that carry Pyodide's files to a file:// page, in place
    of the files they carry."""
    pyodide = site_dir / PYODIDE_PATH
    if not pyodide.is_dir():
        if (site_dir / CALCULATOR_PAGE).is_file():
            raise OfflineBundleError(
                f"{CALCULATOR_PAGE} needs {PYODIDE_PATH}/, which the site lacks"
                " (the Pyodide assets step must run before run_mkdocs)"
            )
        log(f"no {PYODIDE_PATH}/ in the site: the bundle has no calculator")
        return
    # Rewritten even if the site already has it: it must match this pyodide/.
    try:
        build_offline_payload(pyodide)
    except (PyodideAssetsError, KeyError, ValueError) as exc:
        raise OfflineBundleError(f"calculator payload in {pyodide}: {exc}") from None
    # From file:// the loader reads these only through their payload scripts:
    # the copies would double the zip (15 MB instead of 8).
    for name in _embedded_files(pyodide):
        (pyodide / name).unlink()


def _drop_server_files(site_dir: Path) -> None:
    """Files only a web server uses: from file:// nothing serves 404.html (its
    links start with site_url's path, which a disk does not have) and no
    crawler reads the sitemap."""
    for name in SERVER_FILES:
        (site_dir / name).unlink(missing_ok=True)


def _embedded_files(pyodide: Path) -> list[str]:
    """The files that pyodide-offline.js lists as carried by a payload script."""
    manifest_file = pyodide / OFFLINE_MANIFEST
    text = manifest_file.read_text(encoding="ascii")
    prefix, suffix = "window.__pyodideOffline = ", ";\n"
    if not (text.startswith(prefix) and text.endswith(suffix)):
        raise OfflineBundleError(f"{manifest_file}: not the manifest build_offline_payload writes")
    scripts = json.loads(text.removeprefix(prefix).removesuffix(suffix))["scripts"]
    names = [s.removesuffix(".js") for s in scripts]
    missing = [n for n in [*scripts, *names] if not (pyodide / n).is_file()]
    if missing:
        raise OfflineBundleError(f"{pyodide} lacks {', '.join(missing)}")
    return names


def _write_notes(site_dir: Path, edition: Edition, ctx: BuildContext) -> None:
    source = ctx.content.guide.source
    (site_dir / "VERSION.txt").write_text(
        f"name: {NAME}\n"
        f"edition: offline\n"
        f"version: {edition.version}\n"
        f"built: {edition.built.isoformat()}\n",
        encoding="utf-8",
    )
    (site_dir / "README.txt").write_text(
        f"{source.title}\n"
        f"An educational guide. {edition.line}\n"
        "\n"
        "To read it:\n"
        "  1. Unpack (extract) the whole zip file into any folder. Opening a page\n"
        "     from inside the zip without unpacking it does not work.\n"
        "  2. Open index.html (double-click it): the guide opens in your web browser.\n"
        "\n"
        "Everything is in this folder: no internet connection, no server and no\n"
        "installation are needed. Keep the folder's files together.\n"
        "The calculator page runs in the browser and takes a few seconds to start.\n"
        "\n"
        f"{source.disclaimer_title}: see the About page for the source, its review\n"
        "status and the full disclaimer.\n",
        encoding="utf-8",
    )


def _check_nothing_loads_from_outside(site_dir: Path) -> None:
    """A script, style or image from another origin would not load offline (the
    offline plugin adds unpkg's shim if the local one is not configured)."""
    for page in sorted(site_dir.rglob("*.html")):
        match = LOADING_TAG_RE.search(page.read_text(encoding="utf-8"))
        if match:
            url = match.group(1) or match.group(2)
            rel = page.relative_to(site_dir).as_posix()
            raise OfflineBundleError(f"{rel} loads {url}, which needs the network")


def write_zip(tree: Path, prefix: str, dest: Path, epoch: int) -> int:
    """Zip every file of `tree` under `prefix/`: sorted, deflated, every timestamp
    and mode fixed, so equal trees give equal bytes. Written to a temporary file
    renamed over `dest`; returns the number of files."""
    stamp = max(datetime.fromtimestamp(epoch, UTC), ZIP_EPOCH_MIN).timetuple()[:6]
    files = sorted((p.relative_to(tree).as_posix(), p) for p in tree.rglob("*") if p.is_file())
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = dest.with_name(f".{dest.name}.{os.getpid()}.part")
    try:
        with zipfile.ZipFile(tmp, "w") as archive:
            for rel, path in files:
                # No prefix: the tree's files at the zip's root (the SCORM package).
                info = zipfile.ZipInfo(f"{prefix}/{rel}" if prefix else rel, date_time=stamp)
                info.create_system = 3  # Unix, so the mode below is honoured
                info.external_attr = 0o100644 << 16
                info.compress_type = zipfile.ZIP_DEFLATED
                archive.writestr(info, path.read_bytes(), compresslevel=9)
        tmp.replace(dest)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return len(files)
