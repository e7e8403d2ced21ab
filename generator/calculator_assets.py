"""Build step: the calculator's scripts and the Pyodide runtime into docs/.

mkdocs then copies them into the site like any other asset. Only the
calculator and embed pages reference them, so no other page loads a byte of
Pyodide. The served site gets no file:// payload (the offline bundle adds it).
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

from .context import BuildContext
from .pages import GeneratorError
from .pyodide_assets import CALCULATOR_DIR, PyodideAssetsError, build_pyodide_assets

WEB_DIR = CALCULATOR_DIR / "web"
WEB_FILES = (
    "loader.js",
    "calculator.js",
    "calculator.css",
    "embed.js",
    "embed.css",
    "embed-host.js",
)
ASSETS_PATH = "assets/calculator"
PYODIDE_PATH = "pyodide"


def install_calculator_assets(ctx: BuildContext) -> None:
    """Copy calculator/web/ and build docs/pyodide/ (runtime, wheel of this
    build's content, lock file)."""
    docs = ctx.project.docs_dir
    target = docs / ASSETS_PATH
    target.mkdir(parents=True, exist_ok=True)
    for name in WEB_FILES:
        _copy_if_changed(WEB_DIR / name, target / name)
    try:
        build_pyodide_assets(
            docs / PYODIDE_PATH, offline=False, content_dir=ctx.project.content_dir
        )
    except PyodideAssetsError as exc:
        raise GeneratorError(f"Pyodide assets: {exc}") from None
    print(f"generator: calculator assets in {target}, {docs / PYODIDE_PATH}", file=sys.stderr)


def _copy_if_changed(src: Path, dst: Path) -> None:
    # Unchanged files keep their mtime: `mkdocs serve` does not rebuild for them.
    if dst.is_file() and dst.read_bytes() == src.read_bytes():
        return
    shutil.copyfile(src, dst)
